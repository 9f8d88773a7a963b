//! What makes a batch of changes end, so the app reloads once for it and
//! on its final files. Pure: events and the time in, a [`Verdict`] and the
//! batcher's own actions (answers, its deadline timer, log lines) out.
//!
//! **In Skaffold's order.** Skaffold runs `tar` for a batch's copies and
//! then, only if it has deletions, `rm` (v2.24 `sync/sync.go`
//! `PodSyncer.sync`, `sync/docker.go` `ContainerSyncer.Sync`).
//! - [`BatchEnd::Shim`] (no hook): every shim ends a batch once no other
//!   shim is open; the shim is answered by the reload (only `rm` waits for
//!   that answer: once it returns, the app never serves a deleted file).
//! - [`BatchEnd::Hook`]: `tar` and `rm` are answered at once and only
//!   accumulate; `sync-done` (Skaffold's after-sync container hook) ends
//!   the batch, or [`HOOK_FALLBACK`] after the last shim if it never comes.
//! - The recorded mode is a starting point, corrected by what happens: a
//!   `sync-done` switches to hook mode (the hook runs, so later batches
//!   wait for it), a hook that never came switches back to shim mode (only
//!   that one batch waited).
//! - Changes that arrive without a shim are debounced; while a shim is
//!   open they are its own and ignored.

use super::events::{Action, Out, Timer};
use crate::config::BatchEnd;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// With [`BatchEnd::Hook`]: how long after the last shim the reload waits
/// for `sync-done` before it happens anyway.
pub const HOOK_FALLBACK: Duration = Duration::from_secs(2);

/// Changes not yet handed to a reload.
#[derive(Debug, Default)]
pub struct Batch {
    /// Files the shims reported.
    files: usize,
    /// Files changed outside the shims (several events of one file count
    /// once).
    paths: BTreeSet<String>,
    changes: bool,
    from_shim: bool,
    /// Shim and hook sessions answered once the batch is handled.
    replies: Vec<u64>,
}

impl Batch {
    pub fn has_changes(&self) -> bool {
        self.changes
    }

    /// How many files changed.
    pub fn count(&self) -> usize {
        self.files + self.paths.len()
    }

    /// Whether a shim brought (some of) them.
    pub fn from_shim(&self) -> bool {
        self.from_shim
    }

    pub fn into_replies(self) -> Vec<u64> {
        self.replies
    }
}

/// What the policy must do after an event the batcher took in.
#[derive(Debug)]
pub enum Verdict {
    /// Nothing yet.
    Wait,
    /// The batch is complete (no shim is open): reload for it. A batch
    /// without changes only carries answers.
    End(Batch),
    /// A `sync-done` found nothing new pending (the shims reloaded
    /// already): answer `id` once the reload under way, if any, is done.
    DoneIdle(u64),
    /// The last open shim aborted without changes: a start held for it
    /// may go.
    Settled,
}

#[derive(Debug)]
pub struct Batcher {
    mode: BatchEnd,
    debounce: Duration,
    /// Shim sessions begun and not yet ended.
    open: BTreeSet<u64>,
    pending: Batch,
    /// When the pending batch ends without a shim or hook saying so.
    deadline: Option<Instant>,
    /// Hook mode: shim batches ended, waiting for `sync-done`.
    awaiting_hook: bool,
    /// `sync-done` came while a shim was still open.
    done_pending: bool,
    /// The supervisor is stopping: no batch ends any more.
    closed: bool,
}

impl Batcher {
    /// `debounce`: the quiet period for changes that arrive without a shim.
    pub fn new(mode: BatchEnd, debounce: Duration) -> Batcher {
        Batcher {
            mode,
            debounce,
            open: BTreeSet::new(),
            pending: Batch::default(),
            deadline: None,
            awaiting_hook: false,
            done_pending: false,
            closed: false,
        }
    }

    /// Whether a batch is still coming in (a shim is open, or with the
    /// hook, the batch is not complete yet).
    pub fn batch_open(&self) -> bool {
        !self.open.is_empty() || self.awaiting_hook
    }

