#!/usr/bin/env bash
#
# compare.sh - pulse-radio against Liquidsoap, ices2, ezstream and the bare
# decode -> encode baseline, in one run: rendering an hour offline, and
# streaming to a local Icecast in real time.
#
# Usage: bench/compare.sh [--stream-seconds N] [--runs N] [--stream-runs N]
#                         [--render-minutes M] [--streamers LIST]
#                         [--no-render] [--no-stream] [--build DIR]
#                         [--work DIR] [--no-build] [--strict]
#
#   --stream-seconds N  each streamer's run, in real time (default 300)
#   --runs N            render runs of each program, interleaved; the
#                       least CPU is kept (default 2)
#   --stream-runs N     the same for streaming (default 2)
#   --render-minutes M  programme to render (default 60)
#   --streamers LIST    comma-separated, in this order (default
#                       pulse,pulse-pass,liquidsoap,ices2,ezstream; also
#                       ices2-reencode); those not installed are skipped
#   --no-render, --no-stream   leave out one half
#   --build DIR         build dir holding pulse-radio and bench-baseline
#                       (default build/; configured and built if needed)
#   --work DIR          music and outputs (default DIR/bench)
#   --no-build          use the binaries in DIR as they are
#   --strict            exit 1 when a target is missed
#
# Every program gets the same 16 synthesised MP3s (bench/music.sh; 3 to 5
# minutes each, 44.1 kHz stereo, 128 kbps), in the same order, and makes
# Ogg/Vorbis at quality 0.4, 44.1 kHz stereo; those that mix cross-fade
# 3 s. Nothing resamples.
#
# 1. Render, as fast as the CPU allows, to a file:
#      baseline    bench-baseline OUT.ogg MP3... (libmpg123 -> libvorbisenc,
#                  no mixing)
#      pulse       pulse-radio render --hours 1 on a schedule of one slot
#                  playing the list with 3000 ms crossfades
#      liquidsoap  bench/liquidsoap/render.liq (playlist, crossfade 3 s,
#                  output.file %vorbis(quality=0.4), clock sync "none")
#    CPU (user+sys) per hour of the audio each wrote (decoded with oggdec),
#    peak RSS. Targets: pulse/baseline <= 1.05, peak RSS <= 16 MB.
# 2. Stream to a private Icecast on 127.0.0.1 (tests/lib.sh), one streamer
#    at a time, each for --stream-seconds with one listener:
#      pulse       pulse-radio run --config (one Icecast output, q0.4)
#      pulse-pass  the same with encoded_cache: the music encoded once
#                  beforehand (run --fill-cache, its CPU reported apart),
#                  its clean middles passed through on air
#      liquidsoap  bench/liquidsoap/stream.liq (output.icecast %vorbis)
#      ices2       the Ogg copies as they are (no decoding, no encoding)
#      ices2-reencode  the Ogg copies decoded and encoded again at q0.4
#      ezstream    the MP3s through mpg123 | oggenc -q 4 (pipes)
#    (oggenc's and ices2's quality scale is -1..10: their 4 is libvorbis's
#    0.4, the others' scale.)
#    Average CPU% over the listener's window (and over the whole run,
#    start-up included), peak RSS, and the stream's drift: the slope of
#    the audio position the listener receives against the monotonic clock
#    (bench/oggclock.py). Targets: pulse <= 0.5 x Liquidsoap's CPU and no
#    more than ices2's; |drift| < 0.05 %. The CPU targets are judged on
#    pulse-pass when it ran (the station as configured on a Pi), else pulse;
#    both are printed.
#
# Ends with key=value lines for scripts; "NA" for what could not be
# measured. Exit 1 if something could not be run (or, with --strict, a
# target was missed). Only 127.0.0.1 is used; every run is bounded.

# shellcheck disable=SC2034 # CUR_PID is read by an exit handler (eval'd)
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
STREAM_SECS=300
RUNS=2
STREAM_RUNS=2
RENDER_MIN=60
STREAMERS=pulse,pulse-pass,liquidsoap,ices2,ezstream
DO_RENDER=1
DO_STREAM=1
BUILD="$REPO/build"
WORK=
DO_BUILD=1
STRICT=0
T_RENDER=1.05
T_RSS_KB=16384
T_STREAM_LIQ=0.5
T_DRIFT_PCT=0.05

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

