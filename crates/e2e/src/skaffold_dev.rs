//! The real client: the Skaffold v2.24.0 CLI (`scripts/setup.sh` builds it
//! from its module) running `skaffold dev` on a copy of an example, against
//! the private Docker Engine and a builder in the registry on 127.0.0.1,
//! with one of two deployers:
//!
//! - [`Deployer::Docker`]: `deploy.docker`, the app's port published on
//!   127.0.0.1 (`portForward`, `resourceType: container`);
//! - [`Deployer::Kubectl`]: the example's own manifests (`manifests.rawYaml`,
//!   a Pod) on the project's cluster ([`crate::cluster::Cluster`]), the image
//!   pushed to the registry on 127.0.0.1 (`--default-repo`) that the
//!   cluster's containerd pulls from, the Pod reached through Skaffold's
//!   `kubectl port-forward` on 127.0.0.1 (`portForward`, `resourceType:
//!   pod`), never by its IP; Skaffold syncs through `kubectl exec`.
//!
//! The test edits files in the copy as a developer would and waits on
//! Skaffold's own output and the app's HTTP answers on 127.0.0.1.

mod config_rewrite;
mod output;
mod project;
mod registry_images;

pub use output::Line;
pub use project::Project;
pub use registry_images::require_in_registry;

use crate::builder::Stack;
use crate::docker::Docker;
use anyhow::bail;
use output::{spawn_dev, Output};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the sync rules come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The example's skaffold.yaml as shipped: the `filesync` profile that
    /// `filesync skaffold --write` generated (manual rules, and
    /// `BP_FILESYNC_ENABLED` in the build env), with a builder whose
    /// lifecycle uses the newest Platform API.
    Generated,
    /// No `sync` block and no profile: Skaffold's auto sync sets
    /// `GOOGLE_DEVMODE=1` and reads the `devmode.sync` BOM from the image
    /// label, which only a Platform API below 0.9 puts there.
    Auto,
}

/// Where Skaffold deploys the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deployer {
    /// `deploy.docker` on the private Docker Engine: the container is
    /// named after the image, its port published on 127.0.0.1.
    Docker,
    /// Skaffold's kubectl deployer on the project's cluster with the
    /// example's `manifests.rawYaml` (a Pod): the image is pushed to the
    /// registry on 127.0.0.1 (`--default-repo`, `build.local.push`), the
    /// Pod reached through `portForward` of `resourceType: pod` on
    /// 127.0.0.1, files synced with `kubectl exec` (kubectl v1.33.13 from
    /// `.work/bin`, first on Skaffold's PATH).
    Kubectl,
}

/// The cluster's kube context (`scripts/cluster.sh`).
pub const KUBE_CONTEXT: &str = "local";

pub struct SkaffoldDev {
    project: Project,
    /// The artifact's image name (docker deployer: also the container's).
    pub image: String,
    /// The app's port on 127.0.0.1, published by Skaffold.
    pub port: u16,
    child: Option<Child>,
    output: Arc<Output>,
}

/// The port every example listens on in its container.
const APP_PORT: u16 = 8080;

impl SkaffoldDev {
    /// Copies `examples/<example>`, points it at the test builder for
    /// `stack` (standing in for Paketo's) and the docker deployer, and
    /// starts `skaffold dev` on it.
    pub fn start(example: &str, mode: Mode, stack: Stack) -> anyhow::Result<SkaffoldDev> {
        SkaffoldDev::start_with(example, mode, stack, Deployer::Docker)
    }

    /// As [`SkaffoldDev::start`], with the given deployer.
    pub fn start_with(
        example: &str,
        mode: Mode,
        stack: Stack,
        deployer: Deployer,
    ) -> anyhow::Result<SkaffoldDev> {
        SkaffoldDev::dev(Project::new(example, mode, stack, deployer)?)
    }

    /// Starts `skaffold dev` on a prepared copy.
    pub fn dev(project: Project) -> anyhow::Result<SkaffoldDev> {
        SkaffoldDev::dev_with(project, &[])
    }

