#!/usr/bin/env bash
#
# it_schedule.sh - the programme commands on a real SQLite file: db,
# playlist, slot, override and asrun, through the real binary.
#
# Tracks are inserted with the sqlite3 CLI (library scan is tested on its
# own). Every refused command must exit 1 (2 for bad usage) with one line
# on stderr and leave the database byte for byte as it was: its SHA-256,
# its mtime and its .dump are compared before and after.
set -u
. "$PULSE_SRC/tests/lib.sh"

if ! command -v sqlite3 >/dev/null 2>&1; then
	echo "it_schedule: the sqlite3 CLI is missing (scripts/deps.sh)" >&2
	exit 1
fi
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
DB=$T/pulse.db
export PULSE_RADIO_DB=$T/not-this.db # --db must win

pr() {
	"$PULSE_RADIO" "$@" --db "$DB"
}

# The state of a file: content hash, mtime, and its SQL dump if it is one.
state() {
	sha256sum "$1"
	stat -c %Y.%y "$1"
	sqlite3 "$1" .dump 2>&1 | sha256sum
}

# refused FILE MSG RC PATTERN CMD [ARG..]: CMD exits RC, says one line
# matching PATTERN, and FILE is unchanged.
refused() {
	local file=$1 msg=$2 want=$3 pat=$4 before after rc
	shift 4
	before=$(state "$file")
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	after=$(state "$file")
	if ((rc != want)); then
		t_fail "$msg: exit $rc, want $want: $(cat "$T/err")"
	elif (($(wc -l <"$T/err") != 1)); then
		t_fail "$msg: want one line on stderr, got: $(cat "$T/err")"
	elif ! grep -q -- "$pat" "$T/err"; then
		t_fail "$msg: '$pat' not in: $(cat "$T/err")"
	elif [[ $before != "$after" ]]; then
		t_fail "$msg: the file changed"
	else
		t_ok "$msg ($(cat "$T/err"))"
	fi
}

# ok MSG CMD [ARG..]: exits 0; its stdout is in $T/out.
ok() {
	local msg=$1
	shift
	if "$@" >"$T/out" 2>"$T/err"; then
		t_ok "$msg"
	else
		t_fail "$msg: exit $?: $(cat "$T/err")"
	fi
}

# same MSG FILE: $T/out equals FILE exactly.
same() {
	if cmp -s "$T/out" "$2"; then
		t_ok "$1"
	else
		t_fail "$1: got:"
		cat "$T/out" >&2
		diff "$2" "$T/out" >&2
	fi
}

# The schema version this program knows: the last one in schema.sql.
V=$(sed -n 's/^-- @version \([0-9]*\)$/\1/p' "$PULSE_SRC/schema.sql" | tail -1)

# --- db ---------------------------------------------------------------
ok "db init creates the database" pr db init
t_check "db init says the version" grep -q "schema version $V" "$T/out"
t_check "only --db was used" test ! -e "$T/not-this.db"
ok "db init again is harmless" pr db init
ok "db version" pr db version
t_check "db version prints it" grep -qx "$V (this program knows $V)" "$T/out"
ok "db set timezone" pr db set timezone Europe/Berlin
ok "db get timezone" pr db get timezone
t_check "the zone was stored" grep -qx "Europe/Berlin" "$T/out"
refused "$DB" "db set: a path as zone" 1 "not a known time zone" \
	pr db set timezone ../../etc/passwd
refused "$DB" "db set: unknown zone" 1 "not a known time zone" \
	pr db set timezone Mars/Olympus
refused "$DB" "db set: separation not a number" 1 "whole number" \
	pr db set title_separation_s soon
refused "$DB" "db set: unknown key" 1 "unknown setting" \
	pr db set colour blue
refused "$DB" "db set: fallback playlist that does not exist" 1 \
	"no playlist 'nosuch'" pr db set fallback_playlist nosuch
"$PULSE_RADIO" db migrate --db "$T/missing.db" 2>"$T/err"
t_check "db migrate on a missing file fails, creates nothing" \
	test $? -eq 1 -a ! -e "$T/missing.db"

# --- tracks, made by hand ---------------------------------------------
mkdir -p "$T/music"
for f in a b c d j1 j2; do : >"$T/music/$f.ogg"; done
M=$T/music
sqlite3 "$DB" "INSERT INTO track(path, title, artist, album, duration_ms,
	cue_out_ms, file_size, file_mtime, added_at, scanned_at) VALUES
	('$M/a.ogg', 'Alpha', 'Ann', 'One', 180000, 180000, 1, 1, 'x', 'x'),
	('$M/b.ogg', 'Beta', 'Bob', 'One', 200500, 200500, 1, 1, 'x', 'x'),
	('$M/c.ogg', 'Gamma', '', 'Two', 61000, 61000, 1, 1, 'x', 'x'),
	('$M/j1.ogg', 'Station ID', '', '', 5000, 5000, 1, 1, 'x', 'x');"

