//! `filesync inspect` on real images: built with umoci into OCI layouts,
//! converted with skopeo to a docker-save tarball and pushed to a real
//! registry (Debian's docker-registry) on 127.0.0.1.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const BUILD_LABEL: &str = "io.buildpacks.build.metadata";

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        || Command::new(name).arg("--help").output().is_ok()
}

fn require(tools: &[&str]) {
    for t in tools {
        assert!(tool(t), "{t} not found: run scripts/setup.sh");
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An OCI layout `DIR:dev` with the given labels and entrypoint.
fn oci_image(dir: &Path, labels: &[(&str, String)], entrypoint: &str) -> String {
    let layout = dir.to_str().unwrap();
    run(Command::new("umoci").args(["init", "--layout", layout]));
    run(Command::new("umoci").args(["new", "--image", &format!("{layout}:dev")]));
    let mut config = Command::new("umoci");
    config.args([
        "config",
        "--image",
        &format!("{layout}:dev"),
        "--config.entrypoint",
        entrypoint,
    ]);
    config.args(["--config.env", "PATH=/cnb/process:/cnb/lifecycle:/usr/bin"]);
    for (k, v) in labels {
        config.args(["--config.label", &format!("{k}={v}")]);
    }
    run(&mut config);
    format!("oci:{layout}:dev")
}

fn rules() -> Value {
    json!([{"src": "**/*.js", "dest": "/workspace"}, {"src": "public/**", "dest": "/workspace"}])
}

/// Labels as the buildpack writes them, on a Platform API < 0.9 export
/// (legacy BOM present) with a `web` default process.
fn full_labels() -> Vec<(&'static str, String)> {
    let build = json!({
        "bom": [{"name": "skaffold-filesync", "metadata": {"devmode.sync": rules()}}],
        "processes": [
            {"type": "web", "command": ["filesync", "supervise"], "args": [], "direct": true, "buildpackID": "skaffold-filesync"},
            {"type": "tar", "command": ["filesync", "tar"], "args": [], "direct": true, "buildpackID": "skaffold-filesync"}
        ],
        "buildpacks": [], "launcher": {}
    });
    let ours = json!({
        "devmode.sync": rules(), "family": "node", "action": {"kind": "restart"},
        "process_type": "web", "version": "0.1.0"
    });
    vec![
        (BUILD_LABEL, build.to_string()),
        ("skaffold-filesync.metadata", ours.to_string()),
    ]
}

fn inspect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_filesync"))
        .arg("inspect")
        .args(args)
        .output()
        .unwrap()
}

fn inspect_json(image: &str) -> Value {
    let out = inspect(&[image, "--json"]);
    assert!(
        out.status.success(),
        "{image}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry() -> Registry {
    start_registry_with("")
}

/// A docker-registry on a free 127.0.0.1 port; `extra` is appended to its config.
fn start_registry_with(extra: &str) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{extra}",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "registry did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Registry {
        child,
        port,
        _dir: dir,
    }
}

#[test]
fn the_same_rules_from_an_oci_layout_a_docker_save_tarball_and_a_registry() {
    require(&["umoci", "skopeo", "docker-registry"]);
    let dir = tempfile::tempdir().unwrap();
    let oci = oci_image(
        &dir.path().join("layout"),
        &full_labels(),
        "/cnb/process/web",
    );
    let tarball: PathBuf = dir.path().join("image.tar");
    run(Command::new("skopeo").args([
        "copy",
        "--insecure-policy",
        &oci,
        &format!("docker-archive:{}:app:dev", tarball.display()),
    ]));
    let registry = start_registry();
    let remote = format!("127.0.0.1:{}/apps/web:dev", registry.port);
    run(Command::new("skopeo").args([
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        &oci,
        &format!("docker://{remote}"),
    ]));

    let from_layout = inspect_json(&oci);
    assert_eq!(from_layout["legacy_rules"], rules());
    assert_eq!(from_layout["filesync"]["devmode.sync"], rules());
    assert_eq!(from_layout["default_process"], "web");
    let types: Vec<&str> = from_layout["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["web", "tar"]);
    assert_eq!(inspect_json(tarball.to_str().unwrap()), from_layout);
    assert_eq!(
        inspect_json(&format!("docker-archive:{}", tarball.display())),
        from_layout
    );
    assert_eq!(inspect_json(&remote), from_layout);

    let text = inspect(&[&remote]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("  **/*.js -> /workspace"), "{text}");
    assert!(text.contains("web (default): filesync supervise"), "{text}");
    assert!(text.contains("default process: web"), "{text}");
    assert!(
        text.contains("family node, reload restart, wraps process web"),
        "{text}"
    );

    // Not in the daemon (none at DOCKER_HOST here) nor in the registry:
    // one line naming both.
    let missing = format!("127.0.0.1:{}/apps/missing:dev", registry.port);
    let out = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["inspect", &missing])
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no.sock", dir.path().display()),
        )
        .output()
        .unwrap();
    assert_one_line_error(&out, "in neither the Docker daemon nor a registry");
    assert_one_line_error(&out, "no Docker daemon at unix://");
    assert_one_line_error(&out, "MANIFEST_UNKNOWN");
    let out = inspect(&[&format!("docker://{missing}")]);
    assert_one_line_error(&out, "MANIFEST_UNKNOWN (manifest unknown): no such image");
}

