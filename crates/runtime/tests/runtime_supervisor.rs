//! The supervisor with real processes and real files (issues 3 and 16).
//! Every wait is on an event (a log line, a file, a process state), never
//! a fixed sleep.

// Required due to: https://github.com/rust-lang/rust/issues/95513
#![allow(unused_crate_dependencies)]
// A panic in a test is its failure, carrying its message.
#![allow(clippy::unwrap_used)]
// Test arithmetic on pids and small counts, all far inside each type's range.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn sigterm_is_forwarded_and_the_apps_exit_status_is_ours() {
    let sb = Sandbox::new("kind = \"restart\"");
    let child = sb.supervise(&[
        "sh",
        "-c",
        "trap 'exit 42' TERM; echo up > ../up; while :; do sleep 0.05; done",
    ]);
    assert!(wait_until(Duration::from_secs(10), || sb
        .path("up")
        .exists()));
    let (code, log) = sb.stop(child);
    assert_eq!(code, Some(42), "{log}");
}

#[test]
fn an_app_ignoring_sigterm_is_killed_after_the_grace_period() {
    let sb = Sandbox::new("kind = \"restart\"");
    let child = sb.supervise(&[
        "sh",
        "-c",
        "trap '' TERM; echo up > ../up; while :; do sleep 0.05; done",
    ]);
    assert!(wait_until(Duration::from_secs(10), || sb
        .path("up")
        .exists()));
    let start = Instant::now();
    let (code, log) = sb.stop(child);
    let took = start.elapsed();
    assert_eq!(code, Some(128 + 9), "{log}");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(8),
        "{took:?}\n{log}"
    );
}

#[test]
fn as_pid_1_orphaned_grandchildren_are_reaped() {
    let sb = Sandbox::new("kind = \"restart\"");
    // The app leaves 5 orphans behind that exit after 0.2 s: as PID 1 of a
    // new PID namespace, the supervisor inherits and must reap them. Each
    // records its parent as it ends (the `read` builtin opens
    // /proc/self/stat in the orphan itself).
    let script = "for i in 1 2 3 4 5; do sh -c '(sleep 0.2; read -r a b c ppid rest < /proc/self/stat; echo $ppid >> ../orphans) &'; done; echo up > ../up; exec sleep 30";
    let child = Command::new("unshare")
        .args([
            "--pid",
            "--fork",
            "--mount-proc",
            BIN,
            "supervise",
            "--config",
        ])
        .arg(sb.path("cfg.toml"))
        .args(["--", "sh", "-c", script])
        .current_dir(sb.app())
        .env("FILESYNC_SOCKET", sb.path("sock"))
        .env("FILESYNC_STOP_GRACE_SECONDS", "2")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || sb
        .path("up")
        .exists()));
    // The supervisor is unshare's child.
    let unshare_pid = child.id();
    let sup = descendants(unshare_pid)
        .into_iter()
        .find(|p| process(*p).is_some_and(|p| p.ppid == unshare_pid))
        .expect("supervisor pid");
    let orphans_ended = wait_until(Duration::from_secs(10), || {
        lines(&sb.path("orphans")).len() == 5
    });
    // Once reaped, only the app is left among the supervisor's children
    // (a zombie would still be listed).
    let children = |sup: u32| {
        std::fs::read_to_string(format!("/proc/{sup}/task/{sup}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .map(|p| {
                let p: u32 = p.parse().unwrap();
                process(p).map(|p| format!("{} {} {}", p.pid, p.state, p.comm))
            })
            .collect::<Vec<_>>()
    };
    let reaped = wait_until(Duration::from_secs(5), || children(sup).len() == 1);
    let left = children(sup);
    // Stop the supervisor itself (PID 1 inside); unshare then exits too.
    nix_kill(sup as i32, 15).unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(orphans_ended, "the orphans never ended\n{log}");
    assert_eq!(
        lines(&sb.path("orphans")),
        vec!["1"; 5],
        "each orphan was reparented to the supervisor (PID 1)"
    );
    assert!(reaped, "children left: {left:?}\n{log}");
    assert!(log.contains("exiting"), "{log}");
}

