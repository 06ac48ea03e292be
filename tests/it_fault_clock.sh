#!/usr/bin/env bash
# it_fault_clock.sh - the wall clock stepped an hour forward and then an
# hour back while the daemon streams to a real Icecast on 127.0.0.1 (issue
# 7, faults). The machine's clock is never touched: the daemon (and the
# CLI that queues bulletins) run under libfaketime, its offset read from a
# file on every call, with CLOCK_MONOTONIC left real, as a real step
# (NTP at boot, an operator's date -s) leaves it.
#  - the stream neither stalls nor bursts: a listener across both steps
#    decodes as many seconds as it listened (within 2 %), no underrun in
#    /metrics;
#  - each step is one log line ("the wall clock stepped +3600 s; the
#    schedule follows it") at the next item boundary; the item on air
#    plays to its end;
#  - forward: the next item comes from the slot in force at the new time
#    (one that starts within the skipped hour), at most one station ID
#    airs, the as-run rows carry the new time, and a breaking bulletin
#    sent after the step airs at once (not an hour later);
#  - back: the next item comes from the first slot again, no track
#    repeats in a burst (separations 0, so only the rotation order keeps
#    them apart), and a breaking bulletin sent just before the step airs
#    right after it (not when the clock comes round to its old time);
#  - the as-run rows tile the programme but for exactly two jumps, of
#    +3600 s and -3600 s.
set -euo pipefail
: "${PULSE_RADIO:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
[ -n "${KEEP_T:-}" ] || lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO

