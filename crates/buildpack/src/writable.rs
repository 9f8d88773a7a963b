//! Makes the app tree writable by whichever user the container runs as.
//!
//! Skaffold syncs into the running container as the container's user, but
//! the exporter gives the app's files to the build: under Skaffold (pack as
//! a library with `UserID` 0, so `-uid 0`) they are owned by root; under
//! `pack build` on Paketo's jammy stacks by the build user 1001, while the
//! run user is 1002 (gid 1000 shared, files 0644, directories 0755). Either
//! way the run user cannot replace a file, and the first sync fails with
//! "Permission denied". The exporter keeps permission bits but not owners,
//! so the only change that works for every uid is in the bits: in dev
//! builds, every directory of the app becomes 0777 and every file gains
//! write for all (executables keep their execute bits). Symlinks are left
//! alone (their bits mean nothing). Production builds never get here: the
//! buildpack does not pass detection without the trigger.
//!
//! The trade-off (stated in SECURITY.md): inside a dev container any user
//! may change the app's files, which is what a dev loop that syncs files
//! into it needs.

use crate::errors::BuildpackError;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Bits added to directories: create, rename and delete entries for all.
const DIR_BITS: u32 = 0o777;
/// Bits added to regular files: read and write for all.
const FILE_BITS: u32 = 0o666;

/// Makes the app dir writable for the run user (dev images only), saying
/// how many entries changed.
pub(crate) fn open_app_dir(app_dir: &Path) -> Result<(), BuildpackError> {
    let opened = make_tree_writable(app_dir).map_err(|source| BuildpackError::Writable {
        dir: app_dir.to_path_buf(),
        source,
    })?;
    println!(
        "[skaffold-filesync] app files writable by the run user (dev image only): {opened} entries changed"
    );
    Ok(())
}

/// Adds write permission for everyone to every directory and regular file
/// under `root` (and `root` itself), without following symlinks. Returns
/// how many entries were changed.
pub(crate) fn make_tree_writable(root: &Path) -> io::Result<usize> {
    let mut changed = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        let kind = meta.file_type();
        let add = if kind.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
            DIR_BITS
        } else if kind.is_file() {
            FILE_BITS
        } else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & add != add {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode | add))?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn directories_and_files_become_writable_for_all_and_executables_stay_executable() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        std::fs::create_dir_all(root.join("lib/deep")).unwrap();
        std::fs::write(root.join("server.js"), "x").unwrap();
        std::fs::write(root.join("lib/deep/run.sh"), "x").unwrap();
        std::fs::set_permissions(
            root.join("server.js"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        std::fs::set_permissions(
            root.join("lib/deep/run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        for d in ["lib/deep", "lib", ""] {
            std::fs::set_permissions(root.join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
        let link_before = mode(&root.join("link"));

        let changed = make_tree_writable(&root).unwrap();

        assert_eq!(changed, 5, "3 directories and 2 files");
        assert_eq!(mode(&root), 0o777);
        assert_eq!(mode(&root.join("lib/deep")), 0o777);
        assert_eq!(mode(&root.join("server.js")), 0o666);
        assert_eq!(mode(&root.join("lib/deep/run.sh")), 0o777);
        assert_eq!(mode(&root.join("link")), link_before, "symlinks untouched");
        assert_eq!(
            mode(Path::new("/etc/passwd")) & 0o002,
            0,
            "a symlink's target is never changed"
        );
        assert_eq!(make_tree_writable(&root).unwrap(), 0, "idempotent");
    }

    /// npm-install's `/workspace/node_modules` is a link to its launch layer:
    /// the step must neither follow it (the dependency tree stays as the
    /// build made it, and is not walked) nor replace it.
    #[test]
    fn a_linked_dependency_tree_is_neither_followed_nor_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let layer = dir
            .path()
            .join("layers/e2e_node/launch-modules/node_modules");
        std::fs::create_dir_all(layer.join("express/lib")).unwrap();
        std::fs::write(layer.join("express/index.js"), "x").unwrap();
        for (p, m) in [
            ("express/index.js", 0o644),
            ("express/lib", 0o755),
            ("express", 0o755),
        ] {
            std::fs::set_permissions(layer.join(p), std::fs::Permissions::from_mode(m)).unwrap();
        }
        let app = dir.path().join("workspace");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("server.js"), "x").unwrap();
        std::os::unix::fs::symlink(&layer, app.join("node_modules")).unwrap();

        let changed = make_tree_writable(&app).unwrap();

        assert_eq!(changed, 2, "the app dir and server.js only");
        assert_eq!(std::fs::read_link(app.join("node_modules")).unwrap(), layer);
        assert_eq!(mode(&layer.join("express/index.js")), 0o644);
        assert_eq!(mode(&layer.join("express/lib")), 0o755);
    }
}
