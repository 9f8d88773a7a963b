//! `filesync inspect IMAGE`: the sync rules and processes an image carries,
//! in one command — what `docker inspect | jq` on two labels gave before.
//!
//! Only the image *config* is read (labels, Entrypoint, Env); layers are
//! never downloaded. Sources: an OCI layout, a docker-save tarball, the
//! local Docker daemon (cargo feature `daemon`), a registry (cargo feature
//! `registry`). A bare `NAME[:TAG]` is looked up as Skaffold looks up the
//! images it builds: in the Docker daemon first (where `skaffold dev` puts
//! images it does not push), then in the registry the name points to.

mod archive;
#[cfg(feature = "daemon")]
pub(crate) mod daemon;
mod metadata;
mod oci_layout;
#[cfg(feature = "registry")]
mod registry;

use anyhow::{bail, Context};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the image comes from, and in which order a bare name is looked up.
const AFTER_HELP: &str = "\
IMAGE forms:
  oci:DIR[:TAG] | DIR                 an OCI image layout
  docker-archive:FILE | FILE          a `docker save` (or skopeo docker-archive) tarball
  docker-daemon:NAME[:TAG]            the local Docker daemon only
  docker://[HOST[:PORT]/]NAME[:TAG|@DIGEST]   a registry only
  [HOST[:PORT]/]NAME[:TAG|@DIGEST]    the Docker daemon first, then the registry

The Docker daemon is the one `docker` uses: DOCKER_HOST (unix://PATH or
tcp://HOST:PORT), else unix:///var/run/docker.sock. A bare NAME is on Docker
Hub (`node` is docker.io/library/node:latest). Registry credentials come from
$DOCKER_CONFIG/config.json or ~/.docker/config.json as `docker pull` finds
them: credHelpers, auths, then credsStore (helpers run as
docker-credential-NAME). Registries on localhost and 127.0.0.0/8 are
spoken to in plain http; others in https unless --insecure.";

#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct Args {
    /// An OCI layout, a docker-save tarball, or an image reference
    /// (`[HOST[:PORT]/]NAME[:TAG|@DIGEST]`: the Docker daemon, then the
    /// registry; `docker-daemon:` or `docker://` for one of them only).
    image: String,
    /// Print one JSON object instead of text (for scripts); the source read
    /// is then said on stderr.
    #[arg(long)]
    json: bool,
    /// Talk plain http to this registry (as 127.0.0.1 and localhost always
    /// do) instead of https.
    #[arg(long)]
    insecure: bool,
}

/// Where an image's config is read from.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    OciLayout {
        dir: PathBuf,
        tag: Option<String>,
    },
    DockerArchive(PathBuf),
    /// `docker-daemon:NAME[:TAG]`: the Docker daemon only.
    Daemon(String),
    /// `docker://REFERENCE`: the registry only.
    Registry(String),
    /// A bare reference: the Docker daemon, then the registry.
    Named(String),
}

fn source_of(image: &str) -> anyhow::Result<Source> {
    if image.is_empty() {
        bail!("IMAGE: empty image reference");
    }
    if let Some(rest) = image.strip_prefix("oci:") {
        // The tag is what follows the last ':' unless that leaves no dir.
        let (dir, tag) = match rest.rsplit_once(':') {
            Some((dir, tag)) if !dir.is_empty() && !tag.contains('/') => {
                (dir, Some(tag.to_string()))
            }
            _ => (rest, None),
        };
        return Ok(Source::OciLayout {
            dir: dir.into(),
            tag,
        });
    }
    if let Some(file) = image.strip_prefix("docker-archive:") {
        return Ok(Source::DockerArchive(
            file.split(':').next().unwrap_or(file).into(),
        ));
    }
    if let Some(name) = image.strip_prefix("docker-daemon:") {
        return Ok(Source::Daemon(name.to_string()));
    }
    if let Some(reference) = image.strip_prefix("docker://") {
        return Ok(Source::Registry(reference.to_string()));
    }
    let path = Path::new(image);
    if path.is_dir() {
        return Ok(Source::OciLayout {
            dir: path.into(),
            tag: None,
        });
    }
    if path.is_file() {
        return Ok(Source::DockerArchive(path.into()));
    }
    if image.starts_with('/') || image.starts_with('.') {
        bail!("IMAGE {image}: no such file or directory");
    }
    Ok(Source::Named(image.to_string()))
}

/// An image config and where it was read.
pub(crate) struct Found {
    /// The image config (OCI `application/vnd.oci.image.config.v1+json`).
    pub config: Value,
    /// For the report's `source:` line.
    pub source: String,
}

/// The config of `image` (any IMAGE form of `filesync inspect`; a bare
/// reference from the Docker daemon, then its registry).
pub(crate) fn image_config(image: &str, insecure: bool) -> anyhow::Result<Found> {
    let found = match source_of(image)? {
        Source::OciLayout { dir, tag } => {
            oci_layout::config(&dir, tag.as_deref()).map(|config| Found {
                config,
                source: format!("OCI layout {}", dir.display()),
            })
        }
        Source::DockerArchive(file) => archive::config(&file).map(|config| Found {
            config,
            source: format!("docker-save tarball {}", file.display()),
        }),
        Source::Daemon(name) => lookup(&name, true, false, insecure),
        Source::Registry(reference) => lookup(&reference, false, true, insecure),
        Source::Named(reference) => lookup(&reference, true, true, insecure),
    };
    found.with_context(|| format!("IMAGE {image}"))
}

