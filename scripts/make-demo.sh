#!/usr/bin/env bash
#
# make-demo.sh - synthesise the demo station's music, station IDs and playlist.
#
# Usage: scripts/make-demo.sh [OUTDIR]        (OUTDIR defaults to the repo root)
#
# Writes, with no downloads (sox, lame, oggenc and espeak-ng only):
#   OUTDIR/playlists/*.mp3|ogg|wav  six short synthesised pieces (30-55 s,
#                                   faded, peaks at -1 dBFS) in a mix of
#                                   formats, rates (22050/44100/48000) and
#                                   channel counts, to exercise the decoders
#                                   and the resampler
#   OUTDIR/jingles/id1..3.*         spoken station IDs over a short sting
#   OUTDIR/playlists/demo.m3u       extended M3U, relative paths, a jingle
#                                   every two or three songs
#
# The playlist reaches the jingles as ../jingles/idN.*, outside its own
# folder, and pulse-radio refuses such entries unless the library root
# covers them, so play it with the output dir as the library:
#
#   build/pulse-radio play playlists/demo.m3u --library . --output file:x.ogg
#
# Idempotent: a file that exists and is newer than this script is kept, so
# a second run takes well under a second. Delete the files (or touch this
# script) to make them again. Everything but the .m3u is git-ignored.
set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SCRIPT")/.." && pwd)
OUT=${1:-$REPO}

for tool in sox soxi lame oggenc espeak-ng; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "make-demo: $tool is missing: run scripts/deps.sh" >&2
		exit 1
	fi
done

mkdir -p "$OUT/playlists" "$OUT/jingles"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ALBUM="Pulse Radio Demo"
YEAR=2024

# True when $1 exists, is not empty and was made by this version of us.
uptodate() {
	[[ -s $1 && $1 -nt $SCRIPT ]]
}

# Encodes WAV $1 into $2 by its extension, tagging it title $3, artist $4.
encode() {
	local wav=$1 dst=$2 title=$3 artist=$4 tmp
	tmp="$TMP/enc.$$.$RANDOM.${dst##*.}"
	case $dst in
	*.mp3)
		local rate ch mode=j kbps=128
		rate=$(soxi -r "$wav")
		ch=$(soxi -c "$wav")
		if [[ $ch == 1 ]]; then
			mode=m
			kbps=64
		fi
		lame --quiet -m "$mode" -b "$kbps" \
			--resample "$(awk -v r="$rate" 'BEGIN{print r/1000}')" \
			--tt "$title" --ta "$artist" --tl "$ALBUM" --ty "$YEAR" \
			--tg Electronic "$wav" "$tmp"
		;;
	*.ogg)
		oggenc -Q -q 4 -t "$title" -a "$artist" -l "$ALBUM" -d "$YEAR" \
			-G Electronic -o "$tmp" "$wav"
		;;
	*.wav)
		cp "$wav" "$tmp"
		;;
	*)
		echo "make-demo: unknown format: $dst" >&2
		return 1
		;;
	esac
	mv -f "$tmp" "$dst"
}

