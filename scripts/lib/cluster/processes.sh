#!/usr/bin/env bash
# Sourced by scripts/cluster.sh (its variables and helpers): the processes it starts, each
# recorded by pid and stopped by that pid only, and waits on their readiness.

pidfile() { echo "$PIDS/$1.pid"; }

# The recorded pid, only while that process is still the one we started
# (its command line names our binary), so a reused pid is never touched.
live_pid() { # NAME
  local f pid exe
  f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  read -r pid exe < "$f" || true
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$exe" || return 1
  echo "$pid"
}

record() { echo "$2 $3" > "$(pidfile "$1")"; } # NAME PID EXE

# Running, not a zombie: a process whose starter has exited is reaped by
# init, which may take a while; it has exited all the same.
alive() { # PID
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st%% *}" != Z ]
}

stop_pid() { # NAME [TIMEOUT_S]
  local pid i t=${2:-15} t0=$SECONDS
  pid=$(live_pid "$1") || { rm -f "$(pidfile "$1")"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 20; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    echo "cluster.sh: $1 ($pid) did not exit in $t s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
  fi
  rm -f "$(pidfile "$1")"
  trace "$1 stopped after $((SECONDS - t0)) s"
}

# Start NAME in the background (new session, log in logs/NAME.log) and
# record its pid. The command execs the binary, so $! is the binary's pid.
launch() { # NAME EXE CMD...
  local name=$1 exe=$2; shift 2
  : > "$LOGS/$name.log"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  record "$name" $! "$exe"
}

fail() { # COMPONENT WHAT
  echo "cluster.sh: $1 $2; see ${LOGS#"$REPO"/}/$1.log" >&2
  stop >/dev/null 2>&1 || true
  exit 1
}

trace() { [ -z "${FILESYNC_CLUSTER_TRACE:-}" ] || echo "cluster.sh: $(date +%T.%N | cut -c1-12) $*" >&2; }

wait_for() { # COMPONENT TIMEOUT_S COMMAND...
  local name=$1 t=$2 i; shift 2
  for ((i = 0; i < t * 10; i++)); do
    "$@" >/dev/null 2>&1 && { trace "$name: $*: ok"; return 0; }
    live_pid "$name" >/dev/null || fail "$name" "exited while starting"
    sleep 0.1
  done
  fail "$name" "did not become ready in $t s"
}
