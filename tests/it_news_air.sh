#!/usr/bin/env bash
# it_news_air.sh - news on air, on the wall clock: breaking news within
# its latency ("now, with a fade" and "after the current item"), and the
# drop folder (queued and moved to done/, a bad file to failed/ with its
# reason, a file still being written not read half-way).
#
# `air` runs in real time to the null: output at 8000 Hz mono; times are
# read from the as-run log, which says when each item's first sample went
# out (programme time, paced from the monotonic clock).
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO
DB=$T/pulse.db
mkdir -p "$T/music" "$T/drop"
for i in $(seq 1 8); do
	media_tone "$T/music/m$i.ogg" $((25 + i)) 8000 1 $((200 + i * 30)) \
		"Song $i" "Band $i" &
done
media_tone "$T/music/intro.ogg" 1 8000 1 1000 "Breaking intro" "Pulse Radio" &
wait
p() { "$P" "$@" --db "$DB"; }
q() { sqlite3 "$DB" "$1"; }
p db init >/dev/null
p library scan "$T/music" >/dev/null
(cd "$T/music" && ls -- m*.ogg >music.m3u && echo intro.ogg >intro.m3u)
p playlist import "$T/music/music.m3u" >/dev/null
p playlist import "$T/music/intro.m3u" >/dev/null
p db set news_intro_playlist intro >/dev/null
p db set breaking_mode now >/dev/null
p db set title_separation_s 0 >/dev/null
p db set artist_separation_s 0 >/dev/null
p db set speech_idle_s 3 >/dev/null
p slot add all --days daily --start 00:00 --end 24:00 --playlist music >/dev/null

"$P" air --db "$DB" --rate 8000 --channels 1 --output null: \
	--drop "$T/drop" 2>"$T/air.log" &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"
lib_log_on_fail "$T/air.log"
# (wait_until takes a command: a $(...) in its arguments would be read
# once, before the wait, and the wait would always run to its end.)
first_row() { test -n "$(q "SELECT 1 FROM asrun LIMIT 1" 2>/dev/null)"; }
wait_until 10 first_row ||
	sleep 3 # the first item is on air; its row comes when it ends

# Seconds from `bulletin add` (wall clock) to the bulletin's first sample.
latency() { # ID ADDED_EPOCH_S
	python3 - "$DB" "$1" "$2" <<'PY'
import sqlite3, sys, datetime
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT started_at FROM asrun WHERE bulletin_id = ? AND ended_early = 0",
    (int(sys.argv[2]),)).fetchone()
if row:
    t = datetime.datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
    print(f"{t - float(sys.argv[3]):.2f}")
PY
}
aired() { test -n "$(q "SELECT 1 FROM asrun WHERE bulletin_id = $1 AND ended_early = 0")"; }

# 1. Breaking, "now, with a fade".
sleep 2
added=$(date +%s.%N)
B1=$(p bulletin add --breaking "Breaking news. A burst water main closes Main Road in Fordsburg.")
wait_until 20 aired "$B1" || true
l1=$(latency "$B1" "$added")
echo "breaking (now): on air ${l1:-never} s after it was added"
t_check "breaking news, 'now': on air within 10 s (${l1:-never} s)" \
	within "${l1:-99}" 5 5
t_check "the song playing was faded for it" grep -q 'faded out for what comes next' "$T/air.log"
t_check "an intro before the breaking bulletin" test "$(q "SELECT title FROM asrun
	WHERE id = (SELECT id - 1 FROM asrun WHERE bulletin_id = $B1)")" = "Breaking intro"

# 2. Breaking, "after the current item" (the edit is picked up at the next
# item): within the latency, by waiting or by a fade at its deadline.
p db set breaking_mode after-item >/dev/null
p db set breaking_latency_s 10 >/dev/null
n0=$(q "SELECT count(*) FROM asrun")
two_more() { test "$(q "SELECT count(*) FROM asrun")" -gt $((n0 + 1)); }
wait_until 40 two_more || true
added=$(date +%s.%N)
B2=$(p bulletin add --breaking --lang af "Dringende nuus. Die krag is af in Soweto tot drie-uur.")
wait_until 25 aired "$B2" || true
l2=$(latency "$B2" "$added")
echo "breaking (after-item): on air ${l2:-never} s after it was added"
t_check "breaking news, 'after-item': on air within 10 s (${l2:-never} s)" \
	within "${l2:-99}" 5 5
# The fade starts at its deadline (the feed names it; the block ends
# there), so the bulletin starts the half second of spare before it.
t_check "the log says how long each breaking bulletin waited, none too long" \
	eval "grep -q 'breaking bulletin $B1 on air' '$T/air.log' &&
		grep -q 'breaking bulletin $B2 on air' '$T/air.log' &&
		! grep -q 'later than breaking_latency_s' '$T/air.log'"

# 3. The drop folder.
printf 'Language: af\nPriority: normal\nBy: comms desk\n\nDie biblioteek is Maandag gesluit.\n' \
	>"$T/drop/.good.tmp"
mv "$T/drop/.good.tmp" "$T/drop/good.txt"
printf 'Priority: urgent\n\nThis has a bad header.\n' >"$T/drop/bad.txt"
wait_until 10 test -e "$T/drop/done/good.txt" -a -e "$T/drop/failed/bad.txt" || true
t_check "a dropped file is moved to done/" test -e "$T/drop/done/good.txt"
t_check "and queued, in Afrikaans, from the comms desk" test "$(q "SELECT lang || '|' ||
	submitted_by FROM bulletin WHERE text LIKE 'Die biblioteek%'")" = "af|comms desk"
t_check "a bad header goes to failed/ with a reason naming it" \
	grep -qi 'priority' "$T/drop/failed/bad.txt.reason"
t_check "nothing queued from the bad file" \
	test "$(q "SELECT count(*) FROM bulletin WHERE text LIKE '%bad header%'")" = 0

# A writer that holds the file open and pauses: not read half-way.
exec 3>"$T/drop/slow.txt"
printf 'The first half of the text, ' >&3
sleep 3
t_check "a file still being written is not taken" \
	test -e "$T/drop/slow.txt" -a "$(q "SELECT count(*) FROM bulletin WHERE text LIKE 'The first half%'")" = 0
printf 'and the second half.\n' >&3
exec 3>&-
wait_until 15 test -e "$T/drop/done/slow.txt" || true
t_check "once closed it is taken, whole" test "$(q "SELECT text FROM bulletin
	WHERE text LIKE 'The first half%'")" = "The first half of the text, and the second half."

# The speech helper (pulse-radio-speak, the daemon's child) stops when it
# has been idle speech_idle_s (3 s here); the next bulletin starts another.
helper() { pgrep -P "$pid" -f pulse-radio-speak || true; }
no_helper() { [[ -z $(helper) ]]; }
wait_until 15 no_helper || true
t_check "the idle speech helper stopped" no_helper
p db set breaking_mode now >/dev/null
id=$(p bulletin add --breaking "After the helper stopped, one more bulletin.")
wait_until 20 aired "$id" || true
t_check "a fresh helper spoke the next bulletin, and it aired" aired "$id"
t_check "and it is marked aired" test "$(q "SELECT state FROM bulletin WHERE id = $id")" = aired
t_check "its stops are logged" \
	test "$(grep -c 'speech helper was idle' "$T/air.log")" -ge 1

kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
t_check "air: exit 0 after SIGINT (got $rc)" test "$rc" -eq 0
t_check "no error in the log" bash -c "! grep -q '^error' '$T/air.log'" ||
	grep '^error' "$T/air.log"
t_done
