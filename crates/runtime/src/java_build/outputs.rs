//! Writing `target/classes` while the old app may still be loading from
//! it: each file is written under a temporary name and renamed into place,
//! so the app (or its class loader) never reads half a file.

use super::state::{Listing, State};
use super::JavaBuildConfig;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A new, empty directory beside `classes` for one compile (named by our
/// pid: a cancelled build's compile may still be writing its own); those
/// of earlier builds are removed.
pub(super) fn fresh_dir(classes: &Path) -> anyhow::Result<PathBuf> {
    let parent = classes.parent().unwrap_or(classes);
    let prefix = "filesync-compile-";
    if let Ok(read) = std::fs::read_dir(parent) {
        for e in read.flatten() {
            if e.file_name().to_string_lossy().starts_with(prefix) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = parent.join(format!("{prefix}{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Makes the `.class` files of `classes` those of `fresh`: each moved in,
/// then the ones `fresh` lacks (types deleted or renamed) removed. Other
/// files (the copied resources) are left alone.
pub(super) fn replace_classes(fresh: &Path, classes: &Path) -> anyhow::Result<()> {
    let is_class = |p: &Path| p.extension().is_some_and(|e| e == "class");
    let new: BTreeSet<PathBuf> = files(fresh)?.into_iter().filter(|p| is_class(p)).collect();
    for rel in &new {
        let to = classes.join(rel);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::rename(fresh.join(rel), &to)?;
    }
    for rel in files(classes)? {
        if is_class(&rel) && !new.contains(&rel) {
            std::fs::remove_file(classes.join(&rel))?;
        }
    }
    Ok(())
}

/// Copies the resources that are new or changed since `previous` (all of
/// them without one) into `classes`, and removes those that are gone.
/// Returns how many it copied or removed.
pub(super) fn copy_resources(
    config: &JavaBuildConfig,
    now: &Listing,
    previous: Option<&State>,
) -> anyhow::Result<usize> {
    let mut count = 0;
    for file in &now.resources {
        if previous.is_some_and(|p| !p.is_newer(file) && p.resources().contains(&file.path)) {
            continue;
        }
        let to = config.classes.join(&file.path);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = to.with_file_name(format!(
            ".{}.filesync-tmp",
            to.file_name().unwrap_or_default().to_string_lossy()
        ));
        std::fs::copy(config.resources.join(&file.path), &tmp)?;
        std::fs::rename(&tmp, &to)?;
        count += 1;
    }
    let present: BTreeSet<&PathBuf> = now.resources.iter().map(|f| &f.path).collect();
    for gone in previous.map(State::resources).unwrap_or_default() {
        if !present.contains(gone) && config.classes.join(gone).is_file() {
            std::fs::remove_file(config.classes.join(gone))?;
            count += 1;
        }
    }
    Ok(count)
}

/// Every file under `root`, relative to it.
fn files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(path.strip_prefix(root)?.to_path_buf());
            }
        }
    }
    Ok(out)
}
