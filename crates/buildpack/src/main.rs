//! The skaffold-filesync buildpack: for dev builds only, records the app's
//! Skaffold sync rules (legacy BOM + our own label), installs the `filesync`
//! runtime in a launch layer and makes the image's default process a
//! supervised, reloading version of the app's own process, with `tar` and
//! `rm` process types for Skaffold's sync on images that lack those tools.

mod app_process;
mod detect;
mod errors;
mod launch_toml;
mod layers;
mod settings;
mod sources;
mod spring_boot;
mod trigger;
mod writable;

/// Helpers shared by the unit tests.
#[cfg(test)]
mod test_support {
    /// A variable lookup over fixed pairs, standing in for the platform env.
    pub fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }
}

use errors::BuildpackError;
use filesync_rules::{plan_for_app, Overrides};
use filesync_runtime::config::{BatchEnd, LabelMetadata, RuntimeConfig, LABEL};
use launch_toml::{BomEntry, Label, LaunchToml, Process};
use libcnb::build::{BuildContext, BuildResult, BuildResultBuilder};
use libcnb::detect::{DetectContext, DetectResult, DetectResultBuilder};
use libcnb::generic::{GenericMetadata, GenericPlatform};
use libcnb::{buildpack_main, Buildpack, Platform};

pub struct FilesyncBuildpack;

fn platform_lookup(env: &libcnb::Env) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| env.get_string_lossy(k)
}

impl Buildpack for FilesyncBuildpack {
    type Platform = GenericPlatform;
    type Metadata = GenericMetadata;
    type Error = BuildpackError;

