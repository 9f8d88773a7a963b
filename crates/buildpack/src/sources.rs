//! The app's sources, which some of Paketo's buildpacks remove after
//! building: go-build deletes the working directory's contents unless
//! `BP_KEEP_FILES` keeps them, and the JVM build buildpacks (libbs)
//! replace them with the built artifact unless `BP_INCLUDE_FILES` keeps
//! them. A dev image that rebuilds in the container needs them all.

use filesync_rules::Family;
use std::path::{Path, PathBuf};

/// What is wrong with the app's sources: data only, rendered by `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourcesError {
    /// The family rebuilds in the container, and its sources are gone.
    Removed { family: Family },
    /// The app dir holds no file at all: an empty app, or sources removed.
    NoFiles,
    /// Files, but none that tells the language family.
    NoFamily { app_dir: PathBuf },
}

/// When the app dir holds no regular file at all (its sources were
/// removed, and no family can be told), the error that says so.
pub(crate) fn removed(app_dir: &Path) -> Option<SourcesError> {
    let mut stack = vec![app_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let kind = entry.file_type().ok()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else {
                return None;
            }
        }
    }
    Some(SourcesError::NoFiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_dir_without_files_reads_as_removed_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("empty/deeper")).unwrap();
        assert_eq!(removed(dir.path()), Some(SourcesError::NoFiles));
        std::fs::write(dir.path().join("empty/main.go"), "package main").unwrap();
        assert!(removed(dir.path()).is_none());
    }
}
