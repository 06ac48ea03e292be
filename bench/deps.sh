#!/usr/bin/env bash
#
# deps.sh - install what the benchmarks need beyond scripts/deps.sh: the
# other streamers bench/compare.sh measures pulse-radio against, and the
# tools it drives them with.
#
# Usage: bench/deps.sh [--check]
#
# Debian 12 (bookworm) packages only; runs scripts/deps.sh first (build
# tools, sox, lame, vorbis-tools, icecast2, valgrind, ...). Does nothing
# when everything is installed; otherwise runs `apt-get update` once and
# installs the missing packages, non-interactively, as root or through
# sudo. --check only reports what is missing (exit 1 if anything is).
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

check_only=0
if [[ ${1:-} == --check ]]; then
	check_only=1
elif [[ $# -gt 0 ]]; then
	echo "usage: $0 [--check]" >&2
	exit 2
fi

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
if [[ $check_only -eq 1 ]]; then
	"$REPO/scripts/deps.sh" --check || true
else
	"$REPO/scripts/deps.sh"
fi

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [[ $status != "install ok installed" ]]; then
		missing+=("$p")
	fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "bench deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
echo "bench deps: missing: ${missing[*]}"
if [[ $check_only -eq 1 ]]; then
	exit 1
fi
if [[ $(id -u) -eq 0 ]]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	echo "bench deps: not root and no sudo: install the packages above by hand" >&2
	exit 1
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}" </dev/null
echo "bench deps: installed: ${missing[*]}"