#[test]
fn platform_api_0_9_images_have_only_our_label() {
    require(&["umoci"]);
    let dir = tempfile::tempdir().unwrap();
    let build = json!({"processes": [{"type": "web", "command": ["node", "index.js"]}]});
    let mut labels = full_labels();
    labels[0].1 = build.to_string();
    let image = oci_image(
        &dir.path().join("layout"),
        &labels,
        "/cnb/lifecycle/launcher",
    );
    let report = inspect_json(&image);
    assert_eq!(report["legacy_rules"], Value::Null);
    assert_eq!(report["filesync"]["devmode.sync"], rules());
    assert_eq!(report["default_process"], Value::Null);
    let text = String::from_utf8(inspect(&[&image]).stdout).unwrap();
    assert!(text.contains("legacy rules: none"), "{text}");
}

fn assert_one_line_error(out: &Output, needle: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{needle:?} in {err}");
}

#[test]
fn bad_references_missing_and_malformed_labels_are_one_line_errors() {
    require(&["umoci"]);
    let dir = tempfile::tempdir().unwrap();
    assert_one_line_error(&inspect(&["Bad Name"]), "malformed image reference");
    assert_one_line_error(&inspect(&["./no/such.tar"]), "no such file");

    let bare = oci_image(&dir.path().join("bare"), &[], "/cnb/lifecycle/launcher");
    assert_one_line_error(&inspect(&[&bare]), "no sync rules");
    let tagless = bare.trim_end_matches(":dev").to_string() + ":nope";
    assert_one_line_error(&inspect(&[&tagless]), "no image tagged \"nope\"");

    let broken = oci_image(
        &dir.path().join("broken"),
        &[(BUILD_LABEL, "{\"bom\": [".to_string())],
        "/x",
    );
    assert_one_line_error(
        &inspect(&[&broken]),
        "label io.buildpacks.build.metadata: malformed JSON",
    );
    let broken_ours = oci_image(
        &dir.path().join("broken-ours"),
        &[(
            "skaffold-filesync.metadata",
            "{\"devmode.sync\": 1}".to_string(),
        )],
        "/x",
    );
    assert_one_line_error(
        &inspect(&[&broken_ours]),
        "label skaffold-filesync.metadata: malformed",
    );
}

#[test]
fn a_registry_with_credentials_reads_them_from_the_docker_config() {
    require(&["umoci", "skopeo", "docker-registry"]);
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/inspect/htpasswd"
    );
    let registry = start_registry_with(&format!(
        "auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n"
    ));
    let host = format!("127.0.0.1:{}", registry.port);
    let oci = oci_image(
        &dir.path().join("layout"),
        &full_labels(),
        "/cnb/process/web",
    );
    run(Command::new("skopeo").args([
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        "--dest-creds",
        "filesync:secret",
        &oci,
        &format!("docker://{host}/private:dev"),
    ]));
    let remote = format!("{host}/private:dev");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let anonymous = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["inspect", &remote])
        .env("DOCKER_CONFIG", &empty)
        .output()
        .unwrap();
    assert_one_line_error(&anonymous, "requires credentials");

    let config = dir.path().join("docker");
    std::fs::create_dir(&config).unwrap();
    // base64("filesync:secret")
    let auths = json!({"auths": {host.clone(): {"auth": "ZmlsZXN5bmM6c2VjcmV0"}}});
    std::fs::write(config.join("config.json"), auths.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["inspect", &remote, "--json"])
        .env("DOCKER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["filesync"]["devmode.sync"], rules());
}

/// A registry on 127.0.0.1 with htpasswd basic auth (`filesync:secret`)
/// holding `private:dev`.
fn private_registry(dir: &Path) -> (Registry, String) {
    let htpasswd = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/inspect/htpasswd"
    );
    let registry = start_registry_with(&format!(
        "auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n"
    ));
    let host = format!("127.0.0.1:{}", registry.port);
    let oci = oci_image(&dir.join("layout"), &full_labels(), "/cnb/process/web");
    run(Command::new("skopeo").args([
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        "--dest-creds",
        "filesync:secret",
        &oci,
        &format!("docker://{host}/private:dev"),
    ]));
    (registry, host)
}