# --- playlist ---------------------------------------------------------
printf '#EXTM3U\na.ogg\nb.ogg\nd.ogg\nmissing.ogg\nc.ogg\n' >"$M/day.m3u"
ok "playlist import: found entries imported" pr playlist import "$M/day.m3u"
t_check "import reports the count" \
	grep -qx "playlist 'day': 3 tracks imported, 1 not in the library" \
	"$T/out"
t_check "import reports the entry not in the library" \
	grep -q "d.ogg is not in the library" "$T/err"
printf '1  Ann - Alpha  0:03:00\n2  Bob - Beta  0:03:21\n3  Gamma  0:01:01\n' |
	sed 's/^/   /' >"$T/want"
ok "playlist show" pr playlist show day
same "playlist show lists position, artist - title, duration" "$T/want"
printf 'c.ogg\na.ogg\n' >"$M/day2.m3u"
ok "re-import replaces the items" pr playlist import "$M/day2.m3u" --name day
printf '   1  Gamma  0:01:01\n   2  Ann - Alpha  0:03:00\n' >"$T/want"
ok "playlist show after re-import" pr playlist show day
same "the new items, in the new order" "$T/want"
printf 'j1.ogg\nj2.ogg\n' >"$M/ids.m3u"
ok "playlist import of jingles" pr playlist import "$M/ids.m3u"
printf 'b.ogg\n' >"$M/spare.m3u"
ok "playlist import of a spare list" pr playlist import "$M/spare.m3u"
ok "playlist import under another name" pr playlist import "$M/spare.m3u" \
	--name holiday
ok "playlist import of one to remove" pr playlist import "$M/spare.m3u" \
	--name old
ok "playlist remove of an unused one" pr playlist remove old
t_check "its items went with it" test "$(sqlite3 "$DB" \
	"SELECT count(*) FROM playlist_item WHERE playlist_id NOT IN
	 (SELECT id FROM playlist)")" = 0
refused "$DB" "playlist show: unknown" 1 "no playlist 'old'" \
	pr playlist show old
refused "$DB" "playlist remove: unknown" 1 "no playlist 'old'" \
	pr playlist remove old
printf 'd.ogg\nj2.ogg\n' >"$M/none.m3u"
before=$(state "$DB")
pr playlist import "$M/none.m3u" >/dev/null 2>"$T/err"
t_check "an import with nothing in the library fails" test $? -eq 1
t_check "and says so" grep -q "no entry is in the library" "$T/err"
t_check "and changes nothing" test "$before" = "$(state "$DB")"
refused "$DB" "playlist import: a name too long" 1 "1 to 100" \
	pr playlist import "$M/spare.m3u" --name "$(printf 'x%.0s' {1..101})"
refused "$DB" "playlist import: no such file" 1 "cannot read" \
	pr playlist import "$M/nope.m3u"
cat >"$T/want" <<'LIST'
NAME                            ITEMS   DURATION
day                                 2    0:04:01
holiday                             1    0:03:21
ids                                 1    0:00:05
spare                               1    0:03:21
LIST
ok "playlist list" pr playlist list
same "playlist list: name, items, total duration" "$T/want"

# --- slot -------------------------------------------------------------
ok "slot add breakfast" pr slot add breakfast --days mon-fri --start 06:00 \
	--end 09:00 --playlist day --jingles ids --jingle-every 4 --news 30,0
ok "slot add crossing midnight" pr slot add late --days sat --start 23:00 \
	--end 01:00 --playlist spare --mode hard
ok "slot add Sunday only" pr slot add sunday --days sun --start 10:00 \
	--end 12:00 --playlist day --crossfade-ms 500 --mode not-before \
	--tolerance 30
ok "slot add Sunday night into Monday" pr slot add sunnight --days sun \
	--start 23:00 --end 00:30 --playlist day
ok "slot add to midnight" pr slot add evening --days fri --start 20:00 \
	--end 24:00 --playlist day

refused "$DB" "slot: overlap on a weekday" 1 "overlaps slot 'breakfast'" \
	pr slot add clash --days wed --start 08:00 --end 10:00 --playlist day
refused "$DB" "slot: overlap with one crossing midnight" 1 \
	"overlaps slot 'late'.*on Sun at 00:30" \
	pr slot add clash --days sun --start 00:30 --end 02:00 --playlist day
