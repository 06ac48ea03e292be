#!/usr/bin/env bash
# it_news.sh - city news bulletins, from `bulletin add` to the rendered
# stream, with real espeak-ng speech and a real SQLite queue.
#
#  - breaking news airs at once (here: as the render starts);
#  - at the 10:00 news minute the song playing is faded (a hard event), a
#    tone-marked intro jingle (1000 Hz, found in the audio with a Goertzel
#    filter) is followed by speech for as long as the bulletins last, then
#    the outro (1500 Hz);
#  - the bulletins air in priority then age order, each
#    once (a second render of the same hour airs none), with their ids in
#    the as-run log; a withdrawn and an expired one never air; one with a
#    not-before time waits for the 10:30 news;
#  - bad input is refused with one line and leaves the queue unchanged;
#    control characters and markup are removed, never spoken.
#
# The station rate is 8000 Hz mono, the audio an Ogg file: a rendered hour
# takes seconds.
set -euo pipefail
: "${PULSE_RADIO:?} ${TONEFIND:?} ${TONELEVEL:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO
DB=$T/pulse.db
RATE=(--rate 8000 --channels 1)
mkdir -p "$T/music" "$T/news"

for i in $(seq 1 12); do
	media_tone "$T/music/m$i.ogg" $((40 + i * 7)) 8000 1 $((200 + i * 25)) \
		"Song $i" "Band $((i % 6))" &
done
# A jingle that is one pure tone, for the Goertzel filter to find.
jingle() { # OUT SECONDS FREQ TITLE
	sox -q -n -r 8000 -c 1 -b 16 "$1.wav" synth "$2" sine "$3" gain -6
	oggenc --quiet -q 3 -t "$4" -a "Pulse Radio" -o "$1" "$1.wav"
	rm -f "$1.wav"
}
jingle "$T/news/intro.ogg" 1.5 1000 "News intro" &
jingle "$T/news/outro.ogg" 1 1500 "News outro" &
jingle "$T/news/sting.ogg" 0.5 2500 "News sting" &
wait
p() { "$P" "$@" --db "$DB"; }
q() { sqlite3 "$DB" "$1"; }
p db init >/dev/null
p library scan "$T" >/dev/null
(cd "$T/music" && ls -- *.ogg >music.m3u)
for n in intro outro sting; do echo "$n.ogg" >"$T/news/$n.m3u"; done
for l in music/music news/intro news/outro news/sting; do
	p playlist import "$T/$l.m3u" >/dev/null
done
p db set title_separation_s 600 >/dev/null
p db set artist_separation_s 60 >/dev/null
p db set news_intro_playlist intro >/dev/null
p db set news_outro_playlist outro >/dev/null
p db set news_sting_playlist sting >/dev/null
p slot add day --days daily --start 00:00 --end 24:00 --playlist music \
	--news 0,30 >/dev/null

# --- the queue, and bad input ------------------------------------------
# The state of the queue: refused input must leave it as it was.
queue() { q "SELECT count(*), ifnull(max(id), 0) FROM bulletin"; }
refused() {
	local msg=$1 pat=$2 before rc=0
	shift 2
	before=$(queue)
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if ((rc != 1)); then
		t_fail "$msg: exit $rc, want 1: $(cat "$T/err")"
	elif (($(wc -l <"$T/err") != 1)); then
		t_fail "$msg: want one line on stderr, got: $(cat "$T/err")"
	elif ! grep -q -- "$pat" "$T/err"; then
		t_fail "$msg: '$pat' not in: $(cat "$T/err")"
	elif [[ $before != "$(queue)" ]]; then
		t_fail "$msg: the queue changed"
	else
		t_ok "$msg ($(cat "$T/err"))"
	fi
}
refused "empty text" "empty" p bulletin add ""
refused "whitespace only" "nothing to read" p bulletin add "   	  "
head -c 1048576 /dev/zero | tr '\0' 'a' >"$T/big.txt"
refused "1 MB of text" "longer than 65536 bytes" p bulletin add --file "$T/big.txt"
printf 'Water \xc3\x28 off\n' >"$T/bad-utf8.txt"
refused "invalid UTF-8" "not valid UTF-8" p bulletin add --file "$T/bad-utf8.txt"
printf 'abc\xc0\xaf\n' >"$T/overlong.txt"
refused "an overlong UTF-8 sequence" "not valid UTF-8" p bulletin add --file "$T/overlong.txt"
refused "only markup" "nothing to read" p bulletin add '<audio src="/etc/passwd"/><voice name="x"></voice>'
refused "an unknown language" "unknown language 'zu'" p bulletin add --lang zu "Sawubona"
refused "not-before after the expiry" "not before its expiry" \
	p bulletin add --not-before "2026-12-01 12:00" --expires "2026-12-01 11:00" "Late"
refused "a bad time" "bad --expires" p bulletin add --expires "tomorrow-ish" "Soon"
refused "withdraw: no such bulletin" "no bulletin 999" p bulletin withdraw 999
t_check "the queue is still empty" test "$(queue)" = "0|0"

