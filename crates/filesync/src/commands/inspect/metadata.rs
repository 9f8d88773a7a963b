//! What an image config says about sync rules and processes.
//!
//! Sources, as the lifecycle (v0.21) and Skaffold read them:
//! - `io.buildpacks.build.metadata`: `bom[*].metadata["devmode.sync"]` (the
//!   legacy rules Skaffold's auto sync reads; present only when the image
//!   was exported with Platform API < 0.9) and `processes`.
//! - [`LABEL`]: the rules our buildpack publishes with every Platform API.
//! - Default process: the exporter sets Entrypoint `/cnb/process/<type>`
//!   (or `/cnb/lifecycle/launcher` when there is none); older platforms
//!   record it in the env as `CNB_PROCESS_TYPE`.

use anyhow::{bail, Context};
use filesync_contract::label::{LabelMetadata, LABEL};
use filesync_rules::SyncRule;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

pub(super) const BUILD_LABEL: &str = "io.buildpacks.build.metadata";
const PROCESS_DIR: &str = "/cnb/process/";

#[derive(Debug, Serialize, PartialEq)]
pub(super) struct Report {
    /// Rules from the legacy BOM (`None`: no rules there, as for Skaffold).
    pub legacy_rules: Option<Vec<SyncRule>>,
    /// Our label (`None`: absent).
    pub filesync: Option<LabelMetadata>,
    pub processes: Vec<Process>,
    pub default_process: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(super) struct Process {
    #[serde(rename = "type")]
    pub kind: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub buildpack: Option<String>,
}

impl Report {
    pub(super) fn from_config(config: &Value) -> anyhow::Result<Self> {
        let labels = &config["config"]["Labels"];
        let build = match labels.get(BUILD_LABEL).and_then(Value::as_str) {
            Some(text) => Some(
                serde_json::from_str::<Value>(text)
                    .with_context(|| format!("label {BUILD_LABEL}: malformed JSON"))?,
            ),
            None => None,
        };
        let filesync = match labels.get(LABEL).and_then(Value::as_str) {
            Some(text) => Some(
                serde_json::from_str::<LabelMetadata>(text)
                    .with_context(|| format!("label {LABEL}: malformed"))?,
            ),
            None => None,
        };
        // Exactly what Skaffold's auto sync sees (the rule engine's port of
        // `SyncRules(labels)`): `None` when the label has no rules.
        let legacy_rules = filesync_rules::skaffold::rules_from_build_metadata(
            labels.get(BUILD_LABEL).and_then(Value::as_str),
        )
        .with_context(|| format!("label {BUILD_LABEL}: malformed"))?;
        if legacy_rules.is_none() && filesync.is_none() {
            bail!("no sync rules: neither label {LABEL} nor a devmode.sync BOM entry in {BUILD_LABEL} (was the image built with the filesync buildpack and BP_FILESYNC_ENABLED=true?)");
        }
        let processes = build
            .as_ref()
            .map(processes)
            .transpose()?
            .unwrap_or_default();
        Ok(Report {
            legacy_rules,
            filesync,
            processes,
            default_process: default_process(&config["config"]),
        })
    }

    /// The report for a person; `source` says where the config was read.
    pub(super) fn to_text(&self, image: &str, source: &str) -> String {
        let mut out = format!("image: {image}\nsource: {source}\n");
        let rules = |out: &mut String, rules: &[SyncRule]| {
            if rules.is_empty() {
                out.push_str("  (no rules: every change rebuilds)\n");
            }
            for r in rules {
                let _ = write!(out, "  {} -> {}", r.src, r.dest);
                if !r.strip.is_empty() {
                    let _ = write!(out, " (strip {})", r.strip);
                }
                out.push('\n');
            }
        };
        match &self.legacy_rules {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "legacy rules ({BUILD_LABEL} bom devmode.sync, read by Skaffold auto sync):"
                );
                rules(&mut out, r);
            }
            None => {
                let _ = writeln!(out, "legacy rules: none (no devmode.sync BOM rules in {BUILD_LABEL}: Platform API >= 0.9 drops them; use `filesync skaffold`)");
            }
        }
        match &self.filesync {
            Some(m) => {
                let _ = writeln!(
                    out,
                    "filesync rules ({LABEL}, buildpack {}, family {}, reload {}, wraps process {}):",
                    m.version,
                    // The label's own spelling (`node`, `go`, …).
                    serde_json::to_value(m.family).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                    action(&m.action),
                    m.process_type
                );
                rules(&mut out, &m.sync);
            }
            None => {
                let _ = writeln!(out, "filesync rules: none (no {LABEL} label)");
            }
        }
        out.push_str("processes:\n");
        if self.processes.is_empty() {
            out.push_str("  (none recorded)\n");
        }
        for p in &self.processes {
            let mark = if Some(&p.kind) == self.default_process.as_ref() {
                " (default)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {}{mark}: {}",
                p.kind,
                [p.command.clone(), p.args.clone()].concat().join(" ")
            );
        }
        let _ = writeln!(
            out,
            "default process: {}",
            self.default_process.as_deref().unwrap_or("none")
        );
        out
    }
}