    fn detect(&self, context: DetectContext<Self>) -> libcnb::Result<DetectResult, Self::Error> {
        let env = context.platform.env();
        // A bad value must fail the build, but the lifecycle only *skips*
        // an optional buildpack whose detect errors: so detection passes and
        // build reports the error (and fails the build).
        match trigger::dev_build(platform_lookup(env)) {
            Ok(false) => return DetectResultBuilder::fail().build(),
            Ok(true) => {}
            Err(e) => {
                let title = errors::message(&BuildpackError::Setting(e).into()).title;
                eprintln!("[skaffold-filesync] {title}: the build will fail");
                return DetectResultBuilder::pass().build();
            }
        }
        // Bad overrides pass here too; build reports them.
        let overrides = Overrides::from_env(platform_lookup(env)).ok();
        let family = overrides.as_ref().and_then(|o| o.family);
        let sync_plan = overrides.as_ref().and_then(|o| {
            plan_for_app(&context.app_dir, &context.app_dir.display().to_string(), o).ok()
        });
        let plan = detect::build_plan(&context.app_dir, family, sync_plan.as_ref())?;
        DetectResultBuilder::pass().build_plan(plan).build()
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let env = context.platform.env();
        // Reached with an invalid trigger value too (see detect): fail here.
        trigger::dev_build(platform_lookup(env))?;
        let overrides = Overrides::from_env(platform_lookup(env)).map_err(BuildpackError::from)?;
        let settings = settings::Settings::from_env(platform_lookup(env))?;
        let process_type = app_process(&context, settings.process.as_deref())?;
        let mut plan = sync_plan(&context, &overrides)?;
        println!(
            "[skaffold-filesync] {} app: {} sync rule(s), reload: {}",
            plan.family.name(),
            plan.rules.len(),
            match &plan.action {
                filesync_rules::ReloadAction::None => "none".to_string(),
                filesync_rules::ReloadAction::Restart => "restart".to_string(),
                filesync_rules::ReloadAction::Rebuild { command } =>
                    format!("rebuild with `{}`", command.join(" ")),
            }
        );
        for r in &plan.rules {
            println!("[skaffold-filesync]   {} -> {}", r.src, r.dest);
        }
        if let Some(wrapper) = maven_rebuild(&plan) {
            layers::maven::install(&context, wrapper)?;
            let filesync = layers::filesync::binary_path(&context);
            if let Some(command) = layers::java_dev::install(&context, &filesync)? {
                plan.action = filesync_rules::ReloadAction::Rebuild { command };
            }
        }
        let label = LabelMetadata {
            sync: plan.rules.clone(),
            family: plan.family,
            action: plan.action.clone(),
            process_type: process_type.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let config = RuntimeConfig {
            plan: plan.clone(),
            process_type,
            debounce_ms: settings.debounce_ms,
            socket: "/tmp/filesync.sock".to_string(),
            stop_signal: settings.stop_signal.clone(),
            batch_end: if settings.sync_hook {
                BatchEnd::Hook
            } else {
                BatchEnd::Shim
            },
        };
        let opened = writable::make_tree_writable(&context.app_dir).map_err(|source| {
            BuildpackError::Writable {
                dir: context.app_dir.clone(),
                source,
            }
        })?;
        println!(
            "[skaffold-filesync] app files writable by the run user (dev image only): {opened} entries changed"
        );
        let binary = layers::filesync::install(&context, &config)?
            .display()
            .to_string();
        let process = |kind: &str, sub: &str, default: bool| Process {
            kind: kind.to_string(),
            command: vec![binary.clone(), sub.to_string()],
            args: Vec::new(),
            default,
        };
        let launch = LaunchToml {
            labels: vec![Label {
                key: LABEL.to_string(),
                value: serde_json::to_string(&label).expect("label JSON"),
            }],
            processes: vec![
                process("filesync", "supervise", true),
                process("tar", "tar", false),
                process("rm", "rm", false),
                process(settings::SYNC_DONE_PROCESS, "sync-done", false),
            ],
            bom: vec![BomEntry::devmode(&plan.rules)],
        };
        let write_error = |e: &dyn std::fmt::Display| BuildpackError::WriteOutput {
            file: errors::Output::LaunchToml,
            details: e.to_string(),
        };
        let text = launch.to_toml().map_err(|e| write_error(&e))?;
        std::fs::write(context.layers_dir.join("launch.toml"), text)
            .map_err(|e| write_error(&e))?;
        BuildResultBuilder::new().build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        eprint!("{}", errors::render(&error));
    }
}

/// For a Java app rebuilt with Maven in the container: whether it runs
/// the wrapper (`./mvnw`) rather than `mvn`. Such a dev image needs a JDK,
/// Maven and the build's Maven repository at launch (see `layers::maven`).
fn maven_rebuild(plan: &filesync_rules::Plan) -> Option<bool> {
    match (&plan.family, &plan.action) {
        (filesync_rules::Family::Java, filesync_rules::ReloadAction::Rebuild { command }) => {
            match command.first().map(String::as_str) {
                Some("mvn") => Some(false),
                Some("./mvnw") => Some(true),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The process type to wrap: `BP_FILESYNC_PROCESS`, else the default the
/// earlier buildpacks chose (see `app_process`), printed with the reason.
fn app_process(
    context: &BuildContext<FilesyncBuildpack>,
    setting: Option<&str>,
) -> Result<String, BuildpackError> {
    let merged = match setting {
        Some(_) => app_process::Merged::default(),
        None => {
            // libcnb's layers dir is ours, `<layers>/<escaped id>`.
            let layers = context.layers_dir.parent().unwrap_or(&context.layers_dir);
            let own_id = &context.buildpack_descriptor.buildpack.id;
            app_process::Merged::new(&app_process::read_earlier(layers, own_id)?)
        }
    };
    let choice = app_process::choose(&merged, setting)?;
    for line in choice.messages() {
        println!("[skaffold-filesync] {line}");
    }
    Ok(choice.process)
}

/// The sync plan: the one detect decided while the app's sources were
/// certainly there, else (a platform that skipped our detect's plan)
/// decided now. A family that rebuilds in the container needs its sources
/// at launch: when an earlier buildpack removed them, say which and how to
/// keep them.
fn sync_plan(
    context: &BuildContext<FilesyncBuildpack>,
    overrides: &Overrides,
) -> Result<filesync_rules::Plan, BuildpackError> {
    let app_dir = context.app_dir.display().to_string();
    let plan = match detect::plan_from_detect(&context.buildpack_plan) {
        Some(plan) => plan,
        // The engine's only error here: no family detected.
        None => plan_for_app(&context.app_dir, &app_dir, overrides).map_err(|_| {
            sources::removed(&context.app_dir).unwrap_or(sources::SourcesError::NoFamily {
                app_dir: context.app_dir.clone(),
            })
        })?,
    };
    if matches!(plan.action, filesync_rules::ReloadAction::Rebuild { .. })
        && filesync_rules::family::detect(&context.app_dir).is_none()
    {
        return Err(sources::SourcesError::Removed {
            family: plan.family,
        }
        .into());
    }
    Ok(plan)
}

buildpack_main!(FilesyncBuildpack);
