# shellcheck shell=bash
#
# tests/lib.sh - a real Icecast on loopback for integration tests.
#
# Source it from a bash test script; nothing runs until you call a function:
#
#     . "$PULSE_SRC/tests/lib.sh"
#     ice_start || exit 1
#     "$PULSE_RADIO" --output "icecast://source:$ICE_PASS@127.0.0.1:$ICE_PORT/live.ogg" ... &
#     lib_on_exit "kill $!"
#     ice_wait_title /live.ogg "First song" 10 || t_fail "title never showed"
#     ice_record /live.ogg "$T/rec.ogg" 6
#     t_check "the recording is valid" ogg_valid "$T/rec.ogg" live
#     t_done
#
# The one thing to know: sourcing installs an EXIT trap (INT, TERM and HUP
# exit through it) that stops the Icecast started here and removes its temp
# dir, even when the test fails half-way. Register your own cleanup with
# lib_on_exit instead of replacing the trap. Every wait is bounded in time.
#
# Functions (all return non-zero on failure, with a reason on stderr):
#   free_port                   print a free TCP port on 127.0.0.1
#   wait_until SECS CMD [ARG..] run CMD every 0.1 s until it succeeds (1: timeout)
#   ice_start [PORT]            start icecast2 (on PORT, or a free port) and wait
#                               until /status-json.xsl parses (10 s at most);
#                               one at a time per shell; $ICE_EXTRA, if set, is
#                               XML added to its config (e.g. <mount> sections)
#   ice_stop [SIGNAL]           stop it (TERM by default; KILL simulates a crash)
#                               and wait until it is gone (5 s, then SIGKILL)
#   ice_restart [DOWN_SECS]     ice_stop, stay down DOWN_SECS (default 0), and
#                               ice_start again on the same port
#   ice_running                 whether the started icecast2 is alive
#   ice_ready                   whether /status-json.xsl answers valid JSON
#   ice_status                  print /status-json.xsl
#   ice_field MOUNT FIELD       print a field of MOUNT's source in the status
#                               ("title", "artist", "listeners", ...; "" if
#                               unset); 1 if the mount has no source
#   ice_title MOUNT             ice_field MOUNT title
#   ice_has_mount MOUNT         whether MOUNT has a source connected
#   ice_wait_mount MOUNT [SECS] wait until it has (default 10 s)
#   ice_wait_title MOUNT TITLE [SECS]  wait until its title is TITLE (10 s)
#   ice_record MOUNT FILE SECS  record SECS seconds of MOUNT as a listener
#                               (foreground; append & to run it alongside);
#                               0 if it got any data
#   ogg_valid FILE [cut|live]   ogginfo finds nothing wrong with FILE. "cut":
#                               a recording stopped by time, whose last
#                               stream may lack its EOS page; "live": also
#                               joined mid-stream, so Icecast skipped page
#                               numbers in the first stream
#   ice_log                     print the end of Icecast's error log
#   ice_detach                  leave the icecast running at exit (for
#                               tests/ice-up.sh; someone else must stop it)
#   ice_load DIR [own]          use an icecast started by another process
#                               (reads DIR/env, as written by ice_start);
#                               with "own", stop it and remove DIR at exit
#   lib_on_exit CMD             run CMD (eval'd) at exit, before the Icecast
#                               stops; last registered runs first
#   t_ok MSG / t_fail MSG       count a passed / failed check (T_PASS, T_FAIL)
#   t_check MSG CMD [ARG..]     run CMD; a pass if it exits 0
#   t_done                      print "N passed, N failed"; 1 if any failed
#
# Exported by ice_start:
#   ICE_PORT        the port (listener URL http://127.0.0.1:$ICE_PORT/MOUNT)
#   ICE_PASS        the source password (user "source")
#   ICE_ADMIN_PASS  the admin password (user "admin")
#   ICE_PID         icecast2's process id
#   ICE_DIR         its temp dir: icecast.xml, env, log/error.log, log/access.log
#
# Tunables (environment): ICE_SOURCE_TIMEOUT (default 3 s); ICE_KEEP=1 keeps
# ICE_DIR at exit for a post-mortem; ICE_PASS and ICE_ADMIN_PASS, when set,
# are used instead of fresh random passwords (ice_restart keeps them).
#
# The config listens on 127.0.0.1 only, with burst-on-connect 0 and
# burst-size 0, so a listener's recording is as long as the time it listened.
# As root, Icecast refuses to run unless it switches user: the config then
# changes owner to icecast2:icecast and ICE_DIR is made theirs.

