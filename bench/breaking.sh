#!/usr/bin/env bash
#
# breaking.sh - latency of breaking news: from `pulse-radio bulletin add
# --breaking` to the bulletin's first sample on the stream, in real time.
#
# Usage: bench/breaking.sh [--build DIR] [--runs N] [--mode now|after-item]
#                          [--cache] [--no-build]
#
#   --build DIR   build dir holding pulse-radio (default build/; built if
#                 needed)
#   --runs N      bulletins sent, one at a time (default 7)
#   --mode M      breaking_mode (default now: "now, with a fade")
#   --cache       the daemon (`pulse-radio run`) with the encoded cache
#                 filled first, so most bulletins come while music is
#                 passed through (its blocks are longer)
#   --no-build    use the binary in DIR as it is
#
# `pulse-radio air` (or with --cache `run`) runs on the wall clock (44.1 kHz stereo, Vorbis q0.4,
# to a file: the encoder is in the path) over a schedule of 30-second
# songs. Every 12 s one breaking bulletin is added with the CLI; its
# latency is the as-run start of its first sample minus the wall time just
# before `bulletin add` ran. The baseline, measured in the same run, is the
# least any such pipeline needs: the espeak-ng CLI speaking the same text
# to a WAV file, started at the same moment (synthesis alone, no queue, no
# fade, no intro). Target: median latency under 10 s.
#
# Ends with key=value lines; exit 1 if something could not be run. Every
# wait is bounded; only 127.0.0.1 and local files are used.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
BUILD="$REPO/build"
RUNS=7
MODE=now
DO_BUILD=1
CACHE=0
TARGET_S=10

usage() {
	sed -n '3,29s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--runs)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
		RUNS=$2
		shift 2
		;;
	--mode)
		[[ ${2:-} == now || ${2:-} == after-item ]] || usage
		MODE=$2
		shift 2
		;;
	--build)
		[[ -n ${2:-} ]] || usage
		BUILD=$(mkdir -p "$2" && cd "$2" && pwd)
		shift 2
		;;
	--no-build)
		DO_BUILD=0
		shift
		;;
	--cache)
		CACHE=1
		shift
		;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done

say() { echo "bench: $*" >&2; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}
for tool in sox oggenc espeak-ng sqlite3 python3 timeout; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/deps.sh"
done
if [[ $DO_BUILD -eq 1 ]]; then
	[[ -f $BUILD/CMakeCache.txt ]] || cmake -S "$REPO" -B "$BUILD" >/dev/null
	cmake --build "$BUILD" -j2 --target pulse-radio >/dev/null ||
		die "pulse-radio does not build"
fi
P=$BUILD/pulse-radio
[[ -x $P ]] || die "$P is missing"

W=$(mktemp -d)
pid=
cleanup() {
	[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/music"
for i in 1 2 3 4 5 6; do
	sox -q -n -r 44100 -c 2 -b 16 "$W/m$i.wav" synth 30 sine $((200 + i * 40)) \
		sine $((300 + i * 60)) gain -10
	oggenc --quiet -q 3 -t "Song $i" -a "Band $i" -o "$W/music/m$i.ogg" "$W/m$i.wav"
	rm -f "$W/m$i.wav"
done
DB=$W/pulse.db
p() { "$P" "$@" --db "$DB" >/dev/null; }
p db init
p library scan "$W/music"
(cd "$W/music" && ls -- *.ogg >music.m3u)
p playlist import "$W/music/music.m3u"
p db set breaking_mode "$MODE"
p db set title_separation_s 0
p db set artist_separation_s 0
p slot add all --days daily --start 00:00 --end 24:00 --playlist music

if ((CACHE)); then
	cat >"$W/pulse.conf" <<EOF
[station]
database = $DB
encoded_cache = $W/cache
[output main]
url = file:$W/air.ogg
quality = 0.4
[log]
level = warn
EOF
	chmod 600 "$W/pulse.conf"
	"$P" run --config "$W/pulse.conf" --fill-cache 2>"$W/fill.log" ||
		die "run --fill-cache failed (log: $W/fill.log)"
	"$P" run --config "$W/pulse.conf" 2>"$W/air.log" &
else
	"$P" air --db "$DB" --quality 0.4 --output "file:$W/air.ogg" \
		--log-level warn 2>"$W/air.log" &
fi
pid=$!
sleep 3
TEXT="Breaking news. A burst water main has closed Main Road in Fordsburg; JMPD asks drivers to use Central Avenue until 18:00."
lat=()
base=()
for ((i = 1; i <= RUNS; i++)); do
	t0=$(date +%s.%N)
	id=$("$P" bulletin add --breaking --db "$DB" "$TEXT ($i)")
	b0=$(date +%s.%N)
	espeak-ng -w "$W/base.wav" "$TEXT ($i)"
	b1=$(date +%s.%N)
	base+=("$(python3 -c "print(f'{$b1 - $b0:.3f}')")")
	started=
	for _ in $(seq 200); do
		started=$(sqlite3 "$DB" "SELECT started_at FROM asrun WHERE
			bulletin_id = $id AND ended_early = 0")
		[[ -n $started ]] && break
		sleep 0.1
	done
	[[ -n $started ]] || die "bulletin $id did not air within 20 s (log: $W/air.log)"
	l=$(python3 -c "import datetime as d
t = d.datetime.strptime('$started', '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=d.timezone.utc)
print(f'{t.timestamp() - $t0:.3f}')")
	lat+=("$l")
	say "bulletin $i: on air after $l s (espeak-ng alone: ${base[-1]} s)"
	sleep 8
done
kill -INT "$pid"
wait "$pid" || true
pid=
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
	print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
m=$(median "${lat[@]}")
mb=$(median "${base[@]}")
mx=$(printf '%s\n' "${lat[@]}" | sort -g | tail -1)
ok=$(awk -v m="$m" -v t="$TARGET_S" 'BEGIN{print (m < t) ? "yes" : "no"}')
echo
echo "== breaking news ($MODE$( ((CACHE)) && echo ", encoded cache")): $RUNS bulletins, latency from 'bulletin add' to the first sample"
echo "median ${m} s, worst ${mx} s (target: median < ${TARGET_S} s);" \
	"espeak-ng alone on the same text: median ${mb} s" \
	"(ratio $(awk -v a="$m" -v b="$mb" 'BEGIN{printf "%.1f", a / b}'))"
cat <<EOF
mode=$MODE
cache=$CACHE
runs=$RUNS
latency_median_s=$m
latency_worst_s=$mx
latency_all_s=$(
	IFS=,
	echo "${lat[*]}"
)
espeak_cli_median_s=$mb
latency_ok=$ok
EOF
