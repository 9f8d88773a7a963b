//! The sync plan a build uses: the one detect decided while the app's
//! sources were certainly there, else (a platform that skipped our
//! detect's plan) one decided now. A family that rebuilds in the container
//! needs its sources at launch: when an earlier buildpack removed them,
//! the error says which and how to keep them (see `paketo::source_removal`).

use crate::errors::BuildpackError;
use crate::sources::{self, SourcesError};
use crate::{detect, FilesyncBuildpack};
use filesync_rules::{plan_for_app, Overrides, Plan, ReloadAction};
use libcnb::build::BuildContext;

/// The plan for this build.
pub(crate) fn for_build(
    context: &BuildContext<FilesyncBuildpack>,
    overrides: &Overrides,
) -> Result<Plan, BuildpackError> {
    let app_dir = context.app_dir.display().to_string();
    let plan = match detect::plan_from_detect(&context.buildpack_plan) {
        Some(plan) => plan,
        // The engine's only error here: no family detected.
        None => plan_for_app(&context.app_dir, &app_dir, overrides).map_err(|_| {
            sources::removed(&context.app_dir).unwrap_or(SourcesError::NoFamily {
                app_dir: context.app_dir.clone(),
            })
        })?,
    };
    if matches!(plan.action, ReloadAction::Rebuild { .. })
        && filesync_rules::family::detect(&context.app_dir).is_none()
    {
        return Err(SourcesError::Removed {
            family: plan.family,
        }
        .into());
    }
    Ok(plan)
}

/// Tells the build log the plan: family, rules and reload.
pub(crate) fn print(plan: &Plan) {
    println!(
        "[skaffold-filesync] {} app: {} sync rule(s), reload: {}",
        plan.family.name(),
        plan.rules.len(),
        match &plan.action {
            ReloadAction::None => "none".to_string(),
            ReloadAction::Restart => "restart".to_string(),
            ReloadAction::Rebuild { command } => format!("rebuild with `{}`", command.join(" ")),
        }
    );
    for r in &plan.rules {
        println!("[skaffold-filesync]   {} -> {}", r.src, r.dest);
    }
}
