//! User overrides read from the build environment (`BP_FILESYNC_*`).
//!
//! Lists are separated by newlines or `;` (never `,`, which doublestar
//! braces use). Every pattern is validated up front, because doublestar
//! reports a bad pattern only when a match reaches it — too late, inside
//! Skaffold. Each error names the variable and the offending part.

use crate::doublestar;
use crate::{ConfigError, Family, Overrides, ReloadAction, SyncRule};

pub const RULES: &str = "BP_FILESYNC_RULES";
pub const EXTRA_RULES: &str = "BP_FILESYNC_EXTRA_RULES";
pub const IGNORE: &str = "BP_FILESYNC_IGNORE";
pub const FAMILY: &str = "BP_FILESYNC_FAMILY";
pub const ACTION: &str = "BP_FILESYNC_ACTION";
pub const REBUILD_COMMAND: &str = "BP_FILESYNC_REBUILD_COMMAND";

/// Every variable this module reads, for docs and error listings.
pub const VARIABLES: &[&str] = &[RULES, EXTRA_RULES, IGNORE, FAMILY, ACTION, REBUILD_COMMAND];

fn err(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_string(),
        message: message.into(),
    }
}

fn entries(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

fn check_pattern(variable: &str, pattern: &str) -> Result<(), ConfigError> {
    if pattern.starts_with('/') {
        return Err(err(
            variable,
            format!(
                "pattern {pattern:?} is absolute; sync patterns are relative to the app directory"
            ),
        ));
    }
    doublestar::validate(pattern).map_err(|_| {
        err(
            variable,
            format!("{pattern:?} is not a valid doublestar pattern (unclosed [ or {{, empty [], unescaped - or ] in a class, or a trailing \\)"),
        )
    })
}

/// Parses `SRC[=DEST]` entries; DEST defaults to empty (= the app dir,
/// filled in by the plan).
pub fn parse_rules(variable: &str, value: &str) -> Result<Vec<SyncRule>, ConfigError> {
    entries(value)
        .map(|entry| {
            let (src, dest) = match entry.split_once('=') {
                Some((s, d)) => (s.trim(), d.trim()),
                None => (entry, ""),
            };
            if src.is_empty() {
                return Err(err(
                    variable,
                    format!("entry {entry:?} has no source pattern (expected SRC or SRC=DEST)"),
                ));
            }
            check_pattern(variable, src)?;
            Ok(SyncRule {
                src: src.to_string(),
                dest: dest.to_string(),
                strip: String::new(),
                about: format!("set by {variable}"),
            })
        })
        .collect()
}

impl Overrides {
    /// Reads the overrides through `lookup` (the platform env); empty
    /// values count as unset.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut o = Overrides::default();
        if let Some(v) = get(RULES) {
            o.replace = Some(parse_rules(RULES, &v)?);
        }
        if let Some(v) = get(EXTRA_RULES) {
            o.extra = parse_rules(EXTRA_RULES, &v)?;
        }
        if let Some(v) = get(IGNORE) {
            o.ignore = entries(&v)
                .map(|p| check_pattern(IGNORE, p).map(|_| p.to_string()))
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = get(FAMILY) {
            let name = v.trim();
            o.family = Some(Family::from_name(name).ok_or_else(|| {
                let valid: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
                err(
                    FAMILY,
                    format!(
                        "unknown family {name:?}; expected one of {}",
                        valid.join(", ")
                    ),
                )
            })?);
        }
        let command = get(REBUILD_COMMAND)
            .map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>());
        if let Some(v) = get(ACTION) {
            o.action = Some(match v.trim() {
                "none" => ReloadAction::None,
                "restart" => ReloadAction::Restart,
                "rebuild" => match &command {
                    Some(c) => ReloadAction::Rebuild { command: c.clone() },
                    None => {
                        return Err(err(
                            ACTION,
                            format!("\"rebuild\" needs the command in {REBUILD_COMMAND}"),
                        ))
                    }
                },
                other => {
                    return Err(err(
                        ACTION,
                        format!("unknown action {other:?}; expected none, restart or rebuild"),
                    ))
                }
            });
        } else if let Some(c) = command {
            o.action = Some(ReloadAction::Rebuild { command: c });
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn parses_rules_with_braces_and_dests() {
        let o = Overrides::from_env(env(&[
            (RULES, "src/**/*.{js,ts}=/app; public/**\n"),
            (IGNORE, "src/generated/**"),
        ]))
        .unwrap();
        let r = o.replace.unwrap();
        assert_eq!(r[0].src, "src/**/*.{js,ts}");
        assert_eq!(r[0].dest, "/app");
        assert_eq!(r[1].src, "public/**");
        assert_eq!(r[1].dest, "");
        assert_eq!(o.ignore, vec!["src/generated/**"]);
    }

    #[test]
    fn errors_name_the_variable_and_the_part() {
        let e = Overrides::from_env(env(&[(EXTRA_RULES, "ok/*.js;bad/[x")])).unwrap_err();
        assert_eq!(e.variable, EXTRA_RULES);
        assert!(e.message.contains("bad/[x"), "{e}");
        let e = Overrides::from_env(env(&[(IGNORE, "/abs/**")])).unwrap_err();
        assert_eq!(e.variable, IGNORE);
        let e = Overrides::from_env(env(&[(FAMILY, "cobol")])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("BP_FILESYNC_FAMILY: unknown family \"cobol\""),
            "{e}"
        );
        let e = Overrides::from_env(env(&[(ACTION, "rebuild")])).unwrap_err();
        assert_eq!(e.variable, ACTION);
        let e = Overrides::from_env(env(&[(RULES, "=/dest")])).unwrap_err();
        assert_eq!(e.variable, RULES);
    }

    #[test]
    fn rebuild_command_implies_rebuild() {
        let o = Overrides::from_env(env(&[(REBUILD_COMMAND, "make app")])).unwrap();
        assert_eq!(
            o.action,
            Some(ReloadAction::Rebuild {
                command: vec!["make".into(), "app".into()]
            })
        );
    }
}
