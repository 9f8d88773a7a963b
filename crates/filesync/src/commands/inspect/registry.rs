//! Image config from a registry through `oci-client` (the OCI distribution
//! client of the ORAS project): manifest (an index resolved to linux/amd64),
//! then the config blob; its standard bearer-token flow for registries that
//! answer with a `Bearer` challenge, HTTP basic auth for those that answer
//! `Basic`. Credentials come from the Docker config file the way the docker
//! CLI finds them (the `docker_credential` crate): `credHelpers.<key>`,
//! then `auths.<key>`, then `credsStore`, each helper run as
//! `docker-credential-<name> get` with the key on its stdin.

use super::error_chain;
use anyhow::{bail, Context};
use docker_credential::{CredentialRetrievalError, DockerCredential};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use serde_json::Value;
use std::path::PathBuf;

/// The key Docker Hub's credentials are stored under by `docker login`
/// (the docker CLI's `registry.IndexServer`).
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A reference as the registry sees it, with Docker's defaults applied
/// (`node` is `docker.io/library/node:latest`).
#[derive(Debug)]
pub(super) struct ImageRef {
    reference: Reference,
}

impl ImageRef {
    pub(super) fn parse(text: &str) -> anyhow::Result<Self> {
        let malformed = |why: &dyn std::fmt::Display| {
            anyhow::anyhow!(
                "malformed image reference {text:?} ({why}; expected [HOST[:PORT]/]NAME[:TAG|@DIGEST])"
            )
        };
        let reference: Reference = text.parse().map_err(|e| malformed(&e))?;
        // Docker's rule, which the parser does not enforce.
        if reference
            .repository()
            .chars()
            .any(|c| c.is_ascii_uppercase())
        {
            return Err(malformed(&"repository names are lower case"));
        }
        Ok(ImageRef { reference })
    }

    /// The host the API is spoken to: `index.docker.io` for Docker Hub,
    /// else the reference's own `HOST[:PORT]`.
    pub(super) fn host(&self) -> &str {
        self.reference.resolve_registry()
    }

    /// `library/node` for `node`.
    pub(super) fn repository(&self) -> &str {
        self.reference.repository()
    }

    /// The digest if there is one, else the tag (`latest` by default).
    pub(super) fn tag_or_digest(&self) -> &str {
        self.reference
            .digest()
            .or(self.reference.tag())
            .unwrap_or("latest")
    }

    /// The key the docker CLI stores and looks up credentials under:
    /// `https://index.docker.io/v1/` for Docker Hub, else `HOST[:PORT]`.
    pub(super) fn credential_key(&self) -> &str {
        if self.reference.registry() == "docker.io" {
            DOCKER_HUB_KEY
        } else {
            self.reference.registry()
        }
    }

    /// Loopback registries are spoken to in plain http, as the docker
    /// daemon, skopeo and go-containerregistry do.
    pub(super) fn is_loopback(&self) -> bool {
        let host = self.reference.registry();
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        name == "localhost"
            || name
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// Where the credentials used came from, for messages.
struct Credentials {
    auth: RegistryAuth,
    /// `none`, `docker-credential-NAME (credHelpers)`, `auths in FILE`, …
    origin: String,
}

/// The config of `reference` from its registry.
pub(super) async fn config(reference: &ImageRef, insecure: bool) -> anyhow::Result<Value> {
    config_over(reference, insecure || reference.is_loopback()).await
}

async fn config_over(reference: &ImageRef, plain_http: bool) -> anyhow::Result<Value> {
    // reqwest is built without a default TLS provider (no C toolchain for
    // aws-lc): install ring's. Fails only if one is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::new(ClientConfig {
        protocol: if plain_http {
            ClientProtocol::HttpsExcept(vec![reference.host().to_string()])
        } else {
            ClientProtocol::Https
        },
        connect_timeout: Some(std::time::Duration::from_secs(10)),
        read_timeout: Some(std::time::Duration::from_secs(30)),
        // Images built here and those on Docker Hub: linux/amd64.
        platform_resolver: Some(Box::new(oci_client::client::linux_amd64_resolver)),
        ..ClientConfig::default()
    });
    let scheme = if plain_http { "http" } else { "https" };
    let where_ = format!(
        "{scheme}://{}/v2/{}/manifests/{}",
        reference.host(),
        reference.repository(),
        reference.tag_or_digest()
    );
    let credentials = credentials(reference.credential_key())?;
    // Asked explicitly (rather than left to the pull) so that a refused
    // token request is reported, not turned into an anonymous pull.
    client
        .auth(
            &reference.reference,
            &credentials.auth,
            RegistryOperation::Pull,
        )
        .await
        .map_err(|e| explain(e, reference, &credentials, plain_http))
        .with_context(|| format!("registry {where_}"))?;
    let (_, _, config) = client
        .pull_manifest_and_config(&reference.reference, &credentials.auth)
        .await
        .map_err(|e| explain(e, reference, &credentials, plain_http))
        .with_context(|| format!("registry {where_}"))?;
    serde_json::from_str(&config).with_context(|| format!("registry {where_}: config is not JSON"))
}

