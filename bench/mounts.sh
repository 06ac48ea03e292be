#!/usr/bin/env bash
#
# mounts.sh - what a second mount costs: the daemon (pulse-radio run) on
# the same schedule for the same wall time with one output (128 kbps
# stereo) and with two (plus a 40 kbps mono "low data" mount from the same
# mix), interleaved, in one run.
#
# Usage: bench/mounts.sh [--seconds S] [--runs N] [--build DIR] [--no-build]
#
#   --seconds S   how long each run airs, in real time (default 60)
#   --runs N      runs of each, interleaved; the least CPU is kept (2)
#   --build DIR   the build holding pulse-radio (default build/)
#   --no-build    use it as it is
#
# Outputs are files (file:), so no Icecast is needed: the daemon paces
# them in real time as it would a mount, and each has its own encoder,
# exactly as two Icecast mounts would. The media are the schedule
# benchmark's (bench/music.sh). Prints CPU seconds (user+sys) per hour
# of audio for each, the second mount's share, and peak RSS; then
# key=value lines (grep '^second_mount_pct=').
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
SECONDS_EACH=60
RUNS=2
BUILD="$REPO/build"
DO_BUILD=1

usage() {
	sed -n '3,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
posint() { [[ ${1:-} =~ ^[1-9][0-9]*$ ]] || usage; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--seconds) posint "${2:-}"; SECONDS_EACH=$2; shift 2 ;;
	--runs) posint "${2:-}"; RUNS=$2; shift 2 ;;
	--build)
		[[ -n ${2:-} ]] || usage
		BUILD=$(mkdir -p "$2" && cd "$2" && pwd)
		shift 2
		;;
	--no-build) DO_BUILD=0; shift ;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done
say() { echo "bench: $*" >&2; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}
TIME=/usr/bin/time
for tool in sox lame sqlite3 timeout "$TIME" cmake; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/deps.sh"
done
PULSE="$BUILD/pulse-radio"
if [[ $DO_BUILD -eq 1 ]]; then
	[[ -f $BUILD/CMakeCache.txt ]] ||
		cmake -S "$REPO" -B "$BUILD" >"$BUILD/bench-cmake.log" 2>&1 ||
		die "cmake failed"
	cmake --build "$BUILD" -j2 --target pulse-radio >/dev/null 2>&1 ||
		die "pulse-radio does not build"
fi
[[ -x $PULSE ]] || die "$PULSE is missing"

WORK="$BUILD/bench"
# shellcheck source=bench/music.sh
source "$(dirname "${BASH_SOURCE[0]}")/music.sh"
MEDIA="$WORK/sched-media"
mkdir -p "$WORK"
bench_sched_media "$MEDIA" || die "making test media failed"
OUT="$WORK/mounts-out"
rm -rf "$OUT"
mkdir -p "$OUT"
DB="$OUT/pulse.db"
pr() { "$PULSE" "$@" --db "$DB" >>"$OUT/setup.log" 2>&1; }
{
	pr db init && pr library scan "$MEDIA" &&
		pr playlist import "$MEDIA/music/day.m3u" &&
		pr playlist import "$MEDIA/ids/ids.m3u" &&
		pr slot add all --days daily --start 00:00 --end 24:00 \
			--playlist day --jingles ids --jingle-every 3
} || die "could not build the database (log: $OUT/setup.log)"

# conf N: a configuration with N outputs.
conf() {
	cat >"$OUT/$1.conf" <<EOF
[station]
database = $DB
[output main]
url = file:$OUT/main-$1.ogg
bitrate = 128
EOF
	[[ $1 -eq 2 ]] && cat >>"$OUT/$1.conf" <<EOF
[output lowdata]
url = file:$OUT/low-$1.ogg
channels = 1
bitrate = 40
EOF
	chmod 600 "$OUT/$1.conf"
}
conf 1
conf 2

measure() { # N: prints "CPU_S PEAK_KB AUDIO_S"
	local n=$1 rc=0
	"$TIME" -f '%U %S %M' -o "$OUT/$n.time" \
		timeout -s TERM "$SECONDS_EACH" "$PULSE" run --config "$OUT/$n.conf" \
		>"$OUT/$n.log" 2>&1 || rc=$?
	# timeout's 124 is the normal end: SIGTERM after the period.
	[[ $rc -eq 0 || $rc -eq 124 ]] || die "run with $n output(s) failed (log: $OUT/$n.log)"
	tail -n 1 "$OUT/$n.time" | awk '{printf "%.3f %d ", $1 + $2, $3}'
	sed -n 's/.*stopped: [0-9]* items, \([0-9.]*\) s of audio.*/\1/p' "$OUT/$n.log"
}
best1=NA best2=NA rss1=0 rss2=0 a1=0 a2=0
minof() { awk -v a="$1" -v b="$2" 'BEGIN{print ((a == "NA" || b < a) ? b : a)}'; }
for ((r = 1; r <= RUNS; r++)); do
	for n in 1 2; do
		say "run $r/$RUNS: $n output(s), ${SECONDS_EACH} s"
		read -r cpu rss audio < <(measure "$n")
		say "  cpu $cpu s, rss $rss KB, audio $audio s"
		if [[ $n -eq 1 ]]; then
			best1=$(minof "$best1" "$cpu"); a1=$audio
			((rss > rss1)) && rss1=$rss
		else
			best2=$(minof "$best2" "$cpu"); a2=$audio
			((rss > rss2)) && rss2=$rss
		fi
	done
done
ph() { awk -v c="$1" -v a="$2" 'BEGIN{printf "%.2f", (a > 0 ? c * 3600 / a : 0)}'; }
ph1=$(ph "$best1" "$a1")
ph2=$(ph "$best2" "$a2")
pct=$(awk -v a="$ph1" -v b="$ph2" 'BEGIN{printf "%.1f", (b / a - 1) * 100}')
echo
echo "== mounts: pulse-radio run, ${SECONDS_EACH} s each in real time, least CPU of $RUNS runs"
printf '%-28s %14s %12s\n' outputs cpu_s_per_hour peak_rss_kb
printf '%-28s %14s %12s\n' "1 (128 kbps stereo)" "$ph1" "$rss1"
printf '%-28s %14s %12s\n' "2 (+ 40 kbps mono)" "$ph2" "$rss2"
echo "the second mount costs ${pct} % more CPU"
echo
cat <<EOF
seconds=$SECONDS_EACH
runs=$RUNS
cpu_s_per_hour_one=$ph1
cpu_s_per_hour_two=$ph2
second_mount_pct=$pct
peak_rss_one_kb=$rss1
peak_rss_two_kb=$rss2
EOF
