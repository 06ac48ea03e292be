#!/bin/bash
#
# tests/it_shout.sh - the Icecast test harness (tests/lib.sh, ice-up.sh,
# ice-down.sh) against a real icecast2, with ffmpeg as an independent
# source client.
#
# Other integration tests stand on these helpers, so they are checked
# here: free_port, ice_start (loopback only, not root, ready), ice_title
# with one source (an object in /status-json.xsl) and with two (a list),
# ice_record, ice_restart on the same port, ice_stop KILL, the watchdog of
# ice-up.sh, and that the EXIT trap leaves no icecast2 behind when a test
# fails or is killed. The streamer's own Icecast output (libshout) is
# checked by tests/test_shout.c.
set -u
SRC=${PULSE_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
. "$SRC/tests/lib.sh"

for tool in icecast2 curl python3 ffmpeg ffprobe; do
	if ! command -v "$tool" >/dev/null; then
		echo "note: $tool missing; it_shout not run"
		exit 0
	fi
done
T=$(mktemp -d "${TMPDIR:-/tmp}/it_shout-XXXXXX")
lib_on_exit "rm -rf '$T'"

# A source client that is not ours: ffmpeg, paced (-re), for SECS.
ff_source() {
	local mount=$1 title=$2 secs=$3

	ffmpeg -nostdin -loglevel error -re \
		-f lavfi -i "sine=frequency=440:sample_rate=44100" -t "$secs" \
		-c:a libvorbis -metadata title="$title" \
		-content_type audio/ogg -f ogg \
		"icecast://source:$ICE_PASS@127.0.0.1:$ICE_PORT$mount" \
		</dev/null >/dev/null 2>&1 &
	FF_PID=$!
	lib_on_exit "kill $FF_PID"
}

# Whether something accepts connections on 127.0.0.1:PORT.
port_open() {
	python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"
}

duration() {
	ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 \
		"$1" 2>/dev/null
}

between() {
	python3 -c 'import sys; v, lo, hi = map(float, sys.argv[1:]); sys.exit(not lo <= v <= hi)' \
		"$@" 2>/dev/null
}

# --- free_port ---
p=$(free_port)
t_check "free_port gives a port ($p)" between "${p:-0}" 1024 65535
t_check "free_port's port is free" bash -c "! (echo > /dev/tcp/127.0.0.1/$p) 2>/dev/null"

# --- ice_start ---
t_check "ice_start" ice_start
t_check "ICE_PORT, ICE_PASS, ICE_PID, ICE_DIR are set" \
	test -n "${ICE_PORT:-}" -a -n "${ICE_PASS:-}" -a -n "${ICE_PID:-}" -a -d "${ICE_DIR:-}"
t_check "it answers valid JSON" ice_ready
t_check "ice_running" ice_running
if ((EUID == 0)); then
	user=$(ps -o user= -p "$ICE_PID" | tr -d ' ')
	t_check "as root, icecast2 runs as icecast2 (runs as '$user')" \
		test "$user" = icecast2
fi
if command -v ss >/dev/null; then
	listen=$(ss -Hltn "sport = :$ICE_PORT" | awk '{print $4}')
	t_check "it listens on 127.0.0.1 only ($listen)" \
		test "$listen" = "127.0.0.1:$ICE_PORT"
fi
if ice_title /none.ogg >/dev/null 2>&1; then
	t_fail "ice_title of a mount without a source fails"
else
	t_ok "ice_title of a mount without a source fails"
fi

# --- one source (an object in the status), then two (a list) ---
ff_source /a.ogg Alpha 60
A_PID=$FF_PID
t_check "ice_wait_mount /a.ogg" ice_wait_mount /a.ogg 10
t_check "ice_wait_title /a.ogg Alpha (one source)" ice_wait_title /a.ogg Alpha 10
ff_source /b.ogg Beta 60
t_check "ice_wait_title /b.ogg Beta (two sources)" ice_wait_title /b.ogg Beta 10
t_check "/a.ogg still reads Alpha" test "$(ice_title /a.ogg)" = Alpha
t_check "ice_field listeners is a number" \
	bash -c '[[ $1 =~ ^[0-9]+$ ]]' _ "$(ice_field /a.ogg listeners)"

# --- a listener: burst 0, so the recording is as long as the listening ---
start=$(date +%s%N)
t_check "ice_record /b.ogg for 3 s" ice_record /b.ogg "$T/b.ogg" 3
took=$((($(date +%s%N) - start) / 1000000))
d=$(duration "$T/b.ogg")
t_check "it took about 3 s (${took} ms)" between "$took" 2800 4500
t_check "the recording holds about 3 s (${d:-none})" between "${d:-0}" 1.5 4.0
if command -v ogginfo >/dev/null; then
	t_check "ogg_valid live: a valid live recording" ogg_valid "$T/b.ogg" live
	if ogg_valid "$T/b.ogg" 2>/dev/null; then
		t_fail "ogg_valid (strict) refuses a recording without EOS"
	else
		t_ok "ogg_valid (strict) refuses a recording without EOS"
	fi
fi

no_mount() {
	! ice_has_mount "$1"
}
kill "$A_PID" 2>/dev/null
t_check "the mount goes when its source does" wait_until 10 no_mount /a.ogg
t_check "/b.ogg stays" ice_has_mount /b.ogg

# --- restart on the same port ---
old_pid=$ICE_PID old_port=$ICE_PORT
t_check "ice_restart 1" ice_restart 1
t_check "same port" test "$ICE_PORT" = "$old_port"
t_check "new process" test "$ICE_PID" != "$old_pid"
t_check "the old one is gone" bash -c "! kill -0 $old_pid 2>/dev/null || grep -q '^[^)]*) Z' /proc/$old_pid/stat"
t_check "ready after the restart" ice_ready

# --- a crash ---
t_check "ice_stop KILL" ice_stop KILL
t_check "nothing listens on the port any more" bash -c "! (echo > /dev/tcp/127.0.0.1/$ICE_PORT) 2>/dev/null"
if ice_running; then t_fail "not running after ice_stop"; else t_ok "not running after ice_stop"; fi

# --- cleanup when a test fails, and when it is killed ---
bash -c '. "$1/tests/lib.sh"; ice_start || exit 9
	echo "$ICE_PID $ICE_DIR" >"$2/failed"; exit 3' _ "$SRC" "$T" 2>"$T/nested.err"
rc=$?
read -r pid dir <"$T/failed"
t_check "a failing test keeps its exit code ($rc)" test "$rc" = 3
t_check "its icecast2 is gone" bash -c "! kill -0 $pid 2>/dev/null || grep -q '^[^)]*) Z' /proc/$pid/stat"
t_check "its ICE_DIR is gone" test ! -e "$dir"

bash -c '. "$1/tests/lib.sh"; ice_start || exit 9
	echo "$ICE_PID $ICE_DIR" >"$2/killed"
	sleep 60 >/dev/null 2>&1 & lib_on_exit "kill $!"; wait' _ "$SRC" "$T" \
	>/dev/null 2>"$T/nested.err" &
victim=$!
wait_until 15 test -s "$T/killed"
read -r pid dir <"$T/killed"
kill -TERM "$victim"
wait "$victim"
rc=$?
t_check "a test killed with TERM exits 143 ($rc)" test "$rc" = 143
t_check "its icecast2 is gone" bash -c "! kill -0 $pid 2>/dev/null || grep -q '^[^)]*) Z' /proc/$pid/stat"
t_check "its ICE_DIR is gone" test ! -e "$dir"

# --- ice-up.sh / ice-down.sh for C tests ---
sleep 30 >/dev/null 2>&1 &
owner=$!
up=$(bash "$SRC/tests/ice-up.sh" --owner "$owner")
t_check "ice-up.sh prints the settings" grep -q '^ICE_PORT=[0-9]' <<<"$up"
pid=$(sed -n 's/^ICE_PID=//p' <<<"$up")
dir=$(sed -n 's/^ICE_DIR=//p' <<<"$up")
port=$(sed -n 's/^ICE_PORT=//p' <<<"$up")
t_check "its icecast2 answers" port_open "$port"
kill "$owner"
wait "$owner" 2>/dev/null
if wait_until 5 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^[^)]*) Z' /proc/$pid/stat"; then
	t_ok "the watchdog stops it when its owner dies"
else
	t_fail "the watchdog stops it when its owner dies"
	kill "$pid" 2>/dev/null
fi
t_check "and removes its ICE_DIR" wait_until 3 test ! -e "$dir"

up=$(bash "$SRC/tests/ice-up.sh")
dir=$(sed -n 's/^ICE_DIR=//p' <<<"$up")
port=$(sed -n 's/^ICE_PORT=//p' <<<"$up")
t_check "ice-up.sh without an owner" port_open "$port"
t_check "ice-down.sh" bash "$SRC/tests/ice-down.sh" "$dir"
t_check "ice-down.sh stopped it" bash -c "! (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null"
t_check "ice-down.sh removed its ICE_DIR" test ! -e "$dir"

t_done
