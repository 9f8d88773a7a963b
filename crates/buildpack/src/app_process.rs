//! Which process type the supervisor wraps when `BP_FILESYNC_PROCESS` is
//! unset: the default process the earlier buildpacks chose, found exactly as
//! the lifecycle will find it, because Paketo's buildpacks do not always
//! call the app's process `web` (go-build names it after the binary,
//! executable-jar `executable-jar`, and Paketo's own live reload moves the
//! default to a watchexec process).
//!
//! The processes are read by `lifecycle_files` and merged here the way
//! lifecycle v0.21.17 merges them (`phase/builder.go`, `Builder.Build`
//! feeds each buildpack's processes, in group order, to `processMap.add`):
//! a later process with the same type replaces the earlier one; the
//! default is the last process marked `default = true`; a later
//! *non-default* process redefining the default type clears the default.

use crate::errors::BuildpackError;
use crate::lifecycle_files::{self, BuildpackProcesses, DeclaredProcess};
use crate::paketo::live_reload;
use crate::FilesyncBuildpack;
use libcnb::build::BuildContext;
use std::collections::BTreeMap;

/// Why no process could be chosen: data only, rendered by `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppProcessError {
    /// No default process and no `web`; the types there are.
    NoAppProcess { types: Vec<String> },
    /// The default runs watchexec and its buildpack declared no sibling
    /// without it.
    OnlyWatchexec { process: String, buildpack: String },
}

/// Used when no earlier buildpack marked a default: the CNB convention for
/// the app's process, and what Procfile apps call it.
pub(crate) const FALLBACK: &str = "web";

/// Why a process type was chosen; [`Choice::messages`] says it to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    /// `BP_FILESYNC_PROCESS` named it.
    Setting,
    /// The default process the earlier buildpacks chose.
    Default,
    /// No default was chosen; `web` exists.
    Fallback,
    /// The default (`instead_of`) runs watchexec; this is the same
    /// buildpack's process for the app without it.
    InsteadOfWatchexec { instead_of: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub process: String,
    /// The buildpack that declared it (empty for [`Reason::Setting`]).
    pub buildpack: String,
    pub reason: Reason,
}

impl Choice {
    /// The build-log lines (without our prefix) that explain the choice.
    pub(crate) fn messages(&self) -> Vec<String> {
        let (p, bp) = (&self.process, &self.buildpack);
        match &self.reason {
            Reason::Setting => vec![format!(
                "wrapping process '{p}' (set by {})",
                crate::settings::PROCESS
            )],
            Reason::Default => vec![format!(
                "wrapping process '{p}' (the default chosen by {bp})"
            )],
            Reason::Fallback => vec![format!(
                "wrapping process '{p}' (declared by {bp}; no buildpack chose a default)"
            )],
            Reason::InsteadOfWatchexec { instead_of } => vec![
                format!(
                    "Paketo live reload is on ({}): wrapping '{p}' instead of \
                     '{instead_of}' so the app is not restarted twice",
                    live_reload::ENABLED
                ),
                format!(
                    "wrapping process '{p}' (declared by {bp} next to '{instead_of}', \
                     the default it chose)"
                ),
            ],
        }
    }
}

/// The processes the image will have and its default type, merged the way
/// the lifecycle's `processMap.add` merges them (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Merged {
    /// Type -> (declaring buildpack, process).
    processes: BTreeMap<String, (String, DeclaredProcess)>,
    default: Option<String>,
}

impl Merged {
    pub(crate) fn new(outputs: &[BuildpackProcesses]) -> Merged {
        let mut m = Merged::default();
        for output in outputs {
            for p in &output.processes {
                if p.default {
                    m.default = Some(p.kind.clone());
                } else if m.default.as_deref() == Some(p.kind.as_str()) {
                    m.default = None;
                }
                m.processes
                    .insert(p.kind.clone(), (output.buildpack.clone(), p.clone()));
            }
        }
        m
    }

    /// The process types, sorted.
    pub(crate) fn types(&self) -> Vec<String> {
        self.processes.keys().cloned().collect()
    }

    fn get(&self, kind: &str) -> Option<&(String, DeclaredProcess)> {
        self.processes.get(kind)
    }
}

/// Chooses the process to wrap: `setting` if given, else the default (or
/// `web`), replaced by its watchexec-free sibling under Paketo live reload.
pub(crate) fn choose(merged: &Merged, setting: Option<&str>) -> Result<Choice, AppProcessError> {
    if let Some(p) = setting {
        return Ok(Choice {
            process: p.to_string(),
            buildpack: String::new(),
            reason: Reason::Setting,
        });
    }
    let (kind, reason) = match &merged.default {
        Some(d) => (d.as_str(), Reason::Default),
        None if merged.get(FALLBACK).is_some() => (FALLBACK, Reason::Fallback),
        None => {
            return Err(AppProcessError::NoAppProcess {
                types: merged.types(),
            })
        }
    };
    let (buildpack, process) = merged.get(kind).expect("the default is a declared type");
    if !live_reload::runs_watchexec(&process.command) {
        return Ok(Choice {
            process: kind.to_string(),
            buildpack: buildpack.clone(),
            reason,
        });
    }
    // Two reloaders (watchexec and our supervisor) would restart the app
    // twice per change, so wrap the process the same buildpack declared for
    // the app without watchexec.
    let sibling = live_reload::siblings(kind).find(|c| {
        merged
            .get(c)
            .is_some_and(|(bp, p)| bp == buildpack && !live_reload::runs_watchexec(&p.command))
    });
    match sibling {
        Some(s) => Ok(Choice {
            process: s.to_string(),
            buildpack: buildpack.clone(),
            reason: Reason::InsteadOfWatchexec {
                instead_of: kind.to_string(),
            },
        }),
        None => Err(AppProcessError::OnlyWatchexec {
            process: kind.to_string(),
            buildpack: buildpack.clone(),
        }),
    }
}

/// The process type to wrap in this build: `setting`
/// (`BP_FILESYNC_PROCESS`), else the default the earlier buildpacks chose,
/// printed with the reason.
pub(crate) fn for_build(
    context: &BuildContext<FilesyncBuildpack>,
    setting: Option<&str>,
) -> Result<String, BuildpackError> {
    let merged = if setting.is_some() {
        Merged::default()
    } else {
        let layers = lifecycle_files::layers_root(&context.layers_dir);
        let own_id = &context.buildpack_descriptor.buildpack.id;
        Merged::new(&lifecycle_files::earlier_processes(layers, own_id)?)
    };
    let choice = choose(&merged, setting)?;
    for line in choice.messages() {
        println!("[skaffold-filesync] {line}");
    }
    Ok(choice.process)
}

#[cfg(test)]
mod tests;
