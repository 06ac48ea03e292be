#!/usr/bin/env bash
#
# schedule.sh - CPU cost of running the schedule: pulse-radio render of N
# hours of programme against a bare decode -> encode of the same files.
#
# Usage: bench/schedule.sh [--hours H | --minutes M] [--runs N]
#                          [--from DATETIME] [--crossfade-ms N]
#                          [--instructions] [--build DIR] [--work DIR]
#                          [--no-build] [--strict]
#
#   --hours H          hours of programme to render (default 24)
#   --minutes M        or minutes of it
#   --instructions     count instructions (valgrind's callgrind) instead of
#                      CPU time: exact and repeatable however busy the
#                      machine is, but about 50 times slower, so use
#                      --minutes 15 or so; --runs is then 1
#   --runs N           runs of each program, interleaved (default 2;
#                      a 24 h run takes several minutes of CPU each)
#   --from DATETIME    station-local start (default 2026-12-01T00:00 for
#                      24 h or more, else a window around the 18:00 slot
#                      change, e.g. 17:00 for 2 h)
#   --crossfade-ms N   the slots' crossfade (default 0: the baseline cannot
#                      mix, so a fade would be work it does not do)
#   --build DIR        build dir holding pulse-radio and bench-baseline
#                      (default build/; configured and built if needed)
#   --work DIR         test media, database and outputs (default DIR/bench)
#   --no-build         use the binaries in DIR as they are
#   --strict           exit 1 when the target below is missed
#
# 1. Makes (once; reused after) 14 MP3s of synthesised music over 7 artists,
#    2.5 to 5 minutes each, and 3 spoken station IDs (espeak-ng over a
#    tone bed): all 44.1 kHz stereo 128 kbps, so nobody resamples.
# 2. Builds a schedule database: library scan, playlists day/night/ids,
#    slot "day" 06:00-18:00 (jingle every 3 tracks) and "night"
#    18:00-06:00 across midnight (jingle every 4), title separation 30 min,
#    artist separation 10 min.
# 3. Interleaved, best CPU (user+sys) of --runs, with /usr/bin/time:
#      (a) pulse-radio render --from .. --hours H --db COPY --asrun
#          --quality 0.4 --output file:OUT.ogg   (a fresh copy each run)
#      (b) bench-baseline OUT.ogg FILE...  with exactly the files of the
#          as-run log of (a), in order: libmpg123 -> libvorbisenc only.
#    The last item of (a) is cut at the end of the period while (b) decodes
#    it whole, so both are compared per hour of audio each wrote.
#    Target: scheduling overhead = (ratio - 1) * 100 < 3 %.
#    With --instructions the same two commands run once each under
#    callgrind, and the ratio is of instructions per hour of audio.
#
# Ends with key=value lines for scripts (grep '^overhead_pct='), "NA" for
# what could not be measured. Exit 1 if something could not be run. No
# network is used; every run is bounded by timeout.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
HOURS=24
RUNS=2
FROM=
XFADE=0
BUILD="$REPO/build"
WORK=
DO_BUILD=1
STRICT=0
OVERHEAD_TARGET=3
MINUTES=
INSTR=0

usage() {
	sed -n '3,43s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
posint() {
	[[ ${1:-} =~ ^[1-9][0-9]*$ ]] || usage
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--hours)
		posint "${2:-}"
		HOURS=$2
		shift 2
		;;
	--runs)
		posint "${2:-}"
		RUNS=$2
		shift 2
		;;
	--minutes)
		posint "${2:-}"
		MINUTES=$2
		shift 2
		;;
	--instructions)
		INSTR=1
		shift
		;;
	--from)
		[[ ${2:-} =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$ ]] || usage
		FROM=$2
		shift 2
		;;
	--crossfade-ms)
		[[ ${2:-} =~ ^[0-9]+$ ]] || usage
		XFADE=$2
		shift 2
		;;
	--build)
		[[ -n ${2:-} ]] || usage
		BUILD=$(mkdir -p "$2" && cd "$2" && pwd)
		shift 2
		;;
	--work)
		[[ -n ${2:-} ]] || usage
		WORK=$2
		shift 2
		;;
	--no-build)
		DO_BUILD=0
		shift
		;;
	--strict)
		STRICT=1
		shift
		;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done
WORK=${WORK:-$BUILD/bench}
MINUTES=${MINUTES:-$((HOURS * 60))}
HOURS=$(awk -v m="$MINUTES" 'BEGIN{printf "%g", m / 60}')
[[ $INSTR -eq 1 ]] && RUNS=1
if [[ -z $FROM ]]; then
	if ((MINUTES < 60)); then
		# A window across the day -> night change at 18:00.
		FROM=$(printf '2026-12-01T17:%02d' $((60 - (MINUTES + 1) / 2)))
	elif ((MINUTES >= 24 * 60)); then
		FROM=2026-12-01T00:00
	else
		# Centre the window on the day -> night change at 18:00.
		FROM=$(printf '2026-12-01T%02d:00' $((18 - (MINUTES / 60 + 1) / 2)))
	fi
