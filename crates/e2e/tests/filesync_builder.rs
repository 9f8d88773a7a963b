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

mod common;

mod filesync_builder {
    use super::common::{save_synced_served, FIRST_BUILD, NODE};
    use filesync_e2e::builder::Builders;
    use filesync_e2e::cluster::Cluster;
    use filesync_e2e::docker::Docker;
    use filesync_e2e::release::Release;
    use filesync_e2e::skaffold_dev::{Deployer, Mode, Project, SkaffoldDev};
    use filesync_e2e::stock_builder::{stock_builder, NODEJS};
    use filesync_e2e::tools::{filesync_bin, tool, work_dir};
    use serde_json::Value;
    use std::ffi::OsString;
    use std::process::{Command, Output};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// `filesync builder ARGS…` with the harness's pack (`.work/bin`) first
    /// on PATH, or with `path` as the whole PATH.
    fn filesync_builder(args: &[&str], path: Option<&str>) -> Output {
        let home = tempfile::tempdir().unwrap();
        let path: OsString = match path {
            Some(p) => p.into(),
            None => {
                let mut dirs = vec![work_dir().join("bin")];
                dirs.extend(std::env::split_paths(
                    &std::env::var_os("PATH").unwrap_or_default(),
                ));
                std::env::join_paths(dirs).unwrap()
            }
        };
        Command::new(filesync_bin())
            .arg("builder")
            .args(args)
            .env("PATH", path)
            .env("HOME", home.path())
            .env("DOCKER_HOST", &Docker::get().host)
            .output()
            .unwrap()
    }

    fn text(out: &Output) -> (String, String) {
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The refusal's text: exit status 2, one paragraph on stderr.
    fn refusal(out: &Output) -> String {
        let (stdout, stderr) = text(out);
        assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
        let error = stderr
            .lines()
            .find(|l| l.starts_with("filesync: error: "))
            .unwrap_or_else(|| panic!("no error line: {stderr}"))
            .to_string();
        assert!(
            error.contains(". Why: ") && error.contains(". Fix: "),
            "what, why and fix in one paragraph: {error}"
        );
        error
    }

    fn cnb() -> String {
        Release::get().cnb().display().to_string()
    }

    /// The builder derived from the stock builder (`--auto` or not), made
    /// once per test process and checked against the stock one.
    fn derived(auto: bool) -> &'static str {
        static PLAIN: OnceLock<String> = OnceLock::new();
        static AUTO: OnceLock<String> = OnceLock::new();
        let cell = if auto { &AUTO } else { &PLAIN };
        cell.get_or_init(|| {
            let stock = stock_builder();
            let name = format!(
                "{}/stock-builder-dev{}:latest",
                Builders::get().registry(),
                if auto { "-auto" } else { "" }
            );
            let cnb = cnb();
            let mut args = vec![stock, name.as_str(), "--publish", "--buildpack", &cnb];
            if auto {
                args.push("--auto");
            }
            let t = Instant::now();
            let out = filesync_builder(&args, None);
            let (stdout, stderr) = text(&out);
            assert!(
                out.status.success(),
                "filesync builder failed:\n{stdout}\n{stderr}"
            );
            eprintln!(
                "filesync builder{}: {:.1?}\n{stdout}",
                if auto { " --auto" } else { "" },
                t.elapsed()
            );
            assert_eq!(
                stdout.lines().last(),
                Some(format!("builder: {name}").as_str()),
                "ends with the line for skaffold.yaml"
            );
            let auto_line = stdout
                .lines()
                .find(|l| l.contains("Skaffold's auto sync:"))
                .unwrap_or_default();
            assert_eq!(auto_line.contains(": yes"), auto, "{stdout}");
            assert!(stdout.contains("generated rules: yes"), "{stdout}");
            if auto {
                assert!(stdout.contains("--auto costs"), "{stdout}");
            }
            check_derived(stock, &name, auto);
            name
        })
    }

