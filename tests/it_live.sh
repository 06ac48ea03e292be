#!/usr/bin/env bash
# it_live.sh - a presenter goes live and back to automation with Icecast's
# own fallback (issue 6): listeners tune to /live.ogg, whose fallback-mount
# is the automation's /radio.ogg, with fallback-override. While nobody is
# live they hear the automation; when a presenter's source connects to
# /live.ogg, fallback-override moves them over; when the presenter hangs
# up, they fall back to the automation, all on one connection. No code of
# ours is involved beyond streaming to /radio.ogg: this is the documented
# setup, tested. The automation plays a 440 Hz tone, the "presenter" (a
# second pulse-radio, as any source client would) 1000 Hz; the listener's
# recording, decoded by ffmpeg, must hold 440, then 1000, then 440 again.
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=${KEEP_T:-$(cd "$(mktemp -d)" && pwd -P)}
[[ -n ${KEEP_T:-} ]] || lib_on_exit "rm -rf '$T'"

mkdir -p "$T/auto" "$T/presenter"
sox -q -n -r 44100 -c 2 -b 16 "$T/auto/a.wav" synth 60 sine 440 gain -6
sox -q -n -r 44100 -c 2 -b 16 "$T/presenter/p.wav" synth 60 sine 1000 gain -6
echo a.wav >"$T/auto/list.m3u"
echo p.wav >"$T/presenter/list.m3u"
ICE_EXTRA='<mount type="normal">
    <mount-name>/live.ogg</mount-name>
    <fallback-mount>/radio.ogg</fallback-mount>
    <fallback-override>1</fallback-override>
  </mount>'
ice_start
"$PULSE_RADIO" play "$T/auto/list.m3u" \
	--output "icecast://source:$ICE_PASS@127.0.0.1:$ICE_PORT/radio.ogg" \
	2>"$T/auto.log" &
auto=$!
lib_on_exit "kill -9 $auto 2>/dev/null"
t_check "the automation is on /radio.ogg" ice_wait_mount /radio.ogg 10
sleep 1

# The listener, on /live.ogg for 18 s.
curl -s -o "$T/rec.ogg" --max-time 18 "http://127.0.0.1:$ICE_PORT/live.ogg" &
listener=$!
sleep 5
"$PULSE_RADIO" play "$T/presenter/list.m3u" \
	--output "icecast://source:$ICE_PASS@127.0.0.1:$ICE_PORT/live.ogg" \
	2>"$T/presenter.log" &
presenter=$!
lib_on_exit "kill -9 $presenter 2>/dev/null"
t_check "the presenter is live on /live.ogg" ice_wait_mount /live.ogg 10
sleep 5
kill -INT "$presenter"
wait "$presenter" || true
wait "$listener" || true
t_check "the automation never stopped" kill -0 "$auto"

# Icecast moves a listener between sources by starting the new source's
# stream in the middle of the old one (ogginfo: "new stream before EOS"):
# not a clean Ogg chain, but what players meet with any Icecast fallback.
# ffmpeg (mpv's decoder too) plays through it: decode with it and name
# each half second by its tone.
ffmpeg -v error -nostdin -i "$T/rec.ogg" -ac 1 -ar 8000 -f s16le "$T/rec.raw"
python3 - "$T/rec.raw" >"$T/order" <<'PY'
import math, struct, sys
data = open(sys.argv[1], "rb").read()
x = struct.unpack("<%dh" % (len(data) // 2), data)
rate, win = 8000, 4000
def level(seg, f):
    c, s1, s2 = 2 * math.cos(2 * math.pi * f / rate), 0.0, 0.0
    for v in seg:
        s1, s2 = v + c * s1 - s2, s1
    return math.sqrt(max(s1 * s1 + s2 * s2 - c * s1 * s2, 0.0))
runs = []
for i in range(0, len(x) - win + 1, win):
    a, b = level(x[i:i + win], 440), level(x[i:i + win], 1000)
    name = "auto" if a > 4 * b else "live" if b > 4 * a else "-"
    if runs and runs[-1][0] == name:
        runs[-1][2] = (i + win) / rate
    else:
        runs.append([name, i / rate, (i + win) / rate])
for name, start, end in runs:
    print(f"{name} {start:.1f} {end:.1f}")
PY
cat "$T/order"
t_check "the listener heard automation, then the presenter, then automation again" \
	bash -c "awk '\$1 != \"-\" {print \$1}' '$T/order' | uniq | tr '\n' ' ' | grep -qx 'auto live auto '"
t_check "the presenter's part lasted several seconds" \
	awk '$1 == "live" && $3 - $2 >= 3 { ok = 1 } END { exit !ok }' "$T/order"
t_check "ffmpeg decodes it to the end (18 s on one connection)" \
	test "$(stat -c %s "$T/rec.raw")" -ge $((16 * 8000 * 2))
kill -INT "$auto"
wait "$auto" || true
t_done