usage() {
	# The comment at the top, up to the first line of code.
	awk 'NR < 3 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' \
		"${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--stream-seconds | --runs | --stream-runs | --render-minutes)
		posint "${2:-}" || usage
		case $1 in
		--stream-seconds) STREAM_SECS=$2 ;;
		--runs) RUNS=$2 ;;
		--stream-runs) STREAM_RUNS=$2 ;;
		--render-minutes) RENDER_MIN=$2 ;;
		esac
		shift 2
		;;
	--streamers)
		[[ ${2:-} =~ ^[a-z0-9,-]+$ ]] || usage
		STREAMERS=$2
		shift 2
		;;
	--no-render) DO_RENDER=0; shift ;;
	--no-stream) DO_STREAM=0; shift ;;
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
((STREAM_SECS >= 40)) || die "--stream-seconds must be 40 or more"
((RENDER_MIN <= 60)) || die "--render-minutes is at most 60 (the music)"
IFS=, read -r -a STREAMER_LIST <<<"$STREAMERS"
for s in "${STREAMER_LIST[@]}"; do
	case $s in
	pulse | pulse-pass | liquidsoap | ices2 | ices2-reencode | ezstream) ;;
	*) die "unknown streamer '$s'" ;;
	esac
done
WORK=${WORK:-$BUILD/bench}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

bench_need sox lame oggenc oggdec ogginfo sqlite3 python3 timeout cmake cc
PROBLEMS=()
problem() {
	PROBLEMS+=("$*")
	say "problem: $*"
}

#
# Binaries. Each is built on its own, so a pulse-radio that does not
# build still leaves the others measurable.
#
PULSE="$BUILD/pulse-radio"
BASELINE="$BUILD/bench-baseline"
if [[ $DO_BUILD -eq 1 ]]; then
	unbuilt=$(bench_build "$BUILD" bench-baseline pulse-radio)
	[[ -z $unbuilt ]] || problem "does not build: $unbuilt (logs: $BUILD/bench-build-*.log)"
fi
HAVE_PULSE=1 HAVE_BASE=1
[[ -x $PULSE ]] || { HAVE_PULSE=0; problem "$PULSE is missing"; }
[[ -x $BASELINE ]] || { HAVE_BASE=0; problem "$BASELINE is missing"; }
bench_runstat_build "$BUILD"
have() { command -v "$1" >/dev/null 2>&1; }

MEDIA="$WORK/compare-media"
bench_compare_media "$MEDIA" || die "making the test music failed"
OUT="$WORK/compare-out"
rm -rf "$OUT"
mkdir -p "$OUT"

# Tracks for M minutes of programme: the fewest whose lengths, less 3 s a
# crossfade, cover M minutes and one more (every program gets the same).
NTRACKS=0
sum=0
while ((NTRACKS < 16 && sum - 3 * (NTRACKS > 0 ? NTRACKS - 1 : 0) < RENDER_MIN * 60 + 60)); do
	NTRACKS=$((NTRACKS + 1))
	sum=$((sum + $(compare_track_secs "$NTRACKS")))
done
MP3S=()
for ((i = 1; i <= NTRACKS; i++)); do
	MP3S+=("$(printf '%s/mp3/track%02d.mp3' "$MEDIA" "$i")")
done
head -n "$NTRACKS" "$MEDIA/mp3/abs.txt" >"$OUT/render-list.txt"
head -n "$NTRACKS" "$MEDIA/mp3/compare.m3u" >"$MEDIA/mp3/render.m3u"

# The schedule: one slot all day playing the list, 3000 ms crossfades.
# A fresh database airs a playlist in its order. Made once; each run gets
# a copy.
make_db() { # DB M3U
	local db=$1
	pr() { "$PULSE" "$@" --db "$db" >>"$OUT/setup.log" 2>&1; }
	pr db init && pr library scan "$MEDIA/mp3" &&
		pr playlist import "$2" &&
		pr slot add all --days daily --start 00:00 --end 24:00 \
			--playlist "$(basename "$2" .m3u)" --crossfade-ms 3000
}
if [[ $HAVE_PULSE -eq 1 ]]; then
	say "making the schedule databases (library scan: ~10 s)"
	if ! make_db "$OUT/render.db" "$MEDIA/mp3/render.m3u" ||
		! make_db "$OUT/stream.db" "$MEDIA/mp3/compare.m3u"; then
		tail -n 20 "$OUT/setup.log" >&2
		problem "could not make the schedule (log: $OUT/setup.log)"
		HAVE_PULSE=0
	fi
