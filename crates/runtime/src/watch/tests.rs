//! Tests of [`super`] (`watch.rs`).

use super::*;

#[test]
fn the_gate_is_closed_from_begin_to_the_sentinel() {
    let d = tempfile::tempdir().unwrap();
    let gate = Gate::new(Some(d.path().to_path_buf()));
    assert!(gate.admits());
    gate.session_began();
    gate.session_began();
    assert!(!gate.admits());
    gate.session_ended();
    assert!(!gate.admits(), "one session still open");
    assert_eq!(gate.sentinels.load(Ordering::SeqCst), 0);
    gate.session_ended();
    assert!(!gate.admits(), "until the sentinel is seen");
    assert_eq!(gate.sentinels.load(Ordering::SeqCst), 1);
    let sentinel = Event::new(EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)))
        .add_path(d.path().to_path_buf());
    assert!(gate.is_sentinel(&sentinel, d.path()));
    gate.sentinel_seen();
    assert!(gate.admits());
    assert!(!gate.is_sentinel(&sentinel, d.path()), "none pending");
}

#[test]
fn without_a_sentinel_a_quiet_window_follows_the_session() {
    let gate = Gate::new(Some(PathBuf::from("/nonexistent/app")));
    gate.session_began();
    gate.session_ended();
    assert!(!gate.admits());
    assert_eq!(gate.sentinels.load(Ordering::SeqCst), 0);
    let end = Instant::now() + QUIET_AFTER_SYNC + Duration::from_millis(50);
    while Instant::now() < end && !gate.admits() {
        std::thread::yield_now();
    }
    assert!(gate.admits(), "open again after the quiet window");
}

#[test]
fn an_unmatched_end_does_not_underflow() {
    let gate = Gate::new(None);
    gate.session_ended();
    assert!(!gate.session_open());
    assert!(gate.admits());
    gate.session_began();
    assert!(gate.session_open());
}

/// The shim's own events are dropped, a later edit is not, with a real
/// watcher on a real directory.
#[test]
fn a_real_watcher_drops_the_sessions_events_and_reports_later_ones() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().to_path_buf();
    let plan: Plan = toml::from_str(&format!(
        "family = \"node\"\napp_dir = \"{}\"\nignore = []\n[action]\nkind = \"restart\"\n[[rules]]\nsrc = \"**/*\"\ndest = \".\"\n",
        root.display()
    ))
    .unwrap();
    let gate = Gate::new(Some(root.clone()));
    let (tx, rx) = channel();
    start(root.clone(), &plan, gate.clone(), move |rel| {
        tx.send(rel).is_ok()
    })
    .unwrap();
    gate.session_began();
    std::fs::create_dir(root.join("new")).unwrap();
    for i in 0..200 {
        std::fs::write(root.join(format!("new/f{i}.js")), "v2").unwrap();
    }
    std::fs::remove_file(root.join("new/f0.js")).unwrap();
    gate.session_ended();
    std::fs::write(root.join("edit.js"), "mine").unwrap();
    let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(
        first, "edit.js",
        "the first event through is the later edit"
    );
    // The new directory is watched (added while the session was open,
    // by the watcher's thread: written again until it is seen).
    let mut got = Vec::new();
    for _ in 0..10 {
        std::fs::write(root.join("new/later.js"), "x").unwrap();
        got.extend(std::iter::from_fn(|| {
            rx.recv_timeout(Duration::from_millis(300)).ok()
        }));
        if got.iter().any(|r| r == "new/later.js") {
            break;
        }
    }
    assert!(
        got.iter().all(|r| r == "edit.js" || r == "new/later.js"),
        "{got:?}"
    );
    assert!(got.iter().any(|r| r == "new/later.js"), "{got:?}");
}
