//! The record with real files in a temp dir: bounds, atomicity, identity,
//! replay order.

use super::manifest::{Manifest, State, Written};
use super::store::Store;
use super::*;
use std::ffi::OsString;
use std::path::Path;

fn settings(base: &Path, identity: &str, limit: u64) -> Settings {
    Settings {
        base: base.join("records"),
        identity: identity.to_string(),
        limit,
    }
}

/// A Skaffold-like stream: absolute destination names.
fn stream(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(content.len() as u64);
        b.append_data(&mut h, name.trim_start_matches('/'), *content)
            .unwrap();
    }
    b.into_inner().unwrap()
}

fn keep(s: &Settings, files: &[(&str, &[u8])]) {
    let bytes = stream(files);
    let mut tee = Tee::new(&bytes[..], Some(s));
    std::io::copy(&mut tee, &mut std::io::sink()).unwrap();
    keep_tar(Some(s), &tee);
}

fn rm(s: &Settings, paths: &[&str]) {
    let ops: Vec<OsString> = paths.iter().map(OsString::from).collect();
    keep_rm(Some(s), &ops);
}

fn manifest(s: &Settings) -> Manifest {
    Store::open(&s.base, &s.identity)
        .unwrap()
        .load()
        .unwrap()
        .unwrap()
}

#[test]
fn the_record_is_final_state_bounded_by_the_files_touched() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), "b1", 1 << 20);
    for i in 0..50 {
        keep(&s, &[("/workspace/a.js", format!("v{i}").as_bytes())]);
    }
    let m = manifest(&s);
    assert_eq!(m.batches, 50);
    assert_eq!(m.written.len(), 1);
    assert_eq!(m.bytes(), 3);
    let blobs = std::fs::read_dir(s.base.join("b1/blobs")).unwrap().count();
    assert_eq!(blobs, 1, "old blobs are collected");
}

#[test]
// A test: any other variant is the failure.
#[allow(clippy::match_wildcard_for_single_variants)]
fn a_batch_over_the_limit_drops_the_record_and_later_batches_are_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), "b1", 1000);
    keep(&s, &[("/workspace/a.js", b"small")]);
    keep(&s, &[("/workspace/big.bin", &[7u8; 1500])]);
    let m = manifest(&s);
    match &m.state {
        State::Dropped { reason } => {
            assert!(reason.contains("over the record's limit"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(m.written.is_empty());
    keep(&s, &[("/workspace/a.js", b"later")]);
    assert!(matches!(manifest(&s).state, State::Dropped { .. }));
    let root = tempfile::tempdir().unwrap();
    assert_eq!(restore(&s, root.path()), None);
    assert!(!root.path().join("workspace").exists());
}

#[test]
fn a_stream_far_over_the_limit_is_not_even_buffered() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), "b1", 1);
    let big = vec![1u8; 3 << 20];
    keep(&s, &[("/workspace/huge", &big)]);
    assert!(matches!(manifest(&s).state, State::Dropped { .. }));
}

#[test]
fn a_crash_before_the_manifest_rename_leaves_the_previous_batch_whole() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), "b1", 1 << 20);
    keep(
        &s,
        &[("/workspace/a.js", b"v1"), ("/workspace/b.js", b"v1")],
    );
    let before = manifest(&s);
    // What a crash mid-batch leaves: new blobs and a half-written temp
    // manifest, never a changed manifest.json.
    let store = Store::open(&s.base, "b1").unwrap();
    store.put_blob("99", b"half of v2").unwrap();
    std::fs::write(store.dir.join(".manifest.json.1.tmp"), b"{\"ident").unwrap();
    assert_eq!(manifest(&s), before);
    let root = tempfile::tempdir().unwrap();
    restore(&s, root.path()).unwrap();
    assert_eq!(
        std::fs::read(root.path().join("workspace/a.js")).unwrap(),
        b"v1"
    );
    // The next commit collects the stray blob.
    keep(&s, &[("/workspace/a.js", b"v2")]);
    assert!(!store.blob_path("99").exists());
}

#[test]
fn a_record_of_another_build_is_discarded_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let old = settings(dir.path(), "old-build", 1 << 20);
    keep(&old, &[("/workspace/a.js", b"old")]);
    let new = settings(dir.path(), "new-build", 1 << 20);
    let root = tempfile::tempdir().unwrap();
    assert_eq!(restore(&new, root.path()), None);
    assert!(!root.path().join("workspace/a.js").exists());
    assert!(!old.base.join("old-build").exists(), "discarded");
    // A manifest that names another build (copied, renamed) is not
    // replayed either.
    keep(&old, &[("/workspace/a.js", b"old")]);
    std::fs::rename(old.base.join("old-build"), old.base.join("new-build")).unwrap();
    assert_eq!(restore(&new, root.path()), None);
    assert!(!root.path().join("workspace/a.js").exists());
}