/// One line saying what the registry answered and what to do about it.
fn explain(
    e: OciDistributionError,
    reference: &ImageRef,
    creds: &Credentials,
    plain_http: bool,
) -> anyhow::Error {
    let key = reference.credential_key();
    let anonymous = matches!(creds.auth, RegistryAuth::Anonymous);
    let not_found = |code: &str| anyhow::anyhow!("{code}: no such image (check the name and tag)");
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_)
            if anonymous =>
        {
            anyhow::anyhow!(
            "the registry requires credentials; none found for {key:?} in the Docker config ({}): run `docker login {}` or configure a credential helper",
            config_path().map_or("no $HOME".into(), |p| p.display().to_string()),
            key
        )
        }
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => anyhow::anyhow!(
            "the registry refused the credentials for {key:?} from {} (log in again: `docker login {key}`)",
            creds.origin
        ),
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<String> = envelope
                .errors
                .iter()
                .map(|e| match serde_json::to_value(&e.code) {
                    Ok(Value::String(code)) => code,
                    _ => format!("{:?}", e.code),
                })
                .collect();
            let text: Vec<String> = envelope.errors.iter().map(|e| e.message.clone()).collect();
            let code = format!("{} ({})", codes.join(", "), text.join("; "));
            if codes.iter().any(|c| c.contains("UNKNOWN")) {
                not_found(&code)
            } else if codes.iter().any(|c| c == "UNAUTHORIZED" || c == "DENIED") {
                anyhow::anyhow!(
                    "{code}: access denied with the credentials from {} (check `docker login {key}`)",
                    creds.origin
                )
            } else {
                anyhow::anyhow!("{code}")
            }
        }
        OciDistributionError::ServerError { code: 404, .. } => not_found("HTTP 404"),
        OciDistributionError::ServerError { code, message, .. } => {
            anyhow::anyhow!("HTTP {code}: {}", message.trim())
        }
        OciDistributionError::RequestError(e) => anyhow::anyhow!(
            "cannot reach the registry: {}{}",
            error_chain(&e),
            if plain_http {
                ""
            } else {
                " (a plain-http registry needs --insecure)"
            }
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")),
    }
}

