#!/usr/bin/env bash
#
# instr.sh - instructions per second of audio, pulse-radio against the
# bare decode -> encode baseline, counted by valgrind's callgrind: the
# same count on a busy or a quiet machine, run after run.
#
# Usage: bench/instr.sh [--quick] [--twice] [--build DIR] [--work DIR]
#                       [--no-build]
#
#   --quick       15 s of programme instead of 60, and no short runs
#                 (for CI: about 30 s in all)
#   --twice       count each program twice and say whether the counts are
#                 the same (they should be: exit 1 if not)
#   --build DIR   build dir holding pulse-radio and bench-baseline
#                 (default build/; configured and built if needed)
#   --work DIR    music, database and outputs (default DIR/bench)
#   --no-build    use the binaries in DIR as they are
#
# The programme: 3 synthesised MP3s (bench/music.sh; 44.1 kHz stereo, 128
# kbps) of 24 s (8 s with --quick), aired by pulse-radio render from a
# one-slot schedule with 3000 ms crossfades for 60 s (15 s), to an
# Ogg/Vorbis file at quality 0.4: decoding, two crossfades, loudness,
# limiter, encoding, file output. The baseline (bench-baseline) decodes
# and encodes the same 3 files whole, without mixing. Each count is
# divided by the seconds of audio the program wrote (decoded with
# oggdec); ratio = pulse / baseline.
#
# Both run under `setarch -R` (no address randomisation) and print
# nothing derived from the clock, so the counts repeat exactly. Start-up
# (loading libraries, opening the database) is included, so a short run
# weighs it more than an hour would: compare ratios of the same length.
# Without --quick each program also runs a short job (pulse-radio 15 s of
# the same programme, the baseline the first file alone), and the
# difference between the two counts per second of audio between them is
# the marginal cost, start-up taken out: ratio_instr_marginal.
#
# Ends with key=value lines (grep '^ratio_instr='). No network is used;
# every run is bounded by timeout.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
QUICK=0
TWICE=0
BUILD="$REPO/build"
WORK=
DO_BUILD=1

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
	--quick) QUICK=1; shift ;;
	--twice) TWICE=1; shift ;;
	--build)
		[[ -n ${2:-} ]] || usage
		BUILD=$(mkdir -p "$2" && cd "$2" && pwd)
		shift 2
		;;
	--work) [[ -n ${2:-} ]] || usage; WORK=$2; shift 2 ;;
	--no-build) DO_BUILD=0; shift ;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done
WORK=${WORK:-$BUILD/bench}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
bench_need valgrind setarch sox lame oggdec sqlite3 timeout cmake

if ((QUICK)); then
	TRACK_S=8 PROG_S=15
else
	TRACK_S=24 PROG_S=60
fi
PULSE="$BUILD/pulse-radio"
BASELINE="$BUILD/bench-baseline"
if [[ $DO_BUILD -eq 1 ]]; then
	unbuilt=$(bench_build "$BUILD" bench-baseline pulse-radio)
	[[ -z $unbuilt ]] || die "does not build: $unbuilt (logs: $BUILD/bench-build-*.log)"
fi
[[ -x $PULSE && -x $BASELINE ]] || die "$PULSE or $BASELINE is missing"

# Music: three tracks, made once per length and reused.
MEDIA="$WORK/instr-media-$TRACK_S"
stamp_text="v1 3 tracks of $TRACK_S s, 44100 Hz stereo, 128 kbps"
if [[ ! -f $MEDIA/.complete || $(<"$MEDIA/.complete") != "$stamp_text" ]]; then
	say "making 3 tracks of $TRACK_S s in $MEDIA"
	rm -rf "$MEDIA"
	mkdir -p "$MEDIA"
	for i in 1 2 3; do
		bench_track "$((i + 200))" "$MEDIA/track$i.mp3" "$TRACK_S" \
			"Instr Artist $i" "Instr track $i" || die "making track $i failed"
	done
	printf 'track%d.mp3\n' 1 2 3 >"$MEDIA/instr.m3u"
	echo "$stamp_text" >"$MEDIA/.complete"
fi
OUT="$WORK/instr-out-$PROG_S"
rm -rf "$OUT"
mkdir -p "$OUT"
pr() { "$PULSE" "$@" --db "$OUT/instr.db" >>"$OUT/setup.log" 2>&1; }
{
	pr db init && pr library scan "$MEDIA" &&
		pr playlist import "$MEDIA/instr.m3u" &&
		pr slot add all --days daily --start 00:00 --end 24:00 \
			--playlist instr --crossfade-ms 3000
} || die "could not make the schedule (log: $OUT/setup.log)"

