//! The sync-rule engine.
//!
//! Given an application directory, decides which changed files Skaffold may
//! copy into the running container (and where), and which must trigger a
//! rebuild of the image. It knows nothing of CNB or inotify: the buildpack
//! records a [`Plan`] at build time, the runtime reads it back.
//!
//! CONTRACT (other crates depend on these names; keep them stable):
//! - [`doublestar::path_match`] — exact bmatcuk/doublestar v1.3.4 `PathMatch`.
//! - [`SyncRule`] — `{src, dest, strip}` as in Skaffold; `destination()`.
//! - [`Family`], [`ReloadAction`] — what the app is and how it reloads.
//! - [`Overrides`] — the user's overrides, typed (the contract crate reads
//!   them from the build env; [`overrides`] parses rule and pattern lists).
//! - [`plan_for_app`] — detect family + compute rules → [`Plan`].
//! - [`Plan::syncs`] — would a change to this relative path be synced?
//! - [`Plan`] is serde (TOML/JSON) — the buildpack writes it, the runtime
//!   reads it.

// The dev-dependencies serve the integration tests; the unit tests need not use them all.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod categories;
pub mod doublestar;
pub mod family;
pub mod generate;
pub mod gopath;
pub mod manifests;
pub mod name_groups;
pub mod name_pattern;
pub mod overrides;
pub mod skaffold;

use serde::{Deserialize, Serialize};
use std::path::Path;

/// One Skaffold sync rule, the shape Skaffold reads from the
/// `devmode.sync` BOM metadata and from `sync.manual` in skaffold.yaml.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncRule {
    pub src: String,
    pub dest: String,
    /// Only in manual rules; auto (BOM) rules never have it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub strip: String,
    /// What the rule syncs, in words, for people (written as a comment
    /// above the rule in skaffold.yaml). Not part of Skaffold's rule: never
    /// serialized (Skaffold refuses unknown fields in skaffold.yaml), and
    /// left out of equality.
    #[serde(skip)]
    pub about: String,
}

/// Rules are equal when Skaffold treats them the same: `about` is a
/// comment, so a rule read back from a label or skaffold.yaml (which has
/// none) equals the one generated.
impl PartialEq for SyncRule {
    fn eq(&self, other: &Self) -> bool {
        (&self.src, &self.dest, &self.strip) == (&other.src, &other.dest, &other.strip)
    }
}

impl Eq for SyncRule {}

/// Language family of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Node,
    Python,
    Ruby,
    Php,
    Go,
    Java,
    Dotnet,
    Static,
}

/// What the runtime does after a synced change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ReloadAction {
    /// Files are served as they are (static sites): nothing to do.
    None,
    /// Interpreted apps: restart the process.
    Restart,
    /// Compiled apps: run `command` (argv, in the app dir), then restart;
    /// keep the old process when it fails.
    Rebuild { command: Vec<String> },
}

/// Everything the engine decided for one app; recorded by the buildpack,
/// read by the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub family: Family,
    /// Absolute app dir inside the image (e.g. `/workspace`).
    pub app_dir: String,
    pub rules: Vec<SyncRule>,
    /// Extra doublestar patterns (relative to the app dir) never synced and
    /// never watched.
    pub ignore: Vec<String>,
    pub action: ReloadAction,
}

impl SyncRule {
    /// Skaffold's mapping (`sync/sync.go`): `path.Join(wd, dest,
    /// TrimPrefix(rel, strip))`, `wd` used only when `dest` is relative.
    /// `None` when `src` does not match `rel`.
    pub fn destination(
        &self,
        rel: &str,
        workdir: &str,
    ) -> Result<Option<String>, doublestar::BadPattern> {
        skaffold::destination(self, rel, workdir)
    }
}

impl Plan {
    /// True when a change to `rel` (relative to the app dir, `/`-separated)
    /// is synced by some rule and not ignored.
    pub fn syncs(&self, rel: &str) -> bool {
        !self.ignores(rel)
            && self
                .rules
                .iter()
                .any(|r| doublestar::path_match(&r.src, rel) == Ok(true))
    }

    /// True when `rel` or one of its parent directories matches an ignore
    /// pattern, so `src/generated` ignores everything below it.
    pub fn ignores(&self, rel: &str) -> bool {
        let mut candidate = rel;
        loop {
            if self
                .ignore
                .iter()
                .any(|p| doublestar::path_match(p, candidate) == Ok(true))
            {
                return true;
            }
            match candidate.rfind('/') {
                Some(i) => candidate = &candidate[..i],
                None => return false,
            }
        }
    }
}

/// The user's overrides of what the engine would decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Replace the generated rules.
    pub replace: Option<Vec<SyncRule>>,
    /// Add to the generated rules.
    pub extra: Vec<SyncRule>,
    /// Never sync these patterns.
    pub ignore: Vec<String>,
    /// Skip detection.
    pub family: Option<Family>,
    /// How the app reloads, instead of the family's default.
    pub action: Option<ReloadAction>,
}

/// A malformed configuration value; `variable` names the setting it came
/// from (as its reader gave it).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

/// No family was given and none detected in `app_dir`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "no language family detected in {} (no go.mod, pom.xml, build.gradle, *.csproj, composer.json, \
     Gemfile, requirements.txt, Pipfile, pyproject.toml, package.json or index.html); set it explicitly",
    .app_dir.display()
)]
pub struct NoFamily {
    pub app_dir: std::path::PathBuf,
}

/// Detects the family of `app_dir` and computes its plan; `dest_dir` is the
/// absolute app dir inside the image (`/workspace`).
pub fn plan_for_app(
    app_dir: &Path,
    dest_dir: &str,
    overrides: &Overrides,
) -> Result<Plan, NoFamily> {
    let family = match overrides.family {
        Some(f) => f,
        None => family::detect(app_dir).ok_or_else(|| NoFamily {
            app_dir: app_dir.to_path_buf(),
        })?,
    };
    let ignore = overrides.ignore.clone();
    // A directory is ignored when a pattern matches it as `dir` or `dir/`.
    let ignored = |rel_dir: &str| {
        ignore.iter().any(|p| {
            doublestar::path_match(p, rel_dir) == Ok(true)
                || doublestar::path_match(p, &format!("{rel_dir}/")) == Ok(true)
        })
    };
    let with_dest = |r: &SyncRule| SyncRule {
        dest: if r.dest.is_empty() {
            dest_dir.to_string()
        } else {
            r.dest.clone()
        },
        ..r.clone()
    };
    let mut rules: Vec<SyncRule> = match &overrides.replace {
        Some(replace) => replace.iter().map(with_dest).collect(),
        None => generate::rules_for_tree(app_dir, family.extensions(), dest_dir, &ignored),
    };
    for r in overrides.extra.iter().map(with_dest) {
        if !rules.contains(&r) {
            rules.push(r);
        }
    }
    Ok(Plan {
        family,
        app_dir: dest_dir.to_string(),
        rules,
        ignore,
        action: overrides
            .action
            .clone()
            .unwrap_or_else(|| family::reload_action(app_dir, family)),
    })
}
