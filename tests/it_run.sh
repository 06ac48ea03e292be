#!/usr/bin/env bash
# it_run.sh - the daemon, `pulse-radio run --config FILE`, against a real
# Icecast on 127.0.0.1 (issue 6, first step):
#  - one mix, two mounts at different bitrates (128 kbps stereo and a 40 kbps
#    mono "low data" one), both valid Ogg/Vorbis for a listener (curl +
#    ogginfo + oggcheck), passwords from a file and from the environment;
#  - SIGHUP with a good and then a bad configuration while a listener
#    records: no gap (decoded length vs wall time within 2 %), the bad
#    file's line in the log, the old configuration kept;
#  - a second daemon on the same database refuses to start;
#  - SIGTERM ends it within 3 s, fading out, outputs closed (EOS), and
#    the database consistent;
#  - a bad configuration at start is one line with its line number, and a
#    world-readable one is warned about.
set -euo pipefail
: "${PULSE_RADIO:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO

# A small library: tones of 20 to 40 s, 44.1 kHz stereo.
mkdir -p "$T/music"
for i in 1 2 3 4; do
	media_tone "$T/music/t$i.ogg" $((15 + i * 5)) 44100 2 $((300 + i * 50)) \
		"Tone $i" "Band $i" &
done
wait
DB=$T/pulse.db
"$P" db init --db "$DB" >/dev/null
"$P" library scan "$T/music" --db "$DB" >/dev/null
(cd "$T/music" && ls -- *.ogg >music.m3u)
"$P" playlist import "$T/music/music.m3u" --db "$DB" >/dev/null
"$P" slot add all --days daily --start 00:00 --end 24:00 --playlist music \
	--db "$DB" >/dev/null
# A file the daemon's own scan of music_dir must find at start.
media_tone "$T/music/t5.ogg" 20 44100 2 600 "Tone 5" "Band 5"
ice_start
printf '%s\n' "$ICE_PASS" >"$T/source-password"
chmod 600 "$T/source-password"

# The daemon scans music_dir itself; the playlist and slot come after.
conf() { # FILE [LEVEL [EXTRA_MOUNT]]
	cat >"$1" <<EOF
; it_run.sh
[station]
name = Pulse Test
description = it_run.sh
database = $DB
music_dir = $T/music
drop_dir = $T/drop
timezone = Africa/Johannesburg

[audio]
rate = 44100
channels = 2

[output main]
url = icecast://source@127.0.0.1:$ICE_PORT/radio.ogg
password_file = $T/source-password
bitrate = 128

[output lowdata]
url = icecast://source@127.0.0.1:$ICE_PORT/low.ogg
password_env = IT_RUN_PASSWORD
channels = 1
bitrate = 40

[log]
level = ${2:-info}
EOF
	if [ -n "${3:-}" ]; then
		printf '[output extra]\nurl = icecast://source@127.0.0.1:%s%s\npassword_file = %s\nbitrate = 64\n' \
			"$ICE_PORT" "$3" "$T/source-password" >>"$1"
	fi
	chmod 600 "$1"
}
conf "$T/pulse.conf"
mkdir -p "$T/drop"
t_check "run --check accepts the configuration" \
	"$P" run --config "$T/pulse.conf" --check

# A bad configuration at start: one line, with its line number.
printf '[station]\nname = x\nvolume = 11\n' >"$T/bad.conf"
chmod 644 "$T/bad.conf"
rc=0
"$P" run --config "$T/bad.conf" 2>"$T/bad.log" || rc=$?
cat "$T/bad.log"
t_check "a bad configuration is refused at start (exit $rc)" test "$rc" -eq 1
t_check "with its file and line" \
	grep -q "bad.conf:3: unknown key 'volume' in \[station\]" "$T/bad.log"
cp "$T/pulse.conf" "$T/open.conf"
chmod 644 "$T/open.conf"
t_check "a world-readable configuration is warned about" \
	bash -c "'$P' run --config '$T/open.conf' --check 2>&1 | grep -q 'readable by every user'"
printf '[station]\nname = x\n' >"$T/noout.conf"
t_check "no output at all is refused" \
	bash -c "! '$P' run --config '$T/noout.conf' 2>&1 | grep -qv 'no \[output NAME\] section'"

IT_RUN_PASSWORD=$ICE_PASS "$P" run --config "$T/pulse.conf" 2>"$T/run.log" &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"
t_check "both mounts come up within 15 s" \
	bash -c "source '$PULSE_SRC/tests/lib.sh'; ICE_PORT=$ICE_PORT
		ice_wait_mount /radio.ogg 15 && ice_wait_mount /low.ogg 5"
t_check "the music folder was scanned at start (the new file found)" \
	test "$(sqlite3 "$DB" 'SELECT count(*) FROM track')" = 5

