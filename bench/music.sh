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

# A station ID: espeak-ng's voice over a two-note tone bed, about 5 s.
bench_id() {
	local i=$1 out=$2 w
	w=$(mktemp -d "$WORK/tmp.XXXXXX")
	local -a lines=("You are listening to Pulse Radio."
		"Pulse Radio. Music, all day, all night."
		"This is Pulse Radio, on air around the clock.")
	local f1=$((440 + i * 60)) f2=$((660 + i * 90))
	sox -r 44100 -n -c 2 -b 16 "$w/bed.wav" synth 5 sine "$f1" sine "$f2" \
		fade t 0.3 5 1 gain -n -18
	if command -v espeak-ng >/dev/null 2>&1 &&
		espeak-ng -s 150 -w "$w/voice0.wav" "${lines[i - 1]}" 2>/dev/null; then
		sox "$w/voice0.wav" -r 44100 -c 2 -b 16 "$w/voice.wav" \
			gain -n -4 pad 0.4
		sox -m "$w/bed.wav" "$w/voice.wav" -b 16 "$w/id.wav" trim 0 5 \
			gain -n -1.5
	else
		cp "$w/bed.wav" "$w/id.wav"
	fi
	lame --quiet -b 128 -m j --tt "ID $i" --ta "Pulse Radio" \
		"$w/id.wav" "$out.tmp"
	mv -f "$out.tmp" "$out"
	rm -rf "$w"
}

#   bench_sched_media DIR
#       the schedule benchmarks' media, made once and reused: 14 MP3s over
#       7 artists (2.5 to 5 minutes) in DIR/music with day.m3u (tracks
#       1-10) and night.m3u (5-14), and 3 spoken station IDs in DIR/ids
#       with ids.m3u. Returns non-zero if making them failed.
bench_sched_media() {
	local media=$1 ntracks=14 nartists=7 i p
	local stamp="$media/.complete"
	local text="v1 $ntracks tracks over $nartists artists, 3 ids, 44100 Hz stereo, 128 kbps"
	local -a pids=()

	if [[ -f $stamp && $(<"$stamp") == "$text" ]]; then
		echo "bench: reusing the test media in $media" >&2
		return 0
	fi
	echo "bench: making $ntracks tracks and 3 station IDs in $media" >&2
	rm -rf "$media"
	mkdir -p "$media/music" "$media/ids"
	for ((i = 1; i <= ntracks + 3; i++)); do
		if ((i <= ntracks)); then
			# 150..290 s; artist k has tracks k and k+7.
			bench_track "$i" "$(printf '%s/music/track%02d.mp3' "$media" "$i")" \
				$((150 + (i * 47) % 141)) \
				"Bench Artist $(((i - 1) % nartists + 1))" "Sched track $i" &
		else
			bench_id $((i - ntracks)) "$media/ids/id$((i - ntracks)).mp3" &
		fi
		pids+=($!)
		# Two at a time: one per core.
		if [[ ${#pids[@]} -ge 2 ]]; then
			wait "${pids[0]}" || return 1
			pids=("${pids[@]:1}")
		fi
	done
	for p in "${pids[@]}"; do
		wait "$p" || return 1
	done
	for ((i = 1; i <= 10; i++)); do printf 'track%02d.mp3\n' "$i"; done \
		>"$media/music/day.m3u"
	for ((i = 5; i <= ntracks; i++)); do printf 'track%02d.mp3\n' "$i"; done \
		>"$media/music/night.m3u"
	printf 'id%d.mp3\n' 1 2 3 >"$media/ids/ids.m3u"
	echo "$text" >"$stamp"
}
