//! The buildpack's errors, rendered for the user in one place with what to
//! do about them.

use filesync_rules::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum BuildpackError {
    #[error("{variable}={value:?} is not valid: expected {expected}")]
    BadValue {
        variable: String,
        value: String,
        expected: String,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("installing the filesync runtime binary: {0}")]
    Install(std::io::Error),
    #[error(
        "making the app files under {} writable for the run user: {source}; Skaffold's sync \
         would fail with \"Permission denied\" (the files must belong to the build user, \
         which they do unless an earlier buildpack changed their owner)",
        dir.display()
    )]
    Writable {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(
        "reading {} to find the app's default process: {message}; set BP_FILESYNC_PROCESS \
         to the process type to wrap",
        path.display()
    )]
    ReadProcesses {
        path: std::path::PathBuf,
        message: String,
    },
    #[error(
        "no earlier buildpack chose a default process and there is no 'web' process to wrap \
         (process types: {}); set BP_FILESYNC_PROCESS to the type that runs your app",
        if types.is_empty() { "none".to_string() } else { types.join(", ") }
    )]
    NoAppProcess { types: Vec<String> },
    #[error(
        "the default process '{process}' (from {buildpack}) runs the app under watchexec, \
         Paketo's live reload (BP_LIVE_RELOAD_ENABLED), and {buildpack} declared no process \
         that runs it without watchexec; wrapping it would make watchexec and the filesync \
         supervisor both restart the app on every change. Unset BP_LIVE_RELOAD_ENABLED in \
         dev builds that use skaffold-filesync, or set BP_FILESYNC_PROCESS to a process type \
         that runs the app without watchexec"
    )]
    OnlyWatchexec { process: String, buildpack: String },
    #[error(
        "the {family} app's sources are gone from the app directory: an earlier buildpack \
         removed them after building (Paketo's go-build does unless BP_KEEP_FILES keeps them, \
         the JVM build buildpacks (libbs) unless BP_INCLUDE_FILES does). skaffold-filesync \
         rebuilds the app in the container from the synced sources, so a dev image needs \
         them all. Fix: set {keep} in the dev build's env (`filesync skaffold --write` puts \
         it into the generated profile)"
    )]
    SourcesRemoved { family: String, keep: &'static str },
    #[error(
        "the app directory holds no file, so no language family can be told: an earlier \
         buildpack removed the sources after building (Paketo's go-build does unless \
         BP_KEEP_FILES keeps them, the JVM build buildpacks (libbs) unless BP_INCLUDE_FILES \
         does). Fix: keep them in dev builds (`filesync skaffold --write` sets it), or set \
         BP_FILESYNC_FAMILY"
    )]
    SourcesRemovedUnknown,
    #[error(
        "the image's JVM at launch ({}) is a JRE, without javac: the in-container rebuild \
         of the Java app needs a JDK at launch. Paketo's JVM buildpacks (libjvm) keep the JDK \
         in a build-only layer and put a JRE in the image unless BP_JVM_TYPE=JDK. Fix: set \
         BP_JVM_TYPE=JDK in the dev build's env (`filesync skaffold --write` puts it into the \
         generated profile)",
        jvm.display()
    )]
    NoJdkAtLaunch { jvm: std::path::PathBuf },
    #[error(
        "the in-container rebuild runs `mvn`, but no earlier buildpack's layer holds a Maven \
         distribution (bin/mvn and boot/) and no `mvn` is on the build's PATH. Fix: build with \
         Paketo's maven buildpack (it keeps Maven in a cache layer, copied from there), or \
         add the Maven wrapper (mvnw) to the app"
    )]
    MavenNotFound,
    #[error(
        "the Maven repository the build filled is not at {}/.m2/repository (where Paketo's \
         libbs links it) nor at a -Dmaven.repo.local in MAVEN_OPTS: the offline rebuild in \
         the container (`mvn -o`) needs its plugins and dependencies. Fix: build the app with \
         Maven in an earlier buildpack (Paketo's maven buildpack does)",
        home.display()
    )]
    MavenRepositoryNotFound { home: std::path::PathBuf },
    #[error("{what} into the image for the in-container rebuild: {source}")]
    Toolchain {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("writing {what}: {message}")]
    Write { what: &'static str, message: String },
}

impl BuildpackError {
    /// The variable a user has to fix, if the error is about one.
    pub fn variable(&self) -> Option<&str> {
        match self {
            BuildpackError::BadValue { variable, .. } => Some(variable),
            BuildpackError::Config(c) => Some(&c.variable),
            BuildpackError::ReadProcesses { .. } | BuildpackError::NoAppProcess { .. } => {
                Some(crate::settings::PROCESS)
            }
            _ => None,
        }
    }
}

/// Prints an error the way a user reads it in `pack build` / `skaffold dev`.
pub fn render(error: &libcnb::Error<BuildpackError>) -> String {
    match error {
        libcnb::Error::BuildpackError(e) => {
            let mut s = format!("[skaffold-filesync] error: {e}\n");
            if let Some(var) = e.variable() {
                s += &format!(
                    "[skaffold-filesync] fix {var} in the build environment (project.toml [build.env], \
                     `pack build --env`, or the artifact's buildpacks.env in skaffold.yaml); \
                     see docs/configuration.md\n"
                );
            }
            s
        }
        other => format!("[skaffold-filesync] internal error: {other}\n"),
    }
}

impl From<BuildpackError> for libcnb::Error<BuildpackError> {
    fn from(e: BuildpackError) -> Self {
        libcnb::Error::BuildpackError(e)
    }
}