#[test]
fn a_crash_loop_backs_off_and_a_sync_resets_it() {
    let sb = Sandbox::new("kind = \"restart\"");
    let t = Instant::now();
    let child = sb.supervise(&["sh", "-c", "echo start >> ../starts; exit 3"]);
    assert!(wait_until(Duration::from_secs(10), || lines(
        &sb.path("starts")
    )
    .len()
        >= 5));
    let took = t.elapsed();
    // Backoff 100, 200, 400, 800 ms between the five starts: never faster.
    assert!(took >= Duration::from_millis(1500), "5 starts in {took:?}");
    for ms in [100, 200, 400, 800] {
        sb.expect_log(&format!("restarting in {ms} ms"), 1, Duration::from_secs(5));
    }
    sb.socket_ready();
    let out = sb.tar(&stream(&[(sb.app().join("a.js"), b"x".to_vec())]));
    assert!(out.status.success());
    sb.expect_log("sync: 1 file(s)", 1, Duration::from_secs(10));
    let reset = wait_until(Duration::from_secs(10), || {
        let log = sb.log();
        let after_sync = log.rsplit("sync: 1 file(s)").next().unwrap().to_string();
        after_sync.contains("restarting in 100 ms")
    });
    let (_, log) = sb.stop(child);
    assert!(log.contains("exited with status 3"), "{log}");
    assert!(reset, "backoff not reset by the sync:\n{log}");
}

#[test]
fn a_failed_rebuild_keeps_the_old_app_and_a_fixed_one_restarts() {
    let sb = Sandbox::new("kind = \"rebuild\"\ncommand = [\"sh\", \"-c\", \"echo compiling; test -f fixed || { echo 'main.go:3: syntax error' >&2; exit 1; }\"]");
    let child = sb.supervise(&["sh", "-c", "echo $$ >> ../pids; exec sleep 60"]);
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("pids")
    )
    .len()
        == 1));
    let out = sb.tar(&stream(&[(sb.app().join("main.go"), b"broken".to_vec())]));
    assert!(out.status.success());
    sb.expect_log("rebuild failed", 1, Duration::from_secs(10));
    assert_eq!(
        lines(&sb.path("pids")).len(),
        1,
        "the old process must keep running"
    );
    let old: i32 = lines(&sb.path("pids"))[0].parse().unwrap();
    assert!(std::path::Path::new(&format!("/proc/{old}")).exists());
    std::fs::write(sb.app().join("fixed"), "").unwrap();
    let out = sb.tar(&stream(&[(sb.app().join("main.go"), b"fixed".to_vec())]));
    assert!(out.status.success());
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("pids")
    )
    .len()
        == 2));
    let (_, log) = sb.stop(child);
    // The compiler's output, streamed line by line as it came.
    assert!(
        log.contains("rebuild failed") && log.contains("[filesync] build: main.go:3: syntax error"),
        "{log}"
    );
    assert!(log.contains("[filesync] build: compiling"), "{log}");
    assert!(log.contains("rebuilt and restarted"), "{log}");
}

#[test]
fn no_change_is_lost_under_200_syncs() {
    let sb = Sandbox::new("kind = \"restart\"");
    std::fs::write(sb.app().join("msg"), "0").unwrap();
    // The app records the content it started with.
    let child = sb.supervise(&[
        "sh",
        "-c",
        // One write per start, so a kill mid-way cannot glue two lines.
        "printf '%s\\n' \"$(cat msg)\" >> ../seen; exec sleep 60",
    ]);
    sb.socket_ready();
    for i in 1..=200 {
        let out = sb.tar(&stream(&[(
            sb.app().join("msg"),
            i.to_string().into_bytes(),
        )]));
        assert!(
            out.status.success(),
            "sync {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(wait_until(Duration::from_secs(10), || lines(
        &sb.path("seen")
    )
    .last()
    .map(String::as_str)
        == Some("200")));
    let (_, log) = sb.stop(child);
    let seen = lines(&sb.path("seen"));
    assert_eq!(seen.last().map(String::as_str), Some("200"), "{log}");
    eprintln!("200 syncs -> {} starts", seen.len());
}