_LIB_CLEANUP=()
_ICE_OWNED=0
_ICE_MY_DIR="" # made by ice_start in this shell: an inherited ICE_DIR is not
T_PASS=${T_PASS:-0}
T_FAIL=${T_FAIL:-0}

lib_on_exit() {
	_LIB_CLEANUP+=("$1")
}

# FILE's last lines are printed (stderr) if the test fails: a daemon's
# log, which the cleanup would otherwise delete unseen.
_LIB_FAIL_LOGS=()
lib_log_on_fail() {
	_LIB_FAIL_LOGS+=("$1")
}

_lib_exit() {
	local rc=$? i f
	trap - EXIT
	if ((rc != 0)); then
		for f in "${_LIB_FAIL_LOGS[@]}"; do
			[[ -s $f ]] || continue
			echo "--- last lines of $f (test failed) ---" >&2
			tail -n 60 "$f" >&2
		done
	fi
	for ((i = ${#_LIB_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${_LIB_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	if ((rc != 0)) && [[ -n ${ICE_DIR:-} && -d ${ICE_DIR:-} ]]; then
		echo "--- icecast error log (test failed) ---" >&2
		ice_log >&2
	fi
	ice_cleanup
	exit "$rc"
}
trap _lib_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

t_ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok - $*"
}

t_fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "FAIL - $*" >&2
}

t_check() {
	local msg=$1
	shift
	if "$@"; then
		t_ok "$msg"
	else
		t_fail "$msg (exit $?: $*)"
	fi
}

t_done() {
	echo "$T_PASS passed, $T_FAIL failed"
	((T_FAIL == 0))
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

wait_until() {
	local secs=$1 deadline
	shift
	deadline=$(($(date +%s%N) + secs * 1000000000))
	while (($(date +%s%N) < deadline)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# Alive and not a zombie (an icecast2 whose parent exited may linger as one
# where PID 1 does not reap).
_ice_pid_alive() {
	local stat
	[[ -n ${1:-} ]] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# Only ever signal the icecast2 we started, by its id.
_ice_is_ours() {
	_ice_pid_alive "${1:-}" &&
		[[ $(cat "/proc/$1/comm" 2>/dev/null) == icecast2 ]]
}

ice_running() {
	_ice_is_ours "${ICE_PID:-}"
}

ice_status() {
	curl -s --max-time 2 "http://127.0.0.1:$ICE_PORT/status-json.xsl"
}

_ice_json_ok() {
	ice_status | python3 -c 'import json, sys; json.load(sys.stdin)' \
		2>/dev/null
}

# A fresh Icecast may answer one request well and the next one badly while
# its stats thread starts: a few tries, 0.1 s apart.
ice_ready() {
	local i
	for i in 1 2 3; do
		_ice_json_ok && return 0
		((i < 3)) && sleep 0.1
	done
	return 1
}

_ice_write_config() {
	local cfg=$ICE_DIR/icecast.xml security=""

	# As root, icecast2 is started as its own user already (_ice_launch):
	# icecast2 2.4.4 segfaulted now and then (2 starts in 40) when it
	# changed its owner itself (<changeowner>) while being polled, never
	# in 80 starts as icecast2 from the start. Without setpriv it changes
	# owner itself, as it refuses to run as root.
	if ((EUID == 0)) && ! command -v setpriv >/dev/null; then
		security="<security><chroot>0</chroot><changeowner><user>icecast2</user><group>icecast</group></changeowner></security>"
	fi
	cat >"$cfg" <<EOF
<icecast>
  <location>pulse-radio tests</location>
  <admin>test@localhost</admin>
  <hostname>127.0.0.1</hostname>
  <limits>
    <clients>100</clients>
    <sources>16</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>${ICE_SOURCE_TIMEOUT:-3}</source-timeout>
    <burst-on-connect>0</burst-on-connect>
    <burst-size>0</burst-size>
  </limits>
  <authentication>
    <source-password>$ICE_PASS</source-password>
    <relay-password>$ICE_PASS</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>$ICE_ADMIN_PASS</admin-password>
  </authentication>
  <listen-socket>
    <port>$ICE_PORT</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
  <http-headers>
    <header name="Access-Control-Allow-Origin" value="*"/>
  </http-headers>
  <fileserve>1</fileserve>
  ${ICE_EXTRA:-}
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>$ICE_DIR/log</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging>
    <accesslog>access.log</accesslog>
    <errorlog>error.log</errorlog>
    <loglevel>3</loglevel>
    <logsize>10000</logsize>
  </logging>
  $security
</icecast>
EOF
}

_ice_write_env() {
	cat >"$ICE_DIR/env" <<EOF
ICE_PORT=$ICE_PORT
ICE_PASS=$ICE_PASS
ICE_ADMIN_PASS=$ICE_ADMIN_PASS
ICE_PID=$ICE_PID
ICE_DIR=$ICE_DIR
EOF
}

# One attempt on ICE_PORT: 0 when ready, 1 when icecast2 exited (port
# taken?), 2 when it never became ready.
_ice_launch() {
	local deadline good

	_ice_write_config
	if ((EUID == 0)); then
		chown -R icecast2:icecast "$ICE_DIR"
	fi
	local as=()
	if ((EUID == 0)) && command -v setpriv >/dev/null; then
		as=(setpriv --reuid=icecast2 --regid=icecast --init-groups --)
	fi
	"${as[@]}" icecast2 -c "$ICE_DIR/icecast.xml" </dev/null \
		>>"$ICE_DIR/log/stdout.log" 2>&1 &
	ICE_PID=$!
	# Out of the job table: bash would report "Killed" after a KILL.
	disown "$ICE_PID" 2>/dev/null
	_ICE_OWNED=1
	_ice_write_env
	deadline=$(($(date +%s%N) + 10 * 1000000000))
	good=0
	while (($(date +%s%N) < deadline)); do
		if ! _ice_pid_alive "$ICE_PID"; then
			echo "ice_start: icecast2 exited at once on port" \
				"$ICE_PORT (taken meanwhile?); log:" >&2
			tail -n 5 "$ICE_DIR/log/error.log" >&2 2>/dev/null
			return 1
		fi
		# Ready: valid JSON three times running, over 0.2 s.
		if _ice_json_ok; then
			((++good >= 3)) && return 0
		else
			good=0
		fi
		sleep 0.1
	done
	return 2
}

ice_start() {
	local want=${1:-} rc

	command -v icecast2 >/dev/null || {
		echo "ice_start: icecast2 is not installed" >&2
		return 1
	}
	if [[ -n $_ICE_MY_DIR && -d $_ICE_MY_DIR ]]; then
		ICE_DIR=$_ICE_MY_DIR
	else
		ICE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pulse-ice-XXXXXX") || return 1
		chmod 755 "$ICE_DIR"
		_ICE_MY_DIR=$ICE_DIR
	fi
	mkdir -p "$ICE_DIR/log"
	ICE_PASS=${ICE_PASS:-src$RANDOM$RANDOM}
	ICE_ADMIN_PASS=${ICE_ADMIN_PASS:-adm$RANDOM$RANDOM}
	export ICE_PORT ICE_PASS ICE_ADMIN_PASS ICE_PID ICE_DIR
	for _ in 1 2 3; do
		ICE_PORT=${want:-$(free_port)}
		# Not a bare call: under set -e (every it_ script) a failed
		# launch would end the test here, silently, with no retry.
		rc=0
		_ice_launch || rc=$?
		((rc == 0)) && return 0
		if ((rc == 2)); then
			echo "ice_start: icecast2 not ready after 10 s" >&2
			ice_stop KILL
			break
		fi
		# It exited at once: most likely another process took the
		# port between free_port and the bind. A fixed port will not
		# get better by retrying.
		[[ -n $want ]] && break
	done
	echo "ice_start: icecast2 failed to start on port $ICE_PORT" >&2
	ice_log >&2
	return 1
}

ice_stop() {
	local sig=${1:-TERM} deadline

	if ! _ice_is_ours "${ICE_PID:-}"; then
		return 0
	fi
	kill "-$sig" "$ICE_PID" 2>/dev/null
	deadline=$(($(date +%s%N) + 5 * 1000000000))
	while _ice_pid_alive "$ICE_PID" && (($(date +%s%N) < deadline)); do
		sleep 0.05
	done
	if _ice_is_ours "$ICE_PID"; then
		echo "ice_stop: icecast2 $ICE_PID ignored SIG$sig; killing it" >&2
		kill -KILL "$ICE_PID" 2>/dev/null
		deadline=$(($(date +%s%N) + 5 * 1000000000))
		while _ice_pid_alive "$ICE_PID" &&
			(($(date +%s%N) < deadline)); do
			sleep 0.05
		done
	fi
	! _ice_pid_alive "$ICE_PID"
}

ice_restart() {
	local down=${1:-0} port=$ICE_PORT

	ice_stop || return 1
	sleep "$down"
	ice_start "$port"
}

ice_detach() {
	_ICE_OWNED=0
}

ice_load() {
	local dir=$1 own=${2:-} line

	[[ -r $dir/env ]] || {
		echo "ice_load: no $dir/env" >&2
		return 1
	}
	while IFS= read -r line; do
		case $line in
		ICE_PORT=* | ICE_PASS=* | ICE_ADMIN_PASS=* | ICE_PID=* | ICE_DIR=*)
			export "${line%%=*}=${line#*=}"
			;;
		esac
	done <"$dir/env"
	[[ $own == own ]] && _ICE_OWNED=1
	return 0
}

ice_cleanup() {
	if ((_ICE_OWNED)); then
		ice_stop
		if [[ -z ${ICE_KEEP:-} && -n ${ICE_DIR:-} && -d ${ICE_DIR:-} ]]; then
			rm -rf "$ICE_DIR"
		fi
		_ICE_OWNED=0
	fi
	return 0
}

ice_field() {
	local mount=$1 field=$2
	ice_status | python3 -c '
import json, sys
from urllib.parse import urlparse
mount, field = sys.argv[1], sys.argv[2]
try:
    stats = json.load(sys.stdin).get("icestats", {})
except ValueError:
    sys.exit(2)
sources = stats.get("source", [])
# One source is an object, several are a list.
if isinstance(sources, dict):
    sources = [sources]
for src in sources:
    if urlparse(src.get("listenurl", "")).path == mount:
        value = src.get(field, "")
        print(value if value is not None else "")
        sys.exit(0)
sys.exit(1)' "$mount" "$field"
}

ice_title() {
	ice_field "$1" title
}

ice_has_mount() {
	ice_field "$1" listenurl >/dev/null
}

ice_wait_mount() {
	wait_until "${2:-10}" ice_has_mount "$1"
}

_ice_title_is() {
	[[ $(ice_title "$1" 2>/dev/null) == "$2" ]]
}

ice_wait_title() {
	wait_until "${3:-10}" _ice_title_is "$1" "$2"
}

ice_record() {
	local mount=$1 file=$2 secs=$3 rc

	curl -s -o "$file" --max-time "$secs" \
		"http://127.0.0.1:$ICE_PORT$mount"
	rc=$?
	# 28 is curl's "time is up": the normal end of a live stream.
	((rc == 0 || rc == 28)) && [[ -s $file ]]
}

ogg_valid() {
	local file=$1 mode=${2:-} out bad last

	out=$(ogginfo "$file" 2>&1)
	bad=$(grep -iE 'warning|error' <<<"$out")
	if [[ $mode == cut || $mode == live ]]; then
		last=$(grep -oE 'New logical stream \(#[0-9]+' <<<"$out" |
			tail -n 1 | grep -oE '[0-9]+$')
		bad=$(grep -vx "WARNING: EOS not set on stream $last" <<<"$bad")
	fi
	if [[ $mode == live ]]; then
		# Joining mid-stream, a listener gets the headers and then
		# Icecast's next page: a sequence gap in the first stream.
		bad=$(grep -v -e '^WARNING: sequence number gap in stream 1\.' \
			-e '^WARNING: discontinuity in stream (1)$' <<<"$bad")
	fi
	# With those allowed, ogginfo's exit status says nothing more.
	if [[ -z $bad ]] && { [[ -n $mode ]] || ogginfo "$file" >/dev/null 2>&1; }; then
		return 0
	fi
	echo "ogg_valid: $file:" >&2
	echo "${bad:-$out}" >&2
	return 1
}

ice_log() {
	[[ -n ${ICE_DIR:-} ]] || return 0
	tail -n 30 "$ICE_DIR/log/error.log" "$ICE_DIR/log/stdout.log" \
		2>/dev/null
}
