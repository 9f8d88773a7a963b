//! The `rm` shim. Skaffold deletes synced files with exactly `rm -rf --
//! DEST…`; for that form we delete ourselves and then tell the supervisor.
//! Any other invocation goes unchanged to the image's own `rm`; without one
//! it is a usage error (exit 2) that touches nothing.
//!
//! The shim must never do more than GNU rm would, so before touching
//! anything every operand is checked the way coreutils checks it:
//!
//! - an empty operand is refused (GNU: "cannot remove ''");
//! - an operand whose last component is `.` or `..`, trailing slashes
//!   ignored (`.`, `/..`, `dir/..`, `dir/./`), is refused — GNU rm refuses
//!   these unconditionally, and they name the parent or the directory
//!   itself, e.g. `/workspace/..` is `/`;
//! - an operand that *is* `/` (same device and inode as `/`, e.g. `/`, `//`)
//!   is refused, as by GNU's default `--preserve-root`. Like GNU rm we stat
//!   the operand as given without following a final symlink, so a link to
//!   `/` is merely unlinked, while `link/` (the trailing slash makes the
//!   kernel follow it) is refused.
//!
//! Where GNU rm skips a bad operand, removes the others and exits 1, we
//! remove **nothing** when any operand is refused: the supervisor is told a
//! sync happened only when the whole call succeeds, and a partial delete
//! that still fails would leave the app with files gone and no reload. So
//! a refused call prints one line per refused operand and exits 2 (the
//! shims' "refused, nothing touched" status, as for the tar shim); we are
//! stricter than GNU rm, never looser.
//!
//! Removal itself never follows symlinks (a link is unlinked, not its
//! target) and missing paths are fine, as with `-f`.

use crate::protocol::Session;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub fn is_skaffold_form(args: &[OsString]) -> bool {
    args.len() >= 3 && args[0] == "-rf" && args[1] == "--"
}

/// Why an operand of Skaffold's form is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `''`: names nothing.
    Empty,
    /// The last component is `.` or `..` (the one held here): the
    /// directory itself or its parent, e.g. `/workspace/..` is `/`.
    LastComponent(&'static str),
    /// The operand is the root directory.
    Root,
}

impl Refusal {
    fn reason(self) -> String {
        match self {
            Refusal::Empty => "it is empty and names no file (GNU rm refuses it too)".into(),
            Refusal::LastComponent(c) => {
                format!("its last component is '{c}' (GNU rm refuses it too)")
            }
            Refusal::Root => {
                "it is the root directory '/' (GNU rm refuses it with --preserve-root)".into()
            }
        }
    }
}

/// The checks that need no file system: empty, or a last component of `.`
/// or `..` once trailing slashes are stripped (as coreutils'
/// `strip_trailing_slashes` + `last_component` + `dot_or_dotdot`).
/// `Path::components` is not used on purpose: it drops `.` components, so
/// it would see `dir/.` as `dir`.
pub fn refusal(operand: &OsStr) -> Option<Refusal> {
    let bytes = operand.as_bytes();
    if bytes.is_empty() {
        return Some(Refusal::Empty);
    }
    let end = bytes.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let trimmed = &bytes[..end];
    let last = match trimmed.iter().rposition(|&b| b == b'/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    };
    match last {
        b"." => Some(Refusal::LastComponent(".")),
        b".." => Some(Refusal::LastComponent("..")),
        _ => None,
    }
}

/// `true` when `operand`, stat'ed as given (a final symlink not followed
/// unless a trailing slash makes the kernel follow it), is `/` itself:
/// same device and inode, GNU's `--preserve-root` test. A path that cannot
/// be stat'ed is not `/` (and a missing one is fine with `-f`).
fn is_root(operand: &Path) -> bool {
    match (std::fs::symlink_metadata(operand), std::fs::metadata("/")) {
        (Ok(m), Ok(root)) => m.dev() == root.dev() && m.ino() == root.ino(),
        _ => false,
    }
}

/// Every check for one operand, in GNU rm's order.
pub(crate) fn check(operand: &OsStr) -> Option<Refusal> {
    refusal(operand).or_else(|| is_root(Path::new(operand)).then_some(Refusal::Root))
}

pub(crate) fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}

