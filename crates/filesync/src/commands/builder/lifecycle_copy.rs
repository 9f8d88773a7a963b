//! FROM's own lifecycle, copied out of its `/cnb/lifecycle` through the
//! Docker daemon, so that the derived builder keeps it: pack's
//! `[lifecycle] uri` takes a directory holding `lifecycle/<binaries>` and a
//! `lifecycle.toml` (pack v0.40.6 `pkg/builder/lifecycle.go`), and the
//! builder image records no descriptor file, only its metadata label.
//!
//! The image is pulled into the daemon when it is not there (pack pulls
//! it for the build anyway); a container is created from it, never
//! started, archived at `/cnb/lifecycle` (Engine API `GET
//! /containers/{id}/archive`) and removed.

use super::errors::BuilderError;
use std::path::Path;

/// Unpacks FROM's `/cnb/lifecycle` as `dest/lifecycle/`.
#[cfg(feature = "daemon")]
pub(super) fn copy_out(image: &str, dest: &Path) -> Result<(), BuilderError> {
    let fail = |detail: String| BuilderError::LifecycleCopy {
        image: image.into(),
        detail,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let archive = runtime.block_on(archive(image)).map_err(fail)?;
    tar::Archive::new(archive.as_slice())
        .unpack(dest)
        .map_err(|e| fail(format!("unpacking /cnb/lifecycle: {e}")))?;
    if !dest.join("lifecycle/lifecycle").is_file() && !dest.join("lifecycle/launcher").is_file() {
        return Err(fail(
            "its /cnb/lifecycle holds no lifecycle or launcher binary".into(),
        ));
    }
    Ok(())
}

#[cfg(not(feature = "daemon"))]
pub fn copy_out(image: &str, _dest: &Path) -> Result<(), BuilderError> {
    Err(BuilderError::LifecycleCopy {
        image: image.into(),
        detail: "this filesync was built without Docker daemon support (cargo feature `daemon`)"
            .into(),
    })
}

/// The tar archive of FROM's `/cnb/lifecycle`.
#[cfg(feature = "daemon")]
async fn archive(image: &str) -> Result<Vec<u8>, String> {
    use bollard::query_parameters::{
        CreateImageOptions, DownloadFromContainerOptions, RemoveContainerOptions,
    };
    use futures_util::TryStreamExt;

    let docker = crate::commands::inspect::daemon::connect().await?;
    if docker.inspect_image(image).await.is_err() {
        eprintln!("filesync builder: pulling {image} into the Docker daemon");
        let options = CreateImageOptions {
            from_image: Some(image.into()),
            ..Default::default()
        };
        docker
            .create_image(Some(options), None, None)
            .try_for_each(|_| async { Ok(()) })
            .await
            .map_err(|e| format!("pulling it: {e}"))?;
    }
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.into()),
        // Never started; a command only because the daemon wants one.
        cmd: Some(vec!["/cnb/lifecycle/lifecycle".into()]),
        ..Default::default()
    };
    let container = docker
        .create_container(None, body)
        .await
        .map_err(|e| format!("creating a container from it: {e}"))?;
    let options = DownloadFromContainerOptions {
        path: "/cnb/lifecycle".into(),
    };
    let bytes: Result<Vec<u8>, _> = docker
        .download_from_container(&container.id, Some(options))
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await;
    let removed = docker
        .remove_container(
            &container.id,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await;
    let bytes = bytes.map_err(|e| format!("reading /cnb/lifecycle: {e}"))?;
    removed.map_err(|e| format!("removing the container {}: {e}", container.id))?;
    Ok(bytes)
}
