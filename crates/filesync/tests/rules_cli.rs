//! `filesync rules` on one fixture app per language family, through the
//! real binary: the family, reload action, rules and the split of the
//! app's files into synced and rebuild are pinned as snapshots.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rules/tests/fixtures"
    ))
}

fn rules(app: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .current_dir(fixtures())
        .arg("rules")
        .arg(app)
        .args(extra)
        .env_remove("BP_FILESYNC_RULES")
        .env_remove("BP_FILESYNC_EXTRA_RULES")
        .env_remove("BP_FILESYNC_IGNORE")
        .env_remove("BP_FILESYNC_FAMILY")
        .env_remove("BP_FILESYNC_ACTION")
        .env_remove("BP_FILESYNC_REBUILD_COMMAND")
        .output()
        .expect("run filesync");
    assert!(
        out.status.success(),
        "filesync rules {app}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

macro_rules! family_snapshot {
    ($test:ident, $app:literal, $family:literal) => {
        #[test]
        fn $test() {
            let text = rules($app, &[]);
            assert!(
                text.contains(concat!("family:  ", $family)),
                "expected family {} in:\n{text}",
                $family
            );
            insta::assert_snapshot!(text);
        }
    };
}

family_snapshot!(node_npm, "node-npm", "node (npm)");
family_snapshot!(node_yarn, "node-yarn", "node (yarn)");
family_snapshot!(node_pnpm, "node-pnpm", "node (pnpm)");
family_snapshot!(node_typescript, "node-typescript", "node (typescript, npm)");
family_snapshot!(python_pip, "python-pip", "python (pip)");
family_snapshot!(python_pipenv, "python-pipenv", "python (pipenv)");
family_snapshot!(python_poetry, "python-poetry", "python (poetry)");
family_snapshot!(ruby_bundler, "ruby-bundler", "ruby (bundler, rails)");
family_snapshot!(php_composer, "php-composer", "php (composer)");
family_snapshot!(go, "go", "go (go modules)");
family_snapshot!(java_maven, "java-maven", "java (maven)");
family_snapshot!(java_gradle, "java-gradle", "java (gradle)");
family_snapshot!(dotnet, "dotnet", "dotnet (dotnet)");
family_snapshot!(static_site, "static", "static (static files)");

#[test]
fn json_lists_manifests_under_rebuild() {
    let v: serde_json::Value =
        serde_json::from_str(&rules("node-npm", &["--format", "json"])).unwrap();
    let rebuild: Vec<&str> = v["rebuild"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for m in [
        "package.json",
        "package-lock.json",
        "Procfile",
        "node_modules/",
    ] {
        assert!(rebuild.contains(&m), "{m} must rebuild: {rebuild:?}");
    }
    let synced: Vec<&str> = v["synced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert!(
        synced.contains(&"lib/routes.js") && synced.contains(&"config/default.json"),
        "{synced:?}"
    );
}

#[test]
fn bad_override_fails_naming_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .current_dir(fixtures())
        .args(["rules", "node-npm"])
        .env("BP_FILESYNC_EXTRA_RULES", "src/[oops")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("BP_FILESYNC_EXTRA_RULES") && err.contains("src/[oops"),
        "{err}"
    );
}