fn action(action: &filesync_rules::ReloadAction) -> String {
    match action {
        filesync_rules::ReloadAction::None => "none".into(),
        filesync_rules::ReloadAction::Restart => "restart".into(),
        filesync_rules::ReloadAction::Rebuild { command } => {
            format!("rebuild with `{}`", command.join(" "))
        }
    }
}

fn processes(build: &Value) -> anyhow::Result<Vec<Process>> {
    let Some(list) = build.get("processes").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    list.iter()
        .map(|p| {
            Ok(Process {
                kind: p["type"]
                    .as_str()
                    .with_context(|| format!("label {BUILD_LABEL}: process without type"))?
                    .to_string(),
                command: strings(&p["command"]),
                args: strings(&p["args"]),
                buildpack: p["buildpackID"].as_str().map(str::to_string),
            })
        })
        .collect()
}

fn default_process(config: &Value) -> Option<String> {
    let from_entrypoint = config["Entrypoint"]
        .as_array()
        .and_then(|e| e.first())
        .and_then(Value::as_str)
        .and_then(|e| e.strip_prefix(PROCESS_DIR))
        .map(str::to_string);
    from_entrypoint.or_else(|| {
        config["Env"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .find_map(|e| e.strip_prefix("CNB_PROCESS_TYPE="))
            .map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(labels: &Value, entrypoint: &str) -> Value {
        json!({"config": {"Labels": labels, "Entrypoint": [entrypoint], "Env": ["PATH=/cnb/process:/usr/bin"]}})
    }

    #[test]
    fn legacy_rules_come_from_every_bom_entry_and_processes_from_build_metadata() {
        let build = json!({
            "bom": [
                {"name": "a", "metadata": {"devmode.sync": [{"src": "**/*.js", "dest": "/workspace"}]}},
                {"name": "b", "metadata": {}},
                {"name": "c", "metadata": {"devmode.sync": [{"src": "public/**", "dest": "/workspace"}]}}
            ],
            "processes": [{"type": "web", "command": ["node", "index.js"], "args": [], "buildpackID": "x"},
                          {"type": "worker", "command": "node w.js"}]
        });
        let report = Report::from_config(&config(
            &json!({BUILD_LABEL: build.to_string()}),
            "/cnb/process/web",
        ))
        .unwrap();
        let srcs: Vec<_> = report
            .legacy_rules
            .unwrap()
            .into_iter()
            .map(|r| r.src)
            .collect();
        assert_eq!(srcs, ["**/*.js", "public/**"]);
        assert_eq!(report.processes.len(), 2);
        assert_eq!(report.processes[0].command, ["node", "index.js"]);
        assert_eq!(report.default_process.as_deref(), Some("web"));
    }

    #[test]
    fn launcher_entrypoint_means_the_env_or_no_default() {
        let mut c = config(
            &json!({BUILD_LABEL: json!({"bom": [{"metadata": {"devmode.sync": [{"src": "*.py", "dest": "/workspace"}]}}]}).to_string()}),
            "/cnb/lifecycle/launcher",
        );
        assert_eq!(Report::from_config(&c).unwrap().default_process, None);
        c["config"]["Env"] = json!(["CNB_PROCESS_TYPE=worker"]);
        assert_eq!(
            Report::from_config(&c).unwrap().default_process.as_deref(),
            Some("worker")
        );
    }

    #[test]
    fn malformed_or_missing_labels_are_errors_naming_the_label() {
        let err =
            Report::from_config(&config(&json!({BUILD_LABEL: "{not json"}), "/x")).unwrap_err();
        assert!(format!("{err:#}").contains(BUILD_LABEL));
        let err = Report::from_config(&config(&json!({LABEL: "{\"devmode.sync\": 3}"}), "/x"))
            .unwrap_err();
        assert!(format!("{err:#}").contains(LABEL));
        let err = Report::from_config(&config(&json!({BUILD_LABEL: "{\"processes\": []}"}), "/x"))
            .unwrap_err();
        assert!(format!("{err:#}").contains("no sync rules"));
    }
}
