#!/usr/bin/env bash
# it_relay.sh - more listeners than one server holds: Icecast relays
# (issue 6). pulse-radio streams to the master; a second Icecast on
# loopback relays the mount (its own <relay> section, no code of ours);
# a listener on the relay hears the station: valid Ogg/Vorbis, its tone,
# as long as it listened, with the title carried over, and the master
# counts the relay as its listener.
set -euo pipefail
: "${PULSE_RADIO:?} ${TONEFIND:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"

mkdir -p "$T/music"
sox -q -n -r 44100 -c 2 -b 16 "$T/music/a.wav" synth 120 sine 440 gain -6
echo a.wav >"$T/music/list.m3u"
ice_start
MASTER=$ICE_PORT
"$PULSE_RADIO" play "$T/music/list.m3u" \
	--output "icecast://source:$ICE_PASS@127.0.0.1:$MASTER/radio.ogg" \
	2>"$T/pulse.log" &
pulse=$!
lib_on_exit "kill -9 $pulse 2>/dev/null"
t_check "pulse-radio is on the master" ice_wait_mount /radio.ogg 10

# The relay: a second Icecast, started by the same helpers in a shell of
# its own (a subshell does not inherit the EXIT trap: its pid is handed
# back and stopped from here).
RELAY=$(free_port)
(
	_ICE_MY_DIR= ICE_DIR= ICE_PID=
	ICE_EXTRA="<relay>
    <server>127.0.0.1</server><port>$MASTER</port>
    <mount>/radio.ogg</mount><local-mount>/radio.ogg</local-mount>
    <on-demand>0</on-demand>
  </relay>"
	ice_start "$RELAY" || exit 1
	echo "$ICE_PID" >"$T/relay.pid"
	touch "$T/relay.up"
	sleep 300 &
	wait $!
) >"$T/relay.log" 2>&1 &
relay_sh=$!
lib_on_exit "kill -TERM $relay_sh 2>/dev/null; sleep 0.5"
t_check "the relay Icecast is up" wait_until 15 test -e "$T/relay.up"
relay_pid=$(cat "$T/relay.pid")
lib_on_exit "kill -TERM $relay_pid 2>/dev/null"
on_relay() { ICE_PORT=$RELAY ice_has_mount /radio.ogg; }
t_check "the relay carries /radio.ogg" wait_until 15 on_relay
sleep 1
curl -s -o "$T/rec.ogg" --max-time 10 -w '%{time_starttransfer} %{time_total}\n' \
	"http://127.0.0.1:$RELAY/radio.ogg" >"$T/times" || true
read -r first total <"$T/times"
t_check "the relayed stream is valid Ogg/Vorbis" ogg_valid "$T/rec.ogg" live
"$OGGCHECK" "$T/rec.ogg" >"$T/check" || true
frames=$(awk '/^total_frames/ {print $2}' "$T/check")
secs=$(python3 -c "print(${frames:-0} / 44100)")
echo "listened $first..$total s on the relay, decoded $secs s"
t_check "as long as the listener listened (within 5 %)" python3 -c "
import sys
a, lo, hi = $secs, $total - $first, $total
sys.exit(0 if lo * 0.95 <= a <= hi * 1.05 else 1)"
t_check "it is the station's audio (its 440 Hz tone)" \
	bash -c "'$TONEFIND' '$T/rec.ogg' 440 | grep -q '^tone'"
t_check "the title is carried to the relay" \
	bash -c "source '$PULSE_SRC/tests/lib.sh'; ICE_PORT=$RELAY; [ \"\$(ice_title /radio.ogg)\" = a ]"
n=$(ice_field /radio.ogg listeners)
t_check "the master counts the relay as a listener ($n)" test "${n:-0}" -ge 1
kill -INT "$pulse"
wait "$pulse" || true
t_done
