//! The rule engine's overrides read from the build env (`BP_FILESYNC_*`
//! names in [`crate::variables`]), so the engine takes typed data and knows
//! no variable. The buildpack (at build time) and `filesync rules` (to
//! preview them) read the same variables through [`overrides`]. Empty or
//! whitespace-only values count as unset; every error names its variable.

use crate::variables::{ACTION, EXTRA_RULES, FAMILY, IGNORE, REBUILD_COMMAND, RULES};
use filesync_rules::overrides::{parse_patterns, parse_rules};
use filesync_rules::{ConfigError, Family, NoFamily, Overrides, ReloadAction};

fn err(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_string(),
        message: message.into(),
    }
}

/// Reads the overrides through `lookup` (the platform env).
pub fn overrides(lookup: impl Fn(&str) -> Option<String>) -> Result<Overrides, ConfigError> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let mut o = Overrides::default();
    if let Some(v) = get(RULES) {
        o.replace = Some(parse_rules(RULES, &v)?);
    }
    if let Some(v) = get(EXTRA_RULES) {
        o.extra = parse_rules(EXTRA_RULES, &v)?;
    }
    if let Some(v) = get(IGNORE) {
        o.ignore = parse_patterns(IGNORE, &v)?;
    }
    if let Some(v) = get(FAMILY) {
        o.family = Some(family(v.trim())?);
    }
    let command = get(REBUILD_COMMAND).map(|v| command(&v)).transpose()?;
    o.action = match (get(ACTION), command) {
        (Some(v), Some(_)) if matches!(v.trim(), "none" | "restart") => {
            return Err(err(
                ACTION,
                format!(
                "{:?} conflicts with {REBUILD_COMMAND}, which means a rebuild; unset one of them",
                v.trim()
            ),
            ))
        }
        (Some(v), command) => Some(action(v.trim(), command)?),
        (None, Some(command)) => Some(ReloadAction::Rebuild { command }),
        (None, None) => None,
    };
    Ok(o)
}

/// The engine's "no family" as the variable that would have named one.
// A map_err adapter: it takes the error as map_err hands it, by value.
#[allow(clippy::needless_pass_by_value)]
pub fn no_family(e: NoFamily) -> ConfigError {
    err(FAMILY, e.to_string())
}

fn family(name: &str) -> Result<Family, ConfigError> {
    Family::from_name(name).ok_or_else(|| {
        let valid: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
        err(
            FAMILY,
            format!(
                "unknown family {name:?}; expected one of {}",
                valid.join(", ")
            ),
        )
    })
}

/// A command line split as a POSIX shell would (quotes, backslashes), not
/// run through a shell.
fn command(value: &str) -> Result<Vec<String>, ConfigError> {
    shell_words::split(value).map_err(|e| {
        err(
            REBUILD_COMMAND,
            format!("{value:?} cannot be split into words: {e}"),
        )
    })
}

fn action(value: &str, command: Option<Vec<String>>) -> Result<ReloadAction, ConfigError> {
    match value {
        "none" => Ok(ReloadAction::None),
        "restart" => Ok(ReloadAction::Restart),
        "rebuild" => match command {
            Some(command) => Ok(ReloadAction::Rebuild { command }),
            None => Err(err(
                ACTION,
                format!("\"rebuild\" needs the command in {REBUILD_COMMAND}"),
            )),
        },
        other => Err(err(
            ACTION,
            format!("unknown action {other:?}; expected none, restart or rebuild"),
        )),
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
        let o = overrides(env(&[
            (RULES, "src/**/*.{js,ts}=/app; public/**\n"),
            (IGNORE, "src/generated/**"),
        ]))
        .unwrap();
        let r = o.replace.unwrap();
        assert_eq!(r[0].src, "src/**/*.{js,ts}");
        assert_eq!(r[0].dest, "/app");
        assert_eq!(r[0].about, "set by BP_FILESYNC_RULES");
        assert_eq!(r[1].src, "public/**");
        assert_eq!(o.ignore, vec!["src/generated/**"]);
    }

    #[test]
    fn errors_name_the_variable_and_the_part() {
        let e = overrides(env(&[(EXTRA_RULES, "ok/*.js;bad/[x")])).unwrap_err();
        assert_eq!(e.variable, EXTRA_RULES);
        assert!(e.message.contains("bad/[x"), "{e}");
        let e = overrides(env(&[(IGNORE, "/abs/**")])).unwrap_err();
        assert_eq!(e.variable, IGNORE);
        let e = overrides(env(&[(FAMILY, "cobol")])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("BP_FILESYNC_FAMILY: unknown family \"cobol\""),
            "{e}"
        );
        let e = overrides(env(&[(ACTION, "rebuild")])).unwrap_err();
        assert_eq!(e.variable, ACTION);
        let e = overrides(env(&[(RULES, "=/dest")])).unwrap_err();
        assert_eq!(e.variable, RULES);
        let e = overrides(env(&[(REBUILD_COMMAND, "make 'app")])).unwrap_err();
        assert_eq!(e.variable, REBUILD_COMMAND);
        let e = overrides(env(&[(ACTION, "restart"), (REBUILD_COMMAND, "make")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "BP_FILESYNC_ACTION: \"restart\" conflicts with BP_FILESYNC_REBUILD_COMMAND, which means a rebuild; unset one of them"
        );
    }

    #[test]
    fn rebuild_command_implies_rebuild_and_keeps_a_quoted_argument_whole() {
        let o = overrides(env(&[(REBUILD_COMMAND, "make app")])).unwrap();
        assert_eq!(
            o.action,
            Some(ReloadAction::Rebuild {
                command: vec!["make".into(), "app".into()]
            })
        );
        let o = overrides(env(&[
            (ACTION, "rebuild"),
            (REBUILD_COMMAND, r#"sh -c "go build -o /tmp/app ." 'a b'"#),
        ]))
        .unwrap();
        assert_eq!(
            o.action,
            Some(ReloadAction::Rebuild {
                command: vec![
                    "sh".into(),
                    "-c".into(),
                    "go build -o /tmp/app .".into(),
                    "a b".into()
                ]
            })
        );
    }

    #[test]
    fn blank_values_count_as_unset() {
        let o = overrides(env(&[(RULES, " "), (ACTION, "\t"), (REBUILD_COMMAND, "")]));
        assert_eq!(o, Ok(Overrides::default()));
    }
}
