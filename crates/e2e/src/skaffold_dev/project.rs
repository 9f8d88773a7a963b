//! A developer's copy of an example and the environment the Skaffold CLI
//! runs in for it.

use super::config_rewrite::{rewrite_skaffold_yaml, Rewritten};
use super::output::strip_ansi;
use super::registry_images::{require_in_registry, run_image_of};
use super::{Deployer, Mode, KUBE_CONTEXT};
use crate::builder::{Builders, Platform, Stack};
use crate::cluster::{kubectl_bin, Cluster};
use crate::docker::Docker;
use crate::tools::{repo_root, tool, work_dir};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, Output as ProcessOutput, Stdio};

/// A developer's copy of an example, rewritten for this machine (the test
/// builder, the deployer, the port forward), and the environment the
/// Skaffold CLI runs in for it: `skaffold run`, `delete` or `dev`.
pub struct Project {
    ctx: tempfile::TempDir,
    home: tempfile::TempDir,
    /// The artifact's image name as the example's skaffold.yaml gives it
    /// (with the docker deployer, also the container's name).
    pub image: String,
    /// With the kubectl deployer, the Pod of the example's manifests.
    pub pod: Option<String>,
    /// The app's port on 127.0.0.1, forwarded by Skaffold.
    pub port: u16,
    pub deployer: Deployer,
    /// With the kubectl deployer: `--default-repo`, the registry on
    /// 127.0.0.1 the cluster pulls from.
    default_repo: String,
    kubeconfig: Option<PathBuf>,
}

impl Project {
    /// Copies `examples/<example>` and points it at the test builder for
    /// `stack` (standing in for Paketo's) and at `deployer`.
    pub fn new(
        example: &str,
        mode: Mode,
        stack: Stack,
        deployer: Deployer,
    ) -> anyhow::Result<Project> {
        let platform = match mode {
            Mode::Generated => Platform::Current,
            Mode::Auto => Platform::Legacy,
        };
        let builder = Builders::get().builder(stack, platform);
        Project::with_builder(example, mode, &builder, deployer)
    }

    /// As [`Project::new`], with `builder` (a reference in the registry on
    /// 127.0.0.1: one `filesync builder` derived, or from [`Builders::builder_of`]).
    pub fn with_builder(
        example: &str,
        mode: Mode,
        builder: &str,
        deployer: Deployer,
    ) -> anyhow::Result<Project> {
        // Skaffold pulls the builder and its run image on the first build;
        // if either is missing it fails deep in its output. Say it first.
        let run_image = run_image_of(builder)?;
        require_in_registry(&run_image, "run image")?;
        Docker::get();
        let kubeconfig = match deployer {
            Deployer::Docker => None,
            Deployer::Kubectl => Some(Cluster::get().kubeconfig.clone()),
        };
        let ctx = tempfile::Builder::new()
            .prefix(&format!("filesync-skaffold-{example}-"))
            .tempdir()?;
        crate::tools::run(
            Command::new("cp")
                .arg("-a")
                .arg(repo_root().join("examples").join(example).join("."))
                .arg(ctx.path()),
        )?;
        let port = crate::http::free_port();
        let Rewritten { image, pod } =
            rewrite_skaffold_yaml(ctx.path(), builder, mode, deployer, port)?;
        let home = tempfile::Builder::new()
            .prefix("filesync-skaffold-home-")
            .tempdir()?;
        // Skaffold's global config: no metrics upload, no survey, no
        // update check (this machine reaches no such service anyway).
        std::fs::create_dir_all(home.path().join(".skaffold"))?;
        std::fs::write(
            home.path().join(".skaffold/config"),
            "global:\n  collect-metrics: false\n  survey:\n    disable-prompt: true\n  \
             update:\n    disable-prompt: true\nkubeContexts: []\n",
        )?;
        Ok(Project {
            ctx,
            home,
            image,
            pod,
            port,
            deployer,
            default_repo: Builders::get().registry().to_string(),
            kubeconfig,
        })
    }

    /// The developer's copy of the example (Skaffold's artifact context).
    pub fn ctx(&self) -> &Path {
        self.ctx.path()
    }

    /// `skaffold <args…>` in the copy, with the flags and environment every
    /// command gets: no update check, no prompts, no colours; with the
    /// kubectl deployer also `--default-repo` (Skaffold pushes there and
    /// rewrites the manifests' image), `--kube-context`, the cluster's
    /// KUBECONFIG and its kubectl first on PATH.
    pub fn skaffold(&self, args: &[&str]) -> Command {
        let mut c = Command::new(tool("skaffold"));
        c.args(args)
            .args(["--update-check=false", "--interactive=false", "--color=0"])
            .current_dir(self.ctx.path())
            .env("HOME", self.home.path())
            .env("DOCKER_HOST", &Docker::get().host);
        match (&self.kubeconfig, self.deployer) {
            (Some(kubeconfig), Deployer::Kubectl) => {
                c.arg(format!("--default-repo={}", self.default_repo))
                    .arg(format!("--kube-context={KUBE_CONTEXT}"))
                    .env("KUBECONFIG", kubeconfig)
                    .env("PATH", path_with_kubectl());
            }
            _ => {
                c.env("KUBECONFIG", self.home.path().join("no-kubeconfig"));
            }
        }
        c
    }

    /// Runs `skaffold <args…>` to its end (`run`, `delete`), failing with
    /// its output when it fails.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<ProcessOutput> {
        let out = self
            .skaffold(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running skaffold {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "skaffold {} failed ({}):\n{}{}",
                args.join(" "),
                out.status,
                strip_ansi(&String::from_utf8_lossy(&out.stdout)),
                strip_ansi(&String::from_utf8_lossy(&out.stderr))
            );
        }
        Ok(out)
    }

    /// kubectl pointed at the cluster (kubectl deployer only).
    pub fn kubectl(&self) -> Command {
        let mut c = Command::new(kubectl_bin());
        if let Some(k) = &self.kubeconfig {
            c.env("KUBECONFIG", k);
        }
        c
    }
}

impl Drop for Project {
    /// The build and launch caches pack made for this copy's images are
    /// never used again (the next copy has a HOME, so volume keys, of its
    /// own): remove them, so that a whole run of the suite does not fill
    /// the disk.
    fn drop(&mut self) {
        crate::pack_volumes::remove_for_home(self.home.path());
    }
}

/// `.work/bin` (kubectl v1.33.13) in front of the inherited PATH: Skaffold's
/// kubectl deployer, its syncer and its port forwarder run `kubectl`.
fn path_with_kubectl() -> std::ffi::OsString {
    let mut dirs = vec![work_dir().join("bin")];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).expect("PATH")
}
