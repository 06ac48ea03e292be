#!/usr/bin/env bash
#
# cross-arm64.sh - cross-build Pulse Radio for arm64 (64-bit Raspberry Pi
# OS) and run the unit tests under qemu: the arm64 stage of CI.
#
# Usage: scripts/cross-arm64.sh [--no-test]
#
# Installs what it needs (Debian 12 packages, idempotently: apt-get update
# runs only when something is missing), configures build-arm64/ with
# cmake/toolchain-aarch64.cmake, builds, runs `ctest -L unit` there (every
# test program under qemu-aarch64-static) and checks that the daemon is an
# aarch64 binary that runs. Prints how long each step took. Does not make
# a package: `(cd build-arm64 && cpack)` does, pulse-radio_*_arm64.deb.
#
# The one thing to know: the arm64 libraries are Debian's :arm64 packages
# installed next to the amd64 ones (multiarch). Both copies of a library
# must be the same version, so installing them may upgrade the host's
# amd64 libraries too. Do it before a native build, not in the middle.
set -euo pipefail
cd "$(dirname "$0")/.."

run_tests=1
if [[ ${1:-} == --no-test ]]; then
	run_tests=0
elif [[ $# -gt 0 ]]; then
	echo "usage: $0 [--no-test]" >&2
	exit 2
fi

BUILD=build-arm64
# The host tools: the cross compiler, the emulator, and `file` (for the
# check below, and for cpack). cmake and dpkg-shlibdeps come with deps.sh.
# pkgconf:arm64 brings aarch64-linux-gnu-pkg-config.
HOST_PACKAGES=(gcc-aarch64-linux-gnu qemu-user-static file)
# The -dev packages of every library in CMakeLists.txt's pkg_check_modules
# (libvorbis-dev has vorbis, vorbisenc and vorbisfile). libespeak-ng-dev
# brings espeak-ng-data:arm64, where the arm64 library looks for its
# voices, so the tests need no ESPEAK_DATA_PATH.
ARM64_PACKAGES=(
	pkgconf libshout-dev libvorbis-dev libogg-dev libmpg123-dev
	libsqlite3-dev libespeak-ng-dev libsoxr-dev libebur128-dev libinih-dev
	libmicrohttpd-dev libevent-2.1-7 libjson-c-dev
)
# libevent-dev is not Multi-Arch: same (its event-config.h is in
# /usr/include/event2 for every architecture), so libevent-dev:arm64
# would remove the native one. Its files are unpacked into the build
# tree instead, over the arm64 library (libevent-2.1-7:arm64, above).
EVENT_DEV=$BUILD/deps/libevent-dev

elapsed() {
	echo $(($(date +%s) - $1))
}

start=$(date +%s)
t0=$start
# The programs the unit tests call (icecast2, curl, lame, oggenc,
# ogginfo, sox, espeak-ng, python3) are native ones: the same list as the
# native build's.
scripts/deps.sh

missing=()
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	missing+=(architecture:arm64)
fi
for p in "${HOST_PACKAGES[@]}" "${ARM64_PACKAGES[@]/%/:arm64}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [[ $status != "install ok installed" ]]; then
		missing+=("$p")
	fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "cross-arm64: all packages present"
	installed=0
else
	echo "cross-arm64: missing: ${missing[*]}"
	if [[ $(id -u) -eq 0 ]]; then
		SUDO=()
	elif command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "cross-arm64: not root and no sudo: install them by hand" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" dpkg --add-architecture arm64
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends \
		-o Dpkg::Options::=--force-confdef \
		-o Dpkg::Options::=--force-confold \
		"${HOST_PACKAGES[@]}" "${ARM64_PACKAGES[@]/%/:arm64}" </dev/null
	installed=1
fi
if ((installed)); then
	install_note="installed in $(elapsed "$t0") s"
else
	install_note="nothing to install (checked in $(elapsed "$t0") s)"
fi

if [[ ! -e $EVENT_DEV/ok ]]; then
	rm -rf "$EVENT_DEV"
	mkdir -p "$EVENT_DEV/deb"
	(cd "$EVENT_DEV/deb" && apt-get download -q libevent-dev:arm64)
	dpkg-deb -x "$EVENT_DEV"/deb/*.deb "$EVENT_DEV"
	lib=$EVENT_DEV/usr/lib/aarch64-linux-gnu
	# Its .pc files name /usr; its lib*.so links point at the library
	# beside them, which is the installed one.
	sed -i "s|^prefix=/usr\$|prefix=$(cd "$EVENT_DEV" && pwd)/usr|" \
		"$lib"/pkgconfig/*.pc
	for l in "$lib"/lib*.so; do
		ln -sf "/usr/lib/aarch64-linux-gnu/$(readlink "$l")" "$l"
	done
	touch "$EVENT_DEV/ok"
fi
export PKG_CONFIG_PATH=$(cd "$EVENT_DEV" && pwd)/usr/lib/aarch64-linux-gnu/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

echo "== arm64 cross build"
t0=$(date +%s)
cmake -S . -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
	>/dev/null
cmake --build "$BUILD" -j"$(nproc)"
t_build=$(elapsed "$t0")

what=$(file -b "$BUILD/pulse-radio")
echo "pulse-radio: $what"
if [[ $what != *"ARM aarch64"* ]]; then
	echo "cross-arm64: pulse-radio is not an aarch64 binary" >&2
	exit 1
fi
version=$(qemu-aarch64-static "$BUILD/pulse-radio" --version)
echo "under qemu: $version"

tests_note="not run (--no-test)"
rc=0
if ((run_tests)); then
	echo "== unit tests, arm64 under qemu"
	# The same programs and checks as the native ones; icecast2, curl
	# and the fixture makers they start are the native programs.
	t0=$(date +%s)
	# A failed test runs once more, as in the native runs (timings under
	# qemu on a loaded machine).
	(cd "$BUILD" && ctest -L unit -j2 --output-on-failure \
		--repeat until-pass:2) || rc=$?
	tests_note="passed in $(elapsed "$t0") s"
	((rc == 0)) || tests_note="FAILED (ctest exit $rc) after $(elapsed "$t0") s"
fi

echo "== arm64 summary"
echo "packages:    $install_note"
echo "cross build: $t_build s (configure and build, -j$(nproc))"
echo "binary:      ${what%%, version*}; under qemu: $version"
echo "unit tests:  $tests_note"
echo "total:       $(elapsed "$start") s"
exit "$rc"
