//! `java-build.toml`: what the buildpack's java-dev layer records for the
//! runtime's `java-build` (the in-container rebuild of a Java dev image
//! without Maven; see the runtime's `java_build` module).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The resident compiler's Unix socket in the container.
pub const COMPILER_SOCKET: &str = "/tmp/filesync-javac.sock";

/// What the buildpack recorded for the rebuild (`java-build.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JavaBuildConfig {
    /// `src/main/java` of the app.
    pub sources: PathBuf,
    /// `src/main/resources` of the app.
    pub resources: PathBuf,
    /// `target/classes`: what the app loads.
    pub classes: PathBuf,
    /// The compile class path: the dependency JARs the build resolved.
    pub classpath: Vec<PathBuf>,
    /// `--release`, from the class files the build compiled.
    pub release: Option<u32>,
    /// The directory holding `FilesyncCompiler.class` (the resident
    /// compiler); `None`: every compile runs `javac`.
    pub compiler: Option<PathBuf>,
    /// The resident compiler's Unix socket ([`COMPILER_SOCKET`]).
    pub socket: PathBuf,
}
