//! `filesync inspect IMAGE`: the sync rules and processes an image carries,
//! in one command — what `docker inspect | jq` on two labels gave before,
//! without needing a Docker daemon.
//!
//! Only the image *config* is read (labels, Entrypoint, Env); layers are
//! never downloaded.

mod archive;
mod metadata;
mod oci_layout;
#[cfg(feature = "registry")]
mod registry;

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// `oci:DIR[:TAG]`, an OCI layout dir, `docker-archive:FILE` or a
    /// `docker save` tarball, or a registry reference
    /// (`[docker://]HOST[:PORT]/NAME[:TAG|@DIGEST]`).
    image: String,
    /// Print one JSON object instead of text (for scripts).
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
    OciLayout { dir: PathBuf, tag: Option<String> },
    DockerArchive(PathBuf),
    Registry(String),
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
    Ok(Source::Registry(image.to_string()))
}

/// The image config (OCI `application/vnd.oci.image.config.v1+json`) of `image`.
fn image_config(image: &str, insecure: bool) -> anyhow::Result<serde_json::Value> {
    let config = match source_of(image)? {
        Source::OciLayout { dir, tag } => oci_layout::config(&dir, tag.as_deref()),
        Source::DockerArchive(file) => archive::config(&file),
        #[cfg(feature = "registry")]
        Source::Registry(reference) => registry::config(&reference, insecure),
        #[cfg(not(feature = "registry"))]
        Source::Registry(reference) => {
            let _ = insecure;
            bail!("IMAGE {reference}: this filesync was built without registry support; use an OCI layout or a docker-save tarball")
        }
    };
    config.with_context(|| format!("IMAGE {image}"))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = image_config(&args.image, args.insecure)?;
    let report =
        metadata::Report::from_config(&config).with_context(|| format!("IMAGE {}", args.image))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text(&args.image));
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
            Source::Registry("127.0.0.1:5000/app:dev".into())
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