# Accepted: control characters (espeak-ng's embedded commands) and markup
# are removed before anything is stored.
ok_add() { p bulletin add "$@" 2>"$T/err"; }
A=$(ok_add --by comms --not-before "2026-12-01 08:00" \
	"Water will be off in Soweto from 9:00 to 14:00 on 2026-12-02.")
B=$(ok_add --lang af "Die N1 is gesluit by die Grasmere-tolhek weens 'n ongeluk.")
C=$(ok_add --breaking "$(printf 'Breaking: \x01\x0250S a storm warning <audio src="/etc/passwd"/>for the CoJ area.')")
D=$(ok_add --not-before "2026-12-01 10:10" "Roads reopen at 10:15 after the parade.")
W=$(ok_add "This one is withdrawn before air.")
X=$(ok_add --expires +1m "This one expires before the render.")
t_check "add prints the new ids" test -n "$A" -a -n "$B" -a -n "$C" -a -n "$D"
p bulletin withdraw "$W" >/dev/null
t_check "withdrawn" test "$(q "SELECT state FROM bulletin WHERE id = $W")" = withdrawn
stored=$(q "SELECT text FROM bulletin WHERE id = $C")
t_check "control characters removed before storing" \
	bash -c "! printf '%s' '$stored' | grep -qP '[\\x00-\\x08\\x0b-\\x1f]'"
t_check "markup removed before storing: $stored" \
	bash -c "! printf '%s' '$stored' | grep -q -e '<' -e passwd"
p bulletin list >"$T/list"
t_check "list shows the waiting ones, breaking first" \
	bash -c "head -1 '$T/list' | grep -q '^$C .*breaking'"
t_check "list leaves out the withdrawn one" bash -c "! grep -q '^$W ' '$T/list'"

# --- a rendered hour with the news --------------------------------------
render() {
	"$P" render --from 2026-12-01T09:50 --hours 1 --db "$DB" --asrun \
		"${RATE[@]}" --output "file:$1" --log-level info 2>"$1.log"
}
rc=0
render "$T/hour.ogg" || rc=$?
t_check "render with news: exit 0 (got $rc)" test "$rc" -eq 0
grep -E 'news|bulletin' "$T/hour.ogg.log" || true
"$TONEFIND" "$T/hour.ogg" 1000 >"$T/intro.txt"
"$TONEFIND" "$T/hour.ogg" 1500 >"$T/outro.txt"
cat "$T/intro.txt" "$T/outro.txt" | grep -v '^sound' || true
# 10:00 is 600 s into the render; 10:30 is 2400 s.
intro=$(awk '$1 == "tone" && $2 > 590 && $2 < 610 {print $2, $3; exit}' "$T/intro.txt")
t_check "the intro jingle starts on the 10:00 news minute (at ${intro:-none})" \
	within "${intro%% *}" 600 1
outro=$(awk '$1 == "tone" && $2 > 600 && $2 < 700 {print $2; exit}' "$T/outro.txt")
read -r dur_ab < <(q "SELECT sum(duration_ms) / 1000.0 FROM bulletin WHERE id IN ($A, $B)")
between=$(python3 -c "print(round(${outro:-0} - ${intro#* }, 2))" 2>/dev/null || echo none)
t_check "intro, two bulletins and a sting, outro ($between s for $dur_ab s + 0.5 s)" \
	within "$between" "$(python3 -c "print($dur_ab + 0.5)")" 0.3
speech=$(awk -v a="${intro#* }" '$1 == "sound" && $2 <= a + 0.5 && $3 > a + 2 {print $3 - a; exit}' "$T/intro.txt")
t_check "sound (speech) follows the intro at once (for $speech s)" test -n "$speech"
t_check "the 10:30 news has its intro" \
	bash -c "awk '\$1 == \"tone\" && \$2 > 2399 && \$2 < 2402' '$T/intro.txt' | grep -q ."
order=$(q "SELECT group_concat(bulletin_id, ',') FROM (SELECT bulletin_id FROM asrun
	WHERE bulletin_id IS NOT NULL ORDER BY id)")
t_check "breaking at once, then oldest first; not-before waits (order $order)" \
	test "$order" = "$C,$A,$B,$D"
t_check "the breaking one aired as the render began, after its intro" \
	test "$(q "SELECT started_at FROM asrun WHERE bulletin_id = $C")" = 2026-12-01T07:50:01.500Z
t_check "each aired bulletin is marked aired" \
	test "$(q "SELECT group_concat(id, ',') FROM (SELECT id FROM bulletin WHERE state = 'aired' ORDER BY id)")" = \
	"$(printf '%s\n' "$A" "$B" "$C" "$D" | sort -n | paste -sd,)"
t_check "the withdrawn one never aired" \
	test "$(q "SELECT count(*) FROM asrun WHERE bulletin_id = $W")" = 0
