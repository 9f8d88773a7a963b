//! What the buildpack records at build time for the runtime to read
//! (data flows one way: app dir → rules → layer → image → supervisor).
//!
//! The buildpack writes this as TOML into its launch layer and points the
//! launch env variable [`CONFIG_ENV`] at it.

use crate::errors::StopSignalError;
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
    /// The signal the supervisor stops the app with, by name (`TERM`,
    /// `SIGQUIT`, … see [`parse_stop_signal`]); recorded from
    /// `BP_FILESYNC_STOP_SIGNAL`. `None`: TERM. At run time the env
    /// variable [`STOP_SIGNAL_ENV`] overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// What ends a sync batch (see [`BatchEnd`]); `shim` unless the
    /// generated Skaffold config runs `filesync sync-done` as an after-sync
    /// container hook.
    #[serde(default)]
    pub batch_end: BatchEnd,
    /// A value new at every build of the image (dev builds only): a
    /// restart record ([`crate::record`]) is replayed only into a container
    /// of the build that wrote it. `None` (images built before it): no
    /// record is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
}

/// What tells the supervisor that a Skaffold sync batch is complete.
///
/// Skaffold (v2.24 `pkg/skaffold/sync/sync.go` `PodSyncer.sync`, and
/// `sync/docker.go` `ContainerSyncer.Sync`) runs `tar xmf - -C /
/// --no-same-owner` for the copies and then, only when the batch has
/// deletions, `rm -rf -- PATHS`; after-sync hooks run once both are done,
/// with the kubectl deployer only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchEnd {
    /// No hook: each shim ends a batch. An edit-only save (tar) reloads at
    /// once after `tar`; a save with deletions reloads again after `rm`
    /// (the last step), so at most twice, the last one on the final files.
    #[default]
    Shim,
    /// `filesync sync-done` runs as an after-sync container hook: `tar` and
    /// `rm` only accumulate, the reload happens once at `sync-done` (or 2 s
    /// after the last shim, should the hook never come).
    Hook,
}

/// Build-env variable recorded as [`BatchEnd::Hook`]: `filesync skaffold
/// --write` sets it where Skaffold runs sync hooks, beside the hook itself.
pub const SYNC_HOOK_ENV: &str = "BP_FILESYNC_SYNC_HOOK";

/// The dev image's process type that Skaffold's after-sync container hook
/// runs (`filesync sync-done`). A process type, not a bare `filesync`: the
/// exporter puts `/cnb/process` first on the image's PATH, where
/// `filesync` is the supervisor's own process type.
pub const SYNC_DONE_PROCESS: &str = "filesync-sync-done";

/// Runtime env override of the recorded stop signal.
pub const STOP_SIGNAL_ENV: &str = "FILESYNC_STOP_SIGNAL";

/// Signals the app may be stopped with (canonical names, without `SIG`).
/// WINCH is there for Apache httpd (graceful stop), QUIT for nginx and
/// Unicorn (graceful shutdown).
pub const STOP_SIGNALS: [&str; 8] = [
    "TERM", "INT", "QUIT", "HUP", "USR1", "USR2", "WINCH", "KILL",
];

/// The canonical name (`QUIT`) of a stop signal written `QUIT`, `SIGQUIT`,
/// `quit` or `sigquit`; an error naming the accepted names otherwise.
pub fn parse_stop_signal(value: &str) -> Result<&'static str, StopSignalError> {
    let upper = value.trim().to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    STOP_SIGNALS
        .iter()
        .find(|s| **s == name)
        .copied()
        .ok_or_else(|| StopSignalError {
            value: value.to_string(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_signals_parse_with_or_without_sig_in_any_case() {
        assert_eq!(parse_stop_signal("TERM"), Ok("TERM"));
        assert_eq!(parse_stop_signal("sigquit"), Ok("QUIT"));
        assert_eq!(parse_stop_signal(" SIGWINCH "), Ok("WINCH"));
        assert_eq!(parse_stop_signal("usr2"), Ok("USR2"));
        for bad in ["", "SIG", "15", "STOP", "SIGCHLD", "TERMX"] {
            let e = parse_stop_signal(bad).unwrap_err().to_string();
            assert!(e.contains("TERM, INT, QUIT"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn new_fields_default_when_absent_and_round_trip() {
        let old = "process_type = \"web\"\n[plan]\nfamily = \"node\"\napp_dir = \"/workspace\"\nignore = []\nrules = []\n[plan.action]\nkind = \"restart\"\n";
        let c: RuntimeConfig = toml::from_str(old).unwrap();
        assert_eq!(c.stop_signal, None);
        assert_eq!(c.batch_end, BatchEnd::Shim);
        assert_eq!(c.socket, "/tmp/filesync.sock");
        let with = RuntimeConfig {
            stop_signal: Some("QUIT".into()),
            batch_end: BatchEnd::Hook,
            ..c
        };
        let text = toml::to_string(&with).unwrap();
        assert!(
            text.contains("stop_signal = \"QUIT\"") && text.contains("batch_end = \"hook\""),
            "{text}"
        );
        assert_eq!(toml::from_str::<RuntimeConfig>(&text).unwrap(), with);
    }
}
