//! The record's content as final state: for every synced path its latest
//! content (or symlink, or directory), and the set of paths deleted. It
//! grows with the files touched, never with the number of saves.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the latest sync wrote at one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Written {
    /// A regular file whose content is the blob `blob` of the store.
    File {
        blob: String,
        mode: u32,
        size: u64,
    },
    Symlink {
        target: String,
    },
    Dir {
        mode: u32,
    },
}

/// Whether the record can still be replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum State {
    Kept,
    /// A batch could not be kept: the record says why and is never
    /// replayed (a replay without that batch would be a state the app
    /// never had).
    Dropped {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The image build this record belongs to (`build_id` of the config).
    pub identity: String,
    #[serde(flatten)]
    pub state: State,
    /// Unix seconds of the last batch kept (or of the drop).
    pub updated: u64,
    /// Batches kept so far.
    pub batches: u64,
    /// The next blob number: blobs are never overwritten, so a crash
    /// before the manifest's rename leaves the old manifest whole.
    pub next_blob: u64,
    /// Absolute path -> what the last sync wrote there.
    pub written: BTreeMap<String, Written>,
    /// Absolute paths the syncs deleted, none below another.
    pub deleted: BTreeSet<String>,
}

/// `path` itself or anything below it.
fn covers(path: &str, other: &str) -> bool {
    other == path
        || (other.starts_with(path)
            && (path.ends_with('/') || other.as_bytes().get(path.len()) == Some(&b'/')))
}

impl Manifest {
    pub fn new(identity: &str) -> Manifest {
        Manifest {
            identity: identity.to_string(),
            state: State::Kept,
            updated: 0,
            batches: 0,
            next_blob: 0,
            written: BTreeMap::new(),
            deleted: BTreeSet::new(),
        }
    }

    /// A sync wrote `path`. A deletion of the same path or of a parent
    /// stays: replay deletes first, then writes, so the path ends written.
    pub fn write(&mut self, path: &str, what: Written) {
        self.written.insert(path.to_string(), what);
    }

    /// A sync deleted `path`: whatever was written at or below it is gone,
    /// and deletions below it are part of this one.
    pub fn delete(&mut self, path: &str) {
        self.written.retain(|p, _| !covers(path, p));
        if self.deleted.iter().any(|d| covers(d, path)) {
            return;
        }
        self.deleted.retain(|d| !covers(path, d));
        self.deleted.insert(path.to_string());
    }

    /// Bytes of file content the record holds.
    pub fn bytes(&self) -> u64 {
        self.written
            .values()
            .map(|w| match w {
                Written::File { size, .. } => *size,
                _ => 0,
            })
            .sum()
    }

    /// Blob names in use.
    pub fn blobs(&self) -> BTreeSet<&str> {
        self.written
            .values()
            .filter_map(|w| match w {
                Written::File { blob, .. } => Some(blob.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Regular files written (what a replay restores as "files").
    pub fn files(&self) -> usize {
        self.written
            .values()
            .filter(|w| !matches!(w, Written::Dir { .. }))
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.written.is_empty() && self.deleted.is_empty()
    }
}
