#!/usr/bin/env bash
#
# soak.sh - a simulated week on the air, rendered offline: does anything
# grow? The schedule runs for --hours of programme (default 168, a week)
# on the simulated clock, as fast as the CPU allows, with everything a
# week brings along the way: the news every half hour with bulletins
# queued while it runs, station IDs, jingles, crossfades, and schedule
# edits (each one a reload of the schedule).
#
# Usage: bench/soak.sh [--hours H] [--build DIR] [--work DIR] [--no-build]
#                      [--strict]
#
#   --hours H    hours of programme (default 168)
#   --build DIR  build dir holding pulse-radio (default build/)
#   --work DIR   media, database (default DIR/soak)
#   --no-build   use the binary in DIR as it is
#   --strict     exit 1 when a check fails
#
# While it renders, the process's peak and current RSS and its open file
# descriptors are sampled twice a second against the programme time (the
# as-run log). Checks: peak RSS at the end within 1 MB of the peak after
# the first programme hour (and, printed, against hour 12); no more
# descriptors open at most in the second half of the run than in the first; the as-run log complete (the items' lengths add up to the
# programme, no hole between two items over 3 s beyond the crossfades);
# every bulletin queued aired exactly once. Ends with key=value lines.
# Every wait is bounded; no network.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
HOURS=168
BUILD="$REPO/build"
WORK=
DO_BUILD=1
STRICT=0

