//! The file names a family syncs as several short patterns, each with a
//! sentence saying what it matches, instead of the one brace of every
//! alternative that [`crate::name_pattern::names_with_extensions`] builds
//! (for Node.js, one ~900-character pattern nobody could read).
//!
//! Together the groups match exactly the names that single pattern
//! matches, and no name matches two groups (tests check both):
//! - extensions with no manifest among their names are grouped by kind
//!   ([`crate::categories`]): `*.{css,scss,sass,less}`;
//! - for an extension that manifests share (`package.json`), the
//!   complement of the manifest stems is kept whole when it fits
//!   [`NAME_BUDGET`], else cut as deep as fits
//!   ([`complement_within`]: `{,[^cgnp]*,c{,[^o]*},…}.json`, the names
//!   that leave every manifest within two letters), and each place the
//!   cut left out (`co…`, `gl…`) gets its own group, recursively. A name
//!   either leaves the manifests within the cut or follows exactly one
//!   of those places, so the groups are disjoint.

use crate::categories;
use crate::name_pattern::{complement, complement_within, escape_literal, Forbidden};
use std::collections::BTreeSet;

/// Longest name pattern a group may have before it is split, so that a
/// rule (directory part + name part) stays within 120 characters for
/// directory parts of up to 40.
pub const NAME_BUDGET: usize = 80;

/// One file-name pattern (no `/`) and what it matches, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameGroup {
    pub pattern: String,
    pub about: String,
}

/// The groups for `extensions`, minus the manifests that `forbidden(ext)`
/// gives as `(exact stems, stem prefixes)`.
pub fn name_groups<F>(extensions: &[&str], forbidden: F) -> Vec<NameGroup>
where
    F: Fn(&str) -> Forbidden,
{
    let mut free: Vec<&str> = Vec::new();
    let mut guarded: Vec<(Forbidden, Vec<&str>)> = Vec::new();
    for ext in extensions {
        let key = forbidden(ext);
        if key.0.is_empty() && key.1.is_empty() {
            free.push(ext);
        } else if let Some((_, exts)) = guarded.iter_mut().find(|(k, _)| *k == key) {
            exts.push(ext);
        } else {
            guarded.push((key, vec![ext]));
        }
    }
    let mut groups = by_kind(&free);
    for ((words, prefixes), exts) in guarded {
        groups.extend(except_manifests(&words, &prefixes, &exts));
    }
    groups
}

/// `{a,b}` for several alternatives, `a` for one.
fn braces(alternatives: &[String]) -> String {
    match alternatives {
        [one] => one.clone(),
        many => format!("{{{}}}", many.join(",")),
    }
}

/// One group per kind of file, in [`categories::CATEGORIES`] order.
fn by_kind(exts: &[&str]) -> Vec<NameGroup> {
    let mut sorted: Vec<&str> = exts.to_vec();
    sorted.sort_by_key(|e| categories::rank(e));
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for ext in sorted {
        let kind = categories::category(ext);
        match groups.last_mut() {
            Some((k, list)) if *k == kind => list.push(escape_literal(ext)),
            _ => groups.push((kind, vec![escape_literal(ext)])),
        }
    }
    groups
        .into_iter()
        .map(|(kind, list)| NameGroup {
            pattern: format!("*.{}", braces(&list)),
            about: kind.to_string(),
        })
        .collect()
}

/// Groups for the names with one of `exts` whose stem is none of `words`
/// and starts with none of `prefixes`.
fn except_manifests(
    words: &BTreeSet<String>,
    prefixes: &BTreeSet<String>,
    exts: &[&str],
) -> Vec<NameGroup> {
    let ext: Vec<String> = exts.iter().map(|e| escape_literal(e)).collect();
    let ext = braces(&ext);
    let shown = if exts.len() == 1 {
        exts[0].to_string()
    } else {
        format!("{{{}}}", exts.join(","))
    };
    let part = Part {
        budget: NAME_BUDGET.saturating_sub(ext.len() + 1),
        ext: &shown,
    };
    let mut parts = Vec::new();
    let root = Node {
        lead: String::new(),
        words: words.clone(),
        prefixes: prefixes.clone(),
    };
    part.split(root, &mut parts);
    parts
        .into_iter()
        .map(|(stem, which)| NameGroup {
            pattern: format!("{stem}.{ext}"),
            about: format!("*.{shown} files {which}"),
        })
        .collect()
}

