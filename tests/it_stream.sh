#!/usr/bin/env bash
# it_stream.sh - on air through a real Icecast: a looping playlist of MP3,
# Ogg and WAV at 22050/44100/48000 Hz, mono and stereo, streamed in real time;
# curl records the listener side for 28 s. Proves with real clients that the
# recording is valid Ogg/Vorbis (ogginfo), that its decoded length matches the
# wall time it was recorded for within 2%, and that the titles on Icecast's
# /status-json.xsl and in the stream follow the playlist. SIGINT ends it
# cleanly.
set -euo pipefail
: "${PULSE_RADIO:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
source "$PULSE_SRC/tests/stream_fixture.sh"
T=$(mktemp -d)
lib_on_exit "rm -rf '$T'"

stream_fixture "$T"
ice_start
mount=/pulse.ogg
"$PULSE_RADIO" play "$T/list.m3u" \
	--output "icecast://source:$ICE_PASS@127.0.0.1:$ICE_PORT$mount" \
	--name "Pulse Test" --genre Test 2>"$T/log" &
pid=$!
lib_on_exit "kill -9 $pid"
t_check "the mount is on air within 10 s" ice_wait_mount "$mount" 10
# Join a stream that is already under way, as a listener would: right at
# the start Icecast still holds the first pages, which would count twice.
sleep 2

# Icecast's idea of the title, twice a second, while we listen.
(
	end=$((SECONDS + 30))
	while ((SECONDS < end)); do
		ice_title "$mount" 2>/dev/null || true
		echo
		sleep 0.5
	done
) >"$T/titles" &
poller=$!
# The wall time it listened, as curl measured it: at most from the request
# (total), at least from the first byte (Icecast holds its answer until the
# next page is due). The audio must lie within 2% of that span.
curl -s -o "$T/rec.ogg" --max-time 28 -w '%{time_starttransfer} %{time_total}\n' \
	"http://127.0.0.1:$ICE_PORT$mount" >"$T/curl.times" || true
wait "$poller"
read -r first total <"$T/curl.times"
wall_min=$(python3 -c "print($total - $first)")

t_check "ogginfo: the recording is valid Ogg/Vorbis" ogg_valid "$T/rec.ogg" live
"$OGGCHECK" "$T/rec.ogg" >"$T/check" || true
cat "$T/check"
frames=$(awk '/^total_frames/ {print $2}' "$T/check")
secs=$(python3 -c "print(${frames:-0} / 44100)")
echo "recorded for $wall_min..$total s of wall time, decoded $secs s of audio"
t_check "decoded length within 2% of the wall time" python3 -c "
import sys
a, lo, hi = $secs, $wall_min, $total
sys.exit(0 if lo * 0.98 <= a <= hi * 1.02 else 1)"
ffmpeg -v error -nostdin -i "$T/rec.ogg" -f null - 2>"$T/ff.err" || true
t_check "ffmpeg decodes the recording" \
	bash -c "! grep -vE 'failed to create or replace stream|non monotonically' '$T/ff.err'"

mapfile -t seen < <(grep -v '^$' "$T/titles" | uniq)
echo "titles on /status-json.xsl: ${seen[*]}"
t_check "Icecast's titles follow the playlist" follows_playlist "${seen[@]}"
mapfile -t links < <(sed -n 's/^link .* title=\(.*\) artist=.*/\1/p' "$T/check")
echo "titles in the stream: ${links[*]}"
t_check "the stream's titles follow the playlist" follows_playlist "${links[@]}"
t_check "the stream's links carry ARTIST" grep -q 'title=Two artist=Bravo' "$T/check"
name_is() { [[ $(ice_field "$mount" server_name) == "$1" ]]; }
t_check "Icecast shows the stream name" name_is "Pulse Test"

# SIGINT: the block finishes, the stream ends cleanly, exit 0.
kill -INT "$pid"
rc=0
timeout 10 tail --pid="$pid" -f /dev/null || true
wait "$pid" || rc=$?
t_check "SIGINT: exit 0 (got $rc)" test "$rc" -eq 0
t_check "the password is never logged" bash -c "! grep -qF '$ICE_PASS' '$T/log'"
t_check "no sanitizer report" bash -c "! grep -q Sanitizer '$T/log'"
t_done
