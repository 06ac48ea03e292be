#!/usr/bin/env bash
#
# demo.sh - one command from a fresh clone to a station on the air.
#
# Usage: scripts/demo.sh [--check SECONDS] [--no-setup] [--port N]
#
# Installs what is missing (scripts/deps.sh), builds into build/, makes the
# demo music (scripts/make-demo.sh) and the demo schedule (demo/pulse.db:
# the music rotating all day, a jingle after every two songs, a station ID
# at the top of every hour, news at :00 and :30; a spoken bulletin airs
# within seconds of the start), starts a private Icecast on 127.0.0.1:8000 and
# airs the schedule to
#     http://127.0.0.1:8000/pulse.ogg
# until Ctrl-C, which stops the streamer and the server cleanly.
#
#   --check SECONDS  stream for SECONDS, record the stream with curl and
#                    verify it with ogginfo; exit 0 only if it was valid Ogg/
#                    Vorbis of about the right length (paced in real time)
#   --no-setup       skip deps.sh and the build: use $PULSE_RADIO, or
#                    build/pulse-radio (for tests that built already)
#   --port N         listen on 127.0.0.1:N instead of 8000
#
# State lives in demo/ at the repo root (git-ignored): the schedule and
# as-run log (pulse.db), the Icecast config and log, and the source
# password, made at random on the first run and kept in
# demo/source-password (mode 600). Only 127.0.0.1 is used.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
STATE="$REPO/demo"
PORT=8000
MOUNT=pulse.ogg
CHECK=0
SETUP=1

usage() {
	sed -n '3,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--check)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
		CHECK=$2
		shift 2
		;;
	--no-setup)
		SETUP=0
		shift
		;;
	--port)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
		PORT=$2
		shift 2
		;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done

say() { echo "demo: $*"; }
die() {
	echo "demo: error: $*" >&2
	exit 1
}

cd "$REPO"
if [[ $SETUP -eq 1 ]]; then
	scripts/deps.sh
	cmake -S . -B build
	cmake --build build -j2
fi
PULSE=${PULSE_RADIO:-$REPO/build/pulse-radio}
[[ -x $PULSE ]] || die "$PULSE is missing: build it (cmake -S . -B build &&" \
	"cmake --build build -j2) or run without --no-setup"
for tool in icecast2 curl jq ogginfo; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing: run scripts/deps.sh"
done
scripts/make-demo.sh "$REPO"

mkdir -p "$STATE"
chmod 700 "$STATE"

# The demo schedule: made on the first run, its library and playlists
# refreshed on every run (a rescan reads only changed files).
DB="$STATE/pulse.db"
pr() {
	"$PULSE" "$@" --db "$DB" >>"$STATE/setup.log" 2>&1 ||
		die "pulse-radio $1 $2 failed: see $STATE/setup.log"
}
: >"$STATE/setup.log"
new_db=0
[[ -e $DB ]] || new_db=1
pr db init
pr library scan "$REPO/playlists"
pr library scan "$REPO/jingles"
pr playlist import "$REPO/playlists/music.m3u"
pr playlist import "$REPO/jingles/ids.m3u"
if [[ $new_db -eq 1 ]]; then
	pr db set title_separation_s 180
	pr db set artist_separation_s 60
	pr db set fallback_playlist music
	pr slot add all-day --days daily --start 00:00 --end 24:00 \
		--playlist music --jingles ids --jingle-every 2 --ids ids \
		--id-mode hard --news 0,30 --jingles-over on
fi
# City news: one bulletin now (breaking, so it airs within seconds), one
# for the next news minute, in Afrikaans.
pr bulletin add --breaking --by demo --expires +1h \
	"Good $(date +%p | sed 's/AM/morning/;s/PM/afternoon/'). This is Pulse Radio, the city's automated station. Water will be off in Soweto from 09:00 to 14:00 tomorrow; JMPD advises motorists to use the N1."
pr bulletin add --lang af --by demo --expires +2h \
	"Die biblioteek in die middestad is Maandag gesluit weens onderhoud."
