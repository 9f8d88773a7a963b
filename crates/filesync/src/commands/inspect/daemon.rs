//! Image config from the local Docker daemon (Engine API `GET
//! /images/{name}/json`, through `bollard`): where the images `skaffold dev`
//! builds with `build.local.push: false` live, never pushed anywhere.
//!
//! The daemon is the one `docker` itself talks to: `DOCKER_HOST`
//! (`unix://PATH`, `tcp://HOST:PORT`), else `unix:///var/run/docker.sock`.

use super::error_chain;
use bollard::Docker;
use serde_json::{json, Value};
use std::time::Duration;

/// What the daemon said about an image.
pub(crate) enum Answer {
    /// The image's config, in the shape of an OCI image config
    /// (`{"config": {"Labels": …, "Entrypoint": …, "Env": …}}`).
    Config(Value),
    /// The daemon answered and has no such image.
    NoSuchImage,
    /// No daemon answered at [`host`]: why.
    Unavailable(String),
    /// The daemon answered with an error (a name it refuses, …).
    Failed(String),
}

/// The daemon's address as `docker` resolves it.
pub(crate) fn host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        // bollard's default on unix, as the docker CLI's.
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// A client of the daemon at [`host`], on the API version it speaks, or
/// why none answered.
pub(crate) async fn connect() -> Result<Docker, String> {
    let docker = Docker::connect_with_defaults()
        .map_err(|e| e.to_string())?
        .with_timeout(Duration::from_secs(30));
    // bollard speaks the newest API version it knows; an older daemon
    // refuses that, so agree on the daemon's (also tells if one answers).
    docker
        .negotiate_version()
        .await
        .map_err(|e| error_chain(&e))
}

pub(crate) async fn config(name: &str) -> Answer {
    let docker = match connect().await {
        Ok(d) => d,
        Err(why) => return Answer::Unavailable(why),
    };
    match docker.inspect_image(name).await {
        Ok(image) => Answer::Config(json!({
            "config": serde_json::to_value(image.config.unwrap_or_default())
                .unwrap_or(Value::Null),
        })),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Answer::NoSuchImage,
        Err(e @ bollard::errors::Error::DockerResponseServerError { .. }) => {
            Answer::Failed(e.to_string())
        }
        Err(e) => Answer::Unavailable(error_chain(&e)),
    }
}
