//! `filesync builder` on a builder made the way Paketo makes theirs
//! (`filesync_e2e::stock_builder`: composite buildpacks packaged as images
//! with `pack buildpack package`, listed by reference, one per order group,
//! Paketo-shaped stack, no skaffold-filesync): the derived builder keeps
//! the stock builder's order, build user and lifecycle, and the real
//! `skaffold dev` (v2.24.0) builds examples/node with it, syncs an edit
//! (Skaffold's `Syncing 1 files`, no `Building [`) and the app serves it —
//! with the docker deployer and the kubectl deployer (generated rules,
//! `filesync skaffold --write`), and with `--auto` from a skaffold.yaml
//! with no sync block and no profile. Each refusal of `filesync builder`
//! is asserted by its message.
//!
//! `measure_the_system_buildpack_route` (ignored; run with `--ignored`)
//! measures the other route, skaffold-filesync as a system buildpack; the
//! figures and the choice are in `crates/filesync/src/commands/builder.rs`.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

mod common;

mod filesync_builder {
    use filesync_e2e::builder::Builders;
    use filesync_e2e::cluster::Cluster;
    use filesync_e2e::docker::Docker;
    use filesync_e2e::release::Release;
    use filesync_e2e::skaffold_dev::{Deployer, Mode};
    use filesync_e2e::stock_builder::stock_builder;
    use filesync_e2e::tools::filesync_bin;
    use std::process::Command;
    use std::time::Instant;

    mod derived;
    mod dev_node;
    mod invoke;

    use derived::{config_of, derived, label};
    use dev_node::dev_node;
    use invoke::{cnb, filesync_builder, refusal, text};

    #[test]
    fn derived_builder_under_skaffold_dev_docker_deployer_generated_rules() {
        dev_node(
            derived(false),
            Mode::Generated,
            Deployer::Docker,
            "derived (docker, generated)",
        );
    }

    #[test]
    fn derived_with_auto_syncs_a_skaffold_yaml_without_sync_block_or_profile() {
        dev_node(
            derived(true),
            Mode::Auto,
            Deployer::Docker,
            "derived --auto (docker, auto)",
        );
    }

    /// The other route `filesync builder` could take, measured (run with
    /// `--ignored`; not part of the suite): the stock builder as the base
    /// with its order unchanged and skaffold-filesync as a *system*
    /// buildpack (`[system.post] buildpacks`, pack >= 0.38 writes
    /// `/cnb/system.toml`), which lifecycle 0.21 appends to every group at
    /// Platform API >= 0.15 only. The real `skaffold dev` with the
    /// generated rules: built, synced and served, or not.
    #[test]
    #[ignore = "a measurement of the stock route, run by hand"]
    fn measure_the_system_buildpack_route() {
        let stock = stock_builder();
        let registry = Builders::get().registry();
        let name = format!("{registry}/stock-builder-system:latest");
        let order = label(&config_of(stock), "io.buildpacks.buildpack.order");
        let mut toml = format!("[[buildpacks]]\nuri = {:?}\n\n", cnb());
        for g in order.as_array().unwrap() {
            toml += "[[order]]\n";
            for e in g["group"].as_array().unwrap() {
                toml += &format!(
                    "[[order.group]]\nid = {}\nversion = {}\noptional = {}\n",
                    e["id"],
                    e["version"],
                    e["optional"].as_bool().unwrap_or(false)
                );
            }
        }
        toml += &format!(
            "\n[system.post]\nbuildpacks = [{{ id = \"skaffold-filesync\", version = \"{v}\", optional = true }}]\n\n\
             [build]\nimage = \"{stock}\"\n\n[[run.images]]\nimage = \"{registry}/stack/run-base:latest\"\n\n\
             [lifecycle]\nuri = {lc:?}\n",
            v = Release::get().version(),
            lc = filesync_e2e::builder::lifecycle_dist(filesync_e2e::builder::Platform::Current)
                .unwrap()
                .display()
                .to_string(),
        );
        filesync_e2e::stock_builder::create_builder(&name, &toml)
            .unwrap_or_else(|e| panic!("{e:#}"));
        dev_node(
            &name,
            Mode::Generated,
            Deployer::Docker,
            "system buildpack route (docker, generated)",
        );
    }

