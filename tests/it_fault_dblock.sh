#!/usr/bin/env bash
# it_fault_dblock.sh - the station database locked by another writer for
# 30 s while the daemon streams to a real Icecast on 127.0.0.1 (issue 7,
# faults):
#  - the stream goes on with no gap: a listener across the lock decodes as
#    many seconds as it listened (within 2 %), no underrun in /metrics, no
#    "fell behind" in the log;
#  - nothing is lost: the as-run rows of the items that aired during the
#    lock are written once it is released, each with its real start time
#    (the "on air" log line's wall time, within 1 s), and the rows tile
#    the programme with no hole;
#  - two breaking bulletins queued (and spoken) before the lock, due
#    during it, air during it and are marked aired exactly once, each with
#    one as-run row that starts inside the lock;
#  - a bulletin POSTed during the lock is refused at once with 503 and a
#    Retry-After (nothing queued), the API keeps answering, and the same
#    bulletin POSTed after the lock is queued (201) and airs once;
#  - the schedule is reloaded after the lock (the locker wrote), SIGTERM
#    ends the daemon cleanly, and the database is sound.
# The lock is python3's sqlite3 module holding BEGIN EXCLUSIVE (with a
# write pending) in a process of its own. The database is in WAL mode, so
# reads go on under a writer's lock; a lock that stops readers too
# (locking_mode EXCLUSIVE) cannot be taken at all while the daemon has
# the file open (it fails with "database is locked").
set -euo pipefail
: "${PULSE_RADIO:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
[ -n "${KEEP_T:-}" ] || lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO
LOCK_S=30

# Short items (6 to 10 s), so several start and end inside the lock.
mkdir -p "$T/music"
for i in 1 2 3 4 5; do
	media_tone "$T/music/t$i.ogg" $((5 + i)) 44100 2 $((300 + i * 50)) \
		"Tone $i" "Band $i" &
done
wait
DB=$T/pulse.db
p() { "$P" "$@" --db "$DB"; }
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
p db init >/dev/null
p library scan "$T/music" >/dev/null
(cd "$T/music" && ls -- *.ogg >music.m3u)
p playlist import "$T/music/music.m3u" >/dev/null
p slot add all --days daily --start 00:00 --end 24:00 --playlist music \
	--crossfade-ms 0 \
	>/dev/null
# No crossfade: the as-run rows must tile the programme exactly. Breaking
# news waits for the item on air to end (latency an hour: never faded).
for kv in "crossfade_ms 0" "title_separation_s 0" "artist_separation_s 0" \
	"breaking_mode after-item" "breaking_latency_s 3600"; do
	# shellcheck disable=SC2086
	p db set $kv >/dev/null
done
ice_start
printf '%s\n' "$ICE_PASS" >"$T/pass"
TOKEN=tok$RANDOM$RANDOM$RANDOM$RANDOM$RANDOM
printf 'newsdesk %s\n' "$TOKEN" >"$T/tokens"
HPORT=$(free_port)
cat >"$T/pulse.conf" <<EOF
[station]
name = Pulse DB lock test
database = $DB
[output main]
url = icecast://source@127.0.0.1:$ICE_PORT/radio.ogg
password_file = $T/pass
[http]
bind = 127.0.0.1:$HPORT
token_file = $T/tokens
EOF
chmod 600 "$T/pass" "$T/tokens" "$T/pulse.conf"
U=http://127.0.0.1:$HPORT

# Each log line with the wall time it was written at.
stamp() {
	python3 -u -c '
import sys, time
for line in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.time(), line))
    sys.stdout.flush()'
}
"$P" run --config "$T/pulse.conf" 2> >(stamp >"$T/run.log") &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"
lib_log_on_fail "$T/run.log"
up() { curl -sf -o /dev/null --max-time 2 "$U/api/status"; }
t_check "the daemon is on air within 15 s" \
	bash -c "source '$PULSE_SRC/tests/lib.sh'; ICE_PORT=$ICE_PORT
		ice_wait_mount /radio.ogg 15"
t_check "its API answers" wait_until 10 up

# Two breaking bulletins, spoken now, due 6 and 14 s into the lock.
now() { date +%s.%N; }
b1=$(p bulletin add --breaking "First bulletin. The water in ward one is back on.")
b2=$(p bulletin add --breaking "Second bulletin. The M1 south is open again.")
rendered() {
	[ "$(q "SELECT count(*) FROM bulletin WHERE state = 'rendered'")" = 2 ]
}
t_check "both are spoken before the lock" wait_until 20 rendered
lock_at=$(python3 -c "print($(now) + 3)")
due() { # SECONDS after the lock starts, as the queue writes times
	python3 -c "
import datetime, sys
t = datetime.datetime.fromtimestamp($lock_at + $1, datetime.timezone.utc)
print(t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000))"
}
q "UPDATE bulletin SET not_before = '$(due 6)' WHERE id = $b1;
   UPDATE bulletin SET not_before = '$(due 14)' WHERE id = $b2;"

