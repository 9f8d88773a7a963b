//! Whether each artifact's builder carries skaffold-filesync, read from the
//! builder's own labels the way `filesync builder` reads them (the Docker
//! daemon first, then the registry). Under `skaffold dev` the buildpack
//! must be *in* the builder (Skaffold never sets pack's
//! `TrustExtraBuildpacks`; DESIGN.md §9), so a builder without it gets the
//! exact `filesync builder` command that derives one. A builder that cannot
//! be read is said so, and the command goes on.

use super::artifacts::Artifact;
use crate::commands::builder::carries_filesync;

/// What to tell the user about the builders of `artifacts`, one paragraph
/// each (none for a builder that has the buildpack).
pub(super) fn advice(artifacts: &[Artifact]) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for a in artifacts {
        let Some(builder) = a.builder.as_deref() else {
            continue;
        };
        if seen.contains(&builder) {
            continue;
        }
        seen.push(builder);
        let command = format!(
            "filesync builder {builder} {} --publish",
            suggested_name(builder)
        );
        match crate::commands::inspect::image_config(builder, false)
            .map_err(|e| format!("{e:#}"))
            .and_then(|found| {
                carries_filesync(builder, &found.source, &found.config).map_err(|e| e.to_string())
            }) {
            Ok(true) => {}
            Ok(false) => out.push(format!(
                "filesync: build.artifacts[{}] ({}) builds with {builder}, which lacks skaffold-filesync: under `skaffold dev` the buildpack must be in the builder (an added buildpack makes pack's five-phase flow fail with a non-root build user). Derive a builder that has it, then set `builder:` to the new name:\n  {command}",
                a.index, a.image
            )),
            Err(why) => out.push(format!(
                "filesync: note: could not read the builder {builder} of build.artifacts[{}] to see whether it has skaffold-filesync ({why}); if it lacks it, derive one with:\n  {command}",
                a.index
            )),
        }
    }
    out
}

/// A name for the derived builder: beside the stock one with `-filesync`
/// appended to its repository, on the same registry — except Docker Hub
/// (where the stock builders live and nobody else can push), where it is
/// `localhost:5000/<name>-filesync:<tag>`, a registry to replace with one
/// the user pushes to.
pub(super) fn suggested_name(builder: &str) -> String {
    let (name, tag) = match builder.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (builder, "latest"),
    };
    let name = name.split('@').next().unwrap_or(name);
    let first = name.split('/').next().unwrap_or("");
    let has_host =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let on_hub = !has_host || first == "docker.io" || first == "index.docker.io";
    if on_hub {
        let last = name.rsplit('/').next().unwrap_or(name);
        format!("localhost:5000/{last}-filesync:{tag}")
    } else {
        format!("{name}-filesync:{tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_stay_on_private_registries_and_leave_docker_hub() {
        assert_eq!(
            suggested_name("paketobuildpacks/builder-jammy-base"),
            "localhost:5000/builder-jammy-base-filesync:latest"
        );
        assert_eq!(
            suggested_name("docker.io/paketobuildpacks/builder-jammy-base:0.4.1"),
            "localhost:5000/builder-jammy-base-filesync:0.4.1"
        );
        assert_eq!(
            suggested_name("127.0.0.1:5000/stock-builder:latest"),
            "127.0.0.1:5000/stock-builder-filesync:latest"
        );
        assert_eq!(
            suggested_name("ghcr.io/org/builder"),
            "ghcr.io/org/builder-filesync:latest"
        );
    }

    #[test]
    fn an_artifact_without_a_builder_gets_no_advice() {
        let artifact = Artifact {
            index: 0,
            image: "app".into(),
            context_dir: ".".into(),
            env: None,
            buildpacks: None,
            trust_builder: true,
            builder: None,
            project_descriptor: None,
        };
        assert!(advice(&[artifact]).is_empty());
    }
}
