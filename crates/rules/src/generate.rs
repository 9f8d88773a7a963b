//! Generates the default sync rules of an app from its file tree.
//!
//! Doublestar has no exclusion, so rules are shaped to miss what must never
//! be synced (see [`crate::manifests`]):
//! - *excluded directories*: a directory with no excluded directory
//!   anywhere below it gets one recursive rule `dir/**/NAMES`; a directory
//!   that has one gets `dir/NAMES` for its own files and rules for each of
//!   its non-excluded subdirectories, recursively. A directory created
//!   after the build matches no rule, so Skaffold rebuilds — the safe side.
//! - *manifests*: `NAMES` is a file-name pattern built with
//!   [`crate::name_pattern`] that matches the family's extensions except
//!   the manifest names that share them (`package.json`, `setup.py` …).
//!
//! So that a person can read them, the rules are written as the product
//! of those directory parts and short name groups
//! ([`crate::name_groups`]), each rule with a sentence saying what it
//! syncs ([`SyncRule::about`]). Directory parts are disjoint and so are
//! name groups, so no file matches two rules: Skaffold would copy it once
//! per matching rule (`matchSyncRules` in `pkg/skaffold/sync/sync.go`
//! appends a destination for each; the same destination twice is
//! harmless, only wasted work). [`single_pattern_rules`] keeps the
//! one-pattern-per-directory form as the reference the tests compare
//! with.

use crate::manifests::{is_excluded_dir, MANIFEST_AFFIXES, MANIFEST_NAMES};
use crate::name_groups::{name_groups, NameGroup};
use crate::name_pattern::{escape_literal, names_with_extensions};
use crate::SyncRule;
use std::collections::BTreeSet;
use std::path::Path;

/// Stems and stem prefixes of the manifest names with extension `ext`.
pub fn forbidden_stems(ext: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let dot_ext = format!(".{ext}");
    let mut words: BTreeSet<String> = MANIFEST_NAMES
        .iter()
        .filter_map(|n| n.strip_suffix(dot_ext.as_str()))
        .map(str::to_string)
        .collect();
    let mut prefixes = BTreeSet::new();
    for (prefix, suffix) in MANIFEST_AFFIXES {
        if *suffix != dot_ext {
            continue;
        }
        // A name `X.ext` starts with `prefix` when X does, or when X is a
        // shorter stem such that `X.ext` still covers the prefix.
        prefixes.insert(prefix.to_string());
        for k in 0..prefix.len() {
            if prefix.is_char_boundary(k) {
                let stem = &prefix[..k];
                if format!("{stem}{dot_ext}").starts_with(prefix) {
                    words.insert(stem.to_string());
                }
            }
        }
    }
    (words, prefixes)
}

/// The file-name pattern for `extensions`, minus manifests, as one
/// pattern (the reference form of [`name_groups_for`]).
pub fn names_pattern(extensions: &[&str]) -> Option<String> {
    names_with_extensions(extensions, forbidden_stems)
}

/// The file names for `extensions`, minus manifests, as short groups.
pub fn name_groups_for(extensions: &[&str]) -> Vec<NameGroup> {
    name_groups(extensions, forbidden_stems)
}

/// Where a set of rules applies: a pattern prefix (`src/**/`, `src/`, or
/// empty) and the words for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub prefix: String,
    pub about: String,
}

/// The directory parts of the rules for `app` (see the module doc).
/// `ignored(rel_dir)` lets user ignores exclude directories too.
pub fn locations(app: &Path, ignored: &dyn Fn(&str) -> bool) -> Vec<Location> {
    let mut out = Vec::new();
    walk(app, "", ignored, &mut out);
    out
}

/// Rules for `app`: each `{src, dest}` with `dest` = `dest_dir`, one per
/// directory part and name group, each with its [`SyncRule::about`].
pub fn rules_for_tree(
    app: &Path,
    extensions: &[&str],
    dest_dir: &str,
    ignored: &dyn Fn(&str) -> bool,
) -> Vec<SyncRule> {
    let groups = name_groups_for(extensions);
    let mut rules = Vec::new();
    for location in locations(app, ignored) {
        for group in &groups {
            rules.push(SyncRule {
                src: format!("{}{}", location.prefix, group.pattern),
                dest: dest_dir.to_string(),
                strip: String::new(),
                about: format!("{} ({})", group.about, location.about),
            });
        }
    }
    rules
}

/// The same files as [`rules_for_tree`] with one rule per directory part
/// (the form before name groups); kept as the reference for tests.
pub fn single_pattern_rules(
    app: &Path,
    extensions: &[&str],
    dest_dir: &str,
    ignored: &dyn Fn(&str) -> bool,
) -> Vec<SyncRule> {
    let Some(names) = names_pattern(extensions) else {
        return Vec::new();
    };
    locations(app, ignored)
        .into_iter()
        .map(|location| SyncRule {
            src: format!("{}{names}", location.prefix),
            dest: dest_dir.to_string(),
            strip: String::new(),
            about: String::new(),
        })
        .collect()
}

/// Subdirectories of `dir` (not following symlinks), sorted: `(name, excluded)`.
fn subdirs(dir: &Path, rel: &str, ignored: &dyn Fn(&str) -> bool) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let ft = e.file_type().ok()?;
            let name = e.file_name().into_string().ok()?;
            let child_rel = join_rel(rel, &name);
            if ft.is_dir() {
                Some((name.clone(), is_excluded_dir(&name) || ignored(&child_rel)))
            } else if ft.is_symlink() && e.path().is_dir() {
                // A linked directory (e.g. a dependency layer linked into
                // the app) is never descended into: treat it as excluded.
                Some((name, true))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

fn join_rel(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// Does `dir` contain an excluded directory at any depth?
fn has_excluded_below(dir: &Path, rel: &str, ignored: &dyn Fn(&str) -> bool) -> bool {
    subdirs(dir, rel, ignored)
        .into_iter()
        .any(|(name, excluded)| {
            excluded || has_excluded_below(&dir.join(&name), &join_rel(rel, &name), ignored)
        })
}

fn walk(dir: &Path, rel: &str, ignored: &dyn Fn(&str) -> bool, out: &mut Vec<Location>) {
    let prefix = if rel.is_empty() {
        String::new()
    } else {
        format!(
            "{}/",
            rel.split('/')
                .map(escape_literal)
                .collect::<Vec<_>>()
                .join("/")
        )
    };
    if !has_excluded_below(dir, rel, ignored) {
        out.push(Location {
            about: if rel.is_empty() {
                "in every directory".to_string()
            } else {
                format!("in {rel}/ and below")
            },
            prefix: format!("{prefix}**/"),
        });
        return;
    }
    out.push(Location {
        about: if rel.is_empty() {
            "at the top level".to_string()
        } else {
            format!("directly in {rel}/")
        },
        prefix,
    });
    for (name, excluded) in subdirs(dir, rel, ignored) {
        if !excluded {
            walk(&dir.join(&name), &join_rel(rel, &name), ignored, out);
        }
    }
}
