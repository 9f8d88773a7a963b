//! What the project knows of Paketo's buildpacks' settings: the build-env
//! variables a dev build sets so that the in-container rebuild has its
//! sources and its toolchain at launch. Each fact cites the upstream file
//! it was read from.

use filesync_rules::Family;

/// paketo-buildpacks/go-build (`source_deleter.go`, `SourceDeleter.Clear`):
/// after the build, removes every app file that matches none of these
/// `filepath.Match` globs; a matching glob ending in `/*` returns
/// `SkipDir`, which keeps a matched directory whole and, on a file, every
/// remaining file of its directory, so `*` keeps everything.
pub const KEEP_FILES: &str = "BP_KEEP_FILES";

/// paketo-buildpacks/libbs (the JVM build buildpacks: maven, gradle, …)
/// keeps what matches these globs with paketo-buildpacks/source-removal's
/// `logic.Include` (plain `filepath.Match` with the same `/*` rule), so
/// `*` keeps everything (`**` would keep top-level files only).
pub const INCLUDE_FILES: &str = "BP_INCLUDE_FILES";

/// paketo-buildpacks/libjvm (`jdk.go`) keeps the JDK in a build-only
/// layer and puts a JRE in the image; with `BP_JVM_TYPE=JDK` (any case,
/// `build.go`) it contributes the JDK as the image's JVM instead, so
/// `javac` is there to rebuild with.
pub const JVM_TYPE: &str = "BP_JVM_TYPE";

/// The build-env setting (`NAME=VALUE`) that keeps every source file of a
/// family whose Paketo build buildpack removes them, for dev builds that
/// rebuild in the container ([`KEEP_FILES`], [`INCLUDE_FILES`]).
pub fn keep_sources_env(family: Family) -> Option<&'static str> {
    match family {
        Family::Go => Some("BP_KEEP_FILES=*"),
        Family::Java => Some("BP_INCLUDE_FILES=*"),
        _ => None,
    }
}

/// Every build-env setting (`NAME=VALUE`) a dev build of a family needs
/// from Paketo's buildpacks for the in-container rebuild, for the
/// generated profile and the user guide: [`keep_sources_env`], and for
/// Java a JDK at launch ([`JVM_TYPE`]).
pub fn dev_build_env(family: Family) -> &'static [&'static str] {
    match family {
        Family::Go => &["BP_KEEP_FILES=*"],
        Family::Java => &["BP_INCLUDE_FILES=*", "BP_JVM_TYPE=JDK"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
