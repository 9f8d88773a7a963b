//! The buildpack's own settings (beyond the rule engine's overrides), from
//! the platform env, each validated with an error naming the variable.

use crate::errors::BuildpackError;

pub const PROCESS: &str = "BP_FILESYNC_PROCESS";
pub const DEBOUNCE_MS: &str = "BP_FILESYNC_DEBOUNCE_MS";
pub const STOP_SIGNAL: &str = "BP_FILESYNC_STOP_SIGNAL";
pub use filesync_runtime::config::{SYNC_DONE_PROCESS, SYNC_HOOK_ENV as SYNC_HOOK};

pub const DEFAULT_DEBOUNCE_MS: u64 = 50;
pub const MAX_DEBOUNCE_MS: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The process type the supervisor wraps; `None`: the default process
    /// of the earlier buildpacks (see `app_process`).
    pub process: Option<String>,
    /// Quiet period for file-system events that come without a shim.
    pub debounce_ms: u64,
    /// The signal that stops the app on a restart (canonical name, e.g.
    /// `QUIT`); `None`: TERM.
    pub stop_signal: Option<String>,
    /// Skaffold runs [`SYNC_DONE_PROCESS`] as an after-sync hook: a sync's
    /// `tar` and `rm` wait for it and the app reloads once per save.
    pub sync_hook: bool,
}

impl Settings {
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, BuildpackError> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let process = match get(PROCESS) {
            None => None,
            Some(p)
                if valid_process_type(&p)
                    && !["filesync", "tar", "rm", SYNC_DONE_PROCESS].contains(&p.as_str()) =>
            {
                Some(p)
            }
            Some(p) => return Err(BuildpackError::BadValue {
                variable: PROCESS.into(),
                value: p,
                expected:
                    "a process type name (letters, digits, '.', '_', '-'), not filesync, tar, rm or filesync-sync-done"
                        .into(),
            }),
        };
        let debounce_ms = match get(DEBOUNCE_MS) {
            None => DEFAULT_DEBOUNCE_MS,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n <= MAX_DEBOUNCE_MS => n,
                _ => {
                    return Err(BuildpackError::BadValue {
                        variable: DEBOUNCE_MS.into(),
                        value: v,
                        expected: format!(
                            "a whole number of milliseconds from 0 to {MAX_DEBOUNCE_MS}"
                        ),
                    })
                }
            },
        };
        let stop_signal = match get(STOP_SIGNAL) {
            None => None,
            Some(v) => Some(
                filesync_runtime::config::parse_stop_signal(&v)
                    .map_err(|_| BuildpackError::BadValue {
                        variable: STOP_SIGNAL.into(),
                        value: v.clone(),
                        expected: format!(
                            "a signal name, one of {} (with or without SIG)",
                            filesync_runtime::config::STOP_SIGNALS.join(", ")
                        ),
                    })?
                    .to_string(),
            ),
        };
        let sync_hook = match get(SYNC_HOOK) {
            None => false,
            Some(v) => crate::trigger::parse_bool_setting(SYNC_HOOK, v)?,
        };
        Ok(Settings {
            process,
            debounce_ms,
            stop_signal,
            sync_hook,
        })
    }
}

/// Process types as the CNB spec allows them.
fn valid_process_type(t: &str) -> bool {
    t.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::env;

    #[test]
    fn defaults_and_errors() {
        assert_eq!(
            Settings::from_env(env(&[])).unwrap(),
            Settings {
                process: None,
                debounce_ms: 50,
                stop_signal: None,
                sync_hook: false,
            }
        );
        assert_eq!(
            Settings::from_env(env(&[(PROCESS, " my-server ")]))
                .unwrap()
                .process
                .as_deref(),
            Some("my-server")
        );
        assert!(
            Settings::from_env(env(&[(SYNC_HOOK, "true")]))
                .unwrap()
                .sync_hook
        );
        for (k, v) in [
            (DEBOUNCE_MS, "-1"),
            (DEBOUNCE_MS, "99999"),
            (DEBOUNCE_MS, "5ms"),
            (PROCESS, "a b"),
            (PROCESS, "tar"),
            (STOP_SIGNAL, "SIGFOO"),
            (SYNC_HOOK, "yes"),
            (PROCESS, SYNC_DONE_PROCESS),
        ] {
            let e = Settings::from_env(env(&[(k, v)])).unwrap_err();
            assert_eq!(e.variable(), Some(k), "{e}");
        }
    }
}
