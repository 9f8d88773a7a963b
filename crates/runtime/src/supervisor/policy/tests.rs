//! The policy's tests: the supervisor's every rule, on a fake clock.

use super::*;
use std::collections::BTreeMap;

/// The policy on a fake clock: timers it schedules fire when the test
/// advances time past them.
struct Sim {
    p: Policy,
    t0: Instant,
    now: Instant,
    timers: BTreeMap<Timer, Instant>,
    log: Vec<Action>,
}

fn settings(reload: Reload, batch_end: BatchEnd) -> Settings {
    Settings {
        reload,
        build_command: "make".into(),
        debounce: Duration::from_millis(50),
        batch_end,
        grace: Duration::from_secs(10),
        stop_signal: Signal::SIGTERM,
    }
}

impl Sim {
    fn new(s: Settings) -> Sim {
        let t0 = Instant::now();
        let mut p = Policy::new(s);
        let first = p.start(t0);
        assert_eq!(first, vec![Action::Start(Job::App)]);
        Sim {
            p,
            t0,
            now: t0,
            timers: BTreeMap::new(),
            log: Vec::new(),
        }
    }
    fn restart() -> Sim {
        Sim::new(settings(Reload::Restart, BatchEnd::Shim))
    }
    fn record(&mut self, out: Vec<Action>) -> Vec<Action> {
        for a in &out {
            if let Action::Schedule(t, at) = a {
                self.timers.insert(*t, *at);
            }
        }
        self.log.extend(out.iter().cloned());
        out
    }
    fn feed(&mut self, e: Event) -> Vec<Action> {
        let out = self.p.handle(self.now, e);
        self.record(out)
    }
    /// Advances the clock by `d`, firing due timers in time order.
    fn advance(&mut self, d: Duration) -> Vec<Action> {
        let end = self.now + d;
        let mut all = Vec::new();
        loop {
            let due = self
                .timers
                .iter()
                .filter(|(_, at)| **at <= end)
                .min_by_key(|(_, at)| **at)
                .map(|(t, at)| (*t, *at));
            let Some((t, at)) = due else { break };
            self.timers.remove(&t);
            self.now = self.now.max(at);
            let out = self.p.handle(self.now, Event::TimerFired(t));
            all.extend(self.record(out));
        }
        self.now = end;
        all
    }
    fn ms(&self) -> u128 {
        (self.now - self.t0).as_millis()
    }
    fn exited(&mut self, code: i32) -> Vec<Action> {
        self.feed(Event::AppExited {
            code,
            how: format!("exited with status {code}"),
        })
    }
    fn sync(&mut self, id: u64, files: usize, tool: Tool) -> Vec<Action> {
        let mut out = self.feed(Event::ShimBegin(id));
        out.extend(self.feed(Event::ShimEnd { id, files, tool }));
        out
    }
    fn logs(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|a| match a {
                Action::Log(l) => Some(l.clone()),
                _ => None,
            })
            .collect()
    }
    fn count(&self, a: &Action) -> usize {
        self.log.iter().filter(|x| *x == a).count()
    }
}

fn has(out: &[Action], a: &Action) -> bool {
    out.contains(a)
}

const TERM: Action = Action::Signal(Job::App, Signal::SIGTERM);

#[test]
fn an_edit_only_batch_restarts_at_once_after_tar() {
    let mut s = Sim::restart();
    let out = s.sync(1, 3, Tool::Tar);
    assert!(has(&out, &TERM), "stop signal at once, no timer: {out:?}");
    assert!(!out
        .iter()
        .any(|a| matches!(a, Action::Schedule(Timer::Reload, _))));
    let out = s.exited(0);
    assert!(has(&out, &Action::Start(Job::App)));
    assert!(has(&out, &Action::Reply(1)));
    assert!(s
        .logs()
        .iter()
        .any(|l| l == "sync: 3 file(s) -> restarted in 0 ms"));
}

