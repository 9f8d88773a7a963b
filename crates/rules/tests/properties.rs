//! Property: over generated app trees, for every family, the generated
//! rules never match a dependency manifest or anything under an excluded
//! directory, and always match the family's main source files elsewhere.
//! The readable rules (several short ones, each with its comment) select
//! exactly the files the one-pattern-per-directory rules did, and no file
//! matches two of them.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_rules::generate::single_pattern_rules;
use filesync_rules::manifests::{is_excluded_dir, MANIFEST_NAMES};
use filesync_rules::{doublestar, plan_for_app, Family, Overrides};
use proptest::prelude::*;
use std::path::Path;

const DIRS: &[&str] = &[
    "src",
    "lib",
    "app",
    "api",
    "views",
    "public",
    "static",
    "cmd",
    "pkg",
    "web",
    "node_modules",
    ".git",
    "vendor",
    "target",
    "build",
    "dist",
    "bin",
    "obj",
    "__pycache__",
    ".venv",
    "tmp",
    "a[1]",
    "x{y}",
    "b,c",
];
const STEMS: &[&str] = &[
    "index",
    "main",
    "app",
    "server",
    "util",
    "package",
    "composer",
    "setup",
    "requirements-x",
    "a",
];

fn tree() -> impl Strategy<Value = Vec<(Vec<&'static str>, String)>> {
    let dir = prop::collection::vec(prop::sample::select(DIRS), 0..4);
    let manifest = prop::sample::select(MANIFEST_NAMES).prop_map(str::to_string);
    let source = (
        prop::sample::select(STEMS),
        prop::sample::select(
            &[
                "js", "ts", "mjs", "py", "rb", "erb", "php", "go", "java", "cs", "html", "css",
                "json", "txt", "xml",
            ][..],
        ),
    )
        .prop_map(|(s, e)| format!("{s}.{e}"));
    let name = prop_oneof![
        manifest,
        source,
        Just("App.csproj".to_string()),
        Just("requirements-dev.txt".to_string())
    ];
    prop::collection::vec((dir, name), 1..40)
}

fn build(root: &Path, files: &[(Vec<&str>, String)]) -> Vec<String> {
    let mut rels = Vec::new();
    for (dirs, name) in files {
        let rel = dirs
            .iter()
            .copied()
            .chain([name.as_str()])
            .collect::<Vec<_>>()
            .join("/");
        let path = root.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // A name may already exist as a directory (or vice versa): skip it.
        if std::fs::write(&path, "x").is_ok() {
            rels.push(rel);
        }
    }
    rels.retain(|r| root.join(r).is_file());
    rels.sort();
    rels.dedup();
    rels
}

fn matches_any(rules: &[filesync_rules::SyncRule], rel: &str) -> bool {
    rules
        .iter()
        .any(|r| doublestar::path_match(&r.src, rel).expect("generated patterns are valid"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn generated_rules_never_sync_manifests_and_always_sync_sources(files in tree()) {
        let dir = tempfile::tempdir().unwrap();
        let rels = build(dir.path(), &files);
        for family in Family::ALL {
            let overrides = Overrides { family: Some(family), ..Overrides::default() };
            let plan = plan_for_app(dir.path(), "/workspace", &overrides).unwrap();
            for rel in &rels {
                let parts: Vec<&str> = rel.split('/').collect();
                let (name, parents) = parts.split_last().unwrap();
                let excluded = parents.iter().any(|d| is_excluded_dir(d));
                let manifest = filesync_rules::manifests::is_manifest(name);
                let matched = matches_any(&plan.rules, rel);
                if excluded || manifest {
                    prop_assert!(!matched, "{family:?}: {rel} must not sync; rules {:?}", plan.rules);
                } else if family.main_extensions().iter().any(|e| name.ends_with(&format!(".{e}"))) {
                    prop_assert!(matched, "{family:?}: {rel} must sync; rules {:?}", plan.rules);
                }
            }
        }
    }

    #[test]
    fn readable_rules_sync_the_same_files_as_one_pattern_each_once(files in tree()) {
        let dir = tempfile::tempdir().unwrap();
        let rels = build(dir.path(), &files);
        // Names next to the manifests, in every directory of the tree.
        let mut paths = rels.clone();
        for rel in &rels {
            let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
            for name in ["package-lock.jsonx", "packages.json", "pa.json", "composer.js", "setup.pyc", "requirements.txt"] {
                paths.push(if parent.is_empty() { name.to_string() } else { format!("{parent}/{name}") });
            }
        }
        for family in Family::ALL {
            let overrides = Overrides { family: Some(family), ..Overrides::default() };
            let plan = plan_for_app(dir.path(), "/workspace", &overrides).unwrap();
            let single = single_pattern_rules(dir.path(), family.extensions(), "/workspace", &|_| false);
            for rel in &paths {
                let hits = plan.rules.iter().filter(|r| doublestar::path_match(&r.src, rel) == Ok(true)).count();
                prop_assert!(hits <= 1, "{family:?}: {rel} matches {hits} rules");
                prop_assert_eq!(hits == 1, matches_any(&single, rel), "{:?}: {}", family, rel);
            }
            for rule in &plan.rules {
                prop_assert!(!rule.about.is_empty(), "{family:?}: {} has no comment", rule.src);
            }
        }
    }
}