pub fn run(args: &[OsString]) -> i32 {
    if !is_skaffold_form(args) {
        return if let Some(tool) = crate::delegate::image_tool("rm") {
            let e = crate::delegate::exec(&tool, "rm", args);
            eprintln!("filesync rm: running {}: {e}", tool.display());
            126
        } else {
            eprintln!("filesync rm: this image has no rm of its own; only Skaffold's form is supported: rm -rf -- PATH...");
            2
        };
    }
    let paths = &args[2..];
    let mut refused = false;
    for p in paths {
        if let Some(r) = check(p) {
            eprintln!(
                "filesync rm: refusing to remove '{}': {}; nothing was removed",
                Path::new(p).display(),
                r.reason()
            );
            refused = true;
        }
    }
    if refused {
        return 2;
    }
    let session = Session::begin();
    let mut status = 0;
    for p in paths {
        if let Err(e) = remove(Path::new(p)) {
            eprintln!("filesync rm: {}: {e}", Path::new(p).display());
            status = 1;
        }
    }
    if status == 0 {
        // Reload first, record before the exec returns (see the tar shim).
        session.end(paths.len(), "rm");
        crate::record::keep_rm(crate::record::Settings::from_env().as_ref(), paths);
        crate::log!("rm: {} path(s) removed", paths.len());
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Option<Refusal> {
        refusal(OsStr::new(s))
    }

    #[test]
    fn empty_is_refused() {
        assert_eq!(r(""), Some(Refusal::Empty));
    }

    #[test]
    fn a_last_component_of_dot_or_dotdot_is_refused() {
        for s in [
            ".",
            "..",
            "./",
            "../",
            ".//",
            "/.",
            "/..",
            "/./",
            "/../",
            "/workspace/.",
            "/workspace/..",
            "/workspace/../..",
            "/workspace/./",
            "/workspace/..//",
            "foo/.",
            "foo/../",
        ] {
            let last = if s.trim_end_matches('/').ends_with("..") {
                ".."
            } else {
                "."
            };
            assert_eq!(r(s), Some(Refusal::LastComponent(last)), "{s:?}");
        }
    }

    #[test]
    fn names_that_merely_contain_dots_are_not_refused_here() {
        for s in [
            "/",
            "//",
            "/workspace/a.js",
            "/workspace/.env",
            "/workspace/..x",
            "/workspace/...",
            "/workspace/x.",
            ".hidden",
            "/workspace/../a.js", // `..` not last: GNU rm allows it
            "/workspace/./a.js",
        ] {
            assert_eq!(r(s), None, "{s:?}");
        }
    }

    #[test]
    fn the_root_is_refused_by_device_and_inode() {
        for s in ["/", "//", "///", "/./"] {
            assert!(check(OsStr::new(s)).is_some(), "{s:?}");
        }
        assert_eq!(check(OsStr::new("//")), Some(Refusal::Root));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check(dir.path().as_os_str()), None);
        assert_eq!(check(dir.path().join("missing").as_os_str()), None);
        // A symlink to `/` is only unlinked (GNU rm never follows it)...
        let link = dir.path().join("root-link");
        std::os::unix::fs::symlink("/", &link).unwrap();
        assert_eq!(check(link.as_os_str()), None);
        // ...but with a trailing slash the kernel follows it: that is `/`.
        let mut slash = link.into_os_string();
        slash.push("/");
        assert_eq!(check(&slash), Some(Refusal::Root));
    }

    #[test]
    fn only_the_exact_skaffold_form_is_ours() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(is_skaffold_form(&a(&["-rf", "--", "/x"])));
        assert!(!is_skaffold_form(&a(&["-rf", "--"])));
        assert!(!is_skaffold_form(&a(&["-fr", "--", "/x"])));
        assert!(!is_skaffold_form(&a(&["-rf", "/x"])));
    }
}