/// What remains of `set` after its first character `c`.
fn tail(set: &BTreeSet<String>, c: char) -> BTreeSet<String> {
    set.iter()
        .filter_map(|w| w.strip_prefix(c).map(str::to_string))
        .collect()
}

/// A point of the forbidden words' trie: the characters read so far and
/// what remains of the words and prefixes after them.
struct Node {
    lead: String,
    words: BTreeSet<String>,
    prefixes: BTreeSet<String>,
}

impl Node {
    /// The nodes `depth` characters below this one that still lead to a
    /// forbidden word (a subtree under a forbidden prefix is left out:
    /// nothing in it may match).
    fn below(self, depth: usize, out: &mut Vec<Node>) {
        if self.prefixes.contains("") {
            return;
        }
        if depth == 0 {
            out.push(self);
            return;
        }
        let firsts: BTreeSet<char> = self
            .words
            .iter()
            .chain(&self.prefixes)
            .filter_map(|w| w.chars().next())
            .collect();
        for c in firsts {
            Node {
                lead: format!("{}{c}", self.lead),
                words: tail(&self.words, c),
                prefixes: tail(&self.prefixes, c),
            }
            .below(depth - 1, out);
        }
    }
}

/// How one extension group's complement is split and described.
struct Part<'a> {
    /// Longest stem pattern kept whole.
    budget: usize,
    /// The extension(s) as shown in descriptions.
    ext: &'a str,
}

impl Part<'_> {
    /// Pushes `(stem pattern, description)` parts for the stems that
    /// start with `node.lead` and continue with neither a word nor a
    /// prefix of the remaining forbidden sets. A part over the budget is
    /// cut as deep as the budget allows ([`complement_within`]); the
    /// names it leaves out, those that follow a forbidden word further,
    /// get parts of their own (disjoint from it and from each other).
    fn split(&self, node: Node, out: &mut Vec<(String, String)>) {
        let lead = escape_literal(&node.lead);
        let Some(rest) = complement(&node.words, &node.prefixes) else {
            return;
        };
        if lead.len() + rest.len() <= self.budget {
            out.push((format!("{lead}{rest}"), self.except(&node)));
            return;
        }
        let within = |depth| complement_within(&node.words, &node.prefixes, depth);
        let mut depth = 0;
        while within(depth + 1).is_some_and(|p| lead.len() + p.len() <= self.budget) {
            depth += 1;
        }
        let cut = within(depth).unwrap_or_default();
        let mut left_out = self.manifests(&node, |len| len <= depth);
        let shown = node.lead.clone();
        let mut deeper = Vec::new();
        node.below(depth + 1, &mut deeper);
        let leads: Vec<&str> = deeper.iter().map(|n| n.lead.as_str()).collect();
        left_out.push(format!("those starting with {}", list(&leads, "or")));
        out.push((
            format!("{lead}{cut}"),
            Self::except_clause(&shown, &left_out),
        ));
        for node in deeper {
            self.split(node, out);
        }
    }

    /// "starting with p, except package.json and package-lock.json".
    fn except(&self, node: &Node) -> String {
        let names = self.manifests(node, |_| true);
        Self::except_clause(&node.lead, &names)
    }

    /// The manifest names below `node` whose length after its lead
    /// passes `keep` (`package.json`, `requirements*.txt`).
    fn manifests(&self, node: &Node, keep: impl Fn(usize) -> bool) -> Vec<String> {
        let (ext, lead) = (self.ext, &node.lead);
        let words = node.words.iter().filter(|w| keep(w.chars().count()));
        let prefixes = node.prefixes.iter().filter(|p| keep(p.chars().count()));
        words
            .map(|w| format!("{lead}{w}.{ext}"))
            .chain(prefixes.map(|p| format!("{lead}{p}*.{ext}")))
            .collect()
    }

    /// "starting with LEAD, except A and B" (either part may be absent).
    fn except_clause(lead: &str, left_out: &[String]) -> String {
        let listed = list(left_out, "and");
        match (lead.is_empty(), listed.is_empty()) {
            (true, true) => "of every name".to_string(),
            (true, false) => format!("except {listed}"),
            (false, true) => format!("starting with {lead}"),
            (false, false) => format!("starting with {lead}, except {listed}"),
        }
    }
}

