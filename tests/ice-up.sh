#!/bin/bash
#
# tests/ice-up.sh - start a test Icecast for a program that cannot source
# tests/lib.sh (a C test), and leave it running.
#
#   bash tests/ice-up.sh [--owner PID] [--port PORT]
#
# Prints ICE_PORT=, ICE_PASS=, ICE_ADMIN_PASS=, ICE_PID= and ICE_DIR= lines
# (see tests/lib.sh) and exits 0, or exits 1 with the reason on stderr.
# ICE_PASS and ICE_ADMIN_PASS from the environment are kept, so a restart
# on the same port takes the same passwords. Stop it with
# tests/ice-down.sh "$ICE_DIR".
#
# With --owner PID, a watchdog stops it and removes ICE_DIR as soon as
# process PID is gone, so a test that crashes leaves no icecast2 behind.
# The watchdog also gives up (and stops it) after ICE_WATCHDOG_MAX seconds
# (default 900).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

owner="" port=""
while (($#)); do
	case $1 in
	--owner) owner=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	*) echo "usage: ice-up.sh [--owner PID] [--port PORT]" >&2; exit 2 ;;
	esac
done
unset ICE_DIR ICE_PID ICE_PORT

ice_start "$port" || exit 1
ice_detach

if [[ -n $owner ]]; then
	(
		trap '' HUP INT
		deadline=$((SECONDS + ${ICE_WATCHDOG_MAX:-900}))
		while ((SECONDS < deadline)) && _ice_pid_alive "$owner" &&
			_ice_pid_alive "$ICE_PID"; do
			sleep 0.5
		done
		# Only when the owner is gone (or time is up): after
		# ice-down.sh there is nothing left to do.
		if _ice_is_ours "$ICE_PID"; then
			ice_stop
			rm -rf "$ICE_DIR"
		fi
	) </dev/null >/dev/null 2>&1 &
fi
cat "$ICE_DIR/env"