#[test]
fn tar_then_rm_restarts_twice_the_last_after_the_deletion_and_rm_waits_for_the_old_app() {
    let mut s = Sim::restart();
    s.sync(1, 1, Tool::Tar);
    s.advance(Duration::from_millis(5));
    let out = s.exited(0);
    assert!(has(&out, &Action::Start(Job::App)));
    // The app runs on the edit; now Skaffold's rm.
    s.advance(Duration::from_millis(100));
    let out = s.sync(2, 1, Tool::Rm);
    assert!(has(&out, &TERM));
    assert!(
        !has(&out, &Action::Reply(2)),
        "rm is answered only once the old app is gone"
    );
    let out = s.exited(0);
    assert_eq!(
        out.iter()
            .filter(|a| **a == Action::Start(Job::App))
            .count(),
        1
    );
    let start = out
        .iter()
        .position(|a| *a == Action::Start(Job::App))
        .unwrap();
    let reply = out.iter().position(|a| *a == Action::Reply(2)).unwrap();
    assert!(start < reply, "{out:?}");
    // Initial start + two restarts.
    assert_eq!(s.count(&Action::Start(Job::App)), 2);
}

#[test]
fn an_rm_that_begins_while_the_app_stops_merges_into_one_restart() {
    let mut s = Sim::restart();
    s.sync(1, 1, Tool::Tar);
    s.feed(Event::ShimBegin(2));
    let out = s.exited(0);
    assert!(
        !has(&out, &Action::Start(Job::App)),
        "held for the rm: {out:?}"
    );
    assert!(has(
        &out,
        &Action::Schedule(Timer::AppStart, s.now + HOLD_START_MAX)
    ));
    let out = s.feed(Event::ShimEnd {
        id: 2,
        files: 2,
        tool: Tool::Rm,
    });
    assert!(has(&out, &Action::Start(Job::App)));
    assert!(has(&out, &Action::Reply(1)) && has(&out, &Action::Reply(2)));
    assert!(s
        .logs()
        .iter()
        .any(|l| l.starts_with("sync: 3 file(s) -> restarted")));
    assert_eq!(
        s.count(&Action::Start(Job::App)),
        1,
        "one restart for the batch"
    );
    // The hold's timer firing later changes nothing.
    assert!(s.advance(Duration::from_secs(3)).is_empty());
}

#[test]
fn a_held_start_waits_at_most_two_seconds() {
    let mut s = Sim::restart();
    s.sync(1, 1, Tool::Tar);
    s.feed(Event::ShimBegin(2));
    s.exited(0);
    assert!(!has(
        &s.advance(Duration::from_millis(1999)),
        &Action::Start(Job::App)
    ));
    assert!(has(
        &s.advance(Duration::from_millis(1)),
        &Action::Start(Job::App)
    ));
}

#[test]
fn hook_mode_accumulates_tar_and_rm_and_reloads_once_at_sync_done() {
    let mut s = Sim::new(settings(Reload::Restart, BatchEnd::Hook));
    let out = s.sync(1, 2, Tool::Tar);
    assert_eq!(
        out,
        vec![
            Action::Reply(1),
            Action::Schedule(Timer::Reload, s.now + HOOK_FALLBACK)
        ]
    );
    s.advance(Duration::from_millis(80));
    // A file event meanwhile belongs to the same batch: no debounce.
    let out = s.feed(Event::FileChanged("x.js".into()));
    assert!(out.is_empty(), "{out:?}");
    let out = s.sync(2, 1, Tool::Rm);
    assert!(has(&out, &Action::Reply(2)) && !has(&out, &TERM));
    s.advance(Duration::from_millis(100));
    let out = s.feed(Event::SyncDone(3));
    assert!(has(&out, &TERM));
    assert!(!has(&out, &Action::Reply(3)));
    let out = s.exited(0);
    assert!(has(&out, &Action::Start(Job::App)) && has(&out, &Action::Reply(3)));
    assert!(s
        .logs()
        .iter()
        .any(|l| l.starts_with("sync: 4 file(s) -> restarted")));
    assert!(
        s.advance(Duration::from_secs(5)).is_empty(),
        "the fallback is void"
    );
    assert_eq!(s.count(&Action::Start(Job::App)), 1);
}

#[test]
fn hook_mode_without_the_hook_reloads_two_seconds_after_the_last_shim() {
    let mut s = Sim::new(settings(Reload::Restart, BatchEnd::Hook));
    s.sync(1, 1, Tool::Tar);
    s.advance(Duration::from_millis(500));
    s.sync(2, 1, Tool::Rm);
    assert!(!has(&s.advance(Duration::from_millis(1999)), &TERM));
    let out = s.advance(Duration::from_millis(1));
    assert!(has(&out, &TERM), "{out:?}");
    assert_eq!(s.ms(), 2500);
    assert!(s
        .logs()
        .iter()
        .any(|l| l.contains("no sync-done within 2 s")));
}

