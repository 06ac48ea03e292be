#!/usr/bin/env bash
#
# mixer.sh - what the broadcast sound costs: the same hour of programme
# rendered with crossfades, talk-over jingles with ducking and even
# loudness all on, against the same hour with all of it off, in one run.
#
# Usage: bench/mixer.sh [--minutes M] [--runs N] [--instructions]
#                       [--build DIR] [--work DIR] [--no-build] [--strict]
#
#   --minutes M      minutes of programme (default 60)
#   --runs N         runs of each, interleaved; the least CPU of each is
#                    kept (default 3)
#   --instructions   count instructions under valgrind's callgrind instead
#                    of CPU time: exact however busy the machine is, about
#                    50 times slower (use --minutes 10); --runs is then 1
#   --build DIR      build dir holding pulse-radio (default build/)
#   --work DIR       media, databases and outputs (default DIR/bench)
#   --no-build       use the binary in DIR as it is
#   --strict         exit 1 when the target is missed
#
# The media are the schedule benchmark's (bench/music.sh: 14 synthesised
# MP3s of 2.5 to 5 minutes, 3 spoken IDs, 44.1 kHz stereo). One slot all
# day plays them with an ID as jingle every 3 songs. Both databases are
# the same but for the sound:
#   off  crossfade 0, jingles between songs, no loudness measure (items
#        play as they are)
#   on   crossfade 3000 ms equal-power, jingles over the next song's start
#        (ducked 12 dB, 200/800 ms ramps), every item at -16 LUFS
# Both render with the limiter at 44.1 kHz stereo, each twice: to a file
# (Vorbis q0.4, the whole job) and to null: (decode, mix and limiter only,
# where nothing dilutes the mixer's share). The encoder's cost depends on
# the audio it is given (louder, denser music costs more bits), so the two
# file renders differ by their content too; and the limiter works harder
# on the unnormalised 'off' music (louder, often at the ceiling) than on
# music brought to -16 LUFS, so 'on' can come out cheaper. Target: on
# costs < 5 % more than off, in both. With --instructions it also prints
# the share of the instructions spent in src/mixer.c itself.
#
# Ends with key=value lines (grep '^extra_pct_'); "NA" for what could not
# be measured. No network is used; every run is bounded by timeout.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
MINUTES=60
RUNS=3
INSTR=0
BUILD="$REPO/build"
WORK=
DO_BUILD=1
STRICT=0
TARGET_PCT=5

usage() {
	sed -n '3,32s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
posint() { [[ ${1:-} =~ ^[1-9][0-9]*$ ]] || usage; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--minutes) posint "${2:-}"; MINUTES=$2; shift 2 ;;
	--runs) posint "${2:-}"; RUNS=$2; shift 2 ;;
	--instructions) INSTR=1; shift ;;
	--build)
		[[ -n ${2:-} ]] || usage
		BUILD=$(mkdir -p "$2" && cd "$2" && pwd)
		shift 2
		;;
	--work) [[ -n ${2:-} ]] || usage; WORK=$2; shift 2 ;;
	--no-build) DO_BUILD=0; shift ;;
	--strict) STRICT=1; shift ;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done
WORK=${WORK:-$BUILD/bench}
[[ $INSTR -eq 1 ]] && RUNS=1
HOURS=$(awk -v m="$MINUTES" 'BEGIN{printf "%g", m / 60}')

say() { echo "bench: $*" >&2; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}
TIME=/usr/bin/time
VG=()
if [[ $INSTR -eq 1 ]]; then
	command -v valgrind >/dev/null 2>&1 || die "valgrind is missing: run scripts/deps.sh"
	VG=(valgrind --tool=callgrind --quiet)
fi
for tool in sox lame sqlite3 timeout "$TIME" cmake; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/deps.sh"
done

PULSE="$BUILD/pulse-radio"
if [[ $DO_BUILD -eq 1 ]]; then
	[[ -f $BUILD/CMakeCache.txt ]] ||
		cmake -S "$REPO" -B "$BUILD" >"$BUILD/bench-cmake.log" 2>&1 ||
		die "cmake failed (see $BUILD/bench-cmake.log)"
	cmake --build "$BUILD" -j2 --target pulse-radio \
		>"$BUILD/bench-build-pulse.log" 2>&1 ||
		die "pulse-radio does not build (log: $BUILD/bench-build-pulse.log)"
