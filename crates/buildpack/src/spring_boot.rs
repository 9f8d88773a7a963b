//! Spring Boot apps in a dev image: where the in-container rebuild's
//! classes must go for Spring Boot's launcher to load them.
//!
//! Paketo runs a Spring Boot JAR exploded into the app dir, as
//! executable-jar's `java <Main-Class>` with the app dir on `CLASSPATH`
//! (paketo-buildpacks/executable-jar `executable/build.go`); the Main-Class
//! spring-boot-maven-plugin writes is the launcher
//! (`org.springframework.boot.loader.launch.JarLauncher` from Spring Boot
//! 3.2, `org.springframework.boot.loader.JarLauncher` before). The launcher
//! makes its own class loader over the manifest's `Spring-Boot-Classes`
//! (`BOOT-INF/classes/`) and `Spring-Boot-Lib` (`BOOT-INF/lib/`, the
//! dependency JARs), a child of the JVM's class loader.
//!
//! The rebuild (`mvn -o clean package`) writes `target/classes`. Putting
//! that first on `CLASSPATH`, as for a plain JAR, breaks a Spring Boot app:
//! the JVM's loader then finds the app's classes first, and they cannot see
//! the dependency JARs only the launcher's loader has
//! (`NoClassDefFoundError: org/springframework/...`). So for a Spring Boot
//! app the exploded `BOOT-INF/classes` becomes a link to `target/classes`
//! (which the build left with the same classes and resources): the launcher
//! loads whatever the last rebuild compiled, with the dependencies it
//! already has, and `CLASSPATH` is left as executable-jar set it.

use std::io;
use std::path::{Path, PathBuf};

/// The rebuild's output, relative to the app dir.
pub(crate) const REBUILD_CLASSES: &str = "target/classes";

/// A main-section attribute of the exploded JAR's manifest
/// (`META-INF/MANIFEST.MF`; continuation lines start with one space).
pub(crate) fn manifest_attribute(app_dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(app_dir.join("META-INF/MANIFEST.MF")).ok()?;
    let mut value: Option<String> = None;
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        if let Some(v) = value.as_mut() {
            match line.strip_prefix(' ') {
                Some(more) => v.push_str(more),
                None => break,
            }
            continue;
        }
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix(name).and_then(|r| r.strip_prefix(": ")) {
            value = Some(v.to_string());
        }
    }
    value
}

/// The directory Spring Boot's launcher loads the app's classes from, when
/// the app dir holds an exploded Spring Boot JAR.
pub(crate) fn classes_dir(app_dir: &Path) -> Option<PathBuf> {
    let rel = manifest_attribute(app_dir, "Spring-Boot-Classes")?;
    let rel = rel.trim().trim_end_matches('/');
    (!rel.is_empty() && !rel.split('/').any(|c| c == ".." || c.is_empty()))
        .then(|| app_dir.join(rel))
}

