use super::*;
use crate::lifecycle_files::earlier_layers;
use std::fs;

/// A `<layers>` tree: group.toml listing `e2e/jvm` then us, and the
/// layers of `e2e/jvm`: (name, launch, files).
fn tree(layers: &[(&str, bool, &[&str])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("group.toml"),
        "[[group]]\nid = \"e2e/jvm\"\nversion = \"1\"\n\n[[group]]\nid = \"ours\"\nversion = \"1\"\n",
    )
    .unwrap();
    let bp = dir.path().join("e2e_jvm");
    for (name, launch, files) in layers {
        fs::create_dir_all(bp.join(name)).unwrap();
        fs::write(
            bp.join(format!("{name}.toml")),
            format!("[types]\nlaunch = {launch}\nbuild = true\ncache = true\n"),
        )
        .unwrap();
        for f in *files {
            let p = bp.join(name).join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "").unwrap();
        }
    }
    dir
}

#[test]
fn a_jre_at_launch_with_the_jdk_build_only_fails_naming_bp_jvm_type() {
    // libjvm's default: JDK build-only, JRE at launch.
    let t = tree(&[
        ("jdk", false, &["bin/java", "bin/javac"]),
        ("jre", true, &["bin/java"]),
    ]);
    let layers = earlier_layers(t.path(), "ours").unwrap();
    assert_eq!(layers.len(), 2);
    let err = check_launch_jdk(&layers).unwrap_err();
    assert!(
        matches!(&err, MavenLayerError::NoJdkAtLaunch { jvm } if jvm.ends_with("e2e_jvm/jre")),
        "{err:?}"
    );
    // BP_JVM_TYPE=JDK: the JDK is the launch JVM.
    let t = tree(&[("jdk", true, &["bin/java", "bin/javac"])]);
    assert!(check_launch_jdk(&earlier_layers(t.path(), "ours").unwrap()).is_ok());
}

#[test]
fn maven_is_copied_from_a_cache_only_layer_and_not_when_already_launched() {
    let t = tree(&[
        ("cache", false, &["repository/x.jar"]),
        ("maven", false, &["bin/mvn", "boot/plexus.jar"]),
    ]);
    let layers = earlier_layers(t.path(), "ours").unwrap();
    assert_eq!(
        maven_to_copy(&layers, None).unwrap(),
        Some(t.path().join("e2e_jvm/maven"))
    );
    let t = tree(&[("maven", true, &["bin/mvn", "boot/plexus.jar"])]);
    assert_eq!(
        maven_to_copy(&earlier_layers(t.path(), "ours").unwrap(), None).unwrap(),
        None
    );
    let t = tree(&[("jdk", true, &["bin/javac"])]);
    assert!(matches!(
        maven_to_copy(
            &earlier_layers(t.path(), "ours").unwrap(),
            Some("/nonexistent")
        ),
        Err(MavenLayerError::MavenNotFound)
    ));
}

#[test]
fn the_repository_is_maven_repo_local_else_the_homes_m2_through_its_link() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("layers/cache");
    fs::create_dir_all(cache.join("repository")).unwrap();
    let home = t.path().join("home");
    fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::symlink(&cache, home.join(".m2")).unwrap();
    assert_eq!(
        build_repository(None, Some(&home)),
        Some(cache.join("repository"))
    );
    let other = t.path().join("other");
    fs::create_dir_all(&other).unwrap();
    let opts = format!("-Xmx1g -Dmaven.repo.local={}", other.display());
    assert_eq!(build_repository(Some(&opts), Some(&home)), Some(other));
    assert_eq!(build_repository(None, Some(&t.path().join("nobody"))), None);
}

#[test]
fn copy_tree_follows_links_and_keeps_modes() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let from = t.path().join("from");
    fs::create_dir_all(from.join("bin")).unwrap();
    fs::write(t.path().join("real"), "x").unwrap();
    fs::write(from.join("bin/mvn"), "#!/bin/sh").unwrap();
    fs::set_permissions(from.join("bin/mvn"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(t.path().join("real"), from.join("lib.jar")).unwrap();
    copy_tree(&from, &t.path().join("to")).unwrap();
    let to = t.path().join("to");
    assert_eq!(fs::read_to_string(to.join("lib.jar")).unwrap(), "x");
    assert!(!fs::symlink_metadata(to.join("lib.jar"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::metadata(to.join("bin/mvn"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
}
