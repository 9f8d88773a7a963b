//! Language families: how an app is recognised from its files, which file
//! extensions are its editable sources, and how it reloads.

use crate::{Family, ReloadAction};
use std::path::Path;

impl Family {
    pub const ALL: [Family; 8] = [
        Family::Node,
        Family::Python,
        Family::Ruby,
        Family::Php,
        Family::Go,
        Family::Java,
        Family::Dotnet,
        Family::Static,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Node => "node",
            Family::Python => "python",
            Family::Ruby => "ruby",
            Family::Php => "php",
            Family::Go => "go",
            Family::Java => "java",
            Family::Dotnet => "dotnet",
            Family::Static => "static",
        }
    }

    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Extensions whose files are synced. Manifests that share one (e.g.
    /// `package.json`) are kept out by the rule generator.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Family::Node => NODE_EXTENSIONS,
            Family::Python => PYTHON_EXTENSIONS,
            Family::Ruby => RUBY_EXTENSIONS,
            Family::Php => PHP_EXTENSIONS,
            Family::Go => GO_EXTENSIONS,
            Family::Java => JAVA_EXTENSIONS,
            Family::Dotnet => DOTNET_EXTENSIONS,
            Family::Static => STATIC_EXTENSIONS,
        }
    }

    /// The family's own source extensions: every such file outside excluded
    /// dirs must be synced (the property tests check this).
    pub fn main_extensions(self) -> &'static [&'static str] {
        match self {
            Family::Node => &["js", "mjs", "ts"],
            Family::Python => &["py"],
            Family::Ruby => &["rb", "erb"],
            Family::Php => &["php"],
            Family::Go => &["go"],
            Family::Java => &["java"],
            Family::Dotnet => &["cs"],
            Family::Static => &["html", "css", "js"],
        }
    }
}

/// Synced extensions of the Node family (see [`Family::extensions`]).
const NODE_EXTENSIONS: &[&str] = &[
    "js",
    "mjs",
    "cjs",
    "jsx",
    "ts",
    "mts",
    "cts",
    "tsx",
    "coffee",
    "litcoffee",
    "json",
    "vue",
    "svelte",
    "hbs",
    "ejs",
    "pug",
    "html",
    "htm",
    "css",
    "scss",
    "sass",
    "less",
    "svg",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "ico",
    "webp",
    "woff",
    "woff2",
    "ttf",
    "map",
    "webmanifest",
    "txt",
    "md",
];

/// Synced extensions of the Python family (see [`Family::extensions`]).
const PYTHON_EXTENSIONS: &[&str] = &[
    "py", "pyi", "html", "htm", "jinja", "jinja2", "j2", "txt", "json", "yaml", "yml", "toml",
    "cfg", "ini", "sql", "css", "js", "svg", "png", "jpg", "jpeg", "gif", "ico", "webp", "md",
];

/// Synced extensions of the Ruby family (see [`Family::extensions`]).
const RUBY_EXTENSIONS: &[&str] = &[
    "rb", "ru", "rake", "erb", "haml", "slim", "builder", "jbuilder", "yml", "yaml", "json",
    "html", "htm", "css", "scss", "sass", "js", "coffee", "svg", "png", "jpg", "jpeg", "gif",
    "ico", "webp", "md",
];

/// Synced extensions of the Php family (see [`Family::extensions`]).
const PHP_EXTENSIONS: &[&str] = &[
    "php", "phtml", "inc", "twig", "tpl", "html", "htm", "css", "js", "json", "yml", "yaml", "xml",
    "ini", "svg", "png", "jpg", "jpeg", "gif", "ico", "webp", "md",
];

/// Synced extensions of the Go family (see [`Family::extensions`]).
const GO_EXTENSIONS: &[&str] = &[
    "go", "tmpl", "gohtml", "tpl", "html", "htm", "css", "js", "json", "yaml", "yml", "sql", "svg",
    "png", "jpg", "jpeg", "gif", "ico", "webp", "md",
];

/// Synced extensions of the Java family (see [`Family::extensions`]).
const JAVA_EXTENSIONS: &[&str] = &[
    "java",
    "kt",
    "kts",
    "scala",
    "groovy",
    "gradle",
    "properties",
    "xml",
    "yml",
    "yaml",
    "json",
    "sql",
    "html",
    "htm",
    "css",
    "js",
    "svg",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "ico",
    "webp",
    "md",
];

/// Synced extensions of the Dotnet family (see [`Family::extensions`]).
const DOTNET_EXTENSIONS: &[&str] = &[
    "cs", "fs", "vb", "cshtml", "razor", "json", "xml", "config", "html", "htm", "css", "js",
    "svg", "png", "jpg", "jpeg", "gif", "ico", "webp", "md",
];

