#!/usr/bin/env bash
#
# deps.sh - install what the benchmarks need beyond scripts/deps.sh: the
# other streamers bench/compare.sh measures pulse-radio against, and the
# tools it drives them with.
#
# Usage: bench/deps.sh [--check]
#
# Debian 12 (bookworm) packages only; scripts/deps.sh installs them with
# its own list (build tools, sox, lame, vorbis-tools, icecast2, valgrind,
# ...). Does nothing when everything is installed; otherwise runs
# `apt-get update` once and installs the missing packages,
# non-interactively, as root or through sudo. --check only reports what
# is missing (exit 1 if anything is).
#
#   liquidsoap  the streaming language (2.1.3 in Debian 12): render.liq
#               and stream.liq in bench/liquidsoap/
#   ices2       the Icecast project's source client (2.0.3): sends Ogg
#               files as they are, or re-encodes them
#   ezstream    a source client (1.0.2) that pipes each file through a
#               decoder and an encoder program
#   mpg123      the MP3 decoder program ezstream runs
#   valgrind    callgrind, for bench/instr.sh (also in scripts/deps.sh)
#   perf        linux-perf, to see where a streamer's CPU goes (optional
#               for the scripts; for looking into a result)
set -euo pipefail

PACKAGES=(liquidsoap ices2 ezstream mpg123 valgrind linux-perf)

args=()
if [[ ${1:-} == --check ]]; then
	args=(--check)
elif [[ $# -gt 0 ]]; then
	echo "usage: $0 [--check]" >&2
	exit 2
fi

# scripts/deps.sh checks and installs them along with its own list.
REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
exec "$REPO/scripts/deps.sh" "${args[@]}" "${PACKAGES[@]}"
