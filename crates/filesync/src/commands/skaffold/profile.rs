//! The generated `dev` profile: JSON patches that give each artifact the
//! engine's rules as `sync.manual`, the build trigger and, when needed, the
//! buildpack.
//!
//! Why patches rather than overriding `build.artifacts` in the profile: an
//! override would have to repeat every artifact (and go stale when the user
//! edits one); patches touch only the keys we own. Why `sync.manual` equals
//! the auto rules verbatim: Skaffold maps both kinds with the same code
//! (`sync/sync.go`: `path.Join(wd, dest, TrimPrefix(rel, strip))` after
//! `doublestar.PathMatch(src, rel)`), and auto rules have no `strip`, so
//! identical `{src, dest}` select the same files and map them to the same
//! destinations.

use super::artifacts::Artifact;
use anyhow::Context;
use filesync_contract::processes::SYNC_DONE as SYNC_DONE_PROCESS;
use filesync_contract::variables::SYNC_HOOK;
use filesync_rules::SyncRule;
use serde::Serialize;

/// Name of the generated profile.
pub(super) const PROFILE_NAME: &str = "filesync";
/// Build-env variable that makes the buildpack participate (as
/// `GOOGLE_DEVMODE`, which `skaffold dev` sets only for auto sync, does).
pub(super) use filesync_contract::variables::ENABLED as TRIGGER;
/// First and last line of the generated block (after indentation).
pub(super) const BEGIN_MARK: &str =
    "# >>> filesync skaffold: generated, do not edit; regenerate with `filesync skaffold --write`";
pub(super) const END_MARK: &str = "# <<< filesync skaffold";

/// Substring by which an entry of an artifact's `buildpacks` list is taken
/// to be this project's buildpack.
const BUILDPACK_NAME: &str = "skaffold-filesync";

pub(crate) struct Options {
    /// The buildpack's reference to add to the build (`None`: the builder
    /// includes it, add nothing).
    pub buildpack: Option<String>,
    pub image_app_dir: String,
}

/// Whether Skaffold runs sync hooks for `doc`'s deploys: only `PodSyncer`
/// (`pkg/skaffold/sync/sync.go`, every Kubernetes deployer) runs them; the
/// docker deployer's `ContainerSyncer` (`sync/docker.go`) runs none. A
/// config without `deploy` deploys with kubectl.
pub(super) fn runs_sync_hooks(doc: &serde_norway::Value) -> bool {
    doc.get("deploy").and_then(|d| d.get("docker")).is_none()
}

/// The profile as data (for verification) and as YAML text (one list item,
/// unindented, without the marker lines).
#[derive(Debug, Clone)]
pub(super) struct Block {
    pub profile: serde_norway::Value,
    pub yaml: String,
}

#[derive(Serialize)]
struct Profile {
    name: &'static str,
    activation: Vec<Activation>,
    patches: Vec<Patch>,
}

#[derive(Serialize)]
struct Activation {
    command: &'static str,
}

#[derive(Serialize)]
struct Patch {
    op: &'static str,
    path: String,
    value: serde_norway::Value,
}

#[derive(Serialize)]
struct Sync<'a> {
    manual: &'a [SyncRule],
    #[serde(skip_serializing_if = "Option::is_none")]
    hooks: Option<SyncHooks>,
}

/// `sync.hooks`: Skaffold runs `after` hooks once a batch's copies (`tar`)
/// and deletions (`rm`) are both done, so the app reloads once per save,
/// on the final files.
#[derive(Serialize)]
struct SyncHooks {
    after: Vec<SyncHookItem>,
}

#[derive(Serialize)]
struct SyncHookItem {
    container: ContainerHook,
}

#[derive(Serialize)]
struct ContainerHook {
    command: Vec<&'static str>,
}

/// The plan (family, rules, reload action) the buildpack would decide for the artifact's context when built
/// with `artifact`'s build env and its project.toml (either may carry
/// `BP_FILESYNC_*` overrides).
fn plan_for(artifact: &Artifact, image_app_dir: &str) -> anyhow::Result<filesync_rules::Plan> {
    let project = super::project_descriptor::build_env(
        &artifact.context_dir,
        artifact.project_descriptor.as_deref(),
    )?;
    let lookup = |k: &str| super::project_descriptor::merged(&project, artifact.env_var(k), k);
    let overrides = filesync_contract::settings::overrides(lookup)
        .with_context(|| format!("build.artifacts[{}].buildpacks.env", artifact.index))?;
    filesync_rules::plan_for_app(&artifact.context_dir, image_app_dir, &overrides)
        .map_err(filesync_contract::settings::no_family)
        .with_context(|| format!("artifact {}: computing sync rules", artifact.image))
}

