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

use crate::builder::{Builders, Platform, Stack};
use crate::cluster::{kubectl_bin, Cluster};
use crate::docker::Docker;
use crate::tools::{repo_root, tool, work_dir};
use anyhow::{bail, Context};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output as ProcessOutput, Stdio};
use std::sync::{Arc, Condvar, Mutex};
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
        let port = crate::container::free_port();
        let (image, pod) = rewrite_skaffold_yaml(ctx.path(), builder, mode, deployer, port)?;
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

/// `.work/bin` (kubectl v1.33.13) in front of the inherited PATH: Skaffold's
/// kubectl deployer, its syncer and its port forwarder run `kubectl`.
fn path_with_kubectl() -> std::ffi::OsString {
    let mut dirs = vec![work_dir().join("bin")];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).expect("PATH")
}

/// Skaffold's output, each line with the moment it was read.
#[derive(Default)]
struct Output {
    lines: Mutex<Vec<(Instant, String)>>,
    grew: Condvar,
    /// Streams (stdout, stderr) that reached their end: both closed means
    /// Skaffold exited.
    closed: std::sync::atomic::AtomicUsize,
}

/// A line of Skaffold's output that a test waited for.
#[derive(Debug, Clone)]
pub struct Line {
    pub index: usize,
    pub at: Instant,
    pub text: String,
}

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

    /// Waits for a line at index `from` or later that contains `needle`.
    pub fn wait_line(&self, from: usize, needle: &str, timeout: Duration) -> anyhow::Result<Line> {
        let deadline = Instant::now() + timeout;
        let mut lines = self.output.lines.lock().unwrap();
        loop {
            if let Some((i, (at, text))) = lines
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, (_, l))| l.contains(needle))
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
                    "no line containing {needle:?} from Skaffold within {timeout:?}; its output:\n{}",
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
            Deployer::Docker => Duration::from_secs(60),
            Deployer::Kubectl => Duration::from_secs(120),
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

/// `skaffold dev` (port forwards of the user's config, no artifact cache)
/// with `extra` flags, its output read line by line into an [`Output`].
fn spawn_dev(project: &Project, extra: &[&str]) -> anyhow::Result<(Child, Arc<Output>)> {
    let mut child = project
        .skaffold(&["dev", "--port-forward=user", "--cache-artifacts=false"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting skaffold dev")?;
    let output = Arc::new(Output::default());
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let output = output.clone();
        let echo = std::env::var_os("FILESYNC_SKAFFOLD_ECHO").is_some();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let line = strip_ansi(&line);
                if echo {
                    eprintln!("  | {line}");
                }
                output
                    .lines
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((Instant::now(), line));
                output.grew.notify_all();
            }
            output
                .closed
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            output.grew.notify_all();
        });
    }
    Ok((child, output))
}

/// `line` without terminal colour sequences (pack colours its phase
/// headers even when Skaffold's own colours are off).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters… final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
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
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `name` the first time this process asks, `name-n2`, `name-n3`… after.
fn unique_in_this_process(name: String) -> String {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let n = seen.iter().filter(|s| **s == name).count();
    seen.push(name.clone());
    if n == 0 {
        name
    } else {
        // Not `-2`: Skaffold's docker deployer takes every container named
        // `^NAME(-\d+)?$` for its own (v2.24 `deploy/docker/deploy.go`
        // `filterByName`) and removes it when it redeploys or stops.
        format!("{name}-n{}", n + 1)
    }
}

