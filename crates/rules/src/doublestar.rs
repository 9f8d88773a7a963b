//! Matching with the exact semantics of bmatcuk/doublestar **v1.3.4**
//! `PathMatch` on Linux — the version Skaffold pins for sync rules.
//!
//! Why not a glob crate: v1.3.4 has quirks that Skaffold users depend on and
//! that common crates get wrong (see `crates/rules/tests/conformance/README.md`):
//! `**` is special only as a whole path segment; braces nest and may contain
//! `/`; `[!x]` is a set containing `!`, not a negation (`[^x]` is);
//! `]` and `-` must be escaped inside a class; a bad pattern is reported only
//! when matching reaches it. This module follows the upstream algorithm step
//! by step (component-wise matching that returns the patterns left for the
//! next path component) so that every such corner behaves the same.

use std::collections::HashMap;

/// `doublestar.ErrBadPattern` (`path.ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

/// Reports whether `name` matches the shell pattern `pattern`, as
/// doublestar v1.3.4 `PathMatch` does with `/` as the separator.
///
/// Like upstream, a malformed pattern is an error only if matching reaches
/// the malformed part.
pub fn path_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let components = split_on_separator(name, '/');
    // Plain backtracking first: it is several times faster on the patterns
    // people write. A pattern that makes it explore more than FAST_STEPS
    // steps is answered again with memoisation, which bounds the work.
    let mut fast = Matcher::default();
    let answer = fast.do_matching(pattern, &components);
    if !fast.exhausted {
        return answer;
    }
    let mut memoised = Matcher {
        memoise: true,
        ..Matcher::default()
    };
    memoised.do_matching(pattern, &components)
}

/// Steps the unmemoised matcher may take before it gives up (real rules
/// against real paths take well under a hundred).
const FAST_STEPS: usize = 10_000;

/// Checks that no name can make the matcher report [`BadPattern`] for
/// `pattern`. Used to validate user-supplied rules up front, since matching
/// reports errors only where it reaches them — inside Skaffold, too late.
///
/// Stricter than the grammar in one respect: a `/` inside `{…}` is refused.
/// v1.3.4 cuts a pattern at its first `/` even inside braces when a name
/// ends early, so `x{a/b,c}` against `x` reports a bad pattern upstream
/// (found by fuzzing); such a rule must be written as separate rules.
pub fn validate(pattern: &str) -> Result<(), BadPattern> {
    validate_from(pattern, 0)
}

fn validate_from(p: &str, mut i: usize) -> Result<(), BadPattern> {
    while i < p.len() {
        let c = char_at(p, i).expect("in bounds");
        match c {
            '\\' => {
                let next = i + 1;
                match char_at(p, next) {
                    None | Some('\u{FFFD}') => return Err(BadPattern),
                    Some(e) => i = next + e.len_utf8(),
                }
            }
            '[' => {
                let start = i + 1;
                let end = index_rune_with_escaping(&p[start..], ']').ok_or(BadPattern)? + start;
                // Matching any single character exercises the whole class.
                class_matches(&p[start..end], 'a')?;
                i = end + 1;
            }
            '{' => {
                let start = i + 1;
                let (options, len) = split_alternatives(&p[start..]).ok_or(BadPattern)?;
                for o in options {
                    if index_rune_with_escaping(o, '/').is_some() {
                        return Err(BadPattern);
                    }
                    validate_from(o, 0)?;
                }
                i = start + len;
            }
            _ => i += c.len_utf8(),
        }
    }
    Ok(())
}

fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..).and_then(|t| t.chars().next())
}

/// Splits `path` on `sep`, not splitting where `sep` is preceded by `\`;
/// a trailing separator yields a trailing empty component.
fn split_on_separator(path: &str, sep: char) -> Vec<&str> {
    if !path.contains(sep) {
        return vec![path];
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut empty_end = false;
    while start < path.len() {
        match index_rune_with_escaping(&path[start..], sep) {
            None => {
                empty_end = false;
                out.push(&path[start..]);
                start = path.len();
            }
            Some(end) => {
                empty_end = true;
                out.push(&path[start..start + end]);
                start += end + sep.len_utf8();
            }
        }
    }
    if empty_end {
        out.push("");
    }
    out
}

/// First index of `r` in `s` not preceded by a backslash (upstream looks at
/// the single preceding byte only, so `\\/` counts as escaped too).
fn index_rune_with_escaping(s: &str, r: char) -> Option<usize> {
    let end = s.find(r)?;
    if end > 0 && s.as_bytes()[end - 1] == b'\\' {
        let start = end + r.len_utf8();
        return index_rune_with_escaping(&s[start..], r).map(|e| e + start);
    }
    Some(end)
}

/// Splits the inside of `{...}` (starting just after `{`) into its
/// alternatives, respecting nesting and escapes; returns them with the
/// length consumed including the closing `}`. `None`: unterminated.
fn split_alternatives(s: &str) -> Option<(Vec<&str>, usize)> {
    let mut out = Vec::with_capacity(2);
    let mut depth = 1;
    let mut escaped = false;
    let mut start = 0;
    let mut idx = 0;
    while depth > 0 {
        let c = char_at(s, idx)?;
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth -= 1;
        } else if c == ',' && depth == 1 {
            out.push(&s[start..idx]);
            start = idx + c.len_utf8();
        }
        idx += c.len_utf8();
    }
    out.push(&s[start..idx - 1]);
    Some((out, idx))
}

