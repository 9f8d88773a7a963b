//! The layers' `launch.toml`, written by this buildpack itself: libcnb has
//! no `[[bom]]`, and Skaffold's auto sync reads exactly that legacy BOM
//! (metadata key `devmode.sync`), which the lifecycle still accepts for
//! every Buildpack API it supports (with a deprecation warning) and puts
//! in the `io.buildpacks.build.metadata` label when the Platform API is
//! below 0.9, else in `/layers/sbom/launch/sbom.legacy.json`.

use filesync_rules::SyncRule;
use serde::Serialize;

#[derive(Serialize, Debug, Default)]
pub(crate) struct LaunchToml {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<Process>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bom: Vec<BomEntry>,
}

#[derive(Serialize, Debug)]
pub(crate) struct Label {
    pub key: String,
    pub value: String,
}

/// A process (Buildpack API 0.10: always exec'd directly; the launcher
/// appends runtime arguments after `command`).
#[derive(Serialize, Debug)]
pub(crate) struct Process {
    #[serde(rename = "type")]
    pub kind: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub default: bool,
}

#[derive(Serialize, Debug)]
pub(crate) struct BomEntry {
    pub name: String,
    pub metadata: BomMetadata,
}

#[derive(Serialize, Debug)]
pub(crate) struct BomMetadata {
    #[serde(rename = "devmode.sync")]
    pub sync: Vec<BomRule>,
}

/// Auto-sync rules carry no `strip`.
#[derive(Serialize, Debug)]
pub(crate) struct BomRule {
    pub src: String,
    pub dest: String,
}

impl BomEntry {
    pub(crate) fn devmode(rules: &[SyncRule]) -> BomEntry {
        BomEntry {
            name: "devmode".to_string(),
            metadata: BomMetadata {
                sync: rules
                    .iter()
                    .map(|r| BomRule {
                        src: r.src.clone(),
                        dest: r.dest.clone(),
                    })
                    .collect(),
            },
        }
    }
}

impl LaunchToml {
    pub(crate) fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_shape_is_what_skaffold_reads() {
        let l = LaunchToml {
            bom: vec![BomEntry::devmode(&[SyncRule {
                src: "**/*.js".into(),
                dest: "/workspace".into(),
                strip: String::new(),
                about: String::new(),
            }])],
            ..LaunchToml::default()
        };
        let v: toml::Value = toml::from_str(&l.to_toml().unwrap()).unwrap();
        assert_eq!(v["bom"][0]["name"].as_str(), Some("devmode"));
        assert_eq!(
            v["bom"][0]["metadata"]["devmode.sync"][0]["src"].as_str(),
            Some("**/*.js")
        );
        assert_eq!(
            v["bom"][0]["metadata"]["devmode.sync"][0]["dest"].as_str(),
            Some("/workspace")
        );
    }
}