fi

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "NA" || b == "NA" || b == 0)
		print "NA"; else printf "%.2f", a / b }'
}
mb() { awk -v k="$1" 'BEGIN{ if (k == "NA") print "NA"; else printf "%.1f", k / 1024 }'; }

#
# 1. Rendering.
#
declare -A R_CPU R_RSS R_AUDIO R_RUNS
RENDERERS=()
((HAVE_BASE)) && RENDERERS+=(baseline)
((HAVE_PULSE)) && RENDERERS+=(pulse)
if have liquidsoap; then
	RENDERERS+=(liquidsoap)
else
	problem "liquidsoap is not installed (bench/deps.sh)"
fi
for r in baseline pulse liquidsoap; do
	R_CPU[$r]=NA R_RSS[$r]=0 R_AUDIO[$r]=NA R_RUNS[$r]=""
done
RENDER_HOURS=$(awk -v m="$RENDER_MIN" 'BEGIN{printf "%g", m / 60}')
# A run may take real time plus a minute: slower has failed anyway.
R_LIMIT=$((RENDER_MIN * 60 + 60))
render_one() { # NAME RUN
	local name=$1 run=$2 st="$OUT/render-$1-$2.stat" log="$OUT/render-$1.log"
	local ogg="$OUT/render-$1.ogg"
	rm -f "$ogg"
	case $name in
	baseline)
		bench_run "$R_LIMIT" INT "$st" "$BASELINE" "$ogg" "${MP3S[@]}" \
			>"$log" 2>&1
		;;
	pulse)
		# A fresh copy, without the last run's -wal and -shm files.
		rm -f "$OUT"/render-run.db*
		cp "$OUT/render.db" "$OUT/render-run.db"
		bench_run "$R_LIMIT" INT "$st" "$PULSE" render \
			--from 2026-12-01T10:00 --hours "$RENDER_HOURS" \
			--db "$OUT/render-run.db" --asrun --rate 44100 --channels 2 \
			--quality 0.4 --output "file:$ogg" --log-level warn \
			>"$log" 2>&1
		;;
	liquidsoap)
		LIQ_LIST="$OUT/render-list.txt" LIQ_OUT="$ogg" \
			bench_run "$R_LIMIT" INT "$st" liquidsoap \
			"$REPO/bench/liquidsoap/render.liq" >"$log" 2>&1
		;;
	esac
}
if [[ $DO_RENDER -eq 1 ]]; then
	for ((run = 1; run <= RUNS; run++)); do
		for r in "${RENDERERS[@]}"; do
			[[ ${R_CPU[$r]} != FAILED ]] || continue
			say "render run $run/$RUNS: $r ($RENDER_MIN min of programme)"
			if ! render_one "$r" "$run"; then
				tail -n 15 "$OUT/render-$r.log" >&2
				problem "$r failed to render (log: $OUT/render-$r.log)"
				R_CPU[$r]=FAILED
				continue
			fi
			st="$OUT/render-$r-$run.stat"
			cpu=$(kv "$st" cpu_s)
			rss=$(kv "$st" maxrss_kb)
			say "  cpu $cpu s, peak rss $rss KB, wall $(kv "$st" wall_s) s"
			R_RUNS[$r]+="$cpu "
			R_CPU[$r]=$(minof "${R_CPU[$r]}" "$cpu")
			((rss > R_RSS[$r])) && R_RSS[$r]=$rss
		done
	done
	for r in "${RENDERERS[@]}"; do
		[[ ${R_CPU[$r]} != FAILED ]] || { R_CPU[$r]=NA; continue; }
		ogg="$OUT/render-$r.ogg"
		R_AUDIO[$r]=$(ogg_decoded_secs "$ogg")
		hdr=$(ogg_header_secs "$ogg")
		# The two agree unless the file is not 44.1 kHz stereo or the
		# decoder dropped something.
		awk -v a="${R_AUDIO[$r]}" -v b="$hdr" \
			'BEGIN{d = a - b; exit !(d < 1 && d > -1)}' ||
			say "warning: $r: oggdec decodes ${R_AUDIO[$r]} s, the pages say $hdr s"
	done
	# What pulse-radio aired: the same files in the same order?
	if [[ ${R_CPU[pulse]} != NA ]]; then
		sqlite3 -separator ' ' "$OUT/render-run.db" "SELECT duration_ms,
			path FROM asrun ORDER BY started_at, id" \
			>"$OUT/render-pulse-aired.txt" || true
		aired=$(awk '{print $2}' "$OUT/render-pulse-aired.txt" | xargs -r -n1 basename)
		want=$(head -n "$(wc -l <"$OUT/render-pulse-aired.txt")" \
			"$MEDIA/mp3/render.m3u")
		[[ -n $aired && $aired == "$want" ]] ||
			problem "pulse-radio aired another order (see $OUT/render-pulse-aired.txt)"
	fi