    /// As [`SkaffoldDev::dev`], with `extra` flags (e.g. `-i 100`).
    pub fn dev_with(project: Project, extra: &[&str]) -> anyhow::Result<SkaffoldDev> {
        let (child, output) = spawn_dev(&project, extra)?;
        Ok(SkaffoldDev {
            image: project.image.clone(),
            port: project.port,
            project,
            child: Some(child),
            output,
        })
    }

    /// Stops this `skaffold dev` ([`SkaffoldDev::stop`]) and starts a new
    /// one on the same copy with `extra` flags (e.g.
    /// `--watch-poll-interval=100`). The image name is the same, so pack
    /// builds with the cache of the first run. Line marks start again at 0.
    pub fn restart_with(&mut self, extra: &[&str]) -> anyhow::Result<()> {
        self.stop();
        let (child, output) = spawn_dev(&self.project, extra)?;
        self.child = Some(child);
        self.output = output;
        Ok(())
    }

    /// Waits until the app answers `path` as `want` says (the first build
    /// and deploy), or fails at once when Skaffold gives up (its first
    /// build or deploy failed: `exiting dev mode because first … failed`)
    /// instead of waiting out `timeout`.
    pub fn wait_up(
        &self,
        path: &str,
        timeout: Duration,
        want: impl Fn(u16, &str) -> bool,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let mut last = String::from("no response");
        while start.elapsed() < timeout {
            // Poll in one-second slices, looking at Skaffold between them.
            match crate::http::wait_for(self.port, path, Duration::from_secs(1), &want) {
                Ok(_) => return Ok(start.elapsed()),
                Err(response) => last = response,
            }
            if let Some(line) = self
                .lines_from(0)
                .into_iter()
                .find(|l| l.contains("exiting dev mode because"))
            {
                bail!("skaffold dev gave up: {line}\n{}", self.log());
            }
            if self.output.closed.load(std::sync::atomic::Ordering::SeqCst) == 2 {
                bail!("skaffold dev exited before {path} answered\n{}", self.log());
            }
        }
        bail!(
            "{path} did not answer as expected within {timeout:?} (last: {last})\n{}",
            self.log()
        )
    }

    /// The developer's copy of the example (Skaffold's artifact context).
    pub fn ctx(&self) -> &Path {
        self.project.ctx()
    }

    /// The copy and the environment Skaffold runs in.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// How many lines Skaffold has printed so far: a mark to wait from.
    pub fn mark(&self) -> usize {
        self.output.lines.lock().unwrap().len()
    }

