//! The tar and rm shims with real files and
//! Skaffold's batches through them: copies (`tar`) first, then deletions
//! (`rm`), optionally ended by the after-sync hook (`filesync sync-done`).

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tar entry: its header and its data.
type Entry = (tar::Header, Vec<u8>);

fn entry(name: &str, kind: tar::EntryType, data: &[u8], link: Option<&str>) -> Entry {
    let h = filesync_e2e::skaffold_tar::header(name, kind, data.len() as u64, link);
    (h, data.to_vec())
}

fn raw_stream(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (h, d) in entries {
        b.append(h, d.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    // The helper items sit beside the one step that uses them.
    #[allow(clippy::items_after_statements)]
    fn walk(d: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                walk(&p, root, out);
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Tar streams that each try to write outside `app`, with what they try.
fn escaping_cases(app: &Path) -> Vec<(&'static str, Vec<Entry>)> {
    let ok = format!("{}/ok.js", app.display());
    vec![
        (
            "dot-dot",
            vec![
                entry(&ok, tar::EntryType::Regular, b"ok", None),
                entry(
                    &format!("{}/../../evil", app.display()),
                    tar::EntryType::Regular,
                    b"x",
                    None,
                ),
            ],
        ),
        (
            "absolute symlink",
            vec![entry(
                &format!("{}/l", app.display()),
                tar::EntryType::Symlink,
                b"",
                Some("/etc"),
            )],
        ),
        (
            "symlink then a file through it",
            vec![
                entry(
                    &format!("{}/sub", app.display()),
                    tar::EntryType::Directory,
                    b"",
                    None,
                ),
                entry(
                    &format!("{}/l", app.display()),
                    tar::EntryType::Symlink,
                    b"",
                    Some("sub"),
                ),
                entry(
                    &format!("{}/l/f", app.display()),
                    tar::EntryType::Regular,
                    b"x",
                    None,
                ),
            ],
        ),
        (
            "hard link",
            vec![entry(
                &format!("{}/h", app.display()),
                tar::EntryType::Link,
                b"",
                Some("/etc/passwd"),
            )],
        ),
    ]
}

#[test]
fn entries_escaping_the_target_are_refused_and_nothing_is_written() {
    let sb = Sandbox::new("kind = \"restart\"");
    let app = sb.app();
    let before = tree(sb.dir.path());
    let cases = escaping_cases(&app);
    for (what, entries) in cases {
        let out = sb.tar(&raw_stream(&entries));
        assert_eq!(out.status.code(), Some(2), "{what}: must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("refusing") && err.contains("no file was changed"),
            "{what}: {err}"
        );
        assert_eq!(
            tree(sb.dir.path()),
            before,
            "{what}: the file system changed"
        );
    }
    // An existing symlink on disk is not written through either.
    std::os::unix::fs::symlink(sb.path("outside"), app.join("link")).unwrap();
    std::fs::create_dir(sb.path("outside")).unwrap();
    let out = sb.tar(&stream(&[(app.join("link/f.js"), b"x".to_vec())]));
    assert_eq!(out.status.code(), Some(2));
    assert!(!sb.path("outside/f.js").exists());
}

#[test]
fn a_truncated_stream_changes_nothing_and_triggers_no_reload() {
    let sb = Sandbox::new("kind = \"restart\"");
    std::fs::write(sb.app().join("a.js"), "old a").unwrap();
    std::fs::write(sb.app().join("b.js"), "old b").unwrap();
    let child = sb.supervise(&["sh", "-c", "echo start >> ../starts; exec sleep 60"]);
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 1));
    let full = stream(&[
        (sb.app().join("a.js"), b"new a".to_vec()),
        (sb.app().join("b.js"), vec![b'n'; 4000]),
        (sb.app().join("c.js"), b"new c".to_vec()),
    ]);
    let cut = &full[..512 + 512 + 512 + 1000]; // inside b.js's data
    let out = sb.tar(cut);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no file was changed"));
    // Corrupt header bytes too.
    let mut corrupt = full.clone();
    corrupt[1024 + 100..1024 + 160].fill(0xff); // b.js header: mode..checksum
    let out = sb.tar(&corrupt);
    assert_ne!(out.status.code(), Some(0));
    sb.expect_log(
        "sync aborted: no file changed, no reload",
        2,
        Duration::from_secs(10),
    );
    // Nothing of the rollback reloads later on: the next reload is the
    // marker's, of its one file.
    sb.marker(1);
    assert!(wait_until(Duration::from_secs(10), || lines(
        &sb.path("starts")
    )
    .len()
        >= 2));
    let (_, log) = sb.stop(child);
    assert_eq!(
        std::fs::read_to_string(sb.app().join("a.js")).unwrap(),
        "old a"
    );
    assert_eq!(
        std::fs::read_to_string(sb.app().join("b.js")).unwrap(),
        "old b"
    );
    assert!(!sb.app().join("c.js").exists());
    let leftovers: Vec<String> = tree(&sb.app())
        .into_iter()
        .filter(|p| p.contains("filesync-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    assert_eq!(
        lines(&sb.path("starts")).len(),
        2,
        "no reload for a failed sync (the second start is the marker's):\n{log}"
    );
}

#[test]
fn other_tar_and_rm_invocations_pass_through_to_the_images_own_tools() {
    let sb = Sandbox::new("kind = \"restart\"");
    let real = Command::new("tar").arg("--version").output().unwrap();
    let ours = shim(&sb, &["tar", "--version"], b"");
    assert_eq!(ours.stdout, real.stdout, "tar --version passes through");
    let real = Command::new("tar")
        .args(["tf", "/nonexistent.tar"])
        .output()
        .unwrap();
    let ours = shim(&sb, &["tar", "tf", "/nonexistent.tar"], b"");
    assert_eq!(
        ours.status.code(),
        real.status.code(),
        "exit status passes through"
    );
    std::fs::write(sb.app().join("x"), "x").unwrap();
    let out = shim(
        &sb,
        &["rm", "-f", sb.app().join("x").to_str().unwrap()],
        b"",
    );
    assert!(out.status.success() && !sb.app().join("x").exists());
}

#[test]
fn without_image_tools_other_forms_are_usage_errors_that_touch_nothing() {
    let sb = Sandbox::new("kind = \"restart\"");
    std::fs::write(sb.app().join("keep"), "x").unwrap();
    let no_tools = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("PATH", "/nonexistent")
            .env("FILESYNC_SOCKET", sb.path("sock"))
            .output()
            .unwrap()
    };
    let out = no_tools(&["tar", "cf", "/tmp/x.tar", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tar of its own"));
    let keep = sb.app().join("keep");
    let out = no_tools(&["rm", "-f", keep.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(keep.exists());
}

/// The app: on start it records its pid, then the content of `new.js` and
/// whether the deleted files are there (`edit=… gone=…`; once that line is
/// in, the pid is too), then serves until stopped.
const RECORDING_APP: &str = "echo $$ > ../pid; printf 'edit=%s gone=%s\\n' \"$(cat new.js 2>/dev/null)\" \"$(test -e gone.js && echo present || echo absent)\" >> ../starts; exec sleep 60";

fn batch_sandbox(extra: &str) -> Sandbox {
    let sb = Sandbox::with_config("kind = \"restart\"", extra);
    std::fs::create_dir_all(sb.app().join("static/old")).unwrap();
    std::fs::write(sb.app().join("static/old/a.html"), "a").unwrap();
    std::fs::write(sb.app().join("gone.js"), "g").unwrap();
    sb
}

fn deletions(sb: &Sandbox) -> Output {
    sb.rm(&[
        &sb.app().join("static/old"),
        &sb.app().join("gone.js"),
        &sb.app().join("never-there"),
    ])
}

fn app_pid(sb: &Sandbox) -> u32 {
    std::fs::read_to_string(sb.path("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_skaffold_batch_copies_then_deletes_and_ends_on_the_final_files() {
    // No hook (docker deployer): tar reloads at once, rm reloads again.
    let sb = batch_sandbox("");
    let child = sb.supervise(&["sh", "-c", RECORDING_APP]);
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 1));
    // Skaffold's order for one batch: tar (the copies), then rm.
    let out = sb.tar(&stream(&[(sb.app().join("new.js"), b"n".to_vec())]));
    assert!(out.status.success());
    // An edit-only batch reloads at once after tar, with no added wait.
    sb.expect_log("sync: 1 file(s) -> restarted", 1, Duration::from_secs(5));
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 2));
    let before_rm = app_pid(&sb);
    let out = deletions(&sb);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Once rm has returned, the app that may still hold a deleted file is
    // gone (reaped, not merely signalled).
    assert!(
        !alive(before_rm),
        "the app started before rm still runs after rm returned"
    );
    sb.expect_log("sync: 3 file(s) -> restarted", 1, Duration::from_secs(5));
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 3));
    sb.marker(1);
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 4));
    let (_, log) = sb.stop(child);
    assert!(!sb.app().join("static/old").exists() && !sb.app().join("gone.js").exists());
    let starts = lines(&sb.path("starts"));
    assert_eq!(
        starts,
        [
            "edit= gone=present",
            "edit=n gone=present",
            "edit=n gone=absent",
            "edit=n gone=absent"
        ],
        "two restarts for the batch, the last after the deletion (then the marker's):\n{log}"
    );
    let out = shim(&sb, &["rm", "-rf", "--", "/"], b"");
    assert_eq!(out.status.code(), Some(2), "rm -rf -- / is refused");
}

