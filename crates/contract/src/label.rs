//! The image label the buildpack sets and `filesync inspect`, the e2e
//! harness and Skaffold users read.

use serde::{Deserialize, Serialize};

/// Image label the buildpack sets (a buildpack-provided `[[labels]]` entry),
/// readable with every Platform API, unlike the legacy BOM label.
pub const LABEL: &str = "skaffold-filesync.metadata";

/// JSON value of [`LABEL`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelMetadata {
    /// Same rules as the legacy BOM entry's `devmode.sync`.
    #[serde(rename = "devmode.sync")]
    pub sync: Vec<filesync_rules::SyncRule>,
    pub family: filesync_rules::Family,
    pub action: filesync_rules::ReloadAction,
    /// The process type the default process wraps.
    pub process_type: String,
    /// Version of the buildpack that wrote it.
    pub version: String,
}