/// The profile for `artifacts`; `sync_hook`: Skaffold runs sync hooks for
/// their deploys ([`runs_sync_hooks`]), so the profile adds the after-sync
/// hook that ends each batch.
pub(super) fn block(
    artifacts: &[Artifact],
    options: &Options,
    sync_hook: bool,
) -> anyhow::Result<Block> {
    let mut patches = Vec::new();
    let mut abouts = Vec::new();
    for artifact in artifacts {
        let base = format!("/build/artifacts/{}", artifact.index);
        let plan = plan_for(artifact, &options.image_app_dir)?;
        abouts.extend(plan.rules.iter().map(|r| (r.src.clone(), r.about.clone())));
        patches.push(Patch {
            op: "add",
            path: format!("{base}/sync"),
            value: serde_norway::to_value(Sync {
                manual: &plan.rules,
                hooks: sync_hook.then(|| SyncHooks {
                    after: vec![SyncHookItem {
                        container: ContainerHook {
                            command: vec![SYNC_DONE_PROCESS],
                        },
                    }],
                }),
            })?,
        });
        // The trigger, and what the in-container rebuild needs from
        // Paketo's buildpacks: the sources go-build and libbs remove, and
        // for Java the JDK libjvm keeps out of the image.
        let mut env: Vec<String> = Vec::new();
        if artifact.env_var(TRIGGER).is_none() {
            env.push(format!("{TRIGGER}=true"));
        }
        if sync_hook && artifact.env_var(SYNC_HOOK).is_none() {
            env.push(format!("{SYNC_HOOK}=true"));
        }
        for setting in filesync_contract::paketo::dev_build_env(plan.family) {
            let name = setting.split('=').next().unwrap_or(setting);
            if artifact.env_var(name).is_none() {
                env.push(setting.to_string());
            }
        }
        match &artifact.env {
            _ if env.is_empty() => {}
            None => patches.push(Patch {
                op: "add",
                path: format!("{base}/buildpacks/env"),
                value: serde_norway::to_value(env)?,
            }),
            Some(_) => {
                for item in env {
                    patches.push(Patch {
                        op: "add",
                        path: format!("{base}/buildpacks/env/-"),
                        value: item.into(),
                    });
                }
            }
        }
        patches.extend(buildpack_patch(
            artifact,
            &base,
            options.buildpack.as_deref(),
        )?);
    }
    let profile = Profile {
        name: PROFILE_NAME,
        activation: vec![Activation { command: "dev" }],
        patches,
    };
    let value = serde_norway::to_value(&profile)?;
    let yaml = with_rule_comments(&serde_norway::to_string(&vec![&profile])?, &abouts);
    Ok(Block {
        profile: value,
        yaml,
    })
}

/// `yaml` with a `# …` line, at the same indentation, above each `- src:`
/// item whose rule has an [`SyncRule::about`]: what the rule syncs, in
/// words. Comments change nothing Skaffold reads (`verify` compares the
/// parsed documents).
fn with_rule_comments(yaml: &str, abouts: &[(String, String)]) -> String {
    let mut out = String::with_capacity(yaml.len());
    for line in yaml.lines() {
        let body = line.trim_start();
        if let Some(scalar) = body.strip_prefix("- src: ") {
            let src: Option<String> = serde_norway::from_str(scalar).ok();
            let about = abouts
                .iter()
                .find(|(s, _)| Some(s) == src.as_ref())
                .map(|(_, a)| a);
            if let Some(about) = about.filter(|a| !a.is_empty()) {
                let indent = &line[..line.len() - body.len()];
                out.push_str(&format!("{indent}# {}\n", about.replace('\n', " ")));
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// An explicit `buildpacks` list replaces the builder's order, so ours must
/// be in it: by its id, which pack resolves from the builder (no download,
/// so pack keeps its one-container creator flow), or REF when given.
/// Without a list the builder's order runs, which includes ours, unless
/// the user names a buildpack to add (`from=builder` keeps the builder's
/// groups and appends REF to each, as pack does).
fn buildpack_patch(
    artifact: &Artifact,
    base: &str,
    reference: Option<&str>,
) -> anyhow::Result<Option<Patch>> {
    let listed = |list: &[String]| {
        list.iter()
            .any(|b| b.contains(BUILDPACK_NAME) || Some(b.as_str()) == reference)
    };
    Ok(match (&artifact.buildpacks, reference) {
        (Some(list), _) if listed(list) => None,
        (Some(_), r) => Some(Patch {
            op: "add",
            path: format!("{base}/buildpacks/buildpacks/-"),
            value: r.unwrap_or(BUILDPACK_NAME).into(),
        }),
        (None, Some(r)) => Some(Patch {
            op: "add",
            path: format!("{base}/buildpacks/buildpacks"),
            value: serde_norway::to_value(vec!["from=builder", r])?,
        }),
        (None, None) => None,
    })
}
