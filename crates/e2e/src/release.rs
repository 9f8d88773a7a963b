//! The release as shipped: `scripts/release.sh` run once per test process
//! into `.work/release/`, so the harness builds with the very buildpack
//! (`.cnb` made by `pack buildpack package`), buildpack directory and static
//! `filesync` binary a release carries — what is tested is what is shipped.
//!
//! ```no_run
//! use filesync_e2e::release::Release;
//! let r = Release::get();
//! let cnb = r.cnb(); // pack's `--buildpack FILE`, a builder.toml `uri`
//! let reference = r.publish("127.0.0.1:5000").unwrap(); // 127.0.0.1:5000/skaffold-filesync:VERSION
//! ```

use crate::tools::{repo_root, run, work_dir};
use anyhow::{ensure, Context};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The repository (under a registry) `publish` pushes the buildpack to.
pub const REPOSITORY: &str = "skaffold-filesync";

/// One run of `scripts/release.sh OUTDIR`.
pub struct Release {
    out: PathBuf,
    version: String,
}

impl Release {
    /// The process-wide release in `.work/release/`, made on first use.
    pub fn get() -> &'static Release {
        static R: OnceLock<Release> = OnceLock::new();
        R.get_or_init(|| {
            Release::make(&work_dir().join("release"), None)
                .unwrap_or_else(|e| panic!("scripts/release.sh: {e:#}"))
        })
    }

    /// Runs `scripts/release.sh OUT [--publish PUBLISH]` and checks that it
    /// produced what it promises.
    pub fn make(out: &Path, publish: Option<&str>) -> anyhow::Result<Release> {
        // One release.sh at a time per output directory, across test
        // processes too (`cargo test` may run test binaries side by side
        // when asked): a second run rewrites the same files.
        static IN_PROCESS: Mutex<()> = Mutex::new(());
        let _guard = IN_PROCESS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let lock = std::fs::File::create(out.join(".lock"))?;
        lock.lock()
            .with_context(|| format!("locking {}/.lock", out.display()))?;
        let mut cmd = Command::new(repo_root().join("scripts/release.sh"));
        cmd.arg(out);
        if let Some(repo) = publish {
            cmd.args(["--publish", repo]);
        }
        run(&mut cmd)?;
        let release = Release {
            out: out.to_path_buf(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        for f in [
            release.cnb(),
            release.binary(),
            release.sha256sums(),
            release.buildpack_dir().join("buildpack.toml"),
        ] {
            ensure!(
                f.exists(),
                "scripts/release.sh {} left no {} (is the workspace version still {}?)",
                out.display(),
                f.display(),
                release.version
            );
        }
        Ok(release)
    }

    /// The workspace version (Cargo.toml `[workspace.package] version`),
    /// which release.sh names its files after.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.out
    }

    /// `skaffold-filesync-VERSION.cnb`: the OCI layout archive pack made.
    pub fn cnb(&self) -> PathBuf {
        self.out
            .join(format!("skaffold-filesync-{}.cnb", self.version))
    }

    /// `filesync-VERSION-x86_64-linux`: the static binary, byte for byte
    /// the one in the buildpack. Tests that run `filesync` inside a root
    /// or image without our libc use this one, not the host build.
    pub fn binary(&self) -> PathBuf {
        self.out
            .join(format!("filesync-{}-x86_64-linux", self.version))
    }

    pub fn sha256sums(&self) -> PathBuf {
        self.out.join("SHA256SUMS")
    }

    /// The buildpack directory the `.cnb` was packaged from.
    pub fn buildpack_dir(&self) -> PathBuf {
        self.out.join("buildpack/skaffold-filesync")
    }

    /// Publishes the buildpack image to `registry` (`127.0.0.1:PORT`) as
    /// `REGISTRY/skaffold-filesync:VERSION` with release.sh's own
    /// `--publish` (`pack buildpack package --publish`), and returns the
    /// reference pack's `--buildpack`, a builder.toml `uri` and
    /// skaffold.yaml's `buildpacks.buildpacks` take:
    /// `REGISTRY/skaffold-filesync:VERSION`, without `docker://`. pack
    /// v0.40.6 (`GetLocatorType`, `pkg/buildpack/locator_type.go`) parses a
    /// `docker://` locator whole, scheme included, as an image reference;
    /// with a port in the registry that fails and pack then refuses the
    /// string as an unsupported URI. The bare reference is a package
    /// locator on every registry.
    ///
    /// release.sh runs again for this (into a temp dir). Its outputs are
    /// reproducible (pack writes fixed timestamps, cargo rebuilds nothing),
    /// so its SHA256SUMS must equal this release's: otherwise the image
    /// pushed is not the one the other tests used.
    pub fn publish(&self, registry: &str) -> anyhow::Result<String> {
        let dir = tempfile::Builder::new()
            .prefix("filesync-release-")
            .tempdir()?;
        let repo = format!("{registry}/{REPOSITORY}");
        let again = Release::make(dir.path(), Some(&repo))?;
        let sums = |r: &Release| std::fs::read_to_string(r.sha256sums());
        let (ours, published) = (sums(self)?, sums(&again)?);
        ensure!(
            ours == published,
            "the published release differs from {} (did the sources change in between?):\n\
             {ours}\nvs\n{published}",
            self.dir().display()
        );
        Ok(format!("{repo}:{}", self.version))
    }
}