#[test]
fn a_2000_file_sync_restarts_exactly_once_after_the_last_file() {
    let sb = Sandbox::new("kind = \"restart\"");
    // On every start the app counts the files already carrying the new content.
    let child = sb.supervise(&[
        "sh",
        "-c",
        "grep -l new -r src 2>/dev/null | wc -l >> ../starts; exec sleep 60",
    ]);
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("starts")
    )
    .len()
        == 1));
    let files: Vec<_> = (0..2000)
        .map(|i| {
            (
                sb.app().join(format!("src/d{}/f{i}.js", i % 20)),
                b"new".to_vec(),
            )
        })
        .collect();
    let out = sb.tar(&stream(&files));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sb.expect_log(
        "sync: 2000 file(s) -> restarted",
        1,
        Duration::from_secs(30),
    );
    // The restarted app has counted the files (a change before that would
    // stop it mid-count: a restart, not a lost start).
    assert!(
        wait_until(Duration::from_secs(10), || lines(&sb.path("starts")).len()
            == 2),
        "the batch's restart never started the app: starts {:?}\n{}",
        lines(&sb.path("starts")),
        sb.log()
    );
    // A late echo of the 2,000 files would reload on its own, or join the
    // marker's change.
    sb.marker(1);
    assert!(
        wait_until(Duration::from_secs(10), || lines(&sb.path("starts")).len()
            >= 3),
        "the marker's restart never started the app: starts {:?}\n{}",
        lines(&sb.path("starts")),
        sb.log()
    );
    let (_, log) = sb.stop(child);
    let starts = lines(&sb.path("starts"));
    assert_eq!(
        starts.len(),
        3,
        "exactly one restart for the batch, one for the marker: {starts:?}\n{log}"
    );
    assert_eq!(
        starts[1].trim(),
        "2000",
        "the restart saw every file: {starts:?}"
    );
}

/// A /layers tree as the lifecycle exports it: a provider buildpack with
/// launch env (shared and `web`-only), ours with its config, and the
/// metadata of both process types.
fn write_layers(sb: &Sandbox, layers: &std::path::Path) {
    let w = |p: &str, v: &str| {
        let f = layers.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, v).unwrap();
    };
    let cfg = layers.join("skaffold-filesync/filesync/filesync.toml");
    std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    std::fs::copy(sb.path("cfg.toml"), &cfg).unwrap();
    w("prov/tool/bin/.keep", "");
    w("prov/tool/env.launch/SHARED.override", "both");
    w("prov/tool/env.launch/LIST.prepend", "/p");
    w("prov/tool/env.launch/LIST.delim", ":");
    w("prov/tool/env.launch/web/WEB_ONLY.override", "yes");
    w("prov/tool/env.launch/web/LIST.append", "/web");
    w("prov/tool/env.launch/web/LIST.delim", ":");
    w(
        "skaffold-filesync/filesync/env.launch/FILESYNC_CONFIG.override",
        cfg.to_str().unwrap(),
    );
    // Written whole, then renamed: a reader never sees a partial dump.
    let dump = |name: &str| {
        let f = sb.path(name);
        format!(
            "env | sort > {f}.part && mv {f}.part {f}; exec sleep 30",
            f = f.display()
        )
    };
    w(
        "config/metadata.toml",
        &format!(
            "[[buildpacks]]\nid = \"prov\"\napi = \"0.10\"\n[[buildpacks]]\nid = \"skaffold-filesync\"\napi = \"0.10\"\n\
             [[processes]]\ntype = \"web\"\ncommand = [\"sh\", \"-c\", {web:?}]\nargs = []\ndirect = true\nbuildpack-id = \"prov\"\n\
             [[processes]]\ntype = \"filesync\"\ncommand = [{bin:?}, \"supervise\"]\nargs = []\ndirect = true\nbuildpack-id = \"skaffold-filesync\"\n",
            web = dump("web.env"),
            bin = BIN,
        ),
    );
}