refused "$DB" "slot: Sunday night wraps into Monday" 1 \
	"overlaps slot 'sunnight'.*on Mon at 00:00" \
	pr slot add clash --days mon --start 00:00 --end 01:00 --playlist day
refused "$DB" "slot: crossing midnight into another" 1 \
	"overlaps slot 'breakfast'" \
	pr slot add clash --days sun --start 22:00 --end 06:30 --playlist day
refused "$DB" "slot: 00:00-24:00 is the whole day" 1 \
	"overlaps slot 'late'.*on Sat at 23:00" \
	pr slot add clash --days sat --start 00:00 --end 24:00 --playlist day
refused "$DB" "slot: end equals start" 1 "ends when it starts" \
	pr slot add clash --days tue --start 12:00 --end 12:00 --playlist day
refused "$DB" "slot: unknown playlist" 1 "no playlist 'nosuch'" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist nosuch
refused "$DB" "slot: unknown jingle playlist" 1 "no playlist 'nojingles'" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist day \
	--jingles nojingles --jingle-every 2
refused "$DB" "slot: jingles without how often" 1 "needs --jingle-every" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist day \
	--jingles ids
refused "$DB" "slot: bad time 25:00" 1 "bad --start '25:00'" \
	pr slot add clash --days tue --start 25:00 --end 13:00 --playlist day
refused "$DB" "slot: bad time 6am" 1 "bad --end '6am'" \
	pr slot add clash --days tue --start 05:00 --end 6am --playlist day
refused "$DB" "slot: 24:00 is no start" 1 "bad --start" \
	pr slot add clash --days tue --start 24:00 --end 01:00 --playlist day
refused "$DB" "slot: bad day" 1 "bad --days 'funday'" \
	pr slot add clash --days funday --start 12:00 --end 13:00 --playlist day
refused "$DB" "slot: news minute 60" 1 "bad --news '0,60'" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist day \
	--news 0,60
refused "$DB" "slot: bad mode" 1 "bad --mode" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist day \
	--mode later
refused "$DB" "slot: bad news mode" 1 "bad --news-mode 'late'" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist day \
	--news 0 --news-mode late
refused "$DB" "slot: bad ID mode" 1 "bad --id-mode 'sometimes'" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist day \
	--ids ids --id-mode sometimes
refused "$DB" "slot: unknown ID playlist" 1 "no playlist 'noids'" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist day \
	--ids noids
refused "$DB" "slot: crossfade out of range" 1 "bad --crossfade-ms" \
	pr slot add clash --days tue --start 12:00 --end 13:00 --playlist day \
	--crossfade-ms 30001
refused "$DB" "slot: a name taken" 1 "already exists" \
	pr slot add breakfast --days tue --start 12:00 --end 13:00 --playlist day
refused "$DB" "slot: missing options are bad usage" 2 "required" \
	pr slot add clash --days tue --start 12:00
refused "$DB" "slot: unknown action is bad usage" 2 "unknown action" \
	pr slot frobnicate
refused "$DB" "slot edit: an overlap keeps the old slot" 1 \
	"overlaps slot 'breakfast'" \
	pr slot edit sunday --days mon --start 08:30 --end 12:00
refused "$DB" "slot edit: unknown slot" 1 "no slot 'nosuch'" \
	pr slot edit nosuch --start 01:00
refused "$DB" "slot edit: bad time" 1 "bad --end" \
	pr slot edit sunday --end 12:61
refused "$DB" "slot remove: unknown slot" 1 "no slot 'nosuch'" \
	pr slot remove nosuch
refused "$DB" "playlist remove: used by a slot" 1 "used by slot" \
	pr playlist remove spare

ok "slot edit moves a slot" pr slot edit sunday --start 11:00 --end 13:30 \
	--news 0 --news-mode soft
ok "slot edit may keep its own time" pr slot edit breakfast --news 15 \
	--jingles "" --jingle-every 0
ok "slot edit: station IDs on the hour" pr slot edit late --ids ids \
	--id-mode soft
refused "$DB" "playlist remove: the IDs of a slot" 1 "used by slot 'late'" \
	pr playlist remove ids