/// The raw config of `reference` from its registry (skopeo), or one line
/// saying which image is missing from which registry.
fn registry_config(reference: &str, what: &str) -> anyhow::Result<serde_json::Value> {
    let out = Command::new(tool("skopeo"))
        .args(["inspect", "--config", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .context("running skopeo")?;
    if !out.status.success() {
        bail!(
            "the {what} {reference} is not in the registry: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Fails with one line naming `reference` when the registry lacks it.
pub fn require_in_registry(reference: &str, what: &str) -> anyhow::Result<()> {
    registry_config(reference, what).map(|_| ())
}

/// The run image a builder names (its `io.buildpacks.builder.metadata`).
fn run_image_of(builder: &str) -> anyhow::Result<String> {
    let config = registry_config(builder, "builder")?;
    let label = config["config"]["Labels"]["io.buildpacks.builder.metadata"]
        .as_str()
        .with_context(|| format!("{builder} has no io.buildpacks.builder.metadata label"))?;
    let meta: serde_json::Value = serde_json::from_str(label)?;
    // pack ≥ 0.30 writes `images`; older builders only `stack.runImage`.
    let candidates = [
        meta["images"][0]["image"].as_str(),
        meta["stack"]["runImage"]["image"].as_str(),
    ];
    let found = candidates.into_iter().flatten().find(|s| !s.is_empty());
    found
        .map(str::to_string)
        .with_context(|| format!("{builder} names no run image"))
}

/// Rewrites the copy's skaffold.yaml for this machine: the test builder in
/// place of Paketo's (trusted, as `trustBuilder: true` tells pack to run
/// the lifecycle's creator in one container), and the app's port forwarded
/// to 127.0.0.1. With the docker deployer, `deploy.docker` in place of the
/// Kubernetes manifests; with the kubectl deployer, the manifests kept,
/// `deploy.kubectl` and `build.local.push` (the cluster pulls the image
/// from the registry on 127.0.0.1 that `--default-repo` names).
/// In auto mode the generated profile is dropped, so no `sync` block is
/// left, and with the docker deployer the image gets its own name (the
/// container is named after it). Returns the image name and, with the
/// kubectl deployer, the manifests' Pod.
fn rewrite_skaffold_yaml(
    ctx: &Path,
    builder: &str,
    mode: Mode,
    deployer: Deployer,
    port: u16,
) -> anyhow::Result<(String, Option<String>)> {
    let path = ctx.join("skaffold.yaml");
    let text = std::fs::read_to_string(&path).context("reading the example's skaffold.yaml")?;
    let mut doc: Value = serde_yaml::from_str(&text)?;
    let manifests: Vec<String> = doc["manifests"]["rawYaml"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let artifact = doc["build"]["artifacts"][0]
        .as_mapping_mut()
        .context("skaffold.yaml has no build.artifacts[0]")?;
    let mut image = artifact
        .get("image")
        .and_then(Value::as_str)
        .context("artifact without image")?
        .to_string();
    // Two cases of one example in one test process must not build the
    // same image name: the exporter of one reuses layers of the image
    // the other is replacing or Skaffold is pruning ("invalid diffID").
    let original = image.clone();
    if deployer == Deployer::Docker && mode == Mode::Auto {
        image.push_str("-auto");
    }
    image = unique_in_this_process(image);
    artifact.insert("image".into(), image.clone().into());
    if deployer == Deployer::Kubectl && image != original {
        // The manifests name the image too (Skaffold replaces that name
        // with the built tag).
        for file in &manifests {
            let path = ctx.join(file);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            std::fs::write(
                &path,
                text.replace(
                    &format!("image: {original}\n"),
                    &format!("image: {image}\n"),
                ),
            )?;
        }
    }
    let buildpacks = artifact
        .get_mut("buildpacks")
        .and_then(Value::as_mapping_mut)
        .context("artifact without buildpacks")?;
    if mode == Mode::Auto {
        // Without the generated profile nothing keeps the sources that
        // Paketo's go-build and libbs remove, nor libjvm's JDK in the
        // image; a user of auto sync sets these in the artifact's env
        // (docs/user-guide.md, Paketo specifics).
        if let Some(family) = filesync_rules::family::detect(ctx) {
            let env = buildpacks
                .entry("env".into())
                .or_insert_with(|| Value::Sequence(Vec::new()));
            if let Some(list) = env.as_sequence_mut() {
                for setting in filesync_contract::paketo::dev_build_env(family) {
                    list.push((*setting).into());
                }
            }
        }
    }
    buildpacks.insert("builder".into(), builder.into());
    buildpacks.insert("trustBuilder".into(), true.into());
    let pod = match deployer {
        Deployer::Docker => None,
        Deployer::Kubectl => Some(manifest_pod(ctx, &doc)?),
    };
    let top = doc.as_mapping_mut().context("skaffold.yaml is not a map")?;
    let mut local = Mapping::new();
    match deployer {
        Deployer::Docker => {
            top.remove("manifests");
            local.insert("push".into(), false.into());
        }
        Deployer::Kubectl => {
            local.insert("push".into(), true.into());
        }
    }
    top.get_mut("build")
        .and_then(Value::as_mapping_mut)
        .context("no build")?
        .insert("local".into(), Value::Mapping(local));
    let (deploy, forward) = match &pod {
        None => (
            format!("docker:\n  images: [{image}]\n"),
            format!(
                "- resourceType: container\n  resourceName: {image}\n  port: {APP_PORT}\n  \
                 localPort: {port}\n  address: 127.0.0.1\n"
            ),
        ),
        Some(pod) => (
            "kubectl: {}\n".to_string(),
            format!(
                "- resourceType: pod\n  resourceName: {pod}\n  port: {APP_PORT}\n  \
                 localPort: {port}\n  address: 127.0.0.1\n"
            ),
        ),
    };
    top.insert("deploy".into(), serde_yaml::from_str(&deploy)?);
    top.insert("portForward".into(), serde_yaml::from_str(&forward)?);
    let regenerate = match (mode, deployer) {
        (Mode::Auto, _) => {
            top.remove("profiles");
            false
        }
        // As shipped.
        (Mode::Generated, Deployer::Kubectl) => false,
        (Mode::Generated, Deployer::Docker) => {
            // The example ships a profile for its kubectl deploys (with the
            // after-sync hook, which the docker deployer never runs): a
            // user who deploys with docker regenerates it, as here.
            if let Some(list) = top.get_mut("profiles").and_then(Value::as_sequence_mut) {
                list.retain(|p| p["name"] != GENERATED_PROFILE);
            }
            true
        }
    };
    std::fs::write(&path, serde_yaml::to_string(&doc)?)?;
    if regenerate {
        let filesync = crate::tools::filesync_bin();
        crate::tools::run(
            Command::new(filesync)
                .arg("skaffold")
                .arg(ctx)
                .arg("--write"),
        )
        .context("filesync skaffold --write for the docker deployer")?;
    }
    Ok((image, pod))
}

/// The profile `filesync skaffold --write` generates.
const GENERATED_PROFILE: &str = "filesync";

/// The name of the one Pod among the manifests `manifests.rawYaml` lists.
fn manifest_pod(ctx: &Path, doc: &Value) -> anyhow::Result<String> {
    let files = doc["manifests"]["rawYaml"]
        .as_sequence()
        .context("skaffold.yaml has no manifests.rawYaml")?;
    let mut pods = Vec::new();
    for f in files.iter().filter_map(Value::as_str) {
        let text = std::fs::read_to_string(ctx.join(f))
            .with_context(|| format!("reading the manifest {f}"))?;
        for d in serde_yaml::Deserializer::from_str(&text) {
            let v = Value::deserialize(d).with_context(|| format!("parsing {f}"))?;
            if v["kind"].as_str() == Some("Pod") {
                if let Some(name) = v["metadata"]["name"].as_str() {
                    pods.push(name.to_string());
                }
            }
        }
    }
    match pods.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!("expected one Pod among the manifests {files:?}, found {pods:?}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn colour_sequences_are_stripped_and_text_kept() {
        assert_eq!(
            super::strip_ansi("\u{1b}[36m===> BUILDING\u{1b}[0m done"),
            "===> BUILDING done"
        );
        assert_eq!(super::strip_ansi("plain [x]"), "plain [x]");
    }
}
