//! What kind of file each synced extension is, so that a generated rule
//! can say what it syncs (`# stylesheets in every directory`) and the
//! extensions of one kind share one short rule instead of one long one.

/// Kinds of file in the order their rules are written, each with its
/// extensions. An extension belongs to one kind only, which keeps the
/// generated rules disjoint (a file matched by two rules would be copied
/// twice: Skaffold's `matchSyncRules` appends one destination per
/// matching rule, `pkg/skaffold/sync/sync.go`).
pub const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "source code",
        &[
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
            "vue",
            "svelte",
            "py",
            "pyi",
            "rb",
            "ru",
            "rake",
            "php",
            "phtml",
            "inc",
            "go",
            "java",
            "kt",
            "kts",
            "scala",
            "groovy",
            "gradle",
            "cs",
            "fs",
            "vb",
        ],
    ),
    (
        "pages and templates",
        &[
            "html", "htm", "hbs", "ejs", "pug", "jinja", "jinja2", "j2", "erb", "haml", "slim",
            "builder", "jbuilder", "twig", "tpl", "tmpl", "gohtml", "cshtml", "razor",
        ],
    ),
    ("stylesheets", &["css", "scss", "sass", "less"]),
    (
        "images",
        &["svg", "png", "jpg", "jpeg", "gif", "ico", "webp", "avif"],
    ),
    ("fonts", &["woff", "woff2", "ttf", "otf"]),
    (
        "data and configuration",
        &[
            "json",
            "yaml",
            "yml",
            "toml",
            "cfg",
            "ini",
            "xml",
            "properties",
            "config",
            "sql",
        ],
    ),
    (
        "documents and web assets",
        &["md", "txt", "pdf", "map", "webmanifest"],
    ),
];

/// The kind of files with extension `ext`; "other files" for one not in
/// [`CATEGORIES`] (a family's list is checked against it by a test).
pub fn category(ext: &str) -> &'static str {
    CATEGORIES
        .iter()
        .find(|(_, exts)| exts.contains(&ext))
        .map_or("other files", |(name, _)| name)
}

/// The position of [`category`]`(ext)` in [`CATEGORIES`], for ordering.
pub fn rank(ext: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|(_, exts)| exts.contains(&ext))
        .unwrap_or(CATEGORIES.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Family;
    use std::collections::BTreeSet;

    #[test]
    fn every_family_extension_has_exactly_one_kind() {
        let mut seen = BTreeSet::new();
        for (_, exts) in CATEGORIES {
            for ext in *exts {
                assert!(seen.insert(*ext), "{ext} is in two categories");
            }
        }
        for family in Family::ALL {
            for ext in family.extensions() {
                assert_ne!(category(ext), "other files", "{family:?}: {ext}");
            }
        }
    }
}
