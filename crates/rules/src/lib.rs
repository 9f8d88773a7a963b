//! The sync-rule engine.
//!
//! Given an application directory, decides which changed files Skaffold may
//! copy into the running container (and where), and which must trigger a
//! rebuild of the image. It knows nothing of CNB or inotify: the buildpack
//! records a [`Plan`] at build time, the runtime reads it back.
//!
//! CONTRACT (other crates depend on these names; keep them stable):
//! - [`doublestar::path_match`] — exact bmatcuk/doublestar v1.3.4 `PathMatch`.
//! - [`SyncRule`] — `{src, dest, strip}` as in Skaffold; `destination()`.
//! - [`Family`], [`ReloadAction`] — what the app is and how it reloads.
//! - [`Overrides::from_env`] — `BP_FILESYNC_*` user overrides.
//! - [`plan_for_app`] — detect family + compute rules → [`Plan`].
//! - [`Plan::syncs`] — would a change to this relative path be synced?
//! - [`Plan`] is serde (TOML/JSON) — the buildpack writes it, the runtime
//!   reads it.

pub mod doublestar;
pub mod gopath;
pub mod skaffold;

use serde::{Deserialize, Serialize};
use std::path::Path;

/// One Skaffold sync rule, the shape Skaffold reads from the
/// `devmode.sync` BOM metadata and from `sync.manual` in skaffold.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRule {
    pub src: String,
    pub dest: String,
    /// Only in manual rules; auto (BOM) rules never have it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub strip: String,
}

/// Language family of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Node,
    Python,
    Ruby,
    Php,
    Go,
    Java,
    Dotnet,
    Static,
}

/// What the runtime does after a synced change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ReloadAction {
    /// Files are served as they are (static sites): nothing to do.
    None,
    /// Interpreted apps: restart the process.
    Restart,
    /// Compiled apps: run `command` (argv, in the app dir), then restart;
    /// keep the old process when it fails.
    Rebuild { command: Vec<String> },
}

/// Everything the engine decided for one app; recorded by the buildpack,
/// read by the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub family: Family,
    /// Absolute app dir inside the image (e.g. `/workspace`).
    pub app_dir: String,
    pub rules: Vec<SyncRule>,
    /// Extra doublestar patterns (relative to the app dir) never synced and
    /// never watched.
    pub ignore: Vec<String>,
    pub action: ReloadAction,
}

impl SyncRule {
    /// Skaffold's mapping (`sync/sync.go`): `path.Join(wd, dest,
    /// TrimPrefix(rel, strip))`, `wd` used only when `dest` is relative.
    /// `None` when `src` does not match `rel`.
    pub fn destination(
        &self,
        rel: &str,
        workdir: &str,
    ) -> Result<Option<String>, doublestar::BadPattern> {
        skaffold::destination(self, rel, workdir)
    }
}

impl Plan {
    /// True when a change to `rel` (relative to the app dir, `/`-separated)
    /// is synced by some rule and not ignored.
    pub fn syncs(&self, rel: &str) -> bool {
        let _ = rel;
        todo!("rule engine: issue 2")
    }
}

/// User overrides from the build environment (`BP_FILESYNC_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `BP_FILESYNC_RULES`: replace the generated rules.
    pub replace: Option<Vec<SyncRule>>,
    /// `BP_FILESYNC_EXTRA_RULES`: add to the generated rules.
    pub extra: Vec<SyncRule>,
    /// `BP_FILESYNC_IGNORE`: never sync these patterns.
    pub ignore: Vec<String>,
}

/// A malformed configuration value; the message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

impl Overrides {
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let _ = lookup;
        todo!("rule engine: issue 2")
    }
}

/// Detects the family of `app_dir` and computes its plan; `dest_dir` is the
/// absolute app dir inside the image (`/workspace`).
pub fn plan_for_app(
    app_dir: &Path,
    dest_dir: &str,
    overrides: &Overrides,
) -> Result<Plan, ConfigError> {
    let _ = (app_dir, dest_dir, overrides);
    todo!("rule engine: issue 2")
}
