#!/usr/bin/env bash
# it_fault_diskfull.sh - the disk the rendered bulletins go to is full
# (issue 7, faults). bulletin_dir is a 256 KiB tmpfs, filled to the last
# block with a file of zeros; bulletins are queued; then the filler is
# removed. What real software must do, and what is checked:
#
#  - one clear line: which bulletin, which path, "No space left on device"
#    (not one per try: the newsroom backs off, 1 s doubling to 8 s);
#  - the bulletins stay queued, never marked failed: nothing is lost;
#  - the programme goes on (music, as-run rows, no dead air);
#  - once there is space they are spoken, said in one line, and air
#    exactly once.
#
# Twice: in a render on a simulated clock (the newsroom works in the
# player's thread; a normal bulletin misses the 10:00 news while the disk
# is full and airs at 10:30 once it is not), and in the daemon, `run
# --config`, in real time (the newsroom's own thread; breaking news airs
# at once when it is spoken).
#
# Mounting a tmpfs needs root (as CI runs), or else an unprivileged user
# and mount namespace, which the test enters by itself when it can.
set -euo pipefail
: "${PULSE_RADIO:?} ${TONEFIND:?} ${PULSE_SRC:?}"

# A real small filesystem: root may mount one; others try a namespace.
can_mount() {
	local d
	d=$(mktemp -d) || return 1
	mount -t tmpfs -o size=64k tmpfs "$d" 2>/dev/null && umount "$d"
	local rc=$?
	rmdir "$d"
	return $rc
}
if ! can_mount; then
	if [[ -z ${PULSE_FAULT_USERNS:-} ]] &&
		unshare --user --map-root-user --mount true 2>/dev/null; then
		PULSE_FAULT_USERNS=1 exec unshare --user --map-root-user \
			--mount bash "$0" "$@"
	fi
	echo "it_fault_diskfull: cannot mount a tmpfs here (needs root or" \
		"unprivileged user namespaces)" >&2
	exit 1
fi

source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"
P=$PULSE_RADIO
DB=$T/pulse.db
NEWS=$T/news-audio
q() { sqlite3 "$DB" "$1"; }
p() { "$P" "$@" --db "$DB"; }

mkdir -p "$T/music" "$T/jingles" "$NEWS"
mount -t tmpfs -o size=256k,mode=0755 tmpfs "$NEWS"
lib_on_exit "umount '$NEWS' || umount -l '$NEWS'"
fill() { # the disk to the last block; true if it is full
	dd if=/dev/zero of="$NEWS/filler" bs=4k 2>/dev/null || true
	test "$(df --output=avail -B1 "$NEWS" | tail -n 1)" -eq 0
}

for i in 1 2 3 4; do
	media_tone "$T/music/m$i.ogg" $((8 + i)) 44100 1 $((300 + i * 60)) \
		"Song $i" "Band $i" &
done
sox -q -n -r 44100 -c 1 -b 16 "$T/jingles/intro.wav" synth 1 sine 1000 gain -6
oggenc --quiet -q 3 -t "News intro" -o "$T/jingles/intro.ogg" "$T/jingles/intro.wav"
rm "$T/jingles/intro.wav"
wait
p db init >/dev/null
p library scan "$T/music" >/dev/null
p library scan "$T/jingles" >/dev/null
(cd "$T/music" && ls -- m*.ogg >music.m3u)
echo intro.ogg >"$T/jingles/intro.m3u"
p playlist import "$T/music/music.m3u" >/dev/null
p playlist import "$T/jingles/intro.m3u" >/dev/null
p db set timezone Africa/Johannesburg >/dev/null
p db set bulletin_dir "$NEWS" >/dev/null
p db set news_intro_playlist intro >/dev/null
p db set breaking_mode now >/dev/null
p db set title_separation_s 0 >/dev/null
p db set artist_separation_s 0 >/dev/null
p slot add all --days daily --start 00:00 --end 24:00 --playlist music \
	--news 0,30 >/dev/null
state() { q "SELECT group_concat(state, ',') FROM (SELECT state FROM bulletin
	WHERE id IN ($1) ORDER BY id)"; }
airings() { q "SELECT count(*) FROM asrun WHERE bulletin_id = $1 AND ended_early = 0"; }
nospace() { # LOG ID: lines saying bulletin ID's file did not fit
	grep -c "^error: bulletin $2: cannot write $NEWS/bulletin-$2.ogg: No space left on device" "$1" || true
}

# --- 1. a render across two news minutes --------------------------------
t_check "the bulletin disk is full" fill
N1=$(p bulletin add "The library in Orlando East is closed on Monday for repairs.")
render() { # FROM LOG
	"$P" render --from "$1" --hours 0.05 --db "$DB" --asrun --rate 44100 \
		--channels 1 --output "file:$T/render.ogg" --log-level info 2>"$2"
}
rc=0
render 2030-01-01T09:58 "$T/render1.log" || rc=$?
grep -E '^(warn|error)|news|bulletin' "$T/render1.log" | sed "s|$T/||g" || true
t_check "render with the disk full: exit 0 (got $rc)" test "$rc" -eq 0
t_check "one line: bulletin $N1, its path, no space ($(nospace "$T/render1.log" "$N1"))" \
	test "$(nospace "$T/render1.log" "$N1")" -eq 1
t_check "no other error" \
	test "$(grep -c '^error' "$T/render1.log")" -eq 1
t_check "the bulletin stays queued" test "$(state "$N1")" = queued
t_check "it did not air at 10:00" test "$(airings "$N1")" -eq 0
t_check "the music went on: 3 minutes of as-run" \
	test "$(q "SELECT sum(duration_ms) FROM asrun WHERE started_at >= '2030'")" -ge 179000
