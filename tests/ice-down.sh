#!/bin/bash
#
# tests/ice-down.sh - stop an Icecast started by tests/ice-up.sh.
#
#   bash tests/ice-down.sh ICE_DIR [SIGNAL]
#
# SIGNAL is TERM by default; KILL simulates a crash. Waits (bounded) until
# the process is gone, then removes ICE_DIR (ICE_KEEP=1 keeps it).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || {
	echo "usage: ice-down.sh ICE_DIR [SIGNAL]" >&2
	exit 2
}
ice_load "$1" own || exit 1
ice_stop "${2:-TERM}"
