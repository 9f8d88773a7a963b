//! Each example as a case: what a developer edits, deletes and changes in
//! it, and what its pages then show.

use super::{Case, Deps};
use filesync_e2e::builder::Stack;

fn node(i: usize) -> (String, String) {
    (
        format!("module.exports = \"Hello from Node.js v{i}\";\n"),
        format!("Node.js v{i}"),
    )
}
pub(crate) const NODE: Case = Case {
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
pub(crate) const PYTHON: Case = Case {
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
pub(crate) const PHP: Case = Case {
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
pub(crate) const STATIC: Case = Case {
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
pub(crate) const GO: Case = Case {
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
pub(crate) const JAVA: Case = Case {
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
/// express from npm: `node_modules` in npm-install's launch layer, linked
/// from /workspace (node resolves the link: the path shows the layer).
pub(crate) const NODE_EXPRESS: Case = Case {
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
/// Flask and gunicorn from `PyPI`: pip-install's site-packages layer on
/// PYTHONPATH, gunicorn on PATH.
pub(crate) const PYTHON_FLASK: Case = Case {
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
pub(crate) const JAVA_SPRING_BOOT: Case = Case {
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
pub(crate) const GO_MODULES: Case = Case {
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
pub(crate) const CASES: [&Case; 10] = [
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
