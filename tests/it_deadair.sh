#!/usr/bin/env bash
# it_deadair.sh - never dead air (issue 5): a 30 s silent file is skipped
# after 5 s of silence, with one log line; files that fail part-way (a
# truncated MP3, a WAV whose header promises more than it holds) hand over
# to the next item at once. The rendered stream is searched for its
# longest stretch below -45 dBFS (tests/tools/tonefind).
set -euo pipefail
: "${PULSE_RADIO:?} ${TONEFIND:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
media_tone "$T/a.ogg" 6 8000 1 440 "Before" "Band"
sox -q -n -r 8000 -c 1 -b 16 "$T/silent.wav" trim 0 30
media_tone "$T/b.ogg" 6 8000 1 550 "Between" "Band"
media_tone "$T/full.mp3" 10 8000 1 660 "Cut short" "Band"
head -c "$(($(stat -c %s "$T/full.mp3") / 2))" "$T/full.mp3" >"$T/truncated.mp3"
rm "$T/full.mp3"
# A WAV that says 30 s and holds 3.
media_tone "$T/short.wav" 3 8000 1 770
python3 - "$T/short.wav" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find(b"data")
struct.pack_into("<I", b, i + 4, 30 * 8000 * 2)
struct.pack_into("<I", b, 4, len(b) - 8 + 27 * 8000 * 2)
open(p, "wb").write(b)
PY
media_tone "$T/c.ogg" 6 8000 1 880 "After" "Band"
printf '%s\n' a.ogg silent.wav b.ogg truncated.mp3 short.wav c.ogg >"$T/list.m3u"

rc=0
"$PULSE_RADIO" play "$T/list.m3u" --once --rate 8000 --channels 1 \
	--output "file:$T/out.ogg" 2>"$T/log" || rc=$?
cat "$T/log"
t_check "play: exit 0 (got $rc)" test "$rc" -eq 0
t_check "the dead air is logged, once" \
	test "$(grep -cE 'dead air: 5\.[01] s of silence in .*silent.wav' "$T/log")" = 1
"$TONEFIND" "$T/out.ogg" 440 >"$T/sound.txt"
# The longest stretch without sound: before the first, between two, after
# the last.
gap=$(awk '$1 == "sound" { g = $2 - end; if (g > max) max = g; end = $3 }
	$1 == "total_s" { g = $2 - end; if (g > max) max = g }
	END { printf "%.2f", max }' "$T/sound.txt")
total=$(awk '$1 == "total_s" {print $2}' "$T/sound.txt")
echo "longest silence ${gap} s in ${total} s"
t_check "no silence longer than the 5 s threshold (longest $gap s)" \
	awk -v g="$gap" 'BEGIN { exit !(g <= 5.1) }'
# 6 + 5 (then skipped) + 6 + the truncated MP3's half + 3 + 6.
t_check "the silent file was cut to 5 s, the others played ($total s)" \
	within "$total" 31 1.5

# On the schedule, with dead_air_s 2. A wholly silent file never gets
# there (the scan adds it disabled); one silent in the middle does: it is
# cut 2 s into its silence, the as-run log says it ended early, and the
# scheduler does not pick it again until the next reload.
sox -q -n -r 8000 -c 1 -b 16 "$T/tone.wav" synth 2 sine 300 gain -8
sox -q -n -r 8000 -c 1 -b 16 "$T/hush.wav" trim 0 20
sox -q "$T/tone.wav" "$T/hush.wav" "$T/tone.wav" "$T/middle.wav"
rm "$T/tone.wav" "$T/hush.wav"
DB=$T/pulse.db
p() { "$PULSE_RADIO" "$@" --db "$DB" >/dev/null; }
p db init
p library scan "$T"
printf '%s\n' a.ogg middle.wav b.ogg c.ogg >"$T/sched.m3u"
p playlist import "$T/sched.m3u"
p db set title_separation_s 0
p db set artist_separation_s 0
p db set dead_air_s 2
p slot add all --days daily --start 00:00 --end 24:00 --playlist sched \
	--crossfade-ms 0
"$PULSE_RADIO" render --from 2026-12-01T10:00 --hours 0.02 --db "$DB" \
	--asrun --rate 8000 --channels 1 --output "file:$T/sched.ogg" \
	--log-level warn 2>"$T/sched.log"
cat "$T/sched.log"
t_check "the file silent in the middle aired 2 + 2 s, ended early, once" \
	test "$(sqlite3 "$DB" "SELECT count(*) || '/' || max(duration_ms BETWEEN
	 4000 AND 4300) || '/' || max(ended_early) FROM asrun WHERE path LIKE
	 '%middle.wav'")" = "1/1/1"
t_check "and it was logged" grep -q 'dead air: 2\.[01] s of silence in .*middle.wav' "$T/sched.log"

# Dead air twice in a row (every song of the slot goes quiet): the skip
# did not help, so music comes from the fallback playlist, logged.
mkdir "$T/quiet"
for i in 1 2 3; do
	cp "$T/middle.wav" "$T/quiet/q$i.wav"
done
DB2=$T/fallback.db
p2() { "$PULSE_RADIO" "$@" --db "$DB2" >/dev/null; }
p2 db init
p2 library scan "$T/quiet"
p2 library scan "$T"
(cd "$T/quiet" && ls -- q*.wav >quiet.m3u)
p2 playlist import "$T/quiet/quiet.m3u"
printf '%s\n' a.ogg b.ogg c.ogg >"$T/fb.m3u"
p2 playlist import "$T/fb.m3u"
p2 db set title_separation_s 0
p2 db set artist_separation_s 0
p2 db set dead_air_s 2
p2 db set fallback_playlist fb
p2 slot add all --days daily --start 00:00 --end 24:00 --playlist quiet
"$PULSE_RADIO" render --from 2026-12-01T10:00 --hours 0.02 --db "$DB2" \
	--asrun --rate 8000 --channels 1 --output "file:$T/fb.ogg" \
	--log-level warn 2>"$T/fb.log"
cat "$T/fb.log"
sqlite3 "$DB2" "SELECT started_at, duration_ms, ended_early, path FROM asrun ORDER BY started_at"
t_check "dead air twice in a row: logged as a switch to the fallback" \
	grep -q 'dead air 2 times in a row: music from the fallback playlist' "$T/fb.log"
t_check "then the fallback playlist plays, whole" \
	test "$(sqlite3 "$DB2" "SELECT count(*) FROM asrun WHERE path NOT LIKE
	 '%/quiet/%' AND ended_early = 0 AND started_at > (SELECT max(started_at)
	 FROM asrun WHERE path LIKE '%/quiet/%')")" -ge 3
t_check "no more than two quiet songs aired" \
	test "$(sqlite3 "$DB2" "SELECT count(*) FROM asrun WHERE path LIKE '%/quiet/%'")" = 2
"$TONEFIND" "$T/fb.ogg" 440 >"$T/fb.txt"
gap=$(awk '$1 == "sound" { g = $2 - end; if (g > max) max = g; end = $3 }
	$1 == "total_s" { g = $2 - end; if (g > max) max = g }
	END { printf "%.2f", max }' "$T/fb.txt")
t_check "no silence longer than the 2 s threshold ($gap s)" \
	awk -v g="$gap" 'BEGIN { exit !(g <= 2.1) }'
t_done
