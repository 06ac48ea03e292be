#!/usr/bin/env bash
# it_demo.sh - the README's first command works: scripts/demo.sh makes the
# demo content (sox, lame, oggenc, espeak-ng), starts its own Icecast on
# 127.0.0.1 and airs the demo schedule (demo/pulse.db); its --check mode
# records the stream with curl and verifies it with ogginfo.
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
port=$(free_port)
rc=0
PULSE_RADIO=$PULSE_RADIO timeout 120 "$PULSE_SRC/scripts/demo.sh" --no-setup \
	--port "$port" --check 8 >"$PULSE_BUILD/it_demo.log" 2>&1 || rc=$?
cat "$PULSE_BUILD/it_demo.log"
t_check "demo.sh --check: exit 0 (got $rc)" test "$rc" -eq 0
t_check "demo.sh printed the URL to listen at" \
	grep -q "Listen at: *http://127.0.0.1:$port/pulse.ogg" "$PULSE_BUILD/it_demo.log"
t_check "the demo playlist names only files that exist" \
	bash -c "cd '$PULSE_SRC/playlists' && grep -v '^#' demo.m3u | xargs -d '\n' ls >/dev/null"
t_check "the demo schedule has IDs at the top of the hour" \
	test "$(sqlite3 "$PULSE_SRC/demo/pulse.db" "SELECT count(*) FROM slot
	 WHERE id_playlist_id IS NOT NULL AND id_mode = 'hard'")" = 1
t_check "what aired is in the demo's as-run log" \
	test "$(sqlite3 "$PULSE_SRC/demo/pulse.db" "SELECT count(*) FROM asrun
	 WHERE started_at >= '$(date -u -d '-3 min' +%FT%T)'")" -ge 1
t_check "no Icecast left running on port $port" \
	bash -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$port/"
t_done
