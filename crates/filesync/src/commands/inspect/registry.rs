//! Image config from a registry (Docker Registry HTTP API v2 / OCI
//! distribution): manifest, then config blob; anonymous or with the
//! credentials of a Docker config file, with the bearer-token exchange
//! that Docker Hub and most registries require.

use anyhow::{bail, Context};
use base64::Engine;
use serde_json::Value;
use std::path::PathBuf;

const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// `HOST[:PORT]/NAME[:TAG|@DIGEST]`, with Docker's defaults for a bare name.
#[derive(Debug, PartialEq, Eq)]
pub struct Reference {
    pub host: String,
    pub repository: String,
    /// A tag or a digest.
    pub reference: String,
}

impl Reference {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let (first, rest) = text.split_once('/').unwrap_or(("", text));
        let (host, path) =
            if !first.is_empty() && (first.contains(['.', ':']) || first == "localhost") {
                (first.to_string(), rest.to_string())
            } else {
                let path = if text.contains('/') {
                    text.to_string()
                } else {
                    format!("library/{text}")
                };
                ("registry-1.docker.io".to_string(), path)
            };
        let (repository, reference) = if let Some((name, digest)) = path.split_once('@') {
            (name.to_string(), digest.to_string())
        } else {
            match path.rsplit_once(':') {
                Some((name, tag)) if !tag.contains('/') => (name.to_string(), tag.to_string()),
                _ => (path.clone(), "latest".to_string()),
            }
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c))
        };
        if !valid(&repository)
            || !valid(&reference)
            || repository.chars().any(|c| c.is_ascii_uppercase())
        {
            bail!("malformed image reference {text:?} (expected HOST[:PORT]/NAME[:TAG|@DIGEST])");
        }
        Ok(Reference {
            host,
            repository,
            reference,
        })
    }

    fn is_local(&self) -> bool {
        let name = self
            .host
            .rsplit_once(':')
            .map_or(self.host.as_str(), |(h, _)| h);
        matches!(name, "localhost" | "127.0.0.1" | "[::1]")
    }
}

pub fn config(reference: &str, insecure: bool) -> anyhow::Result<Value> {
    let reference = Reference::parse(reference)?;
    let scheme = if insecure || reference.is_local() {
        "http"
    } else {
        "https"
    };
    let mut client = Client {
        agent: ureq::AgentBuilder::new()
            .timeout(std::time::Duration::from_secs(30))
            .build(),
        base: format!("{scheme}://{}/v2/{}", reference.host, reference.repository),
        credentials: credentials(&reference.host)?,
        token: None,
        repository: reference.repository.clone(),
    };
    let mut manifest = client.get_json(&format!("manifests/{}", reference.reference), ACCEPT)?;
    if let Some(list) = manifest["manifests"].as_array() {
        let digest = list
            .iter()
            .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
            .or_else(|| list.first())
            .and_then(|m| m["digest"].as_str())
            .context("image index without manifests")?
            .to_string();
        manifest = client.get_json(&format!("manifests/{digest}"), ACCEPT)?;
    }
    let digest = manifest["config"]["digest"]
        .as_str()
        .context("manifest has no config digest")?
        .to_string();
    client.get_json(&format!("blobs/{digest}"), "*/*")
}

struct Client {
    agent: ureq::Agent,
    base: String,
    /// `user:password` from the Docker config file.
    credentials: Option<String>,
    token: Option<String>,
    repository: String,
}

impl Client {
    fn get_json(&mut self, path: &str, accept: &str) -> anyhow::Result<Value> {
        let url = format!("{}/{path}", self.base);
        let mut retried = false;
        loop {
            let mut request = self.agent.get(&url).set("Accept", accept);
            if let Some(token) = &self.token {
                request = request.set("Authorization", token);
            }
            match request.call() {
                Ok(response) => {
                    return response
                        .into_json()
                        .with_context(|| format!("{url}: not JSON"))
                }
                Err(ureq::Error::Status(401, response)) if !retried => {
                    retried = true;
                    let challenge = response
                        .header("WWW-Authenticate")
                        .unwrap_or("")
                        .to_string();
                    self.token = Some(self.authorize(&challenge)?);
                }
                Err(ureq::Error::Status(code, _)) => {
                    let hint = match code {
                        401 | 403 => " (check the credentials in $DOCKER_CONFIG/config.json or ~/.docker/config.json)",
                        404 => " (no such image)",
                        _ => "",
                    };
                    bail!("GET {url}: HTTP {code}{hint}");
                }
                Err(e) => bail!("GET {url}: {e}"),
            }
        }
    }

    /// The `Authorization` header value answering a 401 challenge.
    fn authorize(&self, challenge: &str) -> anyhow::Result<String> {
        let basic = || {
            self.credentials.as_ref().map(|c| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(c)
                )
            })
        };
        let Some(params) = challenge.strip_prefix("Bearer ") else {
            return basic().context(
                "the registry requires credentials; none found in the Docker config file",
            );
        };
        let param = |name: &str| -> Option<String> {
            params.split(',').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == name).then(|| v.trim_matches('"').to_string())
            })
        };
        let realm = param("realm").context("bearer challenge without realm")?;
        let scope =
            param("scope").unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        let mut request = self.agent.get(&realm).query("scope", &scope);
        if let Some(service) = param("service") {
            request = request.query("service", &service);
        }
        if let Some(header) = basic() {
            request = request.set("Authorization", &header);
        }
        let answer: Value = request
            .call()
            .map_err(|e| anyhow::anyhow!("token request to {realm}: {e}"))?
            .into_json()
            .context("token response: not JSON")?;
        let token = answer["token"]
            .as_str()
            .or_else(|| answer["access_token"].as_str())
            .context("token response without token")?;
        Ok(format!("Bearer {token}"))
    }
}

/// `user:password` for `host` from `$DOCKER_CONFIG/config.json` or
/// `~/.docker/config.json` (`auths.<host>.auth`, base64), if any.
fn credentials(host: &str) -> anyhow::Result<Option<String>> {
    let path = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir).join("config.json"),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".docker/config.json"),
            None => return Ok(None),
        },
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let config: Value = serde_json::from_str(&text)
        .with_context(|| format!("DOCKER_CONFIG {}: malformed JSON", path.display()))?;
    let keys: Vec<String> = if host == "registry-1.docker.io" {
        vec![
            "https://index.docker.io/v1/".into(),
            "index.docker.io".into(),
            "docker.io".into(),
        ]
    } else {
        vec![
            host.into(),
            format!("https://{host}"),
            format!("http://{host}"),
        ]
    };
    let Some(auth) = keys
        .iter()
        .find_map(|k| config["auths"][k]["auth"].as_str())
    else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .with_context(|| {
            format!(
                "DOCKER_CONFIG {}: auths.{host}.auth is not base64",
                path.display()
            )
        })?;
    Ok(Some(
        String::from_utf8(decoded).context("credentials are not UTF-8")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_get_dockers_defaults() {
        let r = Reference::parse("127.0.0.1:5000/apps/web:dev").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.reference.as_str()),
            ("127.0.0.1:5000", "apps/web", "dev")
        );
        assert!(r.is_local());
        let r = Reference::parse("node").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.reference.as_str()),
            ("registry-1.docker.io", "library/node", "latest")
        );
        assert!(!r.is_local());
        let r = Reference::parse("localhost/x@sha256:abc").unwrap();
        assert_eq!(r.reference, "sha256:abc");
        assert!(Reference::parse("Bad Name").is_err());
    }
}
