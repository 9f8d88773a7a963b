//! The builder and run image a project needs, checked in the registry
//! before Skaffold pulls them (it fails deep in its output otherwise).

use crate::tools::tool;
use anyhow::{bail, Context};
use std::process::Command;

/// The raw config of `reference` from its registry (skopeo), or one line
/// saying which image is missing from which registry.
fn registry_config(reference: &str, what: &str) -> anyhow::Result<serde_json::Value> {
    let out = Command::new(tool("skopeo"))
        .args(["inspect", "--config", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .context("running skopeo")?;
    if !out.status.success() {
        bail!(
            "the {what} {reference} is not in the registry: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Fails with one line naming `reference` when the registry lacks it.
pub fn require_in_registry(reference: &str, what: &str) -> anyhow::Result<()> {
    registry_config(reference, what).map(|_| ())
}

/// The run image a builder names (its `io.buildpacks.builder.metadata`).
pub(super) fn run_image_of(builder: &str) -> anyhow::Result<String> {
    let config = registry_config(builder, "builder")?;
    let label = config["config"]["Labels"]["io.buildpacks.builder.metadata"]
        .as_str()
        .with_context(|| format!("{builder} has no io.buildpacks.builder.metadata label"))?;
    let meta: serde_json::Value = serde_json::from_str(label)?;
    // pack ≥ 0.30 writes `images`; older builders only `stack.runImage`.
    let candidates = [
        meta["images"][0]["image"].as_str(),
        meta["stack"]["runImage"]["image"].as_str(),
    ];
    let found = candidates.into_iter().flatten().find(|s| !s.is_empty());
    found
        .map(str::to_string)
        .with_context(|| format!("{builder} names no run image"))
}