HOURS=$(awk -v s="$PROG_S" 'BEGIN{printf "%.6f", s / 3600}')
# count NAME N: runs NAME under callgrind; prints its instruction count.
count() {
	local name=$1 cg="$OUT/$1-$2.cg" log="$OUT/$1-$2.log" rc=0
	local -a cmd
	local hours=$HOURS
	case $name in
	baseline) cmd=("$BASELINE" "$OUT/$name.ogg" "$MEDIA"/track{1,2,3}.mp3) ;;
	baseline-short) cmd=("$BASELINE" "$OUT/$name.ogg" "$MEDIA"/track1.mp3) ;;
	pulse | pulse-short)
		[[ $name == pulse ]] || hours=$(awk 'BEGIN{printf "%.6f", 15 / 3600}')
		# A fresh copy, without the last run's -wal and -shm files.
		rm -f "$OUT/run.db" "$OUT/run.db-wal" "$OUT/run.db-shm"
		cp "$OUT/instr.db" "$OUT/run.db"
		cmd=("$PULSE" render --from 2026-12-01T10:00 --hours "$hours"
			--db "$OUT/run.db" --rate 44100 --channels 2 --quality 0.4
			--output "file:$OUT/$name.ogg" --log-level warn)
		;;
	esac
	timeout -k 10 600 setarch "$(uname -m)" -R valgrind --tool=callgrind \
		--quiet --callgrind-out-file="$cg" "${cmd[@]}" >"$log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		tail -n 15 "$log" >&2
		die "$name failed under callgrind (exit $rc; log: $log)"
	fi
	awk '/^(summary|totals):/ {n = $2} END {printf "%.0f", n}' "$cg"
}

declare -A N1 N2 AUDIO
same=yes
NAMES=(baseline pulse)
((QUICK)) || NAMES+=(baseline-short pulse-short)
for name in "${NAMES[@]}"; do
	case $name in
	baseline-short) say "callgrind: $name (the first file alone)" ;;
	pulse-short) say "callgrind: $name (15 s of programme)" ;;
	*) say "callgrind: $name (${PROG_S} s of programme)" ;;
	esac
	N1[$name]=$(count "$name" 1)
	AUDIO[$name]=$(ogg_decoded_secs "$OUT/$name.ogg")
	if ((TWICE)); then
		N2[$name]=$(count "$name" 2)
		[[ ${N1[$name]} == "${N2[$name]}" ]] || same=no
	fi
done
per_s() { awk -v n="$1" -v a="$2" 'BEGIN{printf "%.0f", n / a}'; }
ips_b=$(per_s "${N1[baseline]}" "${AUDIO[baseline]}")
ips_p=$(per_s "${N1[pulse]}" "${AUDIO[pulse]}")
ratio=$(awk -v p="$ips_p" -v b="$ips_b" 'BEGIN{printf "%.4f", p / b}')
marg_b=NA marg_p=NA ratio_m=NA
if ((!QUICK)); then
	marginal() { # NAME: instructions per second of audio beyond the short run
		awk -v n="${N1[$1]}" -v a="${AUDIO[$1]}" -v ns="${N1[$1-short]}" \
			-v as="${AUDIO[$1-short]}" 'BEGIN{printf "%.0f", (n - ns) / (a - as)}'
	}
	marg_b=$(marginal baseline)
	marg_p=$(marginal pulse)
	ratio_m=$(awk -v p="$marg_p" -v b="$marg_b" 'BEGIN{printf "%.4f", p / b}')
fi

echo
echo "== instructions (callgrind, setarch -R): ${PROG_S} s of programme," \
	"3 MP3s of ${TRACK_S} s, 3 s crossfades, Vorbis q0.4"
printf '%-14s %16s %9s %20s\n' program instructions audio_s instr_per_audio_s
for name in "${NAMES[@]}"; do
	printf '%-14s %16s %9s %20s\n' "$name" "${N1[$name]}" "${AUDIO[$name]}" \
		"$(per_s "${N1[$name]}" "${AUDIO[$name]}")"
done
echo "ratio pulse/baseline (instructions per second of audio): $ratio"
((QUICK)) || echo "marginal (long - short run): baseline $marg_b, pulse $marg_p" \
	"per second of audio; ratio $ratio_m"
if ((TWICE)); then
	second=""
	for name in "${NAMES[@]}"; do second+=" $name ${N2[$name]},"; done
	echo "second run:${second%,}:" \
		"$([[ $same == yes ]] && echo identical || echo DIFFERENT)"
fi
echo
cat <<EOF
programme_s=$PROG_S
instr_baseline=${N1[baseline]}
instr_pulse=${N1[pulse]}
audio_s_baseline=${AUDIO[baseline]}
audio_s_pulse=${AUDIO[pulse]}
instr_per_audio_s_baseline=$ips_b
instr_per_audio_s_pulse=$ips_p
ratio_instr=$ratio
instr_marginal_per_audio_s_baseline=$marg_b
instr_marginal_per_audio_s_pulse=$marg_p
ratio_instr_marginal=$ratio_m
EOF
if ((TWICE)); then
	echo "repeatable=$same"
	[[ $same == yes ]] || exit 1
fi
exit 0
