//! What `filesync builder` can refuse, as data; [`BuilderError`]'s
//! `Display` renders each as one paragraph: what happened, why, the fix.

use std::fmt;
use std::path::PathBuf;

/// The buildpack id skaffold-filesync is published under.
pub(super) const BUILDPACK_ID: &str = "skaffold-filesync";

#[derive(Debug)]
pub(crate) enum BuilderError {
    /// No `pack` executable in any PATH directory.
    NoPack { path: String },
    /// No `--buildpack`, and no release `.cnb` beside this executable.
    NoBuildpack { looked_at: PathBuf },
    /// FROM's config could not be read from the daemon or the registry.
    Unreadable { image: String, detail: String },
    /// FROM has no builder metadata label.
    NotABuilder { image: String, source: String },
    /// A builder label of FROM is not what pack writes.
    Malformed {
        image: String,
        label: &'static str,
        detail: String,
    },
    /// FROM already carries skaffold-filesync.
    AlreadyHasBuildpack { image: String, version: String },
    /// `--auto`, and FROM's lifecycle offers no Platform API ≤ 0.8.
    NoLegacyPlatform {
        image: String,
        lifecycle: String,
        offered: Vec<String>,
    },
    /// FROM's `/cnb/lifecycle` could not be copied out through the daemon.
    LifecycleCopy { image: String, detail: String },
    /// This filesync was built without the daemon or registry client
    /// (the static binary inside the buildpack is).
    NoClients,
    /// `pack builder create` failed (its own output was shown above).
    PackFailed { status: String, config: PathBuf },
}

impl BuilderError {
    /// (what happened, why, the fix).
    fn parts(&self) -> (String, String, String) {
        use BuilderError::{
            AlreadyHasBuildpack, LifecycleCopy, Malformed, NoBuildpack, NoClients,
            NoLegacyPlatform, NoPack, NotABuilder, PackFailed, Unreadable,
        };
        match self {
            NoPack { path } => (
                "cannot derive a builder: no `pack` on PATH".into(),
                format!(
                    "`filesync builder` has the real `pack builder create` assemble the builder, and none of the PATH directories ({path}) holds an executable named pack"
                ),
                "install the pack CLI (https://buildpacks.io/docs/for-platform-operators/how-to/integrate-ci/pack/; this project's scripts/setup.sh builds v0.40.6 into .work/bin) and put its directory on PATH".into(),
            ),
            NoBuildpack { looked_at } => (
                "no skaffold-filesync buildpack to add".into(),
                format!(
                    "without --buildpack, filesync takes the release's buildpack from beside its own executable, and there is no {}",
                    looked_at.display()
                ),
                format!(
                    "pass --buildpack PATH (a skaffold-filesync-{v}.cnb, made with `scripts/release.sh OUTDIR`) or --buildpack REGISTRY/skaffold-filesync:{v} (`scripts/release.sh OUTDIR --publish REGISTRY/skaffold-filesync`), or copy the .cnb to {}",
                    looked_at.display(),
                    v = env!("CARGO_PKG_VERSION"),
                ),
            ),
            Unreadable { image, detail } => (
                format!("cannot read the builder {image}"),
                format!("its labels were looked up in the local Docker daemon, then in its registry, and neither answered with it: {detail}"),
                "check the name and tag; start the registry it names or pull the image into the Docker daemon that DOCKER_HOST names (`docker pull`); log in if the registry requires it (`docker login`)".into(),
            ),
            NotABuilder { image, source } => (
                format!("{image} is not a builder image"),
                format!("its config (read from {source}) has no io.buildpacks.builder.metadata label, which `pack builder create` gives every builder; an app image, a run image or a buildpack image has none"),
                "give FROM a builder: the image your skaffold.yaml names in build.artifacts[].buildpacks.builder, e.g. paketobuildpacks/builder-jammy-base (`pack builder inspect IMAGE` tells whether an image is one)".into(),
            ),
            Malformed { image, label, detail } => (
                format!("the builder {image} has a malformed {label} label"),
                format!("it is not the JSON `pack builder create` writes: {detail}"),
                "derive from a builder made by pack (`pack builder inspect IMAGE` should read it), or write the builder.toml by hand (docs/user-guide.md, \"By hand: a builder.toml\")".into(),
            ),
            AlreadyHasBuildpack { image, version } => (
                format!("{image} already contains {BUILDPACK_ID} {version}"),
                "a builder made by `filesync builder` (or by hand with the buildpack in its order) needs nothing added; deriving again would list the buildpack twice in every group".into(),
                format!("use it as it is (`builder: {image}` in skaffold.yaml), or derive from the stock builder it was made from to get a newer {BUILDPACK_ID}"),
            ),
            NoLegacyPlatform { image, lifecycle, offered } => (
                format!("--auto: the lifecycle {lifecycle} of {image} offers no Platform API 0.8 or older"),
                format!("Skaffold's auto sync reads rules only from the legacy BOM in the io.buildpacks.build.metadata label, which the lifecycle writes only below Platform API 0.9; this one offers {}", offered.join(", ")),
                "drop --auto and use the generated rules (`filesync skaffold --write` adds them to skaffold.yaml, with every lifecycle), or derive from a builder whose lifecycle still supports Platform API 0.8 (lifecycle v0.21 does)".into(),
            ),
            LifecycleCopy { image, detail } => (
                format!("cannot copy the lifecycle out of {image}"),
                format!("the derived builder keeps FROM's own lifecycle, copied from /cnb/lifecycle of FROM through the Docker daemon (without it pack would download its default lifecycle): {detail}"),
                "point DOCKER_HOST at a running Docker daemon that can pull FROM (pack needs it too)".into(),
            ),
            NoClients => (
                "this filesync cannot derive builders".into(),
                "it was built without the Docker daemon and registry clients (cargo features `daemon` and `registry`), as the static runtime inside the buildpack (and the release's filesync-VERSION-x86_64-linux) is, and `filesync builder` needs both to read FROM's labels and copy its lifecycle".into(),
                "use the CLI built with its default features: `cargo install --path crates/filesync` from a checkout".into(),
            ),
            PackFailed { status, config } => (
                format!("`pack builder create` failed ({status})"),
                format!("pack's output above says why; the builder.toml it was given is {}", config.display()),
                "fix what pack reports (a registry it cannot push to needs `docker login`; an image it cannot pull must be in the daemon or a reachable registry) and run filesync builder again".into(),
            ),
        }
    }
}

impl fmt::Display for BuilderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, why, fix) = self.parts();
        write!(f, "{what}. Why: {why}. Fix: {fix}.")
    }
}

impl std::error::Error for BuilderError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_one_paragraph_with_what_why_and_fix() {
        let errors = [
            BuilderError::NoPack {
                path: "/usr/bin".into(),
            },
            BuilderError::NoBuildpack {
                looked_at: "/opt/x.cnb".into(),
            },
            BuilderError::Unreadable {
                image: "r/b".into(),
                detail: "cannot reach the registry".into(),
            },
            BuilderError::NotABuilder {
                image: "node".into(),
                source: "registry".into(),
            },
            BuilderError::AlreadyHasBuildpack {
                image: "b".into(),
                version: "0.1.0".into(),
            },
            BuilderError::NoLegacyPlatform {
                image: "b".into(),
                lifecycle: "0.30.0".into(),
                offered: vec!["0.12".into()],
            },
        ];
        for e in errors {
            let text = e.to_string();
            assert_eq!(text.lines().count(), 1, "{text}");
            assert!(
                text.contains(". Why: ") && text.contains(". Fix: "),
                "{text}"
            );
        }
    }
}
