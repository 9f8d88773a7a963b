//! The lifecycle's `/layers/config/metadata.toml` (exported into every
//! image; the launcher reads it too): the processes and the buildpack
//! order. `command` is an array for Platform API >= 0.10 and a string
//! before; both are accepted.

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub processes: Vec<Process>,
    #[serde(default)]
    pub buildpacks: Vec<Buildpack>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Buildpack {
    pub id: String,
    #[serde(default)]
    pub api: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Argv(Vec<String>),
    Shell(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct Process {
    #[serde(rename = "type")]
    pub kind: String,
    pub command: Command,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub direct: Option<bool>,
    #[serde(rename = "working-dir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "buildpack-id", default)]
    pub buildpack_id: Option<String>,
}

impl Process {
    /// The argv the launcher would exec (command then args). A non-direct
    /// (shell) process of an old Buildpack API runs through `bash -c`.
    pub fn argv(&self) -> Vec<String> {
        match (&self.command, self.direct) {
            (Command::Argv(c), _) => c.iter().chain(&self.args).cloned().collect(),
            (Command::Shell(s), Some(false)) => {
                let mut v = vec![
                    "bash".to_string(),
                    "-c".to_string(),
                    s.clone(),
                    "--".to_string(),
                ];
                v.extend(self.args.iter().cloned());
                v
            }
            (Command::Shell(s), _) => std::iter::once(s.clone())
                .chain(self.args.iter().cloned())
                .collect(),
        }
    }
}

/// The layers dir. The launcher removes `CNB_LAYERS_DIR` from the
/// process env, but our recorded config lives in our own layer,
/// `<layers>/skaffold-filesync/filesync/filesync.toml`, so its location
/// tells; else `$CNB_LAYERS_DIR`, else `/layers`.
pub fn layers_dir() -> PathBuf {
    if let Some(cfg) = std::env::var_os(crate::config::CONFIG_ENV).map(PathBuf::from) {
        if cfg.ends_with("skaffold-filesync/filesync/filesync.toml") {
            if let Some(layers) = cfg.ancestors().nth(3) {
                return layers.to_path_buf();
            }
        }
    }
    std::env::var_os("CNB_LAYERS_DIR").map_or_else(|| PathBuf::from("/layers"), PathBuf::from)
}

impl Metadata {
    pub fn load(layers: &Path) -> anyhow::Result<Metadata> {
        let path = layers.join("config/metadata.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn process(&self, kind: &str) -> Option<&Process> {
        self.processes.iter().find(|p| p.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_command_shapes() {
        let m: Metadata = toml::from_str(
            r#"
[[processes]]
type = "web"
command = ["node", "server.js"]
args = ["--port", "1"]
direct = true
buildpack-id = "x"
[[processes]]
type = "old"
command = "python3"
args = ["app.py"]
direct = true
[[buildpacks]]
id = "x"
api = "0.10"
"#,
        )
        .unwrap();
        assert_eq!(
            m.process("web").unwrap().argv(),
            ["node", "server.js", "--port", "1"]
        );
        assert_eq!(m.process("old").unwrap().argv(), ["python3", "app.py"]);
        assert_eq!(m.buildpacks[0].id, "x");
    }
}