t_check "the expired one never aired, and is marked expired" \
	test "$(q "SELECT state || '/' || (SELECT count(*) FROM asrun WHERE bulletin_id = $X)
		FROM bulletin WHERE id = $X")" = "expired/0"
first=$(q "SELECT started_at FROM asrun WHERE bulletin_id = $A")
t_check "the first bulletin starts after the 1.5 s intro at 10:00 ($first)" \
	bash -c "[[ '$first' == 2026-12-01T08:00:01.5* ]]"
cut=$(q "SELECT count(*) FROM asrun WHERE started_at < '2026-12-01T08:00:00' AND
	datetime(started_at, '+' || (duration_ms / 1000.0) || ' seconds') > '2026-12-01 08:00:00.5'")
t_check "nothing runs over the 10:00 news minute" test "$cut" = 0
t_check "the rendered bulletins are kept as Ogg files" \
	test -s "$T/bulletins/bulletin-$A.ogg"

# Exactly once: the same hour again airs no bulletin.
before=$(q "SELECT count(*) FROM asrun WHERE bulletin_id IS NOT NULL")
render "$T/again.ogg"
t_check "a second render airs no bulletin again" \
	test "$(q "SELECT count(*) FROM asrun WHERE bulletin_id IS NOT NULL")" = "$before"
# A news minute with nothing due plays the configured item (here the
# 2500 Hz sting) on the minute, or is skipped without it.
p db set news_empty_playlist sting >/dev/null
"$P" render --from 2026-12-01T10:55 --hours 0.2 --db "$DB" --asrun \
	"${RATE[@]}" --output "file:$T/empty.ogg" --log-level warn
"$TONEFIND" "$T/empty.ogg" 2500 >"$T/empty.txt"
t_check "nothing due at 11:00: news_empty_playlist plays on the minute" \
	bash -c "awk '\$1 == \"tone\" && \$2 > 299.9 && \$2 < 300.2' '$T/empty.txt' | grep -q ."
p db set news_empty_playlist "" >/dev/null
"$P" render --from 2026-12-01T10:55 --hours 0.2 --db "$DB" --asrun \
	"${RATE[@]}" --output "file:$T/skip.ogg" --log-level warn
"$TONEFIND" "$T/skip.ogg" 2500 >"$T/skip.txt"
t_check "without it, the news minute is skipped" \
	bash -c "! grep -q '^tone' '$T/skip.txt'"
# A music bed under the news (slot edit --news-bed): a 3300 Hz tone at
# news_bed_db under the whole block, heard alone in the pauses after each
# bulletin; never outside the block, never under dry news.
jingle "$T/news/bed.ogg" 60 3300 "News bed"
p library scan "$T/news" >/dev/null
echo bed.ogg >"$T/news/bed.m3u"
p playlist import "$T/news/bed.m3u" >/dev/null
p slot edit day --news-bed bed >/dev/null
E=$(ok_add --not-before "2026-12-01 11:26" "The water tanker is at the Orlando stadium until five.")
"$P" render --from 2026-12-01T11:25 --hours 0.2 --db "$DB" --asrun \
	"${RATE[@]}" --output "file:$T/bed.ogg" --log-level warn
"$TONEFIND" "$T/bed.ogg" 3300 >"$T/bed.txt"
grep '^tone' "$T/bed.txt" || true
read -r e_dur < <(q "SELECT duration_ms / 1000.0 FROM bulletin WHERE id = $E")
t_check "the bed is heard in the news block (11:30, 300 s in)" \
	bash -c "awk '\$1 == \"tone\" && \$2 >= 300 && \$3 <= 300 + 1.5 + $e_dur + 1 + 0.2' '$T/bed.txt' | grep -q ."
t_check "and nowhere outside it" \
	bash -c "! awk '\$1 == \"tone\" && (\$2 < 300 || \$3 > 300 + 1.5 + $e_dur + 1 + 0.2)' '$T/bed.txt' | grep -q ."
# Ducked under speech: the bed at its level under the intro, 12 dB
# (duck_db) lower in the quiet tail of the spoken bulletin (no speech to
# blur the measure), reached within the 200 ms attack.
"$TONELEVEL" "$T/bed.ogg" 20 3300 >"$T/bed.lv"
duck=$(awk -v e="$e_dur" '$1 >= 301.05 && $1 + 0.02 <= 301.45 { up += $5; nu++ }
	$1 >= 301.5 + e - 0.7 && $1 + 0.02 <= 301.5 + e - 0.05 { dn += $5; nd++ }
	END { printf "%.2f", dn / nd - up / nu }' "$T/bed.lv")
t_check "the bed goes 12 dB down under speech (measured $duck dB)" \
	within "$duck" -12 1
"$TONEFIND" "$T/hour.ogg" 3300 >"$T/dry.txt"
t_check "no bed under dry news" bash -c "! grep -q '^tone' '$T/dry.txt'"
t_check "withdraw after air is refused" \
	bash -c "! '$P' bulletin withdraw $A --db '$DB' 2>&1 | grep -v 'too late' | grep -q ."
t_done
