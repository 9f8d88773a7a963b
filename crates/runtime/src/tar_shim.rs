//! The `tar` shim. Skaffold's sync runs exactly `tar xmf - -C /
//! --no-same-owner` in the container with a stream whose entries are the
//! absolute destination paths (Skaffold `util.CreateMappedTar`). For that
//! form we extract ourselves, on every image:
//! - two phases: every entry is staged under a temporary name beside its
//!   destination, and only when the whole stream has been read do the
//!   renames happen — a truncated or corrupt stream changes no file;
//! - no entry may leave the target: `..` components, absolute or climbing
//!   symlink targets, and paths through a symlink are refused;
//! - no ownership change (`--no-same-owner`), mtime is now (`m`), only
//!   regular files, directories and relative symlinks;
//! - then the supervisor is told the batch is complete: one reload.
//!
//! Any other invocation is passed unchanged to the image's own `tar`;
//! without one it is a usage error (exit 2) that touches nothing.

use crate::protocol::Session;
use anyhow::{bail, Context};
use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{File, OpenOptions, Permissions};
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Skaffold's invocation, after the program name.
pub const SKAFFOLD_FORM: [&str; 5] = ["xmf", "-", "-C", "/", "--no-same-owner"];

pub fn is_skaffold_form(args: &[OsString]) -> bool {
    args.len() == SKAFFOLD_FORM.len() && args.iter().zip(SKAFFOLD_FORM).all(|(a, b)| a == b)
}

/// A staged change, applied by [`Staged::commit`].
enum Staged {
    File { temp: PathBuf, dest: PathBuf },
    Dir { dest: PathBuf, mode: u32 },
}

/// The paths of an extraction, removed again if it fails.
#[derive(Default)]
struct Stage {
    items: Vec<Staged>,
    created_dirs: Vec<PathBuf>,
    links: HashSet<PathBuf>,
    /// Directories already checked (real directories, not symlinks): a
    /// stream of 50,000 files in a few directories checks each once.
    checked_dirs: HashSet<PathBuf>,
}

impl Stage {
    fn rollback(&mut self) {
        for item in &self.items {
            if let Staged::File { temp, .. } = item {
                let _ = std::fs::remove_file(temp);
            }
        }
        for d in self.created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// `target`-relative destination of an entry name, refusing escapes.
fn destination(target: &Path, name: &Path) -> anyhow::Result<PathBuf> {
    let mut rel = PathBuf::new();
    for c in name.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(p) => rel.push(p),
            Component::ParentDir => {
                bail!("refusing {}: `..` would leave the target", name.display())
            }
            Component::Prefix(_) => bail!("refusing {}: not a Unix path", name.display()),
        }
    }
    if rel.as_os_str().is_empty() {
        bail!("refusing an entry without a name");
    }
    Ok(target.join(rel))
}

/// Creates the parents of `dest` below `target`, refusing to pass through
/// a symlink (on disk, or staged earlier in this stream).
fn prepare_parents(target: &Path, dest: &Path, stage: &mut Stage) -> anyhow::Result<()> {
    let parent = dest.parent().context("entry has no parent")?;
    let rel = parent
        .strip_prefix(target)
        .context("entry outside the target")?;
    let mut dir = target.to_path_buf();
    for c in rel.components() {
        dir.push(c);
        if stage.links.contains(&dir) {
            bail!(
                "refusing {}: its parent {} is a symlink in this stream",
                dest.display(),
                dir.display()
            );
        }
        if stage.checked_dirs.contains(&dir) {
            continue;
        }
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                bail!(
                    "refusing {}: {} is a symlink; not writing through it",
                    dest.display(),
                    dir.display()
                )
            }
            Ok(m) if m.is_dir() => {
                stage.checked_dirs.insert(dir.clone());
            }
            Ok(_) => bail!(
                "refusing {}: {} is not a directory",
                dest.display(),
                dir.display()
            ),
            Err(_) => {
                std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
                stage.created_dirs.push(dir.clone());
                stage.checked_dirs.insert(dir.clone());
            }
        }
    }
    Ok(())
}

fn temp_name(dest: &Path, n: usize) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.filesync-{}-{n}.tmp", std::process::id()))
}

/// Does a relative symlink at `link` pointing to `to` stay inside `target`?
fn link_stays_inside(target: &Path, link: &Path, to: &Path) -> bool {
    if to.is_absolute() {
        return false;
    }
    let mut depth: i64 = link
        .parent()
        .and_then(|p| p.strip_prefix(target).ok())
        .map_or(-1, |r| {
            i64::try_from(r.components().count()).unwrap_or(i64::MAX)
        });
    if depth < 0 {
        return false;
    }
    for c in to.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

fn stage_entries(reader: impl Read, target: &Path, stage: &mut Stage) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(reader);
    for (n, entry) in archive
        .entries()
        .context("reading the tar stream")?
        .enumerate()
    {
        let mut entry = entry.context("reading the tar stream")?;
        let name = entry.path().context("entry name")?.into_owned();
        let dest = destination(target, &name)?;
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644) & 0o777;
        let kind = header.entry_type();
        prepare_parents(target, &dest, stage)?;
        if kind.is_dir() {
            stage.items.push(Staged::Dir { dest, mode });
        } else if kind.is_file() {
            let temp = temp_name(&dest, n);
            let mut file: File = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)
                .with_context(|| format!("creating {}", temp.display()))?;
            stage.items.push(Staged::File {
                temp: temp.clone(),
                dest: dest.clone(),
            });
            let size = header.size().unwrap_or(0);
            let copied = std::io::copy(&mut entry, &mut file)
                .with_context(|| format!("writing {}", dest.display()))?;
            if copied != size {
                bail!(
                    "truncated stream: {} has {copied} of {size} bytes",
                    dest.display()
                );
            }
            std::fs::set_permissions(&temp, Permissions::from_mode(mode))?;
        } else if kind.is_symlink() {
            let to = entry
                .link_name()
                .context("symlink target")?
                .context("symlink without target")?
                .into_owned();
            if !link_stays_inside(target, &dest, &to) {
                bail!(
                    "refusing symlink {} -> {}: it points outside the target",
                    dest.display(),
                    to.display()
                );
            }
            let temp = temp_name(&dest, n);
            std::os::unix::fs::symlink(&to, &temp)?;
            stage.links.insert(dest.clone());
            stage.items.push(Staged::File { temp, dest });
        } else {
            bail!(
                "refusing {}: unsupported entry type {kind:?}",
                dest.display()
            );
        }
    }
    Ok(())
}

