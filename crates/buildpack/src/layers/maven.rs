//! The `maven` launch layer: what the in-container rebuild of a Maven app
//! (`mvn -o …` or `./mvnw -o …`) needs at launch and Paketo's Java
//! buildpacks leave out of the image.
//!
//! What they leave (paketo-buildpacks/libjvm `jdk.go`, `jre.go`,
//! `build.go`; paketo-buildpacks/maven `maven/distribution.go`;
//! paketo-buildpacks/libbs `cache.go`):
//! - the JDK is in a build-only layer; the image gets a JRE, which cannot
//!   compile, unless `BP_JVM_TYPE=JDK` makes libjvm contribute the JDK as
//!   the launch JVM. Copying a JDK here would double the image's largest
//!   layer, so a dev build without a JDK at launch fails with that fix;
//! - the Maven distribution is in a cache-only layer (run by its path,
//!   never on a PATH), and the Maven repository in another cache-only
//!   layer that the build user's `~/.m2` links to. Neither is in the image.
//!
//! So this layer holds a copy of the distribution (when no launch layer
//! has `bin/mvn`) and of the repository the build filled, read from the
//! earlier buildpacks' layers at build time; the launch env points Maven
//! at it (`MAVEN_OPTS=-Dmaven.repo.local=…`, `MAVEN_USER_HOME` for the
//! wrapper's distributions) and puts the rebuild's output,
//! `target/classes`, first on the `CLASSPATH` (executable-jar runs the
//! exploded JAR's copy in the app dir, which the rebuild does not
//! replace) -- except for a Spring Boot app, whose launcher loads its
//! classes from its own directory, linked to `target/classes` instead
//! (see `spring_boot.rs`). The repository is writable by every user: Maven records
//! resolution state in it, as the run user.

use crate::errors::BuildpackError;
use crate::writable::make_tree_writable;
use crate::FilesyncBuildpack;
use libcnb::build::BuildContext;
use libcnb::data::layer_name;
use libcnb::layer::UncachedLayerDefinition;
use libcnb::layer_env::{LayerEnv, ModificationBehavior, Scope};
use std::path::{Path, PathBuf};

/// What keeps the layer from being made: data only, rendered by `errors`.
#[derive(Debug)]
pub enum MavenLayerError {
    /// The launch JVM (this layer) has `java` and no `javac`.
    NoJdkAtLaunch { jvm: PathBuf },
    /// No Maven distribution in an earlier layer nor on the build's PATH.
    MavenNotFound,
    /// The build's repository is in neither place it is looked for;
    /// `repo_local`: the `-Dmaven.repo.local` of `MAVEN_OPTS`, if any.
    RepositoryNotFound { repo_local: Option<PathBuf> },
    /// A file-system step failed.
    Io {
        step: MavenStep,
        source: std::io::Error,
    },
}

/// The file-system steps of [`install`], for [`MavenLayerError::Io`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MavenStep {
    CopyDistribution,
    CopyRepository,
    CopyWrapperDistributions,
    MakeRepositoryWritable,
    LinkSpringBootClasses,
}

/// An earlier buildpack's layer, as its `<layer>.toml` declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierLayer {
    pub dir: PathBuf,
    pub launch: bool,
}

/// Every layer of the buildpacks before `own_id` in the group (from the
/// lifecycle's `group.toml`), in group order. A layer whose toml cannot be
/// read counts as not launched.
pub fn earlier_layers(layers: &Path, own_id: &str) -> Vec<EarlierLayer> {
    #[derive(serde::Deserialize)]
    struct Group {
        #[serde(default)]
        group: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        id: String,
    }
    let group: Group = std::fs::read_to_string(layers.join("group.toml"))
        .ok()
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or(Group { group: Vec::new() });
    let mut out = Vec::new();
    for entry in group.group.iter().take_while(|e| e.id != own_id) {
        let dir = layers.join(entry.id.replace('/', "_"));
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut found: Vec<EarlierLayer> = read
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .map(|p| EarlierLayer {
                launch: layer_is_launch(&p.with_extension("toml")),
                dir: p,
            })
            .collect();
        found.sort_by(|a, b| a.dir.cmp(&b.dir));
        out.extend(found);
    }
    out
}

