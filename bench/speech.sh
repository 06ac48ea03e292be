#!/usr/bin/env bash
#
# speech.sh - speed and memory of the speech module against the espeak-ng CLI.
#
# Usage: bench/speech.sh [--build DIR] [--runs N] [--repeat N] [--work DIR]
#                        [--no-build]
#
#   --build DIR   build dir holding bench-speech (default build/; configured
#                 and built if needed)
#   --runs N      runs of each side, interleaved; best CPU kept (default 3)
#   --repeat N    times each side renders the set per run (default 5)
#   --work DIR    where texts and WAVs go (default DIR/bench/speech)
#   --no-build    use bench-speech in DIR as it is
#
# The set: 21 city news bulletins, 7 each in en, af and tn, at 175 wpm.
#   (a) bench-speech (bench/speechbench.c): one process, one speech_new(),
#       every text through speech_render() into memory, --repeat times;
#   (b) baseline: the espeak-ng CLI, one process per text as a shell
#       script would use it, writing WAV files (-w), --repeat times.
# Both under /usr/bin/time: user+sys CPU (summed over the CLI's processes)
# and peak RSS (the largest CLI process). Speed is seconds of speech per
# CPU-second, each side over the audio it made (bench-speech trims
# silence to 50 ms, the CLI does not).
#
# Ends with key=value lines for scripts, "NA" for what could not be
# measured. Exit 1 if something could not be run. Every run is bounded.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
BUILD="$REPO/build"
RUNS=3
REPEAT=5
WORK=
DO_BUILD=1
LIMIT=120 # seconds for any one measured command

usage() {
	sed -n '3,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
posint() {
	[[ ${1:-} =~ ^[1-9][0-9]*$ ]] || usage
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--runs)
		posint "${2:-}"
		RUNS=$2
		shift 2
		;;
	--repeat)
		posint "${2:-}"
		REPEAT=$2
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
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done
WORK=${WORK:-$BUILD/bench/speech}

say() { echo "bench: $*" >&2; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}

TIME=/usr/bin/time
for tool in espeak-ng timeout "$TIME" cmake awk; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing: run scripts/deps.sh"
done

BENCH="$BUILD/bench-speech"
if [[ $DO_BUILD -eq 1 ]]; then
	if [[ ! -f $BUILD/CMakeCache.txt ]]; then
		say "configuring $BUILD"
		cmake -S "$REPO" -B "$BUILD" >"$BUILD/bench-cmake.log" 2>&1 ||
			say "cmake failed (see $BUILD/bench-cmake.log)"
	fi
	if ! timeout 900 cmake --build "$BUILD" -j2 --target bench-speech \
		>"$BUILD/bench-build-speech.log" 2>&1; then
		tail -n 20 "$BUILD/bench-build-speech.log" >&2
		die "bench-speech does not build (log:" \
			"$BUILD/bench-build-speech.log)"
	fi
fi
[[ -x $BENCH ]] || die "$BENCH is missing (build it, or drop --no-build)"

