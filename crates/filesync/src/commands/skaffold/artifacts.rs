//! The buildpacks artifacts of one skaffold.yaml document that build the app.

use anyhow::{bail, Context};
use serde_norway::Value;
use std::path::Path;

/// What the generated profile needs to know about one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Artifact {
    /// Position in `build.artifacts` (JSON-patch paths address it by index).
    pub index: usize,
    pub image: String,
    /// The artifact's context (canonical): the app the rules are for.
    pub context_dir: std::path::PathBuf,
    /// `buildpacks.env` (`KEY=VALUE` items), `None` when absent.
    pub env: Option<Vec<String>>,
    /// `buildpacks.buildpacks`, `None` when absent (the builder's order is used).
    pub buildpacks: Option<Vec<String>>,
    /// `buildpacks.trustBuilder: true`.
    pub trust_builder: bool,
    /// `buildpacks.builder`, `None` when absent.
    pub builder: Option<String>,
    /// `buildpacks.projectDescriptor` (relative to the context), `None`
    /// when absent (`project.toml`).
    pub project_descriptor: Option<String>,
}

impl Artifact {
    /// Value of `KEY` in the artifact's build env, as the buildpack sees it.
    pub(super) fn env_var(&self, key: &str) -> Option<String> {
        self.env.as_ref()?.iter().find_map(|item| {
            let (k, v) = item.split_once('=')?;
            (k == key).then(|| v.to_string())
        })
    }
}

/// Buildpacks artifacts of `doc` whose `context` (relative to `base_dir`,
/// the skaffold file's directory, default `.`) is `app_dir` (canonical) or
/// lies below it, so one run at a monorepo's root covers every app.
pub(super) fn for_app(
    doc: &Value,
    base_dir: &Path,
    app_dir: &Path,
) -> anyhow::Result<Vec<Artifact>> {
    let Some(list) = doc.get("build").and_then(|b| b.get("artifacts")) else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_sequence() else {
        bail!("build.artifacts: expected a list");
    };
    let mut found = Vec::new();
    for (index, artifact) in list.iter().enumerate() {
        let Some(bp) = artifact.get("buildpacks") else {
            continue;
        };
        let image =
            str_at(artifact, "image").with_context(|| format!("build.artifacts[{index}]"))?;
        let context = match artifact.get("context") {
            None | Some(Value::Null) => ".".to_string(),
            Some(v) => v
                .as_str()
                .with_context(|| format!("build.artifacts[{index}].context: expected a string"))?
                .to_string(),
        };
        let Ok(context_dir) = base_dir.join(&context).canonicalize() else {
            continue; // a context that does not exist cannot be the app
        };
        if !context_dir.starts_with(app_dir) {
            continue;
        }
        found.push(Artifact {
            index,
            image,
            context_dir,
            env: string_list(bp, "env")
                .with_context(|| format!("build.artifacts[{index}].buildpacks.env"))?,
            buildpacks: string_list(bp, "buildpacks")
                .with_context(|| format!("build.artifacts[{index}].buildpacks.buildpacks"))?,
            trust_builder: bp.get("trustBuilder").and_then(Value::as_bool) == Some(true),
            builder: bp
                .get("builder")
                .and_then(Value::as_str)
                .map(str::to_string),
            project_descriptor: bp
                .get("projectDescriptor")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    Ok(found)
}

fn str_at(value: &Value, key: &str) -> anyhow::Result<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .with_context(|| format!("{key}: expected a string"))
}

fn string_list(value: &Value, key: &str) -> anyhow::Result<Option<Vec<String>>> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .context("expected a list of strings")
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map(Some),
        Some(_) => bail!("expected a list of strings"),
    }
}
