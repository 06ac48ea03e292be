#!/usr/bin/env bash
# it_package.sh - the Debian package and the installed layout (issue 6):
# cpack builds a .deb from the build tree; unpacked into a clean directory
# its binary runs --version, and it holds the configuration (mode 640, a
# conffile), the systemd unit naming the installed binary, the man page
# (groff reads it without a warning), the docs; dpkg-shlibdeps listed the
# libraries it needs; `cmake --install --prefix` lays out the same files.
# The speech helper is in libexec, the only program linking espeak-ng, and
# the unpacked daemon finds it there: a bulletin is spoken and aired in an
# offline render from the clean tree.
set -euo pipefail
: "${PULSE_BUILD:?} ${PULSE_SRC:?}"
source "$PULSE_SRC/tests/lib.sh"
T=$(cd "$(mktemp -d)" && pwd -P)
lib_on_exit "rm -rf '$T'"

t_check "cpack makes a .deb" \
	bash -c "cd '$PULSE_BUILD' && cpack -G DEB -B '$T/out' >'$T/cpack.log' 2>&1"
deb=$(ls "$T"/out/pulse-radio_*.deb 2>/dev/null | head -n 1)
echo "package: ${deb:-none}"
[[ -n $deb ]] || {
	cat "$T/cpack.log"
	t_done
}
dpkg-deb -I "$deb" | tee "$T/info"
dpkg-deb -c "$deb" >"$T/list"
mkdir "$T/root"
dpkg-deb -x "$deb" "$T/root"
bin=$(find "$T/root" -type f -name pulse-radio -path '*/bin/*' | head -n 1)
t_check "the binary is in the package" test -x "$bin"
t_check "and runs --version from a clean tree" \
	bash -c "'$bin' --version | grep -qx 'pulse-radio [0-9.]*'"
conf=$(find "$T/root" -type f -path '*/etc/pulse-radio/pulse-radio.conf' | head -n 1)
t_check "the configuration is there" test -f "$conf"
t_check "readable by its owner and group only (640)" \
	grep -q -- '-rw-r----- .*etc/pulse-radio/pulse-radio.conf$' "$T/list"
t_check "and marked a conffile" \
	bash -c "dpkg-deb -e '$deb' '$T/control' && grep -qx '${conf#"$T/root"}' '$T/control/conffiles'"
t_check "the packaged configuration passes --check" \
	bash -c "'$bin' run --config '$conf' --check 2>/dev/null | grep -q good"
unit=$(find "$T/root" -type f -name pulse-radio.service | head -n 1)
t_check "the systemd unit is there, Type=notify" grep -qx 'Type=notify' "$unit"
t_check "it runs the installed binary with the installed configuration" \
	grep -qx "ExecStart=${bin#"$T/root"} run --config ${conf#"$T/root"}" "$unit"
t_check "a postinst makes the service user" \
	grep -q 'adduser --system' "$T/control/postinst"
man=$(find "$T/root" -type f -name pulse-radio.1 | head -n 1)
t_check "the man page is there" test -f "$man"
t_check "groff reads it without a warning" \
	bash -c "[ -z \"\$(groff -man -Tutf8 -ww -z '$man' 2>&1)\" ]"
t_check "the library packages it needs are listed (dpkg-shlibdeps)" \
	bash -c "grep -q '^ Depends:.*libshout3.*' '$T/info' && grep -q 'libespeak-ng1' '$T/info'"
helper=$(find "$T/root" -type f -path '*/libexec/pulse-radio/pulse-radio-speak' | head -n 1)
t_check "the speech helper is in the package, in libexec/pulse-radio" \
	test -x "$helper"
t_check "espeak-ng is linked into the helper, not the daemon" \
	bash -c "readelf -d '$helper' | grep -q 'NEEDED.*libespeak-ng' &&
		! readelf -d '$bin' | grep -q 'NEEDED.*libespeak-ng'"
# A breaking bulletin in a 36 s offline render of one quiet tone.
mkdir -p "$T/air/music"
sox -q -n -r 8000 -c 1 -b 16 "$T/air/music/a.wav" synth 20 sine 440 gain -12
echo a.wav >"$T/air/music/music.m3u"
pk() { "$bin" "$@" --db "$T/air/pulse.db"; }
{
	pk db init && pk library scan "$T/air/music" &&
		pk playlist import "$T/air/music/music.m3u" &&
		pk db set breaking_mode now &&
		pk slot add all --days daily --start 00:00 --end 24:00 \
			--playlist music
} >"$T/air/setup.log" 2>&1 || cat "$T/air/setup.log"
news=$(pk bulletin add --breaking "Roads reopen at ten." 2>>"$T/air/setup.log" || true)
(cd "$T/air" && env -u PULSE_SPEAK_HELPER "$bin" render --db "$T/air/pulse.db" \
	--from 2026-12-01T09:50 --hours 0.01 --asrun --rate 8000 --channels 1 \
	--output "file:$T/air/hour.ogg" >"$T/air/render.log" 2>&1) || true
cat "$T/air/render.log"
t_check "the unpacked daemon finds the helper: bulletin $news is spoken and aired" \
	bash -c "grep -q 'bulletin $news spoken' '$T/air/render.log' &&
		pk() { '$bin' \"\$@\" --db '$T/air/pulse.db'; } &&
		pk bulletin show '$news' | grep -qx 'state: aired'"
t_check "the docs: README, schema, example configuration" \
	bash -c "grep -q 'share/doc/pulse-radio/README.md' '$T/list' &&
		grep -q 'share/doc/pulse-radio/schema.sql' '$T/list'"

t_check "cmake --install lays out the same into a prefix" \
	bash -c "cmake --install '$PULSE_BUILD' --prefix '$T/inst' >/dev/null &&
		test -x '$T/inst/bin/pulse-radio' &&
		test -x '$T/inst/libexec/pulse-radio/pulse-radio-speak' &&
		test -f '$T/inst/share/man/man1/pulse-radio.1' &&
		test -f '$T/inst/lib/systemd/system/pulse-radio.service'"
t_done
