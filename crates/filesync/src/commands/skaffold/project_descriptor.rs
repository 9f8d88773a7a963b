//! Build env from the app's `project.toml` (CNB project descriptor): pack
//! passes it to the build like the artifact's own env, so `BP_FILESYNC_*`
//! overrides set there shape the buildpack's rules and must shape the
//! generated manual rules too.

use anyhow::Context;
use std::path::Path;

/// `(name, value)` pairs of `[[build.env]]` (descriptor schema 0.1) and
/// `[[io.buildpacks.build.env]]` (schema 0.2); empty without a project.toml.
pub fn build_env(app_dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let path = app_dir.join("project.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_schema_versions_and_nothing_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(build_env(dir.path()).unwrap().is_empty());
        std::fs::write(
            dir.path().join("project.toml"),
            "[[build.env]]\nname = \"A\"\nvalue = \"1\"\n[[io.buildpacks.build.env]]\nname = \"B\"\nvalue = \"x;y\"\n",
        )
        .unwrap();
        assert_eq!(
            build_env(dir.path()).unwrap(),
            [
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "x;y".to_string())
            ]
        );
        std::fs::write(dir.path().join("project.toml"), "[[build.env]\n").unwrap();
        assert!(build_env(dir.path())
            .unwrap_err()
            .to_string()
            .contains("project.toml"));
    }
}
