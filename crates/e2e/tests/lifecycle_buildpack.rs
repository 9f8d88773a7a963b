//! skaffold-filesync under the real CNB lifecycle: what Skaffold's
//! own code reads from the image, what current Platform APIs keep, and that
//! production builds stay clean.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_e2e::tools::{repo_root, run, tool};
use filesync_e2e::{BuildSpec, Harness, Image};
use filesync_rules::SyncRule;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

const APP: &str = "crates/rules/tests/fixtures/node-npm";
const OUR_LABEL: &str = "skaffold-filesync.metadata";

// The test helper owns the spec each test builds inline.
#[allow(clippy::needless_pass_by_value)]
fn build(spec: BuildSpec) -> Image {
    let out = Harness::get().build(&spec).unwrap();
    out.image
        .unwrap_or_else(|| panic!("build failed:\n{}", out.log))
}

/// The rules `filesync rules APP --format json` prints for the app.
fn engine_rules(app: &str) -> Vec<SyncRule> {
    let out = run(Command::new(filesync_e2e::tools::filesync_bin())
        .args(["rules", app, "--format", "json", "--dest", "/workspace"])
        .current_dir(repo_root()))
    .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    serde_json::from_value(v["rules"].clone()).unwrap()
}

fn build_metadata(labels: &BTreeMap<String, String>) -> Value {
    serde_json::from_str(&labels["io.buildpacks.build.metadata"]).unwrap()
}

#[test]
fn platform_0_8_skaffold_sync_rules_are_the_engines() {
    let image = build(BuildSpec::new(APP).devmode().platform_api("0.8"));
    let labels = image.labels().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let labels_file = dir.path().join("labels.json");
    std::fs::write(&labels_file, serde_json::to_string(&labels).unwrap()).unwrap();
    let out = run(Command::new(tool("probe"))
        .arg("syncrules")
        .arg(&labels_file))
    .unwrap();
    let skaffold: Vec<SyncRule> = serde_json::from_slice(&out.stdout).unwrap();
    let expected = engine_rules(APP);
    assert!(!expected.is_empty());
    assert_eq!(
        skaffold, expected,
        "Skaffold's SyncRules on the pushed image vs filesync rules"
    );
}

#[test]
fn platform_0_13_keeps_rules_in_our_label_and_the_legacy_sbom() {
    let image = build(BuildSpec::new(APP).devmode().platform_api("0.13"));
    let labels = image.labels().unwrap();
    let build = build_metadata(&labels);
    let bom_empty = build
        .get("bom")
        .is_none_or(|b| b.is_null() || b.as_array().is_some_and(std::vec::Vec::is_empty));
    assert!(
        bom_empty,
        "Platform API 0.13 must not put the BOM in the label: {build}"
    );

    let ours: Value = serde_json::from_str(labels.get(OUR_LABEL).expect("our label")).unwrap();
    let rules: Vec<SyncRule> = serde_json::from_value(ours["devmode.sync"].clone()).unwrap();
    assert_eq!(rules, engine_rules(APP));

    let dir = tempfile::tempdir().unwrap();
    let bundle = image.unpack(dir.path()).unwrap();
    let sbom_path = bundle.join("rootfs/layers/sbom/launch/sbom.legacy.json");
    let sbom: Value = serde_json::from_str(&std::fs::read_to_string(&sbom_path).unwrap()).unwrap();
    let entries = sbom.as_array().expect("legacy BOM is a list");
    let devmode = entries
        .iter()
        .find(|e| e["metadata"]["devmode.sync"].is_array())
        .unwrap_or_else(|| panic!("no devmode.sync entry in {sbom}"));
    let legacy: Vec<SyncRule> =
        serde_json::from_value(devmode["metadata"]["devmode.sync"].clone()).unwrap();
    assert_eq!(legacy, rules);
}