cat >"$T/want" <<'GRID'
Mon 06:00-09:00  breakfast: playlist day, news at 15 (hard), crossfade 3000 ms, soft start
Tue 06:00-09:00  breakfast: playlist day, news at 15 (hard), crossfade 3000 ms, soft start
Wed 06:00-09:00  breakfast: playlist day, news at 15 (hard), crossfade 3000 ms, soft start
Thu 06:00-09:00  breakfast: playlist day, news at 15 (hard), crossfade 3000 ms, soft start
Fri 06:00-09:00  breakfast: playlist day, news at 15 (hard), crossfade 3000 ms, soft start
Fri 20:00-24:00  evening: playlist day, crossfade 3000 ms, soft start
Sat 23:00-01:00 (to Sun)  late: playlist spare, crossfade 3000 ms, hard start, IDs ids on the hour (soft)
Sun 11:00-13:30  sunday: playlist day, news at 0 (soft), crossfade 500 ms, not-before start (tolerance 30 s)
Sun 23:00-00:30 (to Mon)  sunnight: playlist day, crossfade 3000 ms, soft start
GRID
ok "slot list" pr slot list
same "slot list: the week by day and time" "$T/want"
ok "slot remove" pr slot remove evening
t_check "a removed slot is gone" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM slot WHERE name = 'evening'")" = 0
ok "slot add with jingles" pr slot add evening --days fri --start 20:00 \
	--end 22:00 --playlist day --jingles ids --jingle-every 3
t_check "jingles stored" test "$(sqlite3 "$DB" \
	"SELECT j.name || '/' || s.jingle_every FROM slot s JOIN playlist j ON
	 j.id = s.jingle_playlist_id WHERE s.name = 'evening'")" = "ids/3"

ok "slot edit: no IDs" pr slot edit late --ids ""
t_check "IDs removed, the mode kept" test "$(sqlite3 "$DB" \
	"SELECT ifnull(id_playlist_id, '-') || '/' || id_mode FROM slot
	 WHERE name = 'late'")" = "-/soft"

# --- a version 1 database is migrated, its rows kept -----------------
sed '/^-- @version 2/,$d' "$PULSE_SRC/schema.sql" >"$T/v1.sql"
sqlite3 "$T/v1.db" <"$T/v1.sql"
sqlite3 "$T/v1.db" "PRAGMA user_version = 1;
	INSERT INTO playlist(id, name) VALUES (1, 'old');
	INSERT INTO slot(name, days, start_min, end_min, playlist_id)
	VALUES ('kept', 127, 60, 120, 1);"
ok "db migrate from version 1" "$PULSE_RADIO" db migrate --db "$T/v1.db"
t_check "migrated to version $V" \
	test "$(sqlite3 "$T/v1.db" "PRAGMA user_version")" = "$V"
t_check "the slot kept, with no IDs, mode hard" test "$(sqlite3 "$T/v1.db" \
	"SELECT name || '/' || ifnull(id_playlist_id, '-') || '/' || id_mode
	 FROM slot")" = "kept/-/hard"
refused "$T/v1.db" "a migrated database still checks the ID mode" 1 \
	"bad --id-mode" "$PULSE_RADIO" slot edit kept --id-mode x \
	--db "$T/v1.db"

# --- not ours ---------------------------------------------------------
printf 'station notes, not a database\n%.0s' {1..40} >"$T/notes.txt"
refused "$T/notes.txt" "a text file is not a database" 1 \
	"not an SQLite database" \
	"$PULSE_RADIO" slot list --db "$T/notes.txt"
refused "$T/notes.txt" "db init refuses a text file" 1 \
	"not an SQLite database" \
	"$PULSE_RADIO" db init --db "$T/notes.txt"
sqlite3 "$T/newer.db" "CREATE TABLE future(a); PRAGMA user_version = 7;"
refused "$T/newer.db" "a newer schema is refused" 1 \
	"newer Pulse Radio (schema 7, this program knows $V); not touched" \
	"$PULSE_RADIO" slot add x --days mon --start 01:00 --end 02:00 \
	--playlist day --db "$T/newer.db"
refused "$T/newer.db" "db migrate refuses a newer schema" 1 "schema 7" \
	"$PULSE_RADIO" db migrate --db "$T/newer.db"
sqlite3 "$T/other.db" "CREATE TABLE contacts(name); INSERT INTO contacts VALUES ('x');"
refused "$T/other.db" "another program's database is refused" 1 \
	"not a Pulse Radio database" \
	"$PULSE_RADIO" db init --db "$T/other.db"

# --- override (station zone Europe/Berlin) ----------------------------
ok "override add on a date" pr override add xmas --from 2026-12-24 \
	--to "2026-12-27 06:00" --playlist holiday
ok "override add in summer time" pr override add concert \
	--from "2026-07-01 20:00" --to "2026-07-01T22:30" --playlist day \
	--mode soft
t_check "stored in UTC" test "$(sqlite3 "$DB" "SELECT starts_at || ' ' ||
	ends_at FROM override ORDER BY starts_at" | tr '\n' '|')" = \
	"2026-07-01T18:00:00.000Z 2026-07-01T20:30:00.000Z|2026-12-23T23:00:00.000Z 2026-12-27T05:00:00.000Z|"