FT_LIB=""
for f in /usr/lib/*-linux-gnu/faketime/libfaketimeMT.so.1 \
	/usr/lib/faketime/libfaketimeMT.so.1 \
	/usr/local/lib/faketime/libfaketimeMT.so.1; do
	[ -e "$f" ] && FT_LIB=$f && break
done
if [ -z "$FT_LIB" ]; then
	t_fail "libfaketime is not installed (apt-get install faketime)"
	t_done
	exit 1
fi
# A sanitizer build wants its runtime first in the preload list.
ASAN_LIB=$(ldd "$P" | awk '/libasan/ {print $3}')
FT_FILE=$T/faketime.rc
echo "+0" >"$FT_FILE"
# Only the clocks are faked: the offset from the file on every call, the
# monotonic clock and file times left alone, no shared memory left over.
# (libfaketime 0.9.10 then refuses absolute monotonic sleeps with EINVAL:
# the player falls back to relative ones, and the check below spins.)
FT_VARS=(FAKETIME_TIMESTAMP_FILE="$FT_FILE" FAKETIME_NO_CACHE=1
	FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_DISABLE_SHM=1 NO_FAKE_STAT=1)
# For pulse-radio (with the sanitizer's runtime first if it has one).
FT_ENV=(LD_PRELOAD="${ASAN_LIB:+$ASAN_LIB }$FT_LIB" "${FT_VARS[@]}")
ft() { env "${FT_ENV[@]}" "$@"; }
step_to() { # OFFSET_S: the faked clock is the real one plus this
	echo "$1" >"$FT_FILE.new" && mv "$FT_FILE.new" "$FT_FILE"
}
t_check "libfaketime moves the wall clock and leaves the monotonic one" \
	timeout 10 env LD_PRELOAD="$FT_LIB" "${FT_VARS[@]}" python3 -c '
import sys, time
w, m = time.time(), time.monotonic()
open(sys.argv[1], "w").write("+3600\n")
while time.monotonic() - m < 0.2:
    pass
dw, dm = time.time() - w, time.monotonic() - m
open(sys.argv[1], "w").write("+0\n")
sys.exit(0 if 3599 < dw < 3601 and 0.1 < dm < 2 else 1)' "$FT_FILE"
step_to "+0"

# Two playlists: A for the first slot, B for the one after it, and a
# short station ID.
mkdir -p "$T/music"
for i in 1 2 3; do
	media_tone "$T/music/a$i.ogg" $((4 + i)) 44100 2 $((300 + i * 40)) \
		"A $i" "Band A" &
	media_tone "$T/music/b$i.ogg" $((4 + i)) 44100 2 $((700 + i * 40)) \
		"B $i" "Band B" &
done
media_tone "$T/music/id.ogg" 2 44100 2 1500 "Station ID" "Pulse" &
wait
DB=$T/pulse.db
p() { "$P" "$@" --db "$DB"; }
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
p db init >/dev/null
p library scan "$T/music" >/dev/null
(cd "$T/music" && ls -- a*.ogg >a.m3u && ls -- b*.ogg >b.m3u && echo id.ogg >ids.m3u)
for l in a b ids; do p playlist import "$T/music/$l.m3u" >/dev/null; done
for kv in "timezone UTC" "crossfade_ms 0" "title_separation_s 0" \
	"artist_separation_s 0" "breaking_mode after-item" \
	"breaking_latency_s 3600"; do
	# shellcheck disable=SC2086
	p db set $kv >/dev/null
done
# Slot "early" now, slot "late" from 20 minutes on (inside the hour the
# forward step skips), with the hourly ID.
hm() { date -u -d "@$(($(date +%s) + $1 * 60))" +%H:%M; }
p slot add early --days daily --start "$(hm -60)" --end "$(hm 20)" \
	--playlist a --crossfade-ms 0 >/dev/null
p slot add late --days daily --start "$(hm 20)" --end "$(hm 140)" \
	--playlist b --crossfade-ms 0 --ids ids --id-mode hard >/dev/null
ice_start
printf '%s\n' "$ICE_PASS" >"$T/pass"
HPORT=$(free_port)
cat >"$T/pulse.conf" <<EOF
[station]
name = Pulse clock test
database = $DB
[output main]
url = icecast://source@127.0.0.1:$ICE_PORT/radio.ogg
password_file = $T/pass
[http]
bind = 127.0.0.1:$HPORT
EOF
chmod 600 "$T/pass" "$T/pulse.conf"

# Each log line with the real wall time it was written at.
stamp() {
	python3 -u -c '
import sys, time
for line in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.time(), line))
    sys.stdout.flush()'
}
env "${FT_ENV[@]}" "$P" run --config "$T/pulse.conf" \
	2> >(stamp >"$T/run.log") &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"
lib_log_on_fail "$T/run.log"
t_check "the daemon is on air within 15 s" \
	bash -c "source '$PULSE_SRC/tests/lib.sh'; ICE_PORT=$ICE_PORT
		ice_wait_mount /radio.ogg 15"
now() { date +%s.%N; }
curl -s -o "$T/rec.ogg" --max-time 110 \
	-w '%{time_starttransfer} %{time_total}\n' \
	"http://127.0.0.1:$ICE_PORT/radio.ogg" >"$T/curl.times" &
listener=$!
lines() { wc -l <"$T/run.log"; }
# The next "on air" line after log line N matching PATTERN.
wait_on_air() { # N PATTERN SECS
	wait_until "$3" bash -c "tail -n +$(($1 + 1)) '$T/run.log' |
		grep -q 'info: on air: .*($2'"
}
sleep 4

# Forward: an hour.
mark=$(lines)
step_to "+3600"
step1=$(now)
t_check "the forward step is logged once, at the next item boundary" \
	wait_until 15 grep -q 'the wall clock stepped +3600 s; the schedule follows it' "$T/run.log"
t_check "the next item is from the slot in force at the new time" \
	wait_on_air "$mark" "$T/music/[bi]" 10
b1=$(ft "$P" bulletin add --breaking "First bulletin, sent after the clock went forward." --db "$DB")
aired() { [ "$(q "SELECT state FROM bulletin WHERE id = $1")" = aired ]; }
t_check "a breaking bulletin sent after the forward step airs within 25 s" \
	wait_until 25 aired "$b1"

# Back: a breaking bulletin sent at the later time, then the step, before
# the next item boundary.
mark=$(lines)
wait_on_air "$mark" "$T/music/b" 20 || t_fail "no B item to send the bulletin under"
mark=$(lines)
b2=$(ft "$P" bulletin add --breaking "Second bulletin, sent just before the clock went back." --db "$DB")
wait_until 5 grep -q "bulletin $b2 spoken" "$T/run.log" || true
step_to "+0"
step2=$(now)
t_check "the backward step is logged once" \
	wait_until 15 grep -q 'the wall clock stepped -3600 s; the schedule follows it' "$T/run.log"
t_check "the bulletin sent before it airs within 25 s of it" \
	wait_until 25 aired "$b2"
t_check "the next items are from the first slot again" \
	wait_on_air "$mark" "$T/music/a" 10
sleep 22
curl -s --max-time 10 "http://127.0.0.1:$HPORT/metrics" >"$T/metrics" || true
# The listener hears the stream end (EOS) when the daemon stops.
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
listener_done() { ! kill -0 "$listener" 2>/dev/null; }
wait_until 10 listener_done || kill "$listener" 2>/dev/null || true
wait "$listener" || true
grep -v ' debug: ' "$T/run.log" | tail -n 45
t_check "SIGTERM: exit 0 (got $rc)" test "$rc" -eq 0

# The stream: no stall, no burst.
read -r first total <"$T/curl.times" || true
"$OGGCHECK" "$T/rec.ogg" >"$T/rec.check" || true
frames=$(awk '/^total_frames/ {print $2}' "$T/rec.check")
secs=$(python3 -c "print(${frames:-0} / 44100)")
echo "listener: ${first:-?}..${total:-?} s, decoded $secs s"
t_check "no stall or burst across the steps: decoded length within 2 % of the wall time" \
	python3 -c "
import sys
a, lo, hi = $secs, ${total:-0} - ${first:-0}, ${total:-0}
sys.exit(0 if hi > 40 and lo * 0.98 <= a <= hi * 1.02 else 1)"
t_check "the recording is valid Ogg/Vorbis" ogg_valid "$T/rec.ogg" live
t_check "no underrun counted in /metrics" \
	grep -q '^pulse_underruns_total 0$' "$T/metrics"
# The listener counts: one request every 15 s, whatever libfaketime does
# to waits on the monotonic clock (it once made it ~170 a second).
asked=$(grep -c '"GET /status-json.xsl[^"]*" [0-9]* [0-9]* "[^"]*" "pulse-radio/' \
	"$ICE_DIR/log/access.log" || true)
t_check "Icecast asked for listener counts every 15 s, not in a spin ($asked times)" \
	test "$asked" -ge 1 -a "$asked" -le 20
t_check "each step logged exactly once" \
	test "$(grep -c 'the wall clock stepped' "$T/run.log")" = 2

# The as-run log against the log's "on air" lines and the two steps.
q "SELECT started_at, duration_ms, ended_early, path FROM asrun ORDER BY id" \
	>"$T/asrun.txt"
t_check "the as-run log: new time after each step, two jumps, no repeats, one ID at most" \
	python3 - "$T/run.log" "$T/asrun.txt" "$step1" "$step2" <<'EOF'
import datetime, re, sys
log, asrun, step1, step2 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
def utc(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
onair = []
for line in open(log):
    m = re.match(r"(\S+) info: on air: .*\((/.*)\)$", line.rstrip("\n"))
    if m:
        onair.append((float(m.group(1)), m.group(2)))
rows = [l.rstrip("\n").split("|") for l in open(asrun) if l.strip()]
rows = [(utc(r[0]), int(r[1]) / 1000, r[2] == "1", r[3]) for r in rows]
ok = True
print("%d on air, %d as-run rows" % (len(onair), len(rows)))
if len(rows) != len(onair):
    print("the counts differ"); ok = False
# Which phase each item started in: by the real time of its log line.
phase = []
for (t, path), (s, d, early, rpath) in zip(onair, rows):
    # The as-run start less the real time of the line: 0 on the real
    # clock, +3600 between the steps.
    expect = s - t
    ph = 1 if abs(expect - 3600) < 2 else 0 if abs(expect) < 2 else -1
    phase.append(ph)
    mark = "" if rpath == path and ph >= 0 else "  <-- wrong"
    if mark:
        ok = False
    print("on air %.3f  as-run %+.3f (%s) +%.3f %s%s%s" % (
        t, expect, ph, d, "early " if early else "", path.split("/")[-1], mark))
# Phases: 0... then 1... then 0..., each at least one item.
runs = [phase[0]] if phase else []
for ph in phase[1:]:
    if ph != runs[-1]:
        runs.append(ph)
print("phases:", runs)
if runs != [0, 1, 0]:
    ok = False
jumps = []
for a, b in zip(rows, rows[1:]):
    gap = b[0] - (a[0] + a[1])
    if abs(gap) > 0.005:
        jumps.append(gap)
print("jumps:", ["%+.3f" % j for j in jumps])
if len(jumps) != 2 or abs(jumps[0] - 3600) > 1 or abs(jumps[1] + 3600) > 1:
    ok = False
names = [r[3].split("/")[-1] for r in rows]
p1 = [n for n, ph in zip(names, phase) if ph == 1]
if not p1 or not all(n[0] in "bi" or n.startswith("bulletin") for n in p1):
    print("between the steps, not slot late:", p1); ok = False
if sum(1 for n in p1 if n == "id.ogg") > 1:
    print("more than one ID"); ok = False
first0 = phase.index(1) if 1 in phase else len(phase)
before = names[:first0]
if not all(n[0] == "a" or n.startswith("bulletin") for n in before):
    print("before the first step, not slot early:", before); ok = False
last = len(phase) - 1 - phase[::-1].index(1) if 1 in phase else 0
after = [n for n in names[last + 1:] if not n.startswith("bulletin")]
print("after the step back:", after)
if len(after) < 3 or not all(n[0] == "a" for n in after):
    ok = False
for x, y in zip(after, after[1:]):
    if x == y:
        print("repeated:", x); ok = False
for i in range(len(after) - 2):
    if len(set(after[i:i + 3])) != 3:
        print("not in rotation:", after[i:i + 3]); ok = False
sys.exit(0 if ok else 1)
EOF
t_check "both bulletins aired once" \
	test "$(q "SELECT count(*) FROM asrun WHERE bulletin_id IN ($b1, $b2) AND ended_early = 0")" = 2
t_check "the database is sound" test "$(q "PRAGMA integrity_check")" = ok
t_done
