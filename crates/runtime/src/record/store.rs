//! Where a record lives: `<base>/<identity>/` holding `manifest.json` and
//! `blobs/`. One batch is one commit: new blobs are written under names
//! never used before, then the new manifest replaces the old one with a
//! rename, then blobs no manifest names are removed. A crash at any point
//! leaves either the old manifest or the new one, each whole; a stray blob
//! is removed by the next commit.

use super::manifest::Manifest;
use anyhow::Context;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const MANIFEST: &str = "manifest.json";
const BLOBS: &str = "blobs";

pub struct Store {
    pub dir: PathBuf,
}

/// Creates `dir` (mode 0700) if missing and checks it is a real
/// directory of ours: a record is never read from or written through a
/// directory somebody else controls.
// "no group or other permission bits" reads plainer as a mask than as trailing_zeros.
#[allow(clippy::verbose_bit_mask)]
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
    }
    let m = std::fs::symlink_metadata(dir)?;
    anyhow::ensure!(
        m.is_dir() && m.uid() == nix::unistd::getuid().as_raw() && m.mode() & 0o077 == 0,
        "{} is not a private directory of this user (owner {}, mode {:o})",
        dir.display(),
        m.uid(),
        m.mode() & 0o7777
    );
    Ok(())
}

impl Store {
    /// The store of `identity` under `base`, both directories made private.
    pub fn open(base: &Path, identity: &str) -> anyhow::Result<Store> {
        if let Some(parent) = base.parent() {
            std::fs::create_dir_all(parent).ok();
        }
        private_dir(base)?;
        let dir = base.join(identity);
        private_dir(&dir)?;
        private_dir(&dir.join(BLOBS))?;
        Ok(Store { dir })
    }

    /// Held for a whole batch: the tar and rm shims of two syncs never
    /// interleave their read-modify-write of the manifest.
    pub fn lock(&self) -> anyhow::Result<Flock<File>> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.dir.join("lock"))?;
        Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| anyhow::anyhow!("locking the record: {e}"))
    }

    /// The manifest, `None` when there is none yet.
    pub fn load(&self) -> anyhow::Result<Option<Manifest>> {
        let path = self.dir.join(MANIFEST);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("reading {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn blob_path(&self, name: &str) -> PathBuf {
        self.dir.join(BLOBS).join(name)
    }

    /// Writes a new blob (its name is new: `create_new`).
    pub fn put_blob(&self, name: &str, content: &[u8]) -> anyhow::Result<()> {
        let path = self.blob_path(name);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        f.write_all(content)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Makes `manifest` the record (one rename), then removes the blobs it
    /// does not name.
    pub fn commit(&self, manifest: &Manifest) -> anyhow::Result<()> {
        let temp = self
            .dir
            .join(format!(".{MANIFEST}.{}.tmp", std::process::id()));
        let text = serde_json::to_vec(manifest)?;
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        f.write_all(&text)
            .with_context(|| format!("writing {}", temp.display()))?;
        drop(f);
        std::fs::rename(&temp, self.dir.join(MANIFEST))?;
        self.collect(manifest);
        Ok(())
    }

    /// Removes blobs the committed manifest does not name (best effort:
    /// a leftover is only space, removed next time).
    fn collect(&self, manifest: &Manifest) {
        let keep = manifest.blobs();
        let Ok(entries) = std::fs::read_dir(self.dir.join(BLOBS)) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            if !name.to_str().is_some_and(|n| keep.contains(n)) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Removes every record under `base` but `identity`'s; returns how many.
pub fn discard_others(base: &Path, identity: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name() != identity)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| std::fs::remove_dir_all(e.path()).is_ok())
        .count()
}
