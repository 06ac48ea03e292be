#!/usr/bin/env bash
# it_air.sh - the schedule on air: the same scheduler behind `plan`,
# `render` and `air`.
#
#  - plan for 24 h and a simulated render of the same 24 h (--asrun into a
#    copy of the database) list the same items in the same order at the
#    same times, across a slot change with jingles and a slot crossing
#    midnight;
#  - the as-run log of a rendered hour matches what was encoded: each
#    item's start and duration within one audio block of its Ogg link;
#  - on air, an operator's slot edit takes effect at the next item, with
#    no restart and no gap in the stream.
#
# The station rate is 8000 Hz mono here, and the day render goes to null:
# (unencoded), so a day of programme takes seconds; the code path is the
# one that airs.
set -euo pipefail
: "${PULSE_RADIO:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(mktemp -d)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO
RATE=(--rate 8000 --channels 1)
mkdir -p "$T/day" "$T/night" "$T/ids" "$T/short"

# 24 day tracks over 8 artists, 16 night tracks over 4, 3 station IDs,
# 6 short tracks for the live test: Ogg at 8000 Hz mono, made here.
for i in $(seq 1 24); do
	media_tone "$T/day/d$i.ogg" $((20 + i % 7 * 3)) 8000 1 $((200 + i * 10)) "Day $i" "Artist $((i % 8))" &
done
for i in $(seq 1 16); do
	media_tone "$T/night/n$i.ogg" $((25 + i % 5 * 4)) 8000 1 $((300 + i * 10)) "Night $i" "Singer $((i % 4))" &
done
for i in 1 2 3; do
	media_tone "$T/ids/id$i.ogg" 4 8000 1 $((600 + i * 50)) "ID $i" "Pulse Radio" &
done
for i in 1 2 3 4 5 6; do
	media_tone "$T/short/s$i.ogg" 3 8000 1 $((400 + i * 20)) "Short $i" "Band $i" &
done
wait
DB=$T/pulse.db
p() { "$P" "$@" --db "$DB" >/dev/null; }
p db init
p library scan "$T"
for d in day night ids short; do
	(cd "$T/$d" && ls -- *.ogg >"$T/$d.m3u")
	mv "$T/$d.m3u" "$T/$d/$d.m3u"
	p playlist import "$T/$d/$d.m3u"
done
p db set title_separation_s 600
p db set artist_separation_s 60
p slot add day --days daily --start 06:00 --end 18:00 --playlist day \
	--jingles ids --jingle-every 3 --mode hard --ids ids --id-mode hard
p slot add night --days daily --start 18:00 --end 06:00 --playlist night \
	--ids ids --id-mode hard

# 1. plan and render of the same 24 h (a station ID at the top of every
# hour, a hard event: the item before it is chosen to fit or faded).
"$P" plan --from 2026-12-01T00:00 --hours 24 --db "$DB" >"$T/plan.txt"
cp "$DB" "$T/render.db"
rc=0
"$P" render --from 2026-12-01T00:00 --hours 24 --db "$T/render.db" --asrun \
	"${RATE[@]}" --output null: --log-level warn 2>"$T/render.log" || rc=$?
cat "$T/render.log"
t_check "render of 24 h: exit 0 (got $rc)" test "$rc" -eq 0
# plan: "HH:MM:SS  slot  kind  Artist - Title  m:ss"; as-run in UTC, the
# station in Africa/Johannesburg (UTC+2, no daylight saving).
grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2} ' "$T/plan.txt" |
	sed -E 's/^([0-9:]{8}) +([^ ]+) +[a-z]+ +(.*)  +[0-9]+:[0-9]{2}( \(cut\))?$/\1|\2|\3/' >"$T/plan.items"
python3 - "$T/render.db" >"$T/render.items" <<'PY'
import sqlite3, sys, datetime
db = sqlite3.connect(sys.argv[1])
for started, slot, artist, title in db.execute(
        "SELECT started_at, slot_name, artist, title FROM asrun"
        " ORDER BY started_at, id"):
    t = datetime.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%fZ")
    t += datetime.timedelta(hours=2)
    print(f"{t:%H:%M:%S}|{slot or '-'}|{artist} - {title}")
