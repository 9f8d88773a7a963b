//! Tests of [`super`] (`protocol.rs`).

use super::*;
use std::sync::mpsc::channel;

#[test]
fn fallbacks_are_private_directories_after_the_configured_path() {
    let c = candidates(Path::new("/tmp/x.sock"));
    assert_eq!(c[0].path, Path::new("/tmp/x.sock"));
    assert_eq!(c[0].private_dir, None);
    let uid = nix::unistd::getuid();
    let last = c.last().unwrap();
    assert_eq!(
        last.path,
        PathBuf::from(format!("/dev/shm/filesync-{uid}/filesync.sock"))
    );
    assert!(c[1..].iter().all(|c| c.private_dir.is_some()));
}

#[test]
fn an_unusable_path_falls_back_to_a_private_0700_directory() {
    let d = tempfile::tempdir().unwrap();
    let private = d.path().join("filesync-test");
    let cands = vec![
        Candidate {
            path: d.path().join("missing-dir/x.sock"),
            private_dir: None,
        },
        Candidate {
            path: private.join("filesync.sock"),
            private_dir: Some(private.clone()),
        },
    ];
    let (tx, rx) = channel();
    let got = listen(&cands, Gate::new(None), move |e| tx.send(e).is_ok()).unwrap();
    assert_eq!(got, private.join("filesync.sock"));
    let dir_meta = std::fs::metadata(&private).unwrap();
    assert_eq!(dir_meta.mode() & 0o777, 0o700);
    let sock_meta = std::fs::metadata(&got).unwrap();
    assert_eq!(sock_meta.mode() & 0o777, 0o600);
    // A session through it.
    let mut c = UnixStream::connect(&got).unwrap();
    c.write_all(b"begin\n").unwrap();
    assert_eq!(read_line(&c, Duration::from_secs(5)).unwrap(), "ok\n");
    assert!(matches!(rx.recv().unwrap(), ShimEvent::Begin(_)));
    c.write_all(b"end 3 rm\n").unwrap();
    match rx.recv().unwrap() {
        ShimEvent::End {
            files, tool, reply, ..
        } => {
            assert_eq!((files, tool.as_str()), (3, "rm"));
            reply.send();
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(read_line(&c, Duration::from_secs(5)).unwrap(), "ok\n");
}

#[test]
fn a_directory_that_is_not_private_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let open = d.path().join("filesync-open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let cands = vec![Candidate {
        path: open.join("filesync.sock"),
        private_dir: Some(open.clone()),
    }];
    let errors = listen(&cands, Gate::new(None), |_| true).unwrap_err();
    assert!(
        errors.tried[0]
            .1
            .to_string()
            .contains("not a private directory"),
        "{errors:?}"
    );
    assert!(!open.join("filesync.sock").exists());
}

#[test]
fn a_disconnect_before_end_is_an_abort_and_closes_the_gate_session() {
    let d = tempfile::tempdir().unwrap();
    let cands = vec![Candidate {
        path: d.path().join("s"),
        private_dir: None,
    }];
    let gate = Gate::new(None);
    let (tx, rx) = channel();
    let path = listen(&cands, gate.clone(), move |e| tx.send(e).is_ok()).unwrap();
    let mut c = UnixStream::connect(&path).unwrap();
    c.write_all(b"begin\n").unwrap();
    read_line(&c, Duration::from_secs(5)).unwrap();
    assert!(gate.session_open());
    drop(c);
    assert!(matches!(rx.recv().unwrap(), ShimEvent::Begin(_)));
    assert!(matches!(rx.recv().unwrap(), ShimEvent::Abort(_)));
    assert!(!gate.session_open());
}
