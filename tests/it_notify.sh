#!/usr/bin/env bash
# it_notify.sh - the daemon speaks systemd's notify protocol itself
# (src/notify.c, no libsystemd), heard by a real AF_UNIX datagram socket
# that tests/tools/notify_listen.py binds where NOTIFY_SOCKET points, the
# station on air to a real Icecast:
#  - READY=1 with STATUS= once on air, sent by the daemon's own pid (what
#    NotifyAccess=main accepts);
#  - WATCHDOG_USEC=1000000, WATCHDOG_PID unset: WATCHDOG=1 at least
#    every half timeout while on air (at the block boundary before it:
#    with 400 ms blocks, every block), never more often than blocks end;
#  - SIGHUP: RELOADING=1 with MONOTONIC_USEC= (now, on CLOCK_MONOTONIC),
#    then READY=1;
#  - SIGTERM: STOPPING=1, and exit 0;
#  - WATCHDOG_PID of another process: READY=1 still, but no WATCHDOG=1.
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO
LISTEN=$PULSE_SRC/tests/tools/notify_listen.py

mkdir -p "$T/music"
for i in 1 2; do
	media_tone "$T/music/t$i.ogg" 20 44100 2 $((300 + i * 50)) \
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
ice_start
printf '%s\n' "$ICE_PASS" >"$T/source-password"
chmod 600 "$T/source-password"
cat >"$T/pulse.conf" <<EOF
[station]
name = Pulse Notify Test
database = $DB

[audio]
rate = 44100
channels = 2

[output main]
url = icecast://source@127.0.0.1:$ICE_PORT/radio.ogg
password_file = $T/source-password
bitrate = 64
EOF
chmod 600 "$T/pulse.conf"

mono() { python3 -c 'import time; print(time.monotonic())'; }

# notes LOG CHECK ARGS..: a check over the listener's JSON lines; prints
# what it found, exit 0 when it holds.
notes() {
	python3 - "$@" <<'EOF'
import json, sys
log, check, args = sys.argv[1], sys.argv[2], sys.argv[3:]
notes = [json.loads(l) for l in open(log, encoding="utf-8") if l.strip()]
def lines(n): return n["msg"].split("\n")
def of(pid): return [n for n in notes if n["pid"] == int(pid)]
if check == "ready":  # PID: READY=1 with STATUS=, from PID
    hits = [n for n in of(args[0]) if "READY=1" in lines(n) and
            any(l.startswith("STATUS=On air: 1 output") for l in lines(n))]
    if hits:
        print(hits[0])
    sys.exit(0 if hits else 1)
if check == "has":  # PID MSG: some message from PID has the line MSG
    sys.exit(0 if any(args[1] in lines(n) for n in of(args[0])) else 1)
if check == "count":  # PID MSG: how many of PID's messages have line MSG
    print(sum(args[1] in lines(n) for n in of(args[0])))
    sys.exit(0)
if check == "watchdog":  # PID FROM TO: count, gaps within [FROM, TO]
    t = [n["t"] for n in of(args[0]) if lines(n) == ["WATCHDOG=1"]
         and float(args[1]) <= n["t"] <= float(args[2])]
    gaps = [b - a for a, b in zip(t, t[1:])]
    print(f"{len(t)} pets in {float(args[2]) - float(args[1]):.2f} s,"
          f" gaps {min(gaps, default=0):.3f}..{max(gaps, default=0):.3f} s")
    sys.exit(0 if len(t) >= 5 and gaps and 0.3 <= min(gaps)
             and max(gaps) <= 0.6 else 1)
if check == "reload":  # PID FROM: RELOADING=1 + MONOTONIC_USEC, READY=1
    after = [n for n in of(args[0]) if n["t"] >= float(args[1])]
    i = next((i for i, n in enumerate(after)
              if "RELOADING=1" in lines(n)), None)
    if i is None:
        sys.exit(1)
    usec = [l.split("=", 1)[1] for l in lines(after[i])
            if l.startswith("MONOTONIC_USEC=")]
    print(after[i], "received at", after[i]["t"])
    # Its clock and ours are the same CLOCK_MONOTONIC.
    ok = len(usec) == 1 and abs(int(usec[0]) / 1e6 - after[i]["t"]) < 1.0
    ok = ok and any("READY=1" in lines(n) for n in after[i + 1:])
    sys.exit(0 if ok else 1)
if check == "last":  # PID MSG: PID's last message is MSG
    mine = of(args[0])
    sys.exit(0 if mine and mine[-1]["msg"] == args[1] else 1)
sys.exit(2)
EOF
}

# start NAME [ENV..]: the listener on $T/NAME.sock, then the daemon with
# NOTIFY_SOCKET there and ENV; sets pid and log.
start() {
	local name=$1
	shift
	log=$T/$name.log
	python3 "$LISTEN" "$T/$name.sock" "$log" 60 &
	lib_on_exit "kill $! 2>/dev/null"
	wait_until 5 test -S "$T/$name.sock" || t_fail "the listener never bound"
	env -u WATCHDOG_PID NOTIFY_SOCKET="$T/$name.sock" "$@" \
		"$P" run --config "$T/pulse.conf" 2>"$T/$name.err" &
	pid=$!
	lib_on_exit "kill -9 $pid 2>/dev/null"
}

# stop: SIGTERM, wait (10 s at most); sets rc to its exit status.
stop() {
	kill -TERM "$pid"
	wait_until 10 bash -c "! kill -0 $pid 2>/dev/null" || true
	rc=0
	wait "$pid" || rc=$?
}

start run WATCHDOG_USEC=1000000
t_check "READY=1 with STATUS= within 15 s, from the daemon's pid" \
	wait_until 15 notes "$log" ready "$pid"
t_check "the mount is on air" ice_wait_mount /radio.ogg 10
from=$(mono)
sleep 3.2
to=$(mono)
t_check "WATCHDOG=1 at least every 0.5 s while on air, once per block at most" \
	notes "$log" watchdog "$pid" "$from" "$to"

from=$(mono)
kill -HUP "$pid"
t_check "SIGHUP: RELOADING=1 with MONOTONIC_USEC= (now), then READY=1" \
	wait_until 5 notes "$log" reload "$pid" "$from"
t_check "the reload went through" \
	grep -q 'configuration and schedule reloaded' "$T/run.err"

stop
t_check "SIGTERM: exit 0 (exit $rc)" test "$rc" -eq 0
t_check "STOPPING=1 is the last word" notes "$log" last "$pid" STOPPING=1
t_check "no notify failure was logged" bash -c "! grep -q notify: '$T/run.err'"

# The watchdog of another process: not ours to pet.
start other WATCHDOG_USEC=1000000 WATCHDOG_PID=1
t_check "WATCHDOG_PID of another process: READY=1 still" \
	wait_until 15 notes "$log" ready "$pid"
sleep 1.5
n=$(notes "$log" count "$pid" WATCHDOG=1)
t_check "but no WATCHDOG=1 ($n)" test "$n" -eq 0
stop
t_check "and it stops cleanly (exit $rc)" test "$rc" -eq 0
t_done
