//! The buildpack's own settings (beyond the rule engine's overrides), from
//! the platform env, each validated with an error naming the variable.
//! Values are trimmed; an empty one (or one of only whitespace) counts as
//! unset, as for every variable the buildpack reads.

pub(crate) use filesync_contract::config::DEFAULT_DEBOUNCE_MS;
pub(crate) use filesync_contract::processes::OWN as OWN_PROCESSES;
pub(crate) use filesync_contract::variables::{DEBOUNCE_MS, PROCESS, STOP_SIGNAL, SYNC_HOOK};

pub(crate) const MAX_DEBOUNCE_MS: u64 = 10_000;

/// A build-env variable whose value cannot be used: data only, rendered
/// for the user by `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub variable: &'static str,
    /// The value, trimmed.
    pub value: String,
    pub expected: Expected,
}

/// What a setting's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A Go `strconv.ParseBool` spelling.
    Boolean,
    /// A CNB process type name, not one of ours.
    ProcessType,
    /// Whole milliseconds from 0 to [`MAX_DEBOUNCE_MS`].
    Milliseconds,
    /// A name in the runtime's list of stop signals.
    StopSignal,
}

impl SettingError {
    fn new(variable: &'static str, value: String, expected: Expected) -> SettingError {
        SettingError {
            variable,
            value,
            expected,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// The process type the supervisor wraps; `None`: the default process
    /// of the earlier buildpacks (see `app_process`).
    pub process: Option<String>,
    /// Quiet period for file-system events that come without a shim.
    pub debounce_ms: u64,
    /// The signal that stops the app on a restart (canonical name, e.g.
    /// `QUIT`); `None`: TERM.
    pub stop_signal: Option<String>,
    /// Skaffold runs [`filesync_contract::processes::SYNC_DONE`] as an after-sync hook: a sync's
    /// `tar` and `rm` wait for it and the app reloads once per save.
    pub sync_hook: bool,
}

impl Settings {
    pub(crate) fn from_env(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingError> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let process = match get(PROCESS) {
            None => None,
            Some(p) if valid_process_type(&p) && !OWN_PROCESSES.contains(&p.as_str()) => Some(p),
            Some(p) => return Err(SettingError::new(PROCESS, p, Expected::ProcessType)),
        };
        let debounce_ms = match get(DEBOUNCE_MS) {
            None => DEFAULT_DEBOUNCE_MS,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n <= MAX_DEBOUNCE_MS => n,
                _ => return Err(SettingError::new(DEBOUNCE_MS, v, Expected::Milliseconds)),
            },
        };
        let stop_signal = match get(STOP_SIGNAL) {
            None => None,
            Some(v) => Some(
                filesync_contract::config::parse_stop_signal(&v)
                    .map_err(|_| SettingError::new(STOP_SIGNAL, v.clone(), Expected::StopSignal))?
                    .to_string(),
            ),
        };
        let sync_hook = match get(SYNC_HOOK) {
            None => false,
            Some(v) => crate::trigger::parse_bool_setting(SYNC_HOOK, &v)?,
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
        assert_eq!(
            Settings::from_env(env(&[
                (PROCESS, " "),
                (DEBOUNCE_MS, "\t"),
                (SYNC_HOOK, " ")
            ])),
            Settings::from_env(env(&[])),
            "whitespace counts as unset"
        );
        for (k, v) in [
            (DEBOUNCE_MS, "-1"),
            (DEBOUNCE_MS, "99999"),
            (DEBOUNCE_MS, "5ms"),
            (PROCESS, "a b"),
            (PROCESS, "tar"),
            (STOP_SIGNAL, "SIGFOO"),
            (SYNC_HOOK, "yes"),
            (PROCESS, filesync_contract::processes::SYNC_DONE),
        ] {
            let e = Settings::from_env(env(&[(k, v)])).unwrap_err();
            assert_eq!((e.variable, e.value.as_str()), (k, v));
        }
    }
}