fi

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
for tool in sox lame ogginfo sqlite3 timeout "$TIME" cmake; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing: run scripts/deps.sh"
done

#
# Binaries, each built on its own (as in render.sh).
#
BASELINE="$BUILD/bench-baseline"
PULSE="$BUILD/pulse-radio"
PULSE_ERR=
if [[ $DO_BUILD -eq 1 ]]; then
	if [[ ! -f $BUILD/CMakeCache.txt ]]; then
		say "configuring $BUILD"
		cmake -S "$REPO" -B "$BUILD" >"$BUILD/bench-cmake.log" 2>&1 ||
			say "cmake failed (see $BUILD/bench-cmake.log)"
	fi
	if ! cmake --build "$BUILD" -j2 --target bench-baseline \
		>"$BUILD/bench-build-baseline.log" 2>&1; then
		tail -n 20 "$BUILD/bench-build-baseline.log" >&2
		die "bench-baseline does not build (log:" \
			"$BUILD/bench-build-baseline.log)"
	fi
	if ! cmake --build "$BUILD" -j2 --target pulse-radio \
		>"$BUILD/bench-build-pulse.log" 2>&1; then
		PULSE_ERR="pulse-radio does not build (log: $BUILD/bench-build-pulse.log)"
	fi
fi
[[ -x $BASELINE ]] || die "$BASELINE is missing (build it, or drop --no-build)"
[[ -n $PULSE_ERR || -x $PULSE ]] || PULSE_ERR="$PULSE is missing"
# Without pulse-radio there is no as-run list, so nothing to compare.
[[ -z $PULSE_ERR ]] || die "$PULSE_ERR"

#
# Test media. bench_track (bench/music.sh) is the generator (a four-bar loop of
# plucked arpeggio, pad, bass and hi-hat in its own key and tempo, with
# reverb), with the length and artist as arguments.
#
# shellcheck source=bench/music.sh
source "$(dirname "${BASH_SOURCE[0]}")/music.sh"
MEDIA="$WORK/sched-media"
mkdir -p "$WORK"
bench_sched_media "$MEDIA" || die "making test media failed"

#
# The schedule database, made afresh each time (it is quick); every render
# gets its own copy, as --asrun writes to it.
#
OUT="$WORK/sched-out"
rm -rf "$OUT"
mkdir -p "$OUT"
DB="$OUT/schedule.db"
pr() { "$PULSE" "$@" --db "$DB" >>"$OUT/setup.log" 2>&1; }
{
	pr db init &&
		pr library scan "$MEDIA" &&
		pr playlist import "$MEDIA/music/day.m3u" &&
		pr playlist import "$MEDIA/music/night.m3u" &&
		pr playlist import "$MEDIA/ids/ids.m3u" &&
		pr db set title_separation_s 1800 &&
		pr db set artist_separation_s 600 &&
		pr slot add day --days daily --start 06:00 --end 18:00 \
			--playlist day --jingles ids --jingle-every 3 \
			--crossfade-ms "$XFADE" &&
		pr slot add night --days daily --start 18:00 --end 06:00 \
			--playlist night --jingles ids --jingle-every 4 \
			--crossfade-ms "$XFADE"
} || {
	tail -n 20 "$OUT/setup.log" >&2
	die "could not build the schedule database (log: $OUT/setup.log)"
}

#
# Measurements.
#
AUDIO_SECS=$((MINUTES * 60))
# A renderer slower than real time has failed anyway; never hang.
LIMIT=$((AUDIO_SECS + 120))
# Under callgrind, about 50 times the CPU time (50 CPU-s per hour).
[[ $INSTR -eq 1 ]] && LIMIT=$((AUDIO_SECS + 1200))

# Runs a command under /usr/bin/time; prints "CPU_SECONDS PEAK_RSS_KB".
measure() {
	local name=$1 tf="$OUT/$1.time" log="$OUT/$1.log" rc=0
	shift
	"$TIME" -f '%U %S %M' -o "$tf" \
		timeout -k 10 "$LIMIT" "${VG[@]}" \
		${VG:+--callgrind-out-file="$OUT/$name.cg"} "$@" >"$log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		tail -n 20 "$log" >&2
		say "$name failed (exit $rc; log: $log)"
		return 1
	fi
	if [[ $INSTR -eq 1 ]]; then
		# Instructions (Ir) in place of CPU seconds; RSS is valgrind's.
		awk '/^(summary|totals):/ {n = $2} END {printf "%.0f 0\n", n}' \
			"$OUT/$name.cg"
	else
		tail -n 1 "$tf" | awk '{printf "%.3f %d\n", $1 + $2, $3}'
	fi
}

