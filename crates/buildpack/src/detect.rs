//! Detection: pass only for dev builds, so production builds are untouched
//! (no layer, label or process from us). For families that rebuild in the
//! container, ask the toolchain's provider to keep it at launch — as an
//! alternative, so detection never fails for lack of such a provider.
//!
//! The toolchain requirements are `paketo::toolchain`'s; `bellsoft-liberica`
//! ignores `launch = true` on `jdk`, which `layers::maven` checks at build.
//!
//! The sync plan (family, rules, reload action) is decided here, where the
//! app's sources are certainly present: Paketo's go-build and the JVM build
//! buildpacks (libbs) delete them before our build runs, unless told not to
//! (`paketo::source_removal`). It reaches our
//! build through the build plan: an entry we provide and require ourselves,
//! with the plan as its metadata.

use crate::errors::BuildpackError;
use crate::paketo;
use filesync_rules::{family, Family, Plan};
use libcnb::data::build_plan::{BuildPlan, BuildPlanBuilder, Require};
use libcnb::data::buildpack_plan::BuildpackPlan;
use std::path::Path;

/// The build-plan entry carrying the plan from detect to build.
pub(crate) const PLAN_ENTRY: &str = "skaffold-filesync";

pub(crate) fn build_plan(
    app_dir: &Path,
    family_override: Option<Family>,
    plan: Option<&Plan>,
) -> Result<BuildPlan, BuildpackError> {
    let family = family_override.or_else(|| family::detect(app_dir));
    let own = || -> Result<Require, BuildpackError> {
        let mut metadata = toml::value::Table::new();
        if let Some(plan) = plan {
            let value = toml::Value::try_from(plan).map_err(plan_error)?;
            metadata.insert("plan".into(), value);
        }
        requirement(PLAN_ENTRY, metadata)
    };
    let mut builder = BuildPlanBuilder::new()
        .provides(PLAN_ENTRY)
        .requires(own()?);
    if let Some(name) = family.and_then(paketo::toolchain) {
        let mut metadata = toml::value::Table::new();
        metadata.insert("launch".into(), toml::Value::Boolean(true));
        metadata.insert("build".into(), toml::Value::Boolean(true));
        builder = builder
            .requires(requirement(name, metadata)?)
            .or()
            .provides(PLAN_ENTRY)
            .requires(own()?);
    }
    Ok(builder.build())
}

/// A build-plan requirement of `name` with `metadata` (none when empty).
fn requirement(name: &str, metadata: toml::value::Table) -> Result<Require, BuildpackError> {
    let mut require = Require::new(name);
    if !metadata.is_empty() {
        require.metadata(metadata).map_err(plan_error)?;
    }
    Ok(require)
}

fn plan_error(e: impl std::fmt::Display) -> BuildpackError {
    BuildpackError::WriteOutput {
        file: crate::errors::Output::BuildPlan,
        details: e.to_string(),
    }
}

/// The plan detect decided, if the build plan carries one.
pub(crate) fn plan_from_detect(plan: &BuildpackPlan) -> Option<Plan> {
    plan.entries
        .iter()
        .filter(|e| e.name == PLAN_ENTRY)
        .find_map(|e| e.metadata.get("plan").cloned())
        .and_then(|v| v.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use libcnb::data::buildpack_plan::Entry;

    /// What the lifecycle hands our build: the requirements we made,
    /// resolved into buildpack-plan entries.
    fn resolved(plan: &BuildPlan) -> BuildpackPlan {
        BuildpackPlan {
            entries: plan
                .requires
                .iter()
                .map(|r| Entry {
                    name: r.name.clone(),
                    metadata: r.metadata.clone(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_plan_decided_at_detect_reaches_build_with_and_without_a_toolchain() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("go.mod"), "module example.com/app\n").unwrap();
        std::fs::write(dir.path().join("main.go"), "package main\n").unwrap();
        let overrides = filesync_rules::Overrides::default();
        let plan = filesync_rules::plan_for_app(dir.path(), "/workspace", &overrides).unwrap();
        let build_plan = build_plan(dir.path(), None, Some(&plan)).unwrap();
        assert!(
            build_plan.requires.iter().any(|r| r.name == "go"),
            "a Go app asks for its toolchain at launch"
        );
        assert_eq!(plan_from_detect(&resolved(&build_plan)), Some(plan.clone()));
        // The alternative without the toolchain carries the plan too.
        let or = &build_plan.or[0];
        let json = serde_json::to_value(or).unwrap();
        assert_eq!(json["requires"][0]["name"], PLAN_ENTRY);
        assert!(json["requires"][0]["metadata"]["plan"].is_object());
    }
}
