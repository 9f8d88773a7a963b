//! The real client: the Skaffold v2.24.0 CLI (`scripts/setup.sh` builds it
//! from its module) running `skaffold dev` on a copy of an example, with
//! the docker deployer, against the private Docker Engine and a builder in
//! the registry on 127.0.0.1. The test edits files in the copy as a
//! developer would and waits on Skaffold's own output and the app's HTTP
//! answers, which come only through the port Skaffold publishes on
//! 127.0.0.1 (`portForward`, `resourceType: container`).

use crate::builder::{Builders, Platform, Stack};
use crate::docker::Docker;
use crate::tools::{repo_root, tool};
use anyhow::{bail, Context};
use serde_yaml::{Mapping, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

/// Skaffold's output, each line with the moment it was read.
#[derive(Default)]
struct Output {
    lines: Mutex<Vec<(Instant, String)>>,
    grew: Condvar,
}

/// A line of Skaffold's output that a test waited for.
#[derive(Debug, Clone)]
pub struct Line {
    pub index: usize,
    pub at: Instant,
    pub text: String,
}

pub struct SkaffoldDev {
    ctx: tempfile::TempDir,
    _home: tempfile::TempDir,
    /// The artifact's image name, also the container's name.
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
        let platform = match mode {
            Mode::Generated => Platform::Current,
            Mode::Auto => Platform::Legacy,
        };
        let builder = Builders::get().builder(stack, platform);
        // Skaffold pulls the builder and its run image on the first build;
        // if either is missing it fails deep in its output. Say it first.
        let run_image = run_image_of(&builder)?;
        require_in_registry(&run_image, "run image")?;
        let docker = Docker::get();
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
        let image = rewrite_skaffold_yaml(ctx.path(), &builder, mode, port)?;
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
        let mut child = Command::new(tool("skaffold"))
            .args([
                "dev",
                "--port-forward=user",
                "--cache-artifacts=false",
                "--update-check=false",
                "--interactive=false",
                "--color=0",
            ])
            .current_dir(ctx.path())
            .env("HOME", home.path())
            .env("DOCKER_HOST", &docker.host)
            .env("KUBECONFIG", home.path().join("no-kubeconfig"))
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
            });
        }
        Ok(SkaffoldDev {
            ctx,
            _home: home,
            image,
            port,
            child: Some(child),
            output,
        })
    }

    /// The developer's copy of the example (Skaffold's artifact context).
    pub fn ctx(&self) -> &Path {
        self.ctx.path()
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
        let path = self.ctx.path().join(rel);
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("writing {rel}: {e}"));
        Instant::now()
    }

    /// Deletes `rel` in the context.
    pub fn remove(&self, rel: &str) -> Instant {
        std::fs::remove_file(self.ctx.path().join(rel))
            .unwrap_or_else(|e| panic!("deleting {rel}: {e}"));
        Instant::now()
    }

    /// `docker exec` in the app's container (the docker deployer names it
    /// after the image).
    pub fn exec(&self, args: &[&str]) -> anyhow::Result<String> {
        Docker::get().exec(&self.image, args)
    }

    /// Stops `skaffold dev` as a developer does (Ctrl-C: SIGINT), which
    /// makes Skaffold remove its container and network; killed if it has
    /// not exited after 60 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = Docker::get().cli().args(["rm", "-f", &self.image]).output();
    }
}

impl Drop for SkaffoldDev {
    fn drop(&mut self) {
        self.stop();
    }
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
/// the lifecycle's creator in one container), the docker deployer in place
/// of the Kubernetes manifests, and the app's port published on 127.0.0.1.
/// In auto mode the generated profile is dropped, so no `sync` block is
/// left, and the image gets its own name (the container is named after
/// it). Returns the image name.
fn rewrite_skaffold_yaml(
    ctx: &Path,
    builder: &str,
    mode: Mode,
    port: u16,
) -> anyhow::Result<String> {
    let path = ctx.join("skaffold.yaml");
    let text = std::fs::read_to_string(&path).context("reading the example's skaffold.yaml")?;
    let mut doc: Value = serde_yaml::from_str(&text)?;
    let artifact = doc["build"]["artifacts"][0]
        .as_mapping_mut()
        .context("skaffold.yaml has no build.artifacts[0]")?;
    let mut image = artifact
        .get("image")
        .and_then(Value::as_str)
        .context("artifact without image")?
        .to_string();
    if mode == Mode::Auto {
        image.push_str("-auto");
        artifact.insert("image".into(), image.clone().into());
    }
    let buildpacks = artifact
        .get_mut("buildpacks")
        .and_then(Value::as_mapping_mut)
        .context("artifact without buildpacks")?;
    if mode == Mode::Auto {
        // Without the generated profile nothing keeps the sources that
        // Paketo's go-build and libbs remove; a user of auto sync sets it
        // in the artifact's env (docs/user-guide.md, Paketo specifics).
        if let Some(keep) =
            filesync_rules::family::detect(ctx).and_then(filesync_rules::family::keep_sources_env)
        {
            let env = buildpacks
                .entry("env".into())
                .or_insert_with(|| Value::Sequence(Vec::new()));
            if let Some(list) = env.as_sequence_mut() {
                list.push(keep.into());
            }
        }
    }
    buildpacks.insert("builder".into(), builder.into());
    buildpacks.insert("trustBuilder".into(), true.into());
    let top = doc.as_mapping_mut().context("skaffold.yaml is not a map")?;
    top.remove("manifests");
    let mut local = Mapping::new();
    local.insert("push".into(), false.into());
    top.get_mut("build")
        .and_then(Value::as_mapping_mut)
        .context("no build")?
        .insert("local".into(), Value::Mapping(local));
    let deploy: Value = serde_yaml::from_str(&format!("docker:\n  images: [{image}]\n"))?;
    top.insert("deploy".into(), deploy);
    let forward: Value = serde_yaml::from_str(&format!(
        "- resourceType: container\n  resourceName: {image}\n  port: {APP_PORT}\n  \
         localPort: {port}\n  address: 127.0.0.1\n"
    ))?;
    top.insert("portForward".into(), forward);
    if mode == Mode::Auto {
        top.remove("profiles");
    }
    std::fs::write(&path, serde_yaml::to_string(&doc)?)?;
    Ok(image)
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
