#!/usr/bin/env bash
# it_pass.sh - music passed through from the encoded cache, on air through a
# real Icecast (issue 7: streaming on a fraction of the CPU):
#  - `run --fill-cache` encodes the library's tracks (those long enough)
#    into encoded_cache, once: a second run encodes nothing, and removes
#    what a killed encoder left an hour ago;
#  - the daemon passes the middle of each track through: /metrics counts
#    passed seconds, and a listener's recording (curl) is valid Ogg/Vorbis
#    (ogginfo), decodes whole (ffmpeg, oggcheck), keeps to the wall clock
#    within 2 %, shows each track's title on all its links, and has no jump
#    where a pass link meets an encoded one (steady tones: about 0.004
#    there; one frame dropped makes 0.02);
#  - cached encodings cut in half, and of garbage: the daemon names each in
#    one line, plays those tracks encoded on air, and encodes them again;
#  - a track added after the fill is encoded by the daemon's own sweep, in
#    the background;
#  - SIGTERM in the middle of a pass: exit 0, the stream ends cleanly.
set -euo pipefail
: "${PULSE_RADIO:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO

# Four steady tones of 30 s (the last added after the fill), 44.1 kHz.
mkdir -p "$T/music"
for i in 1 2 3; do
	media_tone "$T/music/t$i.ogg" 30 44100 2 $((300 + i * 50)) \
		"Tone $i" "Band $i" &
done
wait
DB=$T/pulse.db
"$P" db init --db "$DB" >/dev/null
"$P" library scan "$T/music" --db "$DB" >/dev/null
ice_start
printf '%s\n' "$ICE_PASS" >"$T/source-password"
chmod 600 "$T/source-password"
HPORT=$(free_port)
cat >"$T/pulse.conf" <<EOF
[station]
name = Pulse Test
database = $DB
music_dir = $T/music
encoded_cache = $T/cache

[audio]
rate = 44100
channels = 2

[output main]
url = icecast://source@127.0.0.1:$ICE_PORT/radio.ogg
password_file = $T/source-password
quality = 0.4

[http]
bind = 127.0.0.1:$HPORT
EOF
chmod 600 "$T/pulse.conf"

"$P" run --config "$T/pulse.conf" --fill-cache 2>"$T/fill.log"
cat "$T/fill.log"
t_check "--fill-cache encodes the 3 tracks" \
	grep -q 'encoded cache: 3 tracks ready, 3 encoded now' "$T/fill.log"
n=$(find "$T/cache" -name '*.ogg' | wc -l)
t_check "3 encodings in the cache (got $n), no temporary files" \
	test "$n" -eq 3 -a "$(find "$T/cache" -type f | wc -l)" -eq 3
