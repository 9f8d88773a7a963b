//! Reading an exported image back: its config (labels, env, entrypoint)
//! with `skopeo inspect`, its file system with `skopeo copy` + `umoci unpack`.

use crate::tools::{run, tool};
use anyhow::Context;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Debug)]
pub struct Image {
    pub reference: String,
}

impl Image {
    pub fn new(reference: &str) -> Image {
        Image {
            reference: reference.to_string(),
        }
    }

    /// The OCI image config (`{"config": {"Labels", "Env", "Entrypoint", ...}}`).
    pub fn config(&self) -> anyhow::Result<Value> {
        let out = run(Command::new(tool("skopeo")).args([
            "inspect",
            "--config",
            "--tls-verify=false",
            &format!("docker://{}", self.reference),
        ]))?;
        serde_json::from_slice(&out.stdout).context("skopeo inspect --config output")
    }

    pub fn labels(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let config = self.config()?;
        Ok(serde_json::from_value(config["config"]["Labels"].clone()).unwrap_or_default())
    }

    /// Copies the image into an OCI layout at `dir/layout` (tag `img`).
    pub fn to_oci_layout(&self, dir: &Path) -> anyhow::Result<String> {
        let layout = format!("{}:img", dir.join("layout").display());
        run(Command::new(tool("skopeo")).args([
            "copy",
            "-q",
            "--format=oci",
            "--src-tls-verify=false",
            &format!("docker://{}", self.reference),
            &format!("oci:{layout}"),
        ]))?;
        relabel_docker_layers(&dir.join("layout"))?;
        Ok(layout)
    }

    /// Unpacks the image into a runc bundle at `dir/bundle`; returns it.
    pub fn unpack(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let layout = self.to_oci_layout(dir)?;
        let bundle = dir.join("bundle");
        run(Command::new(tool("umoci"))
            .args(["unpack", "--image", &layout])
            .arg(&bundle))?;
        Ok(bundle)
    }
}

/// One layer a buildpack contributed to an image, as the image stores it.
#[derive(Debug, Clone)]
pub struct LayerBytes {
    /// The buildpack's name for it (`filesync`, `go-dev`, …).
    pub name: String,
    /// The layer's tar, uncompressed (what a container's file system gets).
    pub tar: u64,
    /// Its gzip'd blob (what a registry stores and a pull moves).
    pub compressed: u64,
}

impl Image {
    /// The layers `buildpack` contributed, read from the image itself: the
    /// lifecycle's metadata label names each one's diff id
    /// (`buildpacks[].layers.NAME.sha`), the config's `rootfs.diff_ids`
    /// place it in the manifest, whose blob is measured. `dir` holds the
    /// OCI copy.
    pub fn layer_bytes(&self, buildpack: &str, dir: &Path) -> anyhow::Result<Vec<LayerBytes>> {
        let labels = self.labels()?;
        let metadata: Value = serde_json::from_str(
            labels
                .get("io.buildpacks.lifecycle.metadata")
                .context("no io.buildpacks.lifecycle.metadata label")?,
        )?;
        let config = self.config()?;
        let diff_ids: Vec<&str> = config["rootfs"]["diff_ids"]
            .as_array()
            .context("config rootfs.diff_ids")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let layout = dir.join("layout");
        self.to_oci_layout(dir)?;
        let blob = |digest: &str| {
            layout
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:"))
        };
        let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json"))?)?;
        let manifest_digest = index["manifests"][0]["digest"]
            .as_str()
            .context("index digest")?;
        let manifest: Value = serde_json::from_slice(&std::fs::read(blob(manifest_digest))?)?;
        let layers = manifest["layers"].as_array().context("manifest layers")?;
        let ours = metadata["buildpacks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["key"] == buildpack)
            .with_context(|| format!("{buildpack} contributed no layer"))?;
        let mut out = Vec::new();
        for (name, layer) in ours["layers"].as_object().into_iter().flatten() {
            let Some(sha) = layer["sha"].as_str() else {
                continue; // a build- or cache-only layer
            };
            let i = diff_ids
                .iter()
                .position(|d| *d == sha)
                .with_context(|| format!("layer {name} ({sha}) not in the image's diff ids"))?;
            let digest = layers[i]["digest"].as_str().context("layer digest")?;
            let compressed = layers[i]["size"].as_u64().context("layer size")?;
            let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(blob(digest))?);
            let tar = std::io::copy(&mut gz, &mut std::io::sink())?;
            out.push(LayerBytes {
                name: name.clone(),
                tar,
                compressed,
            });
        }
        Ok(out)
    }
}

/// The lifecycle's exporter writes its own layers with Docker media types
/// (`application/vnd.docker.image.rootfs.diff.tar.gzip`) inside an OCI
/// manifest; umoci unpacks only OCI-typed layers. The bytes are the same
/// gzip'd tar either way, so relabel them in our local copy: rewrite the
/// manifest blob and point the index at it.
fn relabel_docker_layers(layout: &Path) -> anyhow::Result<()> {
    use sha2::Digest;
    let index_path = layout.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path)?)?;
    for m in index["manifests"]
        .as_array_mut()
        .context("index manifests")?
    {
        let digest = m["digest"].as_str().context("digest")?.to_string();
        let blob = layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"));
        let text = std::fs::read_to_string(&blob)?;
        let fixed = text.replace(
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.oci.image.layer.v1.tar+gzip",
        );
        if fixed == text {
            continue;
        }
        let hex = format!("{:x}", sha2::Sha256::digest(fixed.as_bytes()));
        std::fs::write(layout.join("blobs/sha256").join(&hex), &fixed)?;
        m["digest"] = Value::String(format!("sha256:{hex}"));
        m["size"] = Value::from(fixed.len());
    }
    std::fs::write(&index_path, serde_json::to_vec(&index)?)?;
    Ok(())
}
