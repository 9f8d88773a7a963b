//! What the real-`skaffold dev` suites share (tests/skaffold_dev.rs, docker
//! deployer; tests/skaffold_kubectl.rs, kubectl deployer on the project's
//! cluster): each example, what a developer does to it, and the case
//! itself. An edit gives Skaffold's own `Syncing 1 files` line, no new
//! build, and the app serves it; a deleted file stops being served; a
//! dependency-manifest change makes Skaffold rebuild and redeploy. The
//! examples with third-party dependencies ([`Deps`]) also show, after
//! every sync and restart, what only their dependencies produce, and
//! their manifest change adds a dependency that the new container serves.
//!
//! Each case prints `save-to-live` lines: the time from the save to the
//! app serving it, split into Skaffold's part (save → its `Syncing` line:
//! its watcher's 1 s poll and debounce) and the rest (`docker exec` or
//! `kubectl exec` of `tar`, our shim, the reload, the app's start-up).

// Each test binary uses part of this module.
#![allow(dead_code)]

pub mod restart;
use filesync_e2e::builder::Stack;
use filesync_e2e::http::{get, wait_for};
use filesync_e2e::skaffold_dev::{Deployer, Line, Mode, SkaffoldDev};
use std::time::{Duration, Instant};

/// The first build of a `skaffold dev` (builder and run image pulled,
/// every layer made) on a loaded 2-core CI machine.
pub const FIRST_BUILD: Duration = Duration::from_secs(900);
/// From a save to Skaffold's `Syncing` line (its watcher polls once a
/// second).
pub const TO_SYNC: Duration = Duration::from_secs(30);

/// One example and what a developer does to it.
pub struct Case {
    pub example: &'static str,
    pub stack: Stack,
    /// Where the app shows the text the edits change.
    pub page: &'static str,
    pub first: &'static str,
    /// The file a developer edits, and its content for version `i`
    /// with the marker the page then shows.
    pub edit: &'static str,
    pub make: fn(usize) -> (String, String),
    /// A file to delete and the path that serves it.
    pub delete: (&'static str, &'static str),
    /// A dependency manifest: a change must rebuild, not sync.
    pub manifest: &'static str,
    /// The app's reload rebuilds in the container (slower).
    pub rebuilds: bool,
    /// For an example with third-party dependencies: what they show.
    pub deps: Option<Deps>,
}

/// An example's third-party dependencies, seen from its pages.
pub struct Deps {
    /// On `page` after every sync and restart: text only the installed
    /// dependencies produce (and where the app found them).
    pub shows: &'static [&'static str],
    /// The page that the added dependency serves after the manifest
    /// change, and what only it produces there. The change is the files
    /// of `crates/e2e/fixtures/added-dependency/<example>/`, written in
    /// one save (code first, manifests last).
    pub added_page: &'static str,
    pub added_shows: &'static str,
}

/// Manifests and lockfiles among a fixture's files: written last.
const MANIFESTS: &[&str] = &[
    "package.json",
    "package-lock.json",
    "requirements.txt",
    "pom.xml",
    "go.mod",
    "go.sum",
];

/// The files of the example's added-dependency fixture (path relative to
/// the fixture, content), code first and manifests last.
fn added_dependency_files(example: &str) -> Vec<(String, String)> {
    let root = filesync_e2e::tools::repo_root()
        .join(filesync_e2e::dependencies::ADDED_DEPENDENCY)
        .join(example);
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let is_manifest = |rel: &str| MANIFESTS.iter().any(|m| rel.rsplit('/').next() == Some(m));
    files.sort_by_key(|(rel, _)| (is_manifest(rel), rel.clone()));
    files
}

/// Fails unless `page`'s next successful answer shows everything the
/// dependencies produce (waiting for it: a deletion may be restarting the
/// app).
fn assert_dependencies_load(dev: &SkaffoldDev, case: &Case, what: &str) {
    let Some(deps) = &case.deps else {
        return;
    };
    let answer = std::cell::RefCell::new(String::new());
    let answered = wait_for(dev.port, case.page, Duration::from_secs(60), |s, b| {
        *answer.borrow_mut() = b.to_string();
        s == 200
    });
    assert!(
        answered.is_ok(),
        "{what}: {} does not answer: {answered:?}\n{}",
        case.page,
        dev.log()
    );
    let body = answer.into_inner();
    for want in deps.shows {
        assert!(
            body.contains(want),
            "{what}: the dependencies no longer load: {:?} lacks {want:?}\n{}",
            body,
            dev.log()
        );
    }
}