/// `launch = true` in a layer's content metadata (`[types]` since
/// Buildpack API 0.6, top level before).
fn layer_is_launch(toml_path: &Path) -> bool {
    let Some(value) = std::fs::read_to_string(toml_path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
    else {
        return false;
    };
    let flag = |t: &toml::Table| t.get("launch").and_then(toml::Value::as_bool);
    value
        .get("types")
        .and_then(toml::Value::as_table)
        .and_then(flag)
        .or_else(|| flag(&value))
        .unwrap_or(false)
}

/// Whether the launch JVM can compile: `Err` with the launch JVM's layer
/// when the image has a `java` at launch and no `javac`. No JVM at all
/// among the layers (a JVM from the run image, say) is not ours to judge.
pub fn check_launch_jdk(layers: &[EarlierLayer]) -> Result<(), MavenLayerError> {
    let launched = || layers.iter().filter(|l| l.launch);
    if launched().any(|l| l.dir.join("bin/javac").is_file()) {
        return Ok(());
    }
    match launched().find(|l| l.dir.join("bin/java").is_file()) {
        Some(jre) => Err(MavenLayerError::NoJdkAtLaunch {
            jvm: jre.dir.clone(),
        }),
        None => {
            println!(
                "[skaffold-filesync] warning: no earlier buildpack puts a JVM in the image; the \
                 in-container rebuild needs a JDK (javac) on the PATH at launch"
            );
            Ok(())
        }
    }
}

/// The Maven distribution to copy: none when a launch layer already has
/// `bin/mvn`; else the first earlier layer holding one (Paketo's
/// cache-only `maven`), else the build's `mvn` on `path`.
pub fn maven_to_copy(
    layers: &[EarlierLayer],
    path: Option<&str>,
) -> Result<Option<PathBuf>, MavenLayerError> {
    let is_dist = |d: &Path| d.join("bin/mvn").is_file() && d.join("boot").is_dir();
    if layers.iter().any(|l| l.launch && is_dist(&l.dir)) {
        return Ok(None);
    }
    if let Some(l) = layers.iter().find(|l| is_dist(&l.dir)) {
        return Ok(Some(l.dir.clone()));
    }
    let on_path = path
        .into_iter()
        .flat_map(std::env::split_paths)
        .find_map(|d| {
            let home = std::fs::canonicalize(d.join("mvn"))
                .ok()?
                .parent()?
                .parent()?
                .to_path_buf();
            is_dist(&home).then_some(home)
        });
    on_path.map(Some).ok_or(MavenLayerError::MavenNotFound)
}

/// The Maven repository the build used: `-Dmaven.repo.local` in
/// `MAVEN_OPTS`, else `~/.m2/repository` (libbs links `~/.m2` to its
/// cache layer), symlinks resolved.
pub fn build_repository(maven_opts: Option<&str>, home: Option<&Path>) -> Option<PathBuf> {
    let path = repo_local(maven_opts).or_else(|| home.map(|h| h.join(".m2/repository")))?;
    std::fs::canonicalize(path).ok().filter(|p| p.is_dir())
}

/// The `-Dmaven.repo.local` of `MAVEN_OPTS`.
fn repo_local(maven_opts: Option<&str>) -> Option<PathBuf> {
    maven_opts
        .into_iter()
        .flat_map(str::split_whitespace)
        .find_map(|o| o.strip_prefix("-Dmaven.repo.local="))
        .map(PathBuf::from)
}

/// Installs the layer for a Maven rebuild of the app in `app_dir`;
/// `wrapper`: the rebuild runs `./mvnw` (which brings its own Maven, from
/// `~/.m2/wrapper`).
pub fn install(
    context: &BuildContext<FilesyncBuildpack>,
    wrapper: bool,
) -> libcnb::Result<(), BuildpackError> {
    let root = context.layers_dir.parent().unwrap_or(&context.layers_dir);
    let earlier = earlier_layers(root, &context.buildpack_descriptor.buildpack.id);
    check_launch_jdk(&earlier)?;
    let dist = if wrapper {
        None
    } else {
        maven_to_copy(&earlier, std::env::var("PATH").ok().as_deref())?
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let maven_opts = std::env::var("MAVEN_OPTS").ok();
    let repository = build_repository(maven_opts.as_deref(), home.as_deref()).ok_or_else(|| {
        MavenLayerError::RepositoryNotFound {
            repo_local: repo_local(maven_opts.as_deref()),
        }
    })?;

    let layer = context.uncached_layer(
        layer_name!("maven"),
        UncachedLayerDefinition {
            build: false,
            launch: true,
        },
    )?;
    let io = |step: MavenStep| move |source| MavenLayerError::Io { step, source };
    let mut env = LayerEnv::new();
    if let Some(dist) = &dist {
        let to = layer.path().join("dist");
        copy_tree(dist, &to).map_err(io(MavenStep::CopyDistribution))?;
        env = env
            .chainable_insert(
                Scope::Launch,
                ModificationBehavior::Prepend,
                "PATH",
                to.join("bin"),
            )
            .chainable_insert(Scope::Launch, ModificationBehavior::Delimiter, "PATH", ":");
        println!(
            "[skaffold-filesync] Maven for the in-container rebuild: copied from {}",
            dist.display()
        );
    }
    let m2 = layer.path().join("m2");
    copy_tree(&repository, &m2.join("repository")).map_err(io(MavenStep::CopyRepository))?;
    if wrapper {
        if let Some(dists) = home.map(|h| h.join(".m2/wrapper")).filter(|d| d.is_dir()) {
            copy_tree(&dists, &m2.join("wrapper"))
                .map_err(io(MavenStep::CopyWrapperDistributions))?;
        }
    }
    make_tree_writable(&m2).map_err(io(MavenStep::MakeRepositoryWritable))?;
    println!(
        "[skaffold-filesync] Maven repository for the offline rebuild: copied from {}",
        repository.display()
    );
    env = env
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Append,
            "MAVEN_OPTS",
            format!("-Dmaven.repo.local={}", m2.join("repository").display()),
        )
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Delimiter,
            "MAVEN_OPTS",
            " ",
        )
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Default,
            "MAVEN_USER_HOME",
            &m2,
        );
    let linked = crate::spring_boot::link_classes_to_rebuild_output(&context.app_dir)
        .map_err(io(MavenStep::LinkSpringBootClasses))?;
    if let Some(classes) = linked {
        println!(
            "[skaffold-filesync] Spring Boot app: {} links to {} (the rebuild's output)",
            classes.display(),
            crate::spring_boot::REBUILD_CLASSES
        );
    } else {
        env = env
            .chainable_insert(
                Scope::Launch,
                ModificationBehavior::Prepend,
                "CLASSPATH",
                context.app_dir.join(crate::spring_boot::REBUILD_CLASSES),
            )
            .chainable_insert(
                Scope::Launch,
                ModificationBehavior::Delimiter,
                "CLASSPATH",
                ":",
            );
    }
    layer.write_env(env)?;
    Ok(())
}

