# shellcheck shell=bash
#
# lib.sh - pieces the benchmark scripts share. Source it after setting
# REPO; it sources bench/music.sh too. Nothing runs until called.
#
#   say MSG / die MSG          a line on stderr ("bench: ..."); die exits 1
#   posint VALUE               whether VALUE is a positive integer
#   minof A B                  the smaller number; "NA" loses to any
#   bench_need TOOL...         die naming the first TOOL not installed
#   bench_build DIR TARGET...  configure DIR (if it has no cache) and build
#                              each target on its own; prints the targets
#                              that failed (empty: all built)
#   bench_runstat_build DIR    compile bench/runstat.c into DIR (if it is
#                              older than the source); sets RUNSTAT
#   bench_run LIMIT SIG OUT CMD...
#                              run CMD under bench-runstat: SIG (INT or
#                              TERM) after LIMIT seconds, every descendant
#                              reaped; OUT gets key=value (user_s sys_s
#                              cpu_s wall_s maxrss_kb tree_rss_kb rc
#                              signalled), OUT.pid CMD's process id.
#                              Non-zero if CMD failed.
#   tree_cpu PID               CPU seconds so far of PID and every process
#                              under it, with the children each reaped
#   kv FILE KEY                a value from such a file
#   ogg_decoded_secs FILE      seconds of audio a decoder gets from FILE
#                              (oggdec, every link of a chained Ogg)
#   ogg_header_secs FILE       the same from the pages' granule positions
#                              (ogginfo; no decoding)
#   compare_track_secs I       the length of track I of the set below
#   bench_compare_media DIR    the compare benchmark's music, made once
#                              and reused: DIR/mp3, 16 MP3s of 3 to 5
#                              minutes (3750 s in all), 16 artists, 44.1
#                              kHz stereo, 128 kbps, with compare.m3u and
#                              abs.txt (absolute paths); DIR/ogg, the same
#                              audio as Ogg Vorbis q0.4 (for ices2, which
#                              only sends Ogg files), with abs.txt

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { echo "bench: $*" >&2; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}
posint() { [[ ${1:-} =~ ^[1-9][0-9]*$ ]]; }
minof() {
	awk -v a="$1" -v b="$2" \
		'BEGIN{print ((a == "NA" || (b != "NA" && b + 0 < a + 0)) ? b : a)}'
}

bench_need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			die "$tool is missing: run scripts/deps.sh and bench/deps.sh"
	done
}

bench_build() {
	local dir=$1 t failed=()
	shift
	if [[ ! -f $dir/CMakeCache.txt ]]; then
		say "configuring $dir"
		cmake -S "$REPO" -B "$dir" >"$dir/bench-cmake.log" 2>&1 || {
			say "cmake failed (see $dir/bench-cmake.log)"
			echo "$*"
			return 0
		}
	fi
	for t in "$@"; do
		cmake --build "$dir" -j2 --target "$t" \
			>"$dir/bench-build-$t.log" 2>&1 || failed+=("$t")
	done
	echo "${failed[*]}"
}

bench_runstat_build() {
	RUNSTAT=$1/bench-runstat
	if [[ ! -x $RUNSTAT || $BENCH_DIR/runstat.c -nt $RUNSTAT ]]; then
		cc -O2 -std=c11 -Wall -Wextra -o "$RUNSTAT" \
			"$BENCH_DIR/runstat.c" || die "bench/runstat.c does not build"
	fi
}

bench_run() {
	local limit=$1 sig=$2 out=$3
	shift 3
	rm -f "$out.pid"
	"$RUNSTAT" -l "$limit" -s "$sig" -o "$out" -p "$out.pid" -- "$@"
}

tree_cpu() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" \
		-v hz="$(getconf CLK_TCK)" '
	{ pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
	  parent[pid] = f[2]; cpu[pid] = f[12] + f[13] + f[14] + f[15] }
	END { for (p in parent) { q = p; n = 0
		while (q > 1 && n++ < 64) {
			if (q == root) { t += cpu[p]; break }
			q = parent[q] } }
	      printf "%.2f", t / hz }'
}

