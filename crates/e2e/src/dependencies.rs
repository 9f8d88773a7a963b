//! The apps' third-party dependencies, fetched on the host from the real
//! registries (npm, `PyPI`, Maven Central, the Go module proxy) for the
//! provider stand-ins to install offline: builds here have no network (the
//! private Docker Engine runs with `--iptables=false`, and a builder image
//! reaches no host path). Each provider gets them in the form its Paketo
//! original accepts vendored or offline dependencies:
//!
//! | provider | form (see the stand-in's bin/build)                       |
//! |----------|-----------------------------------------------------------|
//! | node     | an npm cache (`npm ci --cache`), used with `--offline`     |
//! | python   | a wheel directory, `pip install --no-index --find-links`  |
//! | go       | a Go module cache (`go mod download`), `GOPROXY=off`       |
//! | java     | a Maven repository, `mvn --offline`                        |
//!
//! What is fetched is what the apps' own manifests and lockfiles name: the
//! examples, and each example with its e2e "added dependency" version
//! (`crates/e2e/fixtures/added-dependency/<example>/`, files laid over a
//! copy of the example), so that a manifest change made by the e2e suite
//! finds its new dependency offline too. Cached under
//! `.work/deps/<provider>/<key>/`, the key a hash of those manifests (and
//! of the target for wheels): a changed manifest fetches afresh.

use crate::tools::{repo_root, run, tool, work_dir};
use anyhow::Context;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The e2e suite's versions of examples that add a dependency.
pub const ADDED_DEPENDENCY: &str = "crates/e2e/fixtures/added-dependency";

/// Per provider: the examples whose dependencies it installs, and the
/// manifest files that decide them.
fn spec(provider: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match provider {
        "node" => (
            &["node", "node-express", "basic"],
            &["package.json", "package-lock.json"],
        ),
        "python" => (&["python", "python-flask"], &["requirements.txt"]),
        "go" => (&["go", "go-modules"], &["go.mod", "go.sum"]),
        "java" => (&["java", "java-spring-boot"], &["pom.xml"]),
        _ => return None,
    })
}

/// The wheels' target: the provider's Python (Debian's 3.11, see
/// `providers::PYTHON_DEBS`) on `x86_64` glibc.
const WHEEL_TARGET: &[&str] = &[
    "--only-binary=:all:",
    "--implementation=cp",
    "--python-version=3.11",
    "--platform=manylinux2014_x86_64",
    "--platform=manylinux_2_17_x86_64",
];
/// pip itself, for the stand-in's pip layer.
const PIP: &str = "pip==24.3.1";

/// The Maven goals the repository is filled for: what the in-container
/// rebuild runs (`mvn -o clean package`, the rule engine's reload action
/// for Java) and more than the provider's build needs, so every plugin
/// either needs is there.
pub const MAVEN_GOALS: &[&str] = &["clean", "package"];

/// One app: an example, or an example with an overlay laid over it.
struct App {
    example: PathBuf,
    overlay: Option<PathBuf>,
}

impl App {
    /// The app's copy of `name`: the overlay's file if it has one.
    fn file(&self, name: &str) -> Option<PathBuf> {
        let over = self.overlay.as_ref().map(|o| o.join(name));
        over.filter(|p| p.is_file())
            .or_else(|| Some(self.example.join(name)).filter(|p| p.is_file()))
    }

    /// A scratch copy of the app (its build must not write into the repo).
    fn scratch(&self) -> anyhow::Result<tempfile::TempDir> {
        let dir = tempfile::tempdir()?;
        for from in std::iter::once(&self.example).chain(self.overlay.as_ref()) {
            run(Command::new("cp")
                .arg("-a")
                .arg(from.join("."))
                .arg(dir.path()))?;
        }
        Ok(dir)
    }
}

fn apps(provider: &str) -> Vec<App> {
    let Some((examples, _)) = spec(provider) else {
        return Vec::new();
    };
    let root = repo_root();
    let mut out = Vec::new();
    for e in examples {
        let example = root.join("examples").join(e);
        let overlay = root.join(ADDED_DEPENDENCY).join(e);
        out.push(App {
            example: example.clone(),
            overlay: None,
        });
        if overlay.is_dir() {
            out.push(App {
                example,
                overlay: Some(overlay),
            });
        }
    }
    out
}