PASSFILE="$STATE/source-password"
ADMINFILE="$STATE/admin-password"
for f in "$PASSFILE" "$ADMINFILE"; do
	if [[ ! -s $f ]]; then
		(umask 077 && head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' \
			>"$f")
	fi
	chmod 600 "$f"
done
PASS=$(<"$PASSFILE")
ADMIN_PASS=$(<"$ADMINFILE")

# True if something accepts connections on 127.0.0.1:$PORT.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

# Processes of an earlier run that was killed before it could clean up:
# stop them if the pid still names the same program with our arguments.
ICE_PIDFILE="$STATE/icecast.pid"
PULSE_PIDFILE="$STATE/pulse-radio.pid"
stop_leftover() {
	local pidfile=$1 pattern=$2 old
	[[ -s $pidfile ]] || return 0
	old=$(<"$pidfile")
	if [[ $old =~ ^[0-9]+$ && -r /proc/$old/cmdline ]] &&
		tr '\0' ' ' <"/proc/$old/cmdline" | grep -qF -- "$pattern"; then
		say "stopping pid $old left over from an earlier run"
		kill "$old" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$old" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$old" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}
stop_leftover "$PULSE_PIDFILE" "$DB"
stop_leftover "$ICE_PIDFILE" "$STATE/icecast.xml"
if port_busy; then
	echo "demo: error: port $PORT on 127.0.0.1 is already in use by" \
		"another program (not this demo's Icecast)." >&2
	if command -v ss >/dev/null 2>&1; then
		ss -ltnp "sport = :$PORT" >&2 || true
	fi
	echo "demo: stop it (a system icecast2: 'service icecast2 stop')," \
		"or pick another port with --port N." >&2
	exit 1
fi

# Icecast refuses to run as root unless it is told to drop to its own
# user; logs go to stderr (our log file), so it needs no writable folder.
SECURITY="<chroot>0</chroot>"
if [[ $(id -u) -eq 0 ]]; then
	{ getent passwd icecast2 && getent group icecast; } >/dev/null ||
		die "running as root, but the icecast2 user or icecast group" \
			"is missing (reinstall icecast2)"
	SECURITY+="<changeowner><user>icecast2</user><group>icecast</group>"
	SECURITY+="</changeowner>"
fi
mkdir -p "$STATE/log"
[[ $(id -u) -eq 0 ]] && chown icecast2:icecast "$STATE/log"
(umask 077 && cat >"$STATE/icecast.xml" <<EOF
<icecast>
  <location>Pulse Radio demo</location>
  <admin>root@localhost</admin>
  <hostname>127.0.0.1</hostname>
  <limits>
    <clients>100</clients>
    <sources>4</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-size>65535</burst-size>
  </limits>
  <authentication>
    <source-password>$PASS</source-password>
    <admin-user>admin</admin-user>
    <admin-password>$ADMIN_PASS</admin-password>
  </authentication>
  <listen-socket>
    <port>$PORT</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
  <http-headers>
    <header name="Access-Control-Allow-Origin" value="*"/>
  </http-headers>
  <fileserve>1</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>$STATE/log</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
    <alias source="/" destination="/status.xsl"/>
  </paths>
  <logging>
    <accesslog>-</accesslog>
    <errorlog>-</errorlog>
    <loglevel>3</loglevel>
  </logging>
  <security>$SECURITY</security>
</icecast>
EOF
)
# Icecast reads its config before it drops root.
chmod 644 "$STATE/icecast.xml"
[[ $(id -u) -eq 0 ]] && chown root:icecast "$STATE/icecast.xml" &&
	chmod 640 "$STATE/icecast.xml"

ICE_PID=
PULSE_PID=
# Stops a process we started: SIGTERM, up to 5 s, then SIGKILL.
stop_pid() {
	local pid=$1 name=$2
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "$name did not stop in 5 s: killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	trap - INT TERM EXIT
	stop_pid "$PULSE_PID" pulse-radio
	stop_pid "$ICE_PID" icecast2
	rm -f "$ICE_PIDFILE" "$PULSE_PIDFILE"
}
trap cleanup EXIT
trap 'echo; say "stopping"; cleanup; exit 0' INT TERM

# The status page answers HTTP within 0.1 s but its JSON is not valid for
# about 0.5 s more: wait until it parses (at most 10 s).
STATUS="http://127.0.0.1:$PORT/status-json.xsl"
icecast2 -c "$STATE/icecast.xml" >"$STATE/icecast.log" 2>&1 &
ICE_PID=$!
echo "$ICE_PID" >"$ICE_PIDFILE"
ready=0
for _ in $(seq 100); do
	kill -0 "$ICE_PID" 2>/dev/null || break
	if curl -fsS --max-time 1 "$STATUS" 2>/dev/null | jq -e .icestats \
		>/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.1
done
if [[ $ready -ne 1 ]]; then
	tail -n 20 "$STATE/icecast.log" >&2
	die "Icecast did not come up on 127.0.0.1:$PORT (log: $STATE/icecast.log)"
fi
say "Icecast is up on 127.0.0.1:$PORT (pid $ICE_PID)"

# True once the server lists our mount as live.
mount_live() {
	curl -fsS --max-time 1 "$STATUS" 2>/dev/null | jq -e --arg m "/$MOUNT" \
		'[.icestats.source // empty] | flatten
		 | any(.listenurl // "" | endswith($m))' >/dev/null 2>&1
}

"$PULSE" air --db "$DB" \
	--output "icecast://source@127.0.0.1:$PORT/$MOUNT" \
	--password-file "$PASSFILE" \
	--name "Pulse Radio (demo)" --genre "Electronic" \
	--description "Synthesised music and station IDs, made on this machine" \
	--url "http://127.0.0.1:$PORT/" &
PULSE_PID=$!
echo "$PULSE_PID" >"$PULSE_PIDFILE"

live=0
for _ in $(seq 150); do
	kill -0 "$PULSE_PID" 2>/dev/null || break
	if mount_live; then
		live=1
		break
	fi
	sleep 0.1
done
if ! kill -0 "$PULSE_PID" 2>/dev/null; then
	rc=0
	wait "$PULSE_PID" || rc=$?
	PULSE_PID=
	die "pulse-radio exited at once (status $rc): see its messages above"
fi

echo
echo "  Listen at:    http://127.0.0.1:$PORT/$MOUNT"
echo "  Status page:  http://127.0.0.1:$PORT/"
echo
if [[ $live -ne 1 ]]; then
	say "warning: the mount is not live after 15 s; still trying"
fi

if [[ $CHECK -eq 0 ]]; then
	say "streaming; press Ctrl-C to stop"
	rc=0
	wait "$PULSE_PID" || rc=$?
	PULSE_PID=
	say "pulse-radio stopped (status $rc)"
	exit "$rc"
fi

#
# --check: record SECONDS of the stream as a listener would, then judge it.
#
[[ $live -eq 1 ]] || die "check failed: the mount never went live"
REC="$STATE/check.ogg"
rm -f "$REC"
say "recording $CHECK s of http://127.0.0.1:$PORT/$MOUNT"
curl_rc=0
curl -s --max-time "$CHECK" -o "$REC" "http://127.0.0.1:$PORT/$MOUNT" ||
	curl_rc=$?
# 28 is curl's "time limit reached": the normal end of a live stream.
if [[ $curl_rc -ne 0 && $curl_rc -ne 28 ]]; then
	die "check failed: curl exited with $curl_rc"
fi
alive=1
kill -0 "$PULSE_PID" 2>/dev/null || alive=0
cleanup

bytes=$(stat -c %s "$REC" 2>/dev/null || echo 0)
info=$(ogginfo "$REC" 2>&1 || true)
echo "$info" >"$STATE/check.ogginfo"
# Playback length of every logical stream (one per item), in seconds.
secs=$(echo "$info" | awk '/Playback length:/ {
	split($3, t, /[ms:]+/); sum += t[1] * 60 + t[2] } END { printf "%.1f", sum }')
vorbis=$(echo "$info" | grep -c 'Vorbis headers parsed' || true)
errors=$(echo "$info" | grep -c '^ERROR\|^Error' || true)
say "check: ${bytes} bytes, ${secs} s of audio in ${vorbis} Vorbis" \
	"stream(s), ${errors} ogginfo error(s) (details: $STATE/check.ogginfo)"
ok=1
if [[ $alive -ne 1 ]]; then
	say "check: FAIL: pulse-radio exited during the check"
	ok=0
fi
if [[ $vorbis -lt 1 ]]; then
	say "check: FAIL: no Vorbis stream in the recording"
	ok=0
fi
if [[ $errors -gt 0 ]]; then
	say "check: FAIL: ogginfo reports errors"
	ok=0
fi
# A stream paced in real time delivers about SECONDS of audio in SECONDS:
# less while the mount fills up after going live, more by Icecast's burst
# (a few seconds given to a new listener at once).
if ! awk -v s="$secs" -v c="$CHECK" 'BEGIN { exit !(s > 0 && s >= c * 0.5 - 2 && s <= c + 20) }'; then
	say "check: FAIL: ${secs} s of audio in ${CHECK} s is not real time"
	ok=0
fi
if [[ $ok -eq 1 ]]; then
	say "check: PASS"
	exit 0
fi
exit 1