#
# The bulletins: VOICE<TAB>TEXT, one a line.
#
mkdir -p "$WORK"
LIST="$WORK/bulletins.tsv"
T=$'\t'
cat >"$LIST" <<EOF
en${T}Good morning. Water will be off in Soweto from 9 to 14 today while Johannesburg Water replaces a valve on the Klipspruit main.
en${T}Load shedding: stage 2 from 16:00 to 22:00. Residents of Diepkloof, Orlando East and Pimville are in block 4, off from 18:00 to 20:30.
en${T}Traffic: the M1 south is closed between Booysens and Crown Interchange after a truck overturned. Use the N12 or Main Reef Road instead.
en${T}The City of Johannesburg reminds residents that rates and taxes are due on the seventh. Pay online or at any customer service centre.
en${T}Weather for Gauteng: warm and sunny, with afternoon thundershowers in the south. High of 29, low of 15. Hail is possible after 3 pm.
en${T}Refuse collection in Randburg moves from Monday to Tuesday this week because of the public holiday. Put your bins out by 6 am.
en${T}Clinics in Alexandra will run extended hours on Saturday for free flu vaccinations. Bring your ID document or clinic card.
af${T}Goeie môre. Die water sal vandag in Soweto van 9 tot 14 afgesny wees terwyl Johannesburg Water 'n klep op die hoofpyp vervang.
af${T}Beurtkrag: fase 2 van 16:00 tot 22:00. Inwoners van Diepkloof, Orlando-Oos en Pimville is in blok 4, af van 18:00 tot 20:30.
af${T}Verkeer: die M1 suid is gesluit tussen Booysens en Crown weens 'n vragmotor wat omgeslaan het. Gebruik eerder die N12.
af${T}Die Stad Johannesburg herinner inwoners dat eiendomsbelasting op die sewende betaalbaar is. Betaal aanlyn of by enige kantoor.
af${T}Weer vir Gauteng: warm en sonnig, met donderbuie in die middag in die suide. Hoogste 29 grade, laagste 15. Hael is moontlik.
af${T}Vullisverwydering in Randburg skuif hierdie week van Maandag na Dinsdag weens die openbare vakansiedag. Sit jou asblik teen 6 uit.
af${T}Klinieke in Alexandra is Saterdag langer oop vir gratis griepinentings. Bring jou identiteitsdokument of kliniekkaart saam.
tn${T}Dumelang. Metsi a tla kgaolwa kwa Soweto go tloga ka ura ya borobongwe go fitlha ka ura ya lesome le bone gompieno.
tn${T}Go kgaolwa ga motlakase: legato la bobedi go tloga ka 16:00 go fitlha ka 22:00 kwa Diepkloof, Orlando East le Pimville.
tn${T}Pharakano: tsela ya M1 e e yang borwa e tswetswe magareng ga Booysens le Crown morago ga kotsi ya lori. Dirisang N12.
tn${T}Toropo ya Johannesburg e gopotsa baagi gore makgetho a tshwanetse go duelwa ka la bosupa. Duelang mo inthaneteng.
tn${T}Maemo a bosa mo Gauteng: go tla fisa le letsatsi, ka dikgadima le pula tshokologo kwa borwa. Bogolo 29, bonnye 15.
tn${T}Go tsewa ga matlakala kwa Randburg go fetogela go Labobedi beke eno ka ntlha ya letsatsi la boikhutso.
tn${T}Dikokelwana tsa Alexandra di tla bulwa lobaka lo lo leele ka Lamatlhatso go tlhabelwa mokgotlhane mahala.
EOF
NTEXTS=$(wc -l <"$LIST")

# The CLI reads each text from its own file, as UTF-8 (-b 1).
mkdir -p "$WORK/texts" "$WORK/wav"
i=0
VOICES=()
while IFS=$'\t' read -r v text; do
	i=$((i + 1))
	printf '%s\n' "$text" >"$WORK/texts/$i.txt"
	VOICES+=("$v")
done <"$LIST"

# Runs a command under time; prints "CPU_SECONDS PEAK_RSS_KB".
measure() {
	local tf=$1 log=$2 rc=0
	shift 2
	"$TIME" -f '%U %S %M' -o "$tf" \
		timeout -k 5 "$LIMIT" "$@" >"$log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		tail -n 20 "$log" >&2
		say "$1 failed (exit $rc; log: $log)"
		return 1
	fi
	tail -n 1 "$tf" | awk '{printf "%.3f %d\n", $1 + $2, $3}'
}