    fn config_of(reference: &str) -> Value {
        let out = Command::new(tool("skopeo"))
            .args(["inspect", "--config", "--tls-verify=false"])
            .arg(format!("docker://{reference}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "skopeo inspect {reference}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn label(config: &Value, name: &str) -> Value {
        serde_json::from_str(config["config"]["Labels"][name].as_str().unwrap()).unwrap()
    }

    /// The derived builder has the stock builder's groups, each with
    /// skaffold-filesync last and optional, its build user (1001), its
    /// lifecycle, and with `--auto` only Platform APIs <= 0.8.
    fn check_derived(stock: &str, derived: &str, auto: bool) {
        let (s, d) = (config_of(stock), config_of(derived));
        let (s_order, d_order) = (
            label(&s, "io.buildpacks.buildpack.order"),
            label(&d, "io.buildpacks.buildpack.order"),
        );
        let s_groups = s_order.as_array().unwrap();
        let d_groups = d_order.as_array().unwrap();
        assert_eq!(s_groups.len(), d_groups.len(), "{d_order}");
        assert_eq!(s_groups[0]["group"][0]["id"], NODEJS);
        for (sg, dg) in s_groups.iter().zip(d_groups) {
            let (sg, dg) = (
                sg["group"].as_array().unwrap(),
                dg["group"].as_array().unwrap(),
            );
            assert_eq!(&dg[..sg.len()], &sg[..], "the stock group kept: {d_order}");
            assert_eq!(dg.len(), sg.len() + 1);
            assert_eq!(dg[sg.len()]["id"], "skaffold-filesync");
            assert_eq!(dg[sg.len()]["optional"], true);
        }
        let env = |c: &Value| -> Vec<String> {
            c["config"]["Env"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e.as_str())
                .filter(|e| e.starts_with("CNB_USER_ID=") || e.starts_with("CNB_GROUP_ID="))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(env(&d), env(&s), "the build user is kept");
        assert!(env(&d).contains(&"CNB_USER_ID=1001".to_string()));
        let (sm, dm) = (
            label(&s, "io.buildpacks.builder.metadata"),
            label(&d, "io.buildpacks.builder.metadata"),
        );
        assert_eq!(dm["lifecycle"]["version"], sm["lifecycle"]["version"]);
        assert_eq!(dm["images"], sm["images"], "the run images are kept");
        let platform = &dm["lifecycle"]["apis"]["platform"]["supported"];
        if auto {
            assert_eq!(platform, &serde_json::json!(["0.7", "0.8"]));
        } else {
            assert_eq!(platform, &sm["lifecycle"]["apis"]["platform"]["supported"]);
        }
    }

    /// `skaffold dev` on examples/node with `builder`: the first build
    /// served, then two edits synced (no image build) and served.
    fn dev_node(builder: &str, mode: Mode, deployer: Deployer, label: &str) {
        let project = Project::with_builder(NODE.example, mode, builder, deployer)
            .unwrap_or_else(|e| panic!("{label}: {e:#}"));
        if mode == Mode::Auto {
            let yaml = std::fs::read_to_string(project.ctx().join("skaffold.yaml")).unwrap();
            let doc: serde_norway::Value = serde_norway::from_str(&yaml).unwrap();
            let artifacts = doc["build"]["artifacts"].as_sequence().unwrap();
            assert!(
                artifacts.iter().all(|a| a.get("sync").is_none()) && doc.get("profiles").is_none(),
                "{label}: no sync block, no profile:\n{yaml}"
            );
        }
        let started = Instant::now();
        let dev = SkaffoldDev::dev(project).unwrap_or_else(|e| panic!("{label}: {e:#}"));
        dev.wait_up(NODE.page, FIRST_BUILD, |s, b| {
            s == 200 && b.contains(NODE.first)
        })
        .unwrap_or_else(|e| panic!("{label}: never served: {e:#}"));
        eprintln!(
            "{label}: first build served after {:.0?}",
            started.elapsed()
        );
        dev.wait_line(0, "Watching for changes", Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{label}: {e:#}"));
        for i in 2..=3 {
            let (content, marker) = (NODE.make)(i);
            let s = save_synced_served(
                &dev,
                NODE.edit,
                &content,
                NODE.page,
                &marker,
                Duration::from_secs(60),
                &format!("{label}: edit {i}"),
            );
            eprintln!(
                "save-to-live {label}: edit {i}: {} ms (to Skaffold's `Syncing` line: {} ms)",
                (s.live - s.saved).as_millis(),
                (s.synced.at - s.saved).as_millis()
            );
        }
    }

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
    #[ignore]
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