    /// Everything Skaffold printed, for failure messages.
    pub fn log(&self) -> String {
        let lines = self.output.lines.lock().unwrap();
        let mut s = String::new();
        for (_, l) in lines.iter() {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// Lines from `from` on.
    pub fn lines_from(&self, from: usize) -> Vec<String> {
        let lines = self.output.lines.lock().unwrap();
        lines.iter().skip(from).map(|(_, l)| l.clone()).collect()
    }

    /// When Skaffold printed line `index`, on the wall clock (the
    /// runtimes' log timestamps are on it), if it has printed that many.
    pub fn printed_at(&self, index: usize) -> Option<std::time::SystemTime> {
        let lines = self.output.lines.lock().unwrap();
        let (at, _) = lines.get(index)?;
        std::time::SystemTime::now().checked_sub(at.elapsed())
    }

    /// Waits for a line at index `from` or later that contains `needle`.
    pub fn wait_line(&self, from: usize, needle: &str, timeout: Duration) -> anyhow::Result<Line> {
        self.wait_line_any(from, &[needle], timeout)
    }

    /// Waits for a line at index `from` or later that contains one of
    /// `needles`.
    pub fn wait_line_any(
        &self,
        from: usize,
        needles: &[&str],
        timeout: Duration,
    ) -> anyhow::Result<Line> {
        let deadline = Instant::now() + timeout;
        let mut lines = self.output.lines.lock().unwrap();
        loop {
            if let Some((i, (at, text))) = lines
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, (_, l))| needles.iter().any(|n| l.contains(n)))
            {
                return Ok(Line {
                    index: i,
                    at: *at,
                    text: text.clone(),
                });
            }
            let now = Instant::now();
            if now >= deadline {
                drop(lines);
                bail!(
                    "no line containing {} from Skaffold within {timeout:?}; its output:\n{}",
                    needles
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(" or "),
                    self.log()
                );
            }
            lines = self
                .output
                .grew
                .wait_timeout(lines, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Writes `rel` in the context, as an editor's save.
    pub fn write(&self, rel: &str, content: &str) -> Instant {
        let path = self.ctx().join(rel);
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("writing {rel}: {e}"));
        Instant::now()
    }

    /// Deletes `rel` in the context.
    pub fn remove(&self, rel: &str) -> Instant {
        std::fs::remove_file(self.ctx().join(rel))
            .unwrap_or_else(|e| panic!("deleting {rel}: {e}"));
        Instant::now()
    }

    /// A command in the app's container: `docker exec` (the docker
    /// deployer names the container after the image) or `kubectl exec` in
    /// the Pod.
    pub fn exec(&self, args: &[&str]) -> anyhow::Result<String> {
        match (self.project.deployer, &self.project.pod) {
            (Deployer::Kubectl, Some(pod)) => {
                let out =
                    crate::tools::run(self.project.kubectl().args(["exec", pod, "--"]).args(args))?;
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            }
            _ => Docker::get().exec(&self.image, args),
        }
    }

    /// Stops `skaffold dev` as a developer does (Ctrl-C: SIGINT), which
    /// makes Skaffold remove what it deployed (the docker deployer's
    /// container and network, the kubectl deployer's Pod); killed if it
    /// has not exited after 60 s (120 s on the cluster, where the Pod's
    /// deletion is waited for), and what it deployed removed.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // Skaffold's cleanup removes the container, then prunes.
        let _prune = prune_lock();
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let patience = match self.project.deployer {
            Deployer::Docker => Duration::from_mins(1),
            Deployer::Kubectl => Duration::from_mins(2),
        };
        let asked = Instant::now();
        let deadline = asked + patience;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                self.wait_pod_deleted(asked);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        match (self.project.deployer, &self.project.pod) {
            (Deployer::Kubectl, Some(pod)) => {
                let _ = self
                    .project
                    .kubectl()
                    .args(["delete", "pod", pod, "--ignore-not-found", "--timeout=60s"])
                    .output();
            }
            _ => {
                let _ = Docker::get().cli().args(["rm", "-f", &self.image]).output();
            }
        }
    }
}

impl SkaffoldDev {
    /// Skaffold's cleanup deletes the Pod without waiting for it to
    /// terminate: wait, so that the next Skaffold starts on an empty
    /// cluster, and say how long the Pod took.
    fn wait_pod_deleted(&self, asked: Instant) {
        let (Deployer::Kubectl, Some(pod)) = (self.project.deployer, &self.project.pod) else {
            return;
        };
        let waited = self
            .project
            .kubectl()
            .args([
                "wait",
                "--for=delete",
                &format!("pod/{pod}"),
                "--timeout=90s",
            ])
            .output();
        match waited {
            Ok(o) if o.status.success() => eprintln!(
                "pod/{pod} gone {:.1?} after Ctrl-C to skaffold dev",
                asked.elapsed()
            ),
            Ok(o) => eprintln!(
                "pod/{pod} still there {:.1?} after Ctrl-C to skaffold dev: {}",
                asked.elapsed(),
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => eprintln!("kubectl wait for pod/{pod}: {e}"),
        }
    }
}

impl Drop for SkaffoldDev {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Held while a `skaffold dev` of this process may remove its container:
/// its redeploy and its cleanup. Skaffold's docker deployer then calls
/// `ContainerPrune` on the whole daemon (v2.24 `docker/image.go`), and the
/// daemon runs one prune at a time: a second Skaffold redeploying meanwhile
/// gets "a prune operation is already running" and skips its deploy. Two
/// developers' `skaffold dev` on one daemon meet the same; tests running
/// side by side take turns instead.
pub fn prune_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
