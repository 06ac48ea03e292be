#!/usr/bin/env bash
# it_reconnect.sh - Icecast goes away mid-stream, twice (a clean stop, then
# a crash), and comes back on the same port: pulse-radio keeps its programme
# time, reconnects by itself within 5 s of the server's return, starts a
# fresh logical bitstream, and the listener side is valid again. A file
# output beside it never notices.
set -euo pipefail
: "${PULSE_RADIO:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
source "$PULSE_SRC/tests/stream_fixture.sh"
T=$(mktemp -d)
lib_on_exit "rm -rf '$T'"

stream_fixture "$T"
ice_start
mount=/live.ogg
started=$(date +%s.%N)
"$PULSE_RADIO" play "$T/list.m3u" \
	--output "icecast://source:$ICE_PASS@127.0.0.1:$ICE_PORT$mount" \
	--output "file:$T/archive.ogg" 2>"$T/log" &
pid=$!
lib_on_exit "kill -9 $pid"
t_check "on air" ice_wait_mount "$mount" 10
ice_record "$mount" "$T/before.ogg" 3 || true
t_check "listener side valid before the outage" ogg_valid "$T/before.ogg" live

for how in TERM KILL; do
	ice_stop "$how" || true
	sleep 3
	ice_start "$ICE_PORT"
	back=$(date +%s.%N)
	if ice_wait_mount "$mount" 8; then
		took=$(python3 -c "print(round($(date +%s.%N) - $back, 2))")
		t_check "after a $how: reconnected $took s after the server's return" \
			within "$took" 0 5
	else
		t_fail "after a $how: not reconnected within 8 s"
		sed -n '$p' "$T/log"
	fi
	t_check "still running after the $how" kill -0 "$pid"
	ice_record "$mount" "$T/after-$how.ogg" 4 || true
	t_check "listener side valid after the $how" ogg_valid "$T/after-$how.ogg" live
	"$OGGCHECK" "$T/after-$how.ogg" >"$T/check-$how" || true
	frames=$(awk '/^total_frames/ {print $2}' "$T/check-$how")
	t_check "after the $how the listener hears audio (${frames:-0} frames)" \
		test "${frames:-0}" -gt 44100
done

kill -INT "$pid"
timeout 10 tail --pid="$pid" -f /dev/null || true
rc=0
wait "$pid" || rc=$?
elapsed=$(python3 -c "print($(date +%s.%N) - $started)")
cat "$T/log"
t_check "clean exit after SIGINT (got $rc)" test "$rc" -eq 0
t_check "each try is one log line" \
	test "$(grep -ciE 'reconnect|retry|retrying' "$T/log")" -ge 2
t_check "the file output is valid and whole" ogg_valid "$T/archive.ogg"
"$OGGCHECK" "$T/archive.ogg" >"$T/check-archive"
frames=$(awk '/^total_frames/ {print $2}' "$T/check-archive")
secs=$(python3 -c "print(${frames:-0} / 44100)")
echo "archive holds $secs s of audio for $elapsed s of wall time"
# The programme kept its time through both outages: the file output (paced
# with the mount) has as much audio as the time the program ran.
t_check "programme time kept through the outages" \
	within "$secs" "$elapsed" "$(python3 -c "print($elapsed * 0.03 + 1)")"
t_done
