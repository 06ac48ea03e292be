#!/usr/bin/env bash
#
# deps.sh - install everything Pulse Radio needs to build, run and test.
#
# Usage: scripts/deps.sh [--check] [PACKAGE...]
#
# PACKAGEs are installed too, the same way: what another script needs
# beyond these (bench/deps.sh: the other streamers).
#
# Debian 12 (bookworm) packages only. Does nothing when every package is
# already installed; otherwise runs `apt-get update` once and installs the
# missing ones, non-interactively. Works as root (CI) or through sudo.
# --check only reports what is missing (exit 1 if anything is).
#
# icecast2 asks debconf whether to configure itself; we preseed "no" so the
# install never prompts and never rewrites /etc/icecast2 (tests and the
# demo bring their own config on 127.0.0.1 anyway).
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config
	libshout-dev libvorbis-dev libogg-dev libmpg123-dev libsqlite3-dev
	libespeak-ng-dev libsoxr-dev libinih-dev libmicrohttpd-dev
	espeak-ng icecast2 sox libsox-fmt-mp3 lame vorbis-tools ffmpeg
	libebur128-dev tzdata curl jq python3 valgrind time clang-format sqlite3
	libevent-dev libjson-c-dev faketime
	chromium chromium-driver python3-selenium
)

check_only=0
for a in "$@"; do
	case $a in
	--check) check_only=1 ;;
	-*)
		echo "usage: $0 [--check] [PACKAGE...]" >&2
		exit 2
		;;
	*) PACKAGES+=("$a") ;;
	esac
done

missing=()
native=$(dpkg --print-architecture)
for p in "${PACKAGES[@]}"; do
	# This machine's architecture or "all": with the arm64 cross
	# packages (scripts/cross-arm64.sh) a library is listed twice.
	if ! dpkg-query -W -f='${Status} ${Architecture}\n' "$p" 2>/dev/null |
		grep -Eq "^install ok installed ($native|all)$"; then
		missing+=("$p")
	fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
echo "deps: missing: ${missing[*]}"
if [[ $check_only -eq 1 ]]; then
	exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	echo "deps: not root and no sudo: install the packages above by hand" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Answer icecast2's only debconf question before it is asked.
echo "icecast2 icecast2/icecast-setup boolean false" |
	"${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}" </dev/null

# On a machine with an init system the package starts the system-wide
# icecast2 on port 8000, which scripts/demo.sh wants for its own server.
if command -v pgrep >/dev/null 2>&1 &&
	pgrep -f /etc/icecast2/icecast.xml >/dev/null; then
	echo "deps: note: the system icecast2 service is running (port 8000);" \
		"scripts/demo.sh needs that port: sudo service icecast2 stop" >&2
fi
echo "deps: installed: ${missing[*]}"
