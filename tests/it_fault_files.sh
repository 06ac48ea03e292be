#!/usr/bin/env bash
# it_fault_files.sh - library files break under the daemon (issue 7,
# faults). `pulse-radio run --config` plays the schedule in real time to a
# file output while the test, watching the log for what goes on air:
#
#   one.ogg    is deleted while it plays: it plays on to its end (the open
#              file is intact), and the next time the schedule comes to
#              it, it is skipped with one line, without a gap;
#   two.mp3    is rewritten in place (same size, another tone) while it
#              plays: it ends there with one line, nothing of the new
#              content airs under its name; the next time, the new one;
#   three.ogg  is truncated to zero while it plays: ends there, one line;
#              the next time it is skipped ("empty file");
#   four.wav   gets garbage written over it just before it is due: skipped
#              with one line, and not tried again;
#   five.wav   gets garbage written over it while it plays: ends there (no
#              noise on air), one line; next time skipped;
#   six.ogg    is left alone;
#   seven.ogg  is replaced by a rename while it plays (how rsync and most
#              tools replace a file): the old one plays on to its end, the
#              next time the new one.
#
# Real time, because the faults must hit while an item plays or just
# before it is due: a render runs untimed and cannot be caught mid-item.
# The file output goes through the same player, sources and encoder as an
# Icecast mount. Every item is a pure tone of its own, so the decoded
# output says what aired when (tonefind): it must match the as-run log,
# hold no silence longer than 2 s, and be nothing but the expected tones.
set -euo pipefail
: "${PULSE_RADIO:?} ${TONEFIND:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO
DB=$T/pulse.db
M=$T/music
q() { sqlite3 "$DB" "$1"; }

# tone FILE FREQ [TITLE]: 7 s of one sine on both channels, 44.1 kHz.
tone() {
	local wav=$1.src.wav
	sox -q -n -r 44100 -c 2 -b 16 "$wav" synth 7 sine "$2" gain -8
	case $1 in
	*.wav) mv "$wav" "$1" ;;
	*.mp3) lame --quiet -b 128 --tt "$3" "$wav" "$1" && rm -f "$wav" ;;
	*.ogg) oggenc --quiet -q 3 -t "$3" -o "$1" "$wav" && rm -f "$wav" ;;
	esac
}
mkdir -p "$M" "$T/spare"
names=(one.ogg two.mp3 three.ogg four.wav five.wav six.ogg seven.ogg)
freqs=(300 400 500 600 700 800 900)
for i in "${!names[@]}"; do
	tone "$M/${names[i]}" "${freqs[i]}" "Tone ${names[i]%.*}" &
done
tone "$T/spare/two.mp3" 1000 "Tone two" &
tone "$T/spare/seven.ogg" 1100 "Tone seven" &
wait
python3 -c '
import random, sys
random.seed(7)
# Longer than five.wav: a decoder reading on would play noise.
sys.stdout.buffer.write(b"\0garbage" + random.randbytes(1600000))' >"$T/spare/garbage"

"$P" db init --db "$DB" >/dev/null
"$P" library scan "$M" --db "$DB" >/dev/null
printf '%s\n' "${names[@]}" >"$M/music.m3u"
"$P" playlist import "$M/music.m3u" --db "$DB" >/dev/null
# Playlist order, round and round; crossfades of 1 s.
"$P" db set title_separation_s 0 --db "$DB" >/dev/null
"$P" db set artist_separation_s 0 --db "$DB" >/dev/null
"$P" slot add all --days daily --start 00:00 --end 24:00 --playlist music \
	--crossfade-ms 1000 --db "$DB" >/dev/null
cat >"$T/pulse.conf" <<EOF
[station]
name = Pulse Fault Test
database = $DB
music_dir = $M
timezone = Africa/Johannesburg

[audio]
rate = 44100
channels = 2

[output archive]
url = file:$T/out.ogg

[log]
level = info
EOF
chmod 600 "$T/pulse.conf"

"$P" run --config "$T/pulse.conf" 2>"$T/run.log" &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"

# on_air NAME [NTH]: waits (20 s at most) until NAME went on air NTH times.
aired_n() { test "$(grep -c "^info: on air: .*($M/$1)$" "$T/run.log")" -ge "$2"; }
on_air() {
	wait_until 20 aired_n "$1" "${2:-1}" || {
		t_fail "$1 never went on air (${2:-1})"
		tail -n 5 "$T/run.log"
		return 1
	}
}

on_air one.ogg
sleep 2
rm "$M/one.ogg"
on_air two.mp3
sleep 2.5
cat "$T/spare/two.mp3" >"$M/two.mp3" # in place: the same inode
on_air three.ogg
cat "$T/spare/garbage" >"$M/four.wav" # before it is due
sleep 2
: >"$M/three.ogg"
on_air five.wav
sleep 2
cat "$T/spare/garbage" >"$M/five.wav"
on_air seven.ogg
sleep 2.5
mv "$T/spare/seven.ogg" "$M/seven.ogg"
# The second round: one, three, four and five are skipped; two and seven
# air their new sound. Done when seven has played again.
on_air seven.ogg 2
sleep 7.5
t_check "the daemon ran through it all" kill -0 "$pid"
kill -TERM "$pid"
rc=0
timeout 10 tail --pid="$pid" -f /dev/null || true
wait "$pid" || rc=$?
t_check "SIGTERM: exit 0 (got $rc)" test "$rc" -eq 0
grep -E '^(warn|error)|on air' "$T/run.log" | sed "s|$T/||g"

