#!/usr/bin/env bash
# it_badinput.sh - bad input never crashes the station and costs one clear
# log line each: a truncated MP3, a zero-byte file, a text file named .ogg, a
# PNG named .mp3, a WAV whose header lies about its size, a missing path, a
# URL and a "../" escape in the playlist. The good items around them still
# play, gapless; a playlist with nothing playable is an error, not silence.
set -euo pipefail
: "${PULSE_RADIO:?} ${OGGCHECK:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(mktemp -d)
lib_on_exit "rm -rf '$T'"
mkdir "$T/lib"
L=$T/lib

media_tone "$L/good1.wav" 3 44100 2 440
media_tone "$L/full.mp3" 6 44100 2 330 Full Song
media_tone "$L/good2.ogg" 3 48000 1 550 Good Two
head -c "$(($(stat -c %s "$L/full.mp3") / 2))" "$L/full.mp3" >"$L/trunc.mp3"
rm "$L/full.mp3"
: >"$L/zero.mp3"
echo "This is not audio, it is a shopping list." >"$L/text.ogg"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0' >"$L/png.mp3"
head -c 4000 /dev/urandom >>"$L/png.mp3"
media_tone "$L/lying.wav" 2 44100 2 660
# Claim ten times the data that is there.
python3 - "$L/lying.wav" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'data')
n = struct.unpack_from('<I', b, i + 4)[0]
struct.pack_into('<I', b, i + 4, n * 10)
open(p, 'wb').write(b)
PY
media_tone "$T/outside.wav" 2 44100 2 440

cat >"$L/list.m3u" <<'EOF2'
#EXTM3U
good1.wav
trunc.mp3
zero.mp3
text.ogg
png.mp3
lying.wav
missing.mp3
http://127.0.0.1:9/stream.mp3
../outside.wav
good2.ogg
EOF2

rc=0
"$PULSE_RADIO" play "$L/list.m3u" --once --output "file:$T/out.ogg" 2>"$T/log" || rc=$?
cat "$T/log"
t_check "exit status 0 with bad entries around good ones (got $rc)" test "$rc" -eq 0
for bad in zero.mp3 text.ogg png.mp3 missing.mp3 http:// outside.wav; do
	n=$(grep -c -- "$bad" "$T/log" || true)
	t_check "one log line for $bad (got $n)" test "$n" -eq 1
done
for odd in trunc.mp3 lying.wav; do
	n=$(grep -v 'on air' "$T/log" | grep -c -- "$odd" || true)
	t_check "at most one warning for $odd (got $n)" test "$n" -le 1
done
t_check "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T/log'"
t_check "ogginfo accepts the output" ogginfo -q "$T/out.ogg"
"$OGGCHECK" "$T/out.ogg" >"$T/check" || true
cat "$T/check"
t_check "the four playable items aired" test "$(grep -c '^link' "$T/check")" -eq 4
lying=$(awk '/^link 2 / {print $8}' "$T/check")
t_check "the lying WAV played what is really there (${lying:-none} frames)" \
	within "${lying:-0}" 88200 2
trunc=$(awk '/^link 1 / {print $8}' "$T/check")
t_check "the truncated MP3 played about its first half (${trunc:-none} frames)" \
	within "${trunc:-0}" 132300 8000

# One output fails for good (a full disk): it is dropped, the other goes on.
rc=0
"$PULSE_RADIO" play "$L/list.m3u" --once --output file:/dev/full \
	--output "file:$T/other.ogg" 2>"$T/log5" || rc=$?
cat "$T/log5"
t_check "a full disk on one output: exit 0 (got $rc)" test "$rc" -eq 0
t_check "a full disk on one output: said so, once" \
	test "$(grep -c 'No space left' "$T/log5")" -eq 1
t_check "the other output is whole" \
	bash -c "ogginfo -q '$T/other.ogg' && [ \"\$('$OGGCHECK' '$T/other.ogg' | grep -c '^link')\" -eq 4 ]"
rc=0
"$PULSE_RADIO" play "$L/list.m3u" --once --output file:/dev/full 2>"$T/log6" || rc=$?
cat "$T/log6"
t_check "a full disk on the only output: exit 1 (got $rc)" test "$rc" -eq 1

# Nothing playable: a clear error and a non-zero exit, not a silent stream.
printf 'zero.mp3\ntext.ogg\npng.mp3\nmissing.mp3\n' >"$L/bad.m3u"
rc=0
timeout 30 "$PULSE_RADIO" play "$L/bad.m3u" --output "file:$T/bad.ogg" 2>"$T/log2" || rc=$?
cat "$T/log2"
t_check "nothing playable: exit 1 (got $rc)" test "$rc" -eq 1
t_check "nothing playable: said so" grep -q 'nothing playable' "$T/log2"

: >"$L/empty.m3u"
rc=0
timeout 30 "$PULSE_RADIO" play "$L/empty.m3u" --output "file:$T/e.ogg" 2>"$T/log3" || rc=$?
t_check "empty playlist: exit 1 (got $rc), one line" \
	test "$rc" -eq 1 -a "$(wc -l <"$T/log3")" -eq 1
rc=0
"$PULSE_RADIO" play "$L/nope.m3u" --output "file:$T/e.ogg" 2>"$T/log4" || rc=$?
t_check "missing playlist: exit 1 (got $rc), one line" \
	test "$rc" -eq 1 -a "$(wc -l <"$T/log4")" -eq 1

# Usage errors: exit 2 with a message, no stream.
for args in "play $L/list.m3u" "play $L/list.m3u --output ftp://x/y" \
	"play $L/list.m3u --output file:$T/u.ogg --rate abc" \
	"play $L/list.m3u --output file:$T/u.ogg --quality 7" \
	"play $L/list.m3u --output icecast://h:99999/m" "frobnicate" "--bogus"; do
	rc=0
	# shellcheck disable=SC2086
	"$PULSE_RADIO" $args 2>"$T/ulog" >/dev/null || rc=$?
	t_check "usage error '$args': exit 2 (got $rc) with a message" \
		test "$rc" -eq 2 -a -s "$T/ulog"
done
t_check "--help" bash -c "'$PULSE_RADIO' --help | grep -q 'pulse-radio play PLAYLIST.m3u'"
t_check "--version" bash -c "'$PULSE_RADIO' --version | grep -q '^pulse-radio [0-9]'"

t_done
