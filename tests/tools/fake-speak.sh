#!/bin/sh
# fake-speak.sh - a speech helper that misbehaves, for tests/test_speaker.c
# (pointed at by PULSE_SPEAK_HELPER). Its socket to the daemon is fd 0.
# FAKE_SPEAK_MODE says how:
#   mute     never says hello, reads forever
#   hang     says hello, then reads requests and never answers
#   deaf     says hello, answers one request with -ERR_INVALID (-1012),
#            then neither reads nor exits at EOF
#   crash    says hello, reads a request header, dies of SIGSEGV
#   garbage  says hello, answers a request with garbage
#   oldproto says hello in protocol version 2
# The hello is struct speak_rep (src/speak_proto.h) in little-endian:
# "PRSR", version, status 0, rate 22050, no frames.
hello() { # VERSION_BYTE
	printf "PRSR\\$1\\000\\000\\000\\000\\000\\000\\000\\042\\126\\000\\000\\000\\000\\000\\000" >&0
}
case ${FAKE_SPEAK_MODE:-hang} in
mute) exec cat >/dev/null ;;
hang)
	hello 001
	exec cat >/dev/null
	;;
deaf)
	hello 001
	head -c 88 >/dev/null
	printf "PRSR\\001\\000\\000\\000\\014\\374\\377\\377\\042\\126\\000\\000\\000\\000\\000\\000" >&0
	exec sleep 600
	;;
crash)
	hello 001
	head -c 88 >/dev/null
	kill -SEGV $$
	;;
garbage)
	hello 001
	head -c 88 >/dev/null
	printf 'not an answer, not an answer' >&0
	exec cat >/dev/null
	;;
oldproto)
	hello 002
	exec cat >/dev/null
	;;
esac
exit 3
