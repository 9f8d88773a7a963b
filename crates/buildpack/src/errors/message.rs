//! The shape every error takes in the build log: a title, what happened,
//! why it matters, numbered fixes and, for failures of the system rather
//! than of the app, the underlying error's own words.

/// Every line of a message starts with this, so it stays attributable in
/// the interleaved output of `pack build` and `skaffold dev`.
pub(super) const PREFIX: &str = "[skaffold-filesync]";

/// One error, as the user reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    /// A few words: what is wrong.
    pub title: String,
    /// What happened, with the values involved.
    pub what: String,
    /// Why it matters, or what causes it.
    pub why: String,
    /// What to do, in order of preference.
    pub fixes: Vec<String>,
    /// The underlying error (I/O, TOML, the framework), if any.
    pub details: Option<String>,
}

impl Message {
    pub(crate) fn new(
        title: impl Into<String>,
        what: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        Message {
            title: title.into(),
            what: what.into(),
            why: why.into(),
            fixes: Vec::new(),
            details: None,
        }
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fixes.push(fix.into());
        self
    }

    pub(crate) fn details(mut self, details: impl std::fmt::Display) -> Self {
        self.details = Some(details.to_string());
        self
    }

    /// The whole message: each paragraph one line (terminals wrap them),
    /// every line prefixed, a blank prefixed line between the parts.
    pub(crate) fn render(&self) -> String {
        let mut paragraphs = vec![format!("Error: {}", self.title), String::new()];
        paragraphs.extend([self.what.clone(), String::new(), self.why.clone()]);
        if !self.fixes.is_empty() {
            paragraphs.extend([String::new(), "To fix it:".to_string()]);
            for (n, fix) in self.fixes.iter().enumerate() {
                paragraphs.push(format!("{}. {fix}", n + 1));
            }
        }
        if let Some(details) = &self.details {
            paragraphs.extend([String::new(), format!("Details: {details}")]);
        }
        let mut out = String::new();
        for paragraph in &paragraphs {
            if paragraph.is_empty() {
                out += &format!("{PREFIX}\n");
            }
            for line in paragraph.lines() {
                out += &format!("{PREFIX} {line}\n");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_prefixed_and_fixes_are_numbered() {
        let m = Message::new("Title", "What.", "Why.")
            .fix("One.")
            .fix("Two.")
            .details("io: boom\nsecond line");
        assert_eq!(
            m.render(),
            "[skaffold-filesync] Error: Title\n\
             [skaffold-filesync]\n\
             [skaffold-filesync] What.\n\
             [skaffold-filesync]\n\
             [skaffold-filesync] Why.\n\
             [skaffold-filesync]\n\
             [skaffold-filesync] To fix it:\n\
             [skaffold-filesync] 1. One.\n\
             [skaffold-filesync] 2. Two.\n\
             [skaffold-filesync]\n\
             [skaffold-filesync] Details: io: boom\n\
             [skaffold-filesync] second line\n"
        );
    }
}
