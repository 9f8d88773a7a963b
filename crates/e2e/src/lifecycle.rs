//! Builds app images with the real CNB lifecycle (`creator`: analyze,
//! detect, build, export in one run), as an unprivileged user, into the
//! harness's registry.

use crate::image::Image;
use crate::reachable::lifecycle_tool;
use crate::registry::Registry;
use crate::tools::{repo_root, run, tool, work_dir};
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The uid/gid the phases run as; the run images' `cnb` user.
pub const BUILD_UID: u32 = 1000;

/// One harness per test process: the registry and the run images in it.
pub struct Harness {
    registry: Registry,
    buildpack_dir: OnceLock<PathBuf>,
}

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildSpec {
    pub app_dir: PathBuf,
    /// Files for `<platform>/env/NAME`: the build env a platform (pack,
    /// Skaffold) passes to buildpacks.
    pub env: BTreeMap<String, String>,
    pub platform_api: String,
    /// `base` or `tiny`.
    pub run_image: String,
    /// Put skaffold-filesync last in the order group (optional, as in a
    /// builder). `false`: only the provider buildpacks.
    pub with_filesync: bool,
    /// Extra provider buildpack dirs, before skaffold-filesync.
    pub providers: Vec<PathBuf>,
}

/// The outcome of a build: the image, if one was exported, and the
/// lifecycle's output.
pub struct BuildOutput {
    pub image: Option<Image>,
    pub log: String,
}

impl BuildSpec {
    pub fn new(app_dir: impl Into<PathBuf>) -> BuildSpec {
        let app_dir = app_dir.into();
        let app_dir = if app_dir.is_relative() {
            repo_root().join(app_dir)
        } else {
            app_dir
        };
        BuildSpec {
            app_dir,
            env: BTreeMap::new(),
            platform_api: "0.13".to_string(),
            run_image: "base".to_string(),
            with_filesync: true,
            providers: Vec::new(),
        }
    }

    /// What `skaffold dev` does: `GOOGLE_DEVMODE=1` in the build env.
    #[must_use]
    pub fn devmode(self) -> Self {
        self.env("GOOGLE_DEVMODE", "1")
    }

    #[must_use]
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.insert(k.to_string(), v.to_string());
        self
    }

    #[must_use]
    pub fn platform_api(mut self, api: &str) -> Self {
        self.platform_api = api.to_string();
        self
    }

    #[must_use]
    pub fn run_image(mut self, name: &str) -> Self {
        self.run_image = name.to_string();
        self
    }

    #[must_use]
    pub fn provider(mut self, dir: impl Into<PathBuf>) -> Self {
        self.providers.push(dir.into());
        self
    }
}

