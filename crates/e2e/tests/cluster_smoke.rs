//! The project's own Kubernetes cluster (`scripts/cluster.sh`), end to end:
//! started, a Pod from an image in the loopback registry, the exact
//! `kubectl exec -i … tar xmf - -C / --no-same-owner` Skaffold syncs with,
//! `kubectl exec … cat`, `kubectl logs`, `kubectl port-forward` on
//! 127.0.0.1, the Pod deleted; then stopped, and the host must be exactly
//! as it was before the start (kernel settings, iptables, links, mounts,
//! host directories, cgroups) with nothing of the cluster left.
//!
//! This test owns its cluster: it stops one left running by an earlier test
//! process first, and leaves none behind.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_e2e::cluster::{
    assert_host_unchanged, host_snapshot, leftovers, Cluster, PortForward,
};
use filesync_e2e::tools::tool;
use filesync_e2e::Harness;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const POD: &str = "filesync-smoke";

/// Stops the cluster when the test ends, however it ends.
struct StopOnDrop(bool);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if self.0 {
            let _ = Cluster::stop();
        }
    }
}

#[test]
fn cluster_runs_a_pod_and_leaves_the_host_as_it_was() {
    // The registry (and the run images in it) first: a process of the
    // harness, not of the cluster.
    let harness = Harness::get();
    let image = format!("{}/run:base", harness.registry_host());

    if Cluster::running() {
        Cluster::stop().expect("stopping the cluster an earlier test process left running");
    }
    let before = host_snapshot();

    let t = Instant::now();
    let mut guard = StopOnDrop(true);
    let cluster = Cluster::start().expect("scripts/cluster.sh start");
    let started = t.elapsed();
    eprintln!("cluster: schedulable after {started:.1?} (scripts/cluster.sh start)");

    exercise_a_pod(&cluster, &image);

    let t = Instant::now();
    guard.0 = false;
    Cluster::stop().expect("scripts/cluster.sh stop");
    eprintln!("cluster: stopped in {:.1?}", t.elapsed());

    assert_host_unchanged(&before);
    let left = leftovers();
    assert!(
        left.is_empty(),
        "left of the cluster after stop:\n{}",
        left.join("\n")
    );
}

/// Applies the smoke Pod (openssl serving /tmp over TLS on 8443) running
/// `image` and waits until it is Ready.
fn start_the_pod(cluster: &Cluster, image: &str) {
    // openssl is in the base run image: its `s_server -WWW` serves the
    // files under its working directory over TLS, which is enough of a
    // server to prove port-forward (and that the synced file is served).
    let script = "echo smoke-started; \
        /usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
          -subj /CN=smoke -days 1 -keyout /tmp/key.pem -out /tmp/cert.pem 2>/dev/null && \
        echo smoke-serving && \
        exec /usr/bin/openssl s_server -accept 8443 -cert /tmp/cert.pem -key /tmp/key.pem -WWW -quiet";
    let manifest = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": POD, "labels": {"app": POD}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "app",
                "image": image,
                "imagePullPolicy": "Always",
                "workingDir": "/tmp",
                "command": ["/bin/sh", "-c", script],
                "ports": [{"containerPort": 8443}],
            }],
        },
    });
    let t = Instant::now();
    kubectl_stdin(
        cluster,
        &["apply", "-f", "-"],
        manifest.to_string().as_bytes(),
    )
    .expect("kubectl apply");
    cluster
        .kubectl_out(&[
            "wait",
            "--for=condition=Ready",
            &format!("pod/{POD}"),
            "--timeout=120s",
        ])
        .unwrap_or_else(|e| panic!("{e:#}\n{}", describe(cluster)));
    eprintln!(
        "cluster: pod Ready {:.1?} after apply (image pulled from {image})",
        t.elapsed()
    );
}

/// Skaffold's sync into the Pod: a copy, checked with `cat`, then a delete.
fn copy_and_delete_as_skaffold_does(cluster: &Cluster) {
    // Skaffold's copy, exactly: a tar of absolute destination paths on stdin.
    let staging = tempfile::tempdir().unwrap();
    let file = staging.path().join("tmp/smoke/hello.txt");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "hello from the host\n").unwrap();
    let tar = Command::new("tar")
        .args(["cf", "-", "--owner=0", "--group=0", "-C"])
        .arg(staging.path())
        .arg("tmp/smoke/hello.txt")
        .output()
        .expect("tar");
    assert!(tar.status.success());
    kubectl_stdin(
        cluster,
        &[
            "exec",
            "-i",
            POD,
            "-c",
            "app",
            "--",
            "tar",
            "xmf",
            "-",
            "-C",
            "/",
            "--no-same-owner",
        ],
        &tar.stdout,
    )
    .expect("kubectl exec -i … tar xmf - -C / --no-same-owner");
    let cat = cluster
        .kubectl_out(&[
            "exec",
            POD,
            "-c",
            "app",
            "--",
            "cat",
            "/tmp/smoke/hello.txt",
        ])
        .expect("kubectl exec … cat");
    assert_eq!(cat, "hello from the host\n");
    // Skaffold's delete.
    cluster
        .kubectl_out(&[
            "exec",
            POD,
            "-c",
            "app",
            "--",
            "rm",
            "-rf",
            "--",
            "/tmp/smoke/gone",
        ])
        .expect("kubectl exec … rm -rf --");
}

fn exercise_a_pod(cluster: &Cluster, image: &str) {
    start_the_pod(cluster, image);

    copy_and_delete_as_skaffold_does(cluster);

    let logs = cluster
        .kubectl_out(&["logs", POD, "-c", "app"])
        .expect("kubectl logs");
    assert!(logs.contains("smoke-started"), "kubectl logs: {logs:?}");

    let served = port_forward_get(cluster, "/smoke/hello.txt");
    assert!(
        served.contains("hello from the host"),
        "served through port-forward: {served:?}"
    );

    cluster
        .kubectl_out(&["delete", "pod", POD, "--wait=true", "--timeout=60s"])
        .expect("kubectl delete pod");
    let pods = cluster.kubectl_out(&["get", "pods", "-o", "name"]).unwrap();
    assert!(pods.trim().is_empty(), "pods left: {pods}");
}

/// `kubectl port-forward pod/POD :8443 --address 127.0.0.1`, then an HTTPS
/// GET of `path` through the forwarded port (curl, retried while the
/// server starts).
fn port_forward_get(cluster: &Cluster, path: &str) -> String {
    let pf = PortForward::start(cluster.kubectl(), POD, 8443).unwrap_or_else(|e| panic!("{e:#}"));
    let port = pf.port;
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let out = Command::new(tool("curl"))
            .args(["-ksS", "--max-time", "5"])
            .arg(format!("https://127.0.0.1:{port}{path}"))
            .output()
            .expect("curl");
        if out.status.success() && !out.stdout.is_empty() {
            break String::from_utf8_lossy(&out.stdout).into_owned();
        }
        assert!(
            Instant::now() <= deadline,
            "nothing served through port-forward on 127.0.0.1:{port}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    drop(pf);
    body
}

fn kubectl_stdin(cluster: &Cluster, args: &[&str], input: &[u8]) -> anyhow::Result<String> {
    let mut child = cluster
        .kubectl()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(input)?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        anyhow::bail!(
            "kubectl {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(cluster: &Cluster) -> String {
    cluster
        .kubectl_out(&["describe", "pod", POD])
        .unwrap_or_else(|e| format!("{e:#}"))
}
