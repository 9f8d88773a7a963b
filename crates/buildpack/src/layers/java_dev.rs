//! The `java-dev` launch layer (dev builds of Maven apps): what lets a
//! synced Java edit skip Maven. It records, for `filesync java-build`
//! (see `filesync_runtime::java_build`), the compile class path the build
//! resolved and the release level it compiled for, ships the resident
//! compiler (`FilesyncCompiler`, compiled at package time), and gives the
//! app the JVM flags of a dev loop. The rebuild command becomes
//! `filesync java-build <layer>/java-build.toml`.
//!
//! - Class path: a Spring Boot app's `Spring-Boot-Lib` (`BOOT-INF/lib/`,
//!   every JAR spring-boot-maven-plugin packed: the compile and runtime
//!   dependencies), else the manifest's `Class-Path` entries that exist.
//!   Offline by construction: these are the files the build put in the app.
//! - Release: the class-file version of a class the build compiled
//!   (major − 44), so the compile matches Maven's `release`/`target`.
//! - JVM flags (`JAVA_TOOL_OPTIONS`, appended: Paketo's own settings,
//!   added at launch by libjvm's helpers, stay): `-XX:TieredStopAtLevel=1`
//!   (C1 only: a short-lived dev JVM starts and warms up faster) and
//!   `-XX:+UseSerialGC` (no GC threads to start), measured in
//!   BENCHMARKS.md, "Java: where a synced edit's time goes". Production
//!   images never get this layer.
//!
//! Without `target/classes` or `src/main/java` (sources removed, a
//! Gradle-style layout), nothing is installed and Maven stays the rebuild.

use crate::errors::BuildpackError;
use crate::FilesyncBuildpack;
use filesync_contract::java_build::{JavaBuildConfig, COMPILER_SOCKET};
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer::UncachedLayerDefinition;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use std::path::{Path, PathBuf};