fi
per_hour() { # CPU AUDIO
	awk -v c="$1" -v a="$2" 'BEGIN{ if (c == "NA" || a == "NA" || a == 0)
		print "NA"; else printf "%.2f", c * 3600 / a }'
}
declare -A R_PH
for r in baseline pulse liquidsoap; do
	R_PH[$r]=$(per_hour "${R_CPU[$r]}" "${R_AUDIO[$r]}")
	[[ ${R_RSS[$r]} != 0 ]] || R_RSS[$r]=NA
done

#
# 2. Streaming.
#
declare -A S_CPU S_CPUW S_RSS S_TREE S_DRIFT S_JIT S_RATIO S_LISTEN S_RUNS
STREAMER_NAMES=(pulse pulse-pass liquidsoap ices2 ices2-reencode ezstream)
for s in "${STREAMER_NAMES[@]}"; do
	S_CPU[$s]=NA S_CPUW[$s]=NA S_RSS[$s]=0 S_TREE[$s]=0 S_DRIFT[$s]=NA
	S_JIT[$s]=NA S_RATIO[$s]=NA S_LISTEN[$s]=NA S_RUNS[$s]=""
done
STREAMING=()
if [[ $DO_STREAM -eq 1 ]]; then
	for s in "${STREAMER_LIST[@]}"; do
		case $s in
		pulse | pulse-pass) ((HAVE_PULSE)) && STREAMING+=("$s") ;;
		liquidsoap) have liquidsoap && STREAMING+=(liquidsoap) ;;
		ices2 | ices2-reencode)
			if have ices2; then STREAMING+=("$s")
			else problem "ices2 is not installed (bench/deps.sh)"; fi
			;;
		ezstream)
			if have ezstream && have mpg123; then STREAMING+=(ezstream)
			else problem "ezstream or mpg123 is not installed (bench/deps.sh)"; fi
			;;
		esac
	done
fi
if [[ ${#STREAMING[@]} -gt 0 ]]; then
	bench_need icecast2 curl
	# shellcheck disable=SC1091
	. "$REPO/tests/lib.sh"
	# If we are stopped half-way, the streamer running (bench-runstat,
	# which stops what it runs) goes first, then the Icecast.
	CUR_PID=
	# shellcheck disable=SC2016 # expanded when it runs, not now
	lib_on_exit '[[ -z $CUR_PID ]] || { kill -TERM "$CUR_PID"; wait "$CUR_PID"; }'
	ice_start || die "could not start icecast2"
	printf '%s\n' "$ICE_PASS" >"$OUT/source-password"
	chmod 600 "$OUT/source-password"
	say "Icecast on 127.0.0.1:$ICE_PORT"
fi

# The configuration of streamer NAME, its mount /NAME.ogg.
stream_conf() {
	local name=$1 dir="$OUT/stream-$1"
	mkdir -p "$dir"
	case $name in
	pulse | pulse-pass)
		cat >"$dir/pulse.conf" <<EOF
[station]
name = Pulse Bench
database = $dir/pulse.db
$([[ $name == pulse-pass ]] && echo "encoded_cache = $dir/cache")
[audio]
rate = 44100
channels = 2
[output main]
url = icecast://source@127.0.0.1:$ICE_PORT/$name.ogg
password_file = $OUT/source-password
quality = 0.4
[log]
level = warn
EOF
		chmod 600 "$dir/pulse.conf"
		;;
	ices2 | ices2-reencode)
		local enc=""
		[[ $name == ices2-reencode ]] &&
			# ices2's quality is oggenc's scale (-1..10): 4 is
			# libvorbis's 0.4, what the others use.
			enc="<encode><quality>4</quality><samplerate>44100</samplerate><channels>2</channels></encode>"
		cat >"$dir/ices.xml" <<EOF
<?xml version="1.0"?>
<ices>
  <background>0</background>
  <logpath>$dir</logpath>
  <logfile>ices.log</logfile>
  <loglevel>2</loglevel>
  <consolelog>1</consolelog>
  <stream>
    <metadata><name>ices2 bench</name></metadata>
    <input>
      <module>playlist</module>
      <param name="type">basic</param>
      <param name="file">$MEDIA/ogg/abs.txt</param>
      <param name="random">0</param>
      <param name="once">0</param>
    </input>
    <instance>
      <hostname>127.0.0.1</hostname>
      <port>$ICE_PORT</port>
      <password>$ICE_PASS</password>
      <mount>/$name.ogg</mount>
      <reconnectdelay>2</reconnectdelay>
      <reconnectattempts>3</reconnectattempts>
      $enc
    </instance>
  </stream>
</ices>
EOF
		chmod 600 "$dir/ices.xml"
		;;
	ezstream)
		cp "$MEDIA/mp3/abs.txt" "$dir/list.m3u"
		cat >"$dir/ezstream.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<ezstream>
  <servers><server>
    <hostname>127.0.0.1</hostname>
    <port>$ICE_PORT</port>
    <password>$ICE_PASS</password>
    <tls>None</tls>
    <reconnect_attempts>3</reconnect_attempts>
  </server></servers>
  <streams><stream>
    <mountpoint>/ezstream.ogg</mountpoint>
    <format>Ogg</format>
    <encoder>vorbis-q0.4</encoder>
    <stream_samplerate>44100</stream_samplerate>
    <stream_channels>2</stream_channels>
  </stream></streams>
  <intakes><intake>
    <type>playlist</type>
    <filename>$dir/list.m3u</filename>
    <stream_once>No</stream_once>
  </intake></intakes>
  <decoders><decoder>
    <name>mpg123</name>
    <program>mpg123 -q -s @T@</program>
    <file_ext>.mp3</file_ext>
  </decoder></decoders>
  <encoders><encoder>
    <name>vorbis-q0.4</name>
    <format>Ogg</format>
    <program>oggenc -Q -r -B 16 -C 2 -R 44100 --raw-endianness 0 -q 4 -</program>
  </encoder></encoders>
</ezstream>
EOF
		chmod 600 "$dir/ezstream.xml"
		;;
	esac
}

