# media.sh - real audio fixtures for the integration tests, made on the fly.
#
# Source it, then:
#   media_tone OUT SECONDS RATE CHANNELS FREQ [TITLE ARTIST]
#       OUT's extension picks the encoder: .wav (sox, 16-bit), .mp3 (lame,
#       ID3 title/artist), .ogg (oggenc, Vorbis comments). Exactly
#       SECONDS*RATE frames before encoding.
#   media_frames SECONDS RATE STATION_RATE
#       the frame count that many seconds become at the station rate.

media_tone() {
	local out=$1 secs=$2 rate=$3 ch=$4 freq=$5 title=${6:-} artist=${7:-}
	local wav=${out%.*}.src.wav
	# A tone a fifth apart on the two channels (one on mono), -8 dBFS.
	sox -q -n -r "$rate" -c "$ch" -b 16 "$wav" synth "$secs" \
		sine "$freq" sine "$((freq * 3 / 2))" gain -8
	case $out in
	*.wav) mv "$wav" "$out" ;;
	*.mp3)
		lame --quiet -b 128 ${title:+--tt "$title"} ${artist:+--ta "$artist"} "$wav" "$out"
		rm -f "$wav"
		;;
	*.ogg)
		oggenc --quiet -q 3 ${title:+-t "$title"} ${artist:+-a "$artist"} -o "$out" "$wav"
		rm -f "$wav"
		;;
	*)
		echo "media_tone: unknown extension: $out" >&2
		return 1
		;;
	esac
}

media_frames() {
	python3 -c "import sys; s,r,o=map(float,sys.argv[1:]); print(round(round(s*r)*o/r))" "$1" "$2" "$3"
}

# within A B TOL: true when |A - B| <= TOL (numbers may be fractional).
within() {
	python3 -c "import sys; a,b,t=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<=t else 1)" "$1" "$2" "$3"
}

# media_station P DIR DB N: N 30 s tones ("Tone I" by "Band I") in DIR/music,
# and a database DB that plays them all day (playlist "music") with
# breaking news at once: the station the daemon's HTTP tests run.
media_station() {
	local p=$1 dir=$2 db=$3 n=$4 i
	mkdir -p "$dir/music"
	for ((i = 1; i <= n; i++)); do
		media_tone "$dir/music/t$i.ogg" 30 44100 2 $((300 + i * 50)) \
			"Tone $i" "Band $i" &
	done
	wait
	"$p" db init --db "$db" >/dev/null
	"$p" library scan "$dir/music" --db "$db" >/dev/null
	(cd "$dir/music" && ls -- *.ogg >music.m3u)
	"$p" playlist import "$dir/music/music.m3u" --db "$db" >/dev/null
	"$p" slot add all --days daily --start 00:00 --end 24:00 \
		--playlist music --db "$db" >/dev/null
	"$p" db set breaking_mode now --db "$db" >/dev/null
}