/// What keeps the layer from being made: data only, rendered by `errors`.
#[derive(Debug)]
pub enum JavaDevLayerError {
    /// Writing `file` (the resident compiler's class or java-build.toml).
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

/// The dev loop's JVM flags (see the module doc).
pub(crate) const DEV_JVM_FLAGS: &str = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";
/// The resident compiler's class, in the packaged buildpack's `java/`.
const COMPILER_CLASS: &str = "FilesyncCompiler.class";

/// Installs the layer; returns the rebuild command, `None` when the app
/// does not have the layout it needs (Maven stays the rebuild).
pub(crate) fn install(
    context: &BuildContext<FilesyncBuildpack>,
    filesync: &Path,
) -> libcnb::Result<Option<Vec<String>>, BuildpackError> {
    let Some(mut config) = record(&context.app_dir) else {
        println!(
            "[skaffold-filesync] Java: no target/classes or src/main/java; Maven stays the rebuild"
        );
        return Ok(None);
    };
    let layer = context.uncached_layer(
        layer_name!("java-dev"),
        UncachedLayerDefinition {
            build: false,
            launch: true,
        },
    )?;
    let write = |file: &Path| {
        let file = file.to_path_buf();
        move |source| JavaDevLayerError::Write { file, source }
    };
    let packaged = context.buildpack_dir.join("java").join(COMPILER_CLASS);
    if packaged.is_file() {
        let dir = layer.path().join("compiler");
        let to = dir.join(COMPILER_CLASS);
        std::fs::create_dir_all(&dir).map_err(write(&to))?;
        std::fs::copy(&packaged, &to).map_err(write(&to))?;
        config.compiler = Some(dir);
    }
    let toml_path = layer.path().join("java-build.toml");
    let text = toml::to_string(&config).map_err(std::io::Error::other);
    text.and_then(|t| std::fs::write(&toml_path, t))
        .map_err(write(&toml_path))?;
    layer.write_env(
        LayerEnv::new()
            .chainable_insert(
                Scope::Launch,
                ModificationBehavior::Append,
                "JAVA_TOOL_OPTIONS",
                DEV_JVM_FLAGS,
            )
            .chainable_insert(
                Scope::Launch,
                ModificationBehavior::Delimiter,
                "JAVA_TOOL_OPTIONS",
                " ",
            ),
    )?;
    println!(
        "[skaffold-filesync] Java: a synced edit compiles with {} ({} class path entries, release {}), \
         no Maven; the app runs with {DEV_JVM_FLAGS}",
        if config.compiler.is_some() { "the resident compiler" } else { "javac" },
        config.classpath.len(),
        config.release.map_or("of the JDK".to_string(), |r| r.to_string()),
    );
    Ok(Some(vec![
        filesync.display().to_string(),
        filesync_contract::processes::subcommand::JAVA_BUILD.to_string(),
        toml_path.display().to_string(),
    ]))
}

/// What the rebuild needs to know about the app in `app_dir`, without the
/// compiler (the layer's); `None` without the Maven layout.
pub(crate) fn record(app_dir: &Path) -> Option<JavaBuildConfig> {
    let classes = app_dir.join(crate::spring_boot::REBUILD_CLASSES);
    let sources = app_dir.join("src/main/java");
    if !classes.is_dir() || !sources.is_dir() {
        return None;
    }
    Some(JavaBuildConfig {
        release: release_of(&classes),
        classpath: classpath(app_dir),
        sources,
        resources: app_dir.join("src/main/resources"),
        classes,
        compiler: None,
        socket: PathBuf::from(COMPILER_SOCKET),
    })
}

/// The dependency JARs the build packed (see the module doc), sorted.
fn classpath(app_dir: &Path) -> Vec<PathBuf> {
    let manifest = |name| crate::spring_boot::manifest_attribute(app_dir, name);
    let mut jars: Vec<PathBuf> = match manifest("Spring-Boot-Lib") {
        Some(lib) => std::fs::read_dir(app_dir.join(lib.trim()))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jar"))
            .collect(),
        None => manifest("Class-Path")
            .unwrap_or_default()
            .split_whitespace()
            .map(|entry| app_dir.join(entry))
            .filter(|p| p.exists())
            .collect(),
    };
    jars.sort();
    jars
}

/// The release level of the first class file under `classes`: its major
/// version − 44 (52 is Java 8, the oldest `--release` takes).
fn release_of(classes: &Path) -> Option<u32> {
    let mut dirs = vec![classes.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "class") {
                let bytes = std::fs::read(&path).ok()?;
                let head = bytes.get(..8)?;
                if head[..4] != [0xCA, 0xFE, 0xBA, 0xBE] {
                    continue;
                }
                let major = u32::from(u16::from_be_bytes([head[6], head[7]]));
                return (major >= 52).then(|| major - 44);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A class file's first eight bytes for `major`.
    fn class(major: u16) -> Vec<u8> {
        let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0];
        b.extend(major.to_be_bytes());
        b
    }

    #[test]
    fn a_spring_boot_app_records_its_lib_jars_and_release() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        fs::create_dir_all(app.join("META-INF")).unwrap();
        fs::write(
            app.join("META-INF/MANIFEST.MF"),
            "Manifest-Version: 1.0\nSpring-Boot-Lib: BOOT-INF/lib/\n",
        )
        .unwrap();
        fs::create_dir_all(app.join("BOOT-INF/lib")).unwrap();
        for jar in ["spring-web.jar", "spring-core.jar", "notes.txt"] {
            fs::write(app.join("BOOT-INF/lib").join(jar), "").unwrap();
        }
        fs::create_dir_all(app.join("src/main/java/example")).unwrap();
        fs::create_dir_all(app.join("target/classes/example")).unwrap();
        fs::write(app.join("target/classes/example/App.class"), class(61)).unwrap();

        let config = record(app).unwrap();

        assert_eq!(
            config.classpath,
            vec![
                app.join("BOOT-INF/lib/spring-core.jar"),
                app.join("BOOT-INF/lib/spring-web.jar")
            ]
        );
        assert_eq!(config.release, Some(17));
        assert_eq!(config.classes, app.join("target/classes"));
        assert_eq!(config.compiler, None);
    }

    #[test]
    fn a_plain_jar_has_its_class_path_entries_and_no_layout_means_no_layer() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        fs::create_dir_all(app.join("META-INF")).unwrap();
        fs::write(
            app.join("META-INF/MANIFEST.MF"),
            "Main-Class: example.App\nClass-Path: lib/a.jar lib/gone.jar\n",
        )
        .unwrap();
        fs::create_dir_all(app.join("lib")).unwrap();
        fs::write(app.join("lib/a.jar"), "").unwrap();
        assert_eq!(record(app), None, "no target/classes: Maven stays");
        fs::create_dir_all(app.join("src/main/java")).unwrap();
        fs::create_dir_all(app.join("target/classes")).unwrap();
        fs::write(app.join("target/classes/Old.class"), class(51)).unwrap();
        let config = record(app).unwrap();
        assert_eq!(config.classpath, vec![app.join("lib/a.jar")]);
        assert_eq!(config.release, None, "Java 7 class files: javac's default");
    }
}
