//! What must never be synced: dependency manifests and lockfiles (a change
//! there needs a real build to reinstall dependencies), and directories of
//! installed dependencies, VCS data and build output (their contents are
//! produced by the build, not edited by the developer).

/// File names that are dependency manifests or lockfiles, exactly.
pub const MANIFEST_NAMES: &[&str] = &[
    // Node.js
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    ".yarnrc.yml",
    ".npmrc",
    "bun.lockb",
    // Python
    "Pipfile",
    "Pipfile.lock",
    "pyproject.toml",
    "poetry.lock",
    "setup.py",
    "setup.cfg",
    "runtime.txt",
    ".python-version",
    // Ruby
    "Gemfile",
    "Gemfile.lock",
    "gems.rb",
    "gems.locked",
    ".ruby-version",
    // PHP
    "composer.json",
    "composer.lock",
    // Go
    "go.mod",
    "go.sum",
    "go.work",
    "go.work.sum",
    // Java
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "gradle.properties",
    "gradle-wrapper.properties",
    // .NET
    "global.json",
    "NuGet.Config",
    "nuget.config",
    "Directory.Build.props",
    "Directory.Packages.props",
    // Buildpacks
    "Procfile",
    "project.toml",
];

/// File-name prefixes and suffixes that make a manifest (`requirements*.txt`,
/// `*.csproj` …): `(prefix, suffix)`. The suffix is always an extension.
pub const MANIFEST_AFFIXES: &[(&str, &str)] = &[
    ("requirements", ".txt"),
    ("", ".csproj"),
    ("", ".fsproj"),
    ("", ".vbproj"),
    ("", ".sln"),
];

/// Directory names whose contents are never synced, at any depth. Any
/// directory whose name starts with `.` is excluded too (`.git`, `.venv`,
/// `.next`, `.gradle` …).
pub const EXCLUDED_DIRS: &[&str] = &[
    "node_modules",
    "bower_components",
    "jspm_packages",
    "vendor",
    "target",
    "build",
    "dist",
    "out",
    "bin",
    "obj",
    "__pycache__",
    "venv",
    "env",
    "site-packages",
    "coverage",
    "tmp",
    "log",
    "logs",
];

/// Is `name` (a file name, no `/`) a dependency manifest or lockfile?
pub fn is_manifest(name: &str) -> bool {
    MANIFEST_NAMES.contains(&name)
        || MANIFEST_AFFIXES.iter().any(|(p, s)| {
            name.len() >= p.len() + s.len() && name.starts_with(p) && name.ends_with(s)
        })
}

/// Is a directory of this name excluded from syncing?
pub fn is_excluded_dir(name: &str) -> bool {
    name.starts_with('.') || EXCLUDED_DIRS.contains(&name) || name.ends_with(".egg-info")
}

/// Is `rel` (relative, `/`-separated) a manifest or inside an excluded dir?
pub fn is_never_synced(rel: &str) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    let file = parts.pop().unwrap_or("");
    parts.iter().any(|d| is_excluded_dir(d)) || is_manifest(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_and_dirs() {
        assert!(is_manifest("requirements-dev.txt"));
        assert!(is_manifest("build.gradle.kts"));
        assert!(is_manifest("App.csproj"));
        assert!(!is_manifest("server.js"));
        assert!(!is_manifest("notes.txt"));
        assert!(is_never_synced("src/node_modules/x/index.js"));
        assert!(is_never_synced("a/.git/config"));
        assert!(is_never_synced("sub/package.json"));
        assert!(!is_never_synced("src/index.js"));
    }
}
