#!/usr/bin/env bash
#
# it_plan.sh - "pulse-radio plan" through the real binary: a day of
# programme from a database made with db init, tracks inserted with
# python3's sqlite3, playlist import and slot add.
#
# The one thing to know: track lengths are whole seconds, so the m:ss
# lengths in the log add up exactly and continuity is checked to the
# second; plan must leave the database file byte for byte as it was.
set -u
. "$PULSE_SRC/tests/lib.sh"

T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
DB=$T/pulse.db
M=$T/music
mkdir -p "$M"

pr() {
	"$PULSE_RADIO" "$@" --db "$DB"
}

t_check "db init" pr db init
python3 - "$DB" "$M" <<'PY'
import sqlite3, sys
db, m = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
rows = []
for i in range(1, 61):
    artist = "Artist %02d" % (i % 20)
    if i % 7 == 0:
        artist += " feat. Artist %02d" % ((i + 5) % 20)
    ms = (150 + (i * 37) % 200) * 1000
    rows.append(("%s/t%02d.ogg" % (m, i), "Song %d" % i, artist, ms))
for i in range(1, 4):
    rows.append(("%s/id%d.ogg" % (m, i), "Station ID %d" % i, "", 8000 + i * 1000))
for path, title, artist, ms in rows:
    open(path, "w").close()
    con.execute("INSERT INTO track(path, title, artist, duration_ms, "
                "cue_out_ms, file_size, file_mtime, added_at, scanned_at) "
                "VALUES (?, ?, ?, ?, ?, 1, 1, 'x', 'x')",
                (path, title, artist, ms, ms))
con.commit()
PY
: >"$M/day.m3u"
: >"$M/all.m3u"
for i in $(seq -w 1 40); do echo "t$i.ogg" >>"$M/day.m3u"; done
for i in $(seq -w 1 60); do echo "t$i.ogg" >>"$M/all.m3u"; done
printf 'id1.ogg\nid2.ogg\nid3.ogg\n' >"$M/ids.m3u"
t_check "playlist import day" pr playlist import "$M/day.m3u"
t_check "playlist import all" pr playlist import "$M/all.m3u"
t_check "playlist import ids" pr playlist import "$M/ids.m3u"
t_check "fallback playlist" pr db set fallback_playlist all
t_check "slot add breakfast (hard, jingles)" pr slot add breakfast \
	--days mon-fri --start 06:00 --end 09:00 --playlist day --jingles ids \
	--jingle-every 3 --mode hard
t_check "slot add midday (soft)" pr slot add midday --days mon-fri \
	--start 09:00 --end 12:00 --playlist all
t_check "slot add night (crossing midnight, hard)" pr slot add night \
	--days tue --start 23:00 --end 01:00 --playlist day --mode hard

before=$(sha256sum "$DB")
pr plan --from "2026-12-01T05:00" --hours 24 >"$T/plan" 2>"$T/err"
t_check "plan exits 0" test $? -eq 0
t_check "plan says nothing on stderr" test ! -s "$T/err"
t_check "the database is unchanged" test "$before" = "$(sha256sum "$DB")"
t_check "it starts with the day" test "$(head -n 1 "$T/plan")" = \
	"Tue 2026-12-01"
t_check "the first item at the requested time" \
	grep -q '^05:00:00  -  ' <(sed -n 2p "$T/plan")
t_check "the next day has a header" grep -qx "Wed 2026-12-02" "$T/plan"

