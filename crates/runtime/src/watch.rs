//! File-system events for changes that arrive without a shim (an editor in
//! the container, `kubectl cp`, a mounted volume). One non-recursive inotify
//! watch per directory of the app, never descending into excluded or
//! ignored directories (`node_modules`, .git, vendor, build output): those
//! can hold 100,000 files the developer never edits. New directories are
//! watched as they appear. Only paths the plan syncs are reported.
//!
//! **Dropped at the source.** A shim's own writes are no change of their
//! own (the shim's `end` reloads once for all of them), so they are
//! dropped in the watcher's callback, before any channel: while a shim
//! session is open (the [`Gate`]), every file event is dropped. Events of
//! the shim's writes may still be queued when its session ends; to know
//! where they stop, the end of the last open session touches the app
//! directory's own timestamps (a *sentinel*: inotify queues events in the
//! order they happen), and events stay dropped until the watcher sees that
//! touch. Whatever comes after it is a change of its own. Where the
//! directory cannot be touched the events of a short quiet window are
//! dropped instead. A 50,000-file sync thus sends nothing through the
//! supervisor's channels.

use crate::errors::WatchError;
use filesync_rules::manifests::is_excluded_dir;
use filesync_rules::Plan;
use notify::event::{CreateKind, MetadataKind, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the sentinel cannot be used: how long after a session's end file
/// events are taken as its own.
pub const QUIET_AFTER_SYNC: Duration = Duration::from_millis(300);
/// How long to wait for a sentinel before letting events through anyway
/// (an overflowed inotify queue loses it).
const SENTINEL_MAX_WAIT: Duration = Duration::from_secs(2);

/// Shim sessions as the watcher sees them: counted by the protocol's
/// listener as they begin and end, read by the watcher's callback.
#[derive(Debug)]
pub struct Gate {
    /// The watched app directory (touched as the sentinel).
    root: Option<PathBuf>,
    open: AtomicUsize,
    /// Sentinels touched and not yet seen by the watcher.
    sentinels: AtomicUsize,
    /// Until when (ns since `base`) events are dropped after a session.
    quiet_until: AtomicU64,
    base: Instant,
}

impl Gate {
    /// A gate for the app directory `root` (`None`: no sentinel, only the
    /// quiet window).
    pub fn new(root: Option<PathBuf>) -> Arc<Gate> {
        Arc::new(Gate {
            root,
            open: AtomicUsize::new(0),
            sentinels: AtomicUsize::new(0),
            quiet_until: AtomicU64::new(0),
            base: Instant::now(),
        })
    }

    fn now(&self) -> u64 {
        self.base
            .elapsed()
            .as_nanos()
            .try_into()
            .unwrap_or(u64::MAX)
    }

    pub fn session_began(&self) {
        self.open.fetch_add(1, Ordering::SeqCst);
    }

    /// A session ended (after its last file operation).
    pub fn session_ended(&self) {
        if !self.session_open() {
            return; // none was open
        }
        // The quiet deadline goes up *before* the count goes down. The other
        // way round, the watcher (which lags a large sync by thousands of
        // queued events) could see "no session open, no deadline" between
        // the two and take a queued event of this session for a change of
        // its own: a second reload right after the sync's (seen as a
        // `change: 2 file(s)` of the next real change, about once in 30
        // runs of the 2,000-file test, and as a refused request in the
        // real-`skaffold dev` suite). With others still open it is harmless:
        // the last one's end sets it again, and its sentinel clears it.
        self.quiet_until.fetch_max(
            self.now() + SENTINEL_MAX_WAIT.as_nanos().try_into().unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
        let was = self
            .open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if was != Ok(1) {
            return; // others still open: their end marks the point
        }
        // Counted before the touch: the watcher may see it at once.
        self.sentinels.fetch_add(1, Ordering::SeqCst);
        let touched = self.root.as_deref().is_some_and(|root| {
            // Both times: inotify reports IN_ATTRIB on the directory itself.
            nix::sys::stat::utimensat(
                None,
                root,
                &nix::sys::time::TimeSpec::UTIME_NOW,
                &nix::sys::time::TimeSpec::UTIME_NOW,
                nix::sys::stat::UtimensatFlags::FollowSymlink,
            )
            .is_ok()
        });
        if touched {
            return;
        }
        let _ = self
            .sentinels
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        self.quiet_until.store(
            self.now() + QUIET_AFTER_SYNC.as_nanos().try_into().unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    /// The watcher saw a sentinel: every event of the sessions before it is
    /// through.
    fn sentinel_seen(&self) {
        let was = self
            .sentinels
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if was == Ok(1) && !self.session_open() {
            self.quiet_until.store(0, Ordering::SeqCst);
        }
    }

    pub fn session_open(&self) -> bool {
        self.open.load(Ordering::SeqCst) > 0
    }

    /// Are file events (outside any open session) changes of their own?
    fn admits(&self) -> bool {
        !self.session_open() && self.now() >= self.quiet_until.load(Ordering::SeqCst)
    }

    fn is_sentinel(&self, event: &Event, path: &Path) -> bool {
        matches!(
            event.kind,
            EventKind::Modify(ModifyKind::Metadata(
                MetadataKind::Any | MetadataKind::Other
            ))
        ) && self.root.as_deref() == Some(path)
            && self.sentinels.load(Ordering::SeqCst) > 0
    }
}

/// What [`start`] set up.
pub struct Watching {
    /// Directories watched initially.
    pub dirs: usize,
    /// Directories that could not be watched (e.g. `max_user_watches`
    /// reached), with the first error.
    pub failed: Option<(usize, String)>,
}

/// Starts watching `root`; calls `changed(rel)` for every relevant change
/// (from the watcher's thread; `changed` returns `false` once nobody
/// listens any more).
pub fn start(
    root: PathBuf,
    plan: &Plan,
    gate: Arc<Gate>,
    changed: impl Fn(String) -> bool + Send + 'static,
) -> Result<Watching, WatchError> {
    // New directories go to the thread that owns the watcher (notify's
    // own thread must not call back into it).
    let (dir_tx, dir_rx) = channel::<PathBuf>();
    let handler = {
        let root = root.clone();
        let plan = plan.clone();
        move |event: notify::Result<Event>| {
            let Ok(event) = event else { return };
            on_event(&root, &plan, &gate, &event, &dir_tx, &changed);
        }
    };
    let mut watcher: RecommendedWatcher =
        notify::recommended_watcher(handler).map_err(WatchError::Inotify)?;
    let skip = {
        let plan = plan.clone();
        move |rel: &str, name: &str| is_excluded_dir(name) || plan.ignores(rel)
    };
    let mut failed = Failed::default();
    if let Err(source) = watcher.watch(&root, RecursiveMode::NonRecursive) {
        return Err(WatchError::Root { root, source });
    }
    let dirs = 1 + add_children(&mut watcher, &root, &root, &skip, &mut failed);
    std::thread::spawn(move || {
        for dir in dir_rx {
            let rel = rel_of(&root, &dir);
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !skip(&rel, &name) {
                let mut ignored = Failed::default();
                add_tree(&mut watcher, &root, &dir, &skip, &mut ignored);
            }
        }
    });
    Ok(Watching {
        dirs,
        failed: failed.first.map(|e| (failed.count, e)),
    })
}

fn rel_of(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .map(|r| r.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The watcher callback, on notify's thread: cheap checks first, so a
/// shim's 50,000 events cost an atomic load each.
fn on_event(
    root: &Path,
    plan: &Plan,
    gate: &Gate,
    event: &Event,
    new_dirs: &std::sync::mpsc::Sender<PathBuf>,
    changed: &dyn Fn(String) -> bool,
) {
    if matches!(event.kind, EventKind::Access(_)) {
        return;
    }
    for path in &event.paths {
        if gate.is_sentinel(event, path) {
            gate.sentinel_seen();
            continue;
        }
        let new_dir = match event.kind {
            EventKind::Create(CreateKind::Folder) => true,
            EventKind::Create(CreateKind::Any | CreateKind::Other) => is_real_dir(path),
            _ => false,
        };
        if new_dir {
            let _ = new_dirs.send(path.clone());
            continue;
        }
        if !gate.admits() {
            continue;
        }
        // A directory moved in from elsewhere: watch it too.
        if matches!(
            event.kind,
            EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
        ) && is_real_dir(path)
        {
            let _ = new_dirs.send(path.clone());
            continue;
        }
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        if is_shim_temp(path) {
            continue;
        }
        let rel = rel.to_string_lossy();
        if rel.is_empty() || !plan.syncs(&rel) {
            continue;
        }
        changed(rel.into_owned());
    }
}

fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

#[derive(Default)]
struct Failed {
    count: usize,
    first: Option<String>,
}

fn add_tree(
    watcher: &mut RecommendedWatcher,
    root: &Path,
    dir: &Path,
    skip: &dyn Fn(&str, &str) -> bool,
    failed: &mut Failed,
) -> usize {
    if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
        failed.count += 1;
        failed
            .first
            .get_or_insert_with(|| format!("{}: {e}", dir.display()));
        return 0;
    }
    1 + add_children(watcher, root, dir, skip, failed)
}

fn add_children(
    watcher: &mut RecommendedWatcher,
    root: &Path,
    dir: &Path,
    skip: &dyn Fn(&str, &str) -> bool,
    failed: &mut Failed,
) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut count = 0;
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if !ft.is_dir() {
            continue;
        }
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if !skip(&rel_of(root, &path), &name) {
            count += add_tree(watcher, root, &path, skip, failed);
        }
    }
    count
}

/// The tar shim's staging files (`.NAME.filesync-PID-N.tmp`): never a
/// change of their own, whatever the rules match.
// Our own temporary files' names, always lower-case.
#[allow(clippy::case_sensitive_file_extension_comparisons)]
fn is_shim_temp(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.contains(".filesync-") && n.ends_with(".tmp"))
}

#[cfg(test)]
mod tests;