pub fn run(case: &Case, mode: Mode, deployer: Deployer) {
    let label = format!(
        "{} ({:?}, {}{})",
        case.example,
        case.stack,
        match mode {
            Mode::Generated => "generated",
            Mode::Auto => "auto",
        },
        match deployer {
            Deployer::Docker => "",
            Deployer::Kubectl => ", kubectl",
        }
    )
    .to_lowercase();
    let started = Instant::now();
    let dev = SkaffoldDev::start_with(case.example, mode, case.stack, deployer)
        .unwrap_or_else(|e| panic!("{label}: {e:#}"));
    let up = dev.wait_up(case.page, FIRST_BUILD, |s, b| {
        s == 200 && b.contains(case.first)
    });
    if let Err(e) = up {
        panic!("{label}: never served {:?}: {e:#}", case.first);
    }
    eprintln!(
        "{label}: first build and deploy served after {} s",
        started.elapsed().as_secs()
    );
    let sync_line = dev
        .wait_line(0, "Watching for changes", Duration::from_secs(60))
        .unwrap();
    let _ = sync_line;

    // Edits: synced (Skaffold's own line), never rebuilt, and served.
    let mut totals = Vec::new();
    let mut ours = Vec::new();
    let within = if case.rebuilds {
        Duration::from_secs(300)
    } else {
        Duration::from_secs(60)
    };
    // FILESYNC_EDITS=N for more edits per case (scripts/bench-skaffold.sh).
    let edits: usize = std::env::var("FILESYNC_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let last = edits + 1;
    for i in 2..=last {
        let (content, marker) = (case.make)(i);
        let edit = save_synced_served(
            &dev,
            case.edit,
            &content,
            case.page,
            &marker,
            within,
            &format!("{label}: edit {i} of {}", case.edit),
        );
        assert_dependencies_load(&dev, case, &format!("{label}: after edit {i}"));
        let (saved, synced, live) = (edit.saved, edit.synced, edit.live);
        totals.push(live - saved);
        ours.push(live.saturating_duration_since(synced.at));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_millis()
    };
    let (total, after_sync) = (median(&mut totals), median(&mut ours));
    eprintln!(
        "save-to-live {label}: median of {edits} = {total} ms (Skaffold's watch → `Syncing` line: {} ms; sync, reload and app start: {after_sync} ms)",
        total.saturating_sub(after_sync)
    );

    // A deletion is synced and the file stops being served.
    let (rel, path) = case.delete;
    assert_eq!(
        get(dev.port, path).map(|r| r.0).ok(),
        Some(200),
        "{label}: {path} is served before it is deleted"
    );
    let mark = dev.mark();
    dev.remove(rel);
    dev.wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{label}: deleting {rel} not synced: {e:#}"));
    let gone = wait_for(dev.port, path, within, |s, _| s == 404);
    assert!(
        gone.is_ok(),
        "{label}: {path} after deleting {rel}: {gone:?}\n{}",
        dev.log()
    );
    assert_dependencies_load(&dev, case, &format!("{label}: after deleting {rel}"));

    // A dependency manifest: Skaffold rebuilds and redeploys. With
    // dependencies, the change adds one (and code using it).
    let (_, last_marker) = (case.make)(last);
    let mark = dev.mark();
    let path = dev.ctx().join(case.manifest);
    let old = std::fs::read_to_string(&path).unwrap();
    // (No other case of this process may redeploy or stop meanwhile.)
    let prune = filesync_e2e::skaffold_dev::prune_lock();
    let saved = match &case.deps {
        None => dev.write(case.manifest, &format!("{old}\n")),
        Some(_) => {
            let files = added_dependency_files(case.example);
            let mut saved = None;
            for (rel, content) in &files {
                saved.get_or_insert(dev.write(rel, content));
            }
            saved.expect("an added-dependency fixture has files")
        }
    };
    let building = dev
        .wait_line(mark, "Building [", TO_SYNC)
        .unwrap_or_else(|e| panic!("{label}: {} did not rebuild: {e:#}", case.manifest));
    let deployed = dev
        .wait_line(building.index, "Watching for changes", FIRST_BUILD)
        .unwrap_or_else(|e| panic!("{label}: no redeploy: {e:#}"));
    let served = wait_for(dev.port, case.page, Duration::from_secs(120), |s, b| {
        s == 200 && b.contains(&last_marker)
    });
    assert!(
        served.is_ok(),
        "{label}: not served after the redeploy: {served:?}\n{}",
        dev.log()
    );
    if let Some(deps) = &case.deps {
        let added = wait_for(
            dev.port,
            deps.added_page,
            Duration::from_secs(60),
            |s, b| s == 200 && b.contains(deps.added_shows),
        );
        assert!(
            added.is_ok(),
            "{label}: the added dependency is not served on {}: {added:?}\n{}",
            deps.added_page,
            dev.log()
        );
        assert_dependencies_load(&dev, case, &format!("{label}: after the rebuild"));
    }
    drop(prune);
    let synced: Vec<_> = dev
        .lines_from(mark)
        .into_iter()
        .filter(|l| l.contains("Syncing"))
        .collect();
    assert!(
        synced.is_empty(),
        "{label}: {} must not be synced: {synced:?}",
        case.manifest
    );
    let rebuild = (Instant::now() - saved).as_millis();
    eprintln!(
        "rebuild-and-redeploy {label}: {rebuild} ms from saving {} to the new {} serving ({} ms to Skaffold's `Watching` line)",
        case.manifest,
        match deployer {
            Deployer::Docker => "container",
            Deployer::Kubectl => "pod",
        },
        (deployed.at - saved).as_millis()
    );
    eprintln!("case {label}: {} s in all", started.elapsed().as_secs());
    // One line for scripts/bench-skaffold.sh to tabulate.
    eprintln!(
        "BENCH example={} stack={:?} mode={mode:?} edits={edits} sync_ms={total} skaffold_ms={} ours_ms={after_sync} rebuild_ms={rebuild}{}",
        case.example,
        case.stack,
        total.saturating_sub(after_sync),
        match deployer {
            Deployer::Docker => "",
            Deployer::Kubectl => " deployer=kubectl",
        }
    );
}

fn node(i: usize) -> (String, String) {
    (
        format!("module.exports = \"Hello from Node.js v{i}\";\n"),
        format!("Node.js v{i}"),
    )
}
pub const NODE: Case = Case {
    example: "node",
    stack: Stack::Base,
    page: "/",
    first: "Node.js v1",
    edit: "lib/message.js",
    make: node,
    delete: ("public/about.html", "/static/about.html"),
    manifest: "package.json",
    rebuilds: false,
    deps: None,
};

fn python(i: usize) -> (String, String) {
    (
        format!("MESSAGE = \"Hello from Python v{i}\"\n"),
        format!("Python v{i}"),
    )
}
pub const PYTHON: Case = Case {
    example: "python",
    stack: Stack::Base,
    page: "/",
    first: "Python v1",
    edit: "message.py",
    make: python,
    delete: ("templates/page.html", "/page"),
    manifest: "requirements.txt",
    rebuilds: false,
    deps: None,
};

fn php(i: usize) -> (String, String) {
    (
        format!("<?php\n\nreturn 'Hello from PHP v{i}';\n"),
        format!("PHP v{i}"),
    )
}
pub const PHP: Case = Case {
    example: "php",
    stack: Stack::Base,
    page: "/",
    first: "PHP v1",
    edit: "src/message.php",
    make: php,
    delete: ("public/about.php", "/about.php"),
    manifest: "composer.json",
    rebuilds: false,
    deps: None,
};

fn static_site(i: usize) -> (String, String) {
    (format!("<h1>Static v{i}</h1>\n"), format!("Static v{i}"))
}
pub const STATIC: Case = Case {
    example: "static",
    stack: Stack::Base,
    page: "/",
    first: "Static v1",
    edit: "index.html",
    make: static_site,
    delete: ("about.html", "/about.html"),
    manifest: "Procfile",
    rebuilds: false,
    deps: None,
};

fn go(i: usize) -> (String, String) {
    (
        format!("package main\n\nfunc message() string {{ return \"Hello from Go v{i}\" }}\n"),
        format!("Go v{i}"),
    )
}
pub const GO: Case = Case {
    example: "go",
    stack: Stack::Tiny,
    page: "/",
    first: "Go v1",
    edit: "message.go",
    make: go,
    delete: ("about.go", "/about"),
    manifest: "go.mod",
    rebuilds: true,
    deps: None,
};

fn java(i: usize) -> (String, String) {
    (
        format!(
            "package example;\n\nfinal class Message {{\n  static final String TEXT = \"Hello from Java v{i}\";\n\n  private Message() {{}}\n}}\n"
        ),
        format!("Java v{i}"),
    )
}
pub const JAVA: Case = Case {
    example: "java",
    stack: Stack::Base,
    page: "/",
    first: "Java v1",
    edit: "src/main/java/example/Message.java",
    make: java,
    delete: ("src/main/resources/public/about.html", "/static/about.html"),
    manifest: "pom.xml",
    rebuilds: true,
    deps: None,
};

fn node_express(i: usize) -> (String, String) {
    (
        format!("module.exports = \"Hello from Express v{i}\";\n"),
        format!("Express v{i}"),
    )
}
/// express from npm: node_modules in npm-install's launch layer, linked
/// from /workspace (node resolves the link: the path shows the layer).
pub const NODE_EXPRESS: Case = Case {
    example: "node-express",
    stack: Stack::Base,
    page: "/",
    first: "Express v1",
    edit: "lib/message.js",
    make: node_express,
    delete: ("public/about.html", "/static/about.html"),
    manifest: "package.json",
    rebuilds: false,
    deps: Some(Deps {
        shows: &[
            "served by express 4.21.2 (route /)",
            "from /layers/e2e_node/launch-modules/node_modules/express",
        ],
        added_page: "/markdown",
        added_shows: "<strong>marked</strong>",
    }),
};

fn python_flask(i: usize) -> (String, String) {
    (
        format!("MESSAGE = \"Hello from Flask v{i}\"\n"),
        format!("Flask v{i}"),
    )
}
/// Flask and gunicorn from PyPI: pip-install's site-packages layer on
/// PYTHONPATH, gunicorn on PATH.
pub const PYTHON_FLASK: Case = Case {
    example: "python-flask",
    stack: Stack::Base,
    page: "/",
    first: "Flask v1",
    edit: "message.py",
    make: python_flask,
    delete: ("static/about.html", "/static/about.html"),
    manifest: "requirements.txt",
    rebuilds: false,
    deps: Some(Deps {
        shows: &[
            "rendered by Jinja: JINJA FILTERS WORK",
            "flask 3.1.0 from /layers/e2e_python/packages/lib/python3.11/site-packages/flask/",
        ],
        added_page: "/markdown",
        added_shows: "<strong>markdown</strong>",
    }),
};

fn spring_boot(i: usize) -> (String, String) {
    (
        format!(
            "package example;\n\nimport org.springframework.stereotype.Service;\n\n/** The service the controller calls: a Spring bean. */\n@Service\npublic class Greeting {{\n  public String text() {{\n    return \"Hello from Spring Boot v{i}\";\n  }}\n}}\n"
        ),
        format!("Spring Boot v{i}"),
    )
}
/// Spring Boot from Maven Central: the exploded JAR run by Spring Boot's
/// launcher; the in-container rebuild with the offline repository.
pub const JAVA_SPRING_BOOT: Case = Case {
    example: "java-spring-boot",
    stack: Stack::Base,
    page: "/",
    first: "Spring Boot v1",
    edit: "src/main/java/example/Greeting.java",
    make: spring_boot,
    delete: ("src/main/resources/static/about.html", "/about.html"),
    manifest: "pom.xml",
    rebuilds: true,
    deps: Some(Deps {
        shows: &[
            "from the Spring bean Greeting of filesync-example-java-spring-boot, Spring Boot 3.4.1",
        ],
        added_page: "/markdown",
        added_shows: "<strong>commonmark</strong>",
    }),
};

fn go_modules(i: usize) -> (String, String) {
    (
        format!(
            "package main\n\nfunc message() string {{ return \"Hello from Go modules v{i}\" }}\n"
        ),
        format!("Go modules v{i}"),
    )
}
/// A third-party module from the Go module proxy, vendored by
/// go-mod-vendor; rebuilt in the container on tiny.
pub const GO_MODULES: Case = Case {
    example: "go-modules",
    stack: Stack::Tiny,
    page: "/",
    first: "Go modules v1",
    edit: "message.go",
    make: go_modules,
    delete: ("about.go", "/about"),
    manifest: "go.mod",
    rebuilds: true,
    deps: Some(Deps {
        shows: &["go-humanize says 1,234,567 bytes is 1.2 MB"],
        added_page: "/markdown",
        added_shows: "<strong>goldmark</strong>",
    }),
};

/// Every example, in the order the suites run them.
pub const CASES: [&Case; 10] = [
    &NODE,
    &PYTHON,
    &PHP,
    &STATIC,
    &GO,
    &JAVA,
    &NODE_EXPRESS,
    &PYTHON_FLASK,
    &GO_MODULES,
    &JAVA_SPRING_BOOT,
];

/// One save of the node example that edits `lib/message.js` and deletes
/// `public/contact.html`: Skaffold syncs both in one batch (`Syncing 2
/// files`: `tar`, then `rm`, then — kubectl deployer only — the after-sync
/// hook). Waits until the app's own start record (`/starts`: one line per
/// start, with the files of public/ it found) ends with a start that saw
/// the file deleted, checks the edit is served and the file is not, and
/// returns how many times the app restarted for the save.
pub fn edit_and_delete_in_one_save(deployer: Deployer) -> usize {
    let dev = SkaffoldDev::start_with("node", Mode::Generated, Stack::Base, deployer)
        .unwrap_or_else(|e| panic!("{e:#}"));
    if let Err(e) = dev.wait_up("/", FIRST_BUILD, |s, b| {
        s == 200 && b.contains("Node.js v1")
    }) {
        panic!("never served v1: {e:#}");
    }
    dev.wait_line(0, "Watching for changes", Duration::from_secs(60))
        .unwrap();
    let starts = || get(dev.port, "/starts").map(|r| r.1).unwrap_or_default();
    let before = starts().lines().count();
    assert_eq!(before, 1, "one start so far: {}", starts());

    let mark = dev.mark();
    dev.write(
        "lib/message.js",
        "module.exports = \"Hello from Node.js, edited and deleted\";\n",
    );
    dev.remove("public/contact.html");
    let synced = dev
        .wait_line(mark, "Syncing 2 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("one batch of 2 files: {e:#}\n{}", dev.log()));
    dev.wait_line(synced.index, "Watching for changes", TO_SYNC)
        .unwrap_or_else(|e| panic!("{e:#}\n{}", dev.log()));
    let settled = wait_for(dev.port, "/starts", Duration::from_secs(30), |s, b| {
        s == 200
            && b.lines()
                .last()
                .is_some_and(|l| l.contains("public=about.html") && !l.contains("contact"))
    });
    assert!(
        settled.is_ok(),
        "the last start must see contact.html deleted: {settled:?}\n{}",
        dev.log()
    );
    let record = starts();
    let restarts = record.lines().count() - before;
    eprintln!(
        "edit+delete in one save ({deployer:?} deployer): {restarts} restart(s); starts:\n{record}"
    );
    assert!(get(dev.port, "/").unwrap().1.contains("edited and deleted"));
    assert_eq!(get(dev.port, "/static/contact.html").unwrap().0, 404);
    restarts
}

/// A save that Skaffold synced and the app serves.
pub struct Synced {
    pub saved: Instant,
    /// Skaffold's `Syncing 1 files` line.
    pub synced: Line,
    /// When the app first answered `page` with the marker.
    pub live: Instant,
}

/// Saves `content` as `rel`, then asserts, waiting on each event, that
/// Skaffold syncs it (`Syncing 1 files` within [`TO_SYNC`]), the app
/// serves `marker` on `page` within `within`, and Skaffold built no image
/// for it. `what` names the save in failures.
pub fn save_synced_served(
    dev: &SkaffoldDev,
    rel: &str,
    content: &str,
    page: &str,
    marker: &str,
    within: Duration,
    what: &str,
) -> Synced {
    let mark = dev.mark();
    let saved = dev.write(rel, content);
    let synced = dev
        .wait_line(mark, "Syncing 1 files", TO_SYNC)
        .unwrap_or_else(|e| panic!("{what}: not synced: {e:#}"));
    let served = wait_for(dev.port, page, within, |s, b| {
        s == 200 && b.contains(marker)
    });
    assert!(
        served.is_ok(),
        "{what}: never served: {served:?}\n{}",
        dev.log()
    );
    let live = Instant::now();
    assert_no_image_build(dev, mark, what);
    Synced {
        saved,
        synced,
        live,
    }
}

/// Skaffold built no image since output line `mark`: the saves since were
/// synced, not rebuilt.
pub fn assert_no_image_build(dev: &SkaffoldDev, mark: usize, what: &str) {
    let rebuilt: Vec<_> = dev
        .lines_from(mark)
        .into_iter()
        .filter(|l| l.contains("Building ["))
        .collect();
    assert!(
        rebuilt.is_empty(),
        "{what}: must sync, not rebuild the image: {rebuilt:?}"
    );
}
