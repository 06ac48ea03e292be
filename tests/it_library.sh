#!/usr/bin/env bash
# it_library.sh - `pulse-radio library scan DIR` on a real folder: good MP3,
# Ogg and WAV files in sub-folders are measured into the track table; hidden
# files, a symlink out of the folder and non-audio files are left alone;
# bad files cost one line each and the scan goes on. A second scan decodes
# nothing; a changed file is measured again, a deleted one marked missing. A
# folder that does not exist is an error (exit 1, one line, no database).
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(mktemp -d)
lib_on_exit "rm -rf '$T'"
L=$T/lib
DB=$T/station.db
mkdir -p "$L/sub/deeper" "$L/.hdir"

media_tone "$L/a.mp3" 5 44100 2 440 "Song A" "Artist A"
media_tone "$L/b.ogg" 4 48000 1 550 "Song B" "Artist B"
media_tone "$L/c.wav" 3 44100 2 330
media_tone "$L/sub/d.mp3" 3 44100 2 660
media_tone "$L/sub/deeper/e.ogg" 3 44100 2 220 "Song E" "Artist E"
media_tone "$T/full.mp3" 6 44100 2 330 "Half" "Cut"
# Half an MP3 still plays (shorter); its first 300 bytes do not.
head -c "$(($(stat -c %s "$T/full.mp3") / 2))" "$T/full.mp3" >"$L/half.mp3"
head -c 300 "$T/full.mp3" >"$L/trunc.mp3"
media_tone "$L/.hidden.mp3" 2 44100 2 440
media_tone "$L/.hdir/f.wav" 2 44100 2 440
media_tone "$T/outside.wav" 2 44100 2 440
ln -s "$T/outside.wav" "$L/out.wav"
ln -s "$T" "$L/sub/up"
: >"$L/zero.mp3"
echo "This is not audio, it is a shopping list." >"$L/text.ogg"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0' >"$L/png.mp3"
head -c 4000 /dev/urandom >>"$L/png.mp3"
echo "liner notes" >"$L/notes.txt"

