//! The supervisor with real processes and real files (issue 3).

mod common;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn sigterm_is_forwarded_and_the_apps_exit_status_is_ours() {
    let sb = Sandbox::new("kind = \"restart\"");
    let child = sb.supervise(&[
        "sh",
        "-c",
        "trap 'exit 42' TERM; echo up > up; while :; do sleep 0.05; done",
    ]);
    assert!(wait_until(Duration::from_secs(10), || sb
        .app()
        .join("up")
        .exists()));
    let (code, log) = stop(child);
    assert_eq!(code, Some(42), "{log}");
}

#[test]
fn an_app_ignoring_sigterm_is_killed_after_the_grace_period() {
    let sb = Sandbox::new("kind = \"restart\"");
    let child = sb.supervise(&[
        "sh",
        "-c",
        "trap '' TERM; echo up > up; while :; do sleep 0.05; done",
    ]);
    assert!(wait_until(Duration::from_secs(10), || sb
        .app()
        .join("up")
        .exists()));
    let start = Instant::now();
    let (code, log) = stop(child);
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
    // The app leaves 5 orphans behind that exit at once: as PID 1 of a new
    // PID namespace, the supervisor inherits and must reap them.
    let script = "for i in 1 2 3 4 5; do sh -c 'sleep 0.2 &'; done; echo up > up; exec sleep 30";
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
        .app()
        .join("up")
        .exists()));
    // Orphans exit after 0.2 s; the supervisor reaps them on SIGCHLD or,
    // at the latest, on its 2 s tick.
    std::thread::sleep(Duration::from_millis(300));
    // The supervisor is unshare's child; look for zombies among its children.
    let unshare_pid = child.id();
    let sup = std::fs::read_to_string(format!("/proc/{unshare_pid}/task/{unshare_pid}/children"))
        .unwrap();
    let sup: u32 = sup
        .split_whitespace()
        .next()
        .expect("supervisor pid")
        .parse()
        .unwrap();
    let zombies_of = |sup: u32| {
        let mut zombies = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            let after = stat.rsplit_once(") ").map(|(_, a)| a).unwrap_or("");
            let fields: Vec<&str> = after.split_whitespace().collect();
            if fields.len() > 1 && fields[1] == sup.to_string() && fields[0] == "Z" {
                zombies.push(stat);
            }
        }
        zombies
    };
    wait_until(Duration::from_secs(4), || zombies_of(sup).is_empty());
    let zombies = zombies_of(sup);
    // Stop the supervisor itself (PID 1 inside); unshare then exits too.
    nix_kill(sup as i32, 15).unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(zombies.is_empty(), "zombies left: {zombies:?}\n{log}");
    assert!(log.contains("exiting"), "{log}");
}

#[test]
fn a_crash_loop_backs_off_and_a_sync_resets_it() {
    let sb = Sandbox::new("kind = \"restart\"");
    let child = sb.supervise(&["sh", "-c", "echo start >> ../starts; exit 3"]);
    std::thread::sleep(Duration::from_millis(2000));
    let starts = lines(&sb.path("starts")).len();
    // Backoff 100, 200, 400, 800 ms: about 5 starts in 2 s, never dozens.
    assert!((3..=7).contains(&starts), "{starts} starts in 2 s");
    sb.socket_ready();
    let out = sb.tar(&stream(&[(sb.app().join("a.js"), b"x".to_vec())]));
    assert!(out.status.success());
    std::thread::sleep(Duration::from_millis(400));
    let (_, log) = stop(child);
    assert!(log.contains("exited with status 3"), "{log}");
    let after_sync = log.rsplit("sync: 1 file(s)").next().unwrap();
    assert!(
        after_sync.contains("restarting in 100 ms"),
        "backoff not reset by the sync:\n{log}"
    );
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
    std::thread::sleep(Duration::from_millis(500));
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
    let (_, log) = stop(child);
    assert!(
        log.contains("rebuild failed") && log.contains("main.go:3: syntax error"),
        "{log}"
    );
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
    std::thread::sleep(Duration::from_millis(300));
    let (_, log) = stop(child);
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
    std::thread::sleep(Duration::from_millis(1500));
    let (_, log) = stop(child);
    let starts = lines(&sb.path("starts"));
    assert_eq!(
        starts.len(),
        2,
        "exactly one restart for the batch: {starts:?}\n{log}"
    );
    assert_eq!(
        starts[1].trim(),
        "2000",
        "the restart saw every file: {starts:?}"
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
    std::thread::sleep(Duration::from_millis(100));
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
    let (_, log) = stop(child);
    assert_eq!(mode, 0o600, "socket mode {mode:o}\n{log}");
    assert_eq!(uid, nix_uid(), "owned by the supervisor's user");
}

fn nix_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