t_check "nothing half-written left on the disk" \
	test -z "$(find "$NEWS" -name '*.part')"
rm "$NEWS/filler"
render 2030-01-01T10:28 "$T/render2.log" || true
grep -E '^(warn|error)|news|bulletin' "$T/render2.log" | sed "s|$T/||g" || true
t_check "space again: spoken, and aired at 10:30" \
	test "$(state "$N1")/$(airings "$N1")" = aired/1
t_check "at 10:30 on the dot (after the intro)" \
	test "$(q "SELECT substr(started_at, 1, 19) FROM asrun WHERE bulletin_id = $N1")" = \
	2030-01-01T08:30:01
render 2030-01-01T10:58 "$T/render3.log" || true
t_check "and only once (another news minute airs it no more)" \
	test "$(airings "$N1")" -eq 1

# --- 2. the daemon, in real time ----------------------------------------
t_check "the bulletin disk is full again" fill
cat >"$T/pulse.conf" <<EOF
[station]
name = Pulse Fault Test
database = $DB
timezone = Africa/Johannesburg

[audio]
rate = 44100
channels = 1

[output archive]
url = file:$T/out.ogg

[log]
level = info
EOF
chmod 600 "$T/pulse.conf"
"$P" run --config "$T/pulse.conf" 2>"$T/run.log" &
pid=$!
lib_on_exit "kill -9 $pid 2>/dev/null"
wait_until 15 grep -q "^info: on air: .*($T/music/" "$T/run.log" ||
	t_fail "the daemon is not on air"
B1=$(p bulletin add --breaking "Breaking news. A burst water main closes Main Road in Fordsburg.")
B2=$(p bulletin add --breaking --lang af "Dringende nuus. Die krag is af in Soweto tot drie-uur.")
N2=$(p bulletin add "The clinic on Mooki Street opens at eight tomorrow.")
ids="$B1,$B2,$N2"
# Full for 5 s: tried at once, then 1, 2 (and 4) s later.
t_check "one line says the disk is full" \
	wait_until 5 grep -q "cannot write $NEWS/bulletin-$B1.ogg: No space left on device" "$T/run.log"
sleep 4
t_check "still one line after 5 s of tries ($(nospace "$T/run.log" "$B1"))" \
	test "$(nospace "$T/run.log" "$B1")" -eq 1
t_check "all three stay queued" test "$(state "$ids")" = queued,queued,queued
t_check "the daemon plays on" kill -0 "$pid"
rows_before=$(q "SELECT count(*) FROM asrun WHERE started_at < '2030'")
size_before=$(stat -c %s "$T/out.ogg")
rm "$NEWS/filler"
freed=$(date +%s%N)
rendered() { test -n "$(q "SELECT 1 FROM bulletin WHERE id = $B1 AND state != 'queued'")"; }
t_check "space again: spoken within 10 s" wait_until 10 rendered
echo "spoken $((($(date +%s%N) - freed) / 1000000)) ms after the space returned"
t_check "and said in one line" grep -q "newsroom: $NEWS takes files again" "$T/run.log"
both_aired() { test "$(airings "$B1")$(airings "$B2")" = 11; }
t_check "the breaking news aired within 20 s" wait_until 20 both_aired
sleep 1
kill -TERM "$pid"
rc=0
timeout 10 tail --pid="$pid" -f /dev/null || true
wait "$pid" || rc=$?
grep -E '^(warn|error)|news|bulletin|faded' "$T/run.log" | sed "s|$T/||g" || true
t_check "SIGTERM: exit 0 (got $rc)" test "$rc" -eq 0
t_check "the music went on meanwhile" \
	test "$(q "SELECT count(*) FROM asrun WHERE started_at < '2030'")" -gt "$rows_before" \
	-a "$(stat -c %s "$T/out.ogg")" -gt "$size_before"
t_check "each breaking bulletin aired exactly once" \
	test "$(state "$B1,$B2")/$(airings "$B1")/$(airings "$B2")" = aired,aired/1/1
n2=$(state "$N2")/$(airings "$N2")
t_check "the normal one is spoken, waiting for its news minute (or aired once: $n2)" \
	bash -c "[[ $n2 == rendered/0 || $n2 == aired/1 ]]"
t_check "none failed, none lost" \
	test "$(q "SELECT count(*) FROM bulletin WHERE state IN ('failed', 'queued')")" -eq 0
t_check "their files are on the small disk" \
	test -s "$NEWS/bulletin-$B1.ogg" -a -s "$NEWS/bulletin-$B2.ogg" -a -s "$NEWS/bulletin-$N2.ogg"
t_check "no other error, no dead air" \
	test "$(grep -c -e '^error' -e 'dead air' "$T/run.log")" -eq 1
"$TONEFIND" "$T/out.ogg" 1000 >"$T/tones"
gap=$(awk '$1 == "sound" { if (n++ && $2 - end > max) max = $2 - end; end = $3 }
	$1 == "total_s" { if (!n) max = $2; else if ($2 - end > max) max = $2 - end }
	END { printf "%.2f", max + 0 }' "$T/tones")
t_check "the stream never fell silent for over 2 s (longest $gap s)" \
	within "$gap" 1 1
t_check "the intro aired before the breaking news, and is heard" \
	test "$(q "SELECT title FROM asrun WHERE started_at < (SELECT started_at
		FROM asrun WHERE bulletin_id = $B1) ORDER BY started_at DESC LIMIT 1")" = "News intro" \
	-a -n "$(grep '^tone' "$T/tones")"
t_done
