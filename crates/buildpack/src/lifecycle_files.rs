//! The one reader of the files the lifecycle and the buildpack's own
//! package hand the build: `group.toml`, the earlier buildpacks'
//! `launch.toml` and layer metadata (`<layer>.toml`), and this buildpack's
//! `buildpack.toml` `[metadata]`. What the files *mean* for a dev image is
//! decided elsewhere (`app_process`, `layers::maven`); here they are only
//! found, parsed and reduced to what those modules look at.
//!
//! Lifecycle v0.21.17 facts this follows (read from its source):
//! - `phase/builder.go`, `Builder.Build` runs the buildpacks in the order of
//!   `<layers>/group.toml` (`CNB_GROUP_PATH`'s default).
//! - `buildpack/build.go`, `prepareInputPaths` / `readOutputFilesBp`: each
//!   buildpack's layers dir is `<layers>/<id with '/' as '_'>`
//!   (`launch.EscapeID`) and its processes are in `launch.toml` there.
//! - `buildpack/files.go`, `DecodeLaunchTOML`: `command` is a string before
//!   Buildpack API 0.9 and an array from 0.9 on.
//! - A layer's types are `[types]` of its `<layer>.toml` since Buildpack
//!   API 0.6, top-level keys before (the CNB buildpack spec, "Layer Types").
//!
//! We run last, so when our build runs every earlier buildpack's files are
//! in place; later buildpacks (none, normally) cannot be seen and are
//! ignored.
//!
//! A missing or malformed `group.toml` or `launch.toml` is an error for
//! every reader: the lifecycle wrote them, so one that cannot be read means
//! a broken platform, and guessing (no earlier buildpacks, say) would give a
//! dev image that wraps the wrong process or lacks the JDK check. A layer
//! whose `<layer>.toml` is missing or unreadable counts as not launched:
//! nothing of it can be relied on at launch.

use crate::FilesyncBuildpack;
use libcnb::build::BuildContext;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A file that could not be used: data only, rendered by `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleFileError {
    pub file: LifecycleFile,
    pub path: PathBuf,
    /// The I/O or TOML error, or what the content lacks.
    pub details: String,
}

/// Which kind of file [`LifecycleFileError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleFile {
    /// `<layers>/group.toml`.
    Group,
    /// An earlier buildpack's `launch.toml`.
    LaunchToml,
    /// This buildpack's own `buildpack.toml` (its `[metadata]`).
    BuildpackToml,
}

/// The key of `buildpack.toml`'s `[metadata]` naming the packaged runtime
/// binary, relative to the buildpack's directory.
pub(crate) const RUNTIME_BINARY_KEY: &str = "runtime-binary";

/// The lifecycle's layers directory: the parent of libcnb's layers dir,
/// which is ours, `<layers>/<escaped id>`.
pub(crate) fn layers_root(own_layers_dir: &Path) -> &Path {
    own_layers_dir.parent().unwrap_or(own_layers_dir)
}

/// A buildpack's layers dir (`launch.EscapeID`).
fn buildpack_dir(layers: &Path, id: &str) -> PathBuf {
    layers.join(id.replace('/', "_"))
}

/// The ids of the buildpacks before `own_id` in `group.toml`, in order.
pub(crate) fn earlier_buildpacks(
    layers: &Path,
    own_id: &str,
) -> Result<Vec<String>, LifecycleFileError> {
    #[derive(Deserialize)]
    struct Group {
        #[serde(default)]
        group: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        id: String,
    }
    let group: Group = read_toml(LifecycleFile::Group, &layers.join("group.toml"))?;
    let ids = group.group.into_iter().map(|e| e.id);
    Ok(ids.take_while(|id| id != own_id).collect())
}

/// A process from a buildpack's launch.toml, reduced to what we look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeclaredProcess {
    pub kind: String,
    /// The command; a legacy (Buildpack API < 0.9) string command is split
    /// on whitespace, since only its first word is looked at.
    pub command: Vec<String>,
    pub default: bool,
}

/// One earlier buildpack's processes, in the order it declared them.
#[derive(Debug, Clone)]
pub(crate) struct BuildpackProcesses {
    pub buildpack: String,
    pub processes: Vec<DeclaredProcess>,
}