cat >"$T/want" <<'OV'
2  concert: 2026-07-01 20:00:00 CEST .. 2026-07-01 22:30:00 CEST (2026-07-01T18:00:00.000Z .. 2026-07-01T20:30:00.000Z), playlist day, soft start
1  xmas: 2026-12-24 00:00:00 CET .. 2026-12-27 06:00:00 CET (2026-12-23T23:00:00.000Z .. 2026-12-27T05:00:00.000Z), playlist holiday, hard start
OV
ok "override list" pr override list
same "override list: local and UTC" "$T/want"
refused "$DB" "override: end before start" 1 "is not after" \
	pr override add x --from 2026-12-20 --to 2026-12-19 --playlist day
refused "$DB" "override: end equals start" 1 "is not after" \
	pr override add x --from "2026-12-20 10:00" --to "2026-12-20 10:00" \
	--playlist day
refused "$DB" "override: bad date" 1 "bad --from '2026-02-30'" \
	pr override add x --from 2026-02-30 --to 2026-03-02 --playlist day
refused "$DB" "override: bad time" 1 "bad --to" \
	pr override add x --from 2026-03-01 --to "2026-03-02 25:00" --playlist day
refused "$DB" "override: unknown playlist" 1 "no playlist 'nosuch'" \
	pr override add x --from 2026-03-01 --to 2026-03-02 --playlist nosuch
refused "$DB" "override: overlapping another" 1 "overlaps override 1 'xmas'" \
	pr override add x --from "2026-12-26 12:00" --to 2026-12-28 \
	--playlist day
refused "$DB" "override: bad mode" 1 "bad --mode" \
	pr override add x --from 2026-03-01 --to 2026-03-02 --playlist day \
	--mode maybe
refused "$DB" "override remove: unknown" 1 "no override 'nosuch'" \
	pr override remove nosuch
refused "$DB" "playlist remove: used by an override" 1 "used by override" \
	pr playlist remove holiday
ok "override add right after another" pr override add boxing \
	--from "2026-12-27 06:00" --to 2026-12-28 --playlist day
ok "override remove by name" pr override remove boxing
ok "override remove by id" pr override remove 2
t_check "one override left" \
	test "$(sqlite3 "$DB" "SELECT group_concat(name) FROM override")" = xmas

# --- asrun export -----------------------------------------------------
sqlite3 "$DB" "INSERT INTO asrun(started_at, duration_ms, path, title,
	artist, album) VALUES
	('2026-11-25T22:59:59.999Z', 1000, '/m/x', 'Before', 'A', 'B'),
	('2026-11-25T23:00:00.000Z', 180000, '/m/a', 'Plain', 'Ann', 'One'),
	('2026-11-26T06:30:00.000Z', 3723400, '/m/h',
	 '=HYPERLINK(\"http://x\"), ok' || char(10) || 'line 2', '+Band',
	 'Al, bum'),
	('2026-11-26T12:00:00.000Z', 500, '/m/q', 'Say \"hi\"', '@me', '-1'),
	('2026-11-26T23:00:00.000Z', 1000, '/m/y', 'After', 'A', 'B');"
printf '%s' $'date,time,duration,title,artist,album\r\n'\
$'2026-11-26,00:00:00,0:03:00,Plain,Ann,One\r\n'\
$'2026-11-26,07:30:00,1:02:03,"\'=HYPERLINK(""http://x""), ok\nline 2",'\
$'\'+Band,"Al, bum"\r\n'\
$'2026-11-26,13:00:00,0:00:01,"Say ""hi""",\'@me,\'-1\r\n' >"$T/want.csv"
ok "asrun export to a file" pr asrun export --from 2026-11-26 \
	--to 2026-11-27 --output "$T/day.csv"
t_check "asrun export: exact CSV" cmp "$T/day.csv" "$T/want.csv"
ok "asrun export to stdout" pr asrun export --from 2026-11-26 --to 2026-11-27
same "stdout has the same CSV" "$T/want.csv"
refused "$DB" "asrun: bad date" 1 "bad --from" \
	pr asrun export --from 2026-11-31 --to 2026-12-01 --output "$T/none.csv"
refused "$DB" "asrun: to before from" 1 "is not after" \
	pr asrun export --from 2026-11-27 --to 2026-11-26
refused "$DB" "asrun: missing --to is bad usage" 2 "required" \
	pr asrun export --from 2026-11-27
t_check "a failed export leaves no file" test ! -e "$T/none.csv"

t_done