fi
[[ -x $PULSE ]] || die "$PULSE is missing (build it, or drop --no-build)"

# shellcheck source=bench/music.sh
source "$(dirname "${BASH_SOURCE[0]}")/music.sh"
MEDIA="$WORK/sched-media"
mkdir -p "$WORK"
bench_sched_media "$MEDIA" || die "making test media failed"

OUT="$WORK/mixer-out"
rm -rf "$OUT"
mkdir -p "$OUT"
# make_db NAME XFADE OVER: the database of one variant.
make_db() {
	local db="$OUT/$1.db"
	pr() { "$PULSE" "$@" --db "$db" >>"$OUT/setup.log" 2>&1; }
	pr db init &&
		pr library scan "$MEDIA" &&
		pr playlist import "$MEDIA/music/day.m3u" &&
		pr playlist import "$MEDIA/ids/ids.m3u" &&
		pr db set title_separation_s 1800 &&
		pr db set artist_separation_s 600 &&
		pr slot add all --days daily --start 00:00 --end 24:00 \
			--playlist day --jingles ids --jingle-every 3 \
			--crossfade-ms "$2" --jingles-over "$3"
}
{
	make_db off 0 off &&
		sqlite3 "$OUT/off.db" "UPDATE track SET loudness_lufs = NULL" &&
		make_db on 3000 on
} || {
	tail -n 20 "$OUT/setup.log" >&2
	die "could not build the databases (log: $OUT/setup.log)"
}

LIMIT=$((MINUTES * 60 + 120))
[[ $INSTR -eq 1 ]] && LIMIT=$((MINUTES * 60 * 2 + 1200))
# measure NAME OUT: renders variant NAME once to OUT (file or null);
# prints CPU seconds (or instructions) and peak RSS in KB.
measure() {
	local name=$1 out=$2 rc=0 tag=$1-$2
	local -a dest=(--output null:)
	[[ $out == file ]] && dest=(--quality 0.4 --output "file:$OUT/$tag.ogg")
	cp "$OUT/$name.db" "$OUT/run.db"
	"$TIME" -f '%U %S %M' -o "$OUT/$tag.time" \
		timeout -k 10 "$LIMIT" "${VG[@]}" \
		${VG:+--callgrind-out-file="$OUT/$tag.cg"} \
		"$PULSE" render --from 2026-12-01T10:00 --hours "$HOURS" \
		--db "$OUT/run.db" --asrun --rate 44100 --channels 2 \
		"${dest[@]}" --log-level warn >"$OUT/$tag.log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		tail -n 20 "$OUT/$tag.log" >&2
		die "render ($tag) failed (exit $rc; log: $OUT/$tag.log)"
	fi
	cp "$OUT/run.db" "$OUT/$name.asrun.db"
	if [[ $INSTR -eq 1 ]]; then
		awk '/^(summary|totals):/ {n = $2} END {printf "%.0f 0\n", n}' \
			"$OUT/$tag.cg"
	else
		awk '{printf "%.3f %d\n", $1 + $2, $3}' "$OUT/$tag.time"
	fi
}
minof() { awk -v a="$1" -v b="$2" 'BEGIN{print ((a == "NA" || b < a) ? b : a)}'; }

declare -A cpu_of=([off-file]=NA [on-file]=NA [off-null]=NA [on-null]=NA)
declare -A rss_of=([off-file]=0 [on-file]=0 [off-null]=0 [on-null]=0)
for ((run = 1; run <= RUNS; run++)); do
	for tag in off-file on-file off-null on-null; do
		say "run $run/$RUNS: $tag"
		res=$(measure "${tag%-*}" "${tag#*-}") || exit 1
		read -r cpu rss <<<"$res"
		say "  $cpu, peak rss $rss KB"
		cpu_of[$tag]=$(minof "${cpu_of[$tag]}" "$cpu")
		((rss > ${rss_of[$tag]})) && rss_of[$tag]=$rss
	done
done

