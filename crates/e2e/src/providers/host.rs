//! The host's tools whose copies the providers carry, found and checked.

use crate::tools::run;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Libraries the node binary may link: the run images have these.
const NODE_LIBS: &[&str] = &[
    "linux-vdso.so",
    "ld-linux-x86-64.so",
    "libc.so",
    "libstdc++.so",
    "libgcc_s.so",
    "libm.so",
    "libdl.so",
    "libpthread.so",
];

/// The host's npm package (the `npm` on PATH is its `bin/npm-cli.js`).
pub(super) fn host_npm() -> anyhow::Result<PathBuf> {
    let out = run(Command::new("sh").args(["-c", "readlink -f \"$(command -v npm)\""]))
        .context("finding the host's npm")?;
    let cli = PathBuf::from(String::from_utf8(out.stdout)?.trim());
    cli.parent()
        .and_then(Path::parent)
        .filter(|d| d.join("package.json").is_file())
        .map(Path::to_path_buf)
        .with_context(|| format!("no npm package around {}", cli.display()))
}

/// The host's node binary, symlinks resolved.
pub(super) fn host_node() -> anyhow::Result<PathBuf> {
    let out = run(Command::new("sh").args(["-c", "readlink -f \"$(command -v node)\""]))
        .context("finding the host's node")?;
    let path = PathBuf::from(String::from_utf8(out.stdout)?.trim());
    anyhow::ensure!(path.is_file(), "no node on the host's PATH");
    Ok(path)
}

/// Fails unless `node` links only libraries the run images have.
pub(super) fn check_node_libs(node: &Path) -> anyhow::Result<()> {
    let out = run(Command::new("ldd").arg(node))?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let lib = line.split_whitespace().next().unwrap_or("");
        let lib = lib.rsplit('/').next().unwrap_or(lib);
        if !lib.is_empty() && !NODE_LIBS.iter().any(|l| lib.starts_with(l)) {
            bail!(
                "{} links {lib}, which the run images lack:\n{}",
                node.display(),
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
    Ok(())
}

/// GOROOT of the host's Go (`/usr/local/go`).
pub(super) fn host_goroot() -> anyhow::Result<PathBuf> {
    let go = std::fs::canonicalize("/usr/local/go/bin/go").context("the host's Go")?;
    go.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .context("GOROOT of /usr/local/go/bin/go")
}

/// The homes of the host's JDK and Maven.
pub(super) fn java_homes() -> anyhow::Result<(PathBuf, PathBuf)> {
    let home = |tool: &str| -> anyhow::Result<PathBuf> {
        let bin = std::fs::canonicalize(crate::tools::tool(tool))?;
        bin.parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .with_context(|| format!("home of the host's {tool}"))
    };
    Ok((home("java")?, home("mvn")?))
}
