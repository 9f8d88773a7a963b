//! The environment of the wrapped process, made exactly as the CNB launcher
//! (lifecycle v0.21.17, `launch/launcher.go`) would make it.
//!
//! Facts: the launcher starts from the container's environment, drops
//! `/cnb/process` and `/cnb/lifecycle` from `PATH` and a few `CNB_*`
//! variables, then for every buildpack (metadata order) and each of its
//! layers (name order) applies the layer root (`bin` → PATH, `lib` →
//! `LD_LIBRARY_PATH`), the layer's `env.launch/` files and then its
//! process-specific `env.launch/<type>/` files. The supervisor itself was
//! launched that way as process type `filesync`, which has no
//! process-specific env. So the wrapped type's environment is ours plus the
//! wrapped type's process-specific files, applied in the same order —
//! nothing doubled (the generic layer env is not applied again), nothing
//! lost. (Exact except where a later layer's generic env and an earlier
//! layer's process-specific env modify the same variable.)

use crate::metadata::Metadata;
use std::collections::BTreeMap;
use std::path::Path;

pub type Env = BTreeMap<String, String>;

/// Applies one `env.launch[/<type>]` directory's files to `env`
/// (Buildpack API >= 0.5 semantics: a bare `NAME` file overrides).
pub fn apply_env_dir(env: &mut Env, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(String, String)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let value = std::fs::read_to_string(e.path()).ok()?;
            Some((name, value))
        })
        .collect();
    files.sort();
    let delim = |name: &str, files: &[(String, String)]| {
        files
            .iter()
            .find(|(n, _)| *n == format!("{name}.delim"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    for (file, value) in &files {
        let (name, action) = file.rsplit_once('.').unwrap_or((file.as_str(), "override"));
        match action {
            "override" => {
                env.insert(name.to_string(), value.clone());
            }
            "default" => {
                env.entry(name.to_string()).or_insert_with(|| value.clone());
            }
            "prepend" => {
                let d = delim(name, &files);
                let new = match env.get(name) {
                    Some(old) if !old.is_empty() => format!("{value}{d}{old}"),
                    _ => value.clone(),
                };
                env.insert(name.to_string(), new);
            }
            "append" => {
                let d = delim(name, &files);
                let new = match env.get(name) {
                    Some(old) if !old.is_empty() => format!("{old}{d}{value}"),
                    _ => value.clone(),
                };
                env.insert(name.to_string(), new);
            }
            "delim" => {}
            _ => {
                // `NAME.with.dots` without a known suffix: a bare override.
                env.insert(file.clone(), value.clone());
            }
        }
    }
}

/// `current` (our own environment) turned into the wrapped type's.
pub fn for_process(current: Env, layers: &Path, metadata: &Metadata, process_type: &str) -> Env {
    let mut env = current;
    for bp in &metadata.buildpacks {
        let bp_dir = layers.join(bp.id.replace('/', "_"));
        let Ok(entries) = std::fs::read_dir(&bp_dir) else {
            continue;
        };
        let mut layer_dirs: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        layer_dirs.sort();
        for layer in layer_dirs {
            apply_env_dir(&mut env, &layer.join("env.launch").join(process_type));
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_actions() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("A.override"), "x").unwrap();
        std::fs::write(d.join("B.default"), "new").unwrap();
        std::fs::write(d.join("C.prepend"), "/p").unwrap();
        std::fs::write(d.join("C.delim"), ":").unwrap();
        std::fs::write(d.join("D"), "bare").unwrap();
        let mut env: Env = [("B", "keep"), ("C", "/old")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        apply_env_dir(&mut env, d);
        assert_eq!(env["A"], "x");
        assert_eq!(env["B"], "keep");
        assert_eq!(env["C"], "/p:/old");
        assert_eq!(env["D"], "bare");
    }
}