#[test]
fn the_wrapped_process_gets_the_launchers_environment_exactly() {
    // A /layers tree as the lifecycle exports it, with the real CNB launcher
    // (built by scripts/setup.sh) running both the wrapped type (`web`)
    // unwrapped and our supervisor type (`filesync`), which wraps `web`.
    let launcher =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.work/bin/launcher");
    assert!(
        launcher.is_file(),
        "{} missing: run scripts/setup.sh",
        launcher.display()
    );
    let sb = Sandbox::new("kind = \"restart\"");
    let layers = sb.path("layers");
    write_layers(&sb, &layers);
    // The wrapped run writes to wrapped.env: point `web` there for it.
    let procs = sb.path("process");
    std::fs::create_dir_all(&procs).unwrap();
    for t in ["web", "filesync"] {
        std::os::unix::fs::symlink(&launcher, procs.join(t)).unwrap();
    }
    let run = |t: &str| {
        Command::new(procs.join(t))
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:/cnb/lifecycle:/usr/local/bin:/usr/bin:/bin",
                    procs.display()
                ),
            )
            .env("HOME", "/root")
            .env("LIST", "/base")
            .env("CNB_LAYERS_DIR", &layers)
            .env("CNB_APP_DIR", sb.app())
            .env("CNB_PLATFORM_API", "0.13")
            .env("FILESYNC_SOCKET", sb.path("sock"))
            .env("FILESYNC_STOP_GRACE_SECONDS", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(sb.path(&format!("{t}.log"))).unwrap())
            .spawn()
            .unwrap()
    };
    let unwrapped = run("web");
    assert!(wait_until(Duration::from_secs(10), || sb
        .path("web.env")
        .exists()));
    let want = std::fs::read_to_string(sb.path("web.env")).unwrap();
    std::fs::remove_file(sb.path("web.env")).unwrap();
    let _ = stop(unwrapped);
    let wrapped = run("filesync");
    let written = wait_until(Duration::from_secs(10), || {
        sb.path("web.env").exists()
            && !std::fs::read_to_string(sb.path("web.env"))
                .unwrap()
                .is_empty()
    });
    assert!(
        written,
        "wrapped run wrote no env:\n{}",
        std::fs::read_to_string(sb.path("filesync.log")).unwrap_or_default()
    );
    // Written whole and renamed into place: complete once it exists.
    let got = std::fs::read_to_string(sb.path("web.env")).unwrap();
    let _ = stop(wrapped);
    assert!(
        want.contains("WEB_ONLY=yes") && want.contains("LIST=/p:/base:/web"),
        "{want}"
    );
    let diff: Vec<String> = similar::TextDiff::from_lines(&want, &got)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
        // The supervisor's only additions, for the app alone: the
        // held-sockets interposer (supervisor/held_sockets.rs), when it
        // is built next to the runtime binary.
        .filter(|c| !c.starts_with("+LD_PRELOAD=") && !c.starts_with("+FILESYNC_LISTEN_SOCKET="))
        .collect();
    assert!(
        diff.is_empty(),
        "env differs wrapped vs unwrapped:\n{}",
        diff.join("\n")
    );
}

#[test]
fn the_sync_socket_is_only_for_the_containers_user() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let sb = Sandbox::new("kind = \"restart\"");
    let child = sb.supervise(&["sleep", "60"]);
    sb.socket_ready();
    let meta = std::fs::metadata(sb.path("sock")).unwrap();
    let mode = meta.permissions().mode() & 0o777;
    let uid = meta.uid();
    let (_, log) = sb.stop(child);
    assert_eq!(mode, 0o600, "socket mode {mode:o}\n{log}");
    assert_eq!(uid, nix_uid(), "owned by the supervisor's user");
}

fn nix_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The process tree under `sup`: pids and their process groups.
fn tree_of(sup: u32) -> Vec<Proc> {
    descendants(sup).into_iter().filter_map(process).collect()
}

