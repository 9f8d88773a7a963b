//! The generated rules of every example and fixture app are readable: no
//! rule longer than 120 characters, each with a sentence saying what it
//! syncs (written as its comment in skaffold.yaml).

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_rules::{plan_for_app, Overrides};
use std::path::{Path, PathBuf};

const LONGEST: usize = 120;

fn apps() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut apps = Vec::new();
    for dir in [root.join("../../examples"), root.join("tests/fixtures")] {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        apps.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    apps.sort();
    apps
}

#[test]
fn every_generated_rule_of_the_examples_and_fixtures_is_short_and_commented() {
    let apps = apps();
    assert!(apps.len() >= 14, "examples and fixtures: {apps:?}");
    let mut problems = Vec::new();
    for app in &apps {
        let plan = plan_for_app(app, "/workspace", &Overrides::default())
            .unwrap_or_else(|e| panic!("{}: {e}", app.display()));
        assert!(!plan.rules.is_empty(), "{}: no rules", app.display());
        let longest = plan.rules.iter().map(|r| r.src.len()).max().unwrap_or(0);
        eprintln!(
            "{}: {} rules, longest {longest} characters",
            app.display(),
            plan.rules.len()
        );
        for rule in &plan.rules {
            if rule.src.len() > LONGEST {
                problems.push(format!(
                    "{}: {} characters: {}",
                    app.display(),
                    rule.src.len(),
                    rule.src
                ));
            }
            if rule.about.trim().is_empty() {
                problems.push(format!("{}: no comment for {}", app.display(), rule.src));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
