# flurm shell-init for bash — `eval "$(flurm shell-init bash)"` or `source` this file.
#
# Defines, with nothing but bash (>= 4.2) and coreutils (no Node, no jq, no python):
#   flurm_run [-t TITLE] [--] CMD [ARGS...]   run CMD in the foreground, be told when it ends;
#                                             returns CMD's exit status (128+N when killed by signal N)
#   flurm_notify [-t TITLE] MESSAGE...        send an ad-hoc note
# They append spool protocol v1 events (start/end/note, "src":"bash") to
#   ${FLURM_SPOOL:-$HOME/.flurm}/events/${FLURM_HOST:-<short host name>}.jsonl
# with the same fields and types as the Node writer (src/spool/writer.ts). Each event is one line
# under 4 KiB written by one printf (one write(2) through bash's stdio buffer) with O_APPEND, then
# `sync FILE` where coreutils can sync one file. If FLURM_HUB_URL is set and curl exists, the hub's
# doorbell is rung (at most ~1 s, failures ignored).
#
# Output of the job still goes to the terminal (stdout and stderr apart); a copy of its last 64 KiB
# is kept by `tail -c` in a temp file in the spool (removed after) for the `tail` of the end event.
# Because of that copy the job writes to pipes, not a terminal (like `cmd | tee`); set
# FLURM_NO_CAPTURE=1 to leave its output alone (the end event then carries no tail).
# Ctrl-C: the job gets SIGINT as usual and the end event is still written, then the interrupt is
# passed on to the calling shell/script as if flurm_run were not there. A command that exits with
# 128+N by itself is reported as killed by signal N (bash cannot tell them apart). Assumes USER_HZ = 100
# (/proc cutime, every mainstream Linux) for cpu_seconds. Peak RSS is not measured (null).
# shellcheck shell=bash

if [ -z "${BASH_VERSION:-}" ]; then
  echo "flurm shell-init: this file needs bash" >&2
  return 1 2>/dev/null || exit 1
fi

FLURM__B32=0123456789ABCDEFGHJKMNPQRSTVWXYZ
# One event line, newline included, stays below this many bytes (one stdio buffer, one write).
FLURM__LINE_MAX_BYTES=4000
FLURM__TAIL_MAX_LINES=50
FLURM__TAIL_LINE_MAX_BYTES=500
FLURM__TITLE_MAX_BYTES=200
FLURM__CAPTURE_BYTES=65536

# ---- small helpers; each sets REPLY (no subshell) --------------------------------------------

flurm__now_ms() {
  local t=${EPOCHREALTIME:-}
  if [[ $t =~ ^([0-9]+)[^0-9]([0-9]{6})$ ]]; then
    REPLY=${BASH_REMATCH[1]}${BASH_REMATCH[2]:0:3}
  else
    REPLY=$(date +%s%3N 2>/dev/null)
    [[ $REPLY =~ ^[0-9]+$ ]] || REPLY=$(($(date +%s) * 1000))
  fi
}

# ISO-8601 UTC with milliseconds from epoch ms.
flurm__iso() {
  local ms=$1 s
  s=$(date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%S 2>/dev/null) || s=1970-01-01T00:00:00
  printf -v REPLY '%s.%03dZ' "$s" $((ms % 1000))
}

# ULID: 48-bit ms time + 80 random bits from /dev/urandom, Crockford base32 (26 characters).
flurm__ulid() {
  local ms=$1 out='' i r IFS=$' \t\n'
  local -a b=()
  for ((i = 0; i < 10; i++)); do
    out=${FLURM__B32:ms % 32:1}$out
    ((ms /= 32))
  done
  r=$(od -An -tu1 -N16 /dev/urandom 2>/dev/null)
  b=($r)
  for ((i = 0; i < 16; i++)); do
    if [[ ${b[i]:-} =~ ^[0-9]+$ ]]; then r=${b[i]}; else r=$RANDOM; fi
    out+=${FLURM__B32:r % 32:1}
  done
  REPLY=$out
}

