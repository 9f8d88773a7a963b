//! `filesync inspect` on images exported by the real CNB lifecycle
//! (v0.21.17, through the e2e harness) with a test buildpack that writes
//! labels and a devmode BOM as skaffold-filesync does: the same report from
//! the registry, an OCI layout and a docker-save tarball, and the legacy
//! rules present exactly when the Platform API is below 0.9 (lifecycle
//! v0.21.17 `platform/files/metadata.go` puts the BOM into the
//! `io.buildpacks.build.metadata` label only below 0.9).

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_e2e::providers::stage;
use filesync_e2e::{BuildSpec, Harness};
use serde_json::{json, Value};
use std::process::Command;

fn inspect(reference: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["inspect", reference, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn lifecycle_images_report_the_same_from_registry_layout_and_tarball() {
    let harness = Harness::get();
    let labeler = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/inspect/labeler-buildpack"
    );
    let rules = json!([{"src": "**/*.js", "dest": "/workspace"}]);
    let node = stage("node").unwrap();
    for (api, legacy) in [("0.8", rules.clone()), ("0.13", Value::Null)] {
        let mut spec = BuildSpec::new("examples/node")
            .provider(node.clone())
            .provider(labeler)
            .platform_api(api);
        spec.with_filesync = false;
        let out = harness.build(&spec).unwrap();
        let image = out
            .image
            .unwrap_or_else(|| panic!("build failed:\n{}", out.log));
        let dir = tempfile::tempdir().unwrap();
        let layout = image.to_oci_layout(dir.path()).unwrap();
        let tarball = dir.path().join("image.tar");
        let copied = Command::new("skopeo")
            .args(["copy", "-q", "--insecure-policy", &format!("oci:{layout}")])
            .arg(format!("docker-archive:{}:app:dev", tarball.display()))
            .status()
            .unwrap();
        assert!(copied.success());

        let report = inspect(&image.reference);
        assert_eq!(report["legacy_rules"], legacy, "Platform API {api}");
        assert_eq!(
            report["filesync"]["devmode.sync"], rules,
            "Platform API {api}"
        );
        assert_eq!(report["default_process"], "web", "Platform API {api}");
        let types: Vec<&str> = report["processes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["web", "worker"], "Platform API {api}");
        assert_eq!(
            inspect(&format!("oci:{layout}")),
            report,
            "Platform API {api}: OCI layout"
        );
        assert_eq!(
            inspect(tarball.to_str().unwrap()),
            report,
            "Platform API {api}: tarball"
        );
    }
}