PY
n_plan=$(wc -l <"$T/plan.items")
n_render=$(wc -l <"$T/render.items")
echo "plan: $n_plan items, render: $n_render items"
t_check "a day of programme: more than 2000 items" test "$n_plan" -gt 2000
t_check "plan and render list the same items in the same order at the same times" \
	diff "$T/plan.items" "$T/render.items"
t_check "jingles in the day slot" grep -q '|day|Pulse Radio - ID' "$T/render.items"
t_check "the night slot crosses midnight" \
	bash -c "grep -q '^00:00:..|night|' '$T/render.items' && grep -q '^23:5.:..|night|' '$T/render.items'"
t_check "the hard start at 06:00 is on time" grep -q '^06:00:00|day|' "$T/render.items"

# 2. as-run of an encoded hour against the encoded links.
cp "$DB" "$T/hour.db"
"$P" render --from 2026-12-01T17:30 --hours 1 --db "$T/hour.db" --asrun \
	"${RATE[@]}" --output "file:$T/hour.ogg" --log-level warn
"$OGGCHECK" "$T/hour.ogg" >"$T/hour.check"
python3 - "$T/hour.db" "$T/hour.check" <<'PY' >"$T/hour.cmp"
import sqlite3, sys, datetime
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT started_at, duration_ms, title FROM asrun"
    " ORDER BY started_at, id").fetchall()
links = [l.split() for l in open(sys.argv[2]) if l.startswith("link ")]
base = datetime.datetime(2026, 12, 1, 15, 30)  # 17:30 local in UTC
block_ms = 1024 * 1000 / 8000  # one audio block
bad, pos, top, crossed = 0, 0, "none", 0
# A link starts when its item starts; an item that crosses into the next
# plays the crossfade (3 s) longer than its link, under the next one.
for (started, dur, title), link in zip(rows, links):
    frames = int(link[7])
    if abs(pos * 1000 / 8000 - 1800000) <= block_ms:
        top = f"{title} at {pos * 1000 / 8000:.0f} ms"
    t = datetime.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%fZ")
    off_ms = (t - base).total_seconds() * 1000
    over = dur - frames * 1000 / 8000
    if abs(over - 3000) <= block_ms:
        crossed += 1
    elif abs(over) > block_ms:
        bad += 1
    if abs(off_ms - pos * 1000 / 8000) > block_ms:
        bad += 1
        print("mismatch:", started, dur, title, frames, pos)
    pos += frames
print(f"crossfades {crossed}")
print(f"top of the hour: {top}")
print(f"rows {len(rows)} links {len(links)} mismatches {bad}")
PY
cat "$T/hour.cmp"
t_check "as-run rows: one per encoded link" \
	bash -c "tail -1 '$T/hour.cmp' | awk '{exit !(\$2 == \$4 && \$2 > 50)}'"
t_check "as-run starts and durations within one block of the audio" \
	grep -q 'mismatches 0$' "$T/hour.cmp"
t_check "songs cross into songs" \
	awk '$1 == "crossfades" { exit !($2 > 20) }' "$T/hour.cmp"
t_check "the 18:00 station ID starts on the hour in the encoded audio" \
	grep -q '^top of the hour: ID [0-9] at 1800000 ms' "$T/hour.cmp"
t_check "an ID at every hour of the day render" test "$(grep -cE \
	'^[0-9]{2}:00:00\|(day|night)\|Pulse Radio - ID' "$T/render.items")" = 24
t_check "the encoded hour is valid Ogg/Vorbis" ogg_valid "$T/hour.ogg"

# 2b. A slot whose files are all gone (deleted after the scan) falls back
# to the fallback playlist; the render goes on with no error.
mkdir "$T/gone"
cp "$T/short/s1.ogg" "$T/short/s2.ogg" "$T/gone/"
GONE=$T/gone.db
cp "$DB" "$GONE"
"$P" library scan "$T/gone" --db "$GONE" >/dev/null
(cd "$T/gone" && ls -- *.ogg >gone.m3u)
"$P" playlist import "$T/gone/gone.m3u" --db "$GONE" >/dev/null
"$P" db set fallback_playlist night --db "$GONE" >/dev/null
"$P" slot edit day --playlist gone --db "$GONE" >/dev/null
rm "$T/gone/"*.ogg
rc=0
"$P" render --from 2026-12-01T07:00 --hours 1 --db "$GONE" --asrun \
	"${RATE[@]}" --output null: 2>"$T/gone.log" || rc=$?
