//! Build env from the artifact's CNB project descriptor (`project.toml`, or
//! its `buildpacks.projectDescriptor`): Skaffold merges it over the
//! artifact's own env and passes both to the build, so `BP_FILESYNC_*`
//! overrides set there shape the buildpack's rules and must shape the
//! generated manual rules too.

use anyhow::Context;
use std::path::Path;

/// The descriptor's name when the artifact names none.
const DEFAULT_NAME: &str = "project.toml";

/// `(name, value)` pairs of `[[build.env]]` (descriptor schema 0.1) and
/// `[[io.buildpacks.build.env]]` (schema 0.2) of the descriptor `name`
/// (the artifact's `buildpacks.projectDescriptor`, relative to its context;
/// default `project.toml`); empty when there is no such file, as Skaffold
/// does (v2 `pkg/skaffold/build/buildpacks/env.go`, `GetEnv`: read only
/// `if util.IsFile(path)`).
pub(super) fn build_env(
    app_dir: &Path,
    name: Option<&str>,
) -> anyhow::Result<Vec<(String, String)>> {
    let path = app_dir.join(name.unwrap_or(DEFAULT_NAME));
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: toml::Value =
        toml::from_str(&text).with_context(|| format!("{}: malformed TOML", path.display()))?;
    let tables = [
        doc.get("build").and_then(|b| b.get("env")),
        doc.get("io")
            .and_then(|i| i.get("buildpacks"))
            .and_then(|b| b.get("build"))
            .and_then(|b| b.get("env")),
    ];
    let mut env = Vec::new();
    for list in tables.into_iter().flatten() {
        for entry in list.as_array().into_iter().flatten() {
            let name = entry.get("name").and_then(toml::Value::as_str);
            let value = entry.get("value").and_then(toml::Value::as_str);
            if let (Some(name), Some(value)) = (name, value) {
                env.push((name.to_string(), value.to_string()));
            }
        }
    }
    Ok(env)
}

/// The value of `key` the build sees, in Skaffold's order (`env.go`,
/// `env`): the artifact's `buildpacks.env` (`artifact`), then the
/// descriptor's build env (`project`) over it, the last entry of a name
/// winning. A blank value is passed on as it is: the
/// reader counts it as unset, whichever of the two set it.
pub(super) fn merged(
    project: &[(String, String)],
    artifact: Option<String>,
    key: &str,
) -> Option<String> {
    project
        .iter()
        .rev()
        .find(|(n, _)| n == key)
        .map(|(_, v)| v.clone())
        .or(artifact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_overrides_the_artifact_and_a_blank_value_unsets() {
        let project = vec![("A".to_string(), "p".to_string())];
        assert_eq!(
            merged(&project, Some("a".into()), "A").as_deref(),
            Some("p")
        );
        assert_eq!(
            merged(&project, Some("a".into()), "C").as_deref(),
            Some("a")
        );
        assert_eq!(merged(&project, None, "C"), None);
        // A blank value in the descriptor unsets the artifact's, as the
        // buildpack would see it.
        let rules = filesync_contract::variables::RULES;
        let project = vec![(rules.to_string(), " ".to_string())];
        let lookup = |k: &str| merged(&project, (k == rules).then(|| "bad/[x".into()), k);
        assert_eq!(
            filesync_contract::settings::overrides(lookup),
            Ok(filesync_rules::Overrides::default())
        );
    }

    #[test]
    fn a_named_descriptor_is_read_and_a_missing_one_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dev.toml"),
            "[[build.env]]\nname = \"A\"\nvalue = \"1\"\n",
        )
        .unwrap();
        assert_eq!(
            build_env(dir.path(), Some("dev.toml")).unwrap(),
            [("A".to_string(), "1".to_string())]
        );
        assert!(build_env(dir.path(), Some("gone.toml")).unwrap().is_empty());
    }

    #[test]
    fn reads_both_schema_versions_and_nothing_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(build_env(dir.path(), None).unwrap().is_empty());
        std::fs::write(
            dir.path().join("project.toml"),
            "[[build.env]]\nname = \"A\"\nvalue = \"1\"\n[[io.buildpacks.build.env]]\nname = \"B\"\nvalue = \"x;y\"\n",
        )
        .unwrap();
        assert_eq!(
            build_env(dir.path(), None).unwrap(),
            [
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "x;y".to_string())
            ]
        );
        std::fs::write(dir.path().join("project.toml"), "[[build.env]\n").unwrap();
        assert!(build_env(dir.path(), None)
            .unwrap_err()
            .to_string()
            .contains("project.toml"));
    }
}
