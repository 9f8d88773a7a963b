# shellcheck shell=bash
# Helpers the provider buildpacks share (staged into each one as
# lib/paketo.sh by filesync_e2e::providers::stage). Each reproduces a piece
# of the Go libraries Paketo's buildpacks are written with; the function's
# comment names the upstream file. Only bash builtins and coreutils are used:
# the build image has bash, coreutils, tar, grep, sed and find, no more.

# pk_env_bool NAME: strconv.ParseBool of $NAME, as packit buildpacks read
# BP_LIVE_RELOAD_ENABLED (go-build detect.go checkLiveReloadEnabled,
# libreload-packit watchexec/watchexec.go ShouldEnableLiveReload): unset is
# false; a value ParseBool refuses fails the build.
pk_env_bool() {
  local name=$1
  [ -n "${!name+x}" ] || return 1
  case ${!name} in
    1 | t | T | TRUE | true | True) return 0 ;;
    0 | f | F | FALSE | false | False) return 1 ;;
    *)
      echo "failed to parse $name value ${!name}: strconv.ParseBool: parsing \"${!name}\": invalid syntax" >&2
      exit 1
      ;;
  esac
}

# pk_resolve_bool NAME: libpak sherpa.ResolveBool (libpak sherpa/env_var.go):
# true only for a (space-trimmed) value ParseBool reads as true; anything
# else, unset or unparsable, is false.
pk_resolve_bool() {
  local name=$1 v
  [ -n "${!name+x}" ] || return 1
  v=${!name}
  v=${v#"${v%%[![:space:]]*}"}
  v=${v%"${v##*[![:space:]]}"}
  case $v in 1 | t | T | TRUE | true | True) return 0 ;; *) return 1 ;; esac
}

# pk_split_list STRING: filepath.SplitList (":" separated; "" is no
# element, empty elements are kept) into the array PK_LIST.
pk_split_list() {
  PK_LIST=()
  [ -n "$1" ] || return 0
  local s=$1
  while :; do
    case $s in
      *:*) PK_LIST+=("${s%%:*}"); s=${s#*:} ;;
      *) PK_LIST+=("$s"); break ;;
    esac
  done
}

