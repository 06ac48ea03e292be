#!/usr/bin/env bash
# it_auth.sh - Icecast credentials: a wrong password and an unknown host are
# one clear line and a non-zero exit, never a retry loop; the password may
# come from the URL, a file or the environment, and is never logged.
set -euo pipefail
: "${PULSE_RADIO:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
source "$PULSE_SRC/tests/media.sh"
T=$(mktemp -d)
lib_on_exit "rm -rf '$T'"
media_tone "$T/a.wav" 5 44100 2 440
echo a.wav >"$T/list.m3u"
ice_start

run() { # run LOG ARGS...: runs pulse-radio for at most 20 s; sets rc
	local log=$1
	shift
	rc=0
	timeout 20 "$PULSE_RADIO" play "$T/list.m3u" "$@" 2>"$log" || rc=$?
	cat "$log"
}

run "$T/wrong" --output "icecast://source:not-the-password@127.0.0.1:$ICE_PORT/a.ogg"
t_check "wrong password: exit 1 (got $rc)" test "$rc" -eq 1
t_check "wrong password: says so" grep -qi 'password' "$T/wrong"
t_check "wrong password: one error line" test "$(grep -c '^error' "$T/wrong")" -eq 1
t_check "wrong password: not logged" bash -c "! grep -q not-the-password '$T/wrong'"

run "$T/host" --output "icecast://source:x@no-such-host.invalid:8000/a.ogg"
t_check "unknown host: exit 1 (got $rc)" test "$rc" -eq 1
t_check "unknown host: says so" grep -qi 'no-such-host.invalid' "$T/host"

echo "$ICE_PASS" >"$T/pass"
chmod 600 "$T/pass"
run "$T/file" --duration 2 --password-file "$T/pass" \
	--output "icecast://127.0.0.1:$ICE_PORT/b.ogg"
t_check "--password-file: streams and exits 0 (got $rc)" test "$rc" -eq 0
t_check "--password-file: no warning for a private file" bash -c "! grep -q readable '$T/file'"
chmod 644 "$T/pass"
run "$T/file2" --duration 1 --password-file "$T/pass" \
	--output "icecast://127.0.0.1:$ICE_PORT/b.ogg"
t_check "--password-file readable by all: warned" grep -q 'readable by every user' "$T/file2"

rc=0
PULSE_RADIO_PASSWORD=$ICE_PASS timeout 20 "$PULSE_RADIO" play "$T/list.m3u" --duration 2 \
	--output "icecast://source@127.0.0.1:$ICE_PORT/c.ogg" 2>"$T/env" || rc=$?
t_check "password from the environment: exit 0 (got $rc)" test "$rc" -eq 0
t_check "the password is never logged" bash -c "! grep -qF '$ICE_PASS' '$T'/file '$T'/env"

run "$T/nofile" --password-file "$T/missing" --output "icecast://127.0.0.1:$ICE_PORT/d.ogg"
t_check "missing password file: exit 1 (got $rc), one line" \
	test "$rc" -eq 1 -a "$(wc -l <"$T/nofile")" -eq 1
t_done
