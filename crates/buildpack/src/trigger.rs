//! The dev-mode trigger: `GOOGLE_DEVMODE` (set by `skaffold dev` when the
//! artifact's auto sync is on) or `BP_FILESYNC_ENABLED`, read from the
//! platform env and parsed like Go's `strconv.ParseBool`, the parser
//! Skaffold and Google's buildpacks use. An empty value, or one of only
//! whitespace, counts as unset (as for every variable the buildpack reads,
//! docs/configuration.md); anything else that is not a boolean fails the
//! build naming the variable.

use crate::settings::{Expected, SettingError};

pub(crate) use filesync_contract::variables::{ENABLED, GOOGLE_DEVMODE};

/// Go `strconv.ParseBool`: `1 t T TRUE true True` / `0 f F FALSE false False`.
pub(crate) fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A boolean setting's `value` ([`parse_go_bool`] of it trimmed), or the
/// error naming `variable`.
pub(crate) fn parse_bool_setting(
    variable: &'static str,
    value: &str,
) -> Result<bool, SettingError> {
    let value = value.trim();
    parse_go_bool(value).ok_or_else(|| SettingError {
        variable,
        value: value.to_string(),
        expected: Expected::Boolean,
    })
}

/// Whether the build is a dev build. Empty and whitespace-only values
/// count as unset; a value that is not a boolean is an error naming the
/// variable.
pub(crate) fn dev_build(lookup: impl Fn(&str) -> Option<String>) -> Result<bool, SettingError> {
    let mut on = false;
    for var in [GOOGLE_DEVMODE, ENABLED] {
        let Some(value) = lookup(var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        on |= parse_bool_setting(var, &value)?;
    }
    Ok(on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::env;

    #[test]
    fn go_parse_bool_spellings() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_go_bool(t), Some(true));
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_go_bool(f), Some(false));
        }
        for bad in ["yes", "on", "tRuE", "2", " "] {
            assert_eq!(parse_go_bool(bad), None);
        }
    }

    #[test]
    fn either_variable_triggers_and_bad_values_name_the_variable() {
        assert!(!dev_build(env(&[])).unwrap());
        assert!(dev_build(env(&[(GOOGLE_DEVMODE, "1")])).unwrap());
        assert!(dev_build(env(&[(ENABLED, "true")])).unwrap());
        assert!(!dev_build(env(&[(ENABLED, "false"), (GOOGLE_DEVMODE, "")])).unwrap());
        assert!(dev_build(env(&[(ENABLED, " true\n")])).unwrap());
        let e = dev_build(env(&[(GOOGLE_DEVMODE, "maybe")])).unwrap_err();
        assert_eq!(
            e,
            SettingError {
                variable: GOOGLE_DEVMODE,
                value: "maybe".into(),
                expected: Expected::Boolean
            }
        );
    }

    /// docs/configuration.md: "An empty value, or one of only whitespace,
    /// counts as unset": `BP_FILESYNC_ENABLED=" "` is no dev build, and no
    /// error either.
    #[test]
    fn empty_and_whitespace_values_count_as_unset() {
        for blank in ["", " ", "\t", " \n "] {
            assert_eq!(dev_build(env(&[(ENABLED, blank)])), Ok(false), "{blank:?}");
            assert_eq!(
                dev_build(env(&[(ENABLED, blank), (GOOGLE_DEVMODE, "1")])),
                Ok(true),
                "{blank:?} beside a set trigger"
            );
        }
    }
}