# Field N (1-based, as in proc(5)) of /proc/PID/stat; REPLY empty when unknown.
flurm__stat_field() {
  local line rest IFS=$' \t\n'
  local -a f=()
  REPLY=
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
  rest=${line##*) }
  f=($rest)
  REPLY=${f[$2 - 3]:-}
  [[ $REPLY =~ ^[0-9]+$ ]] || { REPLY=; return 1; }
}

# Replace bytes that are not valid UTF-8 by U+FFFD. Runs in the C locale (caller sets it).
flurm__utf8_fix() {
  local s=$1 out='' m
  local re=$'^([\x01-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf][\x80-\xbf]|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf][\x80-\xbf]|[\xf1-\xf3][\x80-\xbf][\x80-\xbf][\x80-\xbf]|\xf4[\x80-\x8f][\x80-\xbf][\x80-\xbf])*'
  while [[ -n $s ]]; do
    [[ $s =~ $re ]]
    m=${BASH_REMATCH[0]}
    out+=$m
    s=${s:${#m}}
    if [[ -n $s ]]; then
      out+=$'\xef\xbf\xbd'
      s=${s:1}
    fi
  done
  REPLY=$out
}

# $1 as a JSON string literal (quotes included): backslash, quote and control characters escaped,
# invalid UTF-8 replaced. Bash strings cannot hold NUL, so there is none to escape.
flurm__json_str() {
  local LC_ALL=C s=$1 c hex
  local ctl=$'[\x01-\x1f]' high=$'*[\x80-\xff]*'
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  while [[ $s =~ $ctl ]]; do
    c=${BASH_REMATCH[0]}
    printf -v hex '\\u%04x' "'$c"
    s=${s//"$c"/$hex}
  done
  if [[ $s == $high ]]; then
    flurm__utf8_fix "$s"
    s=$REPLY
  fi
  REPLY="\"$s\""
}

# $1 cut to at most $2 bytes, never inside a UTF-8 sequence, the cut marked with "…".
flurm__clip() {
  local LC_ALL=C s=$1 n=$2 cont=$'[\x80-\xbf]'
  if ((${#s} <= n)); then
    REPLY=$s
    return
  fi
  if ((n < 3)); then
    REPLY=
    return
  fi
  ((n -= 3))
  while ((n > 0)) && [[ ${s:n:1} == $cont ]]; do ((n--)); done
  REPLY=${s:0:n}$'\xe2\x80\xa6'
}

# JSON string literal of $1 whose encoded size is at most $2 bytes (the text is cut until it fits).
flurm__json_bounded() {
  local s=$1 max=$2 LC_ALL=C
  flurm__clip "$s" "$max"
  s=$REPLY
  flurm__json_str "$s"
  local n
  while ((${#REPLY} > max && ${#s} > 0)); do
    # Escapes made it longer: cut the text in proportion, always by at least one byte.
    n=$((${#s} * max / ${#REPLY}))
    ((n < ${#s})) || n=$((${#s} - 1))
    flurm__clip "$s" "$n"
    s=$REPLY
    flurm__json_str "$s"
  done
}

# Quote one word for display the way a shell would accept it back.
flurm__quote_words() {
  local LC_ALL=C out='' w sq="'"
  for w in "$@"; do
    if [[ $w =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      out+=" $w"
    else
      out+=" '${w//$sq/$sq\\$sq$sq}'"
    fi
  done
  REPLY=${out# }
}

# Same as safeHostFileName() in src/lib/host.ts: the events file name for a host.
flurm__safe_name() {
  local LC_ALL=C
  REPLY=${1//[^A-Za-z0-9._-]/_}
  REPLY=${REPLY:0:200}
}

flurm__urlencode() {
  local LC_ALL=C s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    if [[ $c == [A-Za-z0-9._~-] ]]; then out+=$c; else printf -v c '%%%02X' "'$c"; out+=$c; fi
  done
  REPLY=$out
}

# ---- spool, common fields, append -------------------------------------------------------------

# Sets FLURM__SPOOL, FLURM__FILE, FLURM__USER, FLURM__HOST; creates the spool (0700) if missing.
flurm__setup() {
  local spool=${FLURM_SPOOL:-$HOME/.flurm} host name
  [[ $spool == /* ]] || spool=$PWD/$spool
  host=${FLURM_HOST:-}
  if [[ -z $host ]]; then
    host=${HOSTNAME:-$(uname -n 2>/dev/null)}
    host=${host%%.*}
  fi
  [[ -n $host ]] || host=localhost
  if [[ -z ${FLURM__USER:-} ]]; then
    FLURM__USER=$(id -un 2>/dev/null) || FLURM__USER=
    [[ -n $FLURM__USER ]] || FLURM__USER=${USER:-${LOGNAME:-$(id -u 2>/dev/null)}}
  fi
  flurm__safe_name "$host"
  name=$REPLY
  FLURM__SPOOL=$spool
  FLURM__HOST=$host
  FLURM__FILE=$spool/events/${name:-unknown}.jsonl
  if [[ ! -d $spool/events ]]; then
    (umask 077 && mkdir -p -- "$spool/events") 2>/dev/null || {
      echo "flurm: cannot create the flurm spool $spool (set FLURM_SPOOL to a writable directory)" >&2
      return 1
    }
  fi
}

# Appends one event line ($1, no newline) with one write, then syncs that file; rings the doorbell
# ($2 = "bg" to ring it in the background).
flurm__append() {
  local line=$1 file=$FLURM__FILE
  if [[ -L $file ]]; then
    echo "flurm: $file is a symlink; event not written" >&2
    return 1
  fi
  if [[ ! -e $file ]]; then
    (umask 077 && : >>"$file") 2>/dev/null
  fi
  if ! { printf '%s\n' "$line" >>"$file"; } 2>/dev/null; then
    echo "flurm: cannot write to $file" >&2
    return 1
  fi
  if [[ -z ${FLURM__SYNC_FILE:-} ]]; then
    # coreutils >= 8.24 syncs the named file; older ones would sync the whole machine: skip those.
    local h
    h=$(sync --help 2>/dev/null)
    if [[ $h == *--file-system* ]]; then FLURM__SYNC_FILE=1; else FLURM__SYNC_FILE=0; fi
  fi
  if [[ $FLURM__SYNC_FILE == 1 ]]; then sync -- "$file" 2>/dev/null; fi
  flurm__doorbell "${2:-}"
  return 0
}

flurm__doorbell() {
  [[ -n ${FLURM_HUB_URL:-} ]] || return 0
  type -P curl >/dev/null 2>&1 || return 0
  flurm__urlencode "$FLURM__USER"
  local url=${FLURM_HUB_URL%/}/doorbell?user=$REPLY
  if [[ $1 == bg ]]; then
    (curl -fsS -m 1 -X POST "$url" </dev/null >/dev/null 2>&1 &)
  else
    curl -fsS -m 1 --connect-timeout 1 -X POST "$url" </dev/null >/dev/null 2>&1
  fi
  return 0
}

# The fields every event starts with, as JSON text (no braces): v, type, id, ts, user, host, src.
flurm__head() {
  local type=$1 id=$2 ms=$3 user host
  flurm__iso "$ms"
  local ts=$REPLY
  flurm__json_bounded "$FLURM__USER" 128
  user=$REPLY
  flurm__json_bounded "$FLURM__HOST" 128
  host=$REPLY
  REPLY="\"v\":1,\"type\":\"$type\",\"id\":\"$id\",\"ts\":\"$ts\",\"user\":$user,\"host\":$host,\"src\":\"bash\""
}

# Saves and clears the options that would make our own code misbehave (-e -u -x -E -T, pipefail).
flurm__save_opts() {
  FLURM__SAVED_OPTS=$-
  if shopt -qo pipefail; then FLURM__SAVED_OPTS+=P; fi
  set +e +u +x +E +T +o pipefail
}
flurm__restore_opts() {
  local o=$1
  [[ $o == *P* ]] && set -o pipefail
  [[ $o == *E* ]] && set -E
  [[ $o == *T* ]] && set -T
  [[ $o == *u* ]] && set -u
  [[ $o == *e* ]] && set -e
  [[ $o == *x* ]] && set -x
  return 0
}

# ---- public functions -------------------------------------------------------------------------

flurm_notify() {
  flurm__save_opts
  local __fl_opts=$FLURM__SAVED_OPTS
  flurm__notify_impl "$@"
  local rc=$?
  flurm__restore_opts "$__fl_opts"
  return $rc
}

flurm__notify_impl() {
  local LC_ALL=C title='' has_title=0
  while (($#)); do
    case $1 in
      -t | --title) [[ $# -ge 2 ]] || { echo "flurm_notify: $1 needs a value" >&2; return 2; }; title=$2; has_title=1; shift 2 ;;
      --title=*) title=${1#*=}; has_title=1; shift ;;
      -h | --help) echo "usage: flurm_notify [-t TITLE] MESSAGE..."; return 0 ;;
      --) shift; break ;;
      -?*) echo "flurm_notify: unknown option $1 (usage: flurm_notify [-t TITLE] MESSAGE...)" >&2; return 2 ;;
      *) break ;;
    esac
  done
  (($#)) || { echo "usage: flurm_notify [-t TITLE] MESSAGE..." >&2; return 2; }
  local message="$*"
  flurm__setup || return 1
  flurm__now_ms
  local ms=$REPLY line
  flurm__ulid "$ms"
  flurm__head note "$REPLY" "$ms"
  line=$REPLY
  if ((has_title)); then
    flurm__json_bounded "$title" "$FLURM__TITLE_MAX_BYTES"
    line+=",\"title\":$REPLY"
  fi
  # The message gets what is left of the line (the bash writer's lines stay under 4 KiB).
  flurm__json_bounded "$message" $((FLURM__LINE_MAX_BYTES - ${#line} - 16))
  line="{$line,\"message\":$REPLY}"
  flurm__append "$line"
}

flurm_run() {
  flurm__save_opts
  local __fl_opts=$FLURM__SAVED_OPTS
  flurm__run_impl "$@"
  local rc=$?
  local sig=${FLURM__RERAISE:-}
  FLURM__RERAISE=
  flurm__restore_opts "$__fl_opts"
  if [[ -n $sig ]]; then
    # Ctrl-C reached this shell too: pass it on now that the end event is written.
    kill -s "$sig" "$BASHPID"
  fi
  return $rc
}

flurm__run_impl() {
  local title='' has_title=0
  while (($#)); do
    case $1 in
      -t | --title) [[ $# -ge 2 ]] || { echo "flurm_run: $1 needs a value" >&2; return 2; }; title=$2; has_title=1; shift 2 ;;
      --title=*) title=${1#*=}; has_title=1; shift ;;
      -h | --help) echo "usage: flurm_run [-t TITLE] [--] CMD [ARGS...]"; return 0 ;;
      --) shift; break ;;
      -?*) echo "flurm_run: unknown option $1 (usage: flurm_run [-t TITLE] [--] CMD [ARGS...])" >&2; return 2 ;;
      *) break ;;
    esac
  done
  (($#)) || { echo "usage: flurm_run [-t TITLE] [--] CMD [ARGS...]" >&2; return 2; }

  # Whatever goes wrong with flurm, the job still runs.
  if ! flurm__setup; then
    echo "flurm: running the command without notification" >&2
    "$@"
    return
  fi

  local cmd title_json='' start_ms id
  flurm__quote_words "$@"
  cmd=$REPLY
  if ((has_title)); then
    flurm__json_bounded "$title" "$FLURM__TITLE_MAX_BYTES"
    title_json=$REPLY
  fi
  flurm__now_ms
  start_ms=$REPLY
  flurm__ulid "$start_ms"
  id=$REPLY

  local capture=1 tmp='' o='' e='' cap=''
  [[ ${FLURM_NO_CAPTURE:-0} == 1 ]] && capture=0
  if ((capture)); then
    tmp=$(mktemp "$FLURM__SPOOL/.flurm-run.XXXXXX" 2>/dev/null) || capture=0
  fi
  if ((!capture)); then
    exec {o}>&1 {e}>&2
  else
    # stdout and stderr each go through `tee -i` to where they went before and into one pipe whose
    # last FLURM__CAPTURE_BYTES bytes `tail -c` keeps (bounded memory) and writes at EOF. The
    # rename to .tail says the copy is complete. None of them die of Ctrl-C meant for the job.
    exec {cap}> >(trap '' INT; tail -c "$FLURM__CAPTURE_BYTES" >"$tmp.part" 2>/dev/null; mv -f "$tmp.part" "$tmp.tail" 2>/dev/null)
    exec {o}> >(exec tee -i "/dev/fd/$cap" 2>/dev/null)
    exec {e}> >(exec {o}>&-; exec tee -i "/dev/fd/$cap" >&2 2>/dev/null)
  fi

  local pid_ticks0=0 pid_ticks1=0
  flurm__stat_field "$BASHPID" 16 && pid_ticks0=$REPLY
  flurm__stat_field "$BASHPID" 17 && ((pid_ticks0 += REPLY))

  local old_int
  old_int=$(trap -p INT)
  FLURM__INTERRUPTED=0
  trap 'FLURM__INTERRUPTED=1' INT

  local status
  # Bash's own "Killed" report would quote flurm's code: it is silenced (outer 2>/dev/null) and
  # replaced by a plain one below; the job sets its own stdout/stderr inside the subshell.
  { flurm__job "$id" "$title_json" "$cmd" "$__fl_opts" "$o" "$e" "$cap" "$@"; } 2>/dev/null
  status=$?

  if [[ -n $old_int ]]; then eval "$old_int"; else trap - INT; fi
  local end_ms
  flurm__now_ms
  end_ms=$REPLY
  flurm__stat_field "$BASHPID" 16 && pid_ticks1=$REPLY
  flurm__stat_field "$BASHPID" 17 && ((pid_ticks1 += REPLY))

  local -a lines=()
  exec {o}>&- {e}>&-
  if ((capture)); then
    exec {cap}>&-
    # The copy completes when the job and everything that inherited its output are gone; a
    # daemon left holding the output would keep it open, so wait at most about a second.
    local i
    for ((i = 0; i < 20; i++)); do
      [[ -e $tmp.tail ]] && break
      sleep 0.05 2>/dev/null || break
    done
    if [[ -s $tmp.tail ]]; then
      mapfile -t lines < <(tr -d '\000-\010\013-\032\034-\037\177' <"$tmp.tail" | tail -n "$FLURM__TAIL_MAX_LINES")
    fi
    rm -f -- "$tmp" "$tmp.tail" "$tmp.part" 2>/dev/null
  fi

  # exit / signal: 128+N from a signal-killed job is reported as the signal's name.
  local exit_json=$status signal_json=null name
  if ((status > 128 && status < 128 + 65)); then
    name=$(kill -l $((status - 128)) 2>/dev/null)
    if [[ -n $name ]]; then
      exit_json=null
      signal_json="\"SIG${name#SIG}\""
    fi
  fi
  local wall_ms=$((end_ms - start_ms))
  ((wall_ms < 0)) && wall_ms=0
  local wall cpu cpu_ticks=$((pid_ticks1 - pid_ticks0))
  ((cpu_ticks < 0)) && cpu_ticks=0
  printf -v wall '%d.%03d' $((wall_ms / 1000)) $((wall_ms % 1000))
  printf -v cpu '%d.%02d' $((cpu_ticks / 100)) $((cpu_ticks % 100))

  if [[ -n $name && $name != INT && $name != PIPE && $signal_json != null ]]; then
    echo "flurm_run: $cmd: killed by SIG${name#SIG}" >&2
  fi
  flurm__end_line "$id" "$end_ms" "$exit_json" "$signal_json" "$wall" "$cpu" "$title_json" "$cmd" "${lines[@]}"
  flurm__append "$REPLY"

  # A job that died of SIGINT stops the caller too, as without flurm: a script that got the Ctrl-C
  # itself, or an interactive shell (which would abort the whole command line, loops included).
  if [[ $signal_json == '"SIGINT"' ]] && { ((FLURM__INTERRUPTED)) || [[ $- == *i* ]]; }; then FLURM__RERAISE=INT; fi
  return "$status"
}

# The end event as one line: $1 id, $2 ms, $3 exit, $4 signal (JSON), $5 wall, $6 cpu, $7 title
# (JSON or empty), $8 cmd, then the captured output lines. Byte counts need the C locale, which
# is set here only (never around the job).
flurm__end_line() {
  local LC_ALL=C id=$1 ms=$2 exit_json=$3 signal_json=$4 wall=$5 cpu=$6 title_json=$7 cmd=$8
  shift 8
  local -a lines=("$@")
  local line rest='' i
  flurm__head end "$id" "$ms"
  line="$REPLY,\"exit\":$exit_json,\"signal\":$signal_json,\"wall_seconds\":$wall,\"cpu_seconds\":$cpu,\"peak_rss_bytes\":null"
  [[ -n $title_json ]] && rest+=",\"title\":$title_json"
  flurm__json_bounded "$cmd" 400
  rest+=",\"cmd\":$REPLY"

  # The tail gets what is left: newest lines first, each cleaned (terminal escapes and control
  # characters removed, like boundTail) and cut to 500 bytes, until the line budget is spent.
  local budget=$((FLURM__LINE_MAX_BYTES - ${#line} - ${#rest} - 16)) tail_json='' l n=0
  local csi=$'\e\\[[0-9;?]*[A-Za-z]'
  for ((i = ${#lines[@]} - 1; i >= 0 && n < FLURM__TAIL_MAX_LINES; i--)); do
    l=${lines[i]}
    while [[ $l =~ $csi ]]; do l=${l//"${BASH_REMATCH[0]}"/}; done
    l=${l//$'\e'/}
    flurm__json_bounded "$l" "$FLURM__TAIL_LINE_MAX_BYTES"
    if ((${#REPLY} + 1 > budget)); then
      # The newest line is shown in part rather than not at all.
      ((n == 0 && budget > 40)) || break
      flurm__json_bounded "$l" $((budget - 1))
    fi
    if ((n > 0)); then tail_json="$REPLY,$tail_json"; else tail_json=$REPLY; fi
    ((budget -= ${#REPLY} + 1, n++))
  done
  REPLY="{$line,\"tail\":[$tail_json]$rest}"
}

# The job itself, in a foreground subshell: it writes the start event with its own pid and start
# time, then becomes the command (exec keeps both), so `pid`/`pid_start` name the real process.
flurm__job() {
  local id=$1 title_json=$2 cmd=$3 opts=$4 o=$5 e=$6 cap=$7
  shift 7
  (
    exec >&"$o" 2>&"$e" {o}>&- {e}>&-
    [[ -n $cap ]] && exec {cap}>&-
    flurm__stat_field "$BASHPID" 22
    local pid_start=${REPLY:-0} line now
    flurm__now_ms
    now=$REPLY
    flurm__head start "$id" "$now"
    line="$REPLY,\"pid\":$BASHPID,\"pid_start\":\"$pid_start\""
    flurm__json_bounded "$PWD" 1000
    line+=",\"cwd\":$REPLY"
    [[ -n $title_json ]] && line+=",\"title\":$title_json"
    flurm__json_bounded "$cmd" 1500
    line+=",\"cmd\":$REPLY"
    flurm__append "{$line}" bg
    trap - INT
    case $(type -t "$1") in
      file) exec "$@" ;;
      '') echo "flurm_run: $1: command not found" >&2; exit 127 ;;
    esac
    # A function or builtin: run it here (same pid) with the caller's shell options.
    flurm__restore_opts "$opts"
    "$@"
  )
}
