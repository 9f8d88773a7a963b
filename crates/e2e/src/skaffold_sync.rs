//! What `skaffold dev` does when files change, step by step, for a running
//! container: every changed path is matched against the image's sync rules
//! (Skaffold's `intersect`, ported and checked against its vectors); if any
//! file matches no rule the whole batch is rebuilt instead; otherwise the
//! copies go through `tar xmf - -C / --no-same-owner` with the tar stream
//! made by Skaffold's own `CreateMappedTar` (the probe), then deletions
//! through `rm -rf -- DEST...`, both exec'd in the container.

use crate::container::Container;
use crate::tools::{run, tool};
use anyhow::bail;
use filesync_rules::skaffold::intersect;
use filesync_rules::SyncRule;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Skaffold's decision for a batch of changes.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Synced: the time the tar/rm execs took.
    Synced(Duration),
    /// Some file matches no rule: Skaffold rebuilds the image.
    Rebuild,
}

/// The sync rules Skaffold would use for an image: those of its
/// `io.buildpacks.build.metadata` BOM (auto sync), else ours.
pub fn rules_of(labels: &BTreeMap<String, String>) -> Vec<SyncRule> {
    let legacy = filesync_rules::skaffold::rules_from_build_metadata(
        labels
            .get("io.buildpacks.build.metadata")
            .map(String::as_str),
    )
    .ok()
    .flatten();
    legacy.unwrap_or_else(|| {
        labels
            .get("skaffold-filesync.metadata")
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|v| serde_json::from_value(v["devmode.sync"].clone()).ok())
            .unwrap_or_default()
    })
}

/// Syncs `changed` and `deleted` (relative to `context`) into `container`.
pub fn sync(
    container: &Container,
    context: &Path,
    rules: &[SyncRule],
    changed: &[&str],
    deleted: &[&str],
) -> anyhow::Result<Decision> {
    let ctx = context.to_str().unwrap();
    let abs = |rel: &&str| context.join(rel).display().to_string();
    let changed_abs: Vec<String> = changed.iter().map(abs).collect();
    let deleted_abs: Vec<String> = deleted.iter().map(abs).collect();
    let all: Vec<&str> = changed_abs
        .iter()
        .chain(&deleted_abs)
        .map(String::as_str)
        .collect();
    // All or nothing: one unmatched file and the batch is rebuilt.
    let Some(_) = intersect(ctx, "/workspace", rules, &all)? else {
        return Ok(Decision::Rebuild);
    };
    let copies = intersect(
        ctx,
        "/workspace",
        rules,
        &changed_abs.iter().map(String::as_str).collect::<Vec<_>>(),
    )?
    .unwrap_or_default();
    let deletes = intersect(
        ctx,
        "/workspace",
        rules,
        &deleted_abs.iter().map(String::as_str).collect::<Vec<_>>(),
    )?
    .unwrap_or_default();
    let start = Instant::now();
    // Copies first, then deletions (only when there are any): the order
    // of Skaffold's `PodSyncer.sync` and the docker deployer's
    // `ContainerSyncer.Sync` (pkg/skaffold/sync).
    if !copies.is_empty() {
        let dir = tempfile::tempdir()?;
        let map = dir.path().join("pathmap.json");
        std::fs::write(&map, serde_json::to_vec(&copies)?)?;
        let stream = run(Command::new(tool("probe")).arg("synctar").arg(&map))?.stdout;
        let out = container.exec(&["tar", "xmf", "-", "-C", "/", "--no-same-owner"], &stream)?;
        if !out.status.success() {
            bail!(
                "tar in the container failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    if !deletes.is_empty() {
        let mut args = vec!["rm", "-rf", "--"];
        args.extend(deletes.values().flatten().map(String::as_str));
        let out = container.exec(&args, b"")?;
        if !out.status.success() {
            bail!(
                "rm in the container failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok(Decision::Synced(start.elapsed()))
}
