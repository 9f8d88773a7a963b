//! Finding the image's own `tar`/`rm`, shadowed by our shims because
//! `/cnb/process` comes first on the image's PATH.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

/// The first `name` on PATH that is not one of ours: skips `/cnb/process`,
/// `/cnb/lifecycle`, and anything resolving to this very executable.
pub fn image_tool(name: &str) -> Option<PathBuf> {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty() && *d != "/cnb/process" && *d != "/cnb/lifecycle")
        .map(|d| Path::new(d).join(name))
        .filter(|p| p.is_file())
        .find(|p| {
            let real = p.canonicalize().ok();
            real.is_some() && real != me && !real.as_ref().is_some_and(|r| r.starts_with("/cnb/"))
        })
}

/// Replaces this process with `tool args…` (same stdio, same exit status).
pub fn exec(tool: &Path, name: &str, args: &[std::ffi::OsString]) -> std::io::Error {
    std::process::Command::new(tool)
        .arg0(name)
        .args(args)
        .exec()
}