#[test]
fn term_during_a_60_second_rebuild_stops_build_and_app_within_the_grace_period() {
    // A build that ignores TERM (so only the KILL after the grace ends it)
    // and has a child of its own, in its own process group.
    let sb = Sandbox::new(
        "kind = \"rebuild\"\ncommand = [\"sh\", \"-c\", \"trap '' TERM; echo building; sleep 60 & sleep 60; wait\"]",
    );
    let child = sb.supervise(&[
        "sh",
        "-c",
        "trap 'exit 42' TERM; echo up > ../up; while :; do sleep 0.05; done",
    ]);
    let sup = child.id();
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(10), || sb
        .path("up")
        .exists()));
    let out = sb.tar(&stream(&[(sb.app().join("main.go"), b"v2".to_vec())]));
    assert!(out.status.success());
    sb.expect_log("[filesync] build: building", 1, Duration::from_secs(10));
    // The build's shell and its two sleeps, in a group of their own.
    let mut tree = Vec::new();
    let built = wait_until(Duration::from_secs(10), || {
        tree = tree_of(sup);
        tree.iter()
            .filter(|p| p.comm == "sleep" && p.pgrp != p.pid)
            .count()
            >= 2
            || tree.iter().filter(|p| p.comm == "sleep").count() >= 3
    });
    assert!(built, "no build tree: {tree:?}\n{}", sb.log());
    let groups: std::collections::BTreeSet<u32> = tree.iter().map(|p| p.pgrp).collect();
    assert!(
        groups.len() >= 2 && !groups.contains(&sup),
        "app and build each in a group of their own, not ours: {tree:?}"
    );
    let t = Instant::now();
    nix_kill(sup as i32, 15).unwrap();
    let mut child = child;
    let status = child.wait().unwrap();
    let took = t.elapsed();
    let log = sb.log();
    assert_eq!(status.code(), Some(42), "the app's exit status\n{log}");
    // Grace 2 s, then SIGKILL of the build's group: done within the grace
    // (plus the time to reap).
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(3500),
        "stopped in {took:?}\n{log}"
    );
    assert!(
        log.contains("SIGKILL to the build's process group"),
        "{log}"
    );
    let left: Vec<Proc> = tree
        .iter()
        .filter(|p| alive(p.pid))
        .filter_map(|p| process(p.pid))
        .collect();
    let in_groups: Vec<Proc> = processes()
        .into_iter()
        .filter(|p| groups.contains(&p.pgrp) && p.state != 'Z')
        .collect();
    assert!(left.is_empty(), "processes left: {left:?}\n{log}");
    assert!(in_groups.is_empty(), "group members left: {in_groups:?}");
}

#[test]
fn a_save_during_a_rebuild_cancels_it_and_the_next_build_is_of_the_final_files() {
    // The build reads the source when it starts and writes it out after 1 s.
    let sb = Sandbox::new(
        "kind = \"rebuild\"\ncommand = [\"sh\", \"-c\", \"v=$(cat v.txt); echo start $v >> ../builds; sleep 1; echo done $v >> ../builds; echo $v > ../out\"]",
    );
    std::fs::write(sb.app().join("v.txt"), "0").unwrap();
    std::fs::write(sb.path("out"), "0\n").unwrap();
    let child = sb.supervise(&["sh", "-c", "cat ../out >> ../seen; exec sleep 60"]);
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(10), || lines(
        &sb.path("seen")
    )
    .len()
        == 1));
    let sync = |v: &str| {
        let out = sb.tar(&stream(&[(sb.app().join("v.txt"), v.as_bytes().to_vec())]));
        assert!(out.status.success());
    };
    sync("1");
    assert!(wait_until(Duration::from_secs(10), || lines(
        &sb.path("builds")
    ) == ["start 1"]));
    sync("2");
    assert!(
        wait_until(Duration::from_secs(20), || lines(&sb.path("seen")).len()
            == 2),
        "seen {:?}, builds {:?}\n{}",
        lines(&sb.path("seen")),
        lines(&sb.path("builds")),
        sb.log()
    );
    let (_, log) = sb.stop(child);
    assert_eq!(
        lines(&sb.path("builds")),
        ["start 1", "start 2", "done 2"],
        "the first build was cancelled, the second built the final files\n{log}"
    );
    assert_eq!(
        lines(&sb.path("seen")),
        ["0", "2"],
        "one restart, on the final build"
    );
    assert!(
        log.contains("cancelling it; building again on the final files"),
        "{log}"
    );
    assert_eq!(log.matches("rebuilt and restarted").count(), 1, "{log}");
}

