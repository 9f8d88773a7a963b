//! The text of every error, one function per module's error enum, and the
//! explanations several of them share (written once, here).

use super::{BuildpackError, Message, Output};
use crate::app_process::AppProcessError;
use crate::layers::filesync::FilesyncLayerError;
use crate::layers::java_dev::JavaDevLayerError;
use crate::layers::maven::{MavenLayerError, MavenStep};
use crate::settings::{self, Expected, SettingError};
use crate::sources::SourcesError;
use crate::trigger;
use filesync_rules::{overrides, ConfigError, Family};

/// Where every setting is given: the CNB platform env, from these.
const BUILD_ENV: &str = "Change it where the build environment comes from: `pack build --env \
    NAME=VALUE`, project.toml's [[build.env]], or the artifact's buildpacks.env in skaffold.yaml \
    (docs/configuration.md lists every variable).";

/// Which of Paketo's buildpacks delete the app's sources, and what keeps them.
const PAKETO_REMOVES_SOURCES: &str = "Paketo's go-build deletes the app's sources after \
    building unless BP_KEEP_FILES keeps them, and the JVM build buildpacks (libbs) replace \
    them with the built artifact unless BP_INCLUDE_FILES keeps them.";

/// How a dev build gets the settings Paketo needs for it.
const GENERATED_PROFILE: &str = "the profile `filesync skaffold --write` generates sets it";

/// For errors no app or setting causes.
const REPORT: &str = "Build again; if it fails the same way, report it to the skaffold-filesync \
    maintainers with the whole build log.";

pub fn message(error: &BuildpackError) -> Message {
    match error {
        BuildpackError::Setting(e) => setting(e),
        BuildpackError::Overrides(e) => config(e),
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
pub fn framework(error: &libcnb::Error<BuildpackError>) -> Message {
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
                filesync_runtime::config::STOP_SIGNALS.join(", ")
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

fn app_process(e: &AppProcessError) -> Message {
    let process = settings::PROCESS;
    match e {
        AppProcessError::ReadLifecycleFile { path, details } => Message::new(
            "Cannot read the lifecycle's files",
            format!("Reading {} failed.", path.display()),
            "The buildpack reads group.toml and the earlier buildpacks' launch.toml to find \
             the image's default process, the one it wraps.",
        )
        .fix(format!(
            "Set {process} to the process type that runs your app: then neither file is read."
        ))
        .fix(REPORT)
        .details(details),
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
                 Paketo's live reload (BP_LIVE_RELOAD_ENABLED), and {buildpack} declared no \
                 process that runs the app without it."
            ),
            "Wrapping it would make watchexec and the filesync supervisor both restart the \
             app on every change.",
        )
        .fix("Unset BP_LIVE_RELOAD_ENABLED in the dev builds that use skaffold-filesync.")
        .fix(format!(
            "Or set {process} to a process type that runs the app without watchexec."
        )),
    }
}

fn sources(e: &SourcesError) -> Message {
    match e {
        SourcesError::Removed { family } => {
            let name = display(*family);
            let keep = filesync_rules::family::keep_sources_env(*family)
                .unwrap_or("BP_KEEP_FILES=* (go-build) or BP_INCLUDE_FILES=* (libbs)");
            Message::new(
                format!("The {name} app's sources are gone"),
                "An earlier buildpack removed the app's sources from the app directory after building.",
                format!(
                    "{PAKETO_REMOVES_SOURCES} skaffold-filesync rebuilds a {name} app in the \
                     container from the synced sources, so its dev image needs them all."
                ),
            )
            .fix(format!("Set {keep} in the dev build's environment ({GENERATED_PROFILE})."))
            .fix(BUILD_ENV)
        }
        SourcesError::NoFiles => Message::new(
            "The app directory holds no file",
            "The app directory holds no file at build time, so the app's language family \
             and its sync rules cannot be told.",
            format!("Either the app is empty, or an earlier buildpack removed its sources: {PAKETO_REMOVES_SOURCES}"),
        )
        .fix("Build from the directory that holds the app's sources.")
        .fix(
            "If a buildpack removed them, keep them in dev builds: BP_KEEP_FILES=* for go-build, BP_INCLUDE_FILES=* for libbs (the profile `filesync skaffold --write` generates sets them).",
        )
        .fix(format!("Or set {} to the app's family.", overrides::FAMILY)),
        SourcesError::NoFamily { app_dir } => {
            let families: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
            Message::new(
                "No language family detected",
                format!("No file at the top of {} tells the app's language.", app_dir.display()),
                "skaffold-filesync chooses the sync rules and how the app reloads by its \
                 language family, which it recognizes by these files at the top of the app: \
                 go.mod or *.go, pom.xml, build.gradle, mvnw or gradlew, *.csproj, \
                 composer.json or *.php, Gemfile or config.ru, requirements.txt, Pipfile, \
                 pyproject.toml, setup.py or *.py, package.json, index.html or *.html.",
            )
            .fix("Build from the app's root directory, the one that holds its manifest.")
            .fix(format!(
                "Or set {} to one of {} in the build environment.",
                overrides::FAMILY,
                families.join(", ")
            ))
        }
    }
}

/// A family's name in a sentence.
fn display(family: Family) -> &'static str {
    match family {
        Family::Node => "Node.js",
        Family::Python => "Python",
        Family::Ruby => "Ruby",
        Family::Php => "PHP",
        Family::Go => "Go",
        Family::Java => "Java",
        Family::Dotnet => ".NET",
        Family::Static => "static",
    }
}