# A second daemon on the same database refuses.
rc=0
IT_RUN_PASSWORD=x timeout 10 "$P" run --config "$T/pulse.conf" 2>"$T/second.log" || rc=$?
cat "$T/second.log"
t_check "a second daemon on the same database refuses (exit $rc)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'another pulse-radio is already running' '$T/second.log'"

# Listen to both mounts while the configuration is reloaded twice.
sleep 2
curl -s -o "$T/low.ogg" --max-time 8 "http://127.0.0.1:$ICE_PORT/low.ogg" &
low=$!
curl -s -o "$T/main.ogg" --max-time 20 -w '%{time_starttransfer} %{time_total}\n' \
	"http://127.0.0.1:$ICE_PORT/radio.ogg" >"$T/curl.times" &
main=$!
sleep 4
# A good reload that also adds a third mount.
conf "$T/pulse.conf" debug /extra.ogg
kill -HUP "$pid"
t_check "a good configuration is reloaded" \
	wait_until 5 grep -q 'configuration and schedule reloaded' "$T/run.log"
t_check "the mount it adds comes up within 10 s, the others untouched" \
	bash -c "source '$PULSE_SRC/tests/lib.sh'; ICE_PORT=$ICE_PORT
		ice_wait_mount /extra.ogg 10 &&
		grep -q 'reload: \[output extra\] on air' '$T/run.log' &&
		! grep -q 'reload: \[output \(main\|lowdata\)\]' '$T/run.log'"
curl -s -o "$T/extra.ogg" --max-time 3 "http://127.0.0.1:$ICE_PORT/extra.ogg" || true
t_check "and it is valid Ogg/Vorbis" ogg_valid "$T/extra.ogg" live
printf 'this line is not ini\n' >>"$T/pulse.conf"
kill -HUP "$pid"
t_check "a bad one is refused, with its line" \
	wait_until 5 grep -q "pulse.conf:[0-9]*: not 'key = value'" "$T/run.log"
t_check "and the running configuration stays" \
	grep -q 'refused; the running configuration stays' "$T/run.log"
t_check "the added mount still streams" ice_has_mount /extra.ogg
# A reload without it: that mount ends, the others run on.
conf "$T/pulse.conf" debug
kill -HUP "$pid"
extra_gone() { ! ice_has_mount /extra.ogg; }
t_check "a reload without the added mount closes it within 5 s" \
	wait_until 5 extra_gone
t_check "and says so" grep -q 'reload: \[output extra\] closed' "$T/run.log"
wait "$low" || true
wait "$main" || true
t_check "the daemon is still on air" kill -0 "$pid"
read -r first total <"$T/curl.times"
"$OGGCHECK" "$T/main.ogg" >"$T/main.check" || true
frames=$(awk '/^total_frames/ {print $2}' "$T/main.check")
secs=$(python3 -c "print(${frames:-0} / 44100)")
echo "main: listened $first..$total s, decoded $secs s"
t_check "no gap across the reloads: decoded length within 2% of the wall time" \
	python3 -c "
import sys
a, lo, hi = $secs, $total - $first, $total
sys.exit(0 if lo * 0.98 <= a <= hi * 1.02 else 1)"
t_check "the main mount is valid Ogg/Vorbis" ogg_valid "$T/main.ogg" live
t_check "the low-data mount is valid Ogg/Vorbis" ogg_valid "$T/low.ogg" live
t_check "main: stereo at 128 kbps nominal" \
	bash -c "ogginfo '$T/main.ogg' 2>/dev/null | grep -q 'Channels: 2' &&
		ogginfo '$T/main.ogg' 2>/dev/null | grep -q 'Nominal bitrate: 128'"
t_check "low data: mono at 40 kbps nominal" \
	bash -c "ogginfo '$T/low.ogg' 2>/dev/null | grep -q 'Channels: 1' &&
		ogginfo '$T/low.ogg' 2>/dev/null | grep -q 'Nominal bitrate: 40'"
low_bytes=$(stat -c %s "$T/low.ogg")
main_bytes=$(stat -c %s "$T/main.ogg")
echo "bytes: main $main_bytes in ~16 s, low $low_bytes in ~8 s"

# SIGTERM: a second of fade, the streams ended, out within 3 s.
start=$(date +%s%N)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat "$T/run.log" | tail -n 8
t_check "SIGTERM: exit 0 (got $rc) within 3 s ($ms ms)" \
	bash -c "[ $rc -eq 0 ] && [ $ms -lt 3000 ]"
t_check "SIGTERM: it faded out" grep -q 'stopping: fading out' "$T/run.log"
t_check "the database is consistent" \
	test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
t_check "the as-run log has what aired" \
	test "$(sqlite3 "$DB" 'SELECT count(*) FROM asrun')" -ge 1
gone() { ! ice_has_mount /radio.ogg && ! ice_has_mount /low.ogg; }
t_check "both mounts are gone from Icecast within 3 s" wait_until 3 gone
t_done