#[test]
fn signals_are_forwarded_and_the_stop_signal_is_configurable() {
    // Recorded stop signal INT, overridden at run time by QUIT.
    let sb = Sandbox::with_config("kind = \"restart\"", "stop_signal = \"INT\"");
    let app = "echo $$ >> ../pids; for s in HUP USR1 USR2 WINCH; do trap \"echo $s >> ../sigs\" $s; done; \
               trap 'echo QUIT >> ../sigs; exit 0' QUIT; trap 'echo INT >> ../sigs; exit 0' INT; \
               trap 'echo TERM >> ../sigs; exit 0' TERM; while :; do sleep 0.05; done";
    let child = sb.supervise_with(&["sh", "-c", app], &[("FILESYNC_STOP_SIGNAL", "sigquit")]);
    let sup = child.id() as i32;
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(10), || lines(
        &sb.path("pids")
    )
    .len()
        == 1));
    for (sig, name) in [(1, "HUP"), (10, "USR1"), (12, "USR2"), (28, "WINCH")] {
        nix_kill(sup, sig).unwrap();
        assert!(
            wait_until(Duration::from_secs(5), || lines(&sb.path("sigs"))
                .last()
                .map(String::as_str)
                == Some(name)),
            "{name} not forwarded: {:?}\n{}",
            lines(&sb.path("sigs")),
            sb.log()
        );
    }
    // A reload stops the app with the stop signal.
    let out = sb.tar(&stream(&[(sb.app().join("a.js"), b"x".to_vec())]));
    assert!(out.status.success());
    assert!(wait_until(Duration::from_secs(10), || lines(
        &sb.path("pids")
    )
    .len()
        == 2));
    // TERM (the platform's stop) reaches the app as the stop signal too.
    let (code, log) = sb.stop(child);
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        lines(&sb.path("sigs")),
        ["HUP", "USR1", "USR2", "WINCH", "QUIT", "QUIT"],
        "{log}"
    );
}

/// `unshare -m` with a private mount namespace where `/tmp` is a fresh,
/// read-only tmpfs (the host's `/tmp` is never touched) and `/dev/shm` a
/// fresh tmpfs, read-only too when `shm_ro`; then `BIN`.
///
/// What the test needs from the host's `/tmp` stays visible at its own
/// path: the binary under test and the sandbox `sb`, which lie there when
/// the repository is cloned under `/tmp` (cargo's target dir is in the
/// clone). The host's `/tmp` is bound on a scratch directory of the new
/// `/dev/shm`, each of those directories bound from it onto the same path
/// in the new `/tmp`, and the scratch directory removed before `/tmp` is
/// made read-only (the binds stay writable, as they are on the host).
fn read_only_tmp(shm_ro: bool, sb: &Sandbox) -> Command {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let rebinds: String = [bin_dir, sb.dir.path()]
        .iter()
        .filter_map(|p| {
            let p = p.canonicalize().unwrap();
            let rel = p.strip_prefix("/tmp").ok()?.to_str().unwrap().to_string();
            Some(format!(
                "mkdir -p {to} && mount --bind {from} {to} && ",
                to = sh_quote(&format!("/tmp/{rel}")),
                from = sh_quote(&format!("{HOST_TMP}/{rel}")),
            ))
        })
        .collect();
    let mut c = Command::new("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-c"]);
    c.arg(format!(
        "mount -t tmpfs -o size=1m filesync-shm /dev/shm && \
         mkdir {HOST_TMP} && mount --bind /tmp {HOST_TMP} && \
         mount -t tmpfs -o size=1m filesync-ro-tmp /tmp && {rebinds}\
         mount -o remount,ro /tmp && umount {HOST_TMP} && rmdir {HOST_TMP}{} && \
         exec \"$0\" \"$@\"",
        if shm_ro {
            " && mount -o remount,ro /dev/shm"
        } else {
            ""
        }
    ));
    c.arg(BIN);
    c.env_remove("XDG_RUNTIME_DIR");
    c
}

