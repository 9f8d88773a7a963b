//! Which process type the supervisor wraps when `BP_FILESYNC_PROCESS` is
//! unset: the default process the earlier buildpacks chose, found exactly as
//! the lifecycle will find it, because Paketo's buildpacks do not always
//! call the app's process `web` (go-build names it after the binary,
//! executable-jar `executable-jar`, and Paketo's own live reload moves the
//! default to a watchexec process).
//!
//! Lifecycle v0.21.17 facts this follows (read from its source):
//! - `phase/builder.go`, `Builder.Build` runs the buildpacks in the order of
//!   `<layers>/group.toml` (`CNB_GROUP_PATH`'s default) and feeds each one's
//!   processes to `processMap.add`: a later process with the same type
//!   replaces the earlier one; the default is the last process marked
//!   `default = true`; a later *non-default* process redefining the default
//!   type clears the default.
//! - `buildpack/build.go`, `prepareInputPaths` / `readOutputFilesBp`: each
//!   buildpack's layers dir is `<layers>/<id with '/' as '_'>`
//!   (`launch.EscapeID`) and its processes are in `launch.toml` there.
//! - `buildpack/files.go`, `DecodeLaunchTOML`: `command` is a string before
//!   Buildpack API 0.9 and an array from 0.9 on.
//!
//! We run last, so when our build runs every earlier buildpack's launch.toml
//! is in place; later buildpacks (none, normally) cannot be seen and are
//! ignored.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why no process could be chosen: data only, rendered by `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppProcessError {
    /// A lifecycle file (group.toml, an earlier buildpack's launch.toml)
    /// could not be read or parsed.
    ReadLifecycleFile { path: PathBuf, details: String },
    /// No default process and no `web`; the types there are.
    NoAppProcess { types: Vec<String> },
    /// The default runs watchexec and its buildpack declared no sibling
    /// without it.
    OnlyWatchexec { process: String, buildpack: String },
}

/// Used when no earlier buildpack marked a default: the CNB convention for
/// the app's process, and what Procfile apps call it.
pub const FALLBACK: &str = "web";

/// A process from a buildpack's launch.toml, reduced to what we look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredProcess {
    pub kind: String,
    /// The command; a legacy (Buildpack API < 0.9) string command is split
    /// on whitespace, since we only look at its first word.
    pub command: Vec<String>,
    pub default: bool,
}

impl DeclaredProcess {
    /// Whether it runs the app under watchexec, which is how Paketo's live
    /// reload (`BP_LIVE_RELOAD_ENABLED`) wraps a process.
    fn runs_watchexec(&self) -> bool {
        self.command.first().is_some_and(|c| {
            Path::new(c)
                .file_name()
                .is_some_and(|name| name == "watchexec")
        })
    }
}

/// One earlier buildpack's processes, in the order it declared them.
#[derive(Debug, Clone)]
pub struct BuildpackProcesses {
    pub buildpack: String,
    pub processes: Vec<DeclaredProcess>,
}

/// Why a process type was chosen; [`Choice::messages`] says it to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
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
pub struct Choice {
    pub process: String,
    /// The buildpack that declared it (empty for [`Reason::Setting`]).
    pub buildpack: String,
    pub reason: Reason,
}