/// For an exploded Spring Boot JAR whose build left `target/classes`:
/// replaces its classes directory with a relative link to
/// `target/classes`. Returns the classes directory it linked, `None` when
/// the app is not such a Spring Boot app (nothing changed).
pub(crate) fn link_classes_to_rebuild_output(app_dir: &Path) -> io::Result<Option<PathBuf>> {
    let Some(classes) = classes_dir(app_dir) else {
        return Ok(None);
    };
    if !app_dir.join(REBUILD_CLASSES).is_dir() {
        return Ok(None);
    }
    let depth = classes
        .strip_prefix(app_dir)
        .map_or(1, |r| r.components().count());
    let target = Path::new(&"../".repeat(depth.saturating_sub(1))).join(REBUILD_CLASSES);
    match std::fs::symlink_metadata(&classes) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(&classes)?,
        Ok(_) => std::fs::remove_file(&classes)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(parent) = classes.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::os::unix::fs::symlink(target, &classes)?;
    Ok(Some(classes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const BOOT_MANIFEST: &str = "Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\r\nStart-Class: example.Appli\r\n cation\r\nSpring-Boot-Version: 3.4.1\r\nSpring-Boot-Classes: BOOT-INF/classes/\r\nSpring-Boot-Lib: BOOT-INF/lib/\r\n\r\nName: other\r\nSpring-Boot-Classes: elsewhere/\r\n";

    fn app(manifest: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("META-INF")).unwrap();
        fs::write(dir.path().join("META-INF/MANIFEST.MF"), manifest).unwrap();
        dir
    }

    #[test]
    fn manifest_attributes_are_read_from_the_main_section_with_continuations() {
        let dir = app(BOOT_MANIFEST);
        let get = |n| manifest_attribute(dir.path(), n);
        assert_eq!(get("Start-Class").as_deref(), Some("example.Application"));
        assert_eq!(get("Spring-Boot-Version").as_deref(), Some("3.4.1"));
        assert_eq!(get("Spring-Boot"), None, "whole names only");
        assert_eq!(
            classes_dir(dir.path()),
            Some(dir.path().join("BOOT-INF/classes"))
        );
    }

    #[test]
    fn a_spring_boot_app_loads_its_classes_from_the_rebuild_output() {
        let dir = app(BOOT_MANIFEST);
        let root = dir.path();
        fs::create_dir_all(root.join("BOOT-INF/classes/example")).unwrap();
        fs::write(root.join("BOOT-INF/classes/example/Old.class"), "old").unwrap();
        fs::create_dir_all(root.join("BOOT-INF/lib")).unwrap();
        fs::write(root.join("BOOT-INF/lib/spring-core.jar"), "jar").unwrap();
        fs::create_dir_all(root.join("target/classes/example")).unwrap();
        fs::write(root.join("target/classes/example/New.class"), "new").unwrap();

        let linked = link_classes_to_rebuild_output(root).unwrap();

        assert_eq!(linked, Some(root.join("BOOT-INF/classes")));
        assert_eq!(
            fs::read_link(root.join("BOOT-INF/classes")).unwrap(),
            Path::new("../target/classes"),
            "relative, so it holds wherever the app dir is"
        );
        assert_eq!(
            fs::read_to_string(root.join("BOOT-INF/classes/example/New.class")).unwrap(),
            "new"
        );
        assert!(
            root.join("BOOT-INF/lib/spring-core.jar").is_file(),
            "libs kept"
        );
        // A rebuild's `clean` removes target/ and makes it anew: the link
        // follows.
        fs::remove_dir_all(root.join("target")).unwrap();
        fs::create_dir_all(root.join("target/classes")).unwrap();
        fs::write(root.join("target/classes/Again.class"), "again").unwrap();
        assert!(root.join("BOOT-INF/classes/Again.class").is_file());
        assert_eq!(
            link_classes_to_rebuild_output(root).unwrap(),
            Some(root.join("BOOT-INF/classes")),
            "idempotent"
        );
    }

    #[test]
    fn other_apps_are_left_alone() {
        // A plain JAR: no Spring-Boot-Classes.
        let plain = app("Manifest-Version: 1.0\nMain-Class: example.App\n");
        fs::create_dir_all(plain.path().join("target/classes")).unwrap();
        assert_eq!(link_classes_to_rebuild_output(plain.path()).unwrap(), None);
        // Spring Boot, but no target/classes (sources removed).
        let boot = app(BOOT_MANIFEST);
        fs::create_dir_all(boot.path().join("BOOT-INF/classes")).unwrap();
        assert_eq!(link_classes_to_rebuild_output(boot.path()).unwrap(), None);
        assert!(boot.path().join("BOOT-INF/classes").is_dir());
        // A manifest pointing outside the app.
        let evil = app("Spring-Boot-Classes: ../../etc/\n");
        fs::create_dir_all(evil.path().join("target/classes")).unwrap();
        assert_eq!(classes_dir(evil.path()), None);
        assert_eq!(link_classes_to_rebuild_output(evil.path()).unwrap(), None);
    }
}
