//! `java_build::run` on a real app tree with the real `javac` (a process:
//! no resident compiler recorded), as a synced edit drives it.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_runtime::java_build::{run, JavaBuildConfig};
use std::fs;
use std::path::Path;

fn app() -> (tempfile::TempDir, JavaBuildConfig) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/main/java/example/App.java", &app_source("v1"));
    write(
        root,
        "src/main/java/example/Gone.java",
        "package example;\nclass Gone {}\n",
    );
    write(root, "src/main/resources/application.properties", "a=1\n");
    write(root, "src/main/resources/static/about.html", "about\n");
    fs::create_dir_all(root.join("target/classes")).unwrap();
    // The app as the image has it: written well before the first build
    // (a file modified within java_build's clock slack of a build's start
    // counts as changed, and is compiled again).
    for rel in [
        "src/main/java/example/App.java",
        "src/main/java/example/Gone.java",
        "src/main/resources/application.properties",
        "src/main/resources/static/about.html",
    ] {
        let before = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
        fs::File::options()
            .write(true)
            .open(root.join(rel))
            .and_then(|f| f.set_modified(before))
            .unwrap();
    }
    let config = JavaBuildConfig {
        sources: root.join("src/main/java"),
        resources: root.join("src/main/resources"),
        classes: root.join("target/classes"),
        classpath: Vec::new(),
        release: Some(17),
        compiler: None,
        socket: root.join("unused.sock"),
    };
    (dir, config)
}

fn app_source(text: &str) -> String {
    format!("package example;\npublic class App {{ public static final String T = \"{text}\"; }}\n")
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn class_has(config: &JavaBuildConfig, class: &str, text: &str) -> bool {
    let bytes = fs::read(config.classes.join(class)).unwrap();
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn sources_compile_resources_copy_and_deleted_things_go() {
    let (dir, config) = app();
    let root = dir.path();
    assert!(run(&config).unwrap());
    assert!(class_has(&config, "example/App.class", "v1"));
    assert!(config.classes.join("example/Gone.class").is_file());
    assert_eq!(
        fs::read_to_string(config.classes.join("static/about.html")).unwrap(),
        "about\n"
    );

    // A resource only: copied, nothing compiled.
    let app_class = fs::metadata(config.classes.join("example/App.class")).unwrap();
    write(root, "src/main/resources/application.properties", "a=2\n");
    assert!(run(&config).unwrap());
    assert_eq!(
        fs::read_to_string(config.classes.join("application.properties")).unwrap(),
        "a=2\n"
    );
    let after = fs::metadata(config.classes.join("example/App.class")).unwrap();
    assert_eq!(app_class.modified().unwrap(), after.modified().unwrap());

    // A source edited and one deleted: its stale class goes too.
    write(root, "src/main/java/example/App.java", &app_source("v2"));
    fs::remove_file(root.join("src/main/java/example/Gone.java")).unwrap();
    fs::remove_file(root.join("src/main/resources/static/about.html")).unwrap();
    assert!(run(&config).unwrap());
    assert!(class_has(&config, "example/App.class", "v2"));
    assert!(!config.classes.join("example/Gone.class").exists());
    assert!(!config.classes.join("static/about.html").exists());
    assert!(config.classes.join("application.properties").is_file());
}

#[test]
fn a_compile_error_keeps_the_old_classes_and_the_fix_compiles() {
    let (dir, config) = app();
    let root = dir.path();
    assert!(run(&config).unwrap());
    write(
        root,
        "src/main/java/example/App.java",
        "package example;\npublic class App { broken }\n",
    );
    assert!(!run(&config).unwrap(), "javac's errors: a failed rebuild");
    assert!(
        class_has(&config, "example/App.class", "v1"),
        "old classes kept"
    );
    write(root, "src/main/java/example/App.java", &app_source("v3"));
    assert!(run(&config).unwrap());
    assert!(class_has(&config, "example/App.class", "v3"));
    let leftovers: Vec<_> = fs::read_dir(root.join("target"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("filesync-compile-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