# A listener from before the lock to the end (it hears the stream end).
curl -s -o "$T/rec.ogg" --max-time 150 \
	-w '%{time_starttransfer} %{time_total}\n' \
	"http://127.0.0.1:$ICE_PORT/radio.ogg" >"$T/curl.times" &
listener=$!
sleep "$(python3 -c "print(max(0, $lock_at - $(now)))")"

# The lock: another process holds the write lock, with a write pending,
# for LOCK_S seconds, then commits it.
python3 - "$DB" "$LOCK_S" >"$T/lock.out" 2>&1 <<'EOF' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
db.execute("INSERT INTO setting(key, value) VALUES ('it_fault_dblock', "
           "'locked') ON CONFLICT(key) DO UPDATE SET value = 'locked'")
print("locked %.3f" % time.time(), flush=True)
time.sleep(float(sys.argv[2]))
print("released %.3f" % time.time(), flush=True)
db.execute("COMMIT")
EOF
locker=$!
lib_on_exit "kill $locker 2>/dev/null"
wait_until 10 grep -q '^locked' "$T/lock.out" || t_fail "the lock was never taken"
lock_start=$(awk '/^locked/ {print $2}' "$T/lock.out")
t_check "the database is locked for other writers" \
	bash -c "! sqlite3 -cmd '.timeout 200' '$DB' \
		\"INSERT INTO setting(key, value) VALUES ('probe', '1')\" 2>/dev/null"

# During the lock: a bulletin through the API, and the metrics.
sleep 8
t0=$(now)
code=$(curl -s -o "$T/post1.body" -D "$T/post1.head" -w '%{http_code}' \
	--max-time 20 -H "Authorization: Bearer $TOKEN" \
	--data-urlencode "text=Third bulletin, sent during the lock." \
	--data priority=breaking "$U/api/bulletins" || true)
post_s=$(python3 -c "print(round($(now) - $t0, 2))")
echo "POST during the lock: $code in $post_s s: $(cat "$T/post1.body")"
grep -i '^retry-after' "$T/post1.head" || true
if [ "$code" = 503 ]; then
	t_ok "the bulletin sent during the lock is refused with 503"
	t_check "with a Retry-After and a reason that says the database is busy" \
		bash -c "grep -qi '^retry-after: [0-9]' '$T/post1.head' &&
			grep -qi 'busy' '$T/post1.body'"
	t_check "answered within 5 s ($post_s s)" \
		python3 -c "import sys; sys.exit(0 if $post_s < 5 else 1)"
	resend=1
elif [ "$code" = 201 ]; then
	t_ok "the bulletin sent during the lock is accepted (201)"
	resend=0
else
	t_fail "the bulletin sent during the lock got HTTP $code: neither 201 nor 503"
	resend=1
fi
t0=$(now)
curl -s --max-time 10 "$U/metrics" >"$T/metrics.lock" || true
metrics_s=$(python3 -c "print(round($(now) - $t0, 2))")
t_check "/metrics answers during the lock (in $metrics_s s)" \
	grep -q '^pulse_underruns_total 0$' "$T/metrics.lock"

wait "$locker" || true
lock_end=$(awk '/^released/ {print $2}' "$T/lock.out")
echo "lock: $lock_start .. $lock_end"
t_check "the lock was held $LOCK_S s" \
	python3 -c "import sys; sys.exit(0 if ${lock_end:-0} - ${lock_start:-0} >= $LOCK_S - 0.5 else 1)"
b3=""
if ((resend)); then
	curl -s -o "$T/post2.body" -w '%{http_code}\n' --max-time 20 \
		-H "Authorization: Bearer $TOKEN" \
		--data-urlencode "text=Third bulletin, sent during the lock." \
		--data priority=breaking "$U/api/bulletins" >"$T/post2.code" || true
	t_check "sent again after the lock, it is queued (201)" \
		grep -qx 201 "$T/post2.code"
	b3=$(python3 -c "import json; print(json.load(open('$T/post2.body'))['id'])" 2>/dev/null || true)
else
	b3=$(python3 -c "import json; print(json.load(open('$T/post1.body'))['id'])" 2>/dev/null || true)
fi
aired3() { [ "$(q "SELECT state FROM bulletin WHERE id = ${b3:-0}")" = aired ]; }
t_check "and it airs within 40 s" wait_until 40 aired3

# One more item boundary after it.
sleep 5
curl -s --max-time 10 "$U/metrics" >"$T/metrics.end" || true