impl Harness {
    /// The process-wide harness, started on first use.
    pub fn get() -> &'static Harness {
        static H: OnceLock<Harness> = OnceLock::new();
        H.get_or_init(|| Harness::start().unwrap_or_else(|e| panic!("starting the harness: {e:#}")))
    }

    fn start() -> anyhow::Result<Harness> {
        // The phases run as the build user: from a copy it can reach
        // wherever the repository is (crate::reachable).
        crate::reachable::lifecycle_dir();
        crate::tools::script("run-images.sh", &[])?;
        let registry = Registry::start()?;
        let layout = work_dir().join("images/run");
        for name in ["base", "tiny"] {
            run(Command::new(tool("skopeo")).args([
                "copy",
                "-q",
                // Keep OCI media types: the exporter keeps the run image's,
                // and umoci unpacks only OCI layers.
                "--format=oci",
                "--dest-tls-verify=false",
                &format!("oci:{}:{name}", layout.display()),
                &format!("docker://{}/run:{name}", registry.host()),
            ]))?;
        }
        Ok(Harness {
            registry,
            buildpack_dir: OnceLock::new(),
        })
    }

    pub fn registry_host(&self) -> String {
        self.registry.host()
    }

    /// The packaged skaffold-filesync buildpack directory: the one the
    /// release was packaged from, made on first use by `scripts/release.sh`.
    pub fn buildpack_dir(&self) -> &Path {
        self.buildpack_dir.get_or_init(|| {
            package_buildpack().unwrap_or_else(|e| panic!("packaging the buildpack: {e:#}"))
        })
    }

    /// Copies the providers, procfile and (when asked) ours into
    /// `w/buildpacks` and writes `w/order.toml`: one group, in Paketo's order.
    fn stage_buildpacks(&self, spec: &BuildSpec, w: &Path) -> anyhow::Result<()> {
        let mut group = Vec::new();
        // Paketo's order: the language buildpacks, then procfile
        // (optional; a Procfile's types replace theirs), then ours.
        let mut bps: Vec<(PathBuf, bool)> =
            spec.providers.iter().map(|p| (p.clone(), false)).collect();
        bps.push((crate::providers::stage("procfile")?, true));
        if spec.with_filesync {
            bps.push((self.buildpack_dir().to_path_buf(), true));
        }
        for (dir, optional) in bps {
            let (id, version) = buildpack_id(&dir)?;
            let dest = w
                .join("buildpacks")
                .join(id.replace('/', "_"))
                .join(&version);
            std::fs::create_dir_all(dest.parent().unwrap())?;
            run(Command::new("cp").arg("-a").arg(&dir).arg(&dest))?;
            group.push(format!(
                "[[order.group]]\nid = \"{id}\"\nversion = \"{version}\"\noptional = {optional}\n"
            ));
        }
        std::fs::write(
            w.join("order.toml"),
            format!("[[order]]\n{}", group.join("\n")),
        )?;
        Ok(())
    }

    /// Builds `spec` with the real lifecycle. A failed build is `Ok` with
    /// no image, so tests can assert on the lifecycle's output.
    pub fn build(&self, spec: &BuildSpec) -> anyhow::Result<BuildOutput> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let ws = tempfile::Builder::new()
            .prefix("filesync-build-")
            .tempdir()?;
        let w = ws.path();
        for d in ["layers", "platform/env", "buildpacks", "home"] {
            std::fs::create_dir_all(w.join(d))?;
        }
        run(Command::new("cp")
            .arg("-a")
            .arg(&spec.app_dir)
            .arg(w.join("app")))?;
        for (k, v) in &spec.env {
            std::fs::write(w.join("platform/env").join(k), v)?;
        }
        self.stage_buildpacks(spec, w)?;
        run(Command::new("chown")
            .arg("-R")
            .arg(format!("{BUILD_UID}:{BUILD_UID}"))
            .arg(w))?;
        std::fs::set_permissions(w, std::fs::Permissions::from_mode(0o755))?;

        let reference = format!(
            "{}/app-{}-{n}:latest",
            self.registry.host(),
            std::process::id()
        );
        let run_image = format!("{}/run:{}", self.registry.host(), spec.run_image);
        // The app and layers live at /workspace and /layers, as in pack's
        // build container: bind-mounted in a private mount namespace, so
        // builds can run side by side and the image carries the same paths.
        for d in ["/workspace", "/layers"] {
            std::fs::create_dir_all(d)?;
        }
        let creator = creator_args(w, &run_image, &reference);
        let script = format!(
            "mount --bind {app} /workspace && mount --bind {layers} /layers && \
             exec setpriv --reuid={BUILD_UID} --regid={BUILD_UID} --clear-groups \"$@\"",
            app = path(w, "app"),
            layers = path(w, "layers"),
        );
        let out = Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                &script,
                "sh",
            ])
            .args(&creator)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .env("HOME", w.join("home"))
            .env("CNB_PLATFORM_API", &spec.platform_api)
            .env("CNB_REGISTRY_AUTH", "{}")
            .current_dir(w)
            .output()
            .context("running the lifecycle creator")?;
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let image = out.status.success().then(|| Image::new(&reference));
        Ok(BuildOutput { image, log })
    }
}

/// The creator's arguments: the workspace `w`'s platform, buildpacks and
/// order, the app and layers at /workspace and /layers, exporting
/// `reference` on `run_image`.
fn creator_args(w: &Path, run_image: &str, reference: &str) -> [String; 13] {
    [
        lifecycle_tool("creator").display().to_string(),
        "-app=/workspace".into(),
        "-layers=/layers".into(),
        format!("-platform={}", path(w, "platform")),
        format!("-buildpacks={}", path(w, "buildpacks")),
        format!("-order={}", path(w, "order.toml")),
        format!("-run-image={run_image}"),
        format!("-launcher={}", lifecycle_tool("launcher").display()),
        "-skip-restore".into(),
        format!("-uid={BUILD_UID}"),
        format!("-gid={BUILD_UID}"),
        "-no-color".into(),
        reference.to_string(),
    ]
}

fn path(w: &Path, p: &str) -> String {
    w.join(p).display().to_string()
}

/// `[buildpack] id` and `version` from a buildpack dir's buildpack.toml.
pub fn buildpack_id(dir: &Path) -> anyhow::Result<(String, String)> {
    let text = std::fs::read_to_string(dir.join("buildpack.toml"))
        .with_context(|| format!("reading {}/buildpack.toml", dir.display()))?;
    let v: toml::Value = toml::from_str(&text)?;
    let bp = &v["buildpack"];
    match (
        bp.get("id").and_then(|x| x.as_str()),
        bp.get("version").and_then(|x| x.as_str()),
    ) {
        (Some(id), Some(version)) => Ok((id.to_string(), version.to_string())),
        _ => bail!(
            "{}/buildpack.toml lacks [buildpack] id/version",
            dir.display()
        ),
    }
}

/// The skaffold-filesync buildpack directory `scripts/release.sh` packaged
/// into the released `.cnb` (see [`crate::release`]).
fn package_buildpack() -> anyhow::Result<PathBuf> {
    let dir = crate::release::Release::get().buildpack_dir();
    anyhow::ensure!(
        dir.join("buildpack.toml").is_file(),
        "the release has no buildpack directory {}",
        dir.display()
    );
    Ok(dir)
}
