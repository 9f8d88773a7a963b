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
    #[error("writing {what}: {message}")]
    Write { what: &'static str, message: String },
}

impl BuildpackError {
    /// The variable a user has to fix, if the error is about one.
    pub fn variable(&self) -> Option<&str> {
        match self {
            BuildpackError::BadValue { variable, .. } => Some(variable),
            BuildpackError::Config(c) => Some(&c.variable),
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