usage() {
	sed -n '3,26s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--hours)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
		HOURS=$2
		shift 2
		;;
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
WORK=${WORK:-$BUILD/soak}
say() { echo "soak: $*" >&2; }

if ((DO_BUILD)); then
	cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target pulse-radio >/dev/null
fi
P=$BUILD/pulse-radio
[[ -x $P ]] || { say "no $P"; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/music" "$WORK/jingles" "$WORK/ids"
source "$REPO/tests/media.sh"

# Twelve songs of 1.5 to 4 minutes, four jingles, two IDs: Ogg, 44.1 kHz
# mono (the soak is about what grows, not about the codec's cost).
say "making the media"
for i in $(seq 1 12); do
	media_tone "$WORK/music/s$i.ogg" $((90 + (i * 37) % 150)) 44100 1 \
		$((220 + i * 30)) "Song $i" "Artist $((i % 7))" &
	(($(jobs -r | wc -l) >= $(nproc))) && wait -n
done
for i in 1 2 3 4; do
	media_tone "$WORK/jingles/j$i.ogg" $((3 + i)) 44100 1 $((900 + i * 50)) \
		"Jingle $i" "Pulse" &
done
for i in 1 2; do
	media_tone "$WORK/ids/id$i.ogg" 4 44100 1 $((1200 + i * 80)) "ID $i" "Pulse" &
done
wait
DB=$WORK/pulse.db
pr() { "$P" "$@" --db "$DB" >/dev/null; }
pr db init
for d in music jingles ids; do
	pr library scan "$WORK/$d"
	(cd "$WORK/$d" && ls -- *.ogg >"$d.m3u")
	pr playlist import "$WORK/$d/$d.m3u"
done
pr slot add day --days daily --start 06:00 --end 22:00 --playlist music \
	--jingles jingles --jingle-every 3 --ids ids --news 0,30
pr slot add night --days daily --start 22:00 --end 06:00 --playlist music \
	--ids ids --news 0
pr db set breaking_mode after-item
# One bulletin before the start, so the first news (within the first
# hour) has loaded the voice before the baseline is taken.
"$P" bulletin add "Good morning: the soak begins." --db "$DB" >/dev/null

# The render, and the samplers and the week's events beside it.
FROM=$(date -d 'next monday 00:00' '+%Y-%m-%d %H:%M')
say "rendering $HOURS h from $FROM"
"$P" render --from "$FROM" --hours "$HOURS" --asrun --output null: \
	--rate 44100 --channels 1 --db "$DB" --log-level warn 2>"$WORK/render.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
prog_h() { # hours of programme the as-run log has reached
	sqlite3 -readonly "$DB" "SELECT coalesce((max(strftime('%s', started_at)) -
		min(strftime('%s', started_at))) / 3600.0, 0) FROM asrun" 2>/dev/null || echo 0
}
: >"$WORK/samples"
bulletins=1 edits=0 tick=0
deadline=$(($(date +%s) + 4 * 3600)) # a week renders in minutes; bounded
while kill -0 "$pid" 2>/dev/null && (($(date +%s) < deadline)); do
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo)
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo)
	fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
	# What the RSS is: the program's own memory (heap, stacks, the
	# libraries' written data) and the pages of files it maps (code of
	# the program and libraries, touched as new paths first run).
	anon=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo)
	file=$(awk '/^RssFile/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo)
	[[ -n $hwm ]] && echo "$(prog_h) $hwm $rss $fds $anon $file" >>"$WORK/samples"
	tick=$((tick + 1))
	# A bulletin every 5 s of real time, a schedule edit every 20 s.
	if ((tick % 10 == 0)); then
		"$P" bulletin add "Soak bulletin $bulletins: roads in Ward $((bulletins % 9 + 1)) are closed from 10:00 to 14:30." \
			--db "$DB" >/dev/null 2>&1 && bulletins=$((bulletins + 1))
	fi
	if ((tick % 40 == 0)); then
		pr slot edit day --jingle-every $((2 + edits % 3)) && edits=$((edits + 1))
	fi
	sleep 0.5
done
rc=0
wait "$pid" || rc=$?
trap - EXIT
[[ $rc -eq 0 ]] || { say "the render failed ($rc):"; tail -5 "$WORK/render.log" >&2; exit 1; }

# Let the last bulletins' news minutes come: they aired if queued in time.
# Descriptors come and go (a bulletin being spoken has its file open):
# growth is a higher most in the second half of the run than in the first.
awk -v h1=1 -v half="$((HOURS / 2))" '
	$1 >= h1 && !seen { h1_hwm = $2; h1_fd = $4; h1_anon = $5; h1_file = $6; seen = 1 }
	$1 >= 12 && !seen12 { h12_hwm = $2; seen12 = 1 }
	$1 < half && $4 > fd_first { fd_first = $4 }
	$1 >= half && $4 > fd_second { fd_second = $4 }
	{ last_hwm = $2; last_rss = $3; last_fd = $4; last_anon = $5; last_file = $6 }
	END {
		printf "hwm_after_hour1_kb=%s\nhwm_after_hour12_kb=%s\n", h1_hwm, h12_hwm
		printf "hwm_end_kb=%s\nrss_end_kb=%s\n", last_hwm, last_rss
		printf "fds_after_hour1=%s\nfds_end=%s\n", h1_fd, last_fd
		printf "anon_after_hour1_kb=%s\nanon_end_kb=%s\n", h1_anon, last_anon
		printf "file_after_hour1_kb=%s\nfile_end_kb=%s\n", h1_file, last_file
		printf "fds_max_first_half=%d\nfds_max_second_half=%d\n", fd_first, fd_second
	}' "$WORK/samples" >"$WORK/result"
source "$WORK/result"
sqlite3 -readonly "$DB" "
	SELECT count(*), sum(duration_ms) / 1000.0 FROM asrun;
	SELECT count(*) FROM asrun WHERE bulletin_id IS NOT NULL;
	SELECT count(DISTINCT bulletin_id) FROM asrun WHERE bulletin_id IS NOT NULL;
	SELECT count(*) FROM bulletin WHERE state = 'aired';
	SELECT count(*) FROM bulletin WHERE state IN ('queued', 'rendered');" |
	tr '|' ' ' >"$WORK/asrun"
{
	read -r items aired_s
	read -r news_rows
	read -r news_distinct
	read -r aired_bulletins
	read -r waiting
} <"$WORK/asrun"
# Holes: the start of each item against the end of the one before it
# (a crossfade overlaps them by up to 3 s; a hole is a start later than
# the end before it).
holes=$(sqlite3 -readonly "$DB" "
	SELECT count(*) FROM (
	  SELECT strftime('%s', started_at) * 1000.0 + substr(started_at, 21, 3) AS s,
	         lag(strftime('%s', started_at) * 1000.0 + substr(started_at, 21, 3) + duration_ms)
	           OVER (ORDER BY started_at) AS prev_end
	  FROM asrun)
	WHERE prev_end IS NOT NULL AND s - prev_end > 3000")
growth=$((hwm_end_kb - hwm_after_hour1_kb))
programme_s=$((HOURS * 3600))
echo "programme: $HOURS h; items $items, $(printf '%.0f' "$aired_s") s of items (with overlaps)"
echo "bulletins: $bulletins queued while rendering, $aired_bulletins aired ($news_rows as-run rows, $news_distinct distinct), $waiting still waiting"
echo "schedule edits (reloads): $edits"
echo "peak RSS: $hwm_after_hour1_kb kB after hour 1, ${hwm_after_hour12_kb:-NA} kB after hour 12, $hwm_end_kb kB at the end (+$growth kB); RSS at the end $rss_end_kb kB"
echo "of the RSS: own memory (RssAnon) $anon_after_hour1_kb kB after hour 1, $anon_end_kb kB at the end; mapped files (RssFile) $file_after_hour1_kb kB, then $file_end_kb kB"
echo "open descriptors: $fds_after_hour1 after hour 1, $fds_end at the end; at most $fds_max_first_half in the first half, $fds_max_second_half in the second"
echo "holes over 3 s between items: $holes"
fail=0
check() { # WHAT COND...
	local what=$1
	shift
	if "$@"; then echo "ok - $what"; else echo "MISSED - $what"; fail=1; fi
}
check "peak RSS grew at most 1 MB after hour 1" test "$growth" -le 1024
check "no descriptor growth (second half's most <= first half's)" \
	test "$fds_max_second_half" -le "$fds_max_first_half"
check "the as-run log covers the programme" \
	awk -v a="$aired_s" -v p="$programme_s" 'BEGIN { exit !(a >= p * 0.999) }'
check "no holes between items" test "$holes" -eq 0
check "every bulletin aired exactly once" \
	test "$news_rows" -eq "$news_distinct" -a "$aired_bulletins" -eq "$news_distinct" \
	-a "$((aired_bulletins + waiting))" -eq "$bulletins"
echo "soak_hours=$HOURS"
echo "soak_rss_growth_kb=$growth"
echo "soak_anon_growth_kb=$((anon_end_kb - anon_after_hour1_kb))"
echo "soak_file_growth_kb=$((file_end_kb - file_after_hour1_kb))"
echo "soak_fd_growth=$((fds_max_second_half - fds_max_first_half))"
[[ -n ${hwm_after_hour12_kb:-} ]] &&
	echo "soak_rss_growth_after_hour12_kb=$((hwm_end_kb - hwm_after_hour12_kb))"
echo "soak_holes=$holes"
((STRICT && fail)) && exit 1
exit 0
