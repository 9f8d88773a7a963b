//! What the last successful build saw (`target/filesync-java-build.toml`):
//! its start time and the source and resource files it found, so that the
//! next one knows what is new, changed (modified at or after that start)
//! or gone. Synced files are written now (Skaffold's `tar xmf`, the `m`),
//! so their mtime is after the build that preceded them.

use super::JavaBuildConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// File times come from the kernel's coarse clock (a tick, up to 4 ms,
/// behind the precise one a build's start is read from): a file written
/// within that much of a build's start counts as newer (compiled again,
/// never missed).
const CLOCK_SLACK_NS: u64 = 20_000_000;

/// The state file beside `classes` (`target/classes` → `target/…`).
pub(super) fn file_for(classes: &Path) -> PathBuf {
    classes
        .parent()
        .unwrap_or(classes)
        .join("filesync-java-build.toml")
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct State {
    /// When the build started, in nanoseconds since the epoch.
    started_ns: u64,
    sources: Vec<PathBuf>,
    resources: Vec<PathBuf>,
}

impl State {
    pub(super) fn new(started: SystemTime, listing: &Listing) -> State {
        State {
            started_ns: nanos(started),
            sources: listing.sources.iter().map(|f| f.path.clone()).collect(),
            resources: listing.resources.iter().map(|f| f.path.clone()).collect(),
        }
    }

    /// `None` when absent or unreadable: everything counts as changed.
    pub(super) fn read(path: &Path) -> Option<State> {
        toml::from_str(&std::fs::read_to_string(path).ok()?).ok()
    }

    pub(super) fn write(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, toml::to_string(self)?)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
    }

    pub(super) fn resources(&self) -> &[PathBuf] {
        &self.resources
    }

    /// Modified at or after this build's start, give or take
    /// [`CLOCK_SLACK_NS`].
    pub(super) fn is_newer(&self, file: &Found) -> bool {
        file.modified_ns.saturating_add(CLOCK_SLACK_NS) >= self.started_ns
    }
}

/// A file found under a source root: its path relative to that root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub path: PathBuf,
    pub modified_ns: u64,
}

/// The app's sources (`*.java`) and resources (every file), sorted.
#[derive(Debug)]
pub(super) struct Listing {
    pub sources: Vec<Found>,
    pub resources: Vec<Found>,
}

impl Listing {
    pub(super) fn of(config: &JavaBuildConfig) -> anyhow::Result<Listing> {
        let java = |p: &Path| p.extension().is_some_and(|e| e == "java");
        Ok(Listing {
            sources: walk(&config.sources, &java)?,
            resources: walk(&config.resources, &|_: &Path| true)?,
        })
    }

    /// Whether a source is new, changed or gone since `previous`.
    pub(super) fn sources_changed_since(&self, previous: Option<&State>) -> bool {
        let Some(previous) = previous else {
            return true;
        };
        self.sources.len() != previous.sources.len()
            || self
                .sources
                .iter()
                .zip(&previous.sources)
                .any(|(now, before)| now.path != *before || previous.is_newer(now))
    }
}

/// Files under `root` (none when it does not exist) that `keep` accepts.
fn walk(root: &Path, keep: &dyn Fn(&Path) -> bool) -> anyhow::Result<Vec<Found>> {
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let meta = std::fs::metadata(&path)?;
            if meta.is_dir() {
                dirs.push(path);
            } else if keep(&path) {
                out.push(Found {
                    path: path.strip_prefix(root)?.to_path_buf(),
                    modified_ns: nanos(meta.modified()?),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos()
        .try_into()
        .unwrap_or(u64::MAX)
}