    pub fn file_changed(&mut self, now: Instant, rel: String, out: &mut Out) {
        if self.closed || !self.open.is_empty() {
            // A shim is at work: its own reload covers every file.
            return;
        }
        self.pending.paths.insert(rel);
        self.pending.changes = true;
        if self.awaiting_hook {
            // Part of the batch the hook (or its fallback) ends.
            return;
        }
        self.set_deadline(now + self.debounce, out);
    }

    pub fn shim_begin(&mut self, id: u64) {
        self.open.insert(id);
        // The shim's end reloads everything pending.
        self.deadline = None;
    }

    pub fn shim_end(&mut self, now: Instant, id: u64, files: usize, out: &mut Out) -> Verdict {
        self.open.remove(&id);
        self.pending.files += files;
        self.pending.changes = true;
        self.pending.from_shim = true;
        if self.closed {
            out.push(Action::Reply(id));
            return Verdict::Wait;
        }
        match self.mode {
            BatchEnd::Hook => {
                // Accumulate: the shim returns at once, the hook reloads.
                out.push(Action::Reply(id));
                self.awaiting_hook = true;
                if self.open.is_empty() {
                    if self.done_pending {
                        return self.end();
                    }
                    self.set_deadline(now + HOOK_FALLBACK, out);
                }
            }
            BatchEnd::Shim => {
                // `rm` is the last step of a batch, `tar` the last of an
                // edit-only one: either way, reload now. The shim is
                // answered once the app that may hold the old files is
                // gone (only `rm` waits for it).
                self.pending.replies.push(id);
                if self.open.is_empty() {
                    return self.end();
                }
            }
        }
        Verdict::Wait
    }

    pub fn shim_abort(&mut self, now: Instant, id: u64, out: &mut Out) -> Verdict {
        self.open.remove(&id);
        if !self.open.is_empty() || self.closed {
            return Verdict::Wait;
        }
        if !self.pending.changes {
            out.push(Action::Log(
                "sync aborted: no file changed, no reload".into(),
            ));
        }
        if self.done_pending || (self.pending.changes && !self.awaiting_hook) {
            // (With nothing pending this only answers the waiting hook.)
            return self.end();
        }
        if self.pending.changes {
            self.set_deadline(now + HOOK_FALLBACK, out);
            return Verdict::Wait;
        }
        Verdict::Settled
    }

    pub fn sync_done(&mut self, id: u64, out: &mut Out) -> Verdict {
        if self.mode == BatchEnd::Shim {
            // Skaffold runs the after-sync hook: from the next batch on,
            // `tar` and `rm` wait for it and the batch reloads once.
            out.push(Action::Log(
                "after-sync hook seen: from now on a sync reloads once, when the hook runs".into(),
            ));
            self.mode = BatchEnd::Hook;
        }
        if self.closed {
            out.push(Action::Reply(id));
            return Verdict::Wait;
        }
        if !self.open.is_empty() {
            self.pending.replies.push(id);
            self.done_pending = true;
            return Verdict::Wait;
        }
        if self.pending.changes {
            self.pending.replies.push(id);
            return self.end();
        }
        Verdict::DoneIdle(id)
    }

    /// [`Timer::Reload`] fired: the debounce or the hook fallback is over.
    pub fn deadline_timer(&mut self, now: Instant, out: &mut Out) -> Verdict {
        let due = self.deadline.is_some_and(|t| now >= t);
        if !due || !self.open.is_empty() {
            return Verdict::Wait;
        }
        if self.awaiting_hook {
            // The hook was expected but did not come (a deployer that runs
            // no sync hooks, or an image built with the hook's setting but
            // run another way): stop waiting for it from now on, so only
            // this one batch was late.
            out.push(Action::Log(format!(
                "no sync-done within {} s of the last shim: reloading without it; \
                 from now on each sync reloads at once",
                HOOK_FALLBACK.as_secs()
            )));
            self.mode = BatchEnd::Shim;
        }
        self.end()
    }

    /// The supervisor is stopping: nobody waits for a reload any more.
    pub fn close(&mut self, out: &mut Out) {
        let pending = std::mem::take(&mut self.pending);
        out.extend(pending.replies.into_iter().map(Action::Reply));
        self.deadline = None;
        self.closed = true;
    }

