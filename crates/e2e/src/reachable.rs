//! What the unprivileged build user (the lifecycle's phases run as uid
//! 1000) must read, kept where that user can reach it whatever directory
//! the repository is cloned in.
//!
//! A clone under a directory only its owner may enter (root's home,
//! `/root`, is 0700) leaves `.work/lifecycle/` out of the build user's
//! reach: the creator could not be executed and the exporter failed with
//! "stat …/.work/lifecycle/launcher: permission denied". The user's own
//! directories are never re-moded; instead the harness copies the
//! lifecycle into a directory of its own under the system's temp dir,
//! mode 0755, owned by the user running the tests, keyed by the binaries'
//! content so that every test process shares one copy.

use crate::tools::work_dir;
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The lifecycle's binaries scripts/setup.sh builds; the phases are
/// symlinks to `lifecycle` (it dispatches on argv[0]).
const BINARIES: &[&str] = &["lifecycle", "launcher"];
const PHASES: &[&str] = &[
    "detector", "analyzer", "restorer", "builder", "exporter", "creator", "rebaser",
];

/// The directory holding the build user's copy of the lifecycle
/// (`lifecycle`, `launcher` and the phase links), made on first use.
pub fn lifecycle_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        copy_lifecycle(&work_dir().join("lifecycle"), &std::env::temp_dir())
            .unwrap_or_else(|e| panic!("the build user's copy of the lifecycle: {e:#}"))
    })
}

/// `name` (`creator`, `launcher`, …) in [`lifecycle_dir`].
pub fn lifecycle_tool(name: &str) -> PathBuf {
    lifecycle_dir().join(name)
}

/// Copies the lifecycle in `src` to `<base>/filesync-lifecycle-<uid>-<hash>`
/// (kept if it is already there, complete and ours) and returns that path.
pub fn copy_lifecycle(src: &Path, base: &Path) -> anyhow::Result<PathBuf> {
    for b in BINARIES {
        if !src.join(b).is_file() {
            bail!(
                "{} is missing: the lifecycle is built by scripts/setup.sh; run it first",
                src.join(b).display()
            );
        }
    }
    let uid = nix_uid();
    let dest = base.join(format!("filesync-lifecycle-{uid}-{}", content_key(src)?));
    if dest.join(".complete").exists() {
        check_ours(&dest, uid)?;
        return Ok(dest);
    }
    let tmp = tempfile::Builder::new()
        .prefix(".filesync-lifecycle-")
        .tempdir_in(base)
        .with_context(|| format!("creating a directory in {}", base.display()))?;
    for b in BINARIES {
        std::fs::copy(src.join(b), tmp.path().join(b))
            .with_context(|| format!("copying {}", src.join(b).display()))?;
    }
    for p in PHASES {
        std::os::unix::fs::symlink("lifecycle", tmp.path().join(p))?;
    }
    std::fs::write(tmp.path().join(".complete"), "")?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))?;
    let staged = tmp.keep();
    if std::fs::rename(&staged, &dest).is_err() {
        // Another test process made the same copy meanwhile: keep theirs.
        let _ = std::fs::remove_dir_all(&staged);
    }
    check_ours(&dest, uid)?;
    check_reachable(&dest)?;
    Ok(dest)
}

/// Hash of the binaries' content: a rebuilt lifecycle gets a new copy.
fn content_key(src: &Path) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    for b in BINARIES {
        h.update(std::fs::read(src.join(b)).with_context(|| format!("reading {b}"))?);
    }
    Ok(format!("{:x}", h.finalize())[..16].to_string())
}

/// A directory in a shared temp dir is trusted only if this user made it
/// and no one else may write it.
fn check_ours(dir: &Path, uid: u32) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o022 != 0 {
        bail!(
            "{} is not a directory of this user's (uid {uid}) that only it may write \
             (someone else made it?); remove it and run the tests again",
            dir.display()
        );
    }
    Ok(())
}

/// Every directory from `/` down to `dir` must let others through (x),
/// or the build user still cannot reach the copy.
fn check_reachable(dir: &Path) -> anyhow::Result<()> {
    for d in dir.ancestors() {
        let mode = std::fs::metadata(d)?.mode();
        if mode & 0o001 == 0 {
            bail!(
                "{} (mode {:o}) does not let other users through, so the build user (uid {}) \
                 cannot reach {}; set TMPDIR to a directory every user can enter (e.g. /tmp)",
                d.display(),
                mode & 0o7777,
                crate::lifecycle::BUILD_UID,
                dir.display()
            );
        }
    }
    Ok(())
}

fn nix_uid() -> u32 {
    std::fs::metadata("/proc/self").map_or(0, |m| m.uid())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_lifecycle(dir: &Path) {
        for b in BINARIES {
            std::fs::write(dir.join(b), format!("#!/bin/sh\necho {b}\n")).unwrap();
        }
    }

    #[test]
    fn the_copy_is_0755_holds_every_phase_and_is_shared() {
        let src = tempfile::tempdir().unwrap();
        fake_lifecycle(src.path());
        let base = tempfile::tempdir().unwrap();
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let a = copy_lifecycle(src.path(), base.path()).unwrap();
        let mode = std::fs::metadata(&a).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o755, "{}", a.display());
        for p in PHASES {
            assert_eq!(
                std::fs::read_link(a.join(p)).unwrap(),
                Path::new("lifecycle")
            );
        }
        assert_eq!(copy_lifecycle(src.path(), base.path()).unwrap(), a);
        // A rebuilt lifecycle is another copy.
        std::fs::write(src.path().join("launcher"), "new").unwrap();
        assert_ne!(copy_lifecycle(src.path(), base.path()).unwrap(), a);
    }

    #[test]
    fn a_temp_dir_others_cannot_enter_is_named_with_the_fix() {
        let src = tempfile::tempdir().unwrap();
        fake_lifecycle(src.path());
        let base = tempfile::tempdir().unwrap();
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = copy_lifecycle(src.path(), base.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not let other users through"), "{err}");
        assert!(err.contains(&base.path().display().to_string()), "{err}");
        assert!(err.contains("set TMPDIR"), "{err}");
    }

    #[test]
    fn a_missing_lifecycle_names_setup() {
        let src = tempfile::tempdir().unwrap();
        let err = copy_lifecycle(src.path(), src.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("scripts/setup.sh"), "{err}");
    }
}