/// Extracts a Skaffold sync stream into `target`; returns the number of
/// files (directory entries not counted). On error nothing is left behind.
pub fn extract(reader: impl Read, target: &Path) -> anyhow::Result<usize> {
    let mut stage = Stage::default();
    if let Err(e) = stage_entries(reader, target, &mut stage) {
        stage.rollback();
        return Err(e);
    }
    let count = stage.items.len();
    // What the supervisor reports as the sync's size: files, not the
    // directory entries a stream may carry for their parents.
    let files = stage
        .items
        .iter()
        .filter(|item| matches!(item, Staged::File { .. }))
        .count();
    // Every check before the first rename: a refusal here still changes
    // nothing.
    let blocked = stage.items.iter().find_map(|item| match item {
        Staged::File { dest, .. } if std::fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir()) => {
            Some(dest.clone())
        }
        _ => None,
    });
    if let Some(dest) = blocked {
        stage.rollback();
        bail!("refusing {}: a directory is in the way", dest.display());
    }
    for (done, item) in stage.items.iter().enumerate() {
        match item {
            Staged::File { temp, dest } => {
                if let Err(e) = std::fs::rename(temp, dest) {
                    // Renames in one directory practically never fail; if
                    // one does, the rest are removed and the error says
                    // exactly how far it got (the app is not reloaded).
                    for rest in &stage.items[done..] {
                        if let Staged::File { temp, .. } = rest {
                            let _ = std::fs::remove_file(temp);
                        }
                    }
                    return Err(PartialRename { done, of: count })
                        .with_context(|| format!("renaming into {}: {e}", dest.display()));
                }
            }
            Staged::Dir { dest, mode } => {
                if !dest.exists() {
                    std::fs::create_dir_all(dest)?;
                    let _ = std::fs::set_permissions(dest, Permissions::from_mode(*mode));
                }
            }
        }
    }
    Ok(files)
}

/// A rename failed after `done` of `of` entries were already in place.
#[derive(Debug)]
pub struct PartialRename {
    pub done: usize,
    pub of: usize,
}

impl std::fmt::Display for PartialRename {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} entries were replaced before the failure",
            self.done, self.of
        )
    }
}

impl std::error::Error for PartialRename {}

/// `filesync tar ARGS…`.
pub fn run(args: &[OsString]) -> i32 {
    if !is_skaffold_form(args) {
        return if let Some(tool) = crate::delegate::image_tool("tar") {
            let e = crate::delegate::exec(&tool, "tar", args);
            eprintln!("filesync tar: running {}: {e}", tool.display());
            126
        } else {
            eprintln!(
                "filesync tar: this image has no tar of its own; only Skaffold's sync form is supported: \
                 tar {}",
                SKAFFOLD_FORM.join(" ")
            );
            2
        };
    }
    let session = Session::begin();
    let start = std::time::Instant::now();
    let record = crate::record::Settings::from_env();
    let mut tee = crate::record::Tee::new(std::io::stdin().lock(), record.as_ref());
    match extract(&mut tee, Path::new("/")) {
        Ok(n) => {
            // The supervisor hears of the batch first, so the reload does
            // not wait for the record (a copy of every synced file); the
            // record is kept before this exec returns, so a container
            // that dies in between fails Skaffold's exec, and Skaffold
            // syncs the batch again (it retries a failed sync 3 times).
            session.end(n, "tar");
            crate::record::keep_tar(record.as_ref(), &tee);
            crate::log!(
                "tar: {n} file(s) in place in {} ms",
                start.elapsed().as_millis()
            );
            0
        }
        Err(e) => {
            drop(session);
            match e.downcast_ref::<PartialRename>() {
                Some(p) => eprintln!("filesync tar: error: {e:#} ({p}); no reload"),
                None => eprintln!("filesync tar: error: {e:#}; no file was changed"),
            }
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_of_files_not_directory_entries() {
        let target = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        b.append_data(&mut dir, "app/lib/", std::io::empty())
            .unwrap();
        let mut file = tar::Header::new_gnu();
        file.set_mode(0o644);
        file.set_size(3);
        b.append_data(&mut file, "app/lib/a.js", &b"v2\n"[..])
            .unwrap();
        let stream = b.into_inner().unwrap();
        assert_eq!(extract(&stream[..], target.path()).unwrap(), 1);
        let written = std::fs::read(target.path().join("app/lib/a.js")).unwrap();
        assert_eq!(written, b"v2\n");
    }
}
