//! The skaffold.yaml `filesync skaffold --write` produces, checked with
//! Skaffold's own code: the Go probe (Skaffold v2.24 as a library) loads it
//! as `skaffold dev` does (profiles activated by `dev`, defaults,
//! validation) and applies the manual rules it ends up with — using the real
//! doublestar v1.3.4 — to every file of the app. The files selected and
//! their destinations must be exactly those of the engine's auto rules.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const IMAGE_APP_DIR: &str = "/workspace";

fn probe() -> PathBuf {
    let probe = Path::new(REPO).join(".work/bin/probe");
    assert!(
        probe.is_file(),
        "{} not found: run scripts/setup.sh",
        probe.display()
    );
    probe
}

/// The example apps (each with its own skaffold.yaml) and, as plain apps,
/// the rule engine's fixture apps.
fn apps() -> Vec<(PathBuf, bool)> {
    let mut apps = Vec::new();
    for (dir, own_skaffold) in [("examples", true), ("crates/rules/tests/fixtures", false)] {
        let Ok(entries) = fs::read_dir(Path::new(REPO).join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && (!own_skaffold || path.join("skaffold.yaml").is_file()) {
                apps.push((path, own_skaffold));
            }
        }
    }
    apps.sort();
    apps
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            files(root, &path, out);
        } else {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// file → destinations under the engine's rules, as Skaffold maps auto rules.
fn engine_destinations(
    app: &Path,
    rules: &[filesync_rules::SyncRule],
) -> BTreeMap<String, Vec<String>> {
    let mut all = Vec::new();
    files(app, app, &mut all);
    let mut map = BTreeMap::new();
    for rel in all {
        let dests: Vec<String> = rules
            .iter()
            .filter_map(|r| r.destination(&rel, IMAGE_APP_DIR).unwrap())
            .collect();
        if !dests.is_empty() {
            map.insert(rel, dests);
        }
    }
    map
}

/// One artifact Skaffold's loader saw in `name`'s app: our trigger, manual
/// rules (the engine's, unless the app sets its own), and the engine's
/// files and destinations.
fn assert_skaffold_syncs_as_the_engine(
    name: &str,
    artifact: &serde_json::Value,
    rules: &[filesync_rules::SyncRule],
    expected: &BTreeMap<String, Vec<String>>,
) {
    let env: Vec<&str> = artifact["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        env.contains(&"BP_FILESYNC_ENABLED=true"),
        "{name}: trigger missing in {env:?}"
    );
    assert_eq!(
        artifact["auto_sync"], false,
        "{name}: manual rules, not auto"
    );
    let manual: Vec<filesync_rules::SyncRule> =
        serde_json::from_value(artifact["manual"].clone()).unwrap();
    if env
        .iter()
        .all(|e| !e.starts_with("BP_FILESYNC_RULES=") && !e.starts_with("BP_FILESYNC_EXTRA_RULES="))
    {
        assert_eq!(manual, rules, "{name}: rules");
    }
    let got: BTreeMap<String, Vec<String>> =
        serde_json::from_value(artifact["files"].clone()).unwrap();
    assert_eq!(
        &got, expected,
        "{name}: files and destinations Skaffold would sync"
    );
    eprintln!(
        "{name}: {} rules, {} files synced to the same destinations",
        manual.len(),
        got.len()
    );
}

#[test]
fn skaffolds_own_loader_sees_the_engines_rules_with_the_same_files_and_destinations() {
    let probe = probe();
    let apps = apps();
    assert!(!apps.is_empty(), "no example or fixture apps found");
    for (source, own_skaffold) in apps {
        let name = source.file_name().unwrap().to_string_lossy().into_owned();
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join(&name);
        copy_dir(&source, &app);
        if !own_skaffold {
            fs::write(
                app.join("skaffold.yaml"),
                format!(
                    "apiVersion: skaffold/v4beta13\nkind: Config\nbuild:\n  artifacts:\n  - image: {name}\n    buildpacks:\n      builder: paketobuildpacks/builder-jammy-base\n"
                ),
            )
            .unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_filesync"))
            .args(["skaffold", "--write"])
            .arg(&app)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let out = Command::new(&probe)
            .args(["validate", "-f"])
            .arg(app.join("skaffold.yaml"))
            .arg("-app")
            .arg(&app)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: probe: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let seen = seen.as_array().unwrap();
        assert!(
            !seen.is_empty(),
            "{name}: Skaffold sees no buildpacks artifact for the app"
        );

        // The engine, fed the env the artifact carries (without our trigger).
        let plan = filesync_rules::plan_for_app(
            &app,
            IMAGE_APP_DIR,
            &filesync_rules::Overrides::default(),
        )
        .unwrap();
        let expected = engine_destinations(&app, &plan.rules);
        assert!(
            !expected.is_empty(),
            "{name}: the engine syncs no file of the app"
        );
        for artifact in seen {
            assert_skaffold_syncs_as_the_engine(&name, artifact, &plan.rules, &expected);
        }
    }
}

#[test]
fn without_the_dev_command_the_profile_stays_off() {
    let probe = probe();
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path();
    fs::write(app.join("package.json"), "{\"name\":\"web\"}\n").unwrap();
    fs::write(app.join("index.js"), "console.log(1)\n").unwrap();
    fs::write(
        app.join("skaffold.yaml"),
        "apiVersion: skaffold/v4beta13\nkind: Config\nbuild:\n  artifacts:\n  - image: web\n    buildpacks:\n      builder: b\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["skaffold", "--write"])
        .arg(app)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&probe)
        .args(["validate", "-command", "build", "-f"])
        .arg(app.join("skaffold.yaml"))
        .arg("-app")
        .arg(app)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        seen[0]["manual"],
        serde_json::Value::Null,
        "no manual rules outside dev"
    );
    assert_eq!(
        seen[0]["env"],
        serde_json::Value::Null,
        "no trigger outside dev"
    );
}

#[test]
fn buildpack_reference_patches_apply_under_skaffold() {
    let probe = probe();
    for (list, expected) in [
        (
            "      buildpacks: [paketo-buildpacks/nodejs]\n",
            vec!["paketo-buildpacks/nodejs", "docker://r/skaffold-filesync:1"],
        ),
        ("", vec!["from=builder", "docker://r/skaffold-filesync:1"]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        fs::write(app.join("package.json"), "{\"name\":\"web\"}\n").unwrap();
        fs::write(app.join("index.js"), "console.log(1)\n").unwrap();
        fs::write(
            app.join("skaffold.yaml"),
            format!("apiVersion: skaffold/v4beta13\nkind: Config\nbuild:\n  artifacts:\n  - image: web\n    buildpacks:\n      builder: b\n{list}"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_filesync"))
            .args([
                "skaffold",
                "--write",
                "--buildpack",
                "docker://r/skaffold-filesync:1",
            ])
            .arg(app)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(&probe)
            .args(["validate", "-f"])
            .arg(app.join("skaffold.yaml"))
            .arg("-app")
            .arg(app)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(seen[0]["buildpacks"], serde_json::json!(expected));
    }
}
