//! Where the harness finds its tools; a missing one is a set-up problem,
//! reported as such (never a silent skip).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// `.work/` under the repo: everything set-up and tests create.
pub fn work_dir() -> PathBuf {
    repo_root().join(".work")
}

/// A tool from `scripts/setup.sh` (under `.work/`) or the system.
pub fn tool(name: &str) -> PathBuf {
    let local = [
        work_dir().join("lifecycle").join(name),
        work_dir().join("bin").join(name),
    ];
    if let Some(p) = local.into_iter().find(|p| p.exists()) {
        return p;
    }
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} not found: run scripts/setup.sh first");
}

/// Runs `cmd`, failing with its output when it exits non-zero.
pub fn run(cmd: &mut Command) -> anyhow::Result<Output> {
    let out = cmd.output().with_context(|| format!("starting {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// Runs a repository script (e.g. `scripts/run-images.sh`).
pub fn script(name: &str, args: &[&str]) -> anyhow::Result<Output> {
    run(Command::new(repo_root().join("scripts").join(name)).args(args))
}

/// The `filesync` CLI of this workspace, built (debug profile, same
/// target dir as the running test) if it is not there yet.
pub fn filesync_bin() -> PathBuf {
    workspace_bin("filesync", "filesync")
}

/// The in-image runtime binary (`filesync-runtime`: supervise, the shims,
/// sync-done), built like [`filesync_bin`].
pub fn runtime_bin() -> PathBuf {
    workspace_bin("filesync-runtime", "filesync-runtime")
}

fn workspace_bin(package: &str, name: &str) -> PathBuf {
    // Test executables live in <target>/<triple>/debug/deps/.
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile dir");
    let bin = profile_dir.join(name);
    if !bin.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run(Command::new(cargo)
            .args(["build", "-q", "-p", package, "--bin", name])
            .current_dir(repo_root()))
        .unwrap_or_else(|e| panic!("building {name}: {e}"));
    }
    assert!(bin.is_file(), "{} not found after building", bin.display());
    bin
}
