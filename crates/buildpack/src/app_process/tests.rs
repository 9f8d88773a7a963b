use super::*;
use crate::lifecycle_files::{earlier_processes, LifecycleFile};
use std::fs;

const OWN: &str = "skaffold-filesync";

/// A `<layers>` tree: group.toml listing `buildpacks` then us, and each
/// buildpack's launch.toml (None: the buildpack wrote none).
fn layers(buildpacks: &[(&str, Option<&str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut group = String::new();
    for (id, launch) in buildpacks.iter().chain([&(OWN, None)]) {
        group += &format!("[[group]]\nid = \"{id}\"\nversion = \"1.0.0\"\napi = \"0.10\"\n\n");
        let bp = dir.path().join(id.replace('/', "_"));
        fs::create_dir_all(&bp).unwrap();
        if let Some(text) = launch {
            fs::write(bp.join("launch.toml"), text).unwrap();
        }
    }
    fs::write(dir.path().join("group.toml"), group).unwrap();
    dir
}

fn choose_in(dir: &tempfile::TempDir) -> Result<Choice, AppProcessError> {
    choose(
        &Merged::new(&earlier_processes(dir.path(), OWN).unwrap()),
        None,
    )
}

fn chosen(process: &str, buildpack: &str, reason: Reason) -> Choice {
    Choice {
        process: process.into(),
        buildpack: buildpack.into(),
        reason,
    }
}

#[test]
fn plain_procfile_web() {
    let dir = layers(&[
        ("paketo-buildpacks/node-engine", None),
        (
            "paketo-buildpacks/procfile",
            Some(
                "[[processes]]\ntype = \"web\"\ncommand = [\"node\", \"server.js\"]\ndefault = true\n\n\
                 [[processes]]\ntype = \"worker\"\ncommand = [\"node\", \"worker.js\"]\n",
            ),
        ),
    ]);
    assert_eq!(
        choose_in(&dir).unwrap(),
        chosen("web", "paketo-buildpacks/procfile", Reason::Default)
    );
}

#[test]
fn go_build_names_the_process_after_the_binary() {
    let dir = layers(&[
        ("paketo-buildpacks/go-dist", None),
        (
            "paketo-buildpacks/go-build",
            Some(
                "[[processes]]\ntype = \"my-server\"\ncommand = [\"/layers/paketo-buildpacks_go-build/targets/bin/my-server\"]\n\
                 args = []\ndirect = true\ndefault = true\n",
            ),
        ),
    ]);
    let c = choose_in(&dir).unwrap();
    assert_eq!(
        c,
        chosen("my-server", "paketo-buildpacks/go-build", Reason::Default)
    );
    assert_eq!(
        c.messages(),
        ["wrapping process 'my-server' (the default chosen by paketo-buildpacks/go-build)"]
    );
}

#[test]
fn later_buildpack_overrides_a_type() {
    // B's default `worker` wins over A's default `web`.
    let dir = layers(&[
        (
            "a",
            Some("[[processes]]\ntype = \"web\"\ncommand = [\"a-web\"]\ndefault = true\n"),
        ),
        (
            "b",
            Some("[[processes]]\ntype = \"worker\"\ncommand = [\"b-worker\"]\ndefault = true\n"),
        ),
    ]);
    assert_eq!(
        choose_in(&dir).unwrap(),
        chosen("worker", "b", Reason::Default)
    );
    // B redefines A's default `web` without `default`: the lifecycle
    // clears the default, and `web` (now B's) is the fallback.
    let dir = layers(&[
        (
            "a",
            Some("[[processes]]\ntype = \"web\"\ncommand = [\"a-web\"]\ndefault = true\n"),
        ),
        (
            "b",
            Some("[[processes]]\ntype = \"web\"\ncommand = [\"b-web\"]\n"),
        ),
    ]);
    assert_eq!(
        choose_in(&dir).unwrap(),
        chosen("web", "b", Reason::Fallback)
    );
}

#[test]
fn no_default_and_no_web_is_an_error_listing_the_types() {
    let dir = layers(&[(
        "a",
        Some(
            "[[processes]]\ntype = \"worker\"\ncommand = \"run worker\"\n\n\
             [[processes]]\ntype = \"task\"\ncommand = \"run task\"\n",
        ),
    )]);
    assert_eq!(
        choose_in(&dir).unwrap_err(),
        AppProcessError::NoAppProcess {
            types: vec!["task".into(), "worker".into()]
        }
    );
    // No processes at all.
    assert_eq!(
        choose_in(&layers(&[("a", None)])).unwrap_err(),
        AppProcessError::NoAppProcess { types: Vec::new() }
    );
}

#[test]
fn the_setting_wins_and_is_not_checked_here() {
    let c = choose(&Merged::default(), Some("api")).unwrap();
    assert_eq!(c, chosen("api", "", Reason::Setting));
    assert_eq!(
        c.messages(),
        ["wrapping process 'api' (set by BP_FILESYNC_PROCESS)"]
    );
}

#[test]
fn our_own_and_later_buildpacks_are_ignored() {
    let dir = layers(&[(
        "a",
        Some("[[processes]]\ntype = \"web\"\ncommand = [\"a\"]\ndefault = true\n"),
    )]);
    fs::write(
        dir.path().join(OWN).join("launch.toml"),
        "[[processes]]\ntype = \"filesync\"\ncommand = [\"x\"]\ndefault = true\n",
    )
    .unwrap();
    assert_eq!(
        choose_in(&dir).unwrap(),
        chosen("web", "a", Reason::Default)
    );
}

/// Paketo live reload: the shapes of node-start/npm-start, go-build and
/// executable-jar with `BP_LIVE_RELOAD_ENABLED=true`.
#[test]
fn live_reload_wraps_the_process_without_watchexec() {
    let node = "[[processes]]\ntype = \"web\"\ncommand = [\"watchexec\", \"--restart\", \"--\", \"node\", \"server.js\"]\ndefault = true\n\n\
                [[processes]]\ntype = \"no-reload\"\ncommand = [\"node\", \"server.js\"]\n";
    let go = "[[processes]]\ntype = \"app\"\ncommand = [\"/layers/x/bin/app\"]\n\n\
              [[processes]]\ntype = \"reload-app\"\ncommand = [\"watchexec\", \"--restart\", \"--\", \"/layers/x/bin/app\"]\ndefault = true\n";
    let jar = "[[processes]]\ntype = \"executable-jar\"\ncommand = [\"java\"]\n\n\
               [[processes]]\ntype = \"web\"\ncommand = [\"java\"]\n\n\
               [[processes]]\ntype = \"reload\"\ncommand = [\"/usr/bin/watchexec\", \"-r\", \"java\"]\ndefault = true\n";
    for (launch, wrapped, default) in [
        (node, "no-reload", "web"),
        (go, "app", "reload-app"),
        (jar, "executable-jar", "reload"),
    ] {
        let c = choose_in(&layers(&[("p/bp", Some(launch))])).unwrap();
        assert_eq!(
            c,
            chosen(
                wrapped,
                "p/bp",
                Reason::InsteadOfWatchexec {
                    instead_of: default.into()
                }
            )
        );
    }
    let c = choose_in(&layers(&[("p/bp", Some(node))])).unwrap();
    assert_eq!(
        c.messages()[0],
        "Paketo live reload is on (BP_LIVE_RELOAD_ENABLED): wrapping 'no-reload' instead \
         of 'web' so the app is not restarted twice"
    );
}

#[test]
fn watchexec_without_a_sibling_is_an_error_naming_the_process_and_buildpack() {
    // A legacy string command, and a `no-reload` from another buildpack
    // (not the same app's process).
    let dir = layers(&[
        (
            "other",
            Some("[[processes]]\ntype = \"no-reload\"\ncommand = [\"x\"]\n"),
        ),
        (
            "p",
            Some(
                "[[processes]]\ntype = \"web\"\ncommand = \"watchexec -r ./app\"\ndefault = true\n",
            ),
        ),
    ]);
    assert_eq!(
        choose_in(&dir).unwrap_err(),
        AppProcessError::OnlyWatchexec {
            process: "web".into(),
            buildpack: "p".into()
        }
    );
}

#[test]
fn a_missing_group_toml_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = earlier_processes(dir.path(), OWN).unwrap_err();
    assert_eq!(e.file, LifecycleFile::Group);
    assert!(e.path.ends_with("group.toml"), "{e:?}");
}
