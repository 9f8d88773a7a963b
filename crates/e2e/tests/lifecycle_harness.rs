//! The harness itself, without skaffold-filesync: a production build with
//! the real lifecycle exports an image whose default process is the
//! provider's `web`, with the app at /workspace.

use filesync_e2e::{BuildSpec, Harness};

#[test]
fn provider_only_build_exports_web_as_default() {
    let h = Harness::get();
    let mut spec = BuildSpec::new("crates/rules/tests/fixtures/node-npm");
    spec.with_filesync = false;
    let out = h.build(&spec).unwrap();
    let image = out
        .image
        .unwrap_or_else(|| panic!("build failed:\n{}", out.log));
    let config = image.config().unwrap();
    assert_eq!(config["config"]["WorkingDir"], "/workspace", "{config}");
    assert_eq!(
        config["config"]["Entrypoint"][0], "/cnb/process/web",
        "{config}"
    );
    let labels = image.labels().unwrap();
    let build: serde_json::Value =
        serde_json::from_str(&labels["io.buildpacks.build.metadata"]).unwrap();
    let procs = build["processes"].as_array().unwrap();
    assert!(procs.iter().any(|p| p["type"] == "web"), "{build}");
}