#[test]
fn without_the_trigger_nothing_of_ours_is_in_the_image() {
    let out = Harness::get().build(&BuildSpec::new(APP)).unwrap();
    let image = out
        .image
        .unwrap_or_else(|| panic!("build failed:\n{}", out.log));
    let labels = image.labels().unwrap();
    assert!(!labels.contains_key(OUR_LABEL), "{labels:?}");
    let build = build_metadata(&labels);
    let buildpacks: Vec<&str> = build["buildpacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        buildpacks,
        ["e2e/procfile"],
        "skaffold-filesync must fail detection"
    );
    let types: Vec<&str> = build["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["web"]);
    let config = image.config().unwrap();
    assert_eq!(config["config"]["Entrypoint"][0], "/cnb/process/web");
    let lifecycle: Value =
        serde_json::from_str(&labels["io.buildpacks.lifecycle.metadata"]).unwrap();
    let layers: Vec<&str> = lifecycle["buildpacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    assert!(!layers.contains(&"skaffold-filesync"), "{lifecycle}");
}

#[test]
fn dev_image_has_shims_our_default_process_and_the_original_web() {
    let image = build(BuildSpec::new(APP).devmode());
    let config = image.config().unwrap();
    assert_eq!(
        config["config"]["Entrypoint"][0], "/cnb/process/filesync",
        "{config}"
    );
    let build = build_metadata(&image.labels().unwrap());
    let procs = build["processes"].as_array().unwrap();
    let web = procs
        .iter()
        .find(|p| p["type"] == "web")
        .expect("web process kept");
    assert_eq!(web["command"][0], "node", "web stays unwrapped: {web}");
    assert_eq!(web["buildpackID"], "e2e/procfile", "{web}");
    for t in ["filesync", "tar", "rm", "filesync-sync-done"] {
        assert!(
            procs.iter().any(|p| p["type"] == t),
            "process {t} missing: {build}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let rootfs = image.unpack(dir.path()).unwrap().join("rootfs");
    for shim in [
        "cnb/process/tar",
        "cnb/process/rm",
        "cnb/process/filesync",
        "cnb/process/filesync-sync-done",
        "cnb/process/web",
    ] {
        assert!(
            rootfs.join(shim).symlink_metadata().is_ok(),
            "/{shim} missing"
        );
    }
}

/// docs/configuration.md: an empty value, or one of only whitespace,
/// counts as unset, so `BP_FILESYNC_ENABLED=" "` is a production build
/// (no error, nothing of ours).
#[test]
fn a_whitespace_trigger_counts_as_unset() {
    let out = Harness::get()
        .build(&BuildSpec::new(APP).env("BP_FILESYNC_ENABLED", " "))
        .unwrap();
    let image = out
        .image
        .unwrap_or_else(|| panic!("build failed:\n{}", out.log));
    let labels = image.labels().unwrap();
    assert!(!labels.contains_key(OUR_LABEL), "{labels:?}");
    assert!(!out.log.contains("skaffold-filesync]"), "{}", out.log);
}

/// The buildpack's error fixtures (crates/buildpack/tests/fixtures: each a
/// `fixture.toml` and the `error.txt` its build must end with; the
/// buildpack's unit tests pin `error.txt` to the rendering of the error).
const ERROR_FIXTURES: &str = "crates/buildpack/tests/fixtures";

/// What a fixture builds: its app (its own `app/`, an app of the repo, or
/// an empty directory), the provider before us, the build env.
fn fixture_spec(dir: &std::path::Path, empty_app: &std::path::Path) -> BuildSpec {
    let text = std::fs::read_to_string(dir.join("fixture.toml")).unwrap();
    let fixture: toml::Table = toml::from_str(&text).unwrap();
    let app = match fixture.get("app").and_then(|a| a.as_str()) {
        Some(app) => repo_root().join(app),
        None if fixture.contains_key("empty_app") => empty_app.to_path_buf(),
        None => dir.join("app"),
    };
    let mut spec = BuildSpec::new(app);
    if let Some(provider) = fixture.get("provider").and_then(|p| p.as_str()) {
        spec = spec.provider(filesync_e2e::providers::stage(provider).unwrap());
    }
    for (k, v) in fixture["env"].as_table().unwrap() {
        spec = spec.env(k, v.as_str().unwrap());
    }
    spec
}

/// The buildpack's error message in a build log: from its `Error:` line
/// to the last of the prefixed lines that follow.
fn error_block(log: &str) -> Option<String> {
    let mut lines = log
        .lines()
        .skip_while(|l| !l.starts_with("[skaffold-filesync] Error: "));
    let first = lines.next()?;
    let rest = lines.take_while(|l| l.starts_with("[skaffold-filesync]"));
    Some(
        std::iter::once(first)
            .chain(rest)
            .map(|l| format!("{l}\n"))
            .collect(),
    )
}

/// Every error a user can cause, built with the real lifecycle from its
/// fixture: the build fails, and its log shows exactly the fixture's whole
/// message. Builds two at a time; prints each one's time.
#[test]
fn every_user_error_fixture_fails_its_build_with_its_whole_message() {
    let root = repo_root().join(ERROR_FIXTURES);
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 19, "{dirs:?}");
    let empty = tempfile::tempdir().unwrap();
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(dir) = dirs.get(i) else { break };
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                let started = std::time::Instant::now();
                let out = Harness::get()
                    .build(&fixture_spec(dir, empty.path()))
                    .unwrap();
                eprintln!("fixture {name}: {:.1} s", started.elapsed().as_secs_f64());
                let expected = std::fs::read_to_string(dir.join("error.txt")).unwrap();
                let shown = error_block(&out.log);
                if out.image.is_some() || shown.as_deref() != Some(expected.as_str()) {
                    failures.lock().unwrap().push(format!(
                        "{name}: expected the build to fail with\n{expected}\ngot (image: {}):\n{}",
                        out.image.is_some(),
                        out.log
                    ));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The Java example with the provider standing in for Paketo's Java chain
/// (bellsoft-liberica, maven, executable-jar).
fn java(spec: BuildSpec) -> BuildSpec {
    spec.provider(filesync_e2e::providers::stage("java").unwrap())
}

const JAVA_APP: &str = "examples/java";

/// Production (no trigger): the image is what Paketo's Java chain makes,
/// nothing of ours — no layer, label or process; the sources removed, the
/// exploded JAR run by executable-jar's `web`; a JRE, no JDK, Maven or
/// Maven repository in the image.
#[test]
fn java_production_build_is_paketos_alone() {
    let out = Harness::get()
        .build(&java(BuildSpec::new(JAVA_APP)))
        .unwrap();
    let image = out
        .image
        .unwrap_or_else(|| panic!("build failed:\n{}", out.log));
    let labels = image.labels().unwrap();
    assert!(!labels.contains_key(OUR_LABEL), "{labels:?}");
    let build = build_metadata(&labels);
    let buildpacks: Vec<&str> = build["buildpacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        buildpacks,
        ["e2e/java"],
        "skaffold-filesync must fail detection"
    );
    let procs = build["processes"].as_array().unwrap();
    let types: Vec<&str> = procs.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["executable-jar", "task", "web"], "{build}");
    let web = &procs[2];
    assert_eq!(web["command"][0], "java", "{web}");
    assert_eq!(web["args"][0], "example.App", "{web}");
    let config = image.config().unwrap();
    assert_eq!(config["config"]["Entrypoint"][0], "/cnb/process/web");

    let dir = tempfile::tempdir().unwrap();
    let rootfs = image.unpack(dir.path()).unwrap().join("rootfs");
    let ws = rootfs.join("workspace");
    assert!(
        !ws.join("pom.xml").exists() && !ws.join("src").exists(),
        "libbs removes the sources"
    );
    assert!(ws.join("example/App.class").is_file(), "the exploded JAR");
    assert!(ws.join("META-INF/MANIFEST.MF").is_file());
    let layers = rootfs.join("layers/e2e_java");
    assert!(layers.join("jre/bin/java").is_file(), "a JRE at launch");
    assert!(
        !layers.join("jre/bin/javac").exists(),
        "the JRE has no javac"
    );
    for gone in ["jdk", "maven", "cache", "application"] {
        assert!(!layers.join(gone).exists(), "layer {gone} is not launched");
    }
    assert!(!rootfs.join("layers/skaffold-filesync").exists());
}

/// A dev build with the generated profile's settings: the JDK is the
/// launch JVM (one JDK, no copy of ours), and our `maven` layer carries
/// Maven and the build's repository, writable, pointed at by `MAVEN_OPTS`.
/// Prints the layer's size.
#[test]
// The helper items sit beside the one step that uses them.
#[allow(clippy::items_after_statements)]
fn java_dev_image_carries_maven_and_its_repository_once() {
    let mut spec = java(BuildSpec::new(JAVA_APP).devmode());
    for setting in filesync_contract::paketo::dev_build_env(filesync_rules::Family::Java) {
        let (k, v) = setting.split_once('=').unwrap();
        spec = spec.env(k, v);
    }
    let image = build(spec);
    let dir = tempfile::tempdir().unwrap();
    let rootfs = image.unpack(dir.path()).unwrap().join("rootfs");
    let jvm = rootfs.join("layers/e2e_java/jdk");
    assert!(
        jvm.join("bin/javac").is_file(),
        "BP_JVM_TYPE=JDK: the JDK at launch"
    );
    assert!(
        !rootfs.join("layers/e2e_java/jre").exists(),
        "no JRE besides"
    );
    let ours = rootfs.join("layers/skaffold-filesync/maven");
    assert!(ours.join("dist/bin/mvn").is_file(), "Maven copied");
    assert!(
        !ours.join("dist/bin/javac").exists() && !ours.join("bin/javac").exists(),
        "no second JDK"
    );
    let repo = ours.join("m2/repository");
    assert!(
        repo.join("org/apache/maven/plugins/maven-compiler-plugin")
            .is_dir(),
        "the build's repository"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&repo).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o777, "writable by the run user");
    let opts = std::fs::read_to_string(ours.join("env.launch/MAVEN_OPTS.append")).unwrap();
    assert_eq!(
        opts,
        "-Dmaven.repo.local=/layers/skaffold-filesync/maven/m2/repository"
    );
    let classpath = std::fs::read_to_string(ours.join("env.launch/CLASSPATH.prepend")).unwrap();
    assert_eq!(classpath, "/workspace/target/classes");
    java_dev_layer(&rootfs, &image, 0);
    let du = |p: &std::path::Path| {
        let out = run(Command::new("du").args(["-sk"]).arg(p)).unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    eprintln!(
        "java dev image: our maven layer {} KiB (distribution {} KiB, repository {} KiB); the launch JDK {} KiB",
        du(&ours),
        du(&ours.join("dist")),
        du(&repo),
        du(&jvm)
    );
}

/// A Spring Boot app's dev image (examples/java-spring-boot, with the
/// generated profile's settings): the provider runs Spring Boot's launcher
/// on the exploded JAR with its dependency JARs in BOOT-INF/lib, and our
/// buildpack makes the launcher load the classes the in-container rebuild
/// writes: BOOT-INF/classes links to target/classes, and target/classes
/// is NOT put on CLASSPATH (the JVM's loader would then load the app's
/// classes without the dependencies).
#[test]
fn spring_boot_dev_image_loads_its_classes_from_the_rebuild_output() {
    let mut spec = java(BuildSpec::new("examples/java-spring-boot").devmode());
    for setting in filesync_contract::paketo::dev_build_env(filesync_rules::Family::Java) {
        let (k, v) = setting.split_once('=').unwrap();
        spec = spec.env(k, v);
    }
    let image = build(spec);
    let labels = image.labels().unwrap();
    assert_eq!(
        labels
            .get("org.springframework.boot.version")
            .map(String::as_str),
        Some("3.4.1"),
        "the spring-boot stand-in's label"
    );
    let build = build_metadata(&labels);
    let web = build["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "web")
        .cloned()
        .unwrap_or_else(|| panic!("no web process: {build}"));
    assert_eq!(
        web["args"][0], "org.springframework.boot.loader.launch.JarLauncher",
        "{web}"
    );
    let dir = tempfile::tempdir().unwrap();
    let rootfs = image.unpack(dir.path()).unwrap().join("rootfs");
    let ws = rootfs.join("workspace");
    assert_eq!(
        std::fs::read_link(ws.join("BOOT-INF/classes")).unwrap(),
        std::path::Path::new("../target/classes")
    );
    assert!(ws.join("target/classes/example/Greeting.class").is_file());
    let libs: Vec<String> = std::fs::read_dir(ws.join("BOOT-INF/lib"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        libs.iter().any(|l| l.starts_with("spring-webmvc-")),
        "the dependency JARs from Maven Central: {libs:?}"
    );
    let ours = rootfs.join("layers/skaffold-filesync/maven");
    assert!(
        !ours.join("env.launch/CLASSPATH.prepend").exists(),
        "target/classes must not be on CLASSPATH for a Spring Boot app"
    );
    java_dev_layer(&rootfs, &image, libs.len());
}

/// Our `java-dev` layer in a Java dev image: the resident compiler, the
/// recorded compile (`jars` class path entries, release 17 as the example
/// POMs say), the dev loop's JVM flags, and the rebuild command in our
/// label is `filesync java-build`, not Maven.
fn java_dev_layer(rootfs: &std::path::Path, image: &Image, jars: usize) {
    let layer = rootfs.join("layers/skaffold-filesync/java-dev");
    assert!(layer.join("compiler/FilesyncCompiler.class").is_file());
    let config: filesync_contract::java_build::JavaBuildConfig =
        toml::from_str(&std::fs::read_to_string(layer.join("java-build.toml")).unwrap()).unwrap();
    assert_eq!(config.release, Some(17), "{config:?}");
    assert_eq!(config.classpath.len(), jars, "{config:?}");
    assert_eq!(
        config.classes,
        std::path::Path::new("/workspace/target/classes")
    );
    let flags = std::fs::read_to_string(layer.join("env.launch/JAVA_TOOL_OPTIONS.append")).unwrap();
    assert_eq!(flags, "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
    let label = image.labels().unwrap()[OUR_LABEL].clone();
    assert!(
        label.contains("\"java-build\"") && !label.contains("\"mvn\""),
        "{label}"
    );
}
