//! The `maven` launch layer: what the in-container rebuild of a Maven app
//! (`mvn -o …` or `./mvnw -o …`) needs at launch and Paketo's Java
//! buildpacks leave out of the image.
//!
//! What they leave (the facts, with their upstream files, are in
//! `paketo::jvm` and `paketo::maven`):
//! - the image gets a JRE, which cannot compile, unless `BP_JVM_TYPE=JDK`.
//!   Copying a JDK here would double the image's largest layer, so a dev
//!   build without a JDK at launch fails with that fix;
//! - the Maven distribution and the Maven repository are in cache-only
//!   layers, neither in the image.
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
use crate::lifecycle_files::{self, EarlierLayer};
use crate::paketo::{self, jvm};
use crate::writable::make_tree_writable;
use crate::FilesyncBuildpack;
use filesync_rules::{Family, Plan, ReloadAction};
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

/// Whether the launch JVM can compile: `Err` with the launch JVM's layer
/// when the image has a `java` at launch and no `javac`. No JVM at all
/// among the layers (a JVM from the run image, say) is not ours to judge.
pub(crate) fn check_launch_jdk(layers: &[EarlierLayer]) -> Result<(), MavenLayerError> {
    let launched = || layers.iter().filter(|l| l.launch);
    if launched().any(|l| l.dir.join(jvm::JAVAC).is_file()) {
        return Ok(());
    }
    if let Some(jre) = launched().find(|l| l.dir.join(jvm::JAVA).is_file()) {
        Err(MavenLayerError::NoJdkAtLaunch {
            jvm: jre.dir.clone(),
        })
    } else {
        println!(
            "[skaffold-filesync] warning: no earlier buildpack puts a JVM in the image; the \
             in-container rebuild needs a JDK (javac) on the PATH at launch"
        );
        Ok(())
    }
}

/// The Maven distribution to copy: none when a launch layer already has
/// `bin/mvn`; else the first earlier layer holding one (Paketo's
/// cache-only `maven`), else the build's `mvn` on `path`.
pub(crate) fn maven_to_copy(
    layers: &[EarlierLayer],
    path: Option<&str>,
) -> Result<Option<PathBuf>, MavenLayerError> {
    let is_dist = paketo::is_maven_distribution;
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
pub(crate) fn build_repository(maven_opts: Option<&str>, home: Option<&Path>) -> Option<PathBuf> {
    let path =
        repo_local(maven_opts).or_else(|| home.map(|h| h.join(paketo::maven::M2_REPOSITORY)))?;
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

/// For a Java app rebuilt with Maven in the container: whether it runs
/// the wrapper (`./mvnw`) rather than `mvn`; `None` for every other plan.
pub(crate) fn rebuild_wrapper(plan: &Plan) -> Option<bool> {
    match (&plan.family, &plan.action) {
        (Family::Java, ReloadAction::Rebuild { command }) => {
            match command.first().map(String::as_str) {
                Some("mvn") => Some(false),
                Some("./mvnw") => Some(true),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Installs the layer for a Maven rebuild of the app in `app_dir`;
/// `wrapper`: the rebuild runs `./mvnw` (which brings its own Maven, from
/// `~/.m2/wrapper`).
pub(crate) fn install(
    context: &BuildContext<FilesyncBuildpack>,
    wrapper: bool,
) -> libcnb::Result<(), BuildpackError> {
    let root = lifecycle_files::layers_root(&context.layers_dir);
    let earlier =
        lifecycle_files::earlier_layers(root, &context.buildpack_descriptor.buildpack.id)?;
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
    let mut env = LayerEnv::new();
    if let Some(dist) = &dist {
        env = copy_distribution(dist, &layer.path().join("dist"), env)?;
    }
    let wrapper_dists = home
        .filter(|_| wrapper)
        .map(|h| h.join(paketo::maven::M2_WRAPPER))
        .filter(|d| d.is_dir());
    let m2 = layer.path().join("m2");
    env = copy_repository(&repository, wrapper_dists.as_deref(), &m2, env)?;
    env = load_rebuilt_classes(&context.app_dir, env)?;
    layer.write_env(env)?;
    Ok(())
}

fn io(step: MavenStep) -> impl Fn(std::io::Error) -> MavenLayerError {
    move |source| MavenLayerError::Io { step, source }
}

/// Copies the Maven distribution `dist` to `to`, first on the launch PATH.
fn copy_distribution(dist: &Path, to: &Path, env: LayerEnv) -> Result<LayerEnv, MavenLayerError> {
    copy_tree(dist, to).map_err(io(MavenStep::CopyDistribution))?;
    println!(
        "[skaffold-filesync] Maven for the in-container rebuild: copied from {}",
        dist.display()
    );
    Ok(env
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Prepend,
            "PATH",
            to.join("bin"),
        )
        .chainable_insert(Scope::Launch, ModificationBehavior::Delimiter, "PATH", ":"))
}

/// Copies the build's repository (and the wrapper's distributions) to
/// `m2`, writable by every user, and points the launch env's Maven at it.
fn copy_repository(
    repository: &Path,
    wrapper_dists: Option<&Path>,
    m2: &Path,
    env: LayerEnv,
) -> Result<LayerEnv, MavenLayerError> {
    copy_tree(repository, &m2.join("repository")).map_err(io(MavenStep::CopyRepository))?;
    if let Some(dists) = wrapper_dists {
        copy_tree(dists, &m2.join("wrapper")).map_err(io(MavenStep::CopyWrapperDistributions))?;
    }
    make_tree_writable(m2).map_err(io(MavenStep::MakeRepositoryWritable))?;
    println!(
        "[skaffold-filesync] Maven repository for the offline rebuild: copied from {}",
        repository.display()
    );
    Ok(env
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
            m2,
        ))
}

/// Makes the app load the rebuild's classes: a Spring Boot app through
/// its classes link, any other first on the launch `CLASSPATH`.
fn load_rebuilt_classes(app_dir: &Path, env: LayerEnv) -> Result<LayerEnv, MavenLayerError> {
    let linked = crate::spring_boot::link_classes_to_rebuild_output(app_dir)
        .map_err(io(MavenStep::LinkSpringBootClasses))?;
    if let Some(classes) = linked {
        println!(
            "[skaffold-filesync] Spring Boot app: {} links to {} (the rebuild's output)",
            classes.display(),
            crate::spring_boot::REBUILD_CLASSES
        );
        return Ok(env);
    }
    Ok(env
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Prepend,
            "CLASSPATH",
            app_dir.join(crate::spring_boot::REBUILD_CLASSES),
        )
        .chainable_insert(
            Scope::Launch,
            ModificationBehavior::Delimiter,
            "CLASSPATH",
            ":",
        ))
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
mod tests;