/// `docker-credential-NAME` in `bin`: records each call (`ARGS STDIN`) in
/// `bin/NAME.calls` and answers as a helper does: `user:secret` as
/// Username/Secret, or the "not found" failure when `answer` is None.
fn credential_helper(bin: &Path, name: &str, answer: Option<(&str, &str)>) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let calls = bin.join(format!("{name}.calls"));
    let reply = match answer {
        Some((user, secret)) => format!(
            "printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{secret}\"}}' \"$server\""
        ),
        None => "echo 'credentials not found in native keychain'; exit 1".to_string(),
    };
    let script = bin.join(format!("docker-credential-{name}"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nserver=$(cat)\necho \"$* $server\" >> {calls}\n{reply}\n",
            calls = calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    calls
}

/// `filesync inspect IMAGE --json` with `config` as the Docker config file,
/// the helpers in `bin` first on PATH, and no Docker daemon.
fn inspect_with(dir: &Path, image: &str, config: &Value) -> Output {
    let docker_config = dir.join("docker-config");
    std::fs::create_dir_all(&docker_config).unwrap();
    std::fs::write(docker_config.join("config.json"), config.to_string()).unwrap();
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(env!("CARGO_BIN_EXE_filesync"))
        .args(["inspect", image, "--json"])
        .env("DOCKER_CONFIG", &docker_config)
        .env("PATH", path)
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-daemon.sock", dir.display()),
        )
        .output()
        .unwrap()
}

fn calls(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

#[test]
fn credential_helpers_named_by_creds_store_and_cred_helpers_are_run() {
    require(&["umoci", "skopeo", "docker-registry"]);
    let dir = tempfile::tempdir().unwrap();
    let (_registry, host) = private_registry(dir.path());
    let image = format!("{host}/private:dev");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let good = credential_helper(&bin, "good", Some(("filesync", "secret")));
    let wrong = credential_helper(&bin, "wrong", Some(("filesync", "not-the-secret")));
    let empty = credential_helper(&bin, "empty", None);

    // credsStore: the helper is asked for the registry's host and port.
    let out = inspect_with(dir.path(), &image, &json!({"credsStore": "good"}));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["filesync"]["devmode.sync"], rules());
    assert_eq!(calls(&good), format!("get {host}\n"));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("read from registry {host}")),
        "{said}"
    );

    // credHelpers for this host wins over credsStore: its wrong secret is
    // refused, and the store is not asked.
    let out = inspect_with(
        dir.path(),
        &image,
        &json!({"credsStore": "good", "credHelpers": {host.clone(): "wrong"}}),
    );
    assert_one_line_error(&out, "refused the credentials");
    assert_one_line_error(&out, "docker-credential-wrong (credHelpers");
    assert_eq!(calls(&wrong), format!("get {host}\n"));
    assert_eq!(calls(&good).lines().count(), 1, "{}", calls(&good));

    // A helper for another registry is not asked; the store is.
    let out = inspect_with(
        dir.path(),
        &image,
        &json!({"credsStore": "good", "credHelpers": {"ghcr.io": "wrong"}}),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(calls(&wrong).lines().count(), 1);
    assert_eq!(calls(&good).lines().count(), 2);

    // A helper that has nothing for the registry: an anonymous pull, which
    // this registry refuses.
    let out = inspect_with(dir.path(), &image, &json!({"credsStore": "empty"}));
    assert_one_line_error(&out, "requires credentials; none found");
    assert_eq!(calls(&empty), format!("get {host}\n"));

    // A helper that is not installed is named.
    let out = inspect_with(dir.path(), &image, &json!({"credsStore": "missing"}));
    assert_one_line_error(&out, "cannot run docker-credential-missing");
}

/// A token server on 127.0.0.1 for a docker-registry with `auth.token`:
/// it grants the scopes asked for to `filesync:secret` (HTTP basic on the
/// token request), refuses anyone else, and records each request. Tokens
/// are JWTs signed RS256 by `openssl dgst` with a self-signed certificate
/// the registry trusts (`rootcertbundle`), sent in the `x5c` header.
struct TokenServer {
    port: u16,
    cert: PathBuf,
    requests: std::sync::Arc<std::sync::Mutex<Vec<TokenRequest>>>,
}

/// `(user or "anonymous", scopes)` of one token request.
type TokenRequest = (String, Vec<String>);

const TOKEN_SERVICE: &str = "filesync-test-registry";
const TOKEN_ISSUER: &str = "filesync-test-issuer";

