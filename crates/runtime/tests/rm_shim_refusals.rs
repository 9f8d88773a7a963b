//! The rm shim in Skaffold's form (`rm -rf -- PATHS`) refuses what GNU rm
//! refuses (`.`/`..` as last component, `/` itself) and then removes
//! nothing at all.
//!
//! These operands name the real `/` when they are not refused, so the real
//! binary only ever runs inside a throwaway root: the released static
//! `filesync` (`scripts/release.sh`, through the e2e harness; the host
//! build is dynamic and would find no libc there) is copied into a temp dir and run with `unshare --root=DIR --wd=/workspace`
//! (util-linux; chroot + chdir, no namespace needed as root). `/filesync`
//! exists only inside that root, so the shim cannot run outside it, and
//! every `Root` first proves the confinement works by removing a probe file
//! that exists only in the temp root.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A throwaway root: `/filesync`, `/canary`, `/workspace/{a.js,keep.txt}`.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        let dir = tempfile::tempdir().unwrap();
        let root = Root { dir };
        std::fs::create_dir(root.path("workspace")).unwrap();
        for f in [
            "canary",
            "workspace/a.js",
            "workspace/keep.txt",
            "workspace/probe",
        ] {
            std::fs::write(root.path(f), f).unwrap();
        }
        // A hard link, not a copy: a copy's write descriptor, inherited by
        // a process another test forks meanwhile, makes exec fail with
        // "Text file busy" (ETXTBSY).
        let binary = filesync_e2e::release::Release::get().binary();
        std::fs::hard_link(&binary, root.path("filesync"))
            .or_else(|_| std::fs::copy(&binary, root.path("filesync")).map(|_| ()))
            .unwrap();
        // Confinement check: must succeed, and must act on the temp root.
        let out = root.rm(&["/workspace/probe"]);
        assert!(
            out.status.success() && !root.path("workspace/probe").exists(),
            "the throwaway root does not work (unshare --root as root is required): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(root.intact());
        root
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `filesync rm -rf -- OPERANDS…` with `/` = this root, cwd `/workspace`.
    fn rm(&self, operands: &[&str]) -> Output {
        Command::new("unshare")
            .arg(format!("--root={}", self.dir.path().display()))
            .arg("--wd=/workspace")
            .arg("/filesync")
            .args(["rm", "-rf", "--"])
            .args(operands)
            .env("FILESYNC_SOCKET", "/nonexistent.sock")
            .output()
            .expect("running unshare")
    }

    fn intact(&self) -> bool {
        ["filesync", "canary", "workspace/a.js", "workspace/keep.txt"]
            .iter()
            .all(|f| self.path(f).exists())
    }
}

fn assert_refused(root: &Root, operands: &[&str], refused: &[&str]) {
    let out = root.rm(operands);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{operands:?} must fail: {err}");
    assert!(root.intact(), "{operands:?} removed something: {err}");
    for op in refused {
        assert!(
            err.contains(&format!("refusing to remove '{op}'"))
                && err.contains("nothing was removed"),
            "{operands:?}: no refusal line for {op:?}: {err}"
        );
    }
}

#[test]
fn dot_dotdot_and_root_operands_are_refused_and_nothing_is_removed() {
    let root = Root::new();
    for op in [
        "/..",
        "/workspace/..",
        "/workspace/../..",
        ".",
        "..",
        "/workspace/.",
        "//",
        "/",
        "/./",
        "/workspace/../",
        "./",
        "",
    ] {
        assert_refused(&root, &[op], &[op]);
    }
}

#[test]
fn one_refused_operand_means_no_operand_is_removed() {
    let root = Root::new();
    assert_refused(
        &root,
        &[
            "/workspace/a.js",
            "/workspace/..",
            "/workspace/keep.txt",
            ".",
        ],
        &["/workspace/..", "."],
    );
    assert_eq!(root.rm(&["/workspace/a.js", "//"]).status.code(), Some(2));
    assert!(root.intact());
}

#[test]
fn a_symlink_to_root_is_unlinked_never_followed() {
    let root = Root::new();
    let link = root.path("workspace/root-link");
    std::os::unix::fs::symlink("/", &link).unwrap();
    // The trailing slash makes the kernel follow it: that is `/`, refused.
    assert_refused(
        &root,
        &["/workspace/root-link/"],
        &["/workspace/root-link/"],
    );
    assert!(link.symlink_metadata().is_ok());
    // Without it, GNU rm removes the link itself; so do we.
    let out = root.rm(&["/workspace/root-link"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(link.symlink_metadata().is_err() && root.intact());
}

#[test]
fn skaffold_deletes_still_work_and_missing_paths_are_fine() {
    let root = Root::new();
    let out = root.rm(&["/workspace/a.js", "/workspace/missing.js"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!root.path("workspace/a.js").exists());
    assert!(root.path("workspace/keep.txt").exists() && root.path("canary").exists());
    assert!(Path::new(&root.path("filesync")).exists());
}