    fn set_deadline(&mut self, at: Instant, out: &mut Out) {
        self.deadline = Some(at);
        out.push(Action::Schedule(Timer::Reload, at));
    }

    /// Hands the pending batch over (every shim is closed).
    fn end(&mut self) -> Verdict {
        self.deadline = None;
        self.awaiting_hook = false;
        self.done_pending = false;
        Verdict::End(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBOUNCE: Duration = Duration::from_millis(50);

    fn ended(v: Verdict) -> Batch {
        match v {
            Verdict::End(b) => b,
            other => panic!("no batch end: {other:?}"),
        }
    }

    #[test]
    fn shim_mode_ends_the_batch_when_the_last_open_shim_ends() {
        let t0 = Instant::now();
        let mut b = Batcher::new(BatchEnd::Shim, DEBOUNCE);
        let mut out = Vec::new();
        b.shim_begin(1);
        b.shim_begin(2);
        assert!(matches!(b.shim_end(t0, 1, 2, &mut out), Verdict::Wait));
        let batch = ended(b.shim_end(t0, 2, 1, &mut out));
        assert_eq!((batch.count(), batch.from_shim()), (3, true));
        assert_eq!(batch.into_replies(), vec![1, 2]);
        assert!(out.is_empty(), "answered by the reload: {out:?}");
    }

    #[test]
    fn hook_mode_answers_shims_at_once_and_ends_at_sync_done() {
        let t0 = Instant::now();
        let mut b = Batcher::new(BatchEnd::Hook, DEBOUNCE);
        let mut out = Vec::new();
        b.shim_begin(1);
        assert!(matches!(b.shim_end(t0, 1, 1, &mut out), Verdict::Wait));
        assert_eq!(
            out,
            vec![
                Action::Reply(1),
                Action::Schedule(Timer::Reload, t0 + HOOK_FALLBACK)
            ]
        );
        assert!(b.batch_open());
        let batch = ended(b.sync_done(2, &mut out));
        assert_eq!(batch.into_replies(), vec![2]);
        assert!(!b.batch_open());
        assert!(matches!(b.sync_done(3, &mut out), Verdict::DoneIdle(3)));
    }

    #[test]
    fn a_missed_hook_switches_to_shim_mode_and_a_seen_one_back() {
        let t0 = Instant::now();
        let mut b = Batcher::new(BatchEnd::Hook, DEBOUNCE);
        let mut out = Vec::new();
        b.shim_begin(1);
        b.shim_end(t0, 1, 1, &mut out);
        let early = (t0 + HOOK_FALLBACK)
            .checked_sub(Duration::from_millis(1))
            .unwrap();
        assert!(matches!(b.deadline_timer(early, &mut out), Verdict::Wait));
        ended(b.deadline_timer(t0 + HOOK_FALLBACK, &mut out));
        b.shim_begin(2);
        ended(b.shim_end(t0, 2, 1, &mut out));
        assert!(matches!(b.sync_done(3, &mut out), Verdict::DoneIdle(3)));
        b.shim_begin(4);
        assert!(matches!(b.shim_end(t0, 4, 1, &mut out), Verdict::Wait));
    }

    #[test]
    fn file_events_are_debounced_and_a_closed_batcher_only_answers() {
        let t0 = Instant::now();
        let mut b = Batcher::new(BatchEnd::Shim, DEBOUNCE);
        let mut out = Vec::new();
        b.file_changed(t0, "a.js".into(), &mut out);
        b.file_changed(t0, "a.js".into(), &mut out);
        assert_eq!(
            out.last(),
            Some(&Action::Schedule(Timer::Reload, t0 + DEBOUNCE))
        );
        assert!(matches!(b.deadline_timer(t0, &mut out), Verdict::Wait));
        assert_eq!(ended(b.deadline_timer(t0 + DEBOUNCE, &mut out)).count(), 1);
        let mut out = Vec::new();
        b.shim_begin(1);
        b.close(&mut out);
        assert!(matches!(b.shim_end(t0, 1, 1, &mut out), Verdict::Wait));
        b.file_changed(t0, "b.js".into(), &mut out);
        assert_eq!(out, vec![Action::Reply(1)]);
    }
}