/// Synced extensions of the Static family (see [`Family::extensions`]).
const STATIC_EXTENSIONS: &[&str] = &[
    "html",
    "htm",
    "css",
    "js",
    "mjs",
    "json",
    "xml",
    "txt",
    "svg",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "ico",
    "webp",
    "avif",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "map",
    "webmanifest",
    "pdf",
    "md",
];

/// Detects the family from marker files at the root of `app`. Order
/// matters: many apps of other families carry a `package.json` for their
/// front-end assets, so Node.js comes after them.
pub fn detect(app: &Path) -> Option<Family> {
    let has = |name: &str| app.join(name).exists();
    let has_ext = |ext: &str| {
        std::fs::read_dir(app)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.path().extension().and_then(|x| x.to_str()) == Some(ext) && e.path().is_file()
            })
    };
    if has("go.mod") || has_ext("go") {
        Some(Family::Go)
    } else if has("pom.xml")
        || has("build.gradle")
        || has("build.gradle.kts")
        || has("mvnw")
        || has("gradlew")
    {
        Some(Family::Java)
    } else if has_ext("csproj") || has_ext("fsproj") || has_ext("vbproj") || has_ext("sln") {
        Some(Family::Dotnet)
    } else if has("composer.json") || has_ext("php") {
        Some(Family::Php)
    } else if has("Gemfile") || has("gems.rb") || has("config.ru") {
        Some(Family::Ruby)
    } else if has("requirements.txt")
        || has("Pipfile")
        || has("pyproject.toml")
        || has("setup.py")
        || has_ext("py")
    {
        Some(Family::Python)
    } else if has("package.json") {
        Some(Family::Node)
    } else if has("index.html") || has("public/index.html") || has_ext("html") {
        Some(Family::Static)
    } else {
        None
    }
}

/// A more precise description for humans (package manager, TypeScript…).
pub fn variant(app: &Path, family: Family) -> &'static str {
    let has = |name: &str| app.join(name).exists();
    match family {
        Family::Node if has("tsconfig.json") && has("pnpm-lock.yaml") => "typescript, pnpm",
        Family::Node if has("tsconfig.json") && has("yarn.lock") => "typescript, yarn",
        Family::Node if has("tsconfig.json") => "typescript, npm",
        Family::Node if has("pnpm-lock.yaml") => "pnpm",
        Family::Node if has("yarn.lock") => "yarn",
        Family::Node => "npm",
        Family::Python
            if has("poetry.lock") || has("pyproject.toml") && !has("requirements.txt") =>
        {
            "poetry"
        }
        Family::Python if has("Pipfile") => "pipenv",
        Family::Python => "pip",
        Family::Ruby if has("config/routes.rb") => "bundler, rails",
        Family::Ruby => "bundler",
        Family::Php => "composer",
        Family::Go => "go modules",
        Family::Java if has("pom.xml") || has("mvnw") => "maven",
        Family::Java => "gradle",
        Family::Dotnet => "dotnet",
        Family::Static => "static files",
    }
}

/// How the app reloads after a synced change.
pub fn reload_action(app: &Path, family: Family) -> ReloadAction {
    let has = |name: &str| app.join(name).exists();
    let argv = |v: &[&str]| ReloadAction::Rebuild {
        command: v.iter().map(std::string::ToString::to_string).collect(),
    };
    match family {
        // Interpreted: the new files take effect when the process restarts.
        Family::Node if has("tsconfig.json") && node_has_build_script(app) => {
            if has("pnpm-lock.yaml") {
                argv(&["pnpm", "run", "build"])
            } else if has("yarn.lock") {
                argv(&["yarn", "run", "build"])
            } else {
                argv(&["npm", "run", "build"])
            }
        }
        Family::Node | Family::Python | Family::Ruby => ReloadAction::Restart,
        // PHP reads its scripts on every request; static files are served
        // as they are: nothing to do.
        Family::Php | Family::Static => ReloadAction::None,
        // Compiled: rebuild into the executable the process runs.
        Family::Go => argv(&["go", "build", "-o", "{process_command}", "."]),
        Family::Java if has("mvnw") => {
            argv(&["./mvnw", "-o", "-q", "clean", "package", "-DskipTests"])
        }
        Family::Java if has("pom.xml") => {
            argv(&["mvn", "-o", "-q", "clean", "package", "-DskipTests"])
        }
        Family::Java if has("gradlew") => {
            argv(&["./gradlew", "--offline", "-q", "build", "-x", "test"])
        }
        Family::Java => argv(&["gradle", "--offline", "-q", "build", "-x", "test"]),
        Family::Dotnet => argv(&["dotnet", "build", "--no-restore", "-c", "Debug"]),
    }
}

fn node_has_build_script(app: &Path) -> bool {
    std::fs::read_to_string(app.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v["scripts"]["build"].is_string())
}
