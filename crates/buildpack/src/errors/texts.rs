//! The text of every error, one function per module's error enum, and the
//! explanations several of them share (written once, here); those about
//! what the in-container rebuild needs are in `rebuild`.

use super::{BuildpackError, Message, Output};
use crate::app_process::AppProcessError;
use crate::layers::filesync::FilesyncLayerError;
use crate::layers::java_dev::JavaDevLayerError;
use crate::lifecycle_files::{LifecycleFile, LifecycleFileError, RUNTIME_BINARY_KEY};
use crate::paketo::live_reload;
use crate::settings::{self, Expected, SettingError};
use crate::trigger;
use filesync_contract::variables as overrides;
use filesync_rules::ConfigError;
use rebuild::{maven, sources};

mod rebuild;

/// Where every setting is given: the CNB platform env, from these.
const BUILD_ENV: &str = "Change it where the build environment comes from: `pack build --env \
    NAME=VALUE`, project.toml's [[build.env]], or the artifact's buildpacks.env in skaffold.yaml \
    (docs/configuration.md lists every variable).";

/// How a dev build gets the settings Paketo needs for it.
const GENERATED_PROFILE: &str = "the profile `filesync skaffold --write` generates sets it";

/// For an incomplete buildpack package.
const PACKAGED: &str = "Use a released skaffold-filesync buildpack, or one packaged by \
    scripts/package-buildpack.sh (it puts bin/filesync next to bin/build).";

/// For errors no app or setting causes.
const REPORT: &str = "Build again; if it fails the same way, report it to the skaffold-filesync \
    maintainers with the whole build log.";

pub(super) fn message(error: &BuildpackError) -> Message {
    match error {
        BuildpackError::Setting(e) => setting(e),
        BuildpackError::Overrides(e) => config(e),
        BuildpackError::LifecycleFile(e) => lifecycle_file(e),
        BuildpackError::AppProcess(e) => app_process(e),
        BuildpackError::Sources(e) => sources(e),
        BuildpackError::MavenLayer(e) => maven(e),
        BuildpackError::JavaDevLayer(e) => java_dev_layer(e),
        BuildpackError::FilesyncLayer(e) => filesync_layer(e),
        BuildpackError::Writable { dir, source } => Message::new(
            "Cannot make the app's files writable",
            format!(
                "Making the app's files under {} writable for the run user failed.",
                dir.display()
            ),
            "Skaffold syncs as the container's user, who must be able to replace the app's \
             files, or the first sync fails with \"Permission denied\". The files belong to \
             the build user unless an earlier buildpack changed their owner.",
        )
        .fix("Find the earlier buildpack that changes the owner of the file named below and leave it out of dev builds.")
        .details(source),
        BuildpackError::WriteOutput { file, details } => {
            let name = match file {
                Output::BuildPlan => "the build plan",
                Output::LaunchToml => "launch.toml",
            };
            Message::new(
                format!("Cannot write {name}"),
                format!("Writing {name} for the lifecycle failed."),
                "This is a failure of the buildpack or of the build's file system, not of the app.",
            )
            .fix(REPORT)
            .details(details)
        }
    }
}

/// An error of the framework (libcnb) rather than of the buildpack.
pub(super) fn framework(error: &libcnb::Error<BuildpackError>) -> Message {
    Message::new(
        "Internal buildpack error",
        "The buildpack framework (libcnb) reported an error.",
        "This is a failure of the buildpack or of the platform running it, not of the app.",
    )
    .fix(REPORT)
    .details(error)
}

/// What a variable does, for the "why" of its errors.
fn purpose(variable: &str) -> &'static str {
    match variable {
        trigger::GOOGLE_DEVMODE => "turns skaffold-filesync on (`skaffold dev` sets it to 1 when the artifact's auto sync is on)",
        trigger::ENABLED => "turns skaffold-filesync on for a dev build",
        settings::SYNC_HOOK => "says whether Skaffold runs the image's filesync-sync-done process as an after-sync hook",
        settings::PROCESS => "names the process type the supervisor wraps",
        settings::DEBOUNCE_MS => "sets how long the supervisor waits for changes that come without Skaffold's shims",
        settings::STOP_SIGNAL => "names the signal that stops the app before a restart",
        overrides::RULES => "replaces the generated sync rules",
        overrides::EXTRA_RULES => "adds sync rules to the generated ones",
        overrides::IGNORE => "lists patterns that are never synced nor watched",
        overrides::FAMILY => "names the app's language family instead of detecting it",
        overrides::ACTION => "says how the app reloads after a sync",
        overrides::REBUILD_COMMAND => "is the command that rebuilds the app in the container",
        _ => "is a skaffold-filesync setting",
    }
}

fn refused(variable: &str) -> String {
    format!(
        "{variable} {}; a value the buildpack cannot read fails the build rather than being guessed.",
        purpose(variable)
    )
}

