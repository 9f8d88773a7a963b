//! Issue 23 under the real `skaffold dev` with the kubectl deployer: a
//! container restart in the same pod (`kubectl exec POD -- kill 1`, a
//! failed liveness probe) starts on the last synced files, and a rebuild
//! and redeploy does not get the old build's record.

use super::{save_synced_served, FIRST_BUILD, TO_SYNC};
use filesync_e2e::builder::Stack;
use filesync_e2e::http::{get, wait_for};
use filesync_e2e::skaffold_dev::{Deployer, Mode, Project, SkaffoldDev};
use std::time::Duration;

/// How the container is made to restart.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Restart {
    /// `kubectl exec POD -- sh -c 'kill 1'`: the supervisor (PID 1) stops
    /// the app and exits; the kubelet starts a new container.
    KillPid1,
    /// The pod's exec liveness probe fails (the test creates the file it
    /// tests for); the kubelet kills the container and starts a new one.
    LivenessProbe,
}

const POD: &str = "filesync-example-node";

/// A liveness probe the test can fail, added to the app container of the
/// copy's `k8s/pod.yaml` (as the project rewrote it: the image name is
/// this run's). /tmp is the container's own: a new container passes it.
fn add_liveness_probe(pod_yaml: &std::path::Path) {
    let text = std::fs::read_to_string(pod_yaml).unwrap();
    let mut doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let probe: serde_norway::Value = serde_norway::from_str(
        "exec:\n  command: [sh, -c, test ! -e /tmp/unhealthy]\nperiodSeconds: 1\nfailureThreshold: 1\n",
    )
    .unwrap();
    doc["spec"]["containers"][0]
        .as_mapping_mut()
        .expect("spec.containers[0]")
        .insert("livenessProbe".into(), probe);
    std::fs::write(pod_yaml, serde_norway::to_string(&doc).unwrap()).unwrap();
}

fn node(v: &str) -> String {
    format!("module.exports = \"Hello from Node.js {v}\";\n")
}

/// The restart count of the app container.
fn restarts(dev: &SkaffoldDev) -> u32 {
    let out = dev
        .project()
        .kubectl()
        .args(["get", "pod", POD, "-o"])
        .arg("jsonpath={.status.containerStatuses[0].restartCount}")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// The current container's log (`kubectl logs`).
fn pod_log(dev: &SkaffoldDev) -> String {
    let out = dev
        .project()
        .kubectl()
        .args(["logs", POD])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Waits for the restart count to pass `before`, then for the new
/// container's first answer through Skaffold's forward; returns its body.
fn first_answer_after_restart(dev: &SkaffoldDev, before: u32) -> String {
    let deadline = std::time::Instant::now() + Duration::from_mins(2);
    while restarts(dev) <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the container never restarted\n{}",
            pod_log(dev)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let body = std::cell::RefCell::new(String::new());
    let up = wait_for(dev.port, "/", Duration::from_mins(2), |s, b| {
        *body.borrow_mut() = b.to_string();
        s == 200
    });
    assert!(
        up.is_ok(),
        "never served after the restart: {up:?}\n{}",
        dev.log()
    );
    body.into_inner()
}

/// One `skaffold dev` of examples/node: sync v2 and delete a page, restart
/// the container `how`, the new container serves v2 without the page
/// before any new save; with `then_rebuild`, a save that changes
/// package.json (rebuild, redeploy) and the message to v3 serves v3, not
/// the old build's record.
pub(crate) fn synced_changes_survive(how: Restart, then_rebuild: bool) {
    let project = Project::new("node", Mode::Generated, Stack::Base, Deployer::Kubectl)
        .unwrap_or_else(|e| panic!("{e:#}"));
    if matches!(how, Restart::LivenessProbe) {
        add_liveness_probe(&project.ctx().join("k8s/pod.yaml"));
    }
    let dev = SkaffoldDev::dev(project).unwrap_or_else(|e| panic!("{e:#}"));
    if let Err(e) = dev.wait_up("/", FIRST_BUILD, |s, b| {
        s == 200 && b.contains("Node.js v1")
    }) {
        panic!("never served v1: {e:#}");
    }
    dev.wait_line(0, "Watching for changes", Duration::from_mins(1))
        .unwrap();
    save_synced_served(
        &dev,
        "lib/message.js",
        &node("v2"),
        "/",
        "Node.js v2",
        Duration::from_mins(1),
        &format!("{how:?}: the edit"),
    );
    let mark = dev.mark();
    dev.remove("public/about.html");
    dev.wait_line(mark, "Syncing", TO_SYNC).unwrap();
    let gone = wait_for(
        dev.port,
        "/static/about.html",
        Duration::from_secs(30),
        |s, _| s == 404,
    );
    assert!(gone.is_ok(), "{gone:?}\n{}", dev.log());

    let before = restarts(&dev);
    match how {
        Restart::KillPid1 => {
            let _ = dev.exec(&["sh", "-c", "kill 1"]);
        }
        Restart::LivenessProbe => {
            dev.exec(&["sh", "-c", "touch /tmp/unhealthy"]).unwrap();
        }
    }
    let first = first_answer_after_restart(&dev, before);
    let log = pod_log(&dev);
    eprintln!("{how:?}: the restarted container's log:\n{log}");
    assert!(
        first.contains("Node.js v2"),
        "{how:?}: first answer {first:?}\n{log}"
    );
    assert_eq!(get(dev.port, "/static/about.html").unwrap().0, 404);
    assert!(
        log.contains("[filesync] restored 1 file(s) and 1 deletion(s)"),
        "{log}"
    );
    if !then_rebuild {
        return;
    }
    let mark = dev.mark();
    let manifest = dev.ctx().join("package.json");
    let old = std::fs::read_to_string(&manifest).unwrap();
    dev.write("lib/message.js", &node("v3"));
    dev.write("package.json", &format!("{old}\n"));
    dev.wait_line(mark, "Building [", TO_SYNC).unwrap();
    let v3 = wait_for(dev.port, "/", FIRST_BUILD, |s, b| {
        s == 200 && b.contains("Node.js v3")
    });
    assert!(v3.is_ok(), "after the rebuild: {v3:?}\n{}", dev.log());
    let log = pod_log(&dev);
    eprintln!("after the rebuild and redeploy:\n{log}");
    assert!(
        !log.contains("restored"),
        "the old build's record was replayed:\n{log}"
    );
}
