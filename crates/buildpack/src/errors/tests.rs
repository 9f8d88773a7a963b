//! Every error's whole rendered message, pinned.
//!
//! The errors a user can cause each have a fixture under
//! `tests/fixtures/<name>/`: `fixture.toml` (the app, the provider and the
//! build env a lifecycle build of it uses) and `error.txt`, the whole
//! message. Here the fixture's env goes through the same validation as a
//! build (or, for errors that need the lifecycle's files, the error the
//! build reaches is constructed) and its rendering must equal `error.txt`;
//! `crates/e2e/tests/lifecycle_buildpack.rs` builds each fixture with the
//! real lifecycle and asserts the build log shows exactly that text.
//! `BLESS_ERROR_FIXTURES=1 cargo test -p skaffold-filesync-buildpack` rewrites
//! the `error.txt` files (review the diff). The errors no user causes are
//! pinned as insta snapshots.

use super::*;
use crate::app_process::AppProcessError;
use crate::layers::filesync::FilesyncLayerError;
use crate::layers::maven::{MavenLayerError, MavenStep};
use crate::lifecycle_files::{LifecycleFile, LifecycleFileError};
use crate::settings::Settings;
use crate::sources::SourcesError;
use filesync_rules::Family;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn rendered(e: impl Into<BuildpackError>) -> String {
    render(&libcnb::Error::BuildpackError(e.into()))
}

/// The fixture's build env.
fn fixture_env(name: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(fixtures().join(name).join("fixture.toml")).unwrap();
    let value: toml::Table = toml::from_str(&text).unwrap();
    value["env"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// The error a build with the fixture's env stops at in the settings,
/// checked in the build's order (trigger, overrides, settings).
fn env_error(name: &str) -> BuildpackError {
    let env = fixture_env(name);
    let lookup = |k: &str| env.get(k).cloned();
    if let Err(e) = crate::trigger::dev_build(lookup) {
        return e.into();
    }
    if let Err(e) = filesync_contract::settings::overrides(lookup) {
        return e.into();
    }
    Settings::from_env(lookup).unwrap_err().into()
}

/// The error each fixture's build stops at.
fn fixture_error(name: &str) -> BuildpackError {
    let removed = || SourcesError::Removed {
        family: Family::Java,
    };
    match name {
        "no-app-process" => AppProcessError::NoAppProcess {
            types: vec!["task".into()],
        }
        .into(),
        "only-watchexec" => AppProcessError::OnlyWatchexec {
            process: "web".into(),
            buildpack: "e2e/procfile".into(),
        }
        .into(),
        "no-family" => SourcesError::NoFamily {
            app_dir: "/workspace".into(),
        }
        .into(),
        "no-files" => SourcesError::NoFiles.into(),
        "maven-repository-not-found" => {
            MavenLayerError::RepositoryNotFound { repo_local: None }.into()
        }
        "java-jre-at-launch" => MavenLayerError::NoJdkAtLaunch {
            jvm: "/layers/e2e_java/jre".into(),
        }
        .into(),
        "java-sources-removed" | "java-sources-partly-kept" => removed().into(),
        "go-sources-removed" => SourcesError::Removed { family: Family::Go }.into(),
        _ => env_error(name),
    }
}

#[test]
fn every_fixtures_error_txt_is_its_whole_rendered_error() {
    let bless = std::env::var_os("BLESS_ERROR_FIXTURES").is_some();
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 19, "{names:?}");
    for name in names {
        let text = rendered(fixture_error(&name));
        let path = fixtures().join(&name).join("error.txt");
        if bless {
            std::fs::write(&path, &text).unwrap();
        }
        let pinned = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (BLESS_ERROR_FIXTURES=1 writes it)", path.display())
        });
        assert_eq!(text, pinned, "fixture {name}");
    }
}

fn io(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, message.to_string())
}

const DENIED: &str = "Permission denied (os error 13)";

/// The Maven layer's and the process choice's errors no user causes.
fn maven_and_process_cases() -> Vec<(&'static str, BuildpackError)> {
    vec![
        ("maven_not_found", MavenLayerError::MavenNotFound.into()),
        (
            "maven_repository_not_at_repo_local",
            MavenLayerError::RepositoryNotFound {
                repo_local: Some("/tmp/m2".into()),
            }
            .into(),
        ),
        (
            "maven_copy",
            MavenLayerError::Io {
                step: MavenStep::CopyRepository,
                source: io(DENIED),
            }
            .into(),
        ),
        (
            "spring_boot_link",
            MavenLayerError::Io {
                step: MavenStep::LinkSpringBootClasses,
                source: io(DENIED),
            }
            .into(),
        ),
        (
            "no_process_types_at_all",
            AppProcessError::NoAppProcess { types: Vec::new() }.into(),
        ),
    ]
}

/// The errors about files no user causes.
fn file_cases() -> Vec<(&'static str, BuildpackError)> {
    vec![
        (
            "read_lifecycle_file",
            LifecycleFileError {
                file: LifecycleFile::Group,
                path: "/layers/group.toml".into(),
                details: "No such file or directory (os error 2)".into(),
            }
            .into(),
        ),
        (
            "read_launch_toml",
            LifecycleFileError {
                file: LifecycleFile::LaunchToml,
                path: "/layers/e2e_procfile/launch.toml".into(),
                details: "TOML parse error at line 1, column 8".into(),
            }
            .into(),
        ),
        (
            "runtime_binary_not_named",
            LifecycleFileError {
                file: LifecycleFile::BuildpackToml,
                path: "/cnb/buildpacks/skaffold-filesync/0.1.0/buildpack.toml".into(),
                details: "lacks [metadata] runtime-binary".into(),
            }
            .into(),
        ),
        (
            "install_binary",
            FilesyncLayerError::InstallBinary(io(DENIED)).into(),
        ),
        (
            "write_config",
            FilesyncLayerError::WriteConfig("unsupported None value".into()).into(),
        ),
        (
            "writable",
            BuildpackError::Writable {
                dir: "/workspace".into(),
                source: io(DENIED),
            },
        ),
        (
            "write_launch_toml",
            BuildpackError::WriteOutput {
                file: Output::LaunchToml,
                details: "No space left on device (os error 28)".into(),
            },
        ),
    ]
}

#[test]
fn errors_no_user_causes() {
    for (name, error) in maven_and_process_cases().into_iter().chain(file_cases()) {
        insta::assert_snapshot!(name, rendered(error));
    }
    let framework = libcnb::Error::<BuildpackError>::CannotDetermineAppDirectory(io(DENIED));
    insta::assert_snapshot!("framework", render(&framework));
}
