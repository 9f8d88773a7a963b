//! Image config from an OCI image layout directory (`index.json` + `blobs/`),
//! as written by umoci, skopeo and the lifecycle's OCI-layout export.

use anyhow::{bail, Context};
use serde_json::Value;
use std::path::Path;

const REF_NAME: &str = "org.opencontainers.image.ref.name";

pub(super) fn config(dir: &Path, tag: Option<&str>) -> anyhow::Result<Value> {
    let index = read_json(&dir.join("index.json")).context("not an OCI image layout")?;
    let manifests = index["manifests"]
        .as_array()
        .context("index.json: no manifests")?;
    let chosen = match tag {
        Some(tag) => manifests
            .iter()
            .find(|m| m["annotations"][REF_NAME].as_str() == Some(tag))
            .with_context(|| format!("no image tagged {tag:?} (tags: {})", tags(manifests)))?,
        None => match manifests.as_slice() {
            [only] => only,
            [] => bail!("index.json lists no image"),
            _ => bail!(
                "several images, name one as oci:DIR:TAG (tags: {})",
                tags(manifests)
            ),
        },
    };
    let manifest = resolve(dir, chosen)?;
    let digest = manifest["config"]["digest"]
        .as_str()
        .context("manifest has no config digest")?;
    read_json(&blob_path(dir, digest)?)
}

fn tags(manifests: &[Value]) -> String {
    let names: Vec<&str> = manifests
        .iter()
        .filter_map(|m| m["annotations"][REF_NAME].as_str())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Follows a descriptor to an image manifest, choosing linux/amd64 in an index.
fn resolve(dir: &Path, descriptor: &Value) -> anyhow::Result<Value> {
    let digest = descriptor["digest"]
        .as_str()
        .context("descriptor without digest")?;
    let doc = read_json(&blob_path(dir, digest)?)?;
    if let Some(manifests) = doc["manifests"].as_array() {
        let next = manifests
            .iter()
            .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
            .or_else(|| manifests.first())
            .context("image index without manifests")?;
        return resolve(dir, next);
    }
    Ok(doc)
}

fn blob_path(dir: &Path, digest: &str) -> anyhow::Result<std::path::PathBuf> {
    let (algorithm, hex) = digest
        .split_once(':')
        .with_context(|| format!("malformed digest {digest:?}"))?;
    if algorithm.contains(['/', '.']) || hex.contains(['/', '.']) {
        bail!("malformed digest {digest:?}");
    }
    Ok(dir.join("blobs").join(algorithm).join(hex))
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: not JSON", path.display()))
}
