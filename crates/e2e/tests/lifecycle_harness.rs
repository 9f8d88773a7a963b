//! The harness itself, without skaffold-filesync: a production build with
//! the real lifecycle exports an image whose default process is the
//! provider's `web`, with the app at /workspace, and it serves over HTTP
//! when run with runc.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_e2e::container::Container;
use filesync_e2e::http::wait_for;
use filesync_e2e::providers::stage;
use filesync_e2e::{BuildSpec, Harness};
use std::time::Duration;

#[test]
fn production_build_runs_web_as_default_and_serves() {
    let h = Harness::get();
    let mut spec = BuildSpec::new("examples/node").provider(stage("node").unwrap());
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

    let c = Container::start(&image, &[]).unwrap();
    let waited = wait_for(c.port, "/", Duration::from_secs(20), |s, b| {
        s == 200 && b.contains("Node.js v1")
    });
    assert!(
        waited.is_ok(),
        "app did not serve: {waited:?}\nlogs:\n{}",
        c.logs()
    );
}