# Streams NAME once: the streamer under bench-runstat, a listener from
# the moment its mount is up to 2 s before it is stopped. Sets STEADY to
# the CPU% over the listener's window.
stream_one() { # NAME RUN
	local name=$1 run=$2 dir="$OUT/stream-$1" mount="/$1.ogg"
	local st="$dir/run$run.stat" log="$dir/run$run.log" clock="$dir/run$run.clock"
	local -a cmd
	local sig=INT pid spid t0 left c1 c2 w1 w2 rc=0
	stream_conf "$name"
	case $name in
	pulse | pulse-pass)
		rm -f "$dir"/pulse.db*
		cp "$OUT/stream.db" "$dir/pulse.db"
		cmd=("$PULSE" run --config "$dir/pulse.conf")
		# SIGTERM: fade out, close the stream, exit (as systemd stops it).
		sig=TERM
		;;
	liquidsoap)
		cmd=(env "LIQ_LIST=$MEDIA/mp3/abs.txt" "LIQ_PORT=$ICE_PORT"
			"LIQ_PASS=$ICE_PASS" "LIQ_MOUNT=$mount"
			liquidsoap "$REPO/bench/liquidsoap/stream.liq")
		;;
	ices2 | ices2-reencode) cmd=(ices2 "$dir/ices.xml") ;;
	ezstream) cmd=(ezstream -c "$dir/ezstream.xml") ;;
	esac
	t0=$(date +%s.%N)
	bench_run "$STREAM_SECS" "$sig" "$st" "${cmd[@]}" >"$log" 2>&1 &
	pid=$!
	CUR_PID=$pid
	if ! ice_wait_mount "$mount" 30; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" || true
		CUR_PID=
		tail -n 15 "$log" >&2
		problem "$name: $mount never went live (log: $log)"
		return 1
	fi
	left=$(awk -v t0="$t0" -v now="$(date +%s.%N)" -v n="$STREAM_SECS" \
		'BEGIN{printf "%.1f", n - (now - t0) - 2}')
	# The streamer's own process (bench-runstat's child), not
	# bench-runstat, whose sampling of /proc is not the streamer's work.
	spid=$(cat "$st.pid")
	w1=$(date +%s.%N)
	c1=$(tree_cpu "$spid")
	python3 "$REPO/bench/oggclock.py" --port "$ICE_PORT" --mount "$mount" \
		--seconds "$left" --out "$clock" --record "$dir/run$run.ogg" \
		--points "$dir/run$run.points" \
		2>>"$log" || rc=$?
	c2=$(tree_cpu "$spid")
	w2=$(date +%s.%N)
	wait "$pid" || {
		CUR_PID=
		tail -n 15 "$log" >&2
		problem "$name: the streamer failed (log: $log)"
		return 1
	}
	CUR_PID=
	if ((rc != 0)); then
		problem "$name: the listener got nothing (log: $log)"
		return 1
	fi
	echo "$c1 $c2 $w1 $w2" >"$dir/run$run.window"
	STEADY=$(awk -v a="$c1" -v b="$c2" -v s="$w1" -v e="$w2" \
		'BEGIN{printf "%.3f", (b - a) * 100 / (e - s)}')
}
# pulse-pass: the cache filled before its runs, as a station fills it once
# (in the background, or with --fill-cache); what that cost is reported.
FILL_CPU=NA FILL_AUDIO=NA
if [[ " ${STREAMING[*]} " == *" pulse-pass "* ]]; then
	dir="$OUT/stream-pulse-pass"
	stream_conf pulse-pass
	rm -rf "$dir/cache" "$dir"/pulse.db*
	cp "$OUT/stream.db" "$dir/pulse.db"
	say "pulse-pass: filling the encoded cache (run --fill-cache)"
	if bench_run 1800 TERM "$dir/fill.stat" "$PULSE" run \
		--config "$dir/pulse.conf" --fill-cache >"$dir/fill.log" 2>&1; then
		FILL_CPU=$(kv "$dir/fill.stat" cpu_s)
		FILL_AUDIO=$(sqlite3 "$dir/pulse.db" \
			"SELECT sum(cue_out_ms - cue_in_ms) / 1000.0 FROM track")
		say "  $FILL_CPU CPU-s for $FILL_AUDIO s of music, once"
	else
		problem "pulse-pass: --fill-cache failed (log: $dir/fill.log)"
	fi
