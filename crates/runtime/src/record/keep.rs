//! Keeping one batch: the tar shim's stream (teed while it extracts) or
//! the rm shim's operands, applied to the manifest and committed at once.
//! A batch that cannot be kept drops the record: a replay without it would
//! put the app on files it never had.

use super::manifest::{Manifest, State, Written};
use super::store::Store;
use super::Settings;
use anyhow::{bail, Context};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path};

/// Copies what the tar shim reads, up to twice the limit (headers
/// included); past that the batch is known to be too large to keep.
pub struct Tee<R> {
    inner: R,
    captured: Vec<u8>,
    cap: Option<usize>,
    overflow: bool,
}

impl<R: Read> Tee<R> {
    /// Without settings (records off) nothing is copied.
    pub fn new(inner: R, settings: Option<&Settings>) -> Tee<R> {
        let cap = settings
            .map(|s| usize::try_from(s.limit.saturating_mul(2).max(1 << 20)).unwrap_or(usize::MAX));
        Tee {
            inner,
            captured: Vec::new(),
            cap,
            overflow: false,
        }
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(cap) = self.cap {
            if !self.overflow && self.captured.len() + n > cap {
                self.overflow = true;
                self.captured = Vec::new();
            } else if !self.overflow {
                self.captured.extend_from_slice(&buf[..n]);
            }
        }
        Ok(n)
    }
}

/// Keeps a tar batch that is now in place.
pub fn keep_tar<R>(settings: Option<&Settings>, tee: &Tee<R>) {
    let Some(s) = settings else { return };
    let limit_mib = s.limit >> 20;
    batch(s, |store, m| {
        if tee.overflow {
            bail!("this sync's stream is over {} MiB, more than the record's limit of {limit_mib} MiB", (s.limit * 2) >> 20);
        }
        apply_tar(store, m, &tee.captured)?;
        let bytes = m.bytes();
        if bytes > s.limit {
            bail!(
                "the synced files would take {:.1} MiB, over the record's limit of {limit_mib} MiB",
                bytes as f64 / (1024.0 * 1024.0)
            );
        }
        Ok(())
    });
}

/// Keeps an rm batch (Skaffold's absolute operands) now removed.
pub fn keep_rm(settings: Option<&Settings>, operands: &[OsString]) {
    let Some(s) = settings else { return };
    batch(s, |_, m| {
        for op in operands {
            m.delete(&absolute(Path::new(op))?);
        }
        Ok(())
    });
}

/// A clean absolute path as a string, or why it cannot be recorded.
fn absolute(path: &Path) -> anyhow::Result<String> {
    let mut out = String::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(p) => {
                let p = p
                    .to_str()
                    .with_context(|| format!("{} is not UTF-8", path.display()))?;
                out.push('/');
                out.push_str(p);
            }
            _ => bail!("{} is not a plain absolute path", path.display()),
        }
    }
    if out.is_empty() || !path.is_absolute() {
        bail!("{} is not a plain absolute path", path.display());
    }
    Ok(out)
}

fn apply_tar(store: &Store, m: &mut Manifest, stream: &[u8]) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(stream);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = absolute(&Path::new("/").join(entry.path()?))?;
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644) & 0o777;
        let kind = header.entry_type();
        let what = if kind.is_dir() {
            Written::Dir { mode }
        } else if kind.is_symlink() {
            let target = entry.link_name()?.context("symlink without target")?;
            let target = target
                .to_str()
                .context("a symlink target is not UTF-8")?
                .to_string();
            Written::Symlink { target }
        } else {
            let mut content = Vec::new();
            entry.read_to_end(&mut content)?;
            let blob = m.next_blob.to_string();
            m.next_blob += 1;
            store.put_blob(&blob, &content)?;
            Written::File {
                blob,
                mode,
                size: content.len() as u64,
            }
        };
        m.write(&path, what);
    }
    Ok(())
}

/// One batch under the lock: load, change, commit — or drop the record
/// when `change` fails. A record already dropped stays dropped.
fn batch(s: &Settings, change: impl FnOnce(&Store, &mut Manifest) -> anyhow::Result<()>) {
    let store = match Store::open(&s.base, &s.identity) {
        Ok(store) => store,
        Err(e) => {
            crate::log!("restart record off: {e:#}; a container restart will start the app on the image's files");
            return;
        }
    };
    let Ok(_lock) = store.lock() else {
        crate::log!("restart record: cannot lock {}", store.dir.display());
        return;
    };
    let mut m = match store.load() {
        Ok(Some(m)) if m.identity == s.identity => m,
        _ => Manifest::new(&s.identity),
    };
    if let State::Dropped { reason } = &m.state {
        crate::log!("restart record: not kept, the record was dropped earlier ({reason})");
        return;
    }
    let result = change(&store, &mut m).and_then(|()| {
        m.batches += 1;
        m.updated = super::now();
        store.commit(&m)
    });
    if let Err(e) = result {
        drop_record(&store, &s.identity, &format!("{e:#}"));
    }
}

/// Replaces the record by a dropped one saying why, and says what the
/// user loses.
pub fn drop_record(store: &Store, identity: &str, reason: &str) {
    let _ = std::fs::remove_file(store.dir.join("manifest.json"));
    let mut m = Manifest::new(identity);
    m.state = State::Dropped {
        reason: reason.to_string(),
    };
    m.updated = super::now();
    let _ = store.commit(&m);
    crate::log!(
        "restart record dropped: {reason}. The synced files are in place, but if this container \
         restarts, the app starts on the image's files until the next build \
         (raise {} to keep larger syncs)",
        super::LIMIT_ENV
    );
}
