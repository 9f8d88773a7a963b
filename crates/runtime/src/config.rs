//! What the buildpack records at build time for the runtime to read
//! (data flows one way: app dir → rules → layer → image → supervisor).
//!
//! The buildpack writes this as TOML into its launch layer and points the
//! launch env variable [`CONFIG_ENV`] at it.

use filesync_rules::Plan;
use serde::{Deserialize, Serialize};

/// Launch env variable holding the path of the recorded [`RuntimeConfig`].
pub const CONFIG_ENV: &str = "FILESYNC_CONFIG";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeConfig {
    /// The rule engine's decision for this app.
    pub plan: Plan,
    /// The process type the supervisor wraps (e.g. `web`); its command,
    /// args and working dir are read from `/layers/config/metadata.toml`.
    pub process_type: String,
    /// Quiet period after the last file-system event before a reload, for
    /// changes that arrive without a shim notification.
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
    /// Unix socket the shims use to tell the supervisor a sync batch is
    /// complete.
    #[serde(default = "default_socket")]
    pub socket: String,
}

fn default_debounce_ms() -> u64 {
    50
}

fn default_socket() -> String {
    "/tmp/filesync.sock".to_string()
}

/// Image label the buildpack sets (a buildpack-provided `[[labels]]` entry),
/// readable with every Platform API, unlike the legacy BOM label.
pub const LABEL: &str = "skaffold-filesync.metadata";

/// JSON value of [`LABEL`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelMetadata {
    /// Same rules as the legacy BOM entry's `devmode.sync`.
    #[serde(rename = "devmode.sync")]
    pub sync: Vec<filesync_rules::SyncRule>,
    pub family: filesync_rules::Family,
    pub action: filesync_rules::ReloadAction,
    /// The process type the default process wraps.
    pub process_type: String,
    /// Version of the buildpack that wrote it.
    pub version: String,
}

impl RuntimeConfig {
    /// Reads the config the buildpack recorded: `path`, else `$FILESYNC_CONFIG`.
    pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<RuntimeConfig> {
        use anyhow::Context;
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => std::env::var_os(CONFIG_ENV)
                .map(std::path::PathBuf::from)
                .with_context(|| {
                    format!("{CONFIG_ENV} is not set: is this an image built by skaffold-filesync?")
                })?,
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}