#[test]
fn a_sync_done_in_shim_mode_makes_later_batches_wait_for_the_hook() {
    // No hook recorded at build time, but Skaffold runs one (kubectl
    // deployer): the first batch reloads after each shim, the next
    // reloads once, at `sync-done`.
    let mut s = Sim::restart();
    let out = s.sync(1, 1, Tool::Tar);
    assert!(has(&out, &TERM), "shim mode: tar reloads at once");
    s.exited(0);
    s.feed(Event::SyncDone(2));
    assert!(s
        .logs()
        .iter()
        .any(|l| l.starts_with("after-sync hook seen")));
    let starts = s.count(&Action::Start(Job::App));
    let out = s.sync(3, 1, Tool::Tar);
    assert!(!has(&out, &TERM), "now tar waits for the hook: {out:?}");
    let out = s.sync(4, 1, Tool::Rm);
    assert!(!has(&out, &TERM), "and so does rm: {out:?}");
    assert!(has(&s.feed(Event::SyncDone(5)), &TERM));
    s.exited(0);
    assert_eq!(s.count(&Action::Start(Job::App)), starts + 1, "one restart");
}

#[test]
fn a_hook_that_never_comes_is_not_waited_for_again() {
    // Recorded as hook mode, run where no hook runs (docker
    // deployer): only the first batch waits the fallback.
    let mut s = Sim::new(settings(Reload::Restart, BatchEnd::Hook));
    s.sync(1, 1, Tool::Tar);
    assert!(has(&s.advance(HOOK_FALLBACK), &TERM));
    s.exited(0);
    assert!(s
        .logs()
        .iter()
        .any(|l| l.contains("from now on each sync reloads at once")));
    let out = s.sync(2, 1, Tool::Tar);
    assert!(has(&out, &TERM), "the next tar reloads at once: {out:?}");
}

#[test]
fn sync_done_with_nothing_pending_is_answered_after_the_reload_under_way() {
    let mut s = Sim::restart();
    s.sync(1, 1, Tool::Rm);
    let out = s.feed(Event::SyncDone(7));
    assert!(!has(&out, &Action::Reply(7)));
    let out = s.exited(0);
    assert!(has(&out, &Action::Reply(7)));
    let out = s.feed(Event::SyncDone(8));
    assert_eq!(out, vec![Action::Reply(8)]);
    assert_eq!(s.count(&Action::Start(Job::App)), 1);
}

#[test]
fn file_events_are_debounced_and_ignored_while_a_shim_is_open() {
    let mut s = Sim::restart();
    s.feed(Event::FileChanged("a.js".into()));
    s.advance(Duration::from_millis(30));
    s.feed(Event::FileChanged("b.js".into()));
    s.feed(Event::FileChanged("a.js".into()));
    assert!(!has(&s.advance(Duration::from_millis(49)), &TERM));
    assert!(has(&s.advance(Duration::from_millis(1)), &TERM));
    assert_eq!(s.ms(), 80);
    s.exited(0);
    assert!(s
        .logs()
        .iter()
        .any(|l| l.starts_with("change: 2 file(s) -> restarted")));
    s.feed(Event::ShimBegin(1));
    assert!(s.feed(Event::FileChanged("c.js".into())).is_empty());
    assert!(s.advance(Duration::from_secs(1)).is_empty());
}

#[test]
fn a_shim_that_begins_cancels_the_debounce_and_its_end_reloads_everything() {
    let mut s = Sim::restart();
    s.feed(Event::FileChanged("a.js".into()));
    s.feed(Event::ShimBegin(1));
    assert!(s.advance(Duration::from_millis(100)).is_empty());
    let out = s.feed(Event::ShimEnd {
        id: 1,
        files: 2,
        tool: Tool::Tar,
    });
    assert!(has(&out, &TERM));
    s.exited(0);
    assert!(s.logs().iter().any(|l| l.starts_with("sync: 3 file(s)")));
}

