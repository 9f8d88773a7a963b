//! `filesync skaffold` on real files: the generated profile carries the
//! engine's rules, `--write` is idempotent and leaves everything else of
//! the user's file (comments included) byte for byte in place.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/skaffold");

/// A project dir: skaffold.yaml (from a fixture) and a small Node app in `app/`.
fn project(fixture: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    for (path, text) in [
        (
            "app/package.json",
            "{\"name\":\"web\",\"scripts\":{\"start\":\"node index.js\"}}\n",
        ),
        ("app/index.js", "console.log('hi')\n"),
        ("app/public/style.css", "body{}\n"),
        ("worker/main.py", "print('hi')\n"),
        ("worker/requirements.txt", "flask\n"),
        ("proxy/Dockerfile", "FROM nginx\n"),
    ] {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    fs::copy(
        Path::new(FIXTURES).join(fixture),
        root.join("skaffold.yaml"),
    )
    .unwrap();
    (dir, root)
}

fn filesync(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_filesync"))
        .arg("skaffold")
        .args(args)
        .current_dir(root)
        .output()
        .unwrap()
}

fn profile_patches(text: &str) -> Vec<serde_norway::Value> {
    let doc: serde_norway::Value = serde_norway::from_str(text).unwrap();
    let profiles = doc["profiles"].as_sequence().unwrap();
    let ours: Vec<_> = profiles
        .iter()
        .filter(|p| p["name"] == "filesync")
        .collect();
    assert_eq!(ours.len(), 1, "exactly one generated profile");
    assert_eq!(ours[0]["activation"][0]["command"], "dev");
    ours[0]["patches"].as_sequence().unwrap().clone()
}

#[test]
fn write_keeps_comments_and_is_idempotent() {
    let (_dir, root) = project("commented.yaml");
    let original = fs::read_to_string(root.join("skaffold.yaml")).unwrap();

    let out = filesync(&root, &["app", "--write"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    assert_ne!(first, original);

    // Only whole lines were inserted, in one contiguous run: every original
    // line (comments, blank lines, other profiles) is still there, in order.
    let diff = similar::TextDiff::from_lines(&original, &first);
    let changes: Vec<_> = diff
        .ops()
        .iter()
        .filter(|op| op.tag() != similar::DiffTag::Equal)
        .collect();
    assert_eq!(changes.len(), 1, "one contiguous change");
    assert_eq!(changes[0].tag(), similar::DiffTag::Insert);

    let out = filesync(&root, &["app", "--write"]);
    assert!(out.status.success());
    let second = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    assert_eq!(first, second, "a second --write changes nothing");
}

#[test]
fn generated_rules_are_the_engines_rules_for_the_app_artifact_only() {
    let (_dir, root) = project("commented.yaml");
    assert!(filesync(&root, &["app", "--write"]).status.success());
    let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    let patches = profile_patches(&text);

    let plan = filesync_rules::plan_for_app(
        &root.join("app"),
        "/workspace",
        &filesync_rules::Overrides::default(),
    )
    .unwrap();
    assert!(!plan.rules.is_empty());
    let sync = patches
        .iter()
        .find(|p| p["path"] == "/build/artifacts/0/sync")
        .expect("sync patch for artifact 0");
    assert_eq!(sync["op"], "add");
    let manual: Vec<filesync_rules::SyncRule> =
        serde_norway::from_value(sync["value"]["manual"].clone()).unwrap();
    assert_eq!(manual, plan.rules);

    // The trigger is appended to the artifact's existing env list.
    let env = patches
        .iter()
        .find(|p| p["path"] == "/build/artifacts/0/buildpacks/env/-")
        .expect("env patch");
    assert_eq!(env["value"], "BP_FILESYNC_ENABLED=true");
    // Artifacts with another context (worker, the docker proxy) are untouched.
    assert!(patches.iter().all(|p| p["path"]
        .as_str()
        .unwrap()
        .starts_with("/build/artifacts/0/")));
}

#[test]
fn check_fails_until_written_and_plain_run_prints_a_diff_without_writing() {
    let (_dir, root) = project("commented.yaml");
    let before = fs::read_to_string(root.join("skaffold.yaml")).unwrap();

    let out = filesync(&root, &["app"]);
    assert!(out.status.success());
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(diff.contains("+++ b/"), "a unified diff: {diff}");
    assert!(diff.contains("+  - name: filesync"), "{diff}");
    assert_eq!(
        fs::read_to_string(root.join("skaffold.yaml")).unwrap(),
        before
    );

    let out = filesync(&root, &["app", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of date"));

    assert!(filesync(&root, &["app", "--write"]).status.success());
    let out = filesync(&root, &["app", "--check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An explicit `buildpacks` list replaces the builder's order: the
/// buildpack's id is appended (pack resolves it from the builder, which
/// includes it), or `--buildpack REF` when given.
#[test]
fn an_explicit_buildpack_list_gets_the_buildpack_appended() {
    let (_dir, root) = project("plain.yaml");
    // The Node app lives in app/; this fixture's artifact has the default context `.`.
    for f in ["package.json", "index.js"] {
        fs::copy(root.join("app").join(f), root.join(f)).unwrap();
    }
    let appended = |args: &[&str]| {
        let out = filesync(&root, args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
        // No `profiles` key before: one was appended at the end.
        assert!(
            text.starts_with(&fs::read_to_string(Path::new(FIXTURES).join("plain.yaml")).unwrap())
        );
        let patches = profile_patches(&text);
        let paths: Vec<&str> = patches
            .iter()
            .map(|p| p["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "/build/artifacts/0/sync",
                "/build/artifacts/0/buildpacks/env",
                "/build/artifacts/0/buildpacks/buildpacks/-"
            ]
        );
        patches[2]["value"].as_str().unwrap().to_string()
    };
    assert_eq!(appended(&["--write"]), "skaffold-filesync");
    assert_eq!(
        appended(&[
            "--write",
            "--buildpack",
            "127.0.0.1:5000/skaffold-filesync:dev"
        ]),
        "127.0.0.1:5000/skaffold-filesync:dev"
    );
}

/// Without a list the builder's order runs and includes the buildpack:
/// nothing is added; `--buildpack REF` keeps the builder's order with
/// `from=builder` and appends REF.
#[test]
fn without_a_list_the_buildpack_is_the_builders_or_appended_from_ref() {
    let (_dir, root) = project("commented.yaml");
    assert!(filesync(&root, &["app", "--write"]).status.success());
    let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    assert!(profile_patches(&text).iter().all(|p| !p["path"]
        .as_str()
        .unwrap()
        .contains("buildpacks/buildpacks")));

    let reference = "docker://registry.example/skaffold-filesync:0.1.0";
    assert!(
        filesync(&root, &["app", "--write", "--buildpack", reference])
            .status
            .success()
    );
    let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    let patches = profile_patches(&text);
    let list = patches
        .iter()
        .find(|p| p["path"] == "/build/artifacts/0/buildpacks/buildpacks")
        .expect("a buildpacks list patch");
    assert_eq!(list["value"][0], "from=builder");
    assert_eq!(list["value"][1], reference);
}

/// Skaffold runs sync hooks with its Kubernetes deployers only: there the
/// profile adds the after-sync hook (the image's `filesync-sync-done`
/// process) and records it in the build env; with `deploy.docker` it adds
/// neither, so no sync waits for a hook that never runs.
#[test]
fn the_after_sync_hook_is_added_only_where_skaffold_runs_hooks() {
    let (_dir, root) = project("commented.yaml");
    assert!(filesync(&root, &["app", "--write"]).status.success());
    let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    let patches = profile_patches(&text);
    let sync = patches
        .iter()
        .find(|p| p["path"] == "/build/artifacts/0/sync")
        .unwrap();
    assert_eq!(
        sync["value"]["hooks"]["after"][0]["container"]["command"][0],
        "filesync-sync-done"
    );
    assert!(patches
        .iter()
        .any(|p| p["value"] == "BP_FILESYNC_SYNC_HOOK=true"));

    // The fixture deploys with kubectl; the same app on the docker deployer:
    let docker = text.replacen("  kubectl: {}", "  docker:\n    images: [shop/web]", 1);
    assert_ne!(docker, text);
    fs::write(root.join("skaffold.yaml"), docker).unwrap();
    let out = filesync(&root, &["app", "--write"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    let patches = profile_patches(&text);
    let sync = patches
        .iter()
        .find(|p| p["path"] == "/build/artifacts/0/sync")
        .unwrap();
    assert!(sync["value"].get("hooks").is_none(), "{text}");
    assert!(!text.contains("BP_FILESYNC_SYNC_HOOK"), "{text}");
}

#[test]
fn bad_arguments_name_the_argument() {
    let (_dir, root) = project("commented.yaml");
    let out = filesync(&root, &["no-such-dir", "-f", "skaffold.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("APP_DIR"));
    let out = filesync(&root, &["app", "-f", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--skaffold-file"));
}

#[test]
fn multi_document_files_get_the_profile_only_where_the_app_is_built() {
    let (_dir, root) = project("multi.yaml");
    let original = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    let out = filesync(&root, &["app", "--write"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    let (first, second) = text.split_once("\n---\n").unwrap();
    assert_eq!(
        first,
        original.split_once("\n---\n").unwrap().0,
        "the backend config is untouched"
    );
    assert!(second.contains("profiles:\n  # >>> filesync"), "{second}");
    assert_eq!(
        profile_patches(second)[0]["path"],
        "/build/artifacts/0/sync"
    );

    // Run from the root: every app below it is covered, the app's profile unchanged.
    assert!(filesync(&root, &["--write"]).status.success());
    let all = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    let (first, second_again) = all.split_once("\n---\n").unwrap();
    assert_eq!(second_again, second);
    let worker = profile_patches(first);
    let plan = filesync_rules::plan_for_app(
        &root.join("worker"),
        "/workspace",
        &filesync_rules::Overrides::default(),
    )
    .unwrap();
    let manual: Vec<filesync_rules::SyncRule> =
        serde_norway::from_value(worker[0]["value"]["manual"].clone()).unwrap();
    assert_eq!(
        manual, plan.rules,
        "the worker's own rules, from its own context"
    );
    // Running for one app keeps the other app's profile.
    assert!(filesync(&root, &["app", "-f", "skaffold.yaml", "--check"])
        .status
        .success());
    assert!(filesync(&root, &["--check"]).status.success());
    assert_eq!(fs::read_to_string(root.join("skaffold.yaml")).unwrap(), all);
}

#[test]
fn an_app_no_artifact_builds_is_an_error() {
    let (_dir, root) = project("commented.yaml");
    let out = filesync(&root, &["proxy", "-f", "skaffold.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no buildpacks artifact has its context in APP_DIR"));
}

#[test]
fn overrides_in_project_toml_and_the_artifact_env_shape_the_rules_as_in_the_build() {
    let (_dir, root) = project("commented.yaml");
    let app = root.join("app");
    fs::write(
        app.join("project.toml"),
        "[[io.buildpacks.build.env]]\nname = \"BP_FILESYNC_EXTRA_RULES\"\nvalue = \"docs/**\"\n",
    )
    .unwrap();
    let manual = |root: &Path| -> Vec<filesync_rules::SyncRule> {
        let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
        let patches = profile_patches(&text);
        serde_norway::from_value(patches[0]["value"]["manual"].clone()).unwrap()
    };
    let expect = |extra: &str| {
        let lookup = |k: &str| (k == "BP_FILESYNC_EXTRA_RULES").then(|| extra.to_string());
        let overrides = filesync_contract::settings::overrides(lookup).unwrap();
        filesync_rules::plan_for_app(&app, "/workspace", &overrides)
            .unwrap()
            .rules
    };
    assert!(filesync(&root, &["app", "--write"]).status.success());
    let from_project = manual(&root);
    assert_eq!(from_project, expect("docs/**"));
    assert_ne!(from_project, expect(""), "the override changes the rules");

    // project.toml's [build.env] wins over the artifact's env, as Skaffold
    // merges them (v2 pkg/skaffold/build/buildpacks/env.go, `env`: the
    // artifact's env, then the descriptor's over it) ...
    let yaml = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    fs::write(
        root.join("skaffold.yaml"),
        yaml.replace(
            "- NODE_ENV=development",
            "- NODE_ENV=development\n          - BP_FILESYNC_EXTRA_RULES=notes/*.txt",
        ),
    )
    .unwrap();
    assert!(filesync(&root, &["app", "--check"]).status.success());
    assert_eq!(manual(&root), expect("docs/**"));
    // ... and the artifact's counts where the descriptor says nothing.
    fs::remove_file(app.join("project.toml")).unwrap();
    assert_eq!(filesync(&root, &["app", "--check"]).status.code(), Some(1));
    assert!(filesync(&root, &["app", "--write"]).status.success());
    assert_eq!(manual(&root), expect("notes/*.txt"));
}

/// Skaffold takes `TrustBuilder` from the artifact alone; without it pack
/// builds in five containers, which fails with Paketo's build user: the
/// tool says so, naming the artifact, and says nothing once it is set.
#[test]
fn an_untrusted_builder_gets_a_warning_naming_the_artifact() {
    let (_dir, root) = project("commented.yaml");
    let out = filesync(&root, &["app", "--write"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("build.artifacts[0] (shop/web) has no `trustBuilder: true`")
            && err.contains("#9712"),
        "{err}"
    );
    let text = fs::read_to_string(root.join("skaffold.yaml")).unwrap();
    let trusted = text.replacen(
        "builder: paketobuildpacks/builder-jammy-base",
        "builder: paketobuildpacks/builder-jammy-base\n        trustBuilder: true",
        1,
    );
    assert_ne!(trusted, text);
    fs::write(root.join("skaffold.yaml"), trusted).unwrap();
    let out = filesync(&root, &["app", "--write"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.contains("trustBuilder"),
        "{err}"
    );
}

/// Skaffold's watch interval is most of a save-to-live and no skaffold.yaml
/// field: `--write` and the plain run say how to lower it and what that
/// costs; `--check` (CI) does not.
#[test]
fn write_and_diff_tell_about_skaffolds_watch_interval_and_check_does_not() {
    let (_dir, root) = project("commented.yaml");
    for args in [&["app"][..], &["app", "--write"], &["app", "--write"]] {
        let out = filesync(&root, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        for needle in [
            "default 1000 ms",
            "skaffold dev -i 100",
            "SKAFFOLD_WATCH_POLL_INTERVAL=100",
            "debounce",
            "poll fallback polls the files that often",
        ] {
            assert!(err.contains(needle), "{args:?} lacks {needle:?}: {err}");
        }
    }
    let out = filesync(&root, &["app", "--check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.contains("watch interval"),
        "{err}"
    );
}

/// Every example's generated block (kept current by
/// scripts/check-examples.sh) is readable: each rule has a comment line
/// right above it and no rule is longer than 120 characters.
#[test]
fn every_examples_generated_rules_are_short_and_commented() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut checked = 0;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&examples).unwrap().flatten() {
        let file = entry.path().join("skaffold.yaml");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(scalar) = line.trim_start().strip_prefix("- src: ") else {
                continue;
            };
            checked += 1;
            let src: String = serde_norway::from_str(scalar).unwrap();
            if src.len() > 120 {
                problems.push(format!(
                    "{}:{}: {} characters",
                    file.display(),
                    i + 1,
                    src.len()
                ));
            }
            let above = i.checked_sub(1).map(|j| lines[j].trim_start());
            if !above.is_some_and(|l| l.starts_with("# ") && l.len() > 2) {
                problems.push(format!(
                    "{}:{}: no comment above {src}",
                    file.display(),
                    i + 1
                ));
            }
        }
    }
    assert!(
        checked >= 7,
        "only {checked} rules found under {}",
        examples.display()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
