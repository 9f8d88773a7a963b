//! What the project knows of Paketo's buildpacks, in one place: the
//! behaviour a dev image built after them must survive and the settings a
//! dev build gives them, each fact with the upstream file it was read
//! from. Facts only: what to do about them is decided where they are used
//! (the buildpack's `app_process`, `detect`, `layers::maven` and errors;
//! the CLI's generated profile). Paketo's buildpack modules cannot be
//! fetched here, so the tests' stand-ins (crates/e2e providers) behave as
//! these facts say.

use filesync_rules::Family;
use std::path::Path;

pub use jvm::TYPE as JVM_TYPE;
pub use source_removal::{keep_sources_env, INCLUDE_FILES, KEEP_FILES};

/// Every build-env setting (`NAME=VALUE`) a dev build of a family needs
/// from Paketo's buildpacks for the in-container rebuild, for the
/// generated profile and the user guide: [`keep_sources_env`], and for
/// Java a JDK at launch ([`jvm`]).
pub fn dev_build_env(family: Family) -> &'static [&'static str] {
    match family {
        Family::Go => &["BP_KEEP_FILES=*"],
        Family::Java => &["BP_INCLUDE_FILES=*", jvm::JDK_AT_LAUNCH],
        _ => &[],
    }
}

/// Source removal: which buildpacks delete the app's sources after
/// building, before a later buildpack's build runs, and what keeps them.
pub mod source_removal {
    use filesync_rules::Family;

    /// paketo-buildpacks/go-build (`source_deleter.go`,
    /// `SourceDeleter.Clear`): after the build, removes every app file that
    /// matches none of these colon-separated `filepath.Match` globs (unset:
    /// everything); a matching glob ending in `/*` returns `SkipDir`, which
    /// keeps a matched directory whole and, on a file, every remaining file
    /// of its directory, so `*` keeps everything.
    pub const KEEP_FILES: &str = "BP_KEEP_FILES";
    /// The JVM build buildpacks (paketo-buildpacks/libbs `application.go`,
    /// through paketo-buildpacks/source-removal's `logic.Include`: plain
    /// `filepath.Match` with the same `/*` rule) replace the sources with
    /// the built artifact, keeping what matches these globs, so `*` keeps
    /// everything (`**` would keep top-level files only);
    /// `BP_EXCLUDE_FILES`, the other way round, removes only what matches.
    pub const INCLUDE_FILES: &str = "BP_INCLUDE_FILES";

    /// The build-env setting (`NAME=VALUE`) that keeps every source file
    /// of a family whose Paketo build buildpack removes them, for dev
    /// builds that rebuild in the container.
    pub fn keep_sources_env(family: Family) -> Option<&'static str> {
        match family {
            Family::Go => Some("BP_KEEP_FILES=*"),
            Family::Java => Some("BP_INCLUDE_FILES=*"),
            _ => None,
        }
    }
    /// Who removes the sources, by the names users meet in build logs.
    pub const GO_BUILD: &str = "go-build";
    pub const LIBBS: &str = "libbs";
}

/// Live reload (`BP_LIVE_RELOAD_ENABLED`): Paketo wraps the app's process
/// in watchexec and makes that the default, next to a process that runs
/// the app without it.
pub mod live_reload {
    use std::path::Path;

    pub const ENABLED: &str = "BP_LIVE_RELOAD_ENABLED";

    /// Whether a process command runs watchexec (by path or by name), as
    /// every live-reload process does (paketo-buildpacks/watchexec provides
    /// it; node-start, go-build and executable-jar run it).
    pub fn runs_watchexec(command: &[String]) -> bool {
        command.first().is_some_and(|c| {
            Path::new(c)
                .file_name()
                .is_some_and(|name| name == "watchexec")
        })
    }

    /// The process types that run the same app without watchexec, next to
    /// the live-reload default `kind` of the same buildpack, in the order
    /// to try:
    /// - node-start / npm-start: `web` (watchexec) and `no-reload`
    ///   (paketo-buildpacks/node-start `build.go`, npm-start `build.go`);
    /// - go-build and libreload-packit: `reload-<name>` and `<name>`
    ///   (paketo-buildpacks/go-build `build.go`, libreload-packit
    ///   `watchexec/watchexec.go`);
    /// - executable-jar: `reload` and `executable-jar`
    ///   (paketo-buildpacks/executable-jar `executable/build.go`).
    pub fn siblings(kind: &str) -> impl Iterator<Item = &str> {
        [
            Some("no-reload"),
            kind.strip_prefix("reload-"),
            (kind == "reload").then_some("executable-jar"),
        ]
        .into_iter()
        .flatten()
    }
}

