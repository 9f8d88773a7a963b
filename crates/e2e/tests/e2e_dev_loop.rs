//! The Skaffold dev loop end to end: each example app is built
//! with the real lifecycle and our buildpack (`GOOGLE_DEVMODE=1`), run with
//! runc as its default process, and changed the way `skaffold dev` changes
//! it — Skaffold's rule matching, its tar stream into `tar xmf - -C /
//! --no-same-owner` and `rm -rf --` exec'd in the container — while the app
//! is polled over loopback.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]

use filesync_e2e::container::Container;
use filesync_e2e::http::wait_for;
use filesync_e2e::skaffold_sync::{rules_of, sync, Decision};
use filesync_e2e::tools::repo_root;
use filesync_e2e::{BuildSpec, Harness};
use std::path::Path;
use std::time::Duration;

/// One module, so the README's test command can run these apart, with
/// their save-to-live medians shown (`--skip dev_loop::` elsewhere).
mod dev_loop {
    use super::*;

    /// A copy of an example: the Skaffold context a developer edits.
    fn context(example: &str) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("filesync-ctx-")
            .tempdir()
            .unwrap();
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(repo_root().join("examples").join(example).join("."))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        dir
    }

    /// The `name` test provider buildpack, staged with its payload.
    fn provider(name: &str) -> std::path::PathBuf {
        filesync_e2e::providers::stage(name).unwrap()
    }

    /// One example app running in a container, with its Skaffold context
    /// and the sync rules its image carries: what `skaffold dev` holds.
    struct DevLoop {
        ctx: tempfile::TempDir,
        c: Container,
        rules: Vec<filesync_rules::SyncRule>,
    }

    /// A pod's `/dev/shm`: a directory every container of the "pod" gets
    /// as its `/dev/shm`, writable by any user like a tmpfs.
    fn pod_shm() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("filesync-shm-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        dir
    }

    /// Builds the context `ctx` in dev mode with the `node` test buildpack.
    fn build_node(ctx: &Path) -> filesync_e2e::image::Image {
        let spec = BuildSpec::new(ctx).devmode().provider(provider("node"));
        let out = Harness::get().build(&spec).unwrap();
        out.image
            .unwrap_or_else(|| panic!("build failed:\n{}", out.log))
    }

    /// Starts `image` in the pod of `shm` and returns the container with
    /// the body of the first page it serves.
    fn serve_in_pod(image: &filesync_e2e::image::Image, shm: &Path) -> (Container, String) {
        let c = Container::start_in_pod(image, &[], Some(shm)).unwrap();
        let body = std::cell::RefCell::new(String::new());
        let first = wait_for(c.port, PAGE, Duration::from_mins(2), |s, b| {
            *body.borrow_mut() = b.to_string();
            s == 200
        });
        if let Err(e) = first {
            panic!("never served: {e:?}\n{}", c.logs());
        }
        (c, body.into_inner())
    }

    /// Issue 23: the restart record under runc. A "pod" is a shared
    /// `/dev/shm` (as containerd's CRI gives the containers of a pod); a
    /// container restart is a new container from the same image on it.
    #[test]
    fn a_restarted_container_starts_on_the_last_sync_and_a_new_build_does_not() {
        let shm = pod_shm();
        let ctx = context("node");
        let image = build_node(ctx.path());
        let rules = rules_of(&image.labels().unwrap());
        let (c, first) = serve_in_pod(&image, shm.path());
        assert!(first.contains("Node.js v1"), "{first}");
        let app = DevLoop { ctx, c, rules };
        app.write(
            "lib/message.js",
            "module.exports = \"Hello from Node.js v2\";\n",
        );
        assert!(matches!(
            app.sync(&["lib/message.js"], &[]),
            Decision::Synced(_)
        ));
        let v2 = wait_for(app.c.port, PAGE, Duration::from_mins(1), |s, b| {
            s == 200 && b.contains("Node.js v2")
        });
        assert!(v2.is_ok(), "{v2:?}\n{}", app.c.logs());
        app.deletion_disappears("public/about.html", "/static/about.html", DELETE_WITHIN);

        // PID 1 gone, a new container of the same image in the same pod:
        // its first answer is already the synced version.
        let DevLoop { ctx, c, rules } = app;
        drop(c);
        let (c, first) = serve_in_pod(&image, shm.path());
        assert!(first.contains("Node.js v2"), "{first}\n{}", c.logs());
        let about = filesync_e2e::http::get(c.port, "/static/about.html").unwrap();
        assert_eq!(about.0, 404, "the synced deletion is replayed too");
        let logs = c.logs();
        assert!(
            logs.contains("[filesync] restored 1 file(s) and 1 deletion(s) synced before this container restarted"),
            "{logs}"
        );

        // A rebuild (v3 in the sources, never synced): the new build starts
        // on its own files, the old build's record (v2) is discarded.
        let app = DevLoop { ctx, c, rules };
        app.write(
            "lib/message.js",
            "module.exports = \"Hello from Node.js v3\";\n",
        );
        let DevLoop { ctx, c, .. } = app;
        drop(c);
        let rebuilt = build_node(ctx.path());
        let (c, first) = serve_in_pod(&rebuilt, shm.path());
        assert!(first.contains("Node.js v3"), "{first}\n{}", c.logs());
        let logs = c.logs();
        assert!(
            logs.contains("discarded 1 restart record(s) of another build")
                && !logs.contains("restored"),
            "{logs}"
        );
    }

    impl DevLoop {
        /// Builds `example` in dev mode with the `provider_name` test
        /// buildpack (plus what `extra` adds for this app) and runs it until
        /// its page serves `v1`.
        fn start(
            example: &str,
            provider_name: &str,
            v1: &str,
            extra: impl FnOnce(BuildSpec, &Path) -> BuildSpec,
        ) -> Self {
            let ctx = context(example);
            let spec = BuildSpec::new(ctx.path())
                .devmode()
                .provider(provider(provider_name));
            let out = Harness::get().build(&extra(spec, ctx.path())).unwrap();
            let image = out
                .image
                .unwrap_or_else(|| panic!("build failed:\n{}", out.log));
            let rules = rules_of(&image.labels().unwrap());
            assert!(!rules.is_empty(), "the image carries sync rules");
            let c = Container::start(&image, &[]).unwrap();
            let up = wait_for(c.port, PAGE, Duration::from_mins(2), |s, b| {
                s == 200 && b.contains(v1)
            });
            assert!(
                up.is_ok(),
                "{example} never served {v1:?}: {up:?}\n{}",
                c.logs()
            );
            DevLoop { ctx, c, rules }
        }

        fn write(&self, rel: &str, content: &str) {
            std::fs::write(self.ctx.path().join(rel), content).unwrap();
        }

        /// Syncs the way Skaffold does; what the rule engine decided.
        fn sync(&self, changed: &[&str], deleted: &[&str]) -> Decision {
            sync(&self.c, self.ctx.path(), &self.rules, changed, deleted).unwrap()
        }

        /// Edits `rel` five times (`make(i)` → content, expecting
        /// `marker(i)` on the page) and prints the median save-to-live (sync
        /// start → new content) as `save-to-live LABEL: median of 5`.
        fn edits(&self, label: &str, rel: &str, make: impl Fn(usize) -> (String, String)) {
            let mut times = Vec::new();
            for i in 2..=6 {
                let (content, marker) = make(i);
                self.write(rel, &content);
                let start = std::time::Instant::now();
                let d = self.sync(&[rel], &[]);
                assert!(
                    matches!(d, Decision::Synced(_)),
                    "{rel} must be synced, not rebuilt"
                );
                let got = wait_for(self.c.port, PAGE, Duration::from_mins(2), |s, b| {
                    s == 200 && b.contains(&marker)
                });
                assert!(
                    got.is_ok(),
                    "edit {i} of {rel} never served: {got:?}\n{}",
                    self.c.logs()
                );
                times.push(start.elapsed());
            }
            times.sort();
            eprintln!(
                "save-to-live {label}: median of 5 = {} ms",
                times[times.len() / 2].as_millis()
            );
        }

        /// Deletes `rel` in the context, syncs the deletion the Skaffold
        /// way (`rm -rf --`), and waits up to `within` for `path` to
        /// answer 404.
        fn deletion_disappears(&self, rel: &str, path: &str, within: Duration) {
            let port = self.c.port;
            assert!(
                wait_for(port, path, Duration::from_secs(5), |s, _| s == 200).is_ok(),
                "{path} served before"
            );
            std::fs::remove_file(self.ctx.path().join(rel)).unwrap();
            let d = self.sync(&[], &[rel]);
            assert!(
                matches!(d, Decision::Synced(_)),
                "deleting {rel} must be synced"
            );
            let gone = wait_for(port, path, within, |s, _| s == 404);
            assert!(
                gone.is_ok(),
                "{path} after deleting {rel}: {gone:?}\n{}",
                self.c.logs()
            );
        }

        /// A change to `manifest` is not synced: the rule engine sends it to
        /// rebuild, and nothing is exec'd in the container.
        fn manifest_goes_to_rebuild(&self, manifest: &str) {
            // Let earlier reloads finish logging (after `rm` the supervisor
            // waits briefly for a `tar` of the same batch).
            std::thread::sleep(Duration::from_millis(800));
            let before = self.c.logs();
            let old = std::fs::read_to_string(self.ctx.path().join(manifest)).unwrap();
            self.write(manifest, &(old + "\n"));
            assert_eq!(
                self.sync(&[manifest], &[]),
                Decision::Rebuild,
                "{manifest}: Skaffold must rebuild, not sync"
            );
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(self.c.logs(), before, "nothing was exec'd in the container");
        }

        /// The container's log contains `what` (`why` explains it).
        fn logged(&self, what: &str, why: &str) {
            let logs = self.c.logs();
            assert!(logs.contains(what), "{why}: no {what:?} in\n{logs}");
        }
    }

    const DELETE_WITHIN: Duration = Duration::from_secs(20);

    /// Where every example shows the text its edits change.
    const PAGE: &str = "/";

    #[test]
    fn node_on_base() {
        let app = DevLoop::start("node", "node", "Node.js v1", |spec, _| spec);
        app.edits("node (base)", "lib/message.js", |i| {
            (
                format!("module.exports = \"Hello from Node.js v{i}\";\n"),
                format!("Node.js v{i}"),
            )
        });
        app.deletion_disappears("public/about.html", "/static/about.html", DELETE_WITHIN);
        app.manifest_goes_to_rebuild("package.json");
        app.logged(
            "[filesync] sync: 1 file(s) -> restarted",
            "one synced file, one restart",
        );
    }

    #[test]
    fn python_on_base() {
        let app = DevLoop::start("python", "python", "Python v1", |spec, _| spec);
        app.edits("python (base)", "message.py", |i| {
            (
                format!("MESSAGE = \"Hello from Python v{i}\"\n"),
                format!("Python v{i}"),
            )
        });
        app.deletion_disappears("templates/page.html", "/page", DELETE_WITHIN);
        app.manifest_goes_to_rebuild("requirements.txt");
    }

    #[test]
    fn php_on_base() {
        let app = DevLoop::start("php", "php", "PHP v1", |spec, _| spec);
        app.edits("php (base)", "src/message.php", |i| {
            (
                format!("<?php\n\nreturn 'Hello from PHP v{i}';\n"),
                format!("PHP v{i}"),
            )
        });
        app.deletion_disappears("public/about.php", "/about.php", DELETE_WITHIN);
        app.manifest_goes_to_rebuild("composer.json");
        app.logged(
            "nothing to reload",
            "PHP reads its files on every request, no restart",
        );
    }

    #[test]
    fn static_site_on_base() {
        let app = DevLoop::start("static", "static-web", "Static v1", |spec, _| spec);
        app.edits("static (base)", "index.html", |i| {
            (format!("<h1>Static v{i}</h1>\n"), format!("Static v{i}"))
        });
        app.deletion_disappears("about.html", "/about.html", DELETE_WITHIN);
        app.manifest_goes_to_rebuild("Procfile");
        app.logged("nothing to reload", "static files need no restart");
    }

    #[test]
    fn go_on_tiny_is_rebuilt_in_the_container() {
        // What the generated dev profile sets: go-build (and its stand-in)
        // removes the sources otherwise, and the rebuild needs them.
        let app = DevLoop::start("go", "go", "Go v1", |spec, _| {
            spec.run_image("tiny").env("BP_KEEP_FILES", "*")
        });
        for tool in [
            "bin/tar",
            "usr/bin/tar",
            "bin/rm",
            "usr/bin/rm",
            "bin/sh",
            "usr/bin/sh",
            "bin/bash",
            "usr/bin/bash",
        ] {
            assert!(!app.c.has(tool), "tiny must not have /{tool}");
        }
        let go =
            |text: &str| format!("package main\n\nfunc message() string {{ return {text} }}\n");
        // The image's Go build cache is warm (the go-dev layer): the
        // rebuilds below add their own package and link, not the standard
        // library (about 150 packages under net/http, two entries each).
        let cache = app
            .c
            .rootfs()
            .join("layers/skaffold-filesync/go-dev/gocache");
        let before = super::files_under(&cache);
        assert!(
            before > 300,
            "a warm build cache in the image: {before} files in {}",
            cache.display()
        );
        app.edits("go (tiny, rebuild in the container)", "message.go", |i| {
            (go(&format!("\"Hello from Go v{i}\"")), format!("Go v{i}"))
        });
        // (Seen: about 1,300 files in the image, 50 more per rebuild; a
        // cold cache would have compiled them all again on the first.)
        let added = super::files_under(&cache) - before;
        assert!(
            added < before / 2,
            "five rebuilds added {added} files to the build cache of {before}: the standard library was compiled again"
        );
        // A compile error keeps the old version serving…
        app.write("message.go", &go("oops"));
        app.sync(&["message.go"], &[]);
        let failed = wait_for(app.c.port, PAGE, Duration::from_mins(2), |_, _| {
            app.c.logs().contains("rebuild failed")
        });
        assert!(failed.is_ok(), "{}", app.c.logs());
        let still = filesync_e2e::http::get(app.c.port, PAGE).unwrap();
        assert!(
            still.1.contains("Go v6"),
            "old version keeps serving: {still:?}"
        );
        app.logged("undefined: oops", "the compiler error is shown");
        // …and fixing it brings the new one.
        app.write("message.go", &go("\"Hello from Go fixed\""));
        app.sync(&["message.go"], &[]);
        let fixed = wait_for(app.c.port, PAGE, Duration::from_mins(2), |s, b| {
            s == 200 && b.contains("Go fixed")
        });
        assert!(fixed.is_ok(), "{fixed:?}\n{}", app.c.logs());
        // Deleting a source file is synced too, and the rebuild drops its
        // handler.
        app.deletion_disappears("about.go", "/about", Duration::from_mins(2));
        app.manifest_goes_to_rebuild("go.mod");
    }

    #[test]
    fn java_on_base_is_recompiled_without_maven_in_the_container() {
        // What the generated dev profile sets: libbs (and its stand-in)
        // removes the sources otherwise, and libjvm puts a JRE in the image.
        let app = DevLoop::start("java", "java", "Java v1", |spec, _| {
            spec.env("BP_INCLUDE_FILES", "*").env("BP_JVM_TYPE", "JDK")
        });
        let rel = "src/main/java/example/Message.java";
        app.edits(
            "java (base, filesync java-build in the container)",
            rel,
            |i| {
                (
                    format!(
                        "package example;\n\nfinal class Message {{\n  static final String TEXT = \"Hello from Java v{i}\";\n\n  private Message() {{}}\n}}\n"
                    ),
                    format!("Java v{i}"),
                )
            },
        );
        app.logged("java-build", "recompiled by filesync java-build, not Maven");
        app.logged("compiled 2 source(s)", "every source compiled");
        app.deletion_disappears(
            "src/main/resources/public/about.html",
            "/static/about.html",
            DELETE_WITHIN,
        );
        app.manifest_goes_to_rebuild("pom.xml");
    }
}

/// Regular files under `dir`, recursively (0 when it does not exist).
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => files_under(&e.path()),
                Ok(t) if t.is_file() => 1,
                _ => 0,
            })
            .sum()
    })
}