# --- the log: each breakage once, with a clear line --------------------
lines() { grep -E '^(warn|error)' "$T/run.log" | grep -F "$M/$1" || true; }
says() { # NAME COUNT PATTERN...: COUNT lines name NAME, in this order
	local name=$1 count=$2 got i=0
	shift 2
	mapfile -t got < <(lines "$name")
	((${#got[@]} == count)) || return 1
	for pat in "$@"; do
		grep -q -- "$pat" <<<"${got[i]}" || return 1
		i=$((i + 1))
	done
}
t_check "deleted while it played: one line, when next due" \
	says one.ogg 1 'cannot open: No such file or directory'
t_check "rewritten in place while it played: one line" \
	says two.mp3 1 'changed on disk while in use'
t_check "truncated while it played: one line; then 'empty file'" \
	says three.ogg 2 'changed on disk while in use (now 0 bytes' 'empty file'
t_check "garbage before it was due: one line, not tried again" \
	says four.wav 1 'not an audio file'
t_check "garbage while it played: one line; then 'not an audio file'" \
	says five.wav 2 'changed on disk while in use' 'not an audio file'
t_check "untouched and renamed-over files: no line" \
	test -z "$(lines six.ogg)$(lines seven.ogg)"
t_check "no dead air and no error logged" \
	bash -c "! grep -q -e 'dead air' -e '^error' '$T/run.log'"

# --- the as-run log and the audio ---------------------------------------
t_check "the database is consistent" test "$(q 'PRAGMA integrity_check')" = ok
for f in 300 400 500 600 700 800 900 1000 1100; do
	"$TONEFIND" "$T/out.ogg" "$f" | sed "s/^tone/tone $f/" >>"$T/tones"
done
python3 - "$DB" "$T/tones" >"$T/check" <<'PY' || true
import datetime, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT started_at, duration_ms, ended_early, path FROM asrun"
    " ORDER BY started_at").fetchall()
tones, sound, total = {}, [], 0.0
for line in open(sys.argv[2]):
    w = line.split()
    if w[0] == "tone":
        tones.setdefault(int(w[1]), []).append((float(w[2]), float(w[3])))
    elif w[0] == "sound":
        sound.append((float(w[1]), float(w[2])))
    elif w[0] == "total_s":
        total = float(w[1])
sound = sorted(set(sound))
def t(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()
t0 = t(rows[0][0])
def cover(f, a, b):
    return sum(max(0, min(e, b) - max(s, a)) for s, e in tones.get(f, []))
fails = []
def want(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fails.append(what)
# What aired, in order (SIGTERM fades out whatever comes after).
names = [r[3].rsplit("/", 1)[1] for r in rows]
plan = [("one.ogg", 300, 0), ("two.mp3", 400, 1), ("three.ogg", 500, 1),
        ("five.wav", 700, 1), ("six.ogg", 800, 0), ("seven.ogg", 900, 0),
        ("two.mp3", 1000, 0), ("six.ogg", 800, 0), ("seven.ogg", 1100, 0)]
want(names[:len(plan)] == [p[0] for p in plan],
     "as-run order " + " ".join(names))
for (name, f, early), r in zip(plan, rows):
    a, d = t(r[0]) - t0, r[1] / 1000
    want(r[2] == early, f"{name} at {a:.1f} s for {d:.2f} s: ended_early {r[2]}")
    if not early:
        want(d > 6.9, f"{name} played whole ({d:.2f} s)")
    # Its tone fills its time but for the 1 s crossfades at either end.
    c = cover(f, a, a + d)
    want(c >= max(0.5, d - 2.2), f"{name}: {f} Hz on air {c:.2f} of {d:.2f} s")
# Nothing of a replacement aired under the old name.
a2, d2 = t(rows[1][0]) - t0, rows[1][1] / 1000
want(cover(1000, 0, a2 + d2) == 0, "the rewritten two.mp3 never aired before its second turn")
# No silence over 2 s, and nothing but the tones (garbage would be noise).
gaps = [b[0] - a[1] for a, b in zip(sound, sound[1:])]
gaps += [sound[0][0], total - sound[-1][1]] if sound else [total]
want(max(gaps) <= 2.0, f"longest silence {max(gaps):.2f} s")
covered, reach = 0.0, 0.0
for s, e in sorted(x for v in tones.values() for x in v):
    covered += max(0.0, e - max(s, reach))
    reach = max(reach, e)
want(covered >= 0.9 * total, f"tones cover {covered:.1f} of {total:.1f} s")
span = max(t(r[0]) + r[1] / 1000 for r in rows) - t0
want(abs(span - total) < 0.5, f"as-run spans {span:.2f} s, the output holds {total:.2f} s")
print("ok" if not fails else "bad")
PY
cat "$T/check"
t_check "the as-run log says what aired, and the audio agrees" \
	test "$(tail -n 1 "$T/check")" = ok
t_done
