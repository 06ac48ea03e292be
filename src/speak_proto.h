/*
 * speak_proto.h - the messages between the daemon (speaker.c) and its
 * speech helper, pulse-radio-speak (speak_main.c), over a socketpair.
 *
 *   helper -> daemon, once at start: a reply with no frames (the hello):
 *       status 0 and espeak-ng's rate, or why espeak-ng cannot start;
 *   daemon -> helper: struct speak_req, then text_len bytes of UTF-8;
 *   helper -> daemon: struct speak_rep, then nframes floats if status 0.
 *
 * The one thing to know: both ends are the same build on the same machine,
 * so fields are in native byte order and the floats native IEEE 754. A
 * magic and a version open every message; a helper that reads anything
 * else answers -ERR_PROTOCOL and exits, and the daemon checks every count
 * against its own limits before it allocates.
 */
#ifndef SPEAK_PROTO_H
#define SPEAK_PROTO_H

#include <stdint.h>

#include "speech.h"

#define SPEAK_PROTO_VERSION 1u
#define SPEAK_REQ_MAGIC 0x51535250u /* "PRSQ" in memory on little-endian */
#define SPEAK_REP_MAGIC 0x52535250u /* "PRSR" */
/* The longest audio a request may ask for, in seconds. */
#define SPEAK_MAX_SECONDS 7200u
/* The sample rates a reply may give. */
#define SPEAK_RATE_MIN 8000u
#define SPEAK_RATE_MAX 96000u

struct speak_req {
	uint32_t magic, version;
	char voice[64]; /* NUL-terminated, as struct speech_voice's name */
	int32_t rate_wpm, pitch;
	uint32_t max_seconds; /* 1..SPEAK_MAX_SECONDS */
	uint32_t text_len;    /* 1..SPEECH_MAX_TEXT_BYTES bytes follow */
};

struct speak_rep {
	uint32_t magic, version;
	int32_t status;   /* 0, or speech_new()'s / speech_render()'s code */
	uint32_t rate;    /* frames per second (always, if known) */
	uint32_t nframes; /* floats that follow; 0 unless status is 0 */
};

_Static_assert(sizeof(struct speak_req) == 88, "no padding in speak_req");
_Static_assert(sizeof(struct speak_rep) == 20, "no padding in speak_rep");
/* The longest reply's floats fit a 32-bit size_t (armhf). */
_Static_assert((uint64_t)SPEAK_MAX_SECONDS *SPEAK_RATE_MAX * 4 <= UINT32_MAX,
               "a reply's size fits 32 bits");

#endif
