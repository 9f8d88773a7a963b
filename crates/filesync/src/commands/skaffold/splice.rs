//! Text surgery on skaffold.yaml that keeps the user's comments and layout.
//!
//! No YAML crate re-emits a document with its comments intact, so the file
//! is never re-serialized: the generated profile is a delimited block of
//! lines (between [`BEGIN_MARK`] and [`END_MARK`]) that is replaced in
//! place, or inserted at the end of the top-level `profiles` list. Every
//! edit is then checked by [`verify`]: parsed, the new document must equal
//! the old one except for the generated profile.

use super::profile::{Block, BEGIN_MARK, END_MARK, PROFILE_NAME};
use anyhow::{bail, ensure};
use serde_norway::Value;

/// One YAML document of a (possibly multi-document) file: its `---` line
/// (empty for the first document) and its text.
pub(super) struct Document<'a> {
    pub separator: &'a str,
    pub body: &'a str,
}

/// Splits `text` at `---` document separator lines, losslessly:
/// concatenating every separator and body gives `text` back.
pub(super) fn documents(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let (mut sep_start, mut body_start, mut offset) = (0, 0, 0);
    for line in text.split_inclusive('\n') {
        let content = line.trim_end();
        let is_separator = content == "---" || content.starts_with("--- #");
        if is_separator {
            if offset > 0 {
                docs.push(Document {
                    separator: &text[sep_start..body_start],
                    body: &text[body_start..offset],
                });
            }
            sep_start = offset;
            body_start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(Document {
        separator: &text[sep_start..body_start],
        body: &text[body_start..],
    });
    docs
}

fn is_begin(line: &str) -> bool {
    line.trim_start()
        .starts_with(&BEGIN_MARK[..BEGIN_MARK.find(':').unwrap_or(BEGIN_MARK.len())])
}

fn is_end(line: &str) -> bool {
    line.trim_start().starts_with(END_MARK)
}

fn render(block: &Block, indent: &str) -> String {
    let mut out = format!("{indent}{BEGIN_MARK}\n");
    for line in block.yaml.lines() {
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(indent);
    out.push_str(END_MARK);
    out.push('\n');
    out
}

/// `body` with the generated block replaced by `block`, inserted, or
/// removed (`None`).
pub(super) fn apply(body: &str, block: Option<&Block>) -> anyhow::Result<String> {
    let lines: Vec<&str> = body.split_inclusive('\n').collect();
    let begin = lines.iter().position(|l| is_begin(l));
    let end = lines.iter().position(|l| is_end(l));
    match (begin, end) {
        (Some(b), Some(e)) if b < e => {
            let indent = leading_space(lines[b]);
            let mut out: String = lines[..b].concat();
            if let Some(block) = block {
                out.push_str(&render(block, indent));
            }
            out.push_str(&lines[e + 1..].concat());
            return Ok(out);
        }
        (None, None) => {}
        _ => bail!("the generated block's markers are unbalanced (\"{BEGIN_MARK}\" … \"{END_MARK}\"); delete the block and run again"),
    }
    let Some(block) = block else {
        return Ok(body.to_string());
    };
    let Some(key) = lines.iter().position(|l| l.starts_with("profiles:")) else {
        let mut out = body.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("profiles:\n");
        out.push_str(&render(block, "  "));
        return Ok(out);
    };
    let inline = lines[key]["profiles:".len()..].trim();
    let inline = inline.split(" #").next().unwrap_or("").trim();
    let mut head: String = lines[..key].concat();
    match inline {
        "" => head.push_str(lines[key]),
        "[]" => head.push_str("profiles:\n"),
        _ => bail!("top-level `profiles` is not a block list (`profiles:` followed by `- name: …` items); convert it and run again"),
    }
    let rest = &lines[key + 1..];
    // The list ends at the next top-level key; comments and blank lines
    // just before that key belong to it.
    let mut stop = rest
        .iter()
        .position(|l| {
            let first = l.chars().next().unwrap_or('\n');
            !(first.is_whitespace() || first == '#' || l.starts_with("- ") || l.trim_end() == "-")
        })
        .unwrap_or(rest.len());
    while stop > 0 && (rest[stop - 1].trim().is_empty() || rest[stop - 1].starts_with('#')) {
        stop -= 1;
    }
    let indent = rest[..stop]
        .iter()
        .find(|l| l.trim_start().starts_with("- ") || l.trim() == "-")
        .map_or("  ", |l| leading_space(l));
    let mut out = head;
    out.push_str(&rest[..stop].concat());
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&render(block, indent));
    out.push_str(&rest[stop..].concat());
    Ok(out)
}

fn leading_space(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Checks that `new` parses, holds exactly the generated profile `block`
/// (or none), and otherwise equals `old`.
pub(super) fn verify(old: &str, new: &str, block: Option<&Block>) -> anyhow::Result<()> {
    let parse = |text: &str| -> anyhow::Result<Value> {
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_norway::from_str(text)?)
    };
    let (mut old, mut new) = (parse(old)?, parse(new)?);
    let ours = take_generated(&mut new);
    take_generated(&mut old);
    ensure!(
        old == new,
        "the edit changed content outside the generated profile"
    );
    match block {
        Some(block) => ensure!(
            ours.len() == 1 && ours[0] == block.profile,
            "expected one profile named {PROFILE_NAME:?} after the edit, found {}; rename any profile of yours with that name",
            ours.len()
        ),
        None => ensure!(ours.is_empty(), "a profile named {PROFILE_NAME:?} remains"),
    }
    Ok(())
}

/// Removes the profiles named [`PROFILE_NAME`] (returning them), and the
/// `profiles` key when nothing else is left in it.
fn take_generated(doc: &mut Value) -> Vec<Value> {
    let Some(map) = doc.as_mapping_mut() else {
        return Vec::new();
    };
    let mut taken = Vec::new();
    let mut now_empty = false;
    if let Some(profiles) = map.get_mut("profiles") {
        if let Some(list) = profiles.as_sequence_mut() {
            let (ours, theirs): (Vec<Value>, Vec<Value>) = list
                .drain(..)
                .partition(|p| p.get("name").and_then(Value::as_str) == Some(PROFILE_NAME));
            *list = theirs;
            taken = ours;
            now_empty = list.is_empty();
        } else {
            now_empty = profiles.is_null();
        }
    }
    if now_empty {
        map.remove("profiles");
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> Block {
        let profile: Value =
            serde_norway::from_str("name: filesync\nactivation:\n- command: dev\n").unwrap();
        Block {
            yaml: serde_norway::to_string(&vec![&profile]).unwrap(),
            profile,
        }
    }

    fn edit(body: &str) -> String {
        let new = apply(body, Some(&block())).unwrap();
        verify(body, &new, Some(&block())).unwrap();
        new
    }

    #[test]
    fn documents_split_losslessly() {
        let text = "a: 1\n---\nb: 2\n--- # c\nc: 3";
        let docs = documents(text);
        assert_eq!(docs.len(), 3);
        assert_eq!(
            docs.iter()
                .map(|d| format!("{}{}", d.separator, d.body))
                .collect::<String>(),
            text
        );
        assert_eq!(docs[2].body, "c: 3");
    }

    #[test]
    fn inserts_at_the_end_of_a_list_whose_items_start_in_column_zero() {
        let body = "profiles:\n- name: a\n  build: {}\n# about deploy\ndeploy: {}\n";
        let new = edit(body);
        assert!(
            new.starts_with("profiles:\n- name: a\n  build: {}\n# >>> filesync"),
            "{new}"
        );
        assert!(
            new.ends_with("# <<< filesync skaffold\n# about deploy\ndeploy: {}\n"),
            "{new}"
        );
    }

    #[test]
    fn appends_a_profiles_key_to_a_file_without_newline_at_the_end() {
        let new = edit("build: {}");
        assert!(
            new.starts_with("build: {}\nprofiles:\n  # >>> filesync"),
            "{new}"
        );
    }

    #[test]
    fn replaces_its_own_block_and_nothing_else() {
        let first = edit("profiles:\n  - name: a # keep\n");
        assert_eq!(edit(&first), first);
    }

    #[test]
    fn refuses_flow_style_profiles_unbalanced_markers_and_a_users_profile_of_the_same_name() {
        assert!(apply("profiles: [{name: a}]\n", Some(&block())).is_err());
        let broken = edit("profiles:\n- name: a\n").replace("# <<< filesync skaffold\n", "");
        assert!(apply(&broken, Some(&block()))
            .unwrap_err()
            .to_string()
            .contains("unbalanced"));
        let theirs = "profiles:\n- name: filesync\n";
        let new = apply(theirs, Some(&block())).unwrap();
        assert!(verify(theirs, &new, Some(&block())).is_err());
    }
}
