//! The Skaffold dev loop end to end (issue 5): each example app is built
//! with the real lifecycle and our buildpack (`GOOGLE_DEVMODE=1`), run with
//! runc as its default process, and changed the way `skaffold dev` changes
//! it — Skaffold's rule matching, its tar stream into `tar xmf - -C /
//! --no-same-owner` and `rm -rf --` exec'd in the container — while the app
//! is polled over loopback.

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

    fn provider(name: &str) -> std::path::PathBuf {
        repo_root().join("crates/e2e/buildpacks").join(name)
    }

    fn start(
        ctx: &Path,
        spec: BuildSpec,
        path: &str,
        v1: &str,
    ) -> (Container, Vec<filesync_rules::SyncRule>) {
        let out = Harness::get().build(&spec).unwrap();
        let image = out
            .image
            .unwrap_or_else(|| panic!("build failed:\n{}", out.log));
        let rules = rules_of(&image.labels().unwrap());
        assert!(!rules.is_empty(), "the image carries sync rules");
        let c = Container::start(&image, &[]).unwrap();
        let up = wait_for(c.port, path, Duration::from_secs(120), |s, b| {
            s == 200 && b.contains(v1)
        });
        assert!(
            up.is_ok(),
            "{} never served {v1:?}: {up:?}\n{}",
            ctx.display(),
            c.logs()
        );
        (c, rules)
    }

    /// Edits `rel` five times (`make(i)` → content, expecting `marker(i)` at
    /// `path`); returns the median save-to-live (sync start → new content).
    fn edits(
        c: &Container,
        ctx: &Path,
        rules: &[filesync_rules::SyncRule],
        rel: &str,
        path: &str,
        make: impl Fn(usize) -> (String, String),
    ) -> Duration {
        let mut times = Vec::new();
        for i in 2..=6 {
            let (content, marker) = make(i);
            std::fs::write(ctx.join(rel), content).unwrap();
            let start = std::time::Instant::now();
            let d = sync(c, ctx, rules, &[rel], &[]).unwrap();
            assert!(
                matches!(d, Decision::Synced(_)),
                "{rel} must be synced, not rebuilt"
            );
            let got = wait_for(c.port, path, Duration::from_secs(120), |s, b| {
                s == 200 && b.contains(&marker)
            });
            assert!(
                got.is_ok(),
                "edit {i} of {rel} never served: {got:?}\n{}",
                c.logs()
            );
            times.push(start.elapsed());
        }
        times.sort();
        times[times.len() / 2]
    }

    /// Deletes `rel` in the context, syncs the deletion the Skaffold way
    /// (`rm -rf --`), and waits up to `within` for `path` to answer 404.
    fn deletion_disappears(
        c: &Container,
        ctx: &Path,
        rules: &[filesync_rules::SyncRule],
        rel: &str,
        path: &str,
        within: Duration,
    ) {
        assert!(
            wait_for(c.port, path, Duration::from_secs(5), |s, _| s == 200).is_ok(),
            "{path} served before"
        );
        std::fs::remove_file(ctx.join(rel)).unwrap();
        let d = sync(c, ctx, rules, &[], &[rel]).unwrap();
        assert!(
            matches!(d, Decision::Synced(_)),
            "deleting {rel} must be synced"
        );
        let gone = wait_for(c.port, path, within, |s, _| s == 404);
        assert!(
            gone.is_ok(),
            "{path} after deleting {rel}: {gone:?}\n{}",
            c.logs()
        );
    }

    fn manifest_goes_to_rebuild(
        c: &Container,
        ctx: &Path,
        rules: &[filesync_rules::SyncRule],
        manifest: &str,
    ) {
        // Let earlier reloads finish logging (after `rm` the supervisor waits
        // briefly for a `tar` of the same batch).
        std::thread::sleep(Duration::from_millis(800));
        let before = c.logs();
        std::fs::write(
            ctx.join(manifest),
            std::fs::read_to_string(ctx.join(manifest)).unwrap() + "\n",
        )
        .unwrap();
        let d = sync(c, ctx, rules, &[manifest], &[]).unwrap();
        assert_eq!(
            d,
            Decision::Rebuild,
            "{manifest}: Skaffold must rebuild, not sync"
        );
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(c.logs(), before, "nothing was exec'd in the container");
    }

    #[test]
    fn node_on_base() {
        let ctx = context("node");
        let spec = BuildSpec::new(ctx.path())
            .devmode()
            .provider(provider("node"));
        let (c, rules) = start(ctx.path(), spec, "/", "Node.js v1");
        let median = edits(&c, ctx.path(), &rules, "lib/message.js", "/", |i| {
            (
                format!("module.exports = \"Hello from Node.js v{i}\";\n"),
                format!("Node.js v{i}"),
            )
        });
        eprintln!(
            "save-to-live node (base): median of 5 = {} ms",
            median.as_millis()
        );
        deletion_disappears(
            &c,
            ctx.path(),
            &rules,
            "public/about.html",
            "/static/about.html",
            Duration::from_secs(20),
        );
        manifest_goes_to_rebuild(&c, ctx.path(), &rules, "package.json");
        assert!(
            c.logs().contains("[filesync] sync: 1 file(s) -> restarted"),
            "{}",
            c.logs()
        );
    }

    #[test]
    fn python_on_base() {
        let ctx = context("python");
        let debs = filesync_e2e::providers::python_debs().unwrap();
        let spec = BuildSpec::new(ctx.path())
            .devmode()
            .env("E2E_PYTHON_DEBS", debs.to_str().unwrap())
            .provider(provider("python"));
        let (c, rules) = start(ctx.path(), spec, "/", "Python v1");
        let median = edits(&c, ctx.path(), &rules, "message.py", "/", |i| {
            (
                format!("MESSAGE = \"Hello from Python v{i}\"\n"),
                format!("Python v{i}"),
            )
        });
        eprintln!(
            "save-to-live python (base): median of 5 = {} ms",
            median.as_millis()
        );
        deletion_disappears(
            &c,
            ctx.path(),
            &rules,
            "templates/page.html",
            "/page",
            Duration::from_secs(20),
        );
        manifest_goes_to_rebuild(&c, ctx.path(), &rules, "requirements.txt");
    }

    #[test]
    fn php_on_base() {
        let ctx = context("php");
        let debs = filesync_e2e::providers::php_debs().unwrap();
        let spec = BuildSpec::new(ctx.path())
            .devmode()
            .env("E2E_PHP_DEBS", debs.to_str().unwrap())
            .provider(provider("php"));
        let (c, rules) = start(ctx.path(), spec, "/", "PHP v1");
        let median = edits(&c, ctx.path(), &rules, "src/message.php", "/", |i| {
            (
                format!("<?php\n\nreturn 'Hello from PHP v{i}';\n"),
                format!("PHP v{i}"),
            )
        });
        eprintln!(
            "save-to-live php (base): median of 5 = {} ms",
            median.as_millis()
        );
        deletion_disappears(
            &c,
            ctx.path(),
            &rules,
            "public/about.php",
            "/about.php",
            Duration::from_secs(20),
        );
        manifest_goes_to_rebuild(&c, ctx.path(), &rules, "composer.json");
        assert!(
            c.logs().contains("nothing to reload"),
            "PHP reads its files on every request, no restart:\n{}",
            c.logs()
        );
    }

    #[test]
    fn static_site_on_base() {
        let ctx = context("static");
        let spec = BuildSpec::new(ctx.path())
            .devmode()
            .provider(provider("static-web"));
        let (c, rules) = start(ctx.path(), spec, "/", "Static v1");
        let median = edits(&c, ctx.path(), &rules, "index.html", "/", |i| {
            (format!("<h1>Static v{i}</h1>\n"), format!("Static v{i}"))
        });
        eprintln!(
            "save-to-live static (base): median of 5 = {} ms",
            median.as_millis()
        );
        deletion_disappears(
            &c,
            ctx.path(),
            &rules,
            "about.html",
            "/about.html",
            Duration::from_secs(20),
        );
        manifest_goes_to_rebuild(&c, ctx.path(), &rules, "Procfile");
        assert!(
            c.logs().contains("nothing to reload"),
            "static files need no restart:\n{}",
            c.logs()
        );
    }

    #[test]
    fn go_on_tiny_is_rebuilt_in_the_container() {
        let ctx = context("go");
        let spec = BuildSpec::new(ctx.path())
            .devmode()
            .run_image("tiny")
            .provider(provider("go"));
        let (c, rules) = start(ctx.path(), spec, "/", "Go v1");
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
            assert!(!c.has(tool), "tiny must not have /{tool}");
        }
        let median =
            edits(&c, ctx.path(), &rules, "message.go", "/", |i| {
                (
            format!("package main\n\nfunc message() string {{ return \"Hello from Go v{i}\" }}\n"),
            format!("Go v{i}"),
        )
            });
        eprintln!(
            "save-to-live go (tiny, rebuild in the container): median of 5 = {} ms",
            median.as_millis()
        );
        // A compile error keeps the old version serving…
        std::fs::write(
            ctx.path().join("message.go"),
            "package main\n\nfunc message() string { return oops }\n",
        )
        .unwrap();
        sync(&c, ctx.path(), &rules, &["message.go"], &[]).unwrap();
        let failed = filesync_e2e::http::wait_for(c.port, "/", Duration::from_secs(120), |_, _| {
            c.logs().contains("rebuild failed")
        });
        assert!(failed.is_ok(), "{}", c.logs());
        let still = filesync_e2e::http::get(c.port, "/").unwrap();
        assert!(
            still.1.contains("Go v6"),
            "old version keeps serving: {still:?}"
        );
        assert!(
            c.logs().contains("undefined: oops"),
            "the compiler error is shown:\n{}",
            c.logs()
        );
        // …and fixing it brings the new one.
        std::fs::write(
            ctx.path().join("message.go"),
            "package main\n\nfunc message() string { return \"Hello from Go fixed\" }\n",
        )
        .unwrap();
        sync(&c, ctx.path(), &rules, &["message.go"], &[]).unwrap();
        let fixed = wait_for(c.port, "/", Duration::from_secs(120), |s, b| {
            s == 200 && b.contains("Go fixed")
        });
        assert!(fixed.is_ok(), "{fixed:?}\n{}", c.logs());
        // Deleting a source file is synced too, and the rebuild drops its
        // handler.
        deletion_disappears(
            &c,
            ctx.path(),
            &rules,
            "about.go",
            "/about",
            Duration::from_secs(120),
        );
        manifest_goes_to_rebuild(&c, ctx.path(), &rules, "go.mod");
    }

    #[test]
    fn java_on_base_is_rebuilt_with_maven_in_the_container() {
        let ctx = context("java");
        let inputs = filesync_e2e::providers::java_inputs(ctx.path()).unwrap();
        let spec = BuildSpec::new(ctx.path())
            .devmode()
            .env("E2E_JAVA_INPUTS", inputs.to_str().unwrap())
            .provider(provider("java"));
        let (c, rules) = start(ctx.path(), spec, "/", "Java v1");
        let rel = "src/main/java/example/Message.java";
        let median = edits(&c, ctx.path(), &rules, rel, "/", |i| {
            (
            format!(
                "package example;\n\nfinal class Message {{\n  static final String TEXT = \"Hello from Java v{i}\";\n\n  private Message() {{}}\n}}\n"
            ),
            format!("Java v{i}"),
        )
        });
        eprintln!(
            "save-to-live java (base, mvn -o package in the container): median of 5 = {} ms",
            median.as_millis()
        );
        assert!(
            c.logs().contains("mvn -o -q package -DskipTests"),
            "rebuilt with Maven:\n{}",
            c.logs()
        );
        deletion_disappears(
            &c,
            ctx.path(),
            &rules,
            "src/main/resources/public/about.html",
            "/static/about.html",
            Duration::from_secs(20),
        );
        manifest_goes_to_rebuild(&c, ctx.path(), &rules, "pom.xml");
    }
}