    /// Stops the cluster when the test ends, however it ends.
    struct StopOnDrop;

    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            if let Err(e) = Cluster::stop() {
                eprintln!("scripts/cluster.sh stop: {e:#}");
            }
        }
    }

    #[test]
    fn derived_builder_under_skaffold_dev_kubectl_deployer_generated_rules() {
        // What is not the cluster's first: the builder (pushed), then the
        // cluster, stopped at the end.
        let builder = derived(false);
        if Cluster::running() {
            Cluster::stop().expect("stopping the cluster an earlier test process left running");
        }
        let _stop = StopOnDrop;
        let t = Instant::now();
        Cluster::get();
        eprintln!("cluster: schedulable after {:.1?}", t.elapsed());
        dev_node(
            builder,
            Mode::Generated,
            Deployer::Kubectl,
            "derived (kubectl, generated)",
        );
    }

    /// `filesync skaffold` on examples/node whose artifact names `builder`:
    /// its stderr.
    fn filesync_skaffold_with(builder: &str) -> String {
        let ctx = tempfile::tempdir().unwrap();
        let example = filesync_e2e::tools::repo_root().join("examples/node");
        filesync_e2e::tools::run(
            Command::new("cp")
                .arg("-a")
                .arg(example.join("."))
                .arg(ctx.path()),
        )
        .unwrap();
        let yaml = ctx.path().join("skaffold.yaml");
        // A text edit: the generated block's markers stay as they are.
        let original = std::fs::read_to_string(&yaml).unwrap();
        let stock = "builder: paketobuildpacks/builder-jammy-base\n";
        assert!(original.contains(stock), "{original}");
        std::fs::write(
            &yaml,
            original.replace(stock, &format!("builder: {builder}\n")),
        )
        .unwrap();
        let out = Command::new(filesync_bin())
            .arg("skaffold")
            .arg(ctx.path())
            .env("DOCKER_HOST", &Docker::get().host)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}{stderr}");
        stderr
    }

    #[test]
    fn filesync_skaffold_prints_the_filesync_builder_command_for_a_builder_without_the_buildpack() {
        let stock = stock_builder();
        let said = filesync_skaffold_with(stock);
        let command = format!(
            "filesync builder {stock} {}/stock-builder-filesync:latest --publish",
            Builders::get().registry()
        );
        assert!(
            said.contains("which lacks skaffold-filesync")
                && said.lines().any(|l| l.trim() == command),
            "the exact command {command:?}: {said}"
        );
        let dev = derived(false);
        let said = filesync_skaffold_with(dev);
        assert!(!said.contains("filesync builder"), "{dev} has it: {said}");
    }

    /// `--auto` needs Platform API <= 0.8: a builder (made by pack from
    /// the stock builder's procfile image) whose lifecycle descriptor
    /// offers only newer ones is refused, naming what it offers.
    #[test]
    fn auto_with_a_lifecycle_without_platform_0_8_is_refused() {
        stock_builder(); // publishes e2e/procfile's image
        let registry = Builders::get().registry();
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("lifecycle-dist");
        let current =
            filesync_e2e::builder::lifecycle_dist(filesync_e2e::builder::Platform::Current)
                .unwrap();
        filesync_e2e::tools::run(Command::new("cp").arg("-a").arg(&current).arg(&dist)).unwrap();
        let descriptor = std::fs::read_to_string(dist.join("lifecycle.toml")).unwrap();
        // The platform list (the buildpack list ends at 0.12).
        let newer = descriptor.replace(
            "\"0.7\", \"0.8\", \"0.9\", \"0.10\", \"0.11\", \"0.12\", \"0.13\"",
            "\"0.9\", \"0.10\", \"0.11\", \"0.12\", \"0.13\"",
        );
        assert_ne!(newer, descriptor, "{descriptor}");
        std::fs::write(dist.join("lifecycle.toml"), newer).unwrap();
        let name = format!("{registry}/builder-without-platform-0-8:latest");
        let toml = format!(
            "[[buildpacks]]\nuri = \"{registry}/e2e/procfile:0.1.0\"\n\n\
             [[order]]\n[[order.group]]\nid = \"e2e/procfile\"\n\n\
             [build]\nimage = \"{registry}/stack/build:latest\"\n\n\
             [[run.images]]\nimage = \"{registry}/stack/run-base:latest\"\n\n\
             [lifecycle]\nuri = {:?}\n",
            dist.display().to_string()
        );
        filesync_e2e::stock_builder::create_builder(&name, &toml)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let e = refusal(&filesync_builder(
            &[&name, "x/y:latest", "--auto", "--buildpack", &cnb()],
            None,
        ));
        assert!(
            e.contains(&format!(
                "--auto: the lifecycle 0.21.17 of {name} offers no Platform API 0.8 or older"
            )) && e.contains("0.9, 0.10")
                && e.contains("drop --auto"),
            "{e}"
        );
    }

    #[test]
    fn a_non_builder_image_is_refused() {
        let run_image = format!("{}/stack/run-base:latest", Builders::get().registry());
        let e = refusal(&filesync_builder(
            &[&run_image, "x/y:latest", "--buildpack", &cnb()],
            None,
        ));
        assert!(
            e.contains(&format!("{run_image} is not a builder image"))
                && e.contains("io.buildpacks.builder.metadata"),
            "{e}"
        );
    }

    #[test]
    fn a_builder_that_already_has_skaffold_filesync_is_refused() {
        let dev = derived(false);
        let e = refusal(&filesync_builder(
            &[dev, "x/y:latest", "--buildpack", &cnb()],
            None,
        ));
        assert!(
            e.contains(&format!("{dev} already contains skaffold-filesync"))
                && e.contains(&format!("builder: {dev}")),
            "{e}"
        );
    }

    #[test]
    fn an_unreachable_registry_is_named() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let from = format!("127.0.0.1:{port}/stock:latest");
        let e = refusal(&filesync_builder(
            &[&from, "x/y:latest", "--buildpack", &cnb()],
            None,
        ));
        assert!(
            e.contains(&format!("cannot read the builder {from}"))
                && e.contains("cannot reach the registry")
                && e.contains(&format!("127.0.0.1:{port}"))
                && e.contains("has no such image"),
            "{e}"
        );
    }

    #[test]
    fn no_pack_on_path_is_refused_before_anything_else() {
        let empty = tempfile::tempdir().unwrap();
        let path = empty.path().display().to_string();
        let e = refusal(&filesync_builder(
            &["any/builder:1", "x/y:latest", "--buildpack", "x.cnb"],
            Some(&path),
        ));
        assert!(
            e.contains("no `pack` on PATH")
                && e.contains(&path)
                && e.contains("install the pack CLI"),
            "{e}"
        );
    }
}
