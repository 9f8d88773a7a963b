//! The texts of the errors about what a dev image needs from the app and
//! from the earlier buildpacks: the app's sources (`SourcesError`) and, for
//! a Java rebuild, a JDK and Maven (`MavenLayerError`).

use super::{BUILD_ENV, GENERATED_PROFILE};
use crate::errors::Message;
use crate::layers::maven::{MavenLayerError, MavenStep};
use crate::paketo::{jvm, source_removal};
use crate::sources::SourcesError;
use filesync_contract::variables as overrides;
use filesync_rules::Family;

/// Which of Paketo's buildpacks delete the app's sources, and what keeps them.
fn paketo_removes_sources() -> String {
    use source_removal::{GO_BUILD, INCLUDE_FILES, KEEP_FILES, LIBBS};
    format!(
        "Paketo's {GO_BUILD} deletes the app's sources after building unless {KEEP_FILES} keeps \
         them, and the JVM build buildpacks ({LIBBS}) replace them with the built artifact \
         unless {INCLUDE_FILES} keeps them."
    )
}

/// The settings that keep every source file, each with who honours it:
/// `{KEEP_FILES}=*{by}{GO_BUILD}{and}{INCLUDE_FILES}=*{by}{LIBBS}{end}`.
fn keep_all(by: &str, and: &str, end: &str) -> String {
    use source_removal::{GO_BUILD, INCLUDE_FILES, KEEP_FILES, LIBBS};
    format!("{KEEP_FILES}=*{by}{GO_BUILD}{and}{INCLUDE_FILES}=*{by}{LIBBS}{end}")
}

pub(super) fn sources(e: &SourcesError) -> Message {
    match e {
        SourcesError::Removed { family } => {
            let name = display(*family);
            let keep = filesync_contract::paketo::keep_sources_env(*family)
                .map_or_else(|| keep_all(" (", ") or ", ")"), str::to_string);
            Message::new(
                format!("The {name} app's sources are gone"),
                "An earlier buildpack removed the app's sources from the app directory after building.",
                format!(
                    "{} skaffold-filesync rebuilds a {name} app in the container from the \
                     synced sources, so its dev image needs them all.",
                    paketo_removes_sources()
                ),
            )
            .fix(format!("Set {keep} in the dev build's environment ({GENERATED_PROFILE})."))
            .fix(BUILD_ENV)
        }
        SourcesError::NoFiles => Message::new(
            "The app directory holds no file",
            "The app directory holds no file at build time, so the app's language family \
             and its sync rules cannot be told.",
            format!(
                "Either the app is empty, or an earlier buildpack removed its sources: {}",
                paketo_removes_sources()
            ),
        )
        .fix("Build from the directory that holds the app's sources.")
        .fix(format!(
            "If a buildpack removed them, keep them in dev builds: {} (the profile `filesync \
             skaffold --write` generates sets them).",
            keep_all(" for ", ", ", "")
        ))
        .fix(format!("Or set {} to the app's family.", overrides::FAMILY)),
        SourcesError::NoFamily { app_dir } => {
            let families: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
            Message::new(
                "No language family detected",
                format!(
                    "No file at the top of {} tells the app's language.",
                    app_dir.display()
                ),
                "skaffold-filesync chooses the sync rules and how the app reloads by its \
                 language family, which it recognizes by these files at the top of the app: \
                 go.mod or *.go, pom.xml, build.gradle, mvnw or gradlew, *.csproj, \
                 composer.json or *.php, Gemfile or config.ru, requirements.txt, Pipfile, \
                 pyproject.toml, setup.py or *.py, package.json, index.html or *.html.",
            )
            .fix("Build from the app's root directory, the one that holds its manifest.")
            .fix(format!(
                "Or set {} to one of {} in the build environment.",
                overrides::FAMILY,
                families.join(", ")
            ))
        }
    }
}

/// A family's name in a sentence.
fn display(family: Family) -> &'static str {
    match family {
        Family::Node => "Node.js",
        Family::Python => "Python",
        Family::Ruby => "Ruby",
        Family::Php => "PHP",
        Family::Go => "Go",
        Family::Java => "Java",
        Family::Dotnet => ".NET",
        Family::Static => "static",
    }
}

pub(super) fn maven(e: &MavenLayerError) -> Message {
    match e {
        MavenLayerError::NoJdkAtLaunch { jvm: layer } => Message::new(
            "No JDK in the image for the in-container rebuild",
            format!("The image's JVM at launch ({}) is a JRE, without javac.", layer.display()),
            format!(
                "The in-container rebuild of the Java app compiles it, which needs a JDK at \
                 launch. Paketo's JVM buildpacks (libjvm) keep the JDK in a build-only layer \
                 and put a JRE in the image unless {}.",
                jvm::JDK_AT_LAUNCH
            ),
        )
        .fix(format!(
            "Set {} in the dev build's environment ({GENERATED_PROFILE}).",
            jvm::JDK_AT_LAUNCH
        ))
        .fix(BUILD_ENV),
        MavenLayerError::MavenNotFound => Message::new(
            "No Maven for the in-container rebuild",
            "The in-container rebuild runs `mvn`, but no earlier buildpack's layer holds a \
             Maven distribution (bin/mvn and boot/) and no `mvn` is on the build's PATH.",
            "The dev image rebuilds the app with Maven after a sync, so it must carry Maven, \
             which the buildpack copies from the build.",
        )
        .fix("Build with Paketo's maven buildpack: it keeps Maven in a cache layer, which the buildpack copies.")
        .fix("Or add the Maven wrapper (mvnw and .mvn/wrapper) to the app."),
        MavenLayerError::RepositoryNotFound { repo_local } => {
            let elsewhere = repo_local.as_ref().map_or(String::new(), |p| {
                format!(", nor at {} (the -Dmaven.repo.local of MAVEN_OPTS)", p.display())
            });
            Message::new(
                "No Maven repository for the offline rebuild",
                format!(
                    "The Maven repository the build filled is not at ~/.m2/repository \
                     (where Paketo's libbs links its cache layer){elsewhere}."
                ),
                "The in-container rebuild runs Maven offline (`mvn -o`), so the image needs \
                 the plugins and dependencies the build downloaded.",
            )
            .fix("Build the app with Maven in an earlier buildpack (Paketo's maven buildpack does).")
            .fix("If your build keeps the repository elsewhere, give it as -Dmaven.repo.local=DIR in MAVEN_OPTS.")
        }
        MavenLayerError::Io { step, source } => {
            let step = match step {
                MavenStep::CopyDistribution => "Copying the Maven distribution into the image",
                MavenStep::CopyRepository => "Copying the Maven repository into the image",
                MavenStep::CopyWrapperDistributions => "Copying the Maven wrapper's distributions into the image",
                MavenStep::MakeRepositoryWritable => "Making the Maven repository in the image writable",
                MavenStep::LinkSpringBootClasses => {
                    "Linking Spring Boot's classes to the rebuild's output (BOOT-INF/classes to target/classes)"
                }
            };
            Message::new(
                "Cannot make the Maven layer",
                format!("{step} failed."),
                "The in-container rebuild needs Maven and the build's repository at launch, \
                 which the buildpack copies into a layer of its own.",
            )
            .fix("Check the build's disk space and the permissions of the file named below, then build again.")
            .details(source)
        }
    }
}
