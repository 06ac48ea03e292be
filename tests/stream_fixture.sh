# stream_fixture.sh - a short looping programme for the Icecast tests.
#
# stream_fixture DIR: writes DIR/list.m3u with six 5-second items in every
# input kind the station takes (MP3, Ogg, WAV; 22050, 44100 and 48000 Hz;
# mono and stereo) and sets TITLES to their titles in playlist order.
stream_fixture() {
	local dir=$1 it name rate ch freq title artist
	local -a items=(
		"one.mp3 44100 2 262 One Alpha"
		"two.ogg 48000 1 294 Two Bravo"
		"three.wav 22050 1 330 Three Charlie"
		"four.mp3 22050 1 349 Four Delta"
		"five.ogg 44100 2 392 Five Echo"
		"six.wav 48000 2 440 Six Foxtrot"
	)
	TITLES=()
	echo "#EXTM3U" >"$dir/list.m3u"
	for it in "${items[@]}"; do
		read -r name rate ch freq title artist <<<"$it"
		media_tone "$dir/$name" 5 "$rate" "$ch" "$freq" "$title" "$artist" &
		# WAV carries no tags here: its title comes from #EXTINF.
		echo "#EXTINF:5,$artist - $title" >>"$dir/list.m3u"
		echo "$name" >>"$dir/list.m3u"
		TITLES+=("$title")
	done
	wait
}

# follows_playlist T1 T2 ...: true when each title is the one after the
# previous in the (looping) playlist order TITLES, and there are at least 3.
follows_playlist() {
	local n=${#TITLES[@]} prev="" t i ok=1
	(($# >= 3)) || return 1
	for t in "$@"; do
		if [[ -n $prev ]]; then
			for ((i = 0; i < n; i++)); do
				[[ ${TITLES[i]} == "$prev" ]] && break
			done
			if [[ ${TITLES[(i + 1) % n]} != "$t" ]]; then
				echo "  '$t' does not follow '$prev'" >&2
				ok=0
			fi
		fi
		prev=$t
	done
	((ok))
}