fn token_server(dir: &Path) -> TokenServer {
    use base64::Engine;
    let key = dir.join("token-key.pem");
    let cert = dir.join("token-cert.pem");
    run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=filesync-test-issuer",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]));
    let der = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in", cert.to_str().unwrap()])
        .output()
        .unwrap()
        .stdout;
    let x5c = base64::engine::general_purpose::STANDARD.encode(der);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let _ = answer_token_request(stream, &key, &x5c, &log);
        }
    });
    TokenServer {
        port,
        cert,
        requests,
    }
}

/// The token request's Basic-auth user ("anonymous" without one) and the
/// scopes it asks for.
fn read_user_and_scopes(stream: &std::net::TcpStream) -> std::io::Result<(String, Vec<String>)> {
    use base64::Engine;
    use std::io::{BufRead, BufReader};
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut user = "anonymous".to_string();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                if let Some(basic) = value.trim().strip_prefix("Basic ") {
                    let decoded = b64.decode(basic.trim()).unwrap_or_default();
                    user = String::from_utf8_lossy(&decoded).into_owned();
                }
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let scopes: Vec<String> = query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("scope="))
        .map(|s| {
            s.replace("%3A", ":")
                .replace("%2C", ",")
                .replace("%2F", "/")
        })
        .collect();
    Ok((user, scopes))
}

fn answer_token_request(
    mut stream: std::net::TcpStream,
    key: &Path,
    x5c: &str,
    log: &std::sync::Mutex<Vec<TokenRequest>>,
) -> std::io::Result<()> {
    use base64::Engine;
    use std::io::Write;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (user, scopes) = read_user_and_scopes(&stream)?;
    let granted = user == "filesync:secret";
    log.lock().unwrap().push((
        user.split(':').next().unwrap_or("").to_string(),
        scopes.clone(),
    ));
    if !granted {
        let body = r#"{"details":"incorrect username or password"}"#;
        return write!(
            stream,
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let access: Vec<Value> = scopes
        .iter()
        .filter_map(|s| {
            let mut parts = s.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = json!({
        "iss": TOKEN_ISSUER, "sub": "filesync", "aud": TOKEN_SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", scopes.len()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        url.encode(header.to_string()),
        url.encode(claims.to_string())
    );
    let mut openssl = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign", key.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    openssl
        .stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())?;
    let signature = openssl.wait_with_output()?.stdout;
    let token = format!("{signing_input}.{}", url.encode(signature));
    let body = json!({"token": token, "access_token": token, "expires_in": 300}).to_string();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn a_token_registry_is_read_through_the_token_flow_with_the_helpers_credentials() {
    require(&["umoci", "skopeo", "docker-registry", "openssl"]);
    let dir = tempfile::tempdir().unwrap();
    let tokens = token_server(dir.path());
    let registry = start_registry_with(&format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
        tokens.port,
        tokens.cert.display()
    ));
    let host = format!("127.0.0.1:{}", registry.port);
    let image = format!("{host}/tokened/app:dev");
    let oci = oci_image(
        &dir.path().join("layout"),
        &full_labels(),
        "/cnb/process/web",
    );
    run(Command::new("skopeo").args([
        "copy",
        "--insecure-policy",
        "--dest-tls-verify=false",
        "--dest-creds",
        "filesync:secret",
        &oci,
        &format!("docker://{image}"),
    ]));
    tokens.requests.lock().unwrap().clear();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helper = credential_helper(&bin, "store", Some(("filesync", "secret")));
    credential_helper(&bin, "wrong", Some(("filesync", "not-the-secret")));

    // No credentials: the token server refuses, and so does inspect.
    let out = inspect_with(dir.path(), &image, &json!({}));
    assert_one_line_error(&out, "requires credentials; none found");
    // The helper's wrong secret: refused, naming where it came from.
    let out = inspect_with(
        dir.path(),
        &image,
        &json!({"credHelpers": {host.clone(): "wrong"}}),
    );
    assert_one_line_error(&out, "refused the credentials");
    assert_one_line_error(&out, "docker-credential-wrong");

    // The helper's credentials buy a pull token for the repository.
    tokens.requests.lock().unwrap().clear();
    let out = inspect_with(dir.path(), &image, &json!({"credsStore": "store"}));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["filesync"]["devmode.sync"], rules());
    assert_eq!(report["default_process"], "web");
    assert_eq!(calls(&helper), format!("get {host}\n"));
    let requests = tokens.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [(
            "filesync".to_string(),
            vec!["repository:tokened/app:pull".to_string()]
        )],
        "one token request, with the helper's user, for pull"
    );
}