/// The processes of the buildpacks before `own_id`, in group order. A
/// buildpack without a launch.toml declared none.
pub(crate) fn earlier_processes(
    layers: &Path,
    own_id: &str,
) -> Result<Vec<BuildpackProcesses>, LifecycleFileError> {
    #[derive(Deserialize)]
    struct LaunchToml {
        #[serde(default)]
        processes: Vec<RawProcess>,
    }
    #[derive(Deserialize)]
    struct RawProcess {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        command: RawCommand,
        #[serde(default)]
        default: bool,
    }
    let mut outputs = Vec::new();
    for buildpack in earlier_buildpacks(layers, own_id)? {
        let path = buildpack_dir(layers, &buildpack).join("launch.toml");
        if !path.exists() {
            continue;
        }
        let launch: LaunchToml = read_toml(LifecycleFile::LaunchToml, &path)?;
        let processes = launch.processes.into_iter().map(|p| DeclaredProcess {
            kind: p.kind,
            command: p.command.into_words(),
            default: p.default,
        });
        outputs.push(BuildpackProcesses {
            buildpack,
            processes: processes.collect(),
        });
    }
    Ok(outputs)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCommand {
    Array(Vec<String>),
    Legacy(String),
}

impl Default for RawCommand {
    fn default() -> Self {
        RawCommand::Array(Vec::new())
    }
}

impl RawCommand {
    fn into_words(self) -> Vec<String> {
        match self {
            RawCommand::Array(a) => a,
            RawCommand::Legacy(s) => s.split_whitespace().map(String::from).collect(),
        }
    }
}

/// An earlier buildpack's layer, as its `<layer>.toml` declares it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EarlierLayer {
    pub dir: PathBuf,
    pub launch: bool,
}

/// Every layer of the buildpacks before `own_id`, in group order (each
/// buildpack's sorted by name).
pub(crate) fn earlier_layers(
    layers: &Path,
    own_id: &str,
) -> Result<Vec<EarlierLayer>, LifecycleFileError> {
    let mut out = Vec::new();
    for buildpack in earlier_buildpacks(layers, own_id)? {
        let Ok(read) = std::fs::read_dir(buildpack_dir(layers, &buildpack)) else {
            continue;
        };
        let mut found: Vec<EarlierLayer> = read
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .map(|p| EarlierLayer {
                launch: layer_is_launch(&p.with_extension("toml")),
                dir: p,
            })
            .collect();
        found.sort_by(|a, b| a.dir.cmp(&b.dir));
        out.extend(found);
    }
    Ok(out)
}

/// `launch = true` in a layer's content metadata (`[types]` since
/// Buildpack API 0.6, top level before).
fn layer_is_launch(toml_path: &Path) -> bool {
    let Some(value) = std::fs::read_to_string(toml_path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
    else {
        return false;
    };
    let flag = |t: &toml::Table| t.get("launch").and_then(toml::Value::as_bool);
    value
        .get("types")
        .and_then(toml::Value::as_table)
        .and_then(flag)
        .or_else(|| flag(&value))
        .unwrap_or(false)
}

/// The packaged runtime binary: `buildpack.toml`'s `[metadata]`
/// [`RUNTIME_BINARY_KEY`], as libcnb parsed it, a relative path inside the
/// buildpack's directory.
pub(crate) fn runtime_binary(
    context: &BuildContext<FilesyncBuildpack>,
) -> Result<PathBuf, LifecycleFileError> {
    let metadata = context.buildpack_descriptor.metadata.as_ref();
    let value = metadata.and_then(|m| m.get(RUNTIME_BINARY_KEY));
    runtime_binary_in(&context.buildpack_dir, value.map(|v| v.as_str()))
}

/// [`runtime_binary`] from the key's value: `None` when absent,
/// `Some(None)` when it is not a string.
// An absent key and a key without a value are different errors.
#[allow(clippy::option_option)]
fn runtime_binary_in(
    buildpack_dir: &Path,
    value: Option<Option<&str>>,
) -> Result<PathBuf, LifecycleFileError> {
    let details = match value.map(|v| v.map(Path::new)) {
        None => format!("lacks [metadata] {RUNTIME_BINARY_KEY}"),
        Some(None) => format!("has a [metadata] {RUNTIME_BINARY_KEY} that is not a string"),
        Some(Some(rel)) if is_inside(rel) => return Ok(buildpack_dir.join(rel)),
        Some(Some(rel)) => format!(
            "has [metadata] {RUNTIME_BINARY_KEY} = {:?}, not a relative path inside the buildpack",
            rel.display().to_string()
        ),
    };
    Err(LifecycleFileError {
        file: LifecycleFile::BuildpackToml,
        path: buildpack_dir.join("buildpack.toml"),
        details,
    })
}

/// A non-empty relative path that stays below its base.
fn is_inside(rel: &Path) -> bool {
    use std::path::Component;
    rel.components().next().is_some() && rel.components().all(|c| matches!(c, Component::Normal(_)))
}

fn read_toml<T: serde::de::DeserializeOwned>(
    file: LifecycleFile,
    path: &Path,
) -> Result<T, LifecycleFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string());
    text.and_then(|t| toml::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|details| LifecycleFileError {
            file,
            path: path.to_path_buf(),
            details,
        })
}

#[cfg(test)]
mod tests;
