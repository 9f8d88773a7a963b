//! `filesync inspect NAME:TAG` of the image the real `skaffold dev`
//! (Skaffold v2.24.0, docker deployer, `build.local.push: false`) built into
//! the private Docker Engine: an image that exists nowhere but in the
//! daemon. The report comes from the Engine API over the daemon's unix
//! socket (`DOCKER_HOST`), and over `tcp://127.0.0.1:PORT` through a relay to
//! that socket; a name the daemon lacks gives one line naming every source
//! tried.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_e2e::builder::Stack;
use filesync_e2e::docker::Docker;
use filesync_e2e::http::wait_for;
use filesync_e2e::skaffold_dev::{Deployer, Mode, SkaffoldDev};
use filesync_e2e::tools::{filesync_bin, repo_root};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::time::Duration;

/// The first build of a `skaffold dev` (builder and run image pulled,
/// every layer made) on a loaded 2-core machine.
const FIRST_BUILD: Duration = Duration::from_mins(15);

/// `filesync inspect ARGS…` against the daemon at `docker_host`.
fn inspect(docker_host: &str, args: &[&str]) -> Output {
    Command::new(filesync_bin())
        .arg("inspect")
        .args(args)
        .env("DOCKER_HOST", docker_host)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "filesync inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Relays connections on 127.0.0.1:PORT to the daemon's unix socket, as a
/// daemon listening on tcp would be reached (`DOCKER_HOST=tcp://…`). The
/// relay's threads end with the test process.
fn tcp_relay(socket: &str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let socket = socket.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            let Ok(daemon) = UnixStream::connect(&socket) else {
                continue;
            };
            let (mut c2, mut d2) = (client.try_clone().unwrap(), daemon.try_clone().unwrap());
            std::thread::spawn(move || pipe(&mut c2, &mut d2));
            let (mut c, mut d) = (client, daemon);
            std::thread::spawn(move || pipe(&mut d, &mut c));
        }
    });
    port
}

fn pipe(from: &mut impl Read, to: &mut (impl Write + Shutdown)) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    to.shut_write();
}

trait Shutdown {
    fn shut_write(&self);
}
impl Shutdown for TcpStream {
    fn shut_write(&self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
}
impl Shutdown for UnixStream {
    fn shut_write(&self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
}

/// NAME:TAG exactly as Skaffold deployed it: the image of the container
/// the docker deployer named after it.
fn deployed_image(docker: &Docker, dev: &SkaffoldDev) -> String {
    let out = docker
        .cli()
        .args(["inspect", "--format", "{{.Config.Image}}", &dev.image])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        image.starts_with(&format!("{}:", dev.image)),
        "container {} runs {image}",
        dev.image
    );
    image
}

/// The text report's rules are node's, to /workspace, and its default
/// process is the buildpack's supervisor wrapping `web`: that process's type.
fn assert_node_rules_and_the_supervisor_default(text: &str) -> String {
    let (rules, rest) = text
        .split_once("filesync rules (skaffold-filesync.metadata")
        .unwrap_or_else(|| panic!("no filesync rules: {text}"));
    assert!(rules.contains("legacy rules: none"), "{text}");
    assert!(
        rest.contains("family node, reload restart, wraps process web"),
        "{text}"
    );
    let (rules, processes) = rest
        .split_once("\nprocesses:\n")
        .unwrap_or_else(|| panic!("no process list: {text}"));
    assert!(
        rules
            .lines()
            .any(|l| l.contains(".js") && l.ends_with(" -> /workspace")),
        "a node rule to /workspace: {text}"
    );
    let default = processes
        .lines()
        .find(|l| l.contains(" (default): "))
        .unwrap_or_else(|| panic!("no default process: {text}"));
    // The buildpack's supervisor is the default and wraps the app's `web`.
    assert!(default.ends_with("filesync supervise"), "{text}");
    assert!(processes.contains("  web: node server.js\n"), "{text}");
    let kind = default.trim().split(' ').next().unwrap();
    assert!(
        processes.contains(&format!("default process: {kind}\n")),
        "{text}"
    );
    kind.to_string()
}

/// `filesync inspect` of a name the daemon lacks, on a registry that is
/// not there: one line naming both sources.
fn assert_a_missing_name_names_both_sources(docker_host: &str) {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let missing = format!("127.0.0.1:{closed}/no-such-app:dev");
    let out = inspect(docker_host, &[&missing]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for needle in [
        "in neither the Docker daemon nor a registry",
        &format!("the Docker daemon at {docker_host} has no such image"),
        &format!("registry http://127.0.0.1:{closed}/v2/no-such-app/manifests/dev"),
        "Connection refused",
    ] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
}

#[test]
fn inspect_daemon_reads_the_image_skaffold_dev_built_into_the_local_daemon() {
    // The binary under test, current with this checkout (a no-op when it is).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "-q", "-p", "filesync"])
        .current_dir(repo_root())
        .status()
        .unwrap();
    assert!(built.success(), "cargo build -p filesync failed");

    let dev = SkaffoldDev::start_with("node", Mode::Generated, Stack::Base, Deployer::Docker)
        .unwrap_or_else(|e| panic!("skaffold dev: {e:#}"));
    let up = wait_for(dev.port, "/", FIRST_BUILD, |s, b| {
        s == 200 && b.contains("Node.js v1")
    });
    assert!(up.is_ok(), "never served v1: {up:?}\n{}", dev.log());

    // NAME:TAG exactly as Skaffold deployed it (the docker deployer names
    // the container after the image).
    let docker = Docker::get();
    let image = deployed_image(docker, &dev);

    let text = ok(&inspect(&docker.host, &[&image]));
    eprintln!("filesync inspect {image}:\n{text}");
    assert!(
        text.contains(&format!("source: Docker daemon at {}", docker.host)),
        "{text}"
    );
    let kind = assert_node_rules_and_the_supervisor_default(&text);

    // The daemon only, and the same report as JSON.
    let json: serde_json::Value = serde_json::from_str(&ok(&inspect(
        &docker.host,
        &[&format!("docker-daemon:{image}"), "--json"],
    )))
    .unwrap();
    assert_eq!(json["default_process"], kind, "{json}");
    assert_eq!(json["filesync"]["family"], "node", "{json}");

    // DOCKER_HOST=tcp://127.0.0.1:PORT reaches the same daemon.
    let socket = docker.host.strip_prefix("unix://").unwrap();
    let tcp = format!("tcp://127.0.0.1:{}", tcp_relay(socket));
    let over_tcp = ok(&inspect(&tcp, &[&image]));
    assert!(
        over_tcp.contains(&format!("source: Docker daemon at {tcp}")),
        "{over_tcp}"
    );
    assert_eq!(
        over_tcp.split_once("\nlegacy rules").map(|(_, r)| r),
        text.split_once("\nlegacy rules").map(|(_, r)| r)
    );

    // A name the daemon lacks, on a registry that is not there: one line
    // naming both sources.
    assert_a_missing_name_names_both_sources(&docker.host);
}