/// "a", "a and b", "a, b and c".
fn list<S: AsRef<str>>(items: &[S], and: &str) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} {and} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doublestar::path_match;
    use crate::generate::{forbidden_stems, name_groups_for, names_pattern};
    use crate::manifests::{MANIFEST_AFFIXES, MANIFEST_NAMES};
    use crate::Family;

    /// Names near the manifests of every extension: each manifest, each of
    /// its stem's prefixes and those followed by one character (in or out
    /// of the manifest's spelling), plus a few plain names.
    fn candidates(extensions: &[&str]) -> Vec<String> {
        let mut stems: BTreeSet<String> = ["", "a", "index", "x-y", "."].map(String::from).into();
        let words = MANIFEST_NAMES
            .iter()
            .map(|n| n.split('.').next().unwrap_or(n).to_string())
            .chain(MANIFEST_AFFIXES.iter().map(|(p, _)| p.to_string()));
        for word in words {
            for (i, _) in word.char_indices().chain([(word.len(), ' ')]) {
                let head = &word[..i];
                stems.insert(head.to_string());
                for c in ['a', 'e', '-', '.', 'z', 'L'] {
                    stems.insert(format!("{head}{c}"));
                }
            }
            stems.insert(format!("{word}x"));
        }
        // Every extension a manifest shares, one that none does, and
        // extensions the family does not sync.
        let shared = extensions
            .iter()
            .filter(|e| {
                let (words, prefixes) = forbidden_stems(e);
                !words.is_empty() || !prefixes.is_empty()
            })
            .chain(extensions.iter().take(1));
        let shared: Vec<&str> = shared.copied().collect();
        let mut names: Vec<String> = MANIFEST_NAMES
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        for ext in extensions {
            names.extend(["index", "package", "setup", ""].map(|s| format!("{s}.{ext}")));
        }
        for stem in &stems {
            for ext in shared.iter().chain(&["csproj", "lock", "gradle.kts"]) {
                names.push(format!("{stem}.{ext}"));
            }
        }
        names
    }

    #[test]
    fn the_groups_match_exactly_the_single_pattern_and_never_overlap() {
        for family in Family::ALL {
            let exts = family.extensions();
            let single = names_pattern(exts).expect("a pattern");
            let groups = name_groups_for(exts);
            for name in candidates(exts) {
                let hits: Vec<&str> = groups
                    .iter()
                    .filter(|g| path_match(&g.pattern, &name) == Ok(true))
                    .map(|g| g.pattern.as_str())
                    .collect();
                let expected = path_match(&single, &name) == Ok(true);
                assert_eq!(!hits.is_empty(), expected, "{family:?}: {name}: {hits:?}");
                assert!(hits.len() <= 1, "{family:?}: {name} matches {hits:?}");
            }
        }
    }

    #[test]
    fn every_group_is_short_and_described() {
        for family in Family::ALL {
            for group in name_groups_for(family.extensions()) {
                assert!(group.pattern.len() <= NAME_BUDGET, "{family:?}: {group:?}");
                assert!(!group.about.is_empty(), "{family:?}: {group:?}");
            }
        }
        // The manifests of `.json` are named where they are left out.
        let node = name_groups_for(Family::Node.extensions());
        let about: Vec<&str> = node.iter().map(|g| g.about.as_str()).collect();
        assert!(
            about.iter().any(|a| a.contains("except composer.json")),
            "{about:?}"
        );
    }
}
