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