# Seconds of audio in an Ogg file: all its logical streams.
# ogginfo exits 1 on a long chain (from about 140 links it warns of a
# "sequence number gap" with every serial distinct): its lengths are
# still right, so its status is not ours.
ogg_secs() {
	{ ogginfo "$1" 2>/dev/null || true; } | awk '/Playback length:/ {
		n = split($3, t, /[hms:]+/); s = 0
		for (k = 1; k < n; k++) s = s * 60 + t[k]
		sum += s } END { printf "%.1f", sum }'
}
minof() {
	awk -v a="$1" -v b="$2" 'BEGIN{print ((a == "NA" || b < a) ? b : a)}'
}

pulse_cpu=NA pulse_rss=0 base_cpu=NA base_rss=0
FILES=()
for ((run = 1; run <= RUNS; run++)); do
	say "run $run/$RUNS: pulse-radio render --from $FROM --hours $HOURS"
	cp "$DB" "$OUT/render.db"
	rm -f "$OUT/pulse.ogg"
	if ! res=$(measure pulse "$PULSE" render --from "$FROM" --hours "$HOURS" \
		--db "$OUT/render.db" --asrun --quality 0.4 --rate 44100 \
		--channels 2 --output "file:$OUT/pulse.ogg" --log-level warn); then
		die "pulse-radio render failed (log: $OUT/pulse.log)"
	fi
	read -r cpu rss <<<"$res"
	say "  cpu ${cpu} s, peak rss ${rss} KB"
	pulse_cpu=$(minof "$pulse_cpu" "$cpu")
	((rss > pulse_rss)) && pulse_rss=$rss
	sqlite3 -separator '|' "$OUT/render.db" \
		"SELECT path, duration_ms, ended_early, slot_name, artist, title
		 FROM asrun ORDER BY id" >"$OUT/asrun.$run.txt"
	if ((run == 1)); then
		cp "$OUT/render.db" "$OUT/asrun.db"
		mapfile -t FILES < <(cut -d'|' -f1 "$OUT/asrun.1.txt")
		[[ ${#FILES[@]} -gt 0 ]] || die "the as-run log is empty"
		for f in "${FILES[@]}"; do
			[[ -f $f ]] || die "as-run path is not a file: $f"
		done
		argbytes=$(printf '%s\0' "${FILES[@]}" | wc -c)
		(( argbytes < $(getconf ARG_MAX) / 2 )) ||
			die "the as-run list ($argbytes bytes) is too long for one command line"
	elif ! cmp -s "$OUT/asrun.1.txt" "$OUT/asrun.$run.txt"; then
		say "warning: run $run aired a different sequence than run 1"
	fi

	say "run $run/$RUNS: bench-baseline, ${#FILES[@]} files"
	if ! res=$(measure baseline "$BASELINE" "$OUT/baseline.ogg" "${FILES[@]}"); then
		die "bench-baseline failed (log: $OUT/baseline.log)"
	fi
	read -r cpu rss <<<"$res"
	say "  cpu ${cpu} s, peak rss ${rss} KB"
	base_cpu=$(minof "$base_cpu" "$cpu")
	((rss > base_rss)) && base_rss=$rss
done

#
# Audio each wrote, and the as-run summary.
#
pulse_audio=$(ogg_secs "$OUT/pulse.ogg")
base_audio=$(ogg_secs "$OUT/baseline.ogg")
read -r n_items n_jingles n_music asrun_s n_cut n_slots < <(
	sqlite3 -separator ' ' "$OUT/asrun.db" "SELECT count(*),
	  sum(artist = 'Pulse Radio'), sum(artist <> 'Pulse Radio'),
	  printf('%.1f', sum(duration_ms) / 1000.0), sum(ended_early),
	  count(DISTINCT slot_name) FROM asrun")
# Rotation rules, checked on the as-run log: least time from start to start
# of two airings of a title, and of two tracks of an artist (music only), in
# seconds. The scheduler drops the artist rule when no track keeps both
# (src/sched.c), so the artist gap may be below its setting.
read -r min_title_gap min_artist_gap < <(python3 - "$OUT/asrun.db" <<'PY'
import sqlite3, sys, datetime
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT started_at, duration_ms, artist, title FROM asrun "
    "WHERE artist <> 'Pulse Radio' ORDER BY id").fetchall()
def t(s): return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
last_t, last_a, gt, ga = {}, {}, None, None
for started, dur, artist, title in rows:
    s = t(started)
    if title in last_t:
        g = (s - last_t[title]).total_seconds()
        gt = g if gt is None else min(gt, g)
    if artist in last_a:
        g = (s - last_a[artist]).total_seconds()
        ga = g if ga is None else min(ga, g)
    last_t[title] = s
    last_a[artist] = s
f = lambda v: "NA" if v is None else "%.0f" % v
print(f(gt), f(ga))
PY
)

per_hour() { # cpu seconds, audio seconds -> cpu seconds per hour of audio
	awk -v c="$1" -v a="$2" 'BEGIN{ if (c == "NA" || a <= 0) print "NA";
		else printf "%.2f", c * 3600 / a }'
}
pulse_ph=$(per_hour "$pulse_cpu" "$pulse_audio")
base_ph=$(per_hour "$base_cpu" "$base_audio")
ratio=$(awk -v p="$pulse_ph" -v b="$base_ph" 'BEGIN{printf "%.4f", p / b}')
ratio_raw=$(awk -v p="$pulse_cpu" -v b="$base_cpu" 'BEGIN{printf "%.4f", p / b}')
overhead=$(awk -v r="$ratio" 'BEGIN{printf "%.2f", (r - 1) * 100}')
overhead_ok=$(awk -v o="$overhead" -v t="$OVERHEAD_TARGET" \
	'BEGIN{print ((o < t) ? "yes" : "no")}')
speed() { awk -v c="$1" -v a="$2" 'BEGIN{printf "%.0f", a / c}'; }

echo
printf '== schedule: %s h from %s (%d items: %d music, %d station IDs;' \
	"$HOURS" "$FROM" "$n_items" "$n_music" "$n_jingles"
if [[ $INSTR -eq 1 ]]; then
	printf ' %d slots), Vorbis q0.4, instructions (callgrind)\n' "$n_slots"
	printf '%-14s %14s %10s %18s\n' program instructions audio_s \
		instr_per_hour
	printf '%-14s %14s %10s %18s\n' bench-baseline "$base_cpu" \
		"$base_audio" "$base_ph"
	printf '%-14s %14s %10s %18s\n' pulse-radio "$pulse_cpu" \
		"$pulse_audio" "$pulse_ph"
else
printf ' %d slots), Vorbis q0.4, best CPU of %d runs\n' "$n_slots" "$RUNS"
printf '%-14s %10s %10s %16s %14s %10s\n' program cpu_s audio_s \
	cpu_s_per_hour peak_rss_kb x_realtime
printf '%-14s %10s %10s %16s %14s %10s\n' bench-baseline "$base_cpu" \
	"$base_audio" "$base_ph" "$base_rss" "$(speed "$base_cpu" "$base_audio")"
printf '%-14s %10s %10s %16s %14s %10s\n' pulse-radio "$pulse_cpu" \
	"$pulse_audio" "$pulse_ph" "$pulse_rss" "$(speed "$pulse_cpu" "$pulse_audio")"
fi
echo "ratio per hour of audio: $ratio (raw CPU ratio $ratio_raw);" \
	"scheduling overhead ${overhead} % (target < ${OVERHEAD_TARGET} %)"
echo "as-run: ${asrun_s} s, ${n_cut} item(s) cut at the end; least title" \
	"gap ${min_title_gap} s (rule 1800), artist gap ${min_artist_gap} s (rule 600," \
	"dropped when no track keeps both)"
echo
cat <<EOF
measure=$([[ $INSTR -eq 1 ]] && echo instructions || echo cpu_seconds)
hours=$HOURS
from=$FROM
runs=$RUNS
crossfade_ms=$XFADE
items=$n_items
items_music=$n_music
items_jingle=$n_jingles
items_cut=$n_cut
audio_seconds_schedule=$pulse_audio
audio_seconds_baseline=$base_audio
audio_seconds_asrun=$asrun_s
cpu_s_schedule=$pulse_cpu
cpu_s_baseline=$base_cpu
cpu_s_per_hour_schedule=$pulse_ph
cpu_s_per_hour_baseline=$base_ph
ratio_cpu_schedule=$ratio
ratio_cpu_schedule_raw=$ratio_raw
overhead_pct=$overhead
overhead_ok=$overhead_ok
peak_rss_schedule_kb=$pulse_rss
peak_rss_baseline_kb=$base_rss
min_title_gap_s=$min_title_gap
min_artist_gap_s=$min_artist_gap
EOF

if [[ $STRICT -eq 1 && $overhead_ok != yes ]]; then
	say "the target was missed"
	exit 1
fi
exit 0
