use super::*;
use std::fs;

const OWN: &str = "skaffold-filesync";

/// A `<layers>` tree whose group.toml lists `ids` then us.
fn group(ids: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for id in ids.iter().chain([&OWN, &"later"]) {
        text += &format!("[[group]]\nid = \"{id}\"\nversion = \"1.0.0\"\napi = \"0.10\"\n\n");
        fs::create_dir_all(dir.path().join(id.replace('/', "_"))).unwrap();
    }
    fs::write(dir.path().join("group.toml"), text).unwrap();
    dir
}

#[test]
fn the_earlier_buildpacks_are_those_before_ours_in_group_order() {
    let dir = group(&["paketo-buildpacks/go-dist", "b"]);
    assert_eq!(
        earlier_buildpacks(dir.path(), OWN).unwrap(),
        ["paketo-buildpacks/go-dist", "b"]
    );
}

#[test]
fn a_missing_or_malformed_group_toml_is_an_error_for_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let e = earlier_processes(dir.path(), OWN).unwrap_err();
    assert_eq!(e.file, LifecycleFile::Group);
    assert!(e.path.ends_with("group.toml"), "{e:?}");
    fs::write(dir.path().join("group.toml"), "[[group]\nid = ").unwrap();
    let e = earlier_layers(dir.path(), OWN).unwrap_err();
    assert_eq!(e.file, LifecycleFile::Group);
    assert!(e.details.contains("line 1"), "{e:?}");
}

#[test]
fn launch_toml_commands_in_both_forms_and_a_malformed_one_named() {
    let dir = group(&["a/one", "two"]);
    fs::write(
        dir.path().join("a_one/launch.toml"),
        "[[processes]]\ntype = \"web\"\ncommand = \"watchexec -r  ./app\"\ndefault = true\n\n\
         [[processes]]\ntype = \"task\"\ncommand = [\"run\", \"a b\"]\n",
    )
    .unwrap();
    fs::write(dir.path().join(format!("{OWN}/launch.toml")), "broken").unwrap();
    let outputs = earlier_processes(dir.path(), OWN).unwrap();
    assert_eq!(
        outputs.len(),
        1,
        "`two` wrote no launch.toml; ours is not read"
    );
    assert_eq!(outputs[0].buildpack, "a/one");
    assert_eq!(
        outputs[0].processes,
        [
            DeclaredProcess {
                kind: "web".into(),
                command: vec!["watchexec".into(), "-r".into(), "./app".into()],
                default: true,
            },
            DeclaredProcess {
                kind: "task".into(),
                command: vec!["run".into(), "a b".into()],
                default: false,
            },
        ]
    );
    fs::write(
        dir.path().join("two/launch.toml"),
        "[[processes]]\ntype = 1\n",
    )
    .unwrap();
    let e = earlier_processes(dir.path(), OWN).unwrap_err();
    assert_eq!(e.file, LifecycleFile::LaunchToml);
    assert!(e.path.ends_with("two/launch.toml"), "{e:?}");
}

#[test]
fn layers_are_launched_by_their_types_old_and_new() {
    let dir = group(&["a"]);
    let bp = dir.path().join("a");
    for (name, toml) in [
        ("new", Some("[types]\nlaunch = true\n")),
        ("old", Some("launch = true\n")),
        ("cache", Some("[types]\ncache = true\n")),
        ("bad", Some("launch = ")),
        ("bare", None),
    ] {
        fs::create_dir_all(bp.join(name)).unwrap();
        if let Some(text) = toml {
            fs::write(bp.join(format!("{name}.toml")), text).unwrap();
        }
    }
    let layers = earlier_layers(dir.path(), OWN).unwrap();
    let seen: Vec<(String, bool)> = layers
        .iter()
        .map(|l| {
            (
                l.dir.file_name().unwrap().to_string_lossy().into(),
                l.launch,
            )
        })
        .collect();
    let expected = [
        ("bad", false),
        ("bare", false),
        ("cache", false),
        ("new", true),
        ("old", true),
    ];
    assert_eq!(
        seen,
        expected.map(|(n, l)| (n.to_string(), l)),
        "sorted by name"
    );
}

#[test]
fn the_runtime_binary_is_the_relative_path_buildpack_toml_names() {
    let bp = Path::new("/cnb/buildpacks/skaffold-filesync/0.1.0");
    assert_eq!(
        runtime_binary_in(bp, Some(Some("bin/filesync"))),
        Ok(bp.join("bin/filesync"))
    );
    for (value, problem) in [
        (None, "lacks [metadata] runtime-binary"),
        (Some(None), "not a string"),
        (Some(Some("/bin/filesync")), "not a relative path"),
        (Some(Some("../x/filesync")), "not a relative path"),
        (Some(Some("")), "not a relative path"),
    ] {
        let e = runtime_binary_in(bp, value).unwrap_err();
        assert_eq!(e.file, LifecycleFile::BuildpackToml);
        assert_eq!(e.path, bp.join("buildpack.toml"));
        assert!(e.details.contains(problem), "{value:?}: {e:?}");
    }
}

/// The packaged buildpack.toml names the binary scripts/package-buildpack.sh
/// puts next to bin/build.
#[test]
fn our_buildpack_toml_names_bin_filesync() {
    let text = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/buildpack.toml")).unwrap();
    let toml: toml::Table = text.parse().unwrap();
    let value = toml["metadata"].get(RUNTIME_BINARY_KEY).map(|v| v.as_str());
    assert_eq!(
        runtime_binary_in(Path::new("/bp"), value),
        Ok(PathBuf::from("/bp/bin/filesync"))
    );
}
