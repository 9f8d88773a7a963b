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
            "--src-tls-verify=false",
            &format!("docker://{}", self.reference),
            &format!("oci:{layout}"),
        ]))?;
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
