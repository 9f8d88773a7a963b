//! Detection: pass only for dev builds, so production builds are untouched
//! (no layer, label or process from us). For families that rebuild in the
//! container, ask the toolchain's provider to keep it at launch — as an
//! alternative, so detection never fails for lack of such a provider.
//!
//! The sync plan (family, rules, reload action) is decided here, where the
//! app's sources are certainly present: Paketo's go-build (unless
//! `BP_KEEP_FILES`) and the JVM build buildpacks (libbs, unless
//! `BP_INCLUDE_FILES`) delete them before our build runs. It reaches our
//! build through the build plan: an entry we provide and require ourselves,
//! with the plan as its metadata.

use crate::errors::BuildpackError;
use filesync_rules::{family, Family, Plan};
use libcnb::data::build_plan::{BuildPlan, BuildPlanBuilder, Require};
use libcnb::data::buildpack_plan::BuildpackPlan;
use std::path::Path;

/// The build-plan entry carrying the plan from detect to build.
pub const PLAN_ENTRY: &str = "skaffold-filesync";

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
    plan: Option<&Plan>,
) -> Result<BuildPlan, BuildpackError> {
    let family = family_override.or_else(|| family::detect(app_dir));
    let own = || -> Result<Require, BuildpackError> {
        let mut require = Require::new(PLAN_ENTRY);
        if let Some(plan) = plan {
            let mut metadata = toml::value::Table::new();
            metadata.insert(
                "plan".into(),
                toml::Value::try_from(plan).map_err(|e| BuildpackError::Write {
                    what: "build plan",
                    message: e.to_string(),
                })?,
            );
            require
                .metadata(metadata)
                .map_err(|e| BuildpackError::Write {
                    what: "build plan",
                    message: e.to_string(),
                })?;
        }
        Ok(require)
    };
    let mut builder = BuildPlanBuilder::new()
        .provides(PLAN_ENTRY)
        .requires(own()?);
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
        builder = builder
            .requires(require)
            .or()
            .provides(PLAN_ENTRY)
            .requires(own()?);
    }
    Ok(builder.build())
}

/// The plan detect decided, if the build plan carries one.
pub fn plan_from_detect(plan: &BuildpackPlan) -> Option<Plan> {
    plan.entries
        .iter()
        .filter(|e| e.name == PLAN_ENTRY)
        .find_map(|e| e.metadata.get("plan").cloned())
        .and_then(|v| v.try_into().ok())
}
