# shellcheck shell=bash
# music.sh - synthesised test music for the benchmarks (sox + lame), so
# every run measures the same real MP3s without downloading any. Source it.
#
#   bench_track I OUT.mp3 SECONDS ARTIST TITLE
#       a piece of music made from seed I (key, tempo, chords), 44.1 kHz
#       stereo, 128 kbps, with ID3 artist and title. Uses $WORK for
#       temporary files.

f6() { awk "BEGIN{printf \"%.6f\", $1}"; }

bench_track() {
	local i=$1 out=$2 secs=$3 artist=$4 title=$5 w
	w=$(mktemp -d "$WORK/tmp.XXXXXX")
	local key=$(((i * 5) % 12 - 9)) bpm=$((88 + (i * 13) % 48))
	local e bar loop
	e=$(f6 "30 / $bpm")
	bar=$(f6 "$e * 8")
	loop=$(f6 "$bar * 4")
	# I-V-vi-IV or i-VI-III-VII, alternately.
	local -a roots=(0 7 9 5) thirds=(4 4 3 4)
	if ((i % 2)); then
		roots=(0 8 3 10)
		thirds=(3 4 4 4)
	fi
	local -a pat=(0 1 2 3 4 3 2 1)
	local arp="" arp_d="" pad="" pad_d="" bass="" bass_d="" hat="" hat_d=""
	local b j r t n
	for ((b = 0; b < 4; b++)); do
		r=${roots[b]}
		t=${thirds[b]}
		local -a tones=("$r" $((r + t)) $((r + 7)) $((r + 12))
			$((r + 12 + t)) $((r + 19)))
		for ((j = 0; j < 8; j++)); do
			arp+=" pluck %$((key + tones[pat[j]]))"
			arp_d+=" $(f6 "$bar * $b + $e * $j")"
			hat+=" whitenoise"
			hat_d+=" $(f6 "$bar * $b + $e * $j")"
		done
		for n in 0 1 2; do
			pad+=" sine %$((key - 12 + tones[n]))"
			pad_d+=" $(f6 "$bar * $b")"
		done
		for n in 0 4; do
			bass+=" triangle %$((key - 24 + r))"
			bass_d+=" $(f6 "$bar * $b + $e * $n")"
		done
	done
	local note half
	note=$(f6 "$e * 2.5")
	half=$(f6 "$e * 3.6")
	# shellcheck disable=SC2086
	{
		sox -r 44100 -c 32 -n -c 1 "$w/arp.wav" synth "$note" $arp \
			fade h 0.004 "$note" "$(f6 "$note * 0.8")" delay $arp_d remix -
		sox -r 44100 -c 12 -n -c 1 "$w/pad.wav" synth "$bar" $pad \
			fade t 0.25 "$bar" 0.4 delay $pad_d remix -
		sox -r 44100 -c 8 -n -c 1 "$w/bass.wav" synth "$half" $bass \
			fade h 0.01 "$half" 0.25 delay $bass_d remix - lowpass 600
		sox -r 44100 -c 32 -n -c 1 "$w/hat.wav" synth 0.05 $hat \
			fade h 0.001 0.05 0.045 delay $hat_d remix - highpass 6000
	}
	sox -m -v 1 "$w/arp.wav" -v 0.55 "$w/pad.wav" -v 0.8 "$w/bass.wav" \
		-v 0.25 "$w/hat.wav" "$w/mix.wav"
	# Fold the tails past the loop's end onto its start: seamless repeats.
	sox "$w/mix.wav" "$w/head.wav" trim 0 "$loop"
	sox "$w/mix.wav" "$w/tail.wav" trim "$loop"
	sox -m "$w/head.wav" "$w/tail.wav" "$w/loop.wav" trim 0 "$loop"
	local reps
	reps=$(awk -v s="$secs" -v l="$loop" 'BEGIN{print int(s / l) + 1}')
	sox "$w/loop.wav" -b 16 "$w/track.wav" repeat "$reps" \
		trim 0 "$secs" gain -n -6 channels 2 \
		reverb 45 50 80 100 15 -4 fade t 1 "$secs" 2 gain -n -1.5 \
		dither -s
	lame --quiet -b 128 -m j --tt "$title" --ta "$artist" \
		"$w/track.wav" "$out.tmp"
	mv -f "$out.tmp" "$out"
	rm -rf "$w"
}