/// The key of `provider`'s dependencies: a hash of every app's manifests
/// (and of how they are fetched). Empty for a provider without any.
pub fn key(provider: &str) -> anyhow::Result<String> {
    let Some((_, manifests)) = spec(provider) else {
        return Ok(String::new());
    };
    let mut h = Sha256::new();
    h.update(provider.as_bytes());
    h.update(WHEEL_TARGET.join(" ").as_bytes());
    h.update(PIP.as_bytes());
    h.update(MAVEN_GOALS.join(" ").as_bytes());
    for app in apps(provider) {
        for m in manifests {
            h.update([0]);
            h.update(m.as_bytes());
            if let Some(f) = app.file(m) {
                h.update(std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?);
            }
        }
    }
    Ok(format!("{:x}", h.finalize())[..16].to_string())
}

/// The directory holding `provider`'s dependencies (`npm-cache/`,
/// `wheels/`, `gomodcache/` or `m2/repository/`), fetched on first use.
/// Safe to call from several processes: each fetches into a temp dir and
/// renames it into place; the first one wins.
pub fn fetch(provider: &str) -> anyhow::Result<PathBuf> {
    let root = work_dir().join("deps").join(provider);
    let dir = root.join(key(provider)?);
    if dir.is_dir() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&root)?;
    let tmp = tempfile::Builder::new().prefix(".tmp-").tempdir_in(&root)?;
    for app in apps(provider) {
        let what = app
            .overlay
            .as_ref()
            .unwrap_or(&app.example)
            .display()
            .to_string();
        fetch_app(provider, &app, tmp.path())
            .with_context(|| format!("fetching the dependencies of {what}"))?;
    }
    // The module cache is read-only as Go makes it: let it be replaced.
    run(Command::new("chmod").args(["-R", "u+w"]).arg(tmp.path()))?;
    let filled = tmp.keep();
    if std::fs::rename(&filled, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&filled);
        anyhow::ensure!(dir.is_dir(), "could not install {}", dir.display());
    }
    Ok(dir)
}

fn fetch_app(provider: &str, app: &App, into: &Path) -> anyhow::Result<()> {
    let scratch = app.scratch()?;
    let dir = scratch.path();
    let home = tempfile::tempdir()?;
    match provider {
        "node" => npm_cache(dir, &into.join("npm-cache"), home.path()),
        "python" => wheels(app, &into.join("wheels")),
        "go" => go_mod_download(dir, &into.join("gomodcache"), home.path()),
        "java" => maven_repository(dir, &into.join("m2/repository")),
        other => anyhow::bail!("no dependencies for {other}"),
    }
}

/// `npm ci` (or `npm install` without a lockfile) against the npm
/// registry, keeping only the cache it fills.
fn npm_cache(app: &Path, cache: &Path, home: &Path) -> anyhow::Result<()> {
    let verb = if app.join("package-lock.json").is_file() {
        "ci"
    } else {
        "install"
    };
    run(Command::new(tool("npm"))
        .args([
            verb,
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--cache",
        ])
        .arg(cache)
        .env("HOME", home)
        .env("NPM_CONFIG_LOGLEVEL", "error")
        .current_dir(app))?;
    Ok(())
}

/// `pip download` of the app's requirements (and of pip) from `PyPI`, as
/// wheels for the provider's Python.
fn wheels(app: &App, dest: &Path) -> anyhow::Result<()> {
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "pip", "download", "-q", "--disable-pip-version-check"])
        .args(WHEEL_TARGET)
        .arg("--dest")
        .arg(dest)
        .arg(PIP);
    if let Some(req) = app.file("requirements.txt") {
        cmd.arg("--requirement").arg(req);
    }
    run(&mut cmd)?;
    Ok(())
}

/// `go mod download` from the Go module proxy into `modcache`.
fn go_mod_download(app: &Path, modcache: &Path, home: &Path) -> anyhow::Result<()> {
    run(Command::new("/usr/local/go/bin/go")
        .args(["mod", "download"])
        .env("GOMODCACHE", modcache)
        .env("GOPATH", home.join("go"))
        .env("GOCACHE", home.join("cache"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .current_dir(app))?;
    Ok(())
}

/// The app's own `mvn clean package` against Maven Central, with
/// `repository` as the local repository.
fn maven_repository(app: &Path, repository: &Path) -> anyhow::Result<()> {
    let java_home = std::fs::canonicalize(tool("java"))?
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .context("home of the host's java")?;
    run(Command::new(tool("mvn"))
        .args(["-q", "-B"])
        .args(MAVEN_GOALS)
        .arg("-DskipTests")
        .arg(format!("-Dmaven.repo.local={}", repository.display()))
        .env("JAVA_HOME", java_home)
        .current_dir(app))?;
    Ok(())
}