/// `reference` from the Docker daemon (if `daemon`), else from its registry
/// (if `registry`); the error names every place tried and why it failed.
#[cfg(any(feature = "daemon", feature = "registry"))]
fn lookup(reference: &str, daemon: bool, registry: bool, insecure: bool) -> anyhow::Result<Found> {
    // Both clients are async; one thread is all a few requests need.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(lookup_async(reference, daemon, registry, insecure))
}

#[cfg(any(feature = "daemon", feature = "registry"))]
async fn lookup_async(
    reference: &str,
    use_daemon: bool,
    use_registry: bool,
    insecure: bool,
) -> anyhow::Result<Found> {
    // A malformed reference is said as such, before any source is asked
    // (the daemon alone also takes image IDs, and judges names itself).
    #[cfg(feature = "registry")]
    let parsed = if use_registry {
        Some(registry::ImageRef::parse(reference)?)
    } else {
        None
    };
    let mut tried: Vec<String> = Vec::new();
    if use_daemon {
        #[cfg(feature = "daemon")]
        {
            let host = daemon::host();
            match daemon::config(reference).await {
                daemon::Answer::Config(config) => {
                    return Ok(Found {
                        config,
                        source: format!("Docker daemon at {host}"),
                    })
                }
                daemon::Answer::NoSuchImage => {
                    tried.push(format!("the Docker daemon at {host} has no such image"));
                }
                daemon::Answer::Unavailable(why) => {
                    tried.push(format!("no Docker daemon at {host} ({why})"));
                }
                daemon::Answer::Failed(why) => {
                    tried.push(format!("the Docker daemon at {host}: {why}"));
                }
            }
        }
        #[cfg(not(feature = "daemon"))]
        tried.push("this filesync was built without Docker daemon support".into());
    }
    #[cfg(feature = "registry")]
    if let Some(parsed) = parsed {
        match registry::config(&parsed, insecure).await {
            Ok(config) => {
                let mut source = format!("registry {}", parsed.host());
                if !tried.is_empty() {
                    source = format!("{source} ({})", tried.join("; "));
                }
                return Ok(Found { config, source });
            }
            Err(e) if tried.is_empty() => return Err(e),
            Err(e) => tried.push(format!("{e:#}")),
        }
    }
    #[cfg(not(feature = "registry"))]
    if use_registry {
        let _ = insecure;
        tried.push("this filesync was built without registry support".into());
    }
    if use_daemon && use_registry {
        bail!(
            "in neither the Docker daemon nor a registry: {} — build or pull it into the Docker daemon that DOCKER_HOST names (`skaffold build`, `docker pull`), or push it to a registry",
            tried.join("; ")
        );
    }
    if use_daemon && cfg!(feature = "daemon") {
        bail!(
            "{} (point DOCKER_HOST at the daemon that has the image)",
            tried.join("; ")
        );
    }
    bail!("{}", tried.join("; "))
}

#[cfg(not(any(feature = "daemon", feature = "registry")))]
fn lookup(
    reference: &str,
    _daemon: bool,
    _registry: bool,
    _insecure: bool,
) -> anyhow::Result<Found> {
    bail!("{reference}: this filesync was built without Docker daemon and registry support; use an OCI layout or a docker-save tarball")
}

/// `e` and its sources on one line: the clients' top-level messages
/// ("error sending request", "error trying to connect") hide the cause.
#[cfg(any(feature = "daemon", feature = "registry"))]
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

// main hands each subcommand its parsed clap arguments by value, one signature for all.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let found = image_config(&args.image, args.insecure)?;
    let report = metadata::Report::from_config(&found.config)
        .with_context(|| format!("IMAGE {} (from {})", args.image, found.source))?;
    if args.json {
        eprintln!("filesync: {} read from {}", args.image, found.source);
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text(&args.image, &found.source));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_classified_by_prefix_then_by_what_exists() {
        assert_eq!(
            source_of("oci:/tmp/x:dev").unwrap(),
            Source::OciLayout {
                dir: "/tmp/x".into(),
                tag: Some("dev".into())
            }
        );
        assert_eq!(
            source_of("oci:/tmp/x").unwrap(),
            Source::OciLayout {
                dir: "/tmp/x".into(),
                tag: None
            }
        );
        assert_eq!(
            source_of("docker-archive:/a.tar:app:1").unwrap(),
            Source::DockerArchive("/a.tar".into())
        );
        assert_eq!(
            source_of("127.0.0.1:5000/app:dev").unwrap(),
            Source::Named("127.0.0.1:5000/app:dev".into())
        );
        assert_eq!(
            source_of("docker-daemon:app:dev").unwrap(),
            Source::Daemon("app:dev".into())
        );
        assert_eq!(
            source_of("docker://app").unwrap(),
            Source::Registry("app".into())
        );
        assert!(source_of("./missing.tar")
            .unwrap_err()
            .to_string()
            .contains("no such file"));
        assert!(source_of("").is_err());
    }
}
