//! File-system events for changes that arrive without a shim (an editor in
//! the container, `kubectl cp`, a mounted volume). One non-recursive inotify
//! watch per directory of the app, never descending into excluded or
//! ignored directories (node_modules, .git, vendor, build output): those
//! can hold 100,000 files the developer never edits. New directories are
//! watched as they appear. Only paths the plan syncs are reported.

use filesync_rules::manifests::is_excluded_dir;
use filesync_rules::Plan;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};

/// Starts watching `root`; calls `changed(rel)` for every relevant change.
/// Returns the number of directories watched initially.
pub fn start(root: PathBuf, plan: Plan, changed: Sender<String>) -> anyhow::Result<usize> {
    let (raw_tx, raw_rx) = channel();
    let mut watcher: RecommendedWatcher = notify::recommended_watcher(raw_tx)?;
    let skip = {
        let plan = plan.clone();
        move |rel: &str, name: &str| is_excluded_dir(name) || plan.ignores(rel)
    };
    let watched = add_tree(&mut watcher, &root, &root, &skip);
    std::thread::spawn(move || {
        for event in raw_rx {
            let Ok(event) = event else { continue };
            if matches!(event.kind, EventKind::Access(_)) {
                continue;
            }
            for path in event.paths {
                let Ok(rel) = path.strip_prefix(&root) else {
                    continue;
                };
                let rel = rel.to_string_lossy().into_owned();
                if matches!(event.kind, EventKind::Create(_)) && path.is_dir() && !path.is_symlink()
                {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if !skip(&rel, &name) {
                        add_tree(&mut watcher, &root, &path, &skip);
                    }
                    continue;
                }
                if is_shim_temp(&path) {
                    continue;
                }
                if plan.syncs(&rel) && changed.send(rel).is_err() {
                    return;
                }
            }
        }
    });
    Ok(watched)
}

fn add_tree(
    watcher: &mut RecommendedWatcher,
    root: &Path,
    dir: &Path,
    skip: &dyn Fn(&str, &str) -> bool,
) -> usize {
    if watcher.watch(dir, RecursiveMode::NonRecursive).is_err() {
        return 0;
    }
    let mut count = 1;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return count;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if !ft.is_dir() {
            continue;
        }
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = path
            .strip_prefix(root)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !skip(&rel, &name) {
            count += add_tree(watcher, root, &path, skip);
        }
    }
    count
}

/// The tar shim's staging files (`.NAME.filesync-PID-N.tmp`): never a
/// change of their own, whatever the rules match.
fn is_shim_temp(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.contains(".filesync-") && n.ends_with(".tmp"))
}
