//! Upstream test vectors, vendored as data in `tests/conformance/` (see its
//! README.md): doublestar v1.3.4's match table and Skaffold v2.24's sync
//! expectations.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_rules::doublestar::{path_match, BadPattern};
use filesync_rules::skaffold::{intersect, rules_from_build_metadata};
use filesync_rules::SyncRule;
use serde_json::Value;
use std::collections::BTreeMap;

fn vectors(name: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/").to_string() + name;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).expect("valid JSON")
}

fn rule(v: &Value) -> SyncRule {
    SyncRule {
        src: v["src"].as_str().unwrap().to_string(),
        dest: v["dest"].as_str().unwrap().to_string(),
        strip: v["strip"].as_str().unwrap_or("").to_string(),
        about: String::new(),
    }
}

#[test]
fn doublestar_v1_3_4_match_table() {
    let table = vectors("doublestar-v1.3.4-match.json");
    let cases = table["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 101, "the full upstream table");
    let mut failures = Vec::new();
    for c in cases {
        let (pattern, path) = (c["pattern"].as_str().unwrap(), c["path"].as_str().unwrap());
        let expected = if c["error"].as_bool().unwrap() {
            Err(BadPattern)
        } else {
            Ok(c["match"].as_bool().unwrap())
        };
        let got = path_match(pattern, path);
        if got != expected {
            failures.push(format!(
                "{pattern:?} vs {path:?}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn skaffold_intersect_and_destinations() {
    let table = vectors("skaffold-sync-rules.json");
    let cases = table["intersect"].as_array().unwrap();
    assert!(cases.len() >= 18);
    for c in cases {
        let desc = c["description"].as_str().unwrap();
        let rules: Vec<SyncRule> = c["rules"].as_array().unwrap().iter().map(rule).collect();
        let files: Vec<&str> = c["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let got = intersect(
            c["context"].as_str().unwrap(),
            c["workingDir"].as_str().unwrap(),
            &rules,
            &files,
        );
        if c["error"].as_bool().unwrap() {
            assert!(got.is_err(), "{desc}: expected an error, got {got:?}");
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{desc}: unexpected error {e}"));
        let expected: Option<BTreeMap<String, Vec<String>>> =
            serde_json::from_value(c["expected"].clone()).unwrap();
        assert_eq!(got, expected, "{desc}");
    }
}

#[test]
fn skaffold_rules_from_build_metadata_label() {
    let table = vectors("skaffold-sync-rules.json");
    for c in table["labels"].as_array().unwrap() {
        let desc = c["description"].as_str().unwrap();
        let got = rules_from_build_metadata(c["label"].as_str());
        if c["error"].as_bool().unwrap() {
            assert!(got.is_err(), "{desc}");
            continue;
        }
        let expected: Option<Vec<SyncRule>> = match &c["expectedRules"] {
            Value::Null => None,
            v => Some(v.as_array().unwrap().iter().map(rule).collect()),
        };
        assert_eq!(got.unwrap(), expected, "{desc}");
    }
}