/// The credentials for `key` from the Docker config file, as `docker pull`
/// finds them; anonymous when there is no file or nothing for `key`.
fn credentials(key: &str) -> anyhow::Result<Credentials> {
    let none = || Credentials {
        auth: RegistryAuth::Anonymous,
        origin: "none".into(),
    };
    let Some(path) = config_path() else {
        return Ok(none());
    };
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(none());
    };
    let file = path.display();
    let config: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("Docker config {file}: malformed JSON"))?;
    // The same order as docker_credential (and the docker CLI) take.
    let helper = config["credHelpers"][key]
        .as_str()
        .filter(|h| !h.is_empty())
        .map(|h| (h.to_string(), "credHelpers"))
        .or_else(|| {
            // An entry with credentials in it (`docker login` with a
            // credsStore leaves empty ones behind).
            let in_auths = config["auths"].as_object().is_some_and(|a| {
                a.iter().any(|(k, v)| {
                    let host = k
                        .trim_start_matches("https://")
                        .trim_start_matches("http://")
                        .split('/')
                        .next();
                    (k == key || host == Some(key))
                        && ["auth", "username", "identitytoken"]
                            .iter()
                            .any(|f| v[f].is_string())
                })
            });
            (!in_auths)
                .then(|| config["credsStore"].as_str().filter(|h| !h.is_empty()))
                .flatten()
                .map(|h| (h.to_string(), "credsStore"))
        });
    let origin = match &helper {
        Some((name, field)) => format!("docker-credential-{name} ({field} in {file})"),
        None => format!("auths in {file}"),
    };
    match docker_credential::get_credential_from_reader(bytes.as_slice(), key) {
        Ok(DockerCredential::UsernamePassword(user, password)) => Ok(Credentials {
            auth: RegistryAuth::Basic(user, password),
            origin,
        }),
        Ok(DockerCredential::IdentityToken(_)) => bail!(
            "{origin} gives an identity token for {key:?}; filesync cannot exchange identity tokens: log in with a user name and password (`docker login {key}`)"
        ),
        Err(CredentialRetrievalError::NoCredentialConfigured) => Ok(none()),
        // The helpers' protocol for "nothing stored for this server".
        Err(CredentialRetrievalError::HelperFailure { stdout, stderr, .. })
            if format!("{stdout}{stderr}").contains("credentials not found") =>
        {
            Ok(none())
        }
        Err(CredentialRetrievalError::HelperFailure { stdout, stderr, .. }) => bail!(
            "{origin} failed for {key:?}: {}",
            format!("{} {}", stderr.trim(), stdout.trim()).trim()
        ),
        Err(CredentialRetrievalError::HelperCommunicationError) => bail!(
            "cannot run {origin} for {key:?}: is it on PATH? (install the helper or remove it from the Docker config)"
        ),
        Err(e) => bail!("{origin}: {e} for {key:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> (String, String, String, String) {
        let r = ImageRef::parse(text).unwrap();
        (
            r.host().into(),
            r.repository().into(),
            r.tag_or_digest().into(),
            r.credential_key().into(),
        )
    }

    #[test]
    fn docker_hub_references_use_index_docker_io_library_and_the_v1_key() {
        let node = (
            "index.docker.io".to_string(),
            "library/node".to_string(),
            "latest".to_string(),
            DOCKER_HUB_KEY.to_string(),
        );
        assert_eq!(parts("node"), node);
        assert_eq!(parts("docker.io/library/node"), node);
        assert_eq!(parts("docker.io/node"), node);
        assert_eq!(parts("index.docker.io/library/node:latest"), node);
        let (host, repo, tag, key) = parts("paketobuildpacks/builder-jammy-base:0.4");
        assert_eq!(
            (host.as_str(), repo.as_str(), tag.as_str(), key.as_str()),
            (
                "index.docker.io",
                "paketobuildpacks/builder-jammy-base",
                "0.4",
                DOCKER_HUB_KEY
            )
        );
        assert!(!ImageRef::parse("node").unwrap().is_loopback());
    }

    #[test]
    fn other_registries_keep_host_and_port_as_host_and_key() {
        let (host, repo, tag, key) = parts("127.0.0.1:5000/apps/web:dev");
        assert_eq!(
            (host.as_str(), repo.as_str(), tag.as_str(), key.as_str()),
            ("127.0.0.1:5000", "apps/web", "dev", "127.0.0.1:5000")
        );
        let (host, repo, _, key) = parts("ghcr.io/org/app");
        assert_eq!((host.as_str(), repo.as_str()), ("ghcr.io", "org/app"));
        assert_eq!(key, "ghcr.io");
        for local in [
            "127.0.0.1:5000/x",
            "localhost/x",
            "localhost:5000/x",
            "127.0.0.2/x",
        ] {
            assert!(ImageRef::parse(local).unwrap().is_loopback(), "{local}");
        }
        assert!(!ImageRef::parse("registry.example.com:5000/x")
            .unwrap()
            .is_loopback());
    }

    /// The https path (rustls with ring, the platform's roots) comes up and
    /// reports a registry that does not speak TLS, naming --insecure.
    #[test]
    fn https_to_a_plain_http_server_is_a_one_line_error_naming_insecure() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut s in listener.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            }
        });
        let reference = ImageRef::parse(&format!("127.0.0.1:{port}/app:dev")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = runtime
            .block_on(config_over(&reference, false))
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains(&format!("https://127.0.0.1:{port}/v2/app/manifests/dev")),
            "{text}"
        );
        assert!(text.contains("cannot reach the registry"), "{text}");
        assert!(text.contains("needs --insecure"), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn digests_win_over_tags_and_bad_names_are_rejected() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let (host, repo, reference, _) = parts(&format!("localhost:5000/x:dev@{digest}"));
        assert_eq!(
            (host.as_str(), repo.as_str(), reference.as_str()),
            ("localhost:5000", "x", digest.as_str())
        );
        assert_eq!(parts(&format!("node@{digest}")).2, digest);
        for bad in ["Bad Name", "UPPER/case", "x:", "sha256:abc@"] {
            let e = ImageRef::parse(bad).unwrap_err().to_string();
            assert!(e.contains("malformed image reference"), "{bad}: {e}");
        }
    }
}
