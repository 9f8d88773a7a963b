//! Skaffold's sync semantics (v2.24 `pkg/skaffold/sync/sync.go` and
//! `build/buildpacks/metadata.go`), reproduced so that what this project
//! predicts is exactly what Skaffold does.
//!
//! Facts relied on: each changed path is made relative to the artifact
//! context with `filepath.Rel`, matched against every rule *in order* with
//! doublestar v1.3.4 `PathMatch(src, rel)`; each match yields
//! `path.Join(dest is absolute ? "" : workingDir, dest, TrimPrefix(rel,
//! strip))`. If any file of a batch matches no rule, the whole batch is
//! rebuilt instead of synced (all or nothing).

use crate::doublestar::{self, BadPattern};
use crate::gopath;
use crate::SyncRule;
use std::collections::BTreeMap;

/// Why Skaffold would fail a sync computation (it then rebuilds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("cannot make {file} relative to the context {context}")]
    NotInContext { file: String, context: String },
    #[error("bad sync pattern {pattern:?}")]
    BadPattern { pattern: String },
}

/// The destinations of one relative path under `rule`, or `None` when the
/// rule does not match it.
pub fn destination(
    rule: &SyncRule,
    rel: &str,
    workdir: &str,
) -> Result<Option<String>, BadPattern> {
    if !doublestar::path_match(&rule.src, rel)? {
        return Ok(None);
    }
    let base = if rule.dest.starts_with('/') {
        ""
    } else {
        workdir
    };
    let tail = rel.strip_prefix(rule.strip.as_str()).unwrap_or(rel);
    Ok(Some(gopath::join(&[base, &rule.dest, tail])))
}

/// Skaffold's `intersect`: maps each changed file to its destinations.
/// `Ok(None)`: some file matches no rule, so Skaffold rebuilds instead.
pub fn intersect(
    context: &str,
    workdir: &str,
    rules: &[SyncRule],
    files: &[&str],
) -> Result<Option<BTreeMap<String, Vec<String>>>, SyncError> {
    let mut out = BTreeMap::new();
    for file in files {
        let rel = gopath::rel(context, file).ok_or_else(|| SyncError::NotInContext {
            file: file.to_string(),
            context: context.to_string(),
        })?;
        let mut dests = Vec::new();
        for rule in rules {
            let dest = destination(rule, &rel, workdir).map_err(|_| SyncError::BadPattern {
                pattern: rule.src.clone(),
            })?;
            dests.extend(dest);
        }
        if dests.is_empty() {
            return Ok(None);
        }
        out.insert(file.to_string(), dests);
    }
    Ok(Some(out))
}

/// Skaffold's `SyncRules(labels)` for the `io.buildpacks.build.metadata`
/// label: the `devmode.sync` rules of every BOM entry, in order, strip
/// always empty. `Ok(None)`: no label, or no rules (Go's nil slice).
pub fn rules_from_build_metadata(
    label: Option<&str>,
) -> Result<Option<Vec<SyncRule>>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        #[serde(default)]
        bom: Vec<BomEntry>,
    }
    #[derive(serde::Deserialize)]
    struct BomEntry {
        #[serde(default)]
        metadata: BomMetadata,
    }
    #[derive(serde::Deserialize, Default)]
    struct BomMetadata {
        #[serde(rename = "devmode.sync", default)]
        sync: Vec<LabelRule>,
    }
    #[derive(serde::Deserialize)]
    struct LabelRule {
        #[serde(default)]
        src: String,
        #[serde(default)]
        dest: String,
    }
    let Some(label) = label else {
        return Ok(None);
    };
    let metadata: Metadata = serde_json::from_str(label)?;
    let rules: Vec<SyncRule> = metadata
        .bom
        .into_iter()
        .flat_map(|e| e.metadata.sync)
        .map(|r| SyncRule {
            src: r.src,
            dest: r.dest,
            strip: String::new(),
            about: String::new(),
        })
        .collect();
    Ok((!rules.is_empty()).then_some(rules))
}