start=$(now)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
ms=$(python3 -c "print(int(($(now) - $start) * 1000))")
listener_done() { ! kill -0 "$listener" 2>/dev/null; }
wait_until 10 listener_done || kill "$listener" 2>/dev/null || true
wait "$listener" || true
grep -v ' debug: ' "$T/run.log" | tail -n 40
t_check "SIGTERM: exit 0 (got $rc) within 3 s ($ms ms)" \
	bash -c "[ $rc -eq 0 ] && [ $ms -lt 3000 ]"

# The stream: no gap, no underrun.
read -r first total <"$T/curl.times"
"$OGGCHECK" "$T/rec.ogg" >"$T/rec.check" || true
frames=$(awk '/^total_frames/ {print $2}' "$T/rec.check")
secs=$(python3 -c "print(${frames:-0} / 44100)")
echo "listener: $first..$total s, decoded $secs s"
t_check "no gap across the lock: decoded length within 2 % of the wall time" \
	python3 -c "
import sys
a, lo, hi = $secs, $total - $first, $total
sys.exit(0 if lo * 0.98 <= a <= hi * 1.02 else 1)"
t_check "the recording is valid Ogg/Vorbis" ogg_valid "$T/rec.ogg" live
t_check "no underrun counted in /metrics" \
	grep -q '^pulse_underruns_total 0$' "$T/metrics.end"
t_check "no 'fell behind' in the log" \
	bash -c "! grep -q 'behind real time' '$T/run.log'"

# The as-run log: every item, with its real start, no hole.
q "SELECT started_at, duration_ms, ended_early, path, coalesce(bulletin_id, '')
   FROM asrun ORDER BY started_at" >"$T/asrun.txt"
t_check "the as-run log has every item that went on air, at its time" \
	python3 - "$T/run.log" "$T/asrun.txt" "$lock_start" "$lock_end" <<'EOF'
import datetime, re, sys
log, asrun = sys.argv[1], sys.argv[2]
lock0, lock1 = map(float, sys.argv[3:5])
def utc(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
onair = []
for line in open(log):
    m = re.match(r"(\S+) info: on air: .*\((/.*)\)$", line.rstrip("\n"))
    if m:
        onair.append((float(m.group(1)), m.group(2)))
rows = [l.rstrip("\n").split("|") for l in open(asrun) if l.strip()]
rows = [(utc(r[0]), int(r[1]) / 1000, r[2], r[3], r[4]) for r in rows]
ok = True
print("%d on air, %d as-run rows" % (len(onair), len(rows)))
if len(rows) != len(onair):
    print("the counts differ"); ok = False
for (t, path), (s, d, early, rpath, bid) in zip(onair, rows):
    mark = ""
    if rpath != path or abs(t - s) > 1.0:
        mark = "  <-- wrong"; ok = False
    print("on air %.3f  as-run %.3f +%.3f %s%s %s%s" % (
        t, s, d, "early " if early == "1" else "",
        "bulletin " + bid if bid else "", path.split("/")[-1], mark))
for a, b in zip(rows, rows[1:]):
    if abs(a[0] + a[1] - b[0]) > 0.005:
        print("hole or overlap: %.3f + %.3f != %.3f" % (a[0], a[1], b[0])); ok = False
inside = [r for r in rows if lock0 <= r[0] <= lock1]
print("%d items started during the lock" % len(inside))
if len(inside) < 3:
    ok = False
sys.exit(0 if ok else 1)
EOF
for b in "$b1" "$b2"; do
	t_check "bulletin $b aired and is marked aired" \
		test "$(q "SELECT state FROM bulletin WHERE id = $b")" = aired
	t_check "bulletin $b has exactly one complete as-run row" \
		test "$(q "SELECT count(*) FROM asrun WHERE bulletin_id = $b AND ended_early = 0")" = 1
	t_check "bulletin $b aired during the lock (its row's start)" \
		python3 -c "
import datetime, sys
s = datetime.datetime.strptime('$(q "SELECT started_at FROM asrun WHERE bulletin_id = $b")',
    '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp()
sys.exit(0 if $lock_start <= s <= $lock_end else 1)"
done
t_check "bulletin ${b3:-?} (sent through the API) aired once" \
	test "$(q "SELECT count(*) FROM asrun WHERE bulletin_id = ${b3:-0} AND ended_early = 0")" = 1
t_check "no bulletin was queued twice or lost" \
	test "$(q "SELECT count(*) FROM bulletin")" = 3
t_check "the schedule was reloaded after the lock (the locker wrote)" \
	awk -v t="$lock_end" '/schedule reloaded/ && $1 > t {f = 1} END {exit !f}' \
	"$T/run.log"
t_check "the database is sound" test "$(q "PRAGMA integrity_check")" = ok
t_done