#[test]
fn with_the_after_sync_hook_a_batch_restarts_once_after_the_deletion() {
    // The kubectl deployer runs `filesync sync-done` once tar and rm are done.
    let sb = batch_sandbox("batch_end = \"hook\"");
    let child = sb.supervise(&["sh", "-c", RECORDING_APP]);
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 1));
    let first = app_pid(&sb);
    let out = sb.tar(&stream(&[(sb.app().join("new.js"), b"n".to_vec())]));
    assert!(out.status.success());
    let out = deletions(&sb);
    assert!(out.status.success());
    assert!(alive(first), "tar and rm only accumulate:\n{}", sb.log());
    let out = shim(&sb, &["sync-done"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // sync-done returns once the old app is gone.
    assert!(!alive(first), "{}", sb.log());
    sb.expect_log("sync: 4 file(s) -> restarted", 1, Duration::from_secs(5));
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 2));
    let (_, log) = sb.stop(child);
    assert_eq!(
        lines(&sb.path("starts")),
        ["edit= gone=present", "edit=n gone=absent"],
        "exactly one restart, after the deletion:\n{log}"
    );
    assert!(!log.contains("no sync-done"), "{log}");
}

#[test]
fn with_the_hook_configured_but_missing_the_batch_reloads_two_seconds_later() {
    let sb = batch_sandbox("batch_end = \"hook\"");
    let child = sb.supervise(&["sh", "-c", RECORDING_APP]);
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 1));
    let out = sb.tar(&stream(&[(sb.app().join("new.js"), b"n".to_vec())]));
    assert!(out.status.success());
    let t = Instant::now();
    sb.expect_log("no sync-done within 2 s", 1, Duration::from_secs(10));
    let waited = t.elapsed();
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 2));
    let (_, log) = sb.stop(child);
    assert!(
        waited >= Duration::from_millis(1800) && waited < Duration::from_secs(5),
        "{waited:?}\n{log}"
    );
    assert_eq!(lines(&sb.path("starts"))[1], "edit=n gone=present", "{log}");
}

#[test]
fn sync_done_without_a_supervisor_is_harmless() {
    let sb = Sandbox::new("kind = \"restart\"");
    let out = shim(&sb, &["sync-done"], b"");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no supervisor listens"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