/// The build-plan entry asking for a family's toolchain at launch (as
/// `{launch = true, build = true}` metadata):
/// - Go: `go`, provided by paketo-buildpacks/go-dist, which honours
///   `launch = true` (its README's build-plan metadata);
/// - Java: `jdk`, provided by paketo-buildpacks/bellsoft-liberica, which
///   ignores it (paketo-buildpacks/libjvm `jdk.go`: the JDK layer is build
///   and cache only; see [`jvm`]);
/// - .NET: `dotnet-sdk`, provided by paketo-buildpacks/dotnet-core-sdk.
pub fn toolchain(family: Family) -> Option<&'static str> {
    match family {
        Family::Go => Some("go"),
        Family::Java => Some("jdk"),
        Family::Dotnet => Some("dotnet-sdk"),
        _ => None,
    }
}

/// JRE vs JDK in the image (paketo-buildpacks/libjvm `jdk.go`, `jre.go`,
/// `build.go`): the JDK is in a build-only layer and the image gets a JRE,
/// which cannot compile, unless `BP_JVM_TYPE=JDK` (any case) makes the JDK
/// the launch JVM.
pub mod jvm {
    /// The variable that chooses the image's JVM (`build.go`).
    pub const TYPE: &str = "BP_JVM_TYPE";
    /// The setting that puts the JDK in the image.
    pub const JDK_AT_LAUNCH: &str = "BP_JVM_TYPE=JDK";
    /// In a JVM layer: what a JDK has and a JRE lacks, and what both have.
    pub const JAVAC: &str = "bin/javac";
    pub const JAVA: &str = "bin/java";
}

/// The Maven layout of a Paketo build:
/// - the distribution is in a cache-only layer, run by its path and never
///   on a PATH (paketo-buildpacks/maven `maven/distribution.go`);
/// - the repository is in another cache-only layer that the build user's
///   `~/.m2` links to (paketo-buildpacks/libbs `cache.go`); the wrapper
///   (`./mvnw`) keeps the distributions it downloads under `~/.m2/wrapper`.
///
/// Neither is in the image.
pub mod maven {
    /// The repository, relative to the build user's home.
    pub const M2_REPOSITORY: &str = ".m2/repository";
    /// The wrapper's distributions, relative to the build user's home.
    pub const M2_WRAPPER: &str = ".m2/wrapper";
}

/// Whether `dir` holds a Maven distribution as Paketo's maven layer does
/// (`bin/mvn` and the `boot` class-path directory).
pub fn is_maven_distribution(dir: &Path) -> bool {
    dir.join("bin/mvn").is_file() && dir.join("boot").is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn watchexec_by_name_or_path() {
        assert!(live_reload::runs_watchexec(&words("watchexec -r node")));
        assert!(live_reload::runs_watchexec(&words("/usr/bin/watchexec -r")));
        assert!(!live_reload::runs_watchexec(&words("node server.js")));
        assert!(!live_reload::runs_watchexec(&[]));
    }

    #[test]
    fn live_reload_siblings_of_each_default() {
        let of = |k| live_reload::siblings(k).collect::<Vec<_>>();
        assert_eq!(of("web"), ["no-reload"]);
        assert_eq!(of("reload-my-server"), ["no-reload", "my-server"]);
        assert_eq!(of("reload"), ["no-reload", "executable-jar"]);
    }

    #[test]
    fn the_dev_build_env_keeps_the_sources_and_for_java_a_jdk_at_launch() {
        for family in Family::ALL {
            if let Some(keep) = keep_sources_env(family) {
                assert!(dev_build_env(family).contains(&keep), "{family:?}");
            }
            for setting in dev_build_env(family) {
                let name = setting.split('=').next().unwrap_or_default();
                assert!(
                    [KEEP_FILES, INCLUDE_FILES, JVM_TYPE].contains(&name),
                    "{setting}"
                );
            }
        }
        assert!(dev_build_env(Family::Java).contains(&"BP_JVM_TYPE=JDK"));
        assert!(dev_build_env(Family::Node).is_empty());
    }
}