fn maven(e: &MavenLayerError) -> Message {
    match e {
        MavenLayerError::NoJdkAtLaunch { jvm } => Message::new(
            "No JDK in the image for the in-container rebuild",
            format!("The image's JVM at launch ({}) is a JRE, without javac.", jvm.display()),
            "The in-container rebuild of the Java app compiles it, which needs a JDK at \
             launch. Paketo's JVM buildpacks (libjvm) keep the JDK in a build-only layer and \
             put a JRE in the image unless BP_JVM_TYPE=JDK.",
        )
        .fix(format!("Set BP_JVM_TYPE=JDK in the dev build's environment ({GENERATED_PROFILE})."))
        .fix(BUILD_ENV),
        MavenLayerError::MavenNotFound => Message::new(
            "No Maven for the in-container rebuild",
            "The in-container rebuild runs `mvn`, but no earlier buildpack's layer holds a \
             Maven distribution (bin/mvn and boot/) and no `mvn` is on the build's PATH.",
            "The dev image rebuilds the app with Maven after a sync, so it must carry Maven, \
             which the buildpack copies from the build.",
        )
        .fix("Build with Paketo's maven buildpack: it keeps Maven in a cache layer, which the buildpack copies.")
        .fix("Or add the Maven wrapper (mvnw and .mvn/wrapper) to the app."),
        MavenLayerError::RepositoryNotFound { repo_local } => {
            let elsewhere = repo_local.as_ref().map_or(String::new(), |p| {
                format!(", nor at {} (the -Dmaven.repo.local of MAVEN_OPTS)", p.display())
            });
            Message::new(
                "No Maven repository for the offline rebuild",
                format!(
                    "The Maven repository the build filled is not at ~/.m2/repository \
                     (where Paketo's libbs links its cache layer){elsewhere}."
                ),
                "The in-container rebuild runs Maven offline (`mvn -o`), so the image needs \
                 the plugins and dependencies the build downloaded.",
            )
            .fix("Build the app with Maven in an earlier buildpack (Paketo's maven buildpack does).")
            .fix("If your build keeps the repository elsewhere, give it as -Dmaven.repo.local=DIR in MAVEN_OPTS.")
        }
        MavenLayerError::Io { step, source } => {
            let step = match step {
                MavenStep::CopyDistribution => "Copying the Maven distribution into the image",
                MavenStep::CopyRepository => "Copying the Maven repository into the image",
                MavenStep::CopyWrapperDistributions => "Copying the Maven wrapper's distributions into the image",
                MavenStep::MakeRepositoryWritable => "Making the Maven repository in the image writable",
                MavenStep::LinkSpringBootClasses => {
                    "Linking Spring Boot's classes to the rebuild's output (BOOT-INF/classes to target/classes)"
                }
            };
            Message::new(
                "Cannot make the Maven layer",
                format!("{step} failed."),
                "The in-container rebuild needs Maven and the build's repository at launch, \
                 which the buildpack copies into a layer of its own.",
            )
            .fix("Check the build's disk space and the permissions of the file named below, then build again.")
            .details(source)
        }
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
        .fix("Use a released skaffold-filesync buildpack, or one packaged by scripts/package-buildpack.sh (it puts bin/filesync next to bin/build).")
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
