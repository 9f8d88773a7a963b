//! Go's `path.Clean`, `path.Join` and (Linux) `filepath.Rel`, because
//! Skaffold computes sync destinations with them and their edge cases
//! (empty elements dropped, `""` vs `"."`, `..` handling) decide where a
//! file lands.

/// Go `path.Clean`: shortest equivalent path by lexical processing.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// Go `path.Join`: joins the non-empty elements with `/` and cleans the
/// result; all elements empty gives `""`.
pub fn join(elems: &[&str]) -> String {
    let non_empty: Vec<&str> = elems.iter().copied().filter(|e| !e.is_empty()).collect();
    if non_empty.is_empty() {
        return String::new();
    }
    clean(&non_empty.join("/"))
}

/// Go `filepath.Rel` on Linux: `targ` relative to `base`, or `None` where
/// Go returns an error (one absolute and one relative, or `base` needing to
/// climb out through `..`).
pub fn rel(base: &str, targ: &str) -> Option<String> {
    let base = clean(base);
    let targ = clean(targ);
    if base == targ {
        return Some(".".to_string());
    }
    let base = if base == "." { String::new() } else { base };
    if base.starts_with('/') != targ.starts_with('/') {
        return None;
    }
    let (b, t) = (base.as_bytes(), targ.as_bytes());
    let (mut b0, mut bi, mut t0, mut ti) = (0, 0, 0, 0);
    loop {
        while bi < b.len() && b[bi] != b'/' {
            bi += 1;
        }
        while ti < t.len() && t[ti] != b'/' {
            ti += 1;
        }
        if targ[t0..ti] != base[b0..bi] {
            break;
        }
        if bi < b.len() {
            bi += 1;
        }
        if ti < t.len() {
            ti += 1;
        }
        b0 = bi;
        t0 = ti;
        if b0 >= b.len() && t0 >= t.len() {
            break;
        }
    }
    if &base[b0..bi] == ".." {
        return None;
    }
    if b0 != b.len() {
        let seps = base[b0..].matches('/').count();
        let mut out = String::from("..");
        for _ in 0..seps {
            out.push_str("/..");
        }
        if t0 != t.len() {
            out.push('/');
            out.push_str(&targ[t0..]);
        }
        return Some(out);
    }
    Some(targ[t0..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (i, o) in [
            ("", "."),
            ("a//b/./c/..", "a/b"),
            ("/../a", "/a"),
            ("../../a", "../../a"),
            ("/", "/"),
            ("a/", "a"),
        ] {
            assert_eq!(clean(i), o, "clean({i:?})");
        }
    }

    #[test]
    fn join_matches_go() {
        assert_eq!(join(&["", "", ""]), "");
        assert_eq!(join(&["", ".", "a.js"]), "a.js");
        assert_eq!(join(&["/some", "dir", "x/y"]), "/some/dir/x/y");
        assert_eq!(join(&["", "/html", "index.html"]), "/html/index.html");
    }

    #[test]
    fn rel_matches_go() {
        assert_eq!(rel("", "a/b").as_deref(), Some("a/b"));
        assert_eq!(rel("node", "node/server.js").as_deref(), Some("server.js"));
        assert_eq!(rel("node", "/something/test.js"), None);
        assert_eq!(rel("a/b", "a/c/d").as_deref(), Some("../c/d"));
        assert_eq!(rel("a", "a").as_deref(), Some("."));
        assert_eq!(rel("..", "a"), None);
    }
}
