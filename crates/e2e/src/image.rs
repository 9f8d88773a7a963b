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
