//! What `filesync skaffold` tells the user about Skaffold's own wait, the
//! largest part of a save-to-live that the generated rules cannot change.
//!
//! Skaffold's notify trigger resets a timer to `--watch-poll-interval`
//! (default 1000 ms) on every file event and syncs when it expires
//! (`pkg/skaffold/trigger/fsnotify/trigger.go`); every flag is also a
//! `SKAFFOLD_` variable (`cmd/skaffold/app/cmd/cmd.go`). It is a flag of
//! `skaffold dev`, not a skaffold.yaml field, so the tool can only say it.

/// The note printed after `--write` and the plain diff (not `--check`).
pub(super) const NOTE: &str =
    "filesync: note: after each file event Skaffold waits its watch interval \
(default 1000 ms) before it syncs; that wait is most of a save-to-live. `skaffold dev -i 100` \
(`--watch-poll-interval=100`, or SKAFFOLD_WATCH_POLL_INTERVAL=100) makes it about 100 ms. \
The trade-off: each event restarts the wait, so it is also a debounce (a change touching many \
files over longer than the interval can become several syncs), and where Skaffold cannot use \
inotify its poll fallback polls the files that often.";
