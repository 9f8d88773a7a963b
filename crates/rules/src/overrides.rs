//! Parsers of user override values (sync rules, ignore patterns), given
//! by whoever reads them (the contract reads them from the build env) with
//! the name of the setting they came from, which every error names.
//!
//! Lists are separated by newlines or `;` (never `,`, which doublestar
//! braces use). Every pattern is validated up front, because doublestar
//! reports a bad pattern only when a match reaches it — too late, inside
//! Skaffold. Each error names the setting and the offending part.

use crate::doublestar;
use crate::{ConfigError, SyncRule};

fn err(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: setting.to_string(),
        message: message.into(),
    }
}

fn entries(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

fn check_pattern(setting: &str, pattern: &str) -> Result<(), ConfigError> {
    if pattern.starts_with('/') {
        return Err(err(
            setting,
            format!(
                "pattern {pattern:?} is absolute; sync patterns are relative to the app directory"
            ),
        ));
    }
    doublestar::validate(pattern).map_err(|_| {
        err(
            setting,
            format!("{pattern:?} is not a valid doublestar pattern (unclosed [ or {{, empty [], unescaped - or ] in a class, or a trailing \\)"),
        )
    })
}

/// Parses `SRC[=DEST]` entries; DEST defaults to empty (= the app dir,
/// filled in by the plan).
pub fn parse_rules(setting: &str, value: &str) -> Result<Vec<SyncRule>, ConfigError> {
    entries(value)
        .map(|entry| {
            let (src, dest) = match entry.split_once('=') {
                Some((s, d)) => (s.trim(), d.trim()),
                None => (entry, ""),
            };
            if src.is_empty() {
                return Err(err(
                    setting,
                    format!("entry {entry:?} has no source pattern (expected SRC or SRC=DEST)"),
                ));
            }
            check_pattern(setting, src)?;
            Ok(SyncRule {
                src: src.to_string(),
                dest: dest.to_string(),
                strip: String::new(),
                about: format!("set by {setting}"),
            })
        })
        .collect()
}

/// Parses a list of relative doublestar patterns (paths never synced nor
/// watched).
pub fn parse_patterns(setting: &str, value: &str) -> Result<Vec<String>, ConfigError> {
    entries(value)
        .map(|p| check_pattern(setting, p).map(|()| p.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_with_braces_and_dests() {
        let r = parse_rules("R", "src/**/*.{js,ts}=/app; public/**\n").unwrap();
        assert_eq!(r[0].src, "src/**/*.{js,ts}");
        assert_eq!(r[0].dest, "/app");
        assert_eq!(r[0].about, "set by R");
        assert_eq!(r[1].src, "public/**");
        assert_eq!(r[1].dest, "");
        assert_eq!(
            parse_patterns("I", "src/generated/**").unwrap(),
            vec!["src/generated/**"]
        );
    }

    #[test]
    fn errors_name_the_setting_and_the_part() {
        let e = parse_rules("R", "ok/*.js;bad/[x").unwrap_err();
        assert_eq!(e.variable, "R");
        assert!(e.message.contains("bad/[x"), "{e}");
        assert_eq!(parse_patterns("I", "/abs/**").unwrap_err().variable, "I");
        assert_eq!(parse_rules("R", "=/dest").unwrap_err().variable, "R");
    }
}