q() {
	python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

scan() {
	rc=0
	"$PULSE_RADIO" library scan "$L" --db "$DB" >"$T/out" 2>"$T/err" || rc=$?
	cat "$T/out" "$T/err"
}

rc=0
"$PULSE_RADIO" db init --db "$DB" || rc=$?
t_check "db init (exit $rc)" test "$rc" -eq 0

scan
t_check "first scan exits 0 with bad files (got $rc)" test "$rc" -eq 0
t_check "first scan summary" grep -qx "scanned 10 files: 6 added, 0 updated, 0 unchanged, 4 bad, 0 missing" "$T/out"
for bad in zero.mp3 text.ogg png.mp3 trunc.mp3; do
	n=$(grep -c -- "/$bad" "$T/err" || true)
	t_check "one line for $bad (got $n)" test "$n" -eq 1
done
n=$(grep -c -- "/half.mp3: ended after" "$T/err" || true)
t_check "half.mp3: the decoder's one warning (got $n)" test "$n" -eq 1
n=$(wc -l <"$T/err")
t_check "nothing else logged ($n lines)" test "$n" -eq 5
t_check "six rows" test "$(q 'SELECT count(*) FROM track')" -eq 6
t_check "no hidden, linked or non-audio file" test "$(q "SELECT count(*) FROM track WHERE path LIKE '%/.%' OR path LIKE '%out%' OR path LIKE '%notes%' OR path LIKE '%/up/%'")" -eq 0
real=$(realpath "$L")
t_check "absolute real paths" test "$(q "SELECT count(*) FROM track WHERE substr(path, 1, length('$real/')) = '$real/'")" -eq 6
t_check "tags of a.mp3" test "$(q "SELECT title || '/' || artist FROM track WHERE path = '$real/a.mp3'")" = "Song A/Artist A"
t_check "c.wav titled by its name" test "$(q "SELECT title || '/' || artist FROM track WHERE path = '$real/c.wav'")" = "c/"
t_check "c.wav lasts exactly 3 s" test "$(q "SELECT duration_ms FROM track WHERE path = '$real/c.wav'")" -eq 3000
t_check "half.mp3 measured as it decodes (about 3 s)" within "$(q "SELECT duration_ms FROM track WHERE path = '$real/half.mp3'")" 3000 400
# media_tone: a sine at -8 dBFS peak on each channel (-11 dB power each,
# -8 dB for the pair), and BS.1770's -0.691 offset (the K-filter is about
# flat at 220-660 Hz): -8.7 LUFS. Mono b.ogg (sox: -14 dB RMS) plays on
# both channels, and is measured so: -14 + 3 - 0.691 = -11.7 LUFS.
t_check "loudness plausible" test "$(q 'SELECT count(*) FROM track WHERE loudness_lufs BETWEEN -14 AND -6 AND peak_dbfs BETWEEN -9 AND -1')" -eq 6
t_check "c.wav near -8.7 LUFS" within "$(q "SELECT loudness_lufs FROM track WHERE path = '$real/c.wav'")" -8.7 0.5
t_check "a.mp3 near -8.7 LUFS" within "$(q "SELECT loudness_lufs FROM track WHERE path = '$real/a.mp3'")" -8.7 0.7
t_check "b.ogg (mono) near -11.7 LUFS" within "$(q "SELECT loudness_lufs FROM track WHERE path = '$real/b.ogg'")" -11.7 0.7
t_check "cue points inside the file" test "$(q 'SELECT count(*) FROM track WHERE cue_in_ms < 50 AND cue_out_ms BETWEEN duration_ms - 50 AND duration_ms AND enabled = 1')" -eq 6

start=$(date +%s%N)
scan
ms=$((($(date +%s%N) - start) / 1000000))
t_check "second scan exits 0" test "$rc" -eq 0
t_check "second scan: all unchanged" grep -qx "scanned 10 files: 0 added, 0 updated, 6 unchanged, 4 bad, 0 missing" "$T/out"
t_check "second scan is fast (${ms} ms)" test "$ms" -lt 3000

id=$(q "SELECT id FROM track WHERE path = '$real/c.wav'")
media_tone "$L/c.wav" 2 44100 2 330
touch -d '+1 hour' "$L/a.mp3" # same bytes, new mtime
scan
t_check "changed files only: 2 updated" grep -qx "scanned 10 files: 0 added, 2 updated, 4 unchanged, 4 bad, 0 missing" "$T/out"
t_check "c.wav keeps its id, new duration" test "$(q "SELECT id || ':' || duration_ms FROM track WHERE path = '$real/c.wav'")" = "$id:2000"

cp "$L/sub/d.mp3" "$T/d.mp3.saved"
rm "$L/sub/d.mp3"
scan
t_check "deleted file: missing" grep -qx "scanned 9 files: 0 added, 0 updated, 5 unchanged, 4 bad, 1 missing" "$T/out"
t_check "its row stays, marked missing" test "$(q "SELECT missing FROM track WHERE path = '$real/sub/d.mp3'")" = 1
t_check "the missing file is named" grep -q "sub/d.mp3: missing" "$T/err"

# It comes back (a disk remounted): measured again and back on air.
cp "$T/d.mp3.saved" "$L/sub/d.mp3"
scan
t_check "back again: 1 updated, 0 missing" grep -qx "scanned 10 files: 0 added, 1 updated, 5 unchanged, 4 bad, 0 missing" "$T/out"
t_check "back again: not missing" test "$(q "SELECT missing FROM track WHERE path = '$real/sub/d.mp3'")" = 0
rm "$L/sub/d.mp3"
scan

rc=0
"$PULSE_RADIO" library list --db "$DB" >"$T/list" 2>"$T/err" || rc=$?
cat "$T/list"
t_check "list exits 0" test "$rc" -eq 0
t_check "list: six lines" test "$(wc -l <"$T/list")" -eq 6
t_check "list: artist - title" grep -q "^Artist A - Song A  0:05.0  -[0-9.]* LUFS  cue 0.00-5.00$" "$T/list"
t_check "list: the missing one" grep -q "^d .*\[missing\]$" "$T/list"

rc=0
"$PULSE_RADIO" library scan "$T/nope" --db "$T/new.db" >"$T/out" 2>"$T/err" || rc=$?
cat "$T/err"
t_check "missing folder: exit 1 (got $rc)" test "$rc" -eq 1
t_check "missing folder: one line" test "$(wc -l <"$T/err")" -eq 1
t_check "missing folder: no database made" test ! -e "$T/new.db"

rc=0
"$PULSE_RADIO" library >/dev/null 2>&1 || rc=$?
t_check "no subcommand: usage (exit 2, got $rc)" test "$rc" -eq 2
t_check "--help" "$PULSE_RADIO" library --help
t_done