impl Choice {
    /// The build-log lines (without our prefix) that explain the choice.
    pub fn messages(&self) -> Vec<String> {
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
                    "Paketo live reload is on (BP_LIVE_RELOAD_ENABLED): wrapping '{p}' \
                     instead of '{instead_of}' so the app is not restarted twice"
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
pub struct Merged {
    /// Type -> (declaring buildpack, process).
    processes: BTreeMap<String, (String, DeclaredProcess)>,
    default: Option<String>,
}

impl Merged {
    pub fn new(outputs: &[BuildpackProcesses]) -> Merged {
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
    pub fn types(&self) -> Vec<String> {
        self.processes.keys().cloned().collect()
    }

    fn get(&self, kind: &str) -> Option<&(String, DeclaredProcess)> {
        self.processes.get(kind)
    }
}

/// Chooses the process to wrap: `setting` if given, else the default (or
/// `web`), replaced by its watchexec-free sibling under Paketo live reload.
pub fn choose(merged: &Merged, setting: Option<&str>) -> Result<Choice, AppProcessError> {
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
    if !process.runs_watchexec() {
        return Ok(Choice {
            process: kind.to_string(),
            buildpack: buildpack.clone(),
            reason,
        });
    }
    // Two reloaders (watchexec and our supervisor) would restart the app
    // twice per change, so wrap the process the same buildpack declared for
    // the app without watchexec:
    // - node-start / npm-start: `web` (watchexec) and `no-reload`
    //   (paketo-buildpacks/node-start build.go, npm-start build.go);
    // - go-build and libreload-packit: `reload-<name>` and `<name>`
    //   (paketo-buildpacks/go-build build.go, libreload-packit
    //   watchexec/watchexec.go);
    // - executable-jar: `reload` and `executable-jar`
    //   (paketo-buildpacks/executable-jar executable/build.go).
    let candidates = [
        Some("no-reload"),
        kind.strip_prefix("reload-"),
        (kind == "reload").then_some("executable-jar"),
    ];
    let sibling = candidates.into_iter().flatten().find(|c| {
        merged
            .get(c)
            .is_some_and(|(bp, p)| bp == buildpack && !p.runs_watchexec())
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

#[derive(Deserialize)]
struct GroupToml {
    #[serde(default)]
    group: Vec<GroupEntry>,
}

#[derive(Deserialize)]
struct GroupEntry {
    id: String,
}

#[derive(Deserialize)]
struct LaunchToml {
    #[serde(default)]
    processes: Vec<RawProcess>,
}

#[derive(Deserialize)]
struct RawProcess {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    command: RawCommand,
    #[serde(default)]
    default: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCommand {
    Array(Vec<String>),
    Legacy(String),
}

impl Default for RawCommand {
    fn default() -> Self {
        RawCommand::Array(Vec::new())
    }
}

/// Reads the processes of the buildpacks before `own_id` in the group, in
/// group order, from the lifecycle's layers directory (the parent of our
/// own layers dir). A buildpack without a launch.toml declared none.
pub fn read_earlier(
    layers: &Path,
    own_id: &str,
) -> Result<Vec<BuildpackProcesses>, AppProcessError> {
    let group: GroupToml = read_toml(&layers.join("group.toml"))?;
    let mut outputs = Vec::new();
    for entry in group.group.iter().take_while(|e| e.id != own_id) {
        let path = layers.join(entry.id.replace('/', "_")).join("launch.toml");
        if !path.exists() {
            continue;
        }
        let launch: LaunchToml = read_toml(&path)?;
        let processes = launch.processes.into_iter().map(|p| DeclaredProcess {
            kind: p.kind,
            command: match p.command {
                RawCommand::Array(a) => a,
                RawCommand::Legacy(s) => s.split_whitespace().map(String::from).collect(),
            },
            default: p.default,
        });
        outputs.push(BuildpackProcesses {
            buildpack: entry.id.clone(),
            processes: processes.collect(),
        });
    }
    Ok(outputs)
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, AppProcessError> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string());
    text.and_then(|t| toml::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|details| AppProcessError::ReadLifecycleFile {
            path: path.to_path_buf(),
            details,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const OWN: &str = "skaffold-filesync";

    /// A `<layers>` tree: group.toml listing `buildpacks` then us, and each
    /// buildpack's launch.toml (None: the buildpack wrote none).
    fn layers(buildpacks: &[(&str, Option<&str>)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut group = String::new();
        for (id, launch) in buildpacks.iter().chain([&(OWN, None)]) {
            group += &format!("[[group]]\nid = \"{id}\"\nversion = \"1.0.0\"\napi = \"0.10\"\n\n");
            let bp = dir.path().join(id.replace('/', "_"));
            fs::create_dir_all(&bp).unwrap();
            if let Some(text) = launch {
                fs::write(bp.join("launch.toml"), text).unwrap();
            }
        }
        fs::write(dir.path().join("group.toml"), group).unwrap();
        dir
    }

    fn choose_in(dir: &tempfile::TempDir) -> Result<Choice, AppProcessError> {
        choose(&Merged::new(&read_earlier(dir.path(), OWN).unwrap()), None)
    }

    fn chosen(process: &str, buildpack: &str, reason: Reason) -> Choice {
        Choice {
            process: process.into(),
            buildpack: buildpack.into(),
            reason,
        }
    }

    #[test]
    fn plain_procfile_web() {
        let dir = layers(&[
            ("paketo-buildpacks/node-engine", None),
            (
                "paketo-buildpacks/procfile",
                Some(
                    "[[processes]]\ntype = \"web\"\ncommand = [\"node\", \"server.js\"]\ndefault = true\n\n\
                     [[processes]]\ntype = \"worker\"\ncommand = [\"node\", \"worker.js\"]\n",
                ),
            ),
        ]);
        assert_eq!(
            choose_in(&dir).unwrap(),
            chosen("web", "paketo-buildpacks/procfile", Reason::Default)
        );
    }

    #[test]
    fn go_build_names_the_process_after_the_binary() {
        let dir = layers(&[
            ("paketo-buildpacks/go-dist", None),
            (
                "paketo-buildpacks/go-build",
                Some(
                    "[[processes]]\ntype = \"my-server\"\ncommand = [\"/layers/paketo-buildpacks_go-build/targets/bin/my-server\"]\n\
                     args = []\ndirect = true\ndefault = true\n",
                ),
            ),
        ]);
        let c = choose_in(&dir).unwrap();
        assert_eq!(
            c,
            chosen("my-server", "paketo-buildpacks/go-build", Reason::Default)
        );
        assert_eq!(
            c.messages(),
            ["wrapping process 'my-server' (the default chosen by paketo-buildpacks/go-build)"]
        );
    }

    #[test]
    fn later_buildpack_overrides_a_type() {
        // B's default `worker` wins over A's default `web`.
        let dir = layers(&[
            (
                "a",
                Some("[[processes]]\ntype = \"web\"\ncommand = [\"a-web\"]\ndefault = true\n"),
            ),
            (
                "b",
                Some(
                    "[[processes]]\ntype = \"worker\"\ncommand = [\"b-worker\"]\ndefault = true\n",
                ),
            ),
        ]);
        assert_eq!(
            choose_in(&dir).unwrap(),
            chosen("worker", "b", Reason::Default)
        );
        // B redefines A's default `web` without `default`: the lifecycle
        // clears the default, and `web` (now B's) is the fallback.
        let dir = layers(&[
            (
                "a",
                Some("[[processes]]\ntype = \"web\"\ncommand = [\"a-web\"]\ndefault = true\n"),
            ),
            (
                "b",
                Some("[[processes]]\ntype = \"web\"\ncommand = [\"b-web\"]\n"),
            ),
        ]);
        assert_eq!(
            choose_in(&dir).unwrap(),
            chosen("web", "b", Reason::Fallback)
        );
    }

    #[test]
    fn no_default_and_no_web_is_an_error_listing_the_types() {
        let dir = layers(&[(
            "a",
            Some(
                "[[processes]]\ntype = \"worker\"\ncommand = \"run worker\"\n\n\
                 [[processes]]\ntype = \"task\"\ncommand = \"run task\"\n",
            ),
        )]);
        assert_eq!(
            choose_in(&dir).unwrap_err(),
            AppProcessError::NoAppProcess {
                types: vec!["task".into(), "worker".into()]
            }
        );
        // No processes at all.
        assert_eq!(
            choose_in(&layers(&[("a", None)])).unwrap_err(),
            AppProcessError::NoAppProcess { types: Vec::new() }
        );
    }

    #[test]
    fn the_setting_wins_and_is_not_checked_here() {
        let c = choose(&Merged::default(), Some("api")).unwrap();
        assert_eq!(c, chosen("api", "", Reason::Setting));
        assert_eq!(
            c.messages(),
            ["wrapping process 'api' (set by BP_FILESYNC_PROCESS)"]
        );
    }

    #[test]
    fn our_own_and_later_buildpacks_are_ignored() {
        let dir = layers(&[(
            "a",
            Some("[[processes]]\ntype = \"web\"\ncommand = [\"a\"]\ndefault = true\n"),
        )]);
        fs::write(
            dir.path().join(OWN).join("launch.toml"),
            "[[processes]]\ntype = \"filesync\"\ncommand = [\"x\"]\ndefault = true\n",
        )
        .unwrap();
        assert_eq!(
            choose_in(&dir).unwrap(),
            chosen("web", "a", Reason::Default)
        );
    }

    /// Paketo live reload: the shapes of node-start/npm-start, go-build and
    /// executable-jar with `BP_LIVE_RELOAD_ENABLED=true`.
    #[test]
    fn live_reload_wraps_the_process_without_watchexec() {
        let node = "[[processes]]\ntype = \"web\"\ncommand = [\"watchexec\", \"--restart\", \"--\", \"node\", \"server.js\"]\ndefault = true\n\n\
                    [[processes]]\ntype = \"no-reload\"\ncommand = [\"node\", \"server.js\"]\n";
        let go = "[[processes]]\ntype = \"app\"\ncommand = [\"/layers/x/bin/app\"]\n\n\
                  [[processes]]\ntype = \"reload-app\"\ncommand = [\"watchexec\", \"--restart\", \"--\", \"/layers/x/bin/app\"]\ndefault = true\n";
        let jar = "[[processes]]\ntype = \"executable-jar\"\ncommand = [\"java\"]\n\n\
                   [[processes]]\ntype = \"web\"\ncommand = [\"java\"]\n\n\
                   [[processes]]\ntype = \"reload\"\ncommand = [\"/usr/bin/watchexec\", \"-r\", \"java\"]\ndefault = true\n";
        for (launch, wrapped, default) in [
            (node, "no-reload", "web"),
            (go, "app", "reload-app"),
            (jar, "executable-jar", "reload"),
        ] {
            let c = choose_in(&layers(&[("p/bp", Some(launch))])).unwrap();
            assert_eq!(
                c,
                chosen(
                    wrapped,
                    "p/bp",
                    Reason::InsteadOfWatchexec {
                        instead_of: default.into()
                    }
                )
            );
        }
        let c = choose_in(&layers(&[("p/bp", Some(node))])).unwrap();
        assert_eq!(
            c.messages()[0],
            "Paketo live reload is on (BP_LIVE_RELOAD_ENABLED): wrapping 'no-reload' instead \
             of 'web' so the app is not restarted twice"
        );
    }

    #[test]
    fn watchexec_without_a_sibling_is_an_error_naming_the_process_and_buildpack() {
        // A legacy string command, and a `no-reload` from another buildpack
        // (not the same app's process).
        let dir = layers(&[
            (
                "other",
                Some("[[processes]]\ntype = \"no-reload\"\ncommand = [\"x\"]\n"),
            ),
            (
                "p",
                Some("[[processes]]\ntype = \"web\"\ncommand = \"watchexec -r ./app\"\ndefault = true\n"),
            ),
        ]);
        assert_eq!(
            choose_in(&dir).unwrap_err(),
            AppProcessError::OnlyWatchexec {
                process: "web".into(),
                buildpack: "p".into()
            }
        );
    }

    #[test]
    fn a_missing_group_toml_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_earlier(dir.path(), OWN).unwrap_err();
        assert!(
            matches!(&e, AppProcessError::ReadLifecycleFile { path, .. } if path.ends_with("group.toml")),
            "{e:?}"
        );
    }
}