kv() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

ogg_decoded_secs() {
	local bytes
	# oggdec -R: raw 16-bit; 4 bytes a frame at 2 channels. Every file
	# measured here is 44.1 kHz stereo (checked by ogg_header_secs's
	# caller comparing the two).
	bytes=$(oggdec -Q -R -b 16 -o - "$1" 2>/dev/null | wc -c) || return 1
	awk -v b="$bytes" 'BEGIN{printf "%.2f", b / 4 / 44100}'
}

ogg_header_secs() {
	ogginfo "$1" 2>/dev/null | awk '/Playback length:/ {
		n = split($3, t, /[hms:]+/); s = 0
		for (k = 1; k < n; k++) s = s * 60 + t[k]
		sum += s } END { printf "%.2f", sum }'
}

# shellcheck source=bench/music.sh
source "$BENCH_DIR/music.sh"

# Track I's length: 3 to 5 minutes, all different, 3750 s in all, so
# that 16 tracks with 15 crossfades of 3 s fill an hour with time to
# spare (pulse-radio also trims each track's silent head and fade).
compare_track_secs() { echo $((185 + ($1 * 37) % 101)); }

bench_compare_media() {
	local media=$1 n=16 i p secs name
	local stamp="$media/.complete"
	local text="v1 $n tracks, 16 artists, 185-285 s, 44100 Hz stereo, 128 kbps"
	local ostamp="$media/ogg/.complete"
	local otext="v2 oggenc -q 4 (libvorbis quality 0.4)"
	local -a pids=()

	if [[ -f $stamp && $(<"$stamp") == "$text" ]]; then
		say "reusing the test music in $media"
	else
		say "making $n tracks of 3 to 5 minutes in $media (once, ~3 min)"
		rm -rf "$media"
		mkdir -p "$media/mp3"
		for ((i = 1; i <= n; i++)); do
			secs=$(compare_track_secs "$i")
			name=$(printf 'track%02d' "$i")
			bench_track "$((i + 100))" "$media/mp3/$name.mp3" "$secs" \
				"Compare Artist $i" "Compare track $i" &
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
		pids=()
		# compare.m3u for pulse-radio (the playlist is named after the
		# file); absolute paths for the others.
		for ((i = 1; i <= n; i++)); do
			printf 'track%02d.mp3\n' "$i"
		done >"$media/mp3/compare.m3u"
		for ((i = 1; i <= n; i++)); do
			printf '%s/mp3/track%02d.mp3\n' "$media" "$i"
		done >"$media/mp3/abs.txt"
		echo "$text" >"$stamp"
	fi
	[[ -f $ostamp && $(<"$ostamp") == "$otext" ]] && return 0
	# The same audio for ices2, which sends Ogg files as they are:
	# decoded from the MP3s, Vorbis at quality 0.4 on libvorbis's scale
	# (-0.1..1), which is oggenc's -q 4 (its scale is -1..10).
	say "encoding the Ogg copies in $media/ogg (once)"
	rm -rf "$media/ogg"
	mkdir -p "$media/ogg"
	for ((i = 1; i <= n; i++)); do
		name=$(printf 'track%02d' "$i")
		{
			sox -V1 "$media/mp3/$name.mp3" -t wav - |
				oggenc -Q -q 4 -a "Compare Artist $i" \
					-t "Compare track $i" -o "$media/ogg/$name.ogg" -
		} &
		pids+=($!)
		if [[ ${#pids[@]} -ge 2 ]]; then
			wait "${pids[0]}" || return 1
			pids=("${pids[@]:1}")
		fi
	done
	for p in "${pids[@]}"; do
		wait "$p" || return 1
	done
	for ((i = 1; i <= n; i++)); do
		printf '%s/ogg/track%02d.ogg\n' "$media" "$i"
	done >"$media/ogg/abs.txt"
	echo "$otext" >"$ostamp"
}
