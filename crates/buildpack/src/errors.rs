//! The buildpack's errors and the one place they are rendered for the user.
//!
//! Each module owns a data-only error enum (what went wrong and the values
//! involved, no text); [`BuildpackError`] gathers them, and [`render`]
//! (called from the buildpack's `on_error`) turns every one into a
//! [`Message`]: a title, what happened, why, and numbered fixes. The texts
//! are in `texts`, per module; `tests` pins each whole message, and the
//! fixtures under `tests/fixtures` pin the ones a user can cause in a real
//! build (`crates/e2e/tests/lifecycle_buildpack.rs`).

mod message;
#[cfg(test)]
mod tests;
mod texts;

use crate::app_process::AppProcessError;
use crate::layers::filesync::FilesyncLayerError;
use crate::layers::java_dev::JavaDevLayerError;
use crate::layers::maven::MavenLayerError;
use crate::lifecycle_files::LifecycleFileError;
use crate::settings::SettingError;
use crate::sources::SourcesError;
use filesync_rules::ConfigError;
pub(crate) use message::Message;
use std::path::PathBuf;

#[derive(Debug)]
pub enum BuildpackError {
    /// A buildpack setting (`trigger`, `settings`).
    Setting(SettingError),
    /// A rule-engine override (`BP_FILESYNC_RULES` …, crates/rules).
    Overrides(ConfigError),
    /// A file of the lifecycle or of the buildpack's package
    /// (`lifecycle_files`).
    LifecycleFile(LifecycleFileError),
    AppProcess(AppProcessError),
    Sources(SourcesError),
    MavenLayer(MavenLayerError),
    JavaDevLayer(JavaDevLayerError),
    FilesyncLayer(FilesyncLayerError),
    /// Opening the app tree for the run user (`writable`).
    Writable {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// Serializing or writing one of the buildpack's lifecycle outputs.
    WriteOutput {
        file: Output,
        details: String,
    },
}

/// The lifecycle outputs [`BuildpackError::WriteOutput`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    BuildPlan,
    LaunchToml,
}

/// The message for an error, a libcnb one included.
pub(crate) fn message(error: &libcnb::Error<BuildpackError>) -> Message {
    match error {
        libcnb::Error::BuildpackError(e) => texts::message(e),
        other => texts::framework(other),
    }
}

/// The whole text the build log shows for an error.
pub(crate) fn render(error: &libcnb::Error<BuildpackError>) -> String {
    message(error).render()
}

macro_rules! from_module_errors {
    ($($variant:ident($error:ty)),* $(,)?) => {$(
        impl From<$error> for BuildpackError {
            fn from(e: $error) -> Self {
                BuildpackError::$variant(e)
            }
        }
        impl From<$error> for libcnb::Error<BuildpackError> {
            fn from(e: $error) -> Self {
                libcnb::Error::BuildpackError(BuildpackError::$variant(e))
            }
        }
    )*};
}

from_module_errors!(
    Setting(SettingError),
    LifecycleFile(LifecycleFileError),
    AppProcess(AppProcessError),
    Sources(SourcesError),
    MavenLayer(MavenLayerError),
    JavaDevLayer(JavaDevLayerError),
    FilesyncLayer(FilesyncLayerError),
);

/// The engine's error (a foreign type: `?` on it goes through
/// `BuildpackError::from`).
impl From<ConfigError> for BuildpackError {
    fn from(e: ConfigError) -> Self {
        BuildpackError::Overrides(e)
    }
}

impl From<BuildpackError> for libcnb::Error<BuildpackError> {
    fn from(e: BuildpackError) -> Self {
        libcnb::Error::BuildpackError(e)
    }
}
