#!/usr/bin/env bash
#
# render.sh - CPU and memory benchmark of pulse-radio against a bare baseline.
#
# Usage: bench/render.sh [--minutes N] [--stream-seconds N] [--build DIR]
#                        [--runs N] [--work DIR] [--no-build] [--strict]
#
#   --minutes N         audio to render, in minutes (default 20)
#   --stream-seconds N  length of the streaming measurement (default 30)
#   --build DIR         build dir holding pulse-radio and bench-baseline
#                       (default build/; configured and built if needed)
#   --runs N            render runs of each program, interleaved (default 3)
#   --work DIR          where the test music is kept (default DIR/bench)
#   --no-build          use the binaries in DIR as they are
#   --strict            exit 1 when a target below is missed
#
# 1. Makes (once; reused after) MP3s of synthesised 44.1 kHz stereo music,
#    128 kbps, N minutes in all, and an M3U of them.
# 2. Renders them to Ogg/Vorbis at quality 0.4, best CPU (user+sys) of
#    --runs, with /usr/bin/time:
#      (a) bench-baseline: libmpg123 -> libvorbisenc, nothing else;
#      (b) pulse-radio play LIST --once --quality 0.4 --output file:OUT.
#    Target: pulse-radio / baseline <= 1.10.
# 3. Streams the same playlist to a private Icecast on 127.0.0.1 (started
#    with tests/lib.sh) for --stream-seconds, with one listener, and
#    reports pulse-radio's peak RSS (target < 16 MB) and average CPU%.
#
# Ends with key=value lines for scripts (grep '^ratio_cpu_render='), "NA"
# for what could not be measured. Exit 1 if something could not be run.
# Only 127.0.0.1 is used; every wait is bounded.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
MINUTES=20
STREAM_SECS=30
BUILD="$REPO/build"
RUNS=3
WORK=
DO_BUILD=1
STRICT=0
RATIO_TARGET=1.10
RSS_TARGET_KB=16384

usage() {
	sed -n '3,33s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
posint() {
	[[ ${1:-} =~ ^[1-9][0-9]*$ ]] || usage
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--minutes)
		posint "${2:-}"
		MINUTES=$2
		shift 2
		;;
	--stream-seconds)
		posint "${2:-}"
		STREAM_SECS=$2
		shift 2
		;;
	--runs)
		posint "${2:-}"
		RUNS=$2
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

say() { echo "bench: $*" >&2; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}

TIME=/usr/bin/time
for tool in sox lame ogginfo timeout "$TIME" cmake; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing: run scripts/deps.sh"
done

#
# Binaries. Each is built on its own, so a pulse-radio that does not build
# yet still leaves the baseline measurable.
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
if [[ -z $PULSE_ERR && ! -x $PULSE ]]; then
	PULSE_ERR="$PULSE is missing"
fi
if [[ -n $PULSE_ERR ]]; then
	say "warning: $PULSE_ERR: measuring the baseline only"
fi

#
# Test music: N tracks of about four minutes, each a four-bar loop of
# plucked arpeggio, pad, bass and hi-hat in its own key and tempo, with
# reverb. Kept in $WORK and reused while the stamp matches.
#
TOTAL_SECS=$((MINUTES * 60))
NTRACKS=$(((MINUTES + 3) / 4))
TRACK_SECS=$(awk -v t="$TOTAL_SECS" -v n="$NTRACKS" 'BEGIN{printf "%.3f", t / n}')
MUSIC="$WORK/music-${MINUTES}m"
LIST="$MUSIC/list.m3u"
STAMP="$MUSIC/.complete"
STAMP_TEXT="v1 $MINUTES min, $NTRACKS tracks, 44100 Hz stereo, 128 kbps"

# shellcheck source=bench/music.sh
source "$(dirname "${BASH_SOURCE[0]}")/music.sh"

mkdir -p "$WORK"
if [[ -f $STAMP && $(<"$STAMP") == "$STAMP_TEXT" ]]; then
	say "reusing $NTRACKS tracks in $MUSIC"
