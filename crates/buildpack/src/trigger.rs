//! The dev-mode trigger: `GOOGLE_DEVMODE` (set by `skaffold dev` when the
//! artifact's auto sync is on) or `BP_FILESYNC_ENABLED`, read from the
//! platform env and parsed like Go's `strconv.ParseBool`, the parser
//! Skaffold and Google's buildpacks use.

use crate::errors::BuildpackError;

pub const GOOGLE_DEVMODE: &str = "GOOGLE_DEVMODE";
pub const ENABLED: &str = "BP_FILESYNC_ENABLED";

/// Go `strconv.ParseBool`: `1 t T TRUE true True` / `0 f F FALSE false False`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A boolean setting's `value` ([`parse_go_bool`] of it trimmed), or the
/// error naming `variable`.
pub fn parse_bool_setting(variable: &str, value: String) -> Result<bool, BuildpackError> {
    parse_go_bool(value.trim()).ok_or_else(|| BuildpackError::BadValue {
        variable: variable.to_string(),
        value,
        expected: "a boolean: true/false, 1/0, t/f, TRUE/FALSE".to_string(),
    })
}

/// Whether the build is a dev build. Empty values count as unset; a value
/// that is not a boolean is an error naming the variable.
pub fn dev_build(lookup: impl Fn(&str) -> Option<String>) -> Result<bool, BuildpackError> {
    let mut on = false;
    for var in [GOOGLE_DEVMODE, ENABLED] {
        let Some(value) = lookup(var).filter(|v| !v.is_empty()) else {
            continue;
        };
        on |= parse_bool_setting(var, value)?;
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
        let e = dev_build(env(&[(GOOGLE_DEVMODE, "maybe")])).unwrap_err();
        assert!(
            e.to_string().contains("GOOGLE_DEVMODE") && e.to_string().contains("maybe"),
            "{e}"
        );
    }
}
