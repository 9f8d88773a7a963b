//! What the buildpack records at build time for the runtime to read: TOML
//! in the buildpack's launch layer, found through [`CONFIG_ENV`]; and the
//! stop signals both sides accept.

use filesync_rules::Plan;
use serde::{Deserialize, Serialize};

pub use crate::variables::{
    CONFIG as CONFIG_ENV, SOCKET as SOCKET_ENV, STOP_SIGNAL_RUNTIME as STOP_SIGNAL_ENV,
};

/// Where the shims and the supervisor meet by default: the unix socket of
/// the sync notifications (the runtime falls back to private directories
/// where this cannot be created).
pub const SOCKET: &str = "/tmp/filesync.sock";

/// Default quiet period for file-system events without a shim.
pub const DEFAULT_DEBOUNCE_MS: u64 = 50;

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
    /// restart record (the runtime's `record` module) is replayed only
    /// into a container of the build that wrote it. `None` (images built
    /// before it, the benchmark): no record is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
}

/// A build id is a directory name: letters, digits and `-` only.
pub fn valid_build_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
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

/// Signals the app may be stopped with (canonical names, without `SIG`).
/// WINCH is there for Apache httpd (graceful stop), QUIT for nginx and
/// Unicorn (graceful shutdown).
pub const STOP_SIGNALS: [&str; 8] = [
    "TERM", "INT", "QUIT", "HUP", "USR1", "USR2", "WINCH", "KILL",
];

/// A stop signal setting names no signal the app may be stopped with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopSignalError {
    /// The value as given.
    pub value: String,
}

impl std::fmt::Display for StopSignalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} is not a stop signal; use one of {} (with or without SIG)",
            self.value,
            STOP_SIGNALS.join(", ")
        )
    }
}

impl std::error::Error for StopSignalError {}

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
    DEFAULT_DEBOUNCE_MS
}

fn default_socket() -> String {
    SOCKET.to_string()
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
        assert_eq!(
            parse_stop_signal("STOP").unwrap_err().to_string(),
            "\"STOP\" is not a stop signal; use one of TERM, INT, QUIT, HUP, USR1, USR2, WINCH, KILL (with or without SIG)"
        );
    }

    #[test]
    fn new_fields_default_when_absent_and_round_trip() {
        let old = "process_type = \"web\"\n[plan]\nfamily = \"node\"\napp_dir = \"/workspace\"\nignore = []\nrules = []\n[plan.action]\nkind = \"restart\"\n";
        let c: RuntimeConfig = toml::from_str(old).unwrap();
        assert_eq!(c.stop_signal, None);
        assert_eq!(c.batch_end, BatchEnd::Shim);
        assert_eq!(c.socket, SOCKET);
        assert_eq!(c.debounce_ms, DEFAULT_DEBOUNCE_MS);
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