# pk_clean PATH: filepath.Clean, printed.
pk_clean() {
  local p=$1 abs="" c r
  local -a parts out=()
  [[ $p == /* ]] && abs=/
  IFS=/ read -r -a parts <<<"$p"
  for c in "${parts[@]}"; do
    case $c in
      '' | .) ;;
      ..)
        if ((${#out[@]})) && [[ ${out[-1]} != .. ]]; then
          unset 'out[-1]'
        elif [ -z "$abs" ]; then
          out+=(..)
        fi
        ;;
      *) out+=("$c") ;;
    esac
  done
  r=$(IFS=/; printf '%s' "${out[*]}")
  r=$abs$r
  printf '%s' "${r:-.}"
}

# pk_match PATTERN PATH: filepath.Match of a cleaned path. Go's `*` and `?`
# never match `/`, so the pattern and the path must have as many elements,
# and each element is matched on its own (bash's [[ == ]] has the same `*`,
# `?`, `[...]` and `\` as Go). Differences kept: a malformed pattern (an
# unclosed `[`, a trailing `\`) makes Go fail the build, here it matches
# literally; bash also knows `[!...]` and `[[:class:]]`, Go does not.
pk_match() {
  local -a pp np
  local i
  IFS=/ read -r -a pp <<<"$1"
  IFS=/ read -r -a np <<<"$2"
  ((${#pp[@]} == ${#np[@]})) || return 1
  for ((i = 0; i < ${#pp[@]}; i++)); do
    # shellcheck disable=SC2053 # the right side is a pattern
    [[ ${np[i]} == ${pp[i]} ]] || return 1
  done
  return 0
}

# pk_is_dir PATH: a directory and not a symlink (filepath.Walk's Lstat).
pk_is_dir() { [[ -d $1 && ! -L $1 ]]; }

# pk_keep WORKDIR PATTERNS: deletes everything under WORKDIR except what the
# ":"-separated glob PATTERNS keep, exactly as source-removal's
# logic/include.go `Include` (used by libbs for BP_INCLUDE_FILES) and
# go-build's source_deleter.go `SourceDeleter.Clear` (for BP_KEEP_FILES; its
# code is a copy of Include) do:
# - each pattern P = e1/e2/.../en adds the globs WORKDIR/e1, WORKDIR/e1/e2,
#   ..., WORKDIR/P (filepath.Join: cleaned), after WORKDIR itself;
# - filepath.Walk visits WORKDIR, then each directory's entries in byte
#   order; the first glob a path matches decides: none -> the path is
#   removed (a directory whole); a glob ending in `/*` -> kept, and if the
#   path is a directory its whole content is kept (SkipDir), if it is a file
#   the rest of its directory is kept too (SkipDir on a file skips the
#   remaining entries); any other glob -> kept, and a directory is entered.
# So `*` keeps everything; `public/*` keeps public/ whole; `public` keeps
# the directory public/ but empties it; `*.go` keeps the top-level .go
# files. WORKDIR itself always stays.
pk_keep() {
  local ws patterns=$2 g rest d acc
  local -a dirs
  ws=$(pk_clean "$1")
  PK_GLOBS=("$ws")
  pk_split_list "$patterns"
  for g in "${PK_LIST[@]}"; do
    # strings.Split(glob, "/"), then each prefix joined onto WORKDIR.
    dirs=()
    rest=$g
    while :; do
      case $rest in
        */*) dirs+=("${rest%%/*}"); rest=${rest#*/} ;;
        *) dirs+=("$rest"); break ;;
      esac
    done
    acc=""
    for d in "${dirs[@]}"; do
      acc=$acc/$d
      PK_GLOBS+=("$(pk_clean "$ws$acc")")
    done
  done
  (
    export LC_ALL=C
    shopt -s dotglob nullglob
    _pk_keep_walk "$ws"
  ) || {
    local rc=$?
    [ "$rc" -eq 3 ] && return 0
    return "$rc"
  }
}

# One filepath.Walk step of pk_keep: 0 go on, 3 SkipDir returned for a
# file (the caller stops listing its directory), other: error.
_pk_keep_walk() {
  local path=$1 g matched="" e rc
  for g in "${PK_GLOBS[@]}"; do
    if pk_match "$g" "$path"; then
      matched=$g
      break
    fi
  done
  if [ -z "$matched" ]; then
    rm -rf -- "$path" || return 1
    return 0
  fi
  if [[ $matched == */\* ]]; then
    pk_is_dir "$path" && return 0
    return 3
  fi
  if pk_is_dir "$path"; then
    for e in "$path"/*; do
      _pk_keep_walk "$e" || {
        rc=$?
        [ "$rc" -eq 3 ] && break
        return "$rc"
      }
    done
  fi
  return 0
}

# pk_exclude WORKDIR PATTERNS: source-removal's logic/exclude.go `Exclude`
# (libbs, for BP_EXCLUDE_FILES): every path under WORKDIR matching one of
# the globs WORKDIR/P (P from the ":"-separated PATTERNS, joined and
# cleaned) is removed, a directory whole; other directories are entered.
pk_exclude() {
  local ws g
  ws=$(pk_clean "$1")
  PK_GLOBS=()
  pk_split_list "$2"
  for g in "${PK_LIST[@]}"; do
    PK_GLOBS+=("$(pk_clean "$ws/$g")")
  done
  (
    export LC_ALL=C
    shopt -s dotglob nullglob
    _pk_exclude_walk "$ws"
  )
}

_pk_exclude_walk() {
  local path=$1 g e
  for g in "${PK_GLOBS[@]}"; do
    if pk_match "$g" "$path"; then
      rm -rf -- "$path" || return 1
      return 0
    fi
  done
  if pk_is_dir "$path"; then
    for e in "$path"/*; do
      _pk_exclude_walk "$e" || return 1
    done
  fi
  return 0
}

# pk_shellwords LINE [env]: github.com/mattn/go-shellwords `Parse`
# (shellwords.go), the parser Paketo's procfile (tiny stacks,
# BP_DIRECT_PROCESS), go-build (BP_GO_BUILD_FLAGS, with env: ParseEnv =
# true) and libbs (BP_MAVEN_BUILD_ARGUMENTS) use. The words go to the array
# PK_WORDS; PK_STOP is the index where a `;`, `&`, `|`, `<` or `>` outside
# quotes ended the parse (the rest of the line is dropped), -1 when none.
# Backticks and `$(...)` are kept as text (ParseBacktick is false). Returns
# 1 for what Parse refuses: unclosed quotes, a trailing `\`, `(` not after
# `$`, a `)` closing nothing.
pk_shellwords() {
  local line=$1 env=${2:-}
  local buf="" r got=0 escaped=0 dq=0 sq=0 bq=0 dolq=0 i=-1 n=${#line} k
  PK_WORDS=()
  PK_STOP=-1
  # got: 0 no argument, 1 a bare one, 2 a quoted one.
  for ((k = 0; k < n; k++)); do
    r=${line:k:1}
    i=$((i + 1))
    if ((escaped)); then
      case $r in t) r=$'\t' ;; n) r=$'\n' ;; esac
      buf+=$r
      escaped=0
      got=1
      continue
    fi
    if [ "$r" = '\' ]; then
      if ((sq)); then buf+=$r; else escaped=1; fi
      continue
    fi
    case $r in
      ' ' | $'\t' | $'\r' | $'\n')
        if ((sq || dq || bq || dolq)); then
          buf+=$r
        elif ((got)); then
          _pk_shellwords_push "$buf" "$got" "$env" || return 1
          buf="" got=0
        fi
        continue
        ;;
    esac
    case $r in
      '`')
        if ((!sq && !dq && !dolq)); then
          bq=$((!bq))
        fi
        ;;
      ')')
        if ((!sq && !dq && !bq)); then
          ((dolq)) || return 1
          buf+=$r
          dolq=0
          got=1
          continue
        fi
        ;;
      '(')
        if ((!sq && !dq && !bq)); then
          if ((!dolq)) && [[ $buf == *'$' ]]; then
            dolq=1
            buf+='('
            continue
          fi
          return 1
        fi
        ;;
      '"')
        if ((!sq && !dolq)); then
          ((dq)) && got=2
          dq=$((!dq))
          continue
        fi
        ;;
      "'")
        if ((!dq && !dolq)); then
          ((sq)) && got=2
          sq=$((!sq))
          continue
        fi
        ;;
      ';' | '&' | '|' | '<' | '>')
        if ((!sq && !dq && !bq && !dolq)); then
          if [ "$r" = '>' ] && [ -n "$buf" ] && [[ ${buf:0:1} == [0-9] ]]; then
            i=$((i - 1))
            got=0
          fi
          PK_STOP=$i
          break
        fi
        ;;
    esac
    got=$((got == 2 ? 2 : 1))
    buf+=$r
  done
  if ((got)); then
    _pk_shellwords_push "$buf" "$got" "$env" || return 1
  fi
  ((escaped || sq || dq || bq || dolq)) && return 1
  return 0
}

# Appends one parsed argument to PK_WORDS; with ParseEnv a bare argument is
# expanded and split again, a quoted one only expanded.
_pk_shellwords_push() {
  local buf=$1 got=$2 env=$3 expanded
  if [ -z "$env" ]; then
    PK_WORDS+=("$buf")
    return 0
  fi
  expanded=$(_pk_replace_env "$buf")
  if [ "$got" = 2 ]; then
    PK_WORDS+=("$expanded")
    return 0
  fi
  local -a saved=("${PK_WORDS[@]}")
  local stop=$PK_STOP
  pk_shellwords "$expanded" || return 1
  PK_WORDS=("${saved[@]}" "${PK_WORDS[@]}")
  PK_STOP=$stop
}

# go-shellwords replaceEnv: `$NAME` and `${NAME}` (letters, digits, `_`)
# replaced by the variable's value, `\x` by x.
_pk_replace_env() {
  local s=$1 out="" n=${#1} i=0 r p name
  while ((i < n)); do
    r=${s:i:1}
    if [ "$r" = '\' ]; then
      i=$((i + 1))
      ((i == n)) && break
      out+=${s:i:1}
      i=$((i + 1))
      continue
    elif [ "$r" = '$' ]; then
      i=$((i + 1))
      if ((i == n)); then
        out+='$'
        break
      fi
      if [ "${s:i:1}" = '{' ]; then
        i=$((i + 1))
        p=$i
        while ((i < n)) && [[ ${s:i:1} == [A-Za-z0-9_] ]]; do i=$((i + 1)); done
        if ((i >= n)) || [ "${s:i:1}" != '}' ]; then
          printf '%s' "$s"
          return 0
        fi
        name=${s:p:i-p}
        [ -n "$name" ] && out+=${!name-}
        i=$((i + 1))
      else
        p=$i
        while ((i < n)) && [[ ${s:i:1} == [A-Za-z0-9_] ]]; do i=$((i + 1)); done
        if ((i > p)); then
          name=${s:p:i-p}
          out+=${!name-}
        else
          out+=${s:p}
          break
        fi
      fi
      continue
    fi
    out+=$r
    i=$((i + 1))
  done
  printf '%s' "$out"
}

# pk_toml_str VALUE: VALUE as a TOML basic string.
pk_toml_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  printf '"%s"' "$s"
}

# pk_toml_unstr TEXT: the value of a TOML basic string (TEXT still quoted),
# as the lifecycle's TOML encoder (BurntSushi/toml) writes them.
pk_toml_unstr() {
  local s=$1 out="" i=1 n c hex
  n=$((${#s} - 1))
  while ((i < n)); do
    c=${s:i:1}
    if [ "$c" = '\' ]; then
      i=$((i + 1))
      c=${s:i:1}
      case $c in
        n) out+=$'\n' ;;
        t) out+=$'\t' ;;
        r) out+=$'\r' ;;
        b) out+=$'\b' ;;
        f) out+=$'\f' ;;
        u) hex=${s:i+1:4}; out+=$(printf "\\u$hex"); i=$((i + 4)) ;;
        U) hex=${s:i+1:8}; out+=$(printf "\\U$hex"); i=$((i + 8)) ;;
        *) out+=$c ;;
      esac
    else
      out+=$c
    fi
    i=$((i + 1))
  done
  printf '%s' "$out"
}

# pk_plan_entries PLAN NAME: the metadata of every entry NAME of the
# buildpack plan (the build's third argument), one `key=raw TOML value`
# line each, entries separated by a line `--`.
pk_plan_entries() {
  local plan=$1 want=$2 line name="" section="" key val
  local -a meta=()
  [ -f "$plan" ] || return 0
  _pk_flush() {
    if [ "$name" = "$want" ]; then
      printf '%s\n' "${meta[@]}" --
    fi
    meta=()
    name=""
  }
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line#"${line%%[![:space:]]*}"}
    case $line in
      '[[entries]]') _pk_flush; section=entry ;;
      '[entries.metadata]') section=metadata ;;
      '['*) section=other ;;
      *=*)
        key=${line%%=*}; key=${key%"${key##*[![:space:]]}"}; key=${key//\"/}
        val=${line#*=}; val=${val#"${val%%[![:space:]]*}"}
        case $section in
          entry) [ "$key" = name ] && name=$(pk_toml_unstr "$val") ;;
          metadata) meta+=("$key=$val") ;;
        esac
        ;;
    esac
  done <"$plan"
  _pk_flush
  unset -f _pk_flush
}

# pk_layer_types PLAN NAME: packit's PlanEntryResolver MergeLayerTypes
# (packit/v2 draft/planner.go), as go-dist, node-engine, cpython and
# php-dist call it: prints "LAUNCH BUILD", each true when some plan entry
# NAME has that metadata key set to true.
pk_layer_types() {
  local launch=false build=false l
  while IFS= read -r l; do
    case $l in
      launch=true) launch=true ;;
      build=true) build=true ;;
    esac
  done < <(pk_plan_entries "$1" "$2")
  echo "$launch $build"
}

# pk_layer_toml FILE LAUNCH BUILD CACHE: a layer's content metadata
# (Buildpack API 0.7: `[types]`).
pk_layer_toml() {
  printf '[types]\n  launch = %s\n  build = %s\n  cache = %s\n' "$2" "$3" "$4" >"$1"
}

# pk_launch_process FILE TYPE COMMAND DIRECT DEFAULT [ARG...]: appends one
# process to launch.toml the way packit/libcnb write it for Buildpack API
# 0.7 (a string command, its args, `direct`).
pk_launch_process() {
  local file=$1 type=$2 command=$3 direct=$4 default=$5 a sep=""
  shift 5
  {
    echo "[[processes]]"
    echo "  type = $(pk_toml_str "$type")"
    echo "  command = $(pk_toml_str "$command")"
    printf '  args = ['
    for a in "$@"; do
      printf '%s%s' "$sep" "$(pk_toml_str "$a")"
      sep=", "
    done
    echo "]"
    echo "  direct = $direct"
    if [ "$default" = true ]; then echo "  default = true"; fi
    echo
  } >>"$file"
  if [ "$default" = true ]; then
    echo "  process $type (default): $command $*" >&2
  else
    echo "  process $type: $command $*" >&2
  fi
}