#[test]
fn a_hook_waiting_on_an_aborted_shim_is_answered() {
    let mut s = Sim::new(settings(Reload::Restart, BatchEnd::Hook));
    s.feed(Event::ShimBegin(1));
    assert!(s.feed(Event::SyncDone(2)).is_empty());
    let out = s.feed(Event::ShimAbort(1));
    assert!(has(&out, &Action::Reply(2)), "{out:?}");
    assert!(!has(&out, &TERM));
}

#[test]
fn an_aborted_sync_without_changes_does_not_reload() {
    let mut s = Sim::restart();
    s.feed(Event::ShimBegin(1));
    let out = s.feed(Event::ShimAbort(1));
    assert_eq!(
        out,
        vec![Action::Log(
            "sync aborted: no file changed, no reload".into()
        )]
    );
}

fn crash(s: &mut Sim) -> Duration {
    let out = s.exited(3);
    let at = out
        .iter()
        .find_map(|a| match a {
            Action::Schedule(Timer::AppStart, at) => Some(*at),
            _ => None,
        })
        .expect("a restart is scheduled");
    let delay = at - s.now;
    let fired = s.advance(delay);
    assert!(has(&fired, &Action::Start(Job::App)));
    delay
}

#[test]
fn crashes_back_off_exponentially_to_ten_seconds() {
    let mut s = Sim::restart();
    let delays: Vec<u128> = (0..9).map(|_| crash(&mut s).as_millis()).collect();
    assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000]);
}

#[test]
fn ten_seconds_of_healthy_uptime_reset_the_backoff() {
    let mut s = Sim::restart();
    for _ in 0..5 {
        crash(&mut s);
    }
    // Up 9.9 s: not healthy yet, the backoff goes on growing.
    s.advance(Duration::from_millis(9900));
    assert_eq!(crash(&mut s), Duration::from_millis(3200));
    // Up 10 s: the next crash starts again from 100 ms.
    s.advance(HEALTHY_UPTIME);
    assert_eq!(crash(&mut s), Duration::from_millis(100));
    assert_eq!(crash(&mut s), Duration::from_millis(200));
}

#[test]
fn a_sync_resets_the_backoff_and_starts_a_crashed_app_at_once() {
    let mut s = Sim::restart();
    for _ in 0..4 {
        crash(&mut s);
    }
    s.exited(3); // waits 1.6 s now
    let out = s.sync(1, 1, Tool::Tar);
    assert!(has(&out, &Action::Start(Job::App)) && has(&out, &Action::Reply(1)));
    assert_eq!(crash(&mut s), Duration::from_millis(100));
    // The void backoff timer of before does not start a second app.
    let out = s.advance(Duration::from_secs(2));
    assert!(!has(&out, &Action::Start(Job::App)), "{out:?}");
}

#[test]
fn restarts_use_the_stop_signal_then_sigkill_after_the_grace_period() {
    let mut s = Sim::new(Settings {
        stop_signal: Signal::SIGQUIT,
        grace: Duration::from_secs(2),
        ..settings(Reload::Restart, BatchEnd::Shim)
    });
    let out = s.sync(1, 1, Tool::Tar);
    assert!(has(&out, &Action::Signal(Job::App, Signal::SIGQUIT)));
    assert!(!has(
        &s.advance(Duration::from_millis(1999)),
        &Action::Signal(Job::App, Signal::SIGKILL)
    ));
    let out = s.advance(Duration::from_millis(1));
    assert!(has(&out, &Action::Signal(Job::App, Signal::SIGKILL)));
    let out = s.feed(Event::AppExited {
        code: 137,
        how: "was killed by SIGKILL".into(),
    });
    assert!(has(&out, &Action::Start(Job::App)));
}

#[test]
fn term_stops_the_app_with_the_stop_signal_and_exits_with_its_status() {
    let mut s = Sim::new(Settings {
        stop_signal: Signal::SIGQUIT,
        ..settings(Reload::Restart, BatchEnd::Shim)
    });
    let out = s.feed(Event::Signal(Signal::SIGTERM));
    assert!(
        has(&out, &Action::Signal(Job::App, Signal::SIGQUIT)),
        "{out:?}"
    );
    let out = s.exited(42);
    assert_eq!(out.last(), Some(&Action::Exit(42)));
    // INT and QUIT reach the app as they are.
    for sig in [Signal::SIGINT, Signal::SIGQUIT] {
        let mut s = Sim::new(Settings {
            stop_signal: Signal::SIGUSR2,
            ..settings(Reload::Restart, BatchEnd::Shim)
        });
        assert!(has(
            &s.feed(Event::Signal(sig)),
            &Action::Signal(Job::App, sig)
        ));
    }
}