/// Where [`read_only_tmp`] sees the host's `/tmp` while it sets up.
const HOST_TMP: &str = "/dev/shm/.filesync-host-tmp";

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A sandbox whose config puts the socket in `/tmp` (which the test makes
/// read-only), itself outside `/tmp` unless the clone is there.
fn sandbox_outside_tmp() -> Sandbox {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let sock = format!("/tmp/filesync-ro-test-{}.sock", std::process::id());
    Sandbox::in_dir(dir, "kind = \"restart\"", &format!("socket = \"{sock}\""))
}

/// Runs a shim (`args` after the binary) inside the mount namespace of
/// `pid`, finding the socket as in an image: from the recorded config.
fn shim_in_ns(sb: &Sandbox, pid: u32, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-m", "--", BIN])
        .args(args)
        .env_remove("FILESYNC_SOCKET")
        .env_remove("XDG_RUNTIME_DIR")
        .env("FILESYNC_CONFIG", sb.path("cfg.toml"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn with_tmp_read_only_the_socket_moves_to_a_private_directory_and_syncs_still_batch() {
    let sb = sandbox_outside_tmp();
    let child = sb.supervise_cmd(
        read_only_tmp(false, &sb),
        &["sh", "-c", "echo start >> ../starts; exec sleep 60"],
        &[("FILESYNC_SOCKET", "")],
    );
    let pid = child.id();
    assert!(
        wait_until(Duration::from_secs(10), || lines(&sb.path("starts")).len()
            == 1),
        "the app never started:\n{}",
        sb.log()
    );
    sb.expect_log(
        "sync socket /dev/shm/filesync-0/filesync.sock",
        1,
        Duration::from_secs(10),
    );
    let files: Vec<_> = (0..50)
        .map(|i| (sb.app().join(format!("src/f{i}.js")), b"v2".to_vec()))
        .collect();
    let out = shim_in_ns(
        &sb,
        pid,
        &["tar", "xmf", "-", "-C", "/", "--no-same-owner"],
        &stream(&files),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sb.expect_log("sync: 50 file(s) -> restarted", 1, Duration::from_secs(10));
    sb.marker(1);
    let (_, log) = sb.stop(child);
    assert!(!log.contains("degraded"), "{log}");
    assert_eq!(
        lines(&sb.path("starts")).len(),
        3,
        "one restart for the sync:\n{log}"
    );
}

#[test]
fn with_no_socket_anywhere_the_app_runs_and_file_changes_still_reload_it() {
    let sb = sandbox_outside_tmp();
    let child = sb.supervise_cmd(
        read_only_tmp(true, &sb),
        &["sh", "-c", "echo start >> ../starts; exec sleep 60"],
        &[("FILESYNC_SOCKET", "")],
    );
    let pid = child.id();
    assert!(
        wait_until(Duration::from_secs(10), || lines(&sb.path("starts")).len()
            == 1),
        "the app never started:\n{}",
        sb.log()
    );
    sb.expect_log("degraded: no sync socket", 1, Duration::from_secs(10));
    let log = sb.log();
    assert!(log.contains("Read-only file system"), "{log}");
    assert!(log.contains("file changes still reload it"), "{log}");
    assert_eq!(log.matches("degraded").count(), 1, "one line: {log}");
    // An edit made any way is seen…
    sb.marker(1);
    // …and so is a sync through the shim, which finds no supervisor and
    // extracts all the same.
    let out = shim_in_ns(
        &sb,
        pid,
        &["tar", "xmf", "-", "-C", "/", "--no-same-owner"],
        &stream(&[(sb.app().join("a.js"), b"v2".to_vec())]),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sb.expect_log("change: 1 file(s) -> restarted", 2, Duration::from_secs(10));
    let (_, log) = sb.stop(child);
    assert_eq!(lines(&sb.path("starts")).len(), 3, "{log}");
}

#[test]
fn without_inotify_the_app_runs_and_shim_syncs_still_reload_it() {
    // No host setting is touched: a user namespace of our own whose
    // inotify instance limit (`/proc/sys/user/max_inotify_instances`, per
    // user namespace) is 0, as on a node where `max_user_instances` is
    // exhausted.
    let sb = Sandbox::new("kind = \"restart\"");
    let mut base = Command::new("unshare");
    base.args([
        "--user",
        "--map-root-user",
        "sh",
        "-c",
        "echo 0 > /proc/sys/user/max_inotify_instances && exec \"$0\" \"$@\"",
        BIN,
    ]);
    let child = sb.supervise_cmd(
        base,
        &["sh", "-c", "echo start >> ../starts; exec sleep 60"],
        &[],
    );
    assert!(
        wait_until(Duration::from_secs(10), || lines(&sb.path("starts")).len()
            == 1),
        "the app never started:\n{}",
        sb.log()
    );
    sb.expect_log(
        "degraded: no file-system watcher",
        1,
        Duration::from_secs(10),
    );
    let log = sb.log();
    assert!(log.contains("Too many open files"), "{log}");
    assert!(
        log.contains("syncs through Skaffold's tar and rm still reload it"),
        "{log}"
    );
    assert_eq!(log.matches("degraded").count(), 1, "one line: {log}");
    sb.socket_ready();
    let out = sb.tar(&stream(&[(sb.app().join("a.js"), b"v2".to_vec())]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sb.expect_log("sync: 1 file(s) -> restarted", 1, Duration::from_secs(10));
    let (code, log) = sb.stop(child);
    assert_eq!(lines(&sb.path("starts")).len(), 2, "{log}");
    assert_eq!(code, Some(143), "sleep killed by TERM: {log}");
}

/// The live figure of each `live in N ms (KIND)` line of `log`.
fn live_figures(log: &str, kind: &str) -> Vec<u64> {
    let suffix = format!(" ms ({kind})");
    log.lines()
        .filter_map(|l| l.strip_prefix("[filesync] live in ")?.strip_suffix(&suffix))
        .map(|ms| ms.parse().unwrap())
        .collect()
}

/// `GET /` on 127.0.0.1:`port`: the body.
fn get(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("listening");
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer.split("\r\n\r\n").nth(1).unwrap_or_default().into()
}

#[test]
fn a_listening_app_is_live_once_per_restart_when_it_listens_again() {
    let sb = Sandbox::new("kind = \"restart\"");
    let port = fixed_port();
    // Listens 300 ms after it starts (a slow start), under a shell (the
    // listener is the started process's child), serving `version`.
    std::fs::write(sb.app().join("version"), "v0").unwrap();
    std::fs::write(
        sb.app().join("server.py"),
        format!(
            "import http.server, time\ntime.sleep(0.3)\nbody = open('version', 'rb').read()\n\
             class H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        \
             self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)\n    \
             def log_message(self, *a): pass\n\
             http.server.HTTPServer.allow_reuse_address = True\nhttp.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\n"
        ),
    )
    .unwrap();
    let child = sb.supervise(&["sh", "-c", "python3 server.py; :"]);
    sb.socket_ready();
    assert!(
        wait_until(Duration::from_secs(20), || std::net::TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()),
        "{}",
        sb.log()
    );
    assert_eq!(get(port), "v0");
    for n in 1..=3 {
        let version = format!("v{n}");
        let out = sb.tar(&stream(&[(
            sb.app().join("version"),
            version.clone().into(),
        )]));
        assert!(out.status.success());
        sb.expect_log("live in ", n, Duration::from_secs(30));
        // Live means listening: the new version answers at once.
        let served = get_or(port, &sb.log());
        assert_eq!(served, version, "{}", sb.log());
    }
    let (_, log) = sb.stop(child);
    let figures = live_figures(&log, "restart");
    eprintln!("live figures (restart, listening 300 ms after start): {figures:?}");
    assert_eq!(figures.len(), 3, "one live line per restart:\n{log}");
    assert_eq!(log.matches("live in ").count(), 3, "{log}");
    assert!(
        figures.iter().all(|ms| *ms >= 300),
        "live only once it listens (300 ms after its start): {figures:?}\n{log}"
    );
}

#[test]
fn an_app_that_listens_on_nothing_is_live_once_per_rebuild_when_it_has_started() {
    let sb = Sandbox::new("kind = \"rebuild\"\ncommand = [\"true\"]");
    let child = sb.supervise(&["sh", "-c", "echo $$ >> ../pids; exec sleep 60"]);
    sb.socket_ready();
    assert!(wait_until(Duration::from_secs(5), || lines(
        &sb.path("pids")
    )
    .len()
        == 1));
    for n in 1..=2 {
        let out = sb.tar(&stream(&[(sb.app().join("main.go"), vec![b'0' + n as u8])]));
        assert!(out.status.success());
        sb.expect_log("live in ", n, Duration::from_secs(10));
        assert!(wait_until(Duration::from_secs(5), || lines(
            &sb.path("pids")
        )
        .len()
            == n + 1));
    }
    let (_, log) = sb.stop(child);
    assert_eq!(live_figures(&log, "rebuild").len(), 2, "{log}");
    assert_eq!(log.matches("live in ").count(), 2, "{log}");
    // After the restart's own line, and never before it.
    let restarted = log.find("rebuilt and restarted").unwrap();
    assert!(log.find("live in ").unwrap() > restarted, "{log}");
}

fn get_or(port: u16, log: &str) -> String {
    std::panic::catch_unwind(|| get(port)).unwrap_or_else(|_| panic!("no answer once live:\n{log}"))
}
