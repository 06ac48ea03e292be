#!/usr/bin/env bash
# make-corpus.sh - (re)makes the audio seeds of tests/fuzz/corpus/source/:
# tiny WAV, MP3 and Ogg/Vorbis files from sox, lame and oggenc, each after
# the option byte 0x00 that fuzz_source.c reads first (station 44100 Hz
# stereo, the decoder sniffed). Each stays under 10 KB. The seeds are
# committed; run this only to change them.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/source
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sine() { # RATE CHANNELS SECONDS OUT [sox output options...]
	local rate=$1 ch=$2 s=$3 o=$4
	shift 4
	sox -q -n -r "$rate" -c "$ch" "$@" "$o" synth "$s" sine 440 gain -6
}
seed() { # NAME FILE
	{ printf '\0'; cat "$2"; } >"$out/$1"
}

mkdir -p "$out"
sine 8000 1 0.05 "$tmp/a.wav" -b 8 -e unsigned-integer
seed wav_u8_mono_8k "$tmp/a.wav"
sine 44100 2 0.02 "$tmp/b.wav" -b 16
seed wav_s16_stereo_44k "$tmp/b.wav"
sine 22050 1 0.04 "$tmp/c.wav" -b 24
seed wav_s24_mono_22k "$tmp/c.wav"
sine 48000 6 0.005 "$tmp/d.wav" -b 32 -e floating-point
seed wav_f32_6ch_48k "$tmp/d.wav"

sine 8000 1 0.3 "$tmp/e.wav" -b 16
lame --quiet -b 8 --tt "Title" --ta "Artist" --tl "Album" \
	"$tmp/e.wav" "$tmp/e.mp3"
seed mp3_8k_id3 "$tmp/e.mp3"
sine 44100 2 0.1 "$tmp/f.wav" -b 16
lame --quiet -b 32 "$tmp/f.wav" "$tmp/f.mp3"
seed mp3_44k_stereo "$tmp/f.mp3"

oggenc --quiet -q -1 -t "Title" -a "Artist" -o "$tmp/g.ogg" "$tmp/e.wav"
seed ogg_8k_mono "$tmp/g.ogg"
sine 44100 2 0.05 "$tmp/h.wav" -b 16
oggenc --quiet -q -1 -o "$tmp/h.ogg" "$tmp/h.wav"
seed ogg_44k_stereo "$tmp/h.ogg"

ls -l "$out"