# Writes WAV $1 to $2 as 16-bit, at a broadcast-ish level: RMS about -18
# dBFS for stereo, -16 for mono (roughly -16 LUFS either way for this kind
# of material), peaks at most -1.5 dBFS (-1 after lossy encoding).
level() {
	local src=$1 dst=$2 pk rms
	read -r pk rms < <(sox "$src" -n stats 2>&1 |
		awk '/^Pk lev dB/ {p = $4} /^RMS lev dB/ {r = $4}
		     END {print p, r}')
	local target=-18
	[[ $(soxi -c "$src") == 1 ]] && target=-16
	local g
	g=$(awk -v p="$pk" -v r="$rms" -v t="$target" 'BEGIN {
		g = t - r; if (p + g > -1.5) g = -1.5 - p; printf "%.2f", g }')
	sox "$src" -b 16 "$dst" gain "$g" dither -s
}

# Semitone lists of each chord of a progression: "ROOT QUALITY ...", roots
# in semitones above the key, quality M (major) or m (minor).
chord_tones() { # root quality -> six tones: 1 3 5 8 10 12 (over two octaves)
	local r=$1 third=4
	[[ $2 == m ]] && third=3
	echo "$r $((r + third)) $((r + 7)) $((r + 12)) $((r + 12 + third)) $((r + 19))"
}

#
# One piece: a four-bar loop of arpeggio + pad + bass (+ optional soft
# drums), made seamless by folding the tails back onto its start, repeated
# to length, then reverb, stereo, fades and peak normalisation.
#
#   song FILE TITLE ARTIST KEY BPM SECONDS RATE CHANNELS PROGRESSION \
#        PATTERN ARP_TIMBRE PAD_TIMBRE BASS_TIMBRE DRUMS "EXTRA EFFECTS"
#
# KEY is the tonic in semitones from A4 (C4 = -9); PATTERN is eight indexes
# into the chord's six tones; timbres are sox synth types.
#
song() {
	local file=$1 title=$2 artist=$3 key=$4 bpm=$5 secs=$6 rate=$7 ch=$8
	local prog=$9 pattern=${10} arp_t=${11} pad_t=${12} bass_t=${13}
	local drums=${14} extra=${15}
	local dst="$OUT/playlists/$file"
	uptodate "$dst" && return 0

	local w="$TMP/${file%.*}"
	mkdir -p "$w"
	local eighth bar loop
	eighth=$(awk -v b="$bpm" 'BEGIN{printf "%.6f", 30 / b}')
	bar=$(awk -v e="$eighth" 'BEGIN{printf "%.6f", e * 8}')
	loop=$(awk -v b="$bar" 'BEGIN{printf "%.6f", b * 4}')

	local -a chords
	read -r -a chords <<<"$prog"
	local -a pat
	read -r -a pat <<<"$pattern"

	local arp_tones="" arp_delays="" pad_tones="" pad_delays=""
	local bass_tones="" bass_delays="" i j n t
	for ((i = 0; i < 4; i++)); do
		local -a tones
		read -r -a tones <<<"$(chord_tones "${chords[2 * i]}" \
			"${chords[2 * i + 1]}")"
		local bstart
		bstart=$(awk -v b="$bar" -v i="$i" 'BEGIN{printf "%.6f", b * i}')
		for ((j = 0; j < 8; j++)); do
			t=$((key + tones[pat[j]]))
			arp_tones+=" $arp_t %$t"
			arp_delays+=" $(awk -v s="$bstart" -v e="$eighth" -v j="$j" \
				'BEGIN{printf "%.6f", s + e * j}')"
		done
		for n in 0 1 2; do
			pad_tones+=" $pad_t %$((key - 12 + tones[n]))"
			pad_delays+=" $bstart"
		done
		for n in 0 4; do
			bass_tones+=" $bass_t %$((key - 24 + tones[0]))"
			bass_delays+=" $(awk -v s="$bstart" -v e="$eighth" -v n="$n" \
				'BEGIN{printf "%.6f", s + e * n}')"
		done
	done

	# Notes start together in their own channels, get one envelope, are
	# delayed to their beat and mixed down: one sox run per part.
	local note
	note=$(awk -v e="$eighth" 'BEGIN{printf "%.6f", e * 2.5}')
	# shellcheck disable=SC2086
	sox -r "$rate" -c 32 -n -c 1 "$w/arp.wav" synth "$note" $arp_tones \
		fade h 0.004 "$note" "$(awk -v n="$note" 'BEGIN{print n * 0.8}')" \
		delay $arp_delays remix -
	# shellcheck disable=SC2086
	sox -r "$rate" -c 12 -n -c 1 "$w/pad.wav" synth "$bar" $pad_tones \
		fade t 0.25 "$bar" 0.4 delay $pad_delays remix -
	local half
	half=$(awk -v e="$eighth" 'BEGIN{printf "%.6f", e * 3.6}')
	# shellcheck disable=SC2086
	sox -r "$rate" -c 8 -n -c 1 "$w/bass.wav" synth "$half" $bass_tones \
		fade h 0.01 "$half" 0.25 delay $bass_delays remix - lowpass 600
	local parts=(-v 1.0 "$w/arp.wav" -v 0.55 "$w/pad.wav" -v 0.8 "$w/bass.wav")
	if [[ $drums == 1 ]]; then
		local kick="" kick_d="" hat="" hat_d="" k
		for ((k = 0; k < 16; k++)); do
			kick+=" sine 150:45"
			kick_d+=" $(awk -v e="$eighth" -v k="$k" \
				'BEGIN{printf "%.6f", e * 2 * k}')"
		done
		for ((k = 0; k < 32; k++)); do
			hat+=" whitenoise"
			hat_d+=" $(awk -v e="$eighth" -v k="$k" \
				'BEGIN{printf "%.6f", e * k}')"
		done
		# shellcheck disable=SC2086
		sox -r "$rate" -c 16 -n -c 1 "$w/kick.wav" synth 0.18 $kick \
			fade h 0.002 0.18 0.15 delay $kick_d remix -
		# shellcheck disable=SC2086
		sox -r "$rate" -c 32 -n -c 1 "$w/hat.wav" synth 0.05 $hat \
			fade h 0.001 0.05 0.045 delay $hat_d remix - \
			highpass 6000
		parts+=(-v 0.9 "$w/kick.wav" -v 0.25 "$w/hat.wav")
	fi

	# Mix, then fold everything after the loop's end back onto its start
	# so the repeats join without a click.
	sox -m "${parts[@]}" "$w/mix.wav"
	sox "$w/mix.wav" "$w/head.wav" trim 0 "$loop"
	sox "$w/mix.wav" "$w/tail.wav" trim "$loop"
	sox -m "$w/head.wav" "$w/tail.wav" "$w/loop.wav" trim 0 "$loop"

	local reps
	reps=$(awk -v s="$secs" -v l="$loop" 'BEGIN{print int(s / l) + 1}')
	local chan_fx=(channels 1)
	[[ $ch == 2 ]] && chan_fx=(channels 2)
	# shellcheck disable=SC2086
	sox "$w/loop.wav" -e floating-point -b 32 "$w/raw.wav" \
		repeat "$reps" trim 0 "$secs" gain -n -6 $extra "${chan_fx[@]}" \
		reverb 45 50 80 100 15 -4 fade t 1.5 "$secs" 3 gain -n -3
	level "$w/raw.wav" "$w/song.wav"
	encode "$w/song.wav" "$dst" "$title" "$artist"
	echo "make-demo: $dst ($title, ${secs}s, ${rate} Hz, ${ch} ch)"
}

#
# A station ID: espeak-ng's voice (22050 Hz) over a bright plucked chord
# and a soft pad, mixed at 44100 Hz (sox's pluck needs 44.1-48 kHz), then
# converted to RATE Hz and CHANNELS.
#
#   jingle FILE VOICE TEXT RATE CHANNELS KEY
#
jingle() {
	local file=$1 voice=$2 text=$3 rate=$4 ch=$5 key=$6
	local dst="$OUT/jingles/$file"
	uptodate "$dst" && return 0
	local w="$TMP/${file%.*}"
	mkdir -p "$w"

	espeak-ng -v "$voice" -s 150 -p 45 -w "$w/voice.wav" "$text"
	local vlen len
	vlen=$(soxi -D "$w/voice.wav")
	len=$(awk -v v="$vlen" 'BEGIN{printf "%.3f", v + 1.6}')
	sox -r 44100 -c 6 -n -c 1 "$w/sting.wav" synth 1.5 \
		pluck "%$key" pluck "%$((key + 4))" pluck "%$((key + 7))" \
		pluck "%$((key + 12))" pluck "%$((key + 16))" \
		pluck "%$((key + 19))" \
		delay 0 0.07 0.14 0.21 0.28 0.35 remix -
	sox -r 44100 -c 3 -n -c 1 "$w/pad.wav" synth "$len" \
		sine "%$((key - 12))" sine "%$((key - 5))" sine "%$((key - 8))" \
		remix - fade t 0.6 "$len" 1.2
	sox "$w/voice.wav" -r 44100 "$w/voice-late.wav" pad 0.7 0
	sox -m -v 0.3 "$w/sting.wav" -v 0.2 "$w/pad.wav" -v 0.6 \
		"$w/voice-late.wav" -e floating-point -b 32 "$w/mix.wav" \
		trim 0 "$len" channels "$ch" rate "$rate" \
		reverb 30 50 60 100 10 -6 fade t 0.01 "$len" 0.6 gain -n -3
	level "$w/mix.wav" "$w/id.wav"
	encode "$w/id.wav" "$dst" "Station ID" "Pulse Radio"
	echo "make-demo: $dst (\"$text\")"
}

# Each piece and ID is independent: make them two at a time (2 cores).
pids=()
run() {
	"$@" &
	pids+=($!)
	if [[ ${#pids[@]} -ge 2 ]]; then
		wait "${pids[0]}" || fail=1
		pids=("${pids[@]:1}")
	fi
}
fail=0

#    file                   title               artist               key bpm secs rate  ch progression          pattern           arp    pad      bass   drums extra
run song morning-commute.mp3 "Morning Commute" "The Pulse Ensemble" -9 112 45 44100 2 "0 M 7 M 9 m 5 M" "0 1 2 3 4 3 2 1" pluck sine triangle 1 ""
run song harbour-lights.ogg "Harbour Lights" "Marina Sound" 0 84 50 48000 2 "0 m 8 M 3 M 10 M" "0 2 3 2 4 2 3 5" triangle sine sine 0 "echo 0.8 0.7 357 0.3"
run song skyline-drive.mp3 "Skyline Drive" "Neon Avenue" -7 128 35 22050 1 "0 M 5 M 9 m 7 M" "0 3 1 4 2 5 1 3" square triangle square 1 "lowpass 2500"
run song late-night-taxi.ogg "Late Night Taxi" "Marina Sound" -4 96 40 44100 1 "0 M 9 m 2 m 7 M" "0 1 2 4 3 2 1 2" sine triangle sine 0 "tremolo 5 30"
run song sunday-market.wav "Sunday Market" "The Pulse Ensemble" -2 104 30 48000 2 "0 M 5 M 0 M 7 M" "0 2 1 3 2 4 3 5" pluck triangle triangle 1 ""
run song city-rain.mp3 "City Rain" "Neon Avenue" -5 72 55 48000 2 "0 m 5 m 8 M 7 M" "5 3 4 2 3 1 2 0" sawtooth sine triangle 0 "lowpass 1800 chorus 0.6 0.8 50 0.4 0.25 2 -t"
run jingle id1.ogg en-us+f3 "You're listening to Pulse Radio. Your city, your station." 44100 2 -9
run jingle id2.mp3 en-gb "Pulse Radio. Non-stop music, all day and all night." 22050 1 -7
run jingle id3.ogg en-us+m3 "This is Pulse Radio. Stay tuned." 48000 1 -4
for p in "${pids[@]}"; do
	wait "$p" || fail=1
done
if [[ $fail -ne 0 ]]; then
	echo "make-demo: some files failed (see above)" >&2
	exit 1
fi

# The playlist: a station ID first and then every two or three songs.
entries=(
	"../jingles/id1.ogg|Pulse Radio - Station ID"
	"morning-commute.mp3|The Pulse Ensemble - Morning Commute"
	"harbour-lights.ogg|Marina Sound - Harbour Lights"
	"../jingles/id2.mp3|Pulse Radio - Station ID"
	"skyline-drive.mp3|Neon Avenue - Skyline Drive"
	"late-night-taxi.ogg|Marina Sound - Late Night Taxi"
	"sunday-market.wav|The Pulse Ensemble - Sunday Market"
	"../jingles/id3.ogg|Pulse Radio - Station ID"
	"city-rain.mp3|Neon Avenue - City Rain"
)
m3u="$OUT/playlists/demo.m3u"
{
	echo "#EXTM3U"
	for e in "${entries[@]}"; do
		path=${e%%|*}
		secs=$(soxi -D "$OUT/playlists/$path" 2>/dev/null || echo -1)
		printf '#EXTINF:%d,%s\n%s\n' "$(awk -v s="$secs" \
			'BEGIN{printf "%d", (s < 0 ? -1 : s + 0.5)}')" "${e#*|}" "$path"
	done
} >"$TMP/demo.m3u"
# Replace only when it changed, so its time stamp means something.
if ! cmp -s "$TMP/demo.m3u" "$m3u"; then
	mv -f "$TMP/demo.m3u" "$m3u"
	echo "make-demo: $m3u"
fi
echo "make-demo: done; play with --library $OUT"