#[test]
fn an_app_ignoring_the_stop_is_killed_after_the_grace_and_137_is_the_exit_status() {
    let mut s = Sim::restart();
    s.feed(Event::Signal(Signal::SIGTERM));
    assert!(!has(
        &s.advance(Duration::from_millis(9999)),
        &Action::Signal(Job::App, Signal::SIGKILL)
    ));
    assert!(has(
        &s.advance(Duration::from_millis(1)),
        &Action::Signal(Job::App, Signal::SIGKILL)
    ));
    let out = s.feed(Event::AppExited {
        code: 137,
        how: "was killed by SIGKILL".into(),
    });
    assert_eq!(out.last(), Some(&Action::Exit(137)));
}

#[test]
fn term_without_a_running_app_exits_with_128_plus_the_signal() {
    let mut s = Sim::restart();
    s.exited(1); // crashed, waiting for its backoff
    let out = s.feed(Event::Signal(Signal::SIGTERM));
    assert_eq!(out.last(), Some(&Action::Exit(143)));
    assert!(
        s.advance(Duration::from_secs(1)).is_empty(),
        "no start after exit"
    );
}

#[test]
fn other_signals_are_forwarded_and_do_not_stop_anything() {
    let mut s = Sim::restart();
    for sig in [
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
    ] {
        assert_eq!(
            s.feed(Event::Signal(sig)),
            vec![Action::Signal(Job::App, sig)]
        );
    }
    s.exited(1);
    assert!(
        s.feed(Event::Signal(Signal::SIGHUP)).is_empty(),
        "no app: dropped"
    );
}

fn rebuild() -> Sim {
    Sim::new(Settings {
        grace: Duration::from_secs(2),
        ..settings(Reload::Rebuild, BatchEnd::Shim)
    })
}

#[test]
fn a_rebuild_keeps_the_old_app_until_it_succeeds() {
    let mut s = rebuild();
    let out = s.sync(1, 1, Tool::Tar);
    assert!(has(&out, &Action::Start(Job::Build)) && has(&out, &Action::Reply(1)));
    assert!(!has(&out, &TERM), "the old app serves while building");
    s.advance(Duration::from_millis(700));
    let out = s.feed(Event::BuildExited {
        ok: true,
        status: "exit status: 0".into(),
    });
    assert!(has(&out, &TERM));
    s.advance(Duration::from_millis(20));
    let out = s.exited(0);
    assert!(s
        .logs()
        .iter()
        .any(|l| l == "rebuilt and restarted in 720 ms"));
    let await_live = Action::AwaitLive {
        since: s.t0,
        kind: Reloaded::Rebuild,
    };
    assert_eq!(
        out.last(),
        Some(&await_live),
        "live counts from the batch end"
    );
}

#[test]
fn each_restart_asks_for_its_live_line_once_from_its_batch_end_not_a_crash() {
    let mut s = Sim::restart();
    s.advance(Duration::from_millis(100));
    s.sync(1, 2, Tool::Tar);
    let batch_end = s.now;
    s.advance(Duration::from_millis(30));
    let out = s.exited(0);
    let asked: Vec<&Action> = out
        .iter()
        .filter(|a| matches!(a, Action::AwaitLive { .. }))
        .collect();
    assert_eq!(
        asked,
        [&Action::AwaitLive {
            since: batch_end,
            kind: Reloaded::Restart
        }]
    );
    s.exited(1);
    s.advance(Duration::from_secs(1));
    assert_eq!(
        s.log
            .iter()
            .filter(|a| matches!(a, Action::AwaitLive { .. }))
            .count(),
        1,
        "a crash restart is no reload: {:?}",
        s.log
    );
    assert_eq!(
        s.count(&Action::Start(Job::App)),
        2,
        "the reload's and the crash's"
    );
}

#[test]
fn a_failed_rebuild_keeps_the_old_app() {
    let mut s = rebuild();
    s.sync(1, 1, Tool::Tar);
    let out = s.feed(Event::BuildExited {
        ok: false,
        status: "exit status: 1".into(),
    });
    assert_eq!(
        out,
        vec![Action::Log(
            "rebuild failed (exit status: 1); the previous version keeps running".into()
        )]
    );
}

