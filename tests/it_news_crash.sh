#!/usr/bin/env bash
# it_news_crash.sh - no bulletin lost, none aired twice, none marked aired
# that did not air, when the daemon is SIGKILLed at random moments.
#
# Eight rounds (a fixed seed, so a failure can be replayed): `air` runs in
# real time to null: at 8000 Hz mono, breaking bulletins are added while it
# runs (one per round), and after 1.5..6 s it is killed with SIGKILL,
# mid-song or mid-bulletin, and started again. Then it runs until the queue is empty
# (at most 90 s) and is stopped with SIGINT. Every accepted bulletin must
# then be aired exactly once: state 'aired' and exactly one complete
# as-run row; an as-run row exists only for bulletins that aired.
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO
DB=$T/pulse.db
RANDOM=4242 # the seed: the same kill times on every run
mkdir -p "$T/music"
for i in 1 2 3 4; do
	media_tone "$T/music/m$i.ogg" $((8 + i)) 8000 1 $((250 + i * 40)) \
		"Song $i" "Band $i" &
done
wait
p() { "$P" "$@" --db "$DB"; }
q() { sqlite3 "$DB" "$1"; }
p db init >/dev/null
p library scan "$T/music" >/dev/null
(cd "$T/music" && ls -- *.ogg >music.m3u)
p playlist import "$T/music/music.m3u" >/dev/null
p db set breaking_mode now >/dev/null
p db set title_separation_s 0 >/dev/null
p db set artist_separation_s 0 >/dev/null
p slot add all --days daily --start 00:00 --end 24:00 --playlist music >/dev/null

start() {
	"$P" air --db "$DB" --rate 8000 --channels 1 --output null: \
		2>>"$T/air.log" &
	pid=$!
}
lib_on_exit 'kill -9 $pid 2>/dev/null'
ids=()
n=0
for round in 1 2 3 4 5 6 7 8; do
	start
	sleep 0.$((RANDOM % 10))
	n=$((n + 1))
	ids+=("$(p bulletin add --breaking "Bulletin number $n. The water in ward $n is back on.")")
	ms=$((1500 + RANDOM % 4500))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	echo "round $round: killed after $ms ms; $(q "SELECT count(*) FROM bulletin
		WHERE state = 'aired'") of $n aired, $(q "SELECT count(*) FROM bulletin
		WHERE state = 'on_air'") left on air"
done
on_air_left=$(q "SELECT count(*) FROM bulletin WHERE state = 'on_air'")
echo "after the kills: $on_air_left on air"
start
left() { q "SELECT count(*) FROM bulletin WHERE state IN ('queued', 'rendered', 'on_air')"; }
# A function: wait_until runs it afresh each time (a "$(left)" argument
# would be read once, and the wait would always last the full 90 s).
none_left() { test "$(left)" = 0; }
wait_until 90 none_left || true
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
t_check "the last run stopped cleanly (exit $rc)" test "$rc" -eq 0
t_check "all ${#ids[@]} accepted bulletins are in the queue" \
	test "$(q "SELECT count(*) FROM bulletin")" = "${#ids[@]}"
t_check "every one aired ($(left) still waiting)" \
	test "$(q "SELECT count(*) FROM bulletin WHERE state = 'aired'")" = "${#ids[@]}"
twice=$(q "SELECT count(*) FROM (SELECT bulletin_id FROM asrun WHERE bulletin_id
	IS NOT NULL AND ended_early = 0 GROUP BY bulletin_id HAVING count(*) > 1)")
t_check "none aired twice" test "$twice" = 0
t_check "each aired one has exactly one complete as-run row" \
	test "$(q "SELECT count(*) FROM bulletin b WHERE state = 'aired' AND
		(SELECT count(*) FROM asrun a WHERE a.bulletin_id = b.id AND
		 ended_early = 0) = 1")" = "${#ids[@]}"
t_check "no as-run row for a bulletin that did not air" \
	test "$(q "SELECT count(*) FROM asrun a JOIN bulletin b ON b.id =
		a.bulletin_id WHERE a.ended_early = 0 AND b.state <> 'aired'")" = 0
t_check "the database is sound" test "$(q "PRAGMA integrity_check")" = ok
t_done
