//! `filesync java-build`: the in-container rebuild of a Java app without
//! Maven (dev images whose build the buildpack could record, see the
//! buildpack's `layers/java_dev.rs`). What a synced edit needs from
//! `mvn -o clean package` is the compiled classes and the copied
//! resources in `target/classes`, which the running app loads (Spring
//! Boot's `BOOT-INF/classes` links there, a plain app has it first on its
//! `CLASSPATH`); the JAR Maven also writes is never read by the dev image.
//!
//! The rule for what is compiled: when any source under `src/main/java`
//! is new, changed or gone since the last successful build, **every**
//! source is compiled, into a fresh directory whose classes then replace
//! the old ones (stale classes of deleted or renamed types go). That is
//! always correct (a changed constant is inlined by its users, a changed
//! signature breaks them) and, with a warm compiler, costs little more
//! than one file: javac's time is dominated by reading the class path, not
//! by the number of sources (BENCHMARKS.md, "Java: where a synced edit's
//! time goes"). A change of resources only (`src/main/resources`:
//! `application.properties`, `static/`, `templates/`) compiles nothing:
//! the changed files are copied, the deleted ones removed. Maven's
//! resource filtering (`@token@` replacement) is not applied.
//!
//! A compile error leaves `target/classes` as it was and exits non-zero,
//! so the supervisor keeps the old app serving and logs javac's output;
//! the next sync compiles again.

mod compiler;
mod outputs;
mod state;

use std::path::Path;

pub use filesync_contract::java_build::JavaBuildConfig;

/// Reads the recorded `java-build.toml`.
pub fn read_config(path: &Path) -> anyhow::Result<JavaBuildConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// One rebuild; `Ok(false)`: the compile failed (javac's output is on
/// stderr) and nothing changed.
pub fn run(config: &JavaBuildConfig) -> anyhow::Result<bool> {
    let started = std::time::SystemTime::now();
    let state_file = state::file_for(&config.classes);
    let previous = state::State::read(&state_file);
    let now = state::Listing::of(config)?;
    if now.sources_changed_since(previous.as_ref()) {
        let fresh = outputs::fresh_dir(&config.classes)?;
        let compiled = compiler::compile(config, &now.sources, &fresh);
        if let Ok(true) = compiled {
            outputs::replace_classes(&fresh, &config.classes)?;
        }
        let _ = std::fs::remove_dir_all(&fresh);
        if !compiled? {
            return Ok(false);
        }
        eprintln!("compiled {} source(s)", now.sources.len());
    }
    let copied = outputs::copy_resources(config, &now, previous.as_ref())?;
    if copied > 0 {
        eprintln!("copied {copied} resource change(s)");
    }
    state::State::new(started, &now).write(&state_file)?;
    Ok(true)
}