for f in "$T"/cache/*.ogg; do
	t_check "ogginfo: $(basename "$f") is valid" ogg_valid "$f"
done
# What a killed encoder leaves: gone once an hour old, not before.
echo x >"$T/cache/.0123.ogg.AbCdEf"
touch -d '2 hours ago' "$T/cache/.0123.ogg.AbCdEf"
echo x >"$T/cache/.4567.ogg.AbCdEf"
"$P" run --config "$T/pulse.conf" --fill-cache 2>"$T/fill2.log"
t_check "a second --fill-cache encodes nothing" \
	grep -q 'encoded cache: 3 tracks ready, 0 encoded now' "$T/fill2.log"
t_check "an old half-written encoding is removed, a new one kept" \
	test ! -e "$T/cache/.0123.ogg.AbCdEf" -a -e "$T/cache/.4567.ogg.AbCdEf"
rm -f "$T/cache/.4567.ogg.AbCdEf"

# A fourth track, not cached: encoded in the background while on air.
media_tone "$T/music/t4.ogg" 30 44100 2 500 "Tone 4" "Band 4"
"$P" library scan "$T/music" --db "$DB" >/dev/null
(cd "$T/music" && ls -- t*.ogg >music.m3u)
"$P" playlist import "$T/music/music.m3u" --db "$DB" >/dev/null
"$P" slot add all --days daily --start 00:00 --end 24:00 --playlist music \
	--db "$DB" >/dev/null

"$P" run --config "$T/pulse.conf" 2>"$T/log" &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"
lib_log_on_fail "$T/log"
t_check "the mount is on air within 10 s" ice_wait_mount /radio.ogg 10
curl -s -o "$T/rec.ogg" --max-time 40 -w '%{time_starttransfer} %{time_total}\n' \
	"http://127.0.0.1:$ICE_PORT/radio.ogg" >"$T/curl.times" || true
read -r first total <"$T/curl.times"
metrics=$(curl -s "http://127.0.0.1:$HPORT/metrics")
passed=$(awk '/^pulse_passed_seconds_total/ {print $2}' <<<"$metrics")
echo "passed through: ${passed:-none} s"
t_check "/metrics: over 15 s passed through" \
	python3 -c "import sys; sys.exit(0 if float('${passed:-0}') > 15 else 1)"
t_check "ogginfo: the recording is valid Ogg/Vorbis" ogg_valid "$T/rec.ogg" live
"$OGGCHECK" "$T/rec.ogg" >"$T/check" || true
cat "$T/check"
frames=$(awk '/^total_frames/ {print $2}' "$T/check")
wall_min=$(python3 -c "print($total - $first)")
t_check "decoded length within 2 % of the wall time" python3 -c "
import sys
a = ${frames:-0} / 44100
sys.exit(0 if $wall_min * 0.98 <= a <= $total * 1.02 else 1)"
ffmpeg -v error -nostdin -i "$T/rec.ogg" -f null - 2>"$T/ff.err" || true
t_check "ffmpeg decodes the recording" \
	bash -c "! grep -vE 'failed to create or replace stream|non monotonically' '$T/ff.err'"
jump=$(awk '/^jump/ {print $2}' "$T/check")
t_check "no jump where links meet inside a track (max $jump)" \
	python3 -c "import sys; sys.exit(0 if ${jump:-1} < 0.012 else 1)"
# Within a track, every link carries its title: no untitled link.
t_check "every link has a title" bash -c "! grep -q 'title= ' '$T/check'"
links=$(grep -c '^link' "$T/check")
titles=$(sed -n 's/^link .* title=\(.*\) artist=.*/\1/p' "$T/check" | sort -u | wc -l)
echo "$links links, $titles titles in 40 s"
t_check "more links than titles: the passes are links of their own" \
	test "$links" -gt "$titles"

# The fourth track came after the fill: the daemon's own sweep, in the
# background, encoded it.
t_check "the daemon's sweep encodes the track the fill did not see" \
	grep -q 'encoded cache: 4 tracks ready, 1 encoded now' "$T/log"
t_check "4 encodings in the cache now" \
	test "$(find "$T/cache" -name '*.ogg' | wc -l)" -eq 4

# SIGTERM while passing through: a clean end.
kill -TERM "$pid"
rc=0
timeout 10 tail --pid="$pid" -f /dev/null || true
wait "$pid" || rc=$?
t_check "SIGTERM: exit 0 (got $rc)" test "$rc" -eq 0
t_check "no sanitizer report" bash -c "! grep -q Sanitizer '$T/log'"

# Broken cache files: two cut in half, two garbage. The tracks play
# encoded on air, the files are removed and encoded again.
mapfile -t enc < <(ls "$T"/cache/*.ogg)
for i in "${!enc[@]}"; do
	if ((i % 2)); then
		head -c 50000 /dev/urandom >"${enc[i]}"
	else
		truncate -s $(($(stat -c %s "${enc[i]}") / 2)) "${enc[i]}"
	fi
done
"$P" run --config "$T/pulse.conf" 2>"$T/log2" &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"
lib_log_on_fail "$T/log2"
t_check "on air again within 10 s" ice_wait_mount /radio.ogg 10
ice_record /radio.ogg "$T/rec2.ogg" 70 || true
kill -TERM "$pid"
rc=0
timeout 10 tail --pid="$pid" -f /dev/null || true
wait "$pid" || rc=$?
t_check "with broken encodings: exit 0 (got $rc)" test "$rc" -eq 0
t_check "ogginfo: that recording is valid too" ogg_valid "$T/rec2.ogg" live
"$OGGCHECK" "$T/rec2.ogg" >"$T/check2" || true
t_check "oggcheck decodes it" grep -q '^total_frames' "$T/check2"
t_check "a broken encoding is named in one line" \
	grep -qE 'encoded cache: .*[0-9a-f]{32}\.ogg: ' "$T/log2"
t_check "a broken encoding is made again" \
	grep -q 'ready for the next time' "$T/log2"
t_check "no sanitizer report" bash -c "! grep -q Sanitizer '$T/log2'"
t_done