# Parses the log and checks it, one message per problem.
check_log() {
	python3 - "$1" <<'PY'
import re, sys
line_re = re.compile(r'^(\d\d):(\d\d):(\d\d)  (\S+)\s+(music|jingle|fallback)'
                     r'\s+(.*)  (\d+):(\d\d)( \(cut\))?$')
items, day, bad = [], -1, []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if re.match(r'^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d$', line):
        day += 1
        continue
    m = line_re.match(line)
    if not m:
        bad.append("unparsed: " + line)
        continue
    h, mi, s = int(m[1]), int(m[2]), int(m[3])
    items.append(dict(t=day * 86400 + h * 3600 + mi * 60 + s, slot=m[4],
                      kind=m[5], name=m[6], len=int(m[7]) * 60 + int(m[8]),
                      cut=bool(m[9])))
def want(t):
    d, x = divmod(t, 86400)
    if 6 * 3600 <= x < 9 * 3600 and d == 0:
        return "breakfast"
    if 9 * 3600 <= x < 12 * 3600 and d == 0:
        return "midday"
    if (d == 0 and x >= 23 * 3600) or (d == 1 and x < 3600):
        return "night"
    if d == 1 and 6 * 3600 <= x < 9 * 3600:
        return "breakfast"
    if d == 1 and 9 * 3600 <= x < 12 * 3600:
        return "midday"
    return "-"
start = 5 * 3600
crossed = 0
for i, it in enumerate(items):
    # Music crosses into music (3 s, the default crossfade): the next
    # starts that much before the end of the one before.
    end = items[i - 1]["t"] + items[i - 1]["len"] if i else 0
    if i and it["t"] == end - 3 and it["kind"] in ("music", "fallback") \
            and items[i - 1]["kind"] in ("music", "fallback"):
        crossed += 1
    elif i and it["t"] != end:
        bad.append("gap before item %d" % i)
    if it["slot"] != want(it["t"]):
        bad.append("item %d at %d: slot %s, want %s" % (i, it["t"], it["slot"], want(it["t"])))
    if it["slot"] == "-" and it["kind"] != "fallback":
        bad.append("item %d: no slot but %s" % (i, it["kind"]))
    if it["cut"] and (it["t"] + it["len"]) % 86400 not in (6 * 3600, 23 * 3600):
        bad.append("item %d cut, not at a hard start" % i)
if items[0]["t"] != start:
    bad.append("first item not at 05:00")
if items[-1]["t"] + items[-1]["len"] < start + 24 * 3600:
    bad.append("the plan ends before 24 h")
if items[-1]["t"] >= start + 24 * 3600:
    bad.append("an item starts after 24 h")
for ev in (6 * 3600, 23 * 3600):
    if not any(it["t"] == ev for it in items):
        bad.append("nothing starts at the hard start %d" % ev)
# A jingle after every 3 tracks of breakfast.
count, prev = 0, None
for i, it in enumerate(items):
    if it["slot"] != prev:
        count, prev = 0, it["slot"]
    if it["kind"] == "jingle":
        if it["slot"] != "breakfast" or count != 3:
            bad.append("item %d: jingle after %d" % (i, count))
        count = 0
    else:
        if it["slot"] == "breakfast" and count == 3:
            bad.append("item %d: a jingle was due" % i)
        count += 1
if sum(it["kind"] == "jingle" for it in items) < 10:
    bad.append("too few jingles")
print("music crossed into music %d times" % crossed, file=sys.stderr)
if crossed < 50:
    bad.append("too few crossfades")
for b in bad[:10]:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
t_check "the log: continuous, right slots, hard starts, jingles" \
	check_log "$T/plan"
grep -c '' "$T/plan" | sed 's/^/plan lines: /'

# exit MSG RC CMD...: CMD exits RC with one line on stderr.
exits() {
	local msg=$1 want=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if ((rc == want)) && (($(wc -l <"$T/err") == 1)); then
		t_ok "$msg ($(cat "$T/err"))"
	else
		t_fail "$msg: exit $rc, want $want: $(cat "$T/err")"
	fi
}
exits "a bad date" 1 pr plan --from 2026-02-30T06:00 --hours 2
exits "a bad time" 1 pr plan --from "2026-12-01 25:00" --hours 2
exits "--hours 0" 1 pr plan --from 2026-12-01T06:00 --hours 0
exits "--hours 169" 1 pr plan --from 2026-12-01T06:00 --hours 169
exits "--hours not a number" 1 pr plan --from 2026-12-01T06:00 --hours x
exits "no --hours is bad usage" 2 pr plan --from 2026-12-01T06:00
exits "a missing database" 1 "$PULSE_RADIO" plan --from 2026-12-01T06:00 \
	--hours 2 --db "$T/none.db"
t_check "and none was made" test ! -e "$T/none.db"
sqlite3_empty() {
	python3 -c 'import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("DELETE FROM playlist_item")
con.commit()' "$DB"
}
sqlite3_empty
before=$(sha256sum "$DB")
exits "nothing playable" 1 pr plan --from 2026-12-01T06:00 --hours 2
t_check "a failed plan leaves the database as it was" \
	test "$before" = "$(sha256sum "$DB")"
t_done