#[test]
fn replay_deletes_first_then_writes_the_latest_content() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), "b1", 1 << 20);
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // The image's files.
    for f in [
        "workspace/lib/old.js",
        "workspace/gone.js",
        "workspace/kept.js",
    ] {
        std::fs::create_dir_all(r.join(f).parent().unwrap()).unwrap();
        std::fs::write(r.join(f), "image").unwrap();
    }
    keep(
        &s,
        &[("/workspace/lib/x.js", b"x1"), ("/workspace/tmp.js", b"t")],
    );
    rm(&s, &["/workspace/lib", "/workspace/tmp.js"]); // removes both writes
    keep(&s, &[("/workspace/lib/new.js", b"n1")]); // lib recreated after
    rm(&s, &["/workspace/gone.js"]);
    keep(&s, &[("/workspace/gone.js", b"back")]); // same path, written last
    keep(&s, &[("/workspace/lib/new.js", b"n2")]);
    let m = manifest(&s);
    assert_eq!(
        m.deleted.iter().cloned().collect::<Vec<_>>(),
        ["/workspace/gone.js", "/workspace/lib", "/workspace/tmp.js"]
    );
    assert_eq!(m.files(), 2);
    let restored = restore(&s, r).unwrap();
    assert_eq!((restored.files, restored.deletions), (2, 3));
    let read = |f: &str| std::fs::read_to_string(r.join(f)).ok();
    assert_eq!(read("workspace/lib/new.js").as_deref(), Some("n2"));
    assert_eq!(read("workspace/lib/old.js"), None, "lib was deleted");
    assert_eq!(read("workspace/lib/x.js"), None);
    assert_eq!(read("workspace/gone.js").as_deref(), Some("back"));
    assert_eq!(read("workspace/kept.js").as_deref(), Some("image"));
    // A second restart replays the same state.
    restore(&s, r).unwrap();
    assert_eq!(read("workspace/lib/new.js").as_deref(), Some("n2"));
}

#[test]
fn replay_keeps_the_tar_shims_safety_rules() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), "b1", 1 << 20);
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    // A record edited to write through a symlink the image has.
    std::fs::create_dir_all(root.path().join("workspace")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("workspace/link")).unwrap();
    keep(
        &s,
        &[
            ("/workspace/link/evil.js", b"x"),
            ("/workspace/ok.js", b"ok"),
        ],
    );
    assert_eq!(restore(&s, root.path()), None);
    assert!(!outside.path().join("evil.js").exists());
    assert!(
        !root.path().join("workspace/ok.js").exists(),
        "all or nothing"
    );
}

#[test]
fn deletions_nest_and_a_deleted_parent_covers_its_children() {
    let mut m = Manifest::new("b");
    m.write("/w/a/x", Written::Dir { mode: 0o755 });
    m.write("/w/ab", Written::Dir { mode: 0o755 });
    m.delete("/w/a/x/y");
    m.delete("/w/a");
    assert_eq!(m.deleted.iter().cloned().collect::<Vec<_>>(), ["/w/a"]);
    assert_eq!(m.written.keys().cloned().collect::<Vec<_>>(), ["/w/ab"]);
    m.delete("/w/a/z");
    assert_eq!(m.deleted.len(), 1);
}

#[test]
fn settings_limits_and_identities() {
    assert_eq!(limit_from(None), 16 << 20);
    assert_eq!(limit_from(Some(" ")), 16 << 20);
    assert_eq!(limit_from(Some("2")), 2 << 20);
    assert_eq!(limit_from(Some("lots")), 16 << 20);
    assert!(valid_identity("0f3a-9b"));
    for bad in ["", "..", "a/b", "a b", &"x".repeat(65)] {
        assert!(!valid_identity(bad), "{bad:?}");
    }
    assert_eq!(
        when(86_400 + 3_723, 86_400 + 3_733),
        "01:02:03 UTC, 10 s ago"
    );
}

#[test]
fn a_non_absolute_rm_operand_drops_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), "b1", 1 << 20);
    keep(&s, &[("/workspace/a.js", b"v1")]);
    rm(&s, &["/workspace/../etc/x"]);
    assert!(matches!(manifest(&s).state, State::Dropped { .. }));
}