fi
pct_whole() { # STATFILE
	awk -v c="$(kv "$1" cpu_s)" -v w="$(kv "$1" wall_s)" \
		'BEGIN{printf "%.3f", c * 100 / w}'
}
for ((run = 1; run <= STREAM_RUNS; run++)); do
	for s in "${STREAMING[@]}"; do
		[[ ${S_CPU[$s]} != FAILED ]] || continue
		say "stream run $run/$STREAM_RUNS: $s, ${STREAM_SECS} s"
		if ! stream_one "$s" "$run"; then
			S_CPU[$s]=FAILED
			continue
		fi
		steady=$STEADY
		dir="$OUT/stream-$s"
		whole=$(pct_whole "$dir/run$run.stat")
		rss=$(kv "$dir/run$run.stat" maxrss_kb)
		tree=$(kv "$dir/run$run.stat" tree_rss_kb)
		drift=$(kv "$dir/run$run.clock" drift_pct)
		say "  cpu ${steady} % (whole run ${whole} %), peak rss $rss KB" \
			"(all processes $tree KB), drift ${drift} %," \
			"jitter $(kv "$dir/run$run.clock" jitter_s) s"
		S_RUNS[$s]+="$steady "
		# The least-CPU run's figures are reported for it.
		if [[ ${S_CPU[$s]} == NA ]] || awk -v a="$steady" -v b="${S_CPU[$s]}" 'BEGIN{exit !(a < b)}'; then
			S_CPU[$s]=$steady
			S_CPUW[$s]=$whole
			S_DRIFT[$s]=$drift
			S_JIT[$s]=$(kv "$dir/run$run.clock" jitter_s)
			S_RATIO[$s]=$(kv "$dir/run$run.clock" ratio_pct)
			S_LISTEN[$s]=$(kv "$dir/run$run.clock" fit_s)
		fi
		((rss > S_RSS[$s])) && S_RSS[$s]=$rss
		((tree > S_TREE[$s])) && S_TREE[$s]=$tree
	done
done
for s in "${STREAMER_NAMES[@]}"; do
	[[ ${S_CPU[$s]} != FAILED ]] || S_CPU[$s]=NA
	[[ ${S_RSS[$s]} != 0 ]] || S_RSS[$s]=NA
	[[ ${S_TREE[$s]} != 0 ]] || S_TREE[$s]=NA
done