else
	say "making $NTRACKS tracks of ${TRACK_SECS} s in $MUSIC"
	rm -rf "$MUSIC"
	mkdir -p "$MUSIC"
	pids=()
	for ((i = 1; i <= NTRACKS; i++)); do
		bench_track "$i" "$(printf '%s/track%02d.mp3' "$MUSIC" "$i")" \
			"$TRACK_SECS" "Pulse Bench" "Bench track $i" &
		pids+=($!)
		# Two at a time: one per core.
		if [[ ${#pids[@]} -ge 2 ]]; then
			wait "${pids[0]}" || die "making track failed"
			pids=("${pids[@]:1}")
		fi
	done
	for p in "${pids[@]}"; do
		wait "$p" || die "making track failed"
	done
	{
		echo "#EXTM3U"
		for ((i = 1; i <= NTRACKS; i++)); do
			printf '#EXTINF:%d,Pulse Bench - Bench track %d\n' \
				"${TRACK_SECS%.*}" "$i"
			printf 'track%02d.mp3\n' "$i"
		done
	} >"$LIST"
	echo "$STAMP_TEXT" >"$STAMP"
fi
TRACKS=("$MUSIC"/track*.mp3)

#
# Render measurements.
#
# A run may take at most real time plus a minute: a renderer slower than
# real time has failed anyway, and one that never ends must not hang us.
LIMIT=$((TOTAL_SECS + 60))
OUT="$WORK/out"
mkdir -p "$OUT"

# Runs a command under /usr/bin/time; prints "CPU_SECONDS PEAK_RSS_KB".
measure() {
	local name=$1 tf="$OUT/$1.time" log="$OUT/$1.log" rc=0
	shift
	"$TIME" -f '%U %S %M' -o "$tf" \
		timeout -k 10 "$LIMIT" "$@" >"$log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		tail -n 20 "$log" >&2
		say "$name failed (exit $rc; log: $log)"
		return 1
	fi
	tail -n 1 "$tf" | awk '{printf "%.3f %d\n", $1 + $2, $3}'
}

# Seconds of audio in an Ogg file: all its logical streams.
ogg_secs() {
	ogginfo "$1" 2>/dev/null | awk '/Playback length:/ {
		n = split($3, t, /[hms:]+/); s = 0
		for (k = 1; k < n; k++) s = s * 60 + t[k]
		sum += s } END { printf "%.1f", sum }'
}

base_cpu=NA base_rss=0 pulse_cpu=NA pulse_rss=0 pulse_failed=0
for ((run = 1; run <= RUNS; run++)); do
	say "render run $run/$RUNS: bench-baseline"
	if ! res=$(measure baseline "$BASELINE" "$OUT/baseline.ogg" \
		"${TRACKS[@]}"); then
		die "bench-baseline failed"
	fi
	read -r cpu rss <<<"$res"
	say "  cpu ${cpu} s, peak rss ${rss} KB"
	base_cpu=$(awk -v a="$base_cpu" -v b="$cpu" \
		'BEGIN{print ((a == "NA" || b < a) ? b : a)}')
	((rss > base_rss)) && base_rss=$rss

	[[ -z $PULSE_ERR && $pulse_failed -eq 0 ]] || continue
	say "render run $run/$RUNS: pulse-radio"
	rm -f "$OUT/pulse.ogg"
	if ! res=$(measure pulse "$PULSE" play "$LIST" --once --quality 0.4 \
		--rate 44100 --channels 2 --output "file:$OUT/pulse.ogg"); then
		pulse_failed=1
		PULSE_ERR="pulse-radio failed to render (log: $OUT/pulse.log)"
		continue
	fi
	read -r cpu rss <<<"$res"
	say "  cpu ${cpu} s, peak rss ${rss} KB"
	pulse_cpu=$(awk -v a="$pulse_cpu" -v b="$cpu" \
		'BEGIN{print ((a == "NA" || b < a) ? b : a)}')
	((rss > pulse_rss)) && pulse_rss=$rss
done

base_audio=$(ogg_secs "$OUT/baseline.ogg")
per_hour() { # cpu seconds -> cpu seconds per hour of audio
	awk -v c="$1" -v a="$TOTAL_SECS" \
		'BEGIN{ if (c == "NA") print "NA"; else printf "%.1f", c * 3600 / a }'
}
speed() { # cpu seconds -> times faster than real time (on one core)
	awk -v c="$1" -v a="$TOTAL_SECS" \
		'BEGIN{ if (c == "NA" || c == 0) print "NA"; else printf "%.0f", a / c }'
}
base_ph=$(per_hour "$base_cpu")
pulse_ph=NA pulse_audio=NA ratio=NA
if [[ $pulse_cpu != NA ]]; then
	pulse_ph=$(per_hour "$pulse_cpu")
	pulse_audio=$(ogg_secs "$OUT/pulse.ogg")
	ratio=$(awk -v p="$pulse_cpu" -v b="$base_cpu" 'BEGIN{printf "%.2f", p / b}')
	if ! awk -v p="$pulse_audio" -v b="$base_audio" \
		'BEGIN{d = p - b; if (d < 0) d = -d; exit !(d <= 2 + b * 0.01)}'; then
		say "warning: pulse-radio wrote ${pulse_audio} s of audio," \
			"the baseline ${base_audio} s"
	fi
fi

#
# Streaming: real time to a private Icecast, one listener.
#
stream_rss=NA stream_cpu_pct=NA stream_bytes=NA
if [[ -z $PULSE_ERR ]]; then
	[[ -r $REPO/tests/lib.sh ]] ||
		die "tests/lib.sh is missing: it starts the Icecast"
	command -v icecast2 >/dev/null 2>&1 ||
		die "icecast2 is missing: run scripts/deps.sh"
	# shellcheck disable=SC1091
	. "$REPO/tests/lib.sh"
	ice_start || die "could not start icecast2"
	say "streaming ${STREAM_SECS} s to 127.0.0.1:$ICE_PORT/bench.ogg"
	tf="$OUT/stream.time"
	# timeout signals its whole process group (time and pulse-radio):
	# SIGINT asks pulse-radio to finish cleanly, as Ctrl-C would.
	timeout -s INT -k 10 "$STREAM_SECS" \
		"$TIME" -f '%U %S %M %e' -o "$tf" "$PULSE" play "$LIST" \
		--quality 0.4 --rate 44100 --channels 2 \
		--output "icecast://source:$ICE_PASS@127.0.0.1:$ICE_PORT/bench.ogg" \
		>"$OUT/stream.log" 2>&1 &
	spid=$!
	lib_on_exit "kill $spid"
	rec="$OUT/stream-listener.ogg"
	rm -f "$rec"
	if ice_wait_mount /bench.ogg 10; then
		ice_record /bench.ogg "$rec" $((STREAM_SECS > 4 ? STREAM_SECS - 3 : 1)) ||
			say "warning: the listener recorded nothing"
	else
		say "warning: /bench.ogg never went live (log: $OUT/stream.log)"
	fi
	rc=0
	wait "$spid" || rc=$?
	# 124: timeout stopped it, as planned (SIGINT, then a clean exit).
	if [[ $rc -ne 0 && $rc -ne 124 ]]; then
		tail -n 20 "$OUT/stream.log" >&2
		die "pulse-radio streaming failed (exit $rc; log: $OUT/stream.log)"
	fi
	# GNU time puts a "Command terminated by signal" line first if so.
	read -r su ss stream_rss se < <(tail -n 1 "$tf")
	stream_cpu_pct=$(awk -v u="$su" -v s="$ss" -v e="$se" \
		'BEGIN{printf "%.1f", (e > 0 ? (u + s) * 100 / e : 0)}')
	stream_bytes=$(stat -c %s "$rec" 2>/dev/null || echo 0)
	ice_stop || true
fi

#
# Report.
#
echo
printf '== render: %s min of audio (%d MP3s, 44.1 kHz stereo, 128 kbps),' \
	"$MINUTES" "$NTRACKS"
printf ' Vorbis q0.4, best CPU of %d runs\n' "$RUNS"
printf '%-14s %10s %16s %14s %10s %10s\n' program cpu_s cpu_s_per_hour \
	peak_rss_kb x_realtime audio_s
printf '%-14s %10s %16s %14s %10s %10s\n' bench-baseline "$base_cpu" \
	"$base_ph" "$base_rss" "$(speed "$base_cpu")" "$base_audio"
if [[ $pulse_cpu != NA ]]; then
	printf '%-14s %10s %16s %14s %10s %10s\n' pulse-radio "$pulse_cpu" \
		"$pulse_ph" "$pulse_rss" "$(speed "$pulse_cpu")" "$pulse_audio"
	echo "ratio pulse-radio/baseline: $ratio (target <= $RATIO_TARGET)"
fi
if [[ $stream_rss != NA ]]; then
	echo "== stream: ${STREAM_SECS} s to Icecast on 127.0.0.1, one listener"
	echo "pulse-radio peak RSS: ${stream_rss} KB (target < $RSS_TARGET_KB)," \
		"average CPU: ${stream_cpu_pct}%, listener got ${stream_bytes} bytes"
fi
echo
[[ $pulse_rss == 0 ]] && pulse_rss=NA
ratio_ok=NA rss_ok=NA
[[ $ratio != NA ]] && ratio_ok=$(awk -v r="$ratio" -v t="$RATIO_TARGET" \
	'BEGIN{print ((r <= t) ? "yes" : "no")}')
[[ $stream_rss != NA ]] && rss_ok=$(awk -v r="$stream_rss" -v t="$RSS_TARGET_KB" \
	'BEGIN{print ((r < t) ? "yes" : "no")}')
cat <<EOF
audio_seconds=$TOTAL_SECS
runs=$RUNS
cpu_s_render_baseline=$base_cpu
cpu_s_render_pulse=$pulse_cpu
cpu_s_per_hour_baseline=$base_ph
cpu_s_per_hour_pulse=$pulse_ph
ratio_cpu_render=$ratio
ratio_cpu_render_ok=$ratio_ok
peak_rss_render_baseline_kb=$base_rss
peak_rss_render_pulse_kb=$pulse_rss
peak_rss_stream_kb=$stream_rss
peak_rss_stream_ok=$rss_ok
cpu_pct_stream=$stream_cpu_pct
stream_listener_bytes=$stream_bytes
EOF

if [[ -n $PULSE_ERR ]]; then
	say "error: $PULSE_ERR"
	exit 1
fi
if [[ $STRICT -eq 1 && ($ratio_ok != yes || $rss_ok != yes) ]]; then
	say "a target was missed"
	exit 1
fi
exit 0
