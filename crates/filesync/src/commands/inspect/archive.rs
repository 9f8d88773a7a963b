//! Image config from a `docker save` tarball (`manifest.json` naming the
//! config file), as also written by `skopeo copy … docker-archive:FILE`.

use anyhow::{bail, Context};
use serde_json::Value;
use std::io::Read;
use std::path::Path;

pub(super) fn config(file: &Path) -> anyhow::Result<Value> {
    let manifest = read_entry(file, "manifest.json")?
        .context("no manifest.json: not a docker-save tarball")?;
    let manifest: Value = serde_json::from_slice(&manifest).context("manifest.json: not JSON")?;
    let images = manifest
        .as_array()
        .context("manifest.json: expected a list")?;
    let config_name = match images.as_slice() {
        [one] => one["Config"].as_str().context("manifest.json: no Config")?,
        [] => bail!("manifest.json lists no image"),
        _ => bail!(
            "the tarball holds {} images; save one image per tarball",
            images.len()
        ),
    };
    let bytes = read_entry(file, config_name)?
        .with_context(|| format!("config {config_name} missing from the tarball"))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{config_name}: not JSON"))
}

/// The content of entry `name` (leading `./` ignored), `None` when absent.
fn read_entry(file: &Path, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let reader =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().context("not a tar file")? {
        let mut entry = entry.context("not a tar file")?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if path.trim_start_matches("./") == name {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}
