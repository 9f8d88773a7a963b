//! The restart record with the real binary (issue 23): the shims record a
//! sync, the supervisor is stopped the way `kubectl exec POD -- kill 1`
//! stops it, the app dir goes back to the image's files (a new container
//! from the image), and the next supervisor starts the app on the synced
//! files; a record of another build is discarded. Waits on events only.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A shim run the way `kubectl exec` runs it: the container's env, which
/// includes the launcher's `FILESYNC_CONFIG` and the record directory.
fn shim_with_record(sb: &Sandbox, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("FILESYNC_SOCKET", sb.path("sock"))
        .env("FILESYNC_CONFIG", sb.path("cfg.toml"))
        .env("FILESYNC_RECORD_DIR", sb.path("shm/filesync"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// The image's files, as a new container has them.
fn image_files(app: &Path) {
    std::fs::write(app.join("a.js"), "v1").unwrap();
    std::fs::write(app.join("gone.js"), "image").unwrap();
}

/// Each start of the app appends what it sees: a.js, and whether gone.js
/// is there.
const APP: &str =
    "echo \"$(cat a.js)$(test -e gone.js && echo +gone)\" >> ../starts; exec sleep 60";

fn starts(sb: &Sandbox) -> Vec<String> {
    std::fs::read_to_string(sb.path("starts"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn wait_starts(sb: &Sandbox, n: usize) -> Vec<String> {
    assert!(
        wait_until(Duration::from_secs(20), || starts(sb).len() >= n),
        "waited for start {n}: {:?}\n{}",
        starts(sb),
        sb.log()
    );
    starts(sb)
}

fn supervise(sb: &Sandbox) -> std::process::Child {
    let record = sb.path("shm/filesync");
    sb.supervise_with(
        &["sh", "-c", APP],
        &[("FILESYNC_RECORD_DIR", record.to_str().unwrap())],
    )
}

#[test]
fn a_restarted_container_starts_the_app_on_the_recorded_sync_and_a_new_build_does_not() {
    let sb = Sandbox::with_config("kind = \"restart\"", "build_id = \"build-1\"");
    std::fs::create_dir_all(sb.path("shm")).unwrap();
    image_files(&sb.app());
    let child = supervise(&sb);
    assert_eq!(wait_starts(&sb, 1)[0], "v1+gone");
    sb.socket_ready();
    let out = shim_with_record(
        &sb,
        &["tar", "xmf", "-", "-C", "/", "--no-same-owner"],
        &stream(&[(sb.app().join("a.js"), b"v2".to_vec())]),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(wait_starts(&sb, 2)[1], "v2+gone");
    let gone = sb.app().join("gone.js");
    let out = shim_with_record(&sb, &["rm", "-rf", "--", gone.to_str().unwrap()], b"");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(wait_starts(&sb, 3)[2], "v2");

    // `kill 1`: TERM to the supervisor; then a new container: the image's
    // files again, the pod's /dev/shm kept.
    let (code, log) = sb.stop(child);
    assert!(code.is_some(), "{log}");
    image_files(&sb.app());
    let child = supervise(&sb);
    assert_eq!(wait_starts(&sb, 4)[3], "v2", "{}", sb.log());
    sb.expect_log(
        "restored 1 file(s) and 1 deletion(s) synced before this container restarted (2 batch(es)",
        1,
        Duration::from_secs(5),
    );
    let (_, _) = sb.stop(child);

    // A rebuilt image (a new build id) on the same /dev/shm.
    let cfg = std::fs::read_to_string(sb.path("cfg.toml")).unwrap();
    std::fs::write(sb.path("cfg.toml"), cfg.replace("build-1", "build-2")).unwrap();
    image_files(&sb.app());
    let child = supervise(&sb);
    assert_eq!(wait_starts(&sb, 5)[4], "v1+gone", "{}", sb.log());
    sb.expect_log(
        "discarded 1 restart record(s) of another build",
        1,
        Duration::from_secs(5),
    );
    let (_, log) = sb.stop(child);
    assert!(!log.contains("restored"), "{log}");
}