#[test]
fn a_newer_save_cancels_the_build_and_builds_again_on_the_final_files() {
    let mut s = rebuild();
    s.sync(1, 1, Tool::Tar);
    let out = s.sync(2, 1, Tool::Tar);
    assert!(has(&out, &Action::Signal(Job::Build, Signal::SIGTERM)));
    // More saves while it is being cancelled: merged, no more signals.
    let out = s.sync(3, 1, Tool::Tar);
    assert!(!out
        .iter()
        .any(|a| matches!(a, Action::Signal(Job::Build, _) | Action::Start(Job::Build))));
    let out = s.feed(Event::BuildExited {
        ok: false,
        status: "signal: 15".into(),
    });
    assert!(has(&out, &Action::Start(Job::Build)), "{out:?}");
    assert!(
        !out.iter().any(|a| a.clone() == TERM),
        "the app keeps running"
    );
    assert_eq!(
        s.count(&Action::Start(Job::Build)),
        2,
        "one build after the cancel"
    );
    s.feed(Event::BuildExited {
        ok: true,
        status: "exit status: 0".into(),
    });
    s.exited(0);
    assert_eq!(s.count(&Action::Start(Job::App)), 1);
}

#[test]
fn a_build_ignoring_term_is_killed_after_the_grace_period() {
    let mut s = rebuild();
    s.sync(1, 1, Tool::Tar);
    s.sync(2, 1, Tool::Tar);
    assert!(!has(
        &s.advance(Duration::from_millis(1999)),
        &Action::Signal(Job::Build, Signal::SIGKILL)
    ));
    assert!(has(
        &s.advance(Duration::from_millis(1)),
        &Action::Signal(Job::Build, Signal::SIGKILL)
    ));
}

#[test]
fn term_during_a_build_stops_build_and_app_and_exits_once_both_are_gone() {
    let mut s = rebuild();
    s.sync(1, 1, Tool::Tar);
    let out = s.feed(Event::Signal(Signal::SIGTERM));
    assert!(has(&out, &Action::Signal(Job::Build, Signal::SIGTERM)) && has(&out, &TERM));
    let out = s.advance(Duration::from_secs(2));
    assert!(has(&out, &Action::Signal(Job::Build, Signal::SIGKILL)));
    assert!(has(&out, &Action::Signal(Job::App, Signal::SIGKILL)));
    let out = s.exited(42);
    assert!(
        !out.iter().any(|a| matches!(a, Action::Exit(_))),
        "the build is still there"
    );
    let out = s.feed(Event::BuildExited {
        ok: false,
        status: "signal: 9".into(),
    });
    assert_eq!(out.last(), Some(&Action::Exit(42)));
    assert_eq!(
        s.count(&Action::Start(Job::Build)),
        1,
        "no build after the stop"
    );
}

#[test]
fn static_files_need_no_reload() {
    let mut s = Sim::new(settings(Reload::None, BatchEnd::Shim));
    let out = s.sync(1, 2, Tool::Rm);
    assert!(has(&out, &Action::Reply(1)));
    assert!(!out
        .iter()
        .any(|a| matches!(a, Action::Signal(Job::App, _) | Action::Start(Job::App))));
    assert!(s
        .logs()
        .iter()
        .any(|l| l == "sync: 2 file(s); nothing to reload (files are served as they are)"));
}

#[test]
fn a_sync_that_restarts_nothing_keeps_a_crashed_apps_backoff() {
    // Static files reload nothing and a rebuild restarts only once it has
    // succeeded: neither may cancel the crash restart the app waits for.
    for reload in [Reload::None, Reload::Rebuild] {
        let mut s = Sim::new(settings(reload, BatchEnd::Shim));
        s.exited(1); // waits 100 ms
        let out = s.sync(1, 1, Tool::Tar);
        assert!(has(&out, &Action::Reply(1)), "{reload:?}: {out:?}");
        assert!(!has(&out, &Action::Start(Job::App)), "{reload:?}: {out:?}");
        let out = s.advance(BACKOFF_START);
        assert!(has(&out, &Action::Start(Job::App)), "{reload:?}: {out:?}");
    }
}
