//! The real `pack builder create`, found on PATH and run with the
//! builder.toml written here; its output goes straight to the user.

use super::errors::BuilderError;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The first executable `pack` in the PATH directories, as a shell finds it.
pub(super) fn find(path: Option<OsString>) -> Result<PathBuf, BuilderError> {
    let path = path.unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("pack"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| BuilderError::NoPack {
            path: path.to_string_lossy().into_owned(),
        })
}

/// `pack builder create NEW --config CONFIG [--publish]`. The pull policy
/// `if-not-present` takes FROM and the run image from the daemon when they
/// are there (FROM always is: its lifecycle was copied out through it), so
/// nothing is fetched that is already at hand; with `--publish` pack reads
/// FROM from its registry and pushes NEW there.
pub(super) fn builder_create(
    pack: &Path,
    new: &str,
    config: &Path,
    publish: bool,
) -> Result<(), BuilderError> {
    let mut cmd = Command::new(pack);
    cmd.args(["builder", "create", new, "--config"])
        .arg(config)
        .args(["--pull-policy", "if-not-present"]);
    if publish {
        cmd.arg("--publish");
    }
    let failed = |status: String| BuilderError::PackFailed {
        status,
        config: config.to_path_buf(),
    };
    let status = cmd
        .status()
        .map_err(|e| failed(format!("cannot run {}: {e}", pack.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(failed(status.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_is_found_only_as_an_executable_file_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(a.join("pack")).unwrap(); // a directory
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("pack"), "#!/bin/sh\n").unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        let e = find(Some(path.clone())).unwrap_err().to_string();
        assert!(e.contains("no `pack` on PATH"), "{e}");
        std::fs::set_permissions(b.join("pack"), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find(Some(path)).unwrap(), b.join("pack"));
        assert!(find(None).is_err());
    }
}