# Seconds of audio in the CLI's WAVs (16-bit mono, 44-byte header).
wav_secs() {
	local total=0 f
	for f in "$WORK"/wav/*.wav; do
		total=$((total + $(stat -c %s "$f") - 44))
	done
	awk -v b="$total" -v r="$REPEAT" 'BEGIN{printf "%.2f", b / 2 / 22050 * r}'
}
minof() { awk -v a="$1" -v b="$2" 'BEGIN{print ((a == "NA" || b < a) ? b : a)}'; }

pulse_cpu=NA pulse_rss=0 pulse_audio=NA pulse_render_cpu=NA pulse_init_cpu=NA
cli_cpu=NA cli_rss=0
for ((run = 1; run <= RUNS; run++)); do
	say "run $run/$RUNS: bench-speech, $NTEXTS texts x $REPEAT"
	res=$(measure "$WORK/pulse.time" "$WORK/pulse.log" \
		"$BENCH" --repeat "$REPEAT" "$LIST") ||
		die "bench-speech failed (log: $WORK/pulse.log)"
	read -r cpu rss <<<"$res"
	say "  cpu ${cpu} s, peak rss ${rss} KB"
	if [[ $pulse_cpu == NA ]] || awk -v a="$cpu" -v b="$pulse_cpu" \
		'BEGIN{exit !(a < b)}'; then
		pulse_cpu=$cpu
		pulse_render_cpu=$(sed -n 's/^cpu_s_render=//p' "$WORK/pulse.log")
		pulse_init_cpu=$(sed -n 's/^cpu_s_init=//p' "$WORK/pulse.log")
	fi
	pulse_audio=$(sed -n 's/^audio_s=//p' "$WORK/pulse.log")
	((rss > pulse_rss)) && pulse_rss=$rss

	say "run $run/$RUNS: espeak-ng CLI, $NTEXTS processes x $REPEAT"
	sum=0
	for ((r = 1; r <= REPEAT; r++)); do
		for ((k = 1; k <= NTEXTS; k++)); do
			res=$(measure "$WORK/cli.time" "$WORK/cli.log" \
				espeak-ng -b 1 -v "${VOICES[k - 1]}" -s 175 -p 50 \
				-w "$WORK/wav/$k.wav" -f "$WORK/texts/$k.txt") ||
				die "espeak-ng failed (log: $WORK/cli.log)"
			read -r cpu rss <<<"$res"
			sum=$(awk -v a="$sum" -v b="$cpu" 'BEGIN{printf "%.3f", a + b}')
			((rss > cli_rss)) && cli_rss=$rss
		done
	done
	say "  cpu ${sum} s, peak rss ${cli_rss} KB"
	cli_cpu=$(minof "$cli_cpu" "$sum")
done
cli_audio=$(wav_secs)

rate() { # audio seconds, cpu seconds -> speech seconds per CPU-second
	awk -v a="$1" -v c="$2" \
		'BEGIN{ if (a == "NA" || c == "NA" || c <= 0) print "NA"; else printf "%.0f", a / c }'
}
pulse_speed=$(rate "$pulse_audio" "$pulse_cpu")
pulse_render_speed=$(rate "$pulse_audio" "$pulse_render_cpu")
cli_speed=$(rate "$cli_audio" "$cli_cpu")
ratio_speed=$(awk -v p="$pulse_speed" -v c="$cli_speed" \
	'BEGIN{ if (p == "NA" || c == "NA" || c == 0) print "NA"; else printf "%.2f", p / c }')
ratio_rss=$(awk -v p="$pulse_rss" -v c="$cli_rss" \
	'BEGIN{ if (c == 0) print "NA"; else printf "%.2f", p / c }')

echo
printf '== speech: %d bulletins (en, af, tn) x %d, 175 wpm, best CPU of %d runs\n' \
	"$NTEXTS" "$REPEAT" "$RUNS"
printf '%-22s %9s %9s %14s %12s\n' program cpu_s audio_s speech_s_per_cpu peak_rss_kb
printf '%-22s %9s %9s %14s %12s\n' bench-speech "$pulse_cpu" "$pulse_audio" \
	"$pulse_speed" "$pulse_rss"
printf '%-22s %9s %9s %14s %12s\n' "espeak-ng CLI (-w)" "$cli_cpu" \
	"$cli_audio" "$cli_speed" "$cli_rss"
echo "ratio speed bench-speech/CLI: $ratio_speed, peak RSS: $ratio_rss"
echo
cat <<EOF
texts=$NTEXTS
repeat=$REPEAT
runs=$RUNS
audio_s_pulse=$pulse_audio
audio_s_cli=$cli_audio
cpu_s_pulse=$pulse_cpu
cpu_s_pulse_init=$pulse_init_cpu
cpu_s_pulse_render=$pulse_render_cpu
cpu_s_cli=$cli_cpu
speech_s_per_cpu_s_pulse=$pulse_speed
speech_s_per_cpu_s_pulse_render=$pulse_render_speed
speech_s_per_cpu_s_cli=$cli_speed
ratio_speed=$ratio_speed
peak_rss_pulse_kb=$pulse_rss
peak_rss_cli_kb=$cli_rss
ratio_rss=$ratio_rss
EOF