/// True if `pattern` (one component) can match the empty string.
fn is_zero_length(pattern: &str) -> Result<bool, BadPattern> {
    if pattern.is_empty() || pattern == "*" || pattern == "**" {
        return Ok(true);
    }
    if let Some(rest) = pattern.strip_prefix('{') {
        let (options, end) = split_alternatives(rest).ok_or(BadPattern)?;
        if !is_zero_length(&rest[end..])? {
            return Ok(false);
        }
        for o in options {
            if is_zero_length(o)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Upstream's recursive algorithm, optionally memoised. Upstream
/// backtracks without memory, which is exponential in the number of `*`,
/// `**` and `{…}` in a pattern (fuzzing found patterns that ran for minutes
/// on a 60-character name). Every step is a pure function of (pattern left,
/// names left), so caching its result changes no answer, errors included,
/// and bounds the work by the number of distinct such pairs.
#[derive(Default)]
struct Matcher {
    /// Cache every step's answer (else count steps against `FAST_STEPS`).
    memoise: bool,
    steps: usize,
    /// The step budget ran out: every answer since is void.
    exhausted: bool,
    /// `do_matching` results by (pattern, number of names left).
    paths: HashMap<(String, usize), Result<bool, BadPattern>>,
    /// `match_component` results by (pattern, names left, name bytes left).
    components: HashMap<(String, usize, usize), Component>,
}

/// `None`: no match. `Some(v)`: matched; `v` are the patterns to try on
/// the following components (empty: the pattern ended).
type Component = Result<Option<Vec<String>>, BadPattern>;

impl Matcher {
    /// False once the step budget is gone: the caller then discards the
    /// answer, so unwinding fast is all that matters.
    fn within_budget(&mut self) -> bool {
        self.steps += 1;
        if self.steps > FAST_STEPS {
            self.exhausted = true;
        }
        !self.exhausted
    }

    fn do_matching(&mut self, pattern: &str, names: &[&str]) -> Result<bool, BadPattern> {
        if !self.memoise {
            if !self.within_budget() {
                return Ok(false);
            }
            return self.do_matching_uncached(pattern, names);
        }
        let key = (pattern.to_string(), names.len());
        if let Some(r) = self.paths.get(&key) {
            return *r;
        }
        let r = self.do_matching_uncached(pattern, names);
        self.paths.insert(key, r);
        r
    }

    fn do_matching_uncached(&mut self, pattern: &str, names: &[&str]) -> Result<bool, BadPattern> {
        if pattern.is_empty() {
            return Ok(names.is_empty() || (names.len() == 1 && names[0].is_empty()));
        }
        if names.is_empty() {
            // Upstream falls through here and indexes an empty slice only after
            // the doublestar check; a non-empty pattern never matches nothing.
            return Ok(false);
        }
        let slash = index_rune_with_escaping(pattern, '/');
        let head_end = slash.unwrap_or(pattern.len());
        if &pattern[..head_end] == "**" {
            let Some(slash) = slash else {
                return Ok(true);
            };
            let rest = &pattern[slash + 1..];
            for i in 0..names.len() {
                // Upstream ignores errors from these attempts.
                if let Ok(true) = self.do_matching(rest, &names[i..]) {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        let Some(continuations) = self.match_component(pattern, names[0], names.len())? else {
            return Ok(false);
        };
        if continuations.is_empty() && names.len() == 1 {
            return Ok(true);
        }
        if names.len() > 1 {
            for alt in &continuations {
                if self.do_matching(alt, &names[1..])? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Matches one name component against the head of `pattern` (which may
    /// hold several components); `left` is the number of components from
    /// this one to the end, which with `name.len()` keys the cache.
    fn match_component(&mut self, pattern: &str, name: &str, left: usize) -> Component {
        if !self.memoise {
            if !self.within_budget() {
                return Ok(None);
            }
            return self.match_component_uncached(pattern, name, left);
        }
        let key = (pattern.to_string(), left, name.len());
        if let Some(r) = self.components.get(&key) {
            return r.clone();
        }
        let r = self.match_component_uncached(pattern, name, left);
        self.components.insert(key, r.clone());
        r
    }

    // One loop over the pattern, kept in the shape of doublestar v1.3.4's
    // `matchComponent` so the port can be read against it line by line.
    #[allow(clippy::too_many_lines)]
    fn match_component_uncached(&mut self, pattern: &str, name: &str, left: usize) -> Component {
        let (plen, nlen) = (pattern.len(), name.len());
        let (mut pi, mut ni) = (0usize, 0usize);
        while pi < plen && ni < nlen {
            let pc = char_at(pattern, pi).expect("in bounds");
            let nc = char_at(name, ni).expect("in bounds");
            match pc {
                '/' => {
                    // The pattern's component ended before the name's: no match.
                    return Ok(None);
                }
                '\\' => {
                    pi += 1;
                    match char_at(pattern, pi) {
                        None | Some('\u{FFFD}') => return Err(BadPattern),
                        Some(e) if e == nc => {
                            pi += e.len_utf8();
                            ni += nc.len_utf8();
                        }
                        Some(_) => return Ok(None),
                    }
                }
                '*' => {
                    pi += 1;
                    if pi >= plen {
                        return Ok(Some(Vec::new()));
                    }
                    if pattern.as_bytes()[pi] == b'/' {
                        return Ok(Some(vec![pattern[pi + 1..].to_string()]));
                    }
                    while ni < nlen {
                        let m = self.match_component(&pattern[pi..], &name[ni..], left)?;
                        if m.is_some() {
                            return Ok(m);
                        }
                        ni += char_at(name, ni).expect("in bounds").len_utf8();
                    }
                    return Ok(None);
                }
                '[' => {
                    pi += 1;
                    let end = index_rune_with_escaping(&pattern[pi..], ']').ok_or(BadPattern)? + pi;
                    if !class_matches(&pattern[pi..end], nc)? {
                        return Ok(None);
                    }
                    pi = end + 1;
                    ni += nc.len_utf8();
                }
                '{' => {
                    pi += 1;
                    let (options, len) = split_alternatives(&pattern[pi..]).ok_or(BadPattern)?;
                    pi += len;
                    let rest = &pattern[pi..];
                    let mut all: Option<Vec<String>> = None;
                    for o in options {
                        let candidate = format!("{o}{rest}");
                        if let Some(m) = self.match_component(&candidate, &name[ni..], left)? {
                            let all = all.get_or_insert_with(Vec::new);
                            // A repeated continuation gives the same answer
                            // again: keeping the first is exact and keeps
                            // `{,}{,}…/x` from doubling the list per brace.
                            for c in m {
                                if !all.contains(&c) {
                                    all.push(c);
                                }
                            }
                        }
                    }
                    return Ok(all);
                }
                _ if pc == '?' || pc == nc => {
                    pi += pc.len_utf8();
                    ni += nc.len_utf8();
                }
                _ => return Ok(None),
            }
        }
        if ni >= nlen {
            if pi >= plen {
                return Ok(Some(Vec::new()));
            }
            let rest = &pattern[pi..];
            let slash = index_rune_with_escaping(rest, '/');
            let head = &rest[..slash.unwrap_or(rest.len())];
            if is_zero_length(head)? {
                return Ok(Some(match slash {
                    None => Vec::new(),
                    Some(s) => vec![rest[s + 1..].to_string()],
                }));
            }
        }
        Ok(None)
    }
}

/// Evaluates a character class body (between `[` and `]`) against `c`.
fn class_matches(body: &str, c: char) -> Result<bool, BadPattern> {
    let runes: Vec<char> = body.chars().collect();
    if runes.is_empty() {
        return Err(BadPattern);
    }
    let negated = runes[0] == '^';
    let mut i = usize::from(negated);
    let mut matched = false;
    while i < runes.len() {
        let mut low = runes[i];
        if low == '-' {
            return Err(BadPattern);
        }
        i += 1;
        if low == '\\' {
            low = *runes.get(i).ok_or(BadPattern)?;
            i += 1;
        }
        let mut high = low;
        if runes.get(i) == Some(&'-') {
            i += 1;
            high = *runes.get(i).ok_or(BadPattern)?;
            if high == '-' {
                return Err(BadPattern);
            }
            i += 1;
            if high == '\\' {
                high = *runes.get(i).ok_or(BadPattern)?;
                i += 1;
            }
        }
        if low <= c && c <= high {
            matched = true;
        }
    }
    Ok(matched != negated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_stars() {
        assert_eq!(path_match("**/*.js", "a/b/c.js"), Ok(true));
        assert_eq!(path_match("**/*.js", "c.js"), Ok(true));
        assert_eq!(path_match("*.js", "a/c.js"), Ok(false));
        assert_eq!(path_match("abc**", "abc/d"), Ok(false));
        assert_eq!(path_match("a/**", "a"), Ok(false));
        assert_eq!(path_match("a/**", "a/"), Ok(true));
    }

    #[test]
    fn classes_and_braces() {
        assert_eq!(path_match("[!c]", "!"), Ok(true));
        assert_eq!(path_match("[^c]", "c"), Ok(false));
        assert_eq!(path_match("{a/{b,c},abc}", "a/c"), Ok(true));
        assert_eq!(path_match("a{,bc}", "a"), Ok(true));
        assert_eq!(path_match("a[", "a"), Ok(false));
        assert_eq!(path_match("a[", "ab"), Err(BadPattern));
    }

    #[test]
    fn validate_finds_errors_matching_would_skip() {
        assert_eq!(validate("a["), Err(BadPattern));
        assert_eq!(validate("x/[]a]"), Err(BadPattern));
        assert_eq!(validate("a\\"), Err(BadPattern));
        assert_eq!(validate("{a,b"), Err(BadPattern));
        assert_eq!(validate("src/**/*.{js,ts}"), Ok(()));
        assert_eq!(validate("[\\]a]"), Ok(()));
    }

    #[test]
    fn backtracking_patterns_are_answered_not_explored() {
        // Fuzzing regression: without memoisation each of these runs for
        // minutes (exponential in the number of `*`, `**` or braces), and
        // a user's override rule is matched against every synced path.
        let name = "a".repeat(60);
        assert_eq!(path_match("*a*a*a*a*a*a*a*a*a*a*b", &name), Ok(false));
        assert_eq!(path_match("*a*a*a*a*a*a*a*a*a*a*a", &name), Ok(true));
        let deep = vec!["a"; 40].join("/");
        assert_eq!(path_match("**/**/**/**/**/**/x", &deep), Ok(false));
        assert_eq!(path_match("**/**/**/**/**/**/a", &deep), Ok(true));
        let braces = "{a,b}".repeat(24);
        assert_eq!(
            path_match(&format!("{braces}c"), &"a".repeat(24)),
            Ok(false)
        );
        assert_eq!(path_match(&braces, &"ab".repeat(12)), Ok(true));
        let empties = format!("{}/x", "{,}".repeat(24));
        assert_eq!(path_match(&empties, "/x"), Ok(true));
    }

    #[test]
    fn memoised_and_plain_backtracking_agree() {
        // The memoised matcher must be upstream's algorithm exactly: on
        // random patterns from the operator alphabet, both give the same
        // answer, errors included.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            usize::try_from(x % n as u64).expect("x % n is below n, a usize")
        };
        let pa: Vec<char> = "ab*?/{},[]^\\!-".chars().collect();
        let na: Vec<char> = "ab/!-,".chars().collect();
        for _ in 0..100_000 {
            let (pl, nl) = (rnd(14), rnd(8));
            let p: String = (0..pl).map(|_| pa[rnd(pa.len())]).collect();
            let n: String = (0..nl).map(|_| na[rnd(na.len())]).collect();
            let names = split_on_separator(&n, '/');
            let mut plain = Matcher::default();
            let a = plain.do_matching(&p, &names);
            assert!(!plain.exhausted, "{p:?} {n:?}");
            let mut memoised = Matcher {
                memoise: true,
                ..Matcher::default()
            };
            assert_eq!(a, memoised.do_matching(&p, &names), "{p:?} against {n:?}");
        }
    }

    #[test]
    fn slash_inside_braces_is_refused_because_upstream_can_fail_on_it() {
        // Fuzzing regression: upstream v1.3.4 reports a bad pattern here.
        assert_eq!(path_match("{(,m/}}}}", ""), Err(BadPattern));
        assert_eq!(path_match("x{a/b,c}", "x"), Err(BadPattern));
        assert_eq!(validate("{(,m/}}}}"), Err(BadPattern));
        assert_eq!(validate("x{a/b,c}"), Err(BadPattern));
        assert_eq!(validate("x/{a,c}/*.js"), Ok(()));
    }
}
