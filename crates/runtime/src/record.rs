//! The restart record: what the syncs changed, kept where the pod keeps it
//! across container restarts, and replayed when the supervisor starts in a
//! restarted container of the same image build — so after a crash of PID 1,
//! a failed liveness probe or `kubectl exec POD -- kill 1` the app starts on
//! the last synced files, not on the image's (Skaffold #6924).
//!
//! **Where.** `/dev/shm/filesync/<build id>/` (`$FILESYNC_RECORD_DIR`
//! overrides the base). The containers of one pod share the sandbox's
//! `/dev/shm`: containerd's CRI mounts the sandbox's shm into every
//! container, and a restarted container gets the same one. Verified
//! 2026-12-04 with the project's cluster (scripts/cluster.sh, Kubernetes
//! v1.33.13, its containerd): a Pod of the run-base image as uid 1002 wrote
//! `/dev/shm/mark`, `kubectl exec shm-check -- sh -c 'kill 1'`, and the
//! restarted container (restartCount 1) logged `restarted: /dev/shm/mark
//! present: written-by-uid-1002`; `/dev/shm` there is a 65536 KiB tmpfs,
//! mode 1777. A new pod has a new, empty one. Docker (20.10, the private
//! engine of scripts/docker.sh) gives each container its own 64 MiB shm,
//! and `docker restart` gives it a fresh one: the same check logged
//! `first start: no mark` after the restart.
//!
//! **What.** Final state, not a log of batches ([`manifest`]): the latest
//! content of every synced path and the set of deleted paths, so the record
//! is bounded by the files touched. One commit per batch ([`store`]), so a
//! crash mid-write never replays half a batch. At most
//! `$FILESYNC_RECORD_LIMIT_MIB` (default 16 MiB, well under the 64 MiB
//! default shm); a batch that cannot be kept drops the whole record, with a
//! message saying what the user loses.
//!
//! **Which image.** The build id the buildpack writes into the runtime
//! config at every build: a record of another build is discarded.

pub mod keep;
pub mod manifest;
pub mod replay;
pub mod store;
#[cfg(test)]
mod tests;

use crate::config::RuntimeConfig;
use std::path::PathBuf;

pub use keep::{keep_rm, keep_tar, Tee};
pub use replay::restore;

pub use filesync_contract::variables::{RECORD_DIR as DIR_ENV, RECORD_LIMIT_MIB as LIMIT_ENV};
pub const DEFAULT_DIR: &str = "/dev/shm/filesync";
pub const DEFAULT_LIMIT_MIB: u64 = 16;

/// Where and how much to record; `None` (from [`Settings::for_config`])
/// when records are off.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base: PathBuf,
    pub identity: String,
    /// Bytes of file content a record may hold.
    pub limit: u64,
}

/// A build id fit to be a directory name (the contract's rule).
pub use filesync_contract::config::valid_build_id as valid_identity;

/// `$FILESYNC_RECORD_LIMIT_MIB` in bytes: empty counts as unset; a value
/// that is not a whole number is logged and ignored.
pub fn limit_from(value: Option<&str>) -> u64 {
    let mib = match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => DEFAULT_LIMIT_MIB,
        Some(v) => v.parse().unwrap_or_else(|_| {
            crate::log!(
                "{LIMIT_ENV}={v:?} is not a whole number of MiB; ignored, using {DEFAULT_LIMIT_MIB}"
            );
            DEFAULT_LIMIT_MIB
        }),
    };
    mib.saturating_mul(1024 * 1024)
}

impl Settings {
    /// The settings for an image's config and the current environment.
    /// Off for images without a build id (built before records existed)
    /// and with a limit of 0.
    pub fn for_config(config: &RuntimeConfig) -> Option<Settings> {
        let identity = config.build_id.clone().filter(|id| valid_identity(id))?;
        let limit = limit_from(std::env::var(LIMIT_ENV).ok().as_deref());
        if limit == 0 {
            return None;
        }
        let base = std::env::var_os(DIR_ENV)
            .filter(|d| !d.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from);
        Some(Settings {
            base,
            identity,
            limit,
        })
    }

    /// For the shims: the recorded config of `$FILESYNC_CONFIG`, if any.
    pub fn from_env() -> Option<Settings> {
        crate::config::load(None)
            .ok()
            .and_then(|c| Settings::for_config(&c))
    }
}

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `HH:MM:SS UTC, N s ago` for a record's time.
pub fn when(secs: u64, now: u64) -> String {
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC, {} s ago",
        day / 3600,
        day / 60 % 60,
        day % 60,
        now.saturating_sub(secs)
    )
}
