//! What a dev build records in the image, assembled from the build's
//! decisions: the runtime config the supervisor reads (`filesync.toml`,
//! written by `layers::filesync`), and `launch.toml` (`launch_toml`): our
//! label, the processes (`filesync` the default, the `tar` and `rm` shims,
//! the sync-done hook) and the `devmode` BOM with the sync rules.

use crate::errors::{self, BuildpackError};
use crate::launch_toml::{BomEntry, Label, LaunchToml, Process};
use crate::settings::Settings;
use filesync_contract::config::{BatchEnd, RuntimeConfig, SOCKET};
use filesync_contract::label::{LabelMetadata, LABEL};
use filesync_contract::processes::{self, subcommand};
use filesync_rules::Plan;
use std::path::Path;

/// The runtime config for `plan`, wrapping `process_type`.
pub(crate) fn runtime_config(
    plan: &Plan,
    process_type: &str,
    settings: &Settings,
) -> RuntimeConfig {
    RuntimeConfig {
        plan: plan.clone(),
        process_type: process_type.to_string(),
        debounce_ms: settings.debounce_ms,
        socket: SOCKET.to_string(),
        stop_signal: settings.stop_signal.clone(),
        batch_end: if settings.sync_hook {
            BatchEnd::Hook
        } else {
            BatchEnd::Shim
        },
        // A fresh id per dev build: a restart record of another build is
        // not replayed (the runtime's `record` module).
        build_id: Some(crate::build_id::new()),
    }
}

/// The image's launch.toml: `binary` (the runtime's path in the image)
/// runs every process of ours.
pub(crate) fn launch_toml(binary: &Path, plan: &Plan, process_type: &str) -> LaunchToml {
    let label = LabelMetadata {
        sync: plan.rules.clone(),
        family: plan.family,
        action: plan.action.clone(),
        process_type: process_type.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let binary = binary.display().to_string();
    let process = |kind: &str, sub: &str, default: bool| Process {
        kind: kind.to_string(),
        command: vec![binary.clone(), sub.to_string()],
        args: Vec::new(),
        default,
    };
    LaunchToml {
        labels: vec![Label {
            key: LABEL.to_string(),
            value: serde_json::to_string(&label).expect("label JSON"),
        }],
        processes: vec![
            process(processes::SUPERVISOR, subcommand::SUPERVISE, true),
            process(processes::TAR, subcommand::TAR, false),
            process(processes::RM, subcommand::RM, false),
            process(processes::SYNC_DONE, subcommand::SYNC_DONE, false),
        ],
        bom: vec![BomEntry::devmode(&plan.rules)],
    }
}

/// Writes `launch` as our layers dir's launch.toml.
pub(crate) fn write_launch_toml(
    layers_dir: &Path,
    launch: &LaunchToml,
) -> Result<(), BuildpackError> {
    let write_error = |e: &dyn std::fmt::Display| BuildpackError::WriteOutput {
        file: errors::Output::LaunchToml,
        details: e.to_string(),
    };
    let text = launch.to_toml().map_err(|e| write_error(&e))?;
    std::fs::write(layers_dir.join("launch.toml"), text).map_err(|e| write_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use filesync_rules::{Family, ReloadAction, SyncRule};

    #[test]
    fn the_runtime_runs_every_process_of_ours_and_the_label_carries_the_plan() {
        let plan = Plan {
            family: Family::Node,
            app_dir: "/workspace".into(),
            ignore: Vec::new(),
            rules: vec![SyncRule {
                src: "**/*.js".into(),
                dest: "/workspace".into(),
                strip: String::new(),
                about: String::new(),
            }],
            action: ReloadAction::Restart,
        };
        let launch = launch_toml(Path::new("/layers/x/filesync/bin/filesync"), &plan, "web");
        let kinds: Vec<(&str, &str, bool)> = launch
            .processes
            .iter()
            .map(|p| (p.kind.as_str(), p.command[1].as_str(), p.default))
            .collect();
        assert_eq!(
            kinds,
            [
                ("filesync", "supervise", true),
                ("tar", "tar", false),
                ("rm", "rm", false),
                (processes::SYNC_DONE, "sync-done", false),
            ]
        );
        assert!(launch
            .processes
            .iter()
            .all(|p| p.command[0] == "/layers/x/filesync/bin/filesync" && p.args.is_empty()));
        assert_eq!(launch.labels[0].key, LABEL);
        let label: LabelMetadata = serde_json::from_str(&launch.labels[0].value).unwrap();
        assert_eq!(
            (label.process_type.as_str(), label.sync),
            ("web", plan.rules)
        );
    }
}
