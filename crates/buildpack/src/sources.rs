//! The app's sources, which some of Paketo's buildpacks remove after
//! building: go-build deletes the working directory's contents unless
//! `BP_KEEP_FILES` keeps them, and the JVM build buildpacks (libbs)
//! replace them with the built artifact unless `BP_INCLUDE_FILES` keeps
//! them. A dev image that rebuilds in the container needs them all.

use crate::errors::BuildpackError;
use filesync_rules::Family;
use std::path::Path;

/// The error for a family whose sources an earlier buildpack removed.
pub fn removed_error(family: Family) -> BuildpackError {
    BuildpackError::SourcesRemoved {
        family: family.name().to_string(),
        keep: filesync_rules::family::keep_sources_env(family)
            .unwrap_or("BP_KEEP_FILES=* (go-build) or BP_INCLUDE_FILES=* (libbs)"),
    }
}

/// When the app dir holds no regular file at all (its sources were
/// removed, and no family can be told), the error that says so.
pub fn removed(app_dir: &Path) -> Option<BuildpackError> {
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
    Some(BuildpackError::SourcesRemovedUnknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_dir_without_files_reads_as_removed_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("empty/deeper")).unwrap();
        assert!(matches!(
            removed(dir.path()),
            Some(BuildpackError::SourcesRemovedUnknown)
        ));
        std::fs::write(dir.path().join("empty/main.go"), "package main").unwrap();
        assert!(removed(dir.path()).is_none());
    }

    #[test]
    fn the_error_names_the_cause_and_the_setting_that_keeps_sources() {
        let go = removed_error(Family::Go).to_string();
        assert!(
            go.contains("go-build") && go.contains("BP_KEEP_FILES"),
            "{go}"
        );
        let java = removed_error(Family::Java).to_string();
        assert!(java.contains("BP_INCLUDE_FILES"), "{java}");
    }
}