#
# Report.
#
r_pb=$(ratio "${R_PH[pulse]}" "${R_PH[baseline]}")
r_pl=$(ratio "${R_PH[pulse]}" "${R_PH[liquidsoap]}")
r_lb=$(ratio "${R_PH[liquidsoap]}" "${R_PH[baseline]}")
m_pb=$(ratio "${R_RSS[pulse]}" "${R_RSS[baseline]}")
m_pl=$(ratio "${R_RSS[pulse]}" "${R_RSS[liquidsoap]}")
m_lb=$(ratio "${R_RSS[liquidsoap]}" "${R_RSS[baseline]}")
if [[ $DO_RENDER -eq 1 ]]; then
	echo
	echo "== render: $RENDER_MIN min of programme from $NTRACKS MP3s (44.1 kHz stereo," \
		"128 kbps), Vorbis q0.4, least CPU of $RUNS runs"
	printf '%-12s %9s %10s %14s %12s  %s\n' program cpu_s audio_s cpu_s_per_hour \
		peak_rss_MB "runs (cpu_s)"
	for r in baseline pulse liquidsoap; do
		printf '%-12s %9s %10s %14s %12s  %s\n' "$r" "${R_CPU[$r]}" "${R_AUDIO[$r]}" \
			"${R_PH[$r]}" "$(mb "${R_RSS[$r]}")" "${R_RUNS[$r]:-}"
	done
	echo "CPU per hour of audio: pulse/baseline $r_pb (target <= $T_RENDER)," \
		"pulse/liquidsoap $r_pl, liquidsoap/baseline $r_lb"
	echo "peak RSS: pulse/baseline $m_pb, pulse/liquidsoap $m_pl," \
		"liquidsoap/baseline $m_lb; pulse $(mb "${R_RSS[pulse]}") MB" \
		"(target <= 16 MB, aim 10 MB)"
	if [[ -s $OUT/render-pulse-aired.txt ]]; then
		n=$(wc -l <"$OUT/render-pulse-aired.txt")
		echo "pulse-radio aired tracks 1-$n of the list in order (the last cut at" \
			"the end of the programme); the others all $NTRACKS"
	fi
