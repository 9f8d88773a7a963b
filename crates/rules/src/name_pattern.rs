//! Builds doublestar patterns for file *names* that provably miss a set of
//! forbidden names.
//!
//! Doublestar v1.3.4 has no exclusion operator, yet a rule like `**/*.json`
//! would sync `package.json`, so that Skaffold would copy a changed
//! manifest into the pod instead of rebuilding the image. The way out is
//! the complement of a finite set of strings, expressed with the operators
//! v1.3.4 does have: `[^...]` classes and nestable `{...}` alternatives
//! (empty alternatives are legal). For stems `S` and forbidden prefixes
//! `P`, the names *not* in `S` and starting with no prefix of `P` are:
//! the empty stem (if not forbidden), or a first character that starts no
//! forbidden word followed by anything, or a first character `c` that does,
//! followed by the complement of the words' remainders after `c`.

use std::collections::BTreeSet;

/// Forbidden `(exact stems, stem prefixes)` of one extension.
pub type Forbidden = (BTreeSet<String>, BTreeSet<String>);

/// Escapes `s` so that doublestar matches it literally, also inside braces.
pub fn escape_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn escape_in_class(c: char) -> String {
    if matches!(c, ']' | '-' | '\\' | '^') {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// A pattern (no `/`) matching exactly the strings that are not in `words`
/// and do not start with any of `prefixes`. `None`: nothing matches.
pub fn complement(words: &BTreeSet<String>, prefixes: &BTreeSet<String>) -> Option<String> {
    complement_within(words, prefixes, usize::MAX)
}

/// [`complement`] cut below `depth` levels of branches: it matches the
/// strings of the complement that leave every forbidden word within their
/// first `depth + 1` characters (or end before). The strings it leaves
/// out are those that follow a forbidden word for `depth + 1` characters;
/// [`crate::name_groups`] covers them with rules of their own.
pub fn complement_within(
    words: &BTreeSet<String>,
    prefixes: &BTreeSet<String>,
    depth: usize,
) -> Option<String> {
    if prefixes.contains("") {
        return None;
    }
    if words.is_empty() && prefixes.is_empty() {
        return Some("*".to_string());
    }
    let firsts: BTreeSet<char> = words
        .iter()
        .chain(prefixes.iter())
        .filter_map(|w| w.chars().next())
        .collect();
    let mut alternatives = Vec::new();
    if !words.contains("") {
        alternatives.push(String::new());
    }
    if firsts.is_empty() {
        // Every word ended here: anything non-empty that follows is fine.
        alternatives.push("?*".to_string());
    } else {
        let class: String = firsts.iter().map(|c| escape_in_class(*c)).collect();
        alternatives.push(format!("[^{class}]*"));
    }
    for c in firsts.iter().take_while(|_| depth > 0) {
        let tail = |set: &BTreeSet<String>| -> BTreeSet<String> {
            set.iter()
                .filter_map(|w| w.strip_prefix(*c).map(str::to_string))
                .collect()
        };
        if let Some(rest) = complement_within(&tail(words), &tail(prefixes), depth - 1) {
            alternatives.push(format!("{}{rest}", escape_literal(&c.to_string())));
        }
    }
    Some(if alternatives.len() == 1 {
        alternatives.pop().expect("one")
    } else {
        format!("{{{}}}", alternatives.join(","))
    })
}

/// A pattern for the file names with one of `extensions` that are not
/// manifests according to `is_forbidden_stem(ext)` → (exact stems, stem
/// prefixes). Extensions with no forbidden names are grouped as
/// `*.{a,b,c}`.
pub fn names_with_extensions<F>(extensions: &[&str], forbidden: F) -> Option<String>
where
    F: Fn(&str) -> Forbidden,
{
    // Extensions that share the same forbidden stems share one complement:
    // `{STEMS}.{json,jsonc}`; those with none are grouped as `*.{a,b,c}`.
    let mut groups: Vec<(Forbidden, Vec<String>)> = Vec::new();
    for ext in extensions {
        let key = forbidden(ext);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, exts)) => exts.push(escape_literal(ext)),
            None => groups.push((key, vec![escape_literal(ext)])),
        }
    }
    let mut alternatives = Vec::new();
    for ((words, prefixes), exts) in groups {
        let ext = if exts.len() == 1 {
            exts[0].clone()
        } else {
            format!("{{{}}}", exts.join(","))
        };
        if words.is_empty() && prefixes.is_empty() {
            alternatives.insert(0, format!("*.{ext}"));
        } else if let Some(stem) = complement(&words, &prefixes) {
            alternatives.push(format!("{stem}.{ext}"));
        }
    }
    match alternatives.len() {
        0 => None,
        1 => alternatives.pop(),
        _ => Some(format!("{{{}}}", alternatives.join(","))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doublestar::path_match;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn complement_excludes_exactly_the_words() {
        let p = complement(
            &set(&["package", "package-lock", "composer"]),
            &set(&["requirements"]),
        )
        .unwrap();
        for ok in [
            "",
            "pack",
            "packages",
            "package-lockx",
            "data",
            "compose",
            "require",
        ] {
            assert_eq!(path_match(&p, ok), Ok(true), "{ok:?} should match {p}");
        }
        for bad in [
            "package",
            "package-lock",
            "composer",
            "requirements",
            "requirements-dev",
        ] {
            assert_eq!(
                path_match(&p, bad),
                Ok(false),
                "{bad:?} should not match {p}"
            );
        }
    }

    #[test]
    fn extension_groups() {
        let p = names_with_extensions(&["js", "json"], |ext| {
            if ext == "json" {
                (set(&["package"]), BTreeSet::new())
            } else {
                (BTreeSet::new(), BTreeSet::new())
            }
        })
        .unwrap();
        assert_eq!(path_match(&p, "a.js"), Ok(true));
        assert_eq!(path_match(&p, "data.json"), Ok(true));
        assert_eq!(path_match(&p, "package.json"), Ok(false));
        assert_eq!(path_match(&p, "a.css"), Ok(false));
    }
}