/// Copies the tree `from` to `to` (created), following symlinks, keeping
/// permission bits.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if std::fs::metadata(&src)?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let layers = earlier_layers(t.path(), "ours");
        assert_eq!(layers.len(), 2);
        let err = check_launch_jdk(&layers).unwrap_err();
        assert!(
            matches!(&err, MavenLayerError::NoJdkAtLaunch { jvm } if jvm.ends_with("e2e_jvm/jre")),
            "{err:?}"
        );
        // BP_JVM_TYPE=JDK: the JDK is the launch JVM.
        let t = tree(&[("jdk", true, &["bin/java", "bin/javac"])]);
        assert!(check_launch_jdk(&earlier_layers(t.path(), "ours")).is_ok());
    }

    #[test]
    fn maven_is_copied_from_a_cache_only_layer_and_not_when_already_launched() {
        let t = tree(&[
            ("cache", false, &["repository/x.jar"]),
            ("maven", false, &["bin/mvn", "boot/plexus.jar"]),
        ]);
        let layers = earlier_layers(t.path(), "ours");
        assert_eq!(
            maven_to_copy(&layers, None).unwrap(),
            Some(t.path().join("e2e_jvm/maven"))
        );
        let t = tree(&[("maven", true, &["bin/mvn", "boot/plexus.jar"])]);
        assert_eq!(
            maven_to_copy(&earlier_layers(t.path(), "ours"), None).unwrap(),
            None
        );
        let t = tree(&[("jdk", true, &["bin/javac"])]);
        assert!(matches!(
            maven_to_copy(&earlier_layers(t.path(), "ours"), Some("/nonexistent")),
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
}
