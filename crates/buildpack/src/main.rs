//! The skaffold-filesync buildpack: for dev builds only, records the app's
//! Skaffold sync rules (legacy BOM + our own label), installs the `filesync`
//! runtime in a launch layer and makes the image's default process a
//! supervised, reloading version of the app's own process, with `tar` and
//! `rm` process types for Skaffold's sync on images that lack those tools.

mod app_process;
mod build_id;
mod detect;
mod dev_image;
mod errors;
mod launch_toml;
mod layers;
mod lifecycle_files;
// What the project knows of Paketo: one module, in the contract (the CLI uses it too).
use filesync_contract::paketo;
mod settings;
mod sources;
mod spring_boot;
mod sync_plan;
mod trigger;
mod writable;

/// Helpers shared by the unit tests.
#[cfg(test)]
mod test_support {
    /// A variable lookup over fixed pairs, standing in for the platform env.
    pub(crate) fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }
}

use errors::BuildpackError;
use filesync_contract::settings::overrides as read_overrides;
use filesync_rules::plan_for_app;
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
        let overrides = read_overrides(platform_lookup(env)).ok();
        let family = overrides.as_ref().and_then(|o| o.family);
        let app_plan = overrides.as_ref().and_then(|o| {
            plan_for_app(&context.app_dir, &context.app_dir.display().to_string(), o).ok()
        });
        let plan = detect::build_plan(&context.app_dir, family, app_plan.as_ref())?;
        DetectResultBuilder::pass().build_plan(plan).build()
    }

    fn build(&self, context: BuildContext<Self>) -> libcnb::Result<BuildResult, Self::Error> {
        let env = context.platform.env();
        // Reached with an invalid trigger value too (see detect): fail here.
        trigger::dev_build(platform_lookup(env))?;
        let overrides = read_overrides(platform_lookup(env)).map_err(BuildpackError::from)?;
        let settings = settings::Settings::from_env(platform_lookup(env))?;
        let process_type = app_process::for_build(&context, settings.process.as_deref())?;
        let mut plan = sync_plan::for_build(&context, &overrides)?;
        sync_plan::print(&plan);
        if let Some(wrapper) = layers::maven::rebuild_wrapper(&plan) {
            layers::maven::install(&context, wrapper)?;
            // A Java edit then compiles without Maven (the java-dev layer).
            let runtime = layers::filesync::binary_path(&context);
            if let Some(command) = layers::java_dev::install(&context, &runtime)? {
                plan.action = filesync_rules::ReloadAction::Rebuild { command };
            }
        }
        layers::go_dev::install(&context, &plan)?;
        writable::open_app_dir(&context.app_dir)?;
        let config = dev_image::runtime_config(&plan, &process_type, &settings);
        let binary = layers::filesync::install(&context, &config)?;
        let launch = dev_image::launch_toml(&binary, &plan, &process_type);
        dev_image::write_launch_toml(&context.layers_dir, &launch)?;
        BuildResultBuilder::new().build()
    }

    fn on_error(&self, error: libcnb::Error<Self::Error>) {
        eprint!("{}", errors::render(&error));
    }
}

buildpack_main!(FilesyncBuildpack);