# What the 'on' hour did, from its as-run log: crossfades (an item
# starting before the one before it ended) and talk-overs.
read -r items crossed over < <(python3 - "$OUT/on.asrun.db" <<'PY'
import sqlite3, sys, datetime
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT started_at, duration_ms, artist FROM asrun ORDER BY started_at, id").fetchall()
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
crossed = over = 0
for (s0, d0, a0), (s1, d1, a1) in zip(rows, rows[1:]):
    if t(s1) < t(s0) + d0 / 1000 - 0.01:
        if a1 == "Pulse Radio":
            over += 1
        elif a0 != "Pulse Radio":
            crossed += 1
print(len(rows), crossed, over)
PY
)
# Under callgrind, the mixer's own instructions (src/mixer.c, exclusive)
# as a share of the whole 'on' render: the direct measure, free of what
# the sound changes elsewhere (see above).
share_file=NA share_null=NA
if [[ $INSTR -eq 1 ]] && command -v callgrind_annotate >/dev/null 2>&1; then
	mixer_share() {
		callgrind_annotate --inclusive=no --auto=no "$1" 2>/dev/null |
			awk '/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
			/^ *[0-9,]+ +\( *[0-9.]+%\) +[^ ]*src\/mixer\.c:/ {
				gsub(",", "", $1); mix += $1 }
			END { if (total) printf "%.3f", 100 * mix / total
			      else print "NA" }'
	}
	share_file=$(mixer_share "$OUT/on-file.cg")
	share_null=$(mixer_share "$OUT/on-null.cg")
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.4f", a / b}'; }
pct() { awk -v r="$1" 'BEGIN{printf "%.2f", (r - 1) * 100}'; }
ratio_file=$(ratio "${cpu_of[on-file]}" "${cpu_of[off-file]}")
ratio_null=$(ratio "${cpu_of[on-null]}" "${cpu_of[off-null]}")
extra_file=$(pct "$ratio_file")
extra_null=$(pct "$ratio_null")
ok=$(awk -v a="$extra_file" -v b="$extra_null" -v t="$TARGET_PCT" \
	'BEGIN{print (a < t && b < t) ? "yes" : "no"}')
unit=$([[ $INSTR -eq 1 ]] && echo instructions || echo cpu_s)

echo
echo "== mixer: $MINUTES min from 10:00, 44.1 kHz stereo," \
	"$([[ $INSTR -eq 1 ]] && echo "instructions (callgrind)" || echo "least CPU of $RUNS runs")"
printf '%-6s %16s %12s %16s %12s\n' sound "file_$unit" rss_kb "null_$unit" rss_kb
for v in off on; do
	printf '%-6s %16s %12s %16s %12s\n' "$v" "${cpu_of[$v-file]}" \
		"${rss_of[$v-file]}" "${cpu_of[$v-null]}" "${rss_of[$v-null]}"
done
echo "on: $items items, $crossed crossfades, $over talk-over jingles," \
	"loudness on every item"
echo "ratio on/off: $ratio_file to a file (Vorbis q0.4), $ratio_null to null:;" \
	"the sound costs ${extra_file} % / ${extra_null} % (target < ${TARGET_PCT} %)"
[[ $share_file == NA ]] ||
	echo "src/mixer.c's own instructions: ${share_file} % of the 'on' render" \
		"to a file, ${share_null} % of the one to null:"
echo
cat <<KV
measure=$unit
minutes=$MINUTES
runs=$RUNS
off_file=${cpu_of[off-file]}
on_file=${cpu_of[on-file]}
off_null=${cpu_of[off-null]}
on_null=${cpu_of[on-null]}
items_on=$items
crossfades_on=$crossed
talkovers_on=$over
ratio_on_off_file=$ratio_file
ratio_on_off_null=$ratio_null
extra_pct_file=$extra_file
extra_pct_null=$extra_null
extra_ok=$ok
mixer_share_pct_file=$share_file
mixer_share_pct_null=$share_null
peak_rss_on_file_kb=${rss_of[on-file]}
peak_rss_off_file_kb=${rss_of[off-file]}
KV
if [[ $STRICT -eq 1 && $ok != yes ]]; then
	say "the target was missed"
	exit 1
fi
exit 0