t_check "all files of a slot gone: the render goes on (exit $rc)" test "$rc" -eq 0
t_check "all files gone: one line each, not one per try" \
	test "$(grep -c 'gone/s[12].ogg' "$T/gone.log")" -le 4
n_night=$(python3 -c "import sqlite3; print(sqlite3.connect('$GONE').execute(\"SELECT count(*) FROM asrun WHERE title LIKE 'Night %'\").fetchone()[0])")
n_all=$(python3 -c "import sqlite3; print(sqlite3.connect('$GONE').execute(\"SELECT count(*) FROM asrun WHERE title NOT LIKE 'ID %'\").fetchone()[0])")
t_check "all files gone: the fallback playlist airs ($n_night of $n_all)" \
	test "$n_night" -eq "$n_all" -a "$n_all" -gt 50
# The hour covered without a hole (items overlap where they cross).
gap=$(python3 - "$GONE" <<'PY'
import sqlite3, sys, datetime
end, hole, first = None, 0, None
for s, d in sqlite3.connect(sys.argv[1]).execute(
        "SELECT started_at, duration_ms FROM asrun ORDER BY started_at"):
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
    first = t if first is None else first
    if end is not None and t > end:
        hole = max(hole, t - end)
    end = t + d if end is None else max(end, t + d)
print(f"{end - first:.0f} {hole:.0f}")
PY
)
t_check "all files gone: no dead air (an hour of as-run, longest hole: $gap ms)" \
	bash -c "set -- $gap; [ \$2 -le 200 ] && [ \$1 -ge 3599800 ]"

# 3. On air, an operator edits the slot: it takes effect at the next item.
LIVE=$T/live.db
cp "$DB" "$LIVE"
"$P" slot remove day --db "$LIVE" >/dev/null
"$P" slot remove night --db "$LIVE" >/dev/null
"$P" slot add all --days daily --start 00:00 --end 24:00 --playlist short \
	--db "$LIVE" >/dev/null
"$P" air --db "$LIVE" "${RATE[@]}" --output "file:$T/air.ogg" 2>"$T/air.log" &
pid=$!
lib_on_exit "kill -9 $pid"
sleep 5
edit_at=$(date -u +%Y-%m-%dT%H:%M:%S)
"$P" slot edit all --playlist night --db "$LIVE" >/dev/null
sleep 9
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
cat "$T/air.log"
t_check "air: exit 0 after SIGINT (got $rc)" test "$rc" -eq 0
t_check "air: the edit was noticed" grep -q 'schedule reloaded' "$T/air.log"
python3 - "$LIVE" "$edit_at" >"$T/air.rows" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT started_at, duration_ms, title FROM asrun ORDER BY id").fetchall()
for r in rows:
    print(("after " if r[0][:19] > sys.argv[2] else "before ") + "|".join(map(str, r)))
PY
cat "$T/air.rows"
t_check "air: short items before the edit" grep -q '^before .*|Short ' "$T/air.rows"
t_check "air: the night playlist after it" grep -q '^after .*|Night ' "$T/air.rows"
t_check "air: nothing from the old playlist starts a whole item after the edit" \
	bash -c "! grep '^after' '$T/air.rows' | tail -n +2 | grep -q '|Short '"
"$OGGCHECK" "$T/air.ogg" >"$T/air.check"
frames=$(awk '/^total_frames/ {print $2}' "$T/air.check")
logged=$(python3 -c "import sqlite3; print(sqlite3.connect('$LIVE').execute('SELECT sum(duration_ms) FROM asrun').fetchone()[0])")
t_check "air: no gap: the stream ($frames frames) is the as-run total ($logged ms)" \
	within "$((frames / 8))" "$logged" 300
t_done