fn setting(e: &SettingError) -> Message {
    let (title, expected) = match e.expected {
        Expected::Boolean => (
            "is not a boolean",
            "true or false, in the spellings of Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false or False".to_string(),
        ),
        Expected::ProcessType => (
            "is not a process type to wrap",
            format!(
                "the name of one of the image's process types (letters, digits, '.', '_' and '-'), other than {}, which are the buildpack's own",
                settings::OWN_PROCESSES.join(", ")
            ),
        ),
        Expected::Milliseconds => (
            "is not a number of milliseconds",
            format!("a whole number of milliseconds from 0 to {}", settings::MAX_DEBOUNCE_MS),
        ),
        Expected::StopSignal => (
            "is not a stop signal",
            format!(
                "a signal name, one of {} (with or without SIG)",
                filesync_contract::config::STOP_SIGNALS.join(", ")
            ),
        ),
    };
    let var = e.variable;
    Message::new(
        format!("{var} {title}"),
        format!("{var} is {:?} in the build environment.", e.value),
        refused(var),
    )
    .fix(format!(
        "Set {var} to {expected}. An empty value counts as unset."
    ))
    .fix(BUILD_ENV)
}

fn config(e: &ConfigError) -> Message {
    let var = &e.variable;
    Message::new(
        format!("{var} is not valid"),
        format!("{var}: {}.", e.message),
        refused(var),
    )
    .fix(format!(
        "Correct {var} as docs/configuration.md describes it; `filesync rules APP_DIR` reads the same variables and prints the rules they give."
    ))
    .fix(BUILD_ENV)
}

fn lifecycle_file(e: &LifecycleFileError) -> Message {
    let path = e.path.display();
    let process = settings::PROCESS;
    let message = match e.file {
        LifecycleFile::Group | LifecycleFile::LaunchToml => Message::new(
            "Cannot read the lifecycle's files",
            format!("Reading {path} failed."),
            "The lifecycle writes group.toml (the build's buildpacks, in order) and each \
             buildpack's launch.toml and layer metadata. The buildpack reads them to find the \
             image's default process, the one it wraps, and for a Java app the JVM and Maven \
             the earlier buildpacks installed; it stops rather than guess without them.",
        ),
        LifecycleFile::BuildpackToml => Message::new(
            "The buildpack's package is incomplete",
            format!("{path} {}.", e.details),
            format!(
                "The buildpack installs the runtime binary its package ships, at the path \
                 [metadata] {RUNTIME_BINARY_KEY} names relative to the buildpack's directory."
            ),
        ),
    };
    match e.file {
        LifecycleFile::Group => message
            .fix(format!(
                "Set {process} to the process type that runs your app: then group.toml is read \
                 only for a Java app's Maven rebuild."
            ))
            .fix(REPORT)
            .details(&e.details),
        LifecycleFile::LaunchToml => message
            .fix(format!(
                "Set {process} to the process type that runs your app: then no launch.toml is read."
            ))
            .fix(REPORT)
            .details(&e.details),
        LifecycleFile::BuildpackToml => message.fix(PACKAGED),
    }
}

fn app_process(e: &AppProcessError) -> Message {
    let process = settings::PROCESS;
    match e {
        AppProcessError::NoAppProcess { types } => {
            let list = if types.is_empty() {
                "none".to_string()
            } else {
                types.join(", ")
            };
            Message::new(
                "No process to wrap",
                format!(
                    "No earlier buildpack chose a default process, and there is no 'web' process (the process types: {list})."
                ),
                "skaffold-filesync makes the image's default process a supervised, reloading \
                 version of the app's own process, so it must know which process runs the app.",
            )
            .fix(format!("Set {process} to the process type that runs your app."))
            .fix("Or give the app a default process: a Procfile with a `web:` line, or the buildpack that starts your app.")
        }
        AppProcessError::OnlyWatchexec {
            process: p,
            buildpack,
        } => Message::new(
            "The default process already reloads the app",
            format!(
                "The default process '{p}' (from {buildpack}) runs the app under watchexec, \
                 Paketo's live reload ({}), and {buildpack} declared no process that runs the \
                 app without it.",
                live_reload::ENABLED
            ),
            "Wrapping it would make watchexec and the filesync supervisor both restart the \
             app on every change.",
        )
        .fix(format!(
            "Unset {} in the dev builds that use skaffold-filesync.",
            live_reload::ENABLED
        ))
        .fix(format!(
            "Or set {process} to a process type that runs the app without watchexec."
        )),
    }
}

fn java_dev_layer(e: &JavaDevLayerError) -> Message {
    match e {
        JavaDevLayerError::Write { file, source } => Message::new(
            "Cannot make the Java dev layer",
            format!("Writing {} failed.", file.display()),
            "A synced Java edit compiles without Maven with what this layer records (the \
             class path, the release level) and the resident compiler it holds.",
        )
        .fix("Check the build's disk space and the permissions of the file named above, then build again.")
        .details(source),
    }
}

fn filesync_layer(e: &FilesyncLayerError) -> Message {
    match e {
        FilesyncLayerError::InstallBinary(source) => Message::new(
            "Cannot install the filesync runtime",
            "Copying the runtime binary packaged with the buildpack (bin/filesync) into its \
             launch layer failed.",
            "The runtime supervises the app in the dev image. It ships inside the buildpack, \
             so a missing one means an incomplete buildpack package.",
        )
        .fix(PACKAGED)
        .fix("Check the build's disk space, then build again.")
        .details(source),
        FilesyncLayerError::WriteConfig(details) => Message::new(
            "Cannot write the runtime config",
            "Writing filesync.toml, the runtime config recorded for the supervisor, failed.",
            "This is a failure of the buildpack or of the build's file system, not of the app.",
        )
        .fix(REPORT)
        .details(details),
    }
}