fi
if [[ ${#STREAMING[@]} -gt 0 ]]; then
	echo
	echo "== stream: ${STREAM_SECS} s each to Icecast on 127.0.0.1, one listener," \
		"one streamer at a time, least CPU of $STREAM_RUNS runs"
	printf '%-15s %8s %9s %10s %10s %11s %9s %11s  %s\n' streamer cpu_pct \
		whole_pct peak_rss_MB all_procs drift_pct jitter_s ratio_pct \
		"runs (cpu_pct)"
	for s in "${STREAMING[@]}"; do
		printf '%-15s %8s %9s %10s %10s %11s %9s %11s  %s\n' "$s" \
			"${S_CPU[$s]}" "${S_CPUW[$s]}" "$(mb "${S_RSS[$s]}")" \
			"$(mb "${S_TREE[$s]}")" "${S_DRIFT[$s]}" "${S_JIT[$s]}" \
			"${S_RATIO[$s]}" "${S_RUNS[$s]:-}"
	done
	echo "cpu_pct: over the listener's window (start-up excluded); whole_pct:"
	echo "the whole run; drift: slope of audio received against the clock"
	echo "(over ${S_LISTEN[${STREAMING[0]}]} s for ${STREAMING[0]}); ratio: audio / time over" \
		"the same window"
fi
s_pl=$(ratio "${S_CPU[pulse]}" "${S_CPU[liquidsoap]}")
s_pi=$(ratio "${S_CPU[pulse]}" "${S_CPU[ices2]}")
s_pe=$(ratio "${S_CPU[pulse]}" "${S_CPU[ezstream]}")
p_pl=$(ratio "${S_CPU[pulse-pass]}" "${S_CPU[liquidsoap]}")
p_pi=$(ratio "${S_CPU[pulse-pass]}" "${S_CPU[ices2]}")
p_pe=$(ratio "${S_CPU[pulse-pass]}" "${S_CPU[ezstream]}")
p_pp=$(ratio "${S_CPU[pulse-pass]}" "${S_CPU[pulse]}")
# The targets are judged on the station as a Pi runs it: with its cache.
t_pl=$s_pl t_pi=$s_pi T_WHO=pulse
if [[ ${S_CPU[pulse-pass]} != NA ]]; then
	t_pl=$p_pl t_pi=$p_pi T_WHO=pulse-pass
fi
if [[ ${#STREAMING[@]} -gt 0 ]]; then
	echo "stream CPU: pulse/liquidsoap $s_pl, pulse/ices2 $s_pi," \
		"pulse/ezstream $s_pe"
	echo "stream CPU: pulse-pass/liquidsoap $p_pl, pulse-pass/ices2 $p_pi," \
		"pulse-pass/ezstream $p_pe, pulse-pass/pulse $p_pp"
	echo "targets judged on $T_WHO: <= $T_STREAM_LIQ x Liquidsoap, <= 1 x ices2"
	[[ $FILL_CPU == NA ]] ||
		echo "pulse-pass's cache: filled once in $FILL_CPU CPU-s for" \
			"$FILL_AUDIO s of music ($(per_hour "$FILL_CPU" "$FILL_AUDIO")" \
			"CPU-s per hour of music)"
fi

ok_le() { # VALUE LIMIT
	awk -v v="$1" -v t="$2" 'BEGIN{ if (v == "NA") print "NA";
		else print ((v <= t) ? "yes" : "no") }'
}
absv() { awk -v v="$1" 'BEGIN{ if (v == "NA") print "NA"; else print (v < 0 ? -v : v) }'; }
ok_render=$(ok_le "$r_pb" "$T_RENDER")
ok_rss=$(ok_le "${R_RSS[pulse]}" "$T_RSS_KB")
[[ ${S_RSS[pulse]} == NA ]] || [[ $(ok_le "${S_RSS[pulse]}" "$T_RSS_KB") == yes ]] || ok_rss=no
ok_liq=$(ok_le "$t_pl" "$T_STREAM_LIQ")
ok_ices=$(ok_le "$t_pi" 1)
[[ ${S_RSS[pulse-pass]} == NA ]] || [[ $(ok_le "${S_RSS[pulse-pass]}" "$T_RSS_KB") == yes ]] || ok_rss=no
ok_drift=$(ok_le "$(absv "${S_DRIFT[pulse]}")" "$T_DRIFT_PCT")
echo
cat <<EOF
render_minutes=$RENDER_MIN
render_runs=$RUNS
audio_s_baseline=${R_AUDIO[baseline]}
audio_s_pulse=${R_AUDIO[pulse]}
audio_s_liquidsoap=${R_AUDIO[liquidsoap]}
cpu_s_per_hour_baseline=${R_PH[baseline]}
cpu_s_per_hour_pulse=${R_PH[pulse]}
cpu_s_per_hour_liquidsoap=${R_PH[liquidsoap]}
ratio_cpu_pulse_baseline=$r_pb
ratio_cpu_pulse_liquidsoap=$r_pl
ratio_cpu_liquidsoap_baseline=$r_lb
ratio_cpu_render_ok=$ok_render
peak_rss_render_baseline_kb=${R_RSS[baseline]}
peak_rss_render_pulse_kb=${R_RSS[pulse]}
peak_rss_render_liquidsoap_kb=${R_RSS[liquidsoap]}
stream_seconds=$STREAM_SECS
stream_runs=$STREAM_RUNS
EOF
for s in "${STREAMING[@]}"; do
	k=${s//-/_}
	cat <<EOF
cpu_pct_stream_$k=${S_CPU[$s]}
cpu_pct_stream_whole_$k=${S_CPUW[$s]}
peak_rss_stream_${k}_kb=${S_RSS[$s]}
peak_rss_stream_all_${k}_kb=${S_TREE[$s]}
drift_pct_$k=${S_DRIFT[$s]}
jitter_s_$k=${S_JIT[$s]}
EOF
done
cat <<EOF
ratio_cpu_stream_pulse_liquidsoap=$s_pl
ratio_cpu_stream_pulse_ices2=$s_pi
ratio_cpu_stream_pulse_ezstream=$s_pe
ratio_cpu_stream_pulse_pass_liquidsoap=$p_pl
ratio_cpu_stream_pulse_pass_ices2=$p_pi
ratio_cpu_stream_pulse_pass_ezstream=$p_pe
fill_cpu_s_pulse_pass=$FILL_CPU
fill_audio_s_pulse_pass=$FILL_AUDIO
stream_targets_on=$T_WHO
peak_rss_ok=$ok_rss
stream_cpu_liquidsoap_ok=$ok_liq
stream_cpu_ices2_ok=$ok_ices
drift_ok=$ok_drift
EOF

if [[ ${#PROBLEMS[@]} -gt 0 ]]; then
	for p in "${PROBLEMS[@]}"; do say "error: $p"; done
	exit 1
fi
if [[ $STRICT -eq 1 ]]; then
	for v in "$ok_render" "$ok_rss" "$ok_liq" "$ok_ices" "$ok_drift"; do
		[[ $v == yes ]] || { say "a target was missed"; exit 1; }
	done
fi
exit 0
