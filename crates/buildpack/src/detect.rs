//! Detection: pass only for dev builds, so production builds are untouched
//! (no layer, label or process from us). For families that rebuild in the
//! container, ask the toolchain's provider to keep it at launch — as an
//! alternative, so detection never fails for lack of such a provider.

use crate::errors::BuildpackError;
use filesync_rules::{family, Family};
use libcnb::data::build_plan::{BuildPlan, BuildPlanBuilder, Require};
use std::path::Path;

/// The build-plan requirement that keeps a family's toolchain at launch:
/// Paketo's `go-dist` provides `go`, `bellsoft-liberica` provides `jdk`,
/// both honouring `launch = true` metadata.
fn toolchain(family: Family) -> Option<&'static str> {
    match family {
        Family::Go => Some("go"),
        Family::Java => Some("jdk"),
        Family::Dotnet => Some("dotnet-sdk"),
        _ => None,
    }
}

pub fn build_plan(
    app_dir: &Path,
    family_override: Option<Family>,
) -> Result<BuildPlan, BuildpackError> {
    let family = family_override.or_else(|| family::detect(app_dir));
    let mut builder = BuildPlanBuilder::new();
    if let Some(name) = family.and_then(toolchain) {
        let mut require = Require::new(name);
        let mut metadata = toml::value::Table::new();
        metadata.insert("launch".into(), toml::Value::Boolean(true));
        metadata.insert("build".into(), toml::Value::Boolean(true));
        require
            .metadata(metadata)
            .map_err(|e| BuildpackError::Write {
                what: "build plan",
                message: e.to_string(),
            })?;
        builder = builder.requires(require).or();
    }
    Ok(builder.build())
}
