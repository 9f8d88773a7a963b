//! Replaying a record when the supervisor starts, before the app: first
//! the deletions (with the rm shim's checks), then every written path in
//! one stream through the tar shim's own extraction (no traversal, no
//! writing through symlinks, temp names then renames, all or nothing).
//! Deletions first is right because a deletion that came after a write
//! removed that write from the record: what is left written came last.

use super::manifest::{Manifest, State, Written};
use super::store::{discard_others, Store};
use super::Settings;
use std::path::Path;

/// What a replay put back.
#[derive(Debug, PartialEq, Eq)]
pub struct Restored {
    pub files: usize,
    pub deletions: usize,
}

/// At supervisor start: discards the records of other builds, replays
/// this build's into `root` and says so in one line. Never fails the
/// start: a record that cannot be replayed is reported and the app starts.
pub fn restore(s: &Settings, root: &Path) -> Option<Restored> {
    if !s.base.is_dir() {
        return None;
    }
    let others = discard_others(&s.base, &s.identity);
    if others > 0 {
        crate::log!(
            "discarded {others} restart record(s) of another build of this image; not replayed"
        );
    }
    if !s.base.join(&s.identity).is_dir() {
        return None;
    }
    let store = match Store::open(&s.base, &s.identity) {
        Ok(store) => store,
        Err(e) => {
            crate::log!("restart record not replayed: {e:#}");
            return None;
        }
    };
    let _lock = store.lock().ok()?;
    let m = match store.load() {
        Ok(Some(m)) => m,
        Ok(None) => return None,
        Err(e) => {
            crate::log!("restart record not replayed and discarded: {e:#}");
            let _ = std::fs::remove_dir_all(&store.dir);
            return None;
        }
    };
    if m.identity != s.identity {
        crate::log!("restart record of another build discarded; not replayed");
        let _ = std::fs::remove_dir_all(&store.dir);
        return None;
    }
    let when = super::when(m.updated, super::now());
    if let State::Dropped { reason } = &m.state {
        crate::log!(
            "synced changes not restored: the restart record was dropped ({when}): {reason}; \
             the app starts on the image's files"
        );
        return None;
    }
    if m.is_empty() {
        return None;
    }
    match apply(&store, &m, root) {
        Ok(r) => {
            crate::log!(
                "restored {} file(s) and {} deletion(s) synced before this container restarted \
                 ({} batch(es), the last at {when})",
                r.files,
                r.deletions,
                m.batches
            );
            Some(r)
        }
        Err(e) => {
            crate::log!(
                "synced changes not restored: {e:#}; the app starts on the image's files{}",
                if m.deleted.is_empty() {
                    ""
                } else {
                    " (with the synced deletions applied)"
                }
            );
            None
        }
    }
}

/// Applies `m` to `root`: deletions, then the written paths.
pub fn apply(store: &Store, m: &Manifest, root: &Path) -> anyhow::Result<Restored> {
    for d in &m.deleted {
        let path = root.join(d.trim_start_matches('/'));
        if let Some(r) = crate::rm_shim::check(path.as_os_str()) {
            anyhow::bail!("refusing to delete {}: {r:?}", path.display());
        }
        crate::rm_shim::remove(&path)
            .map_err(|e| anyhow::anyhow!("deleting {}: {e}", path.display()))?;
    }
    let mut b = tar::Builder::new(Vec::new());
    for (path, what) in &m.written {
        let name = path.trim_start_matches('/');
        let mut h = tar::Header::new_gnu();
        match what {
            Written::Dir { mode } => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                h.set_size(0);
                b.append_data(&mut h, name, std::io::empty())?;
            }
            Written::Symlink { target } => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, name, target)?;
            }
            Written::File { blob, mode, size } => {
                h.set_mode(*mode);
                h.set_size(*size);
                let f = std::fs::File::open(store.blob_path(blob))?;
                b.append_data(&mut h, name, f)?;
            }
        }
    }
    let stream = b.into_inner()?;
    let files = crate::tar_shim::extract(&stream[..], root)?;
    Ok(Restored {
        files,
        deletions: m.deleted.len(),
    })
}
