#!/usr/bin/env bash
#
# armhf-sysroot.sh - unpack Debian 12's armhf libraries into a directory,
# for cmake/toolchain-armhf.cmake (32-bit Raspberry Pi OS). Not part of CI.
#
# Usage: scripts/armhf-sysroot.sh DIR
#
# Also installs the host's gcc-arm-linux-gnueabihf and qemu-user-static.
# The one thing to know: nothing armhf is installed on the host. Adding
# armhf with dpkg --add-architecture does not work here: the armhf
# security index fails to download ("File has unexpected size"), which
# makes every later `apt-get update` exit 100 (scripts/deps.sh would
# fail), and without it the armhf copies of updated libraries lag the
# amd64 ones, which multiarch refuses. So apt runs with a private
# configuration and state under DIR.apt (armhf only, no dpkg database),
# resolves the -dev packages' dependencies, downloads them and unpacks
# them with dpkg -x. The security suite is tried and skipped if it fails.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
mkdir -p "$1"
S=$(cd "$1" && pwd)
A=$S.apt
DEV=(
	libc6-dev libshout-dev libvorbis-dev libogg-dev libmpg123-dev
	libsqlite3-dev libespeak-ng-dev libsoxr-dev libebur128-dev libinih-dev
	libmicrohttpd-dev libevent-dev libjson-c-dev
)
# In the dependencies, but programs, data or alternatives a build does
# not need. An armhf /bin/sh in DIR would even break the tests: qemu -L
# would run it in place of the host's.
SKIP='^(cdebconf|debconf|dpkg|tar|install-info|sysvinit-utils|lsb-base|readline-common|pkgconf|pkgconf-bin|pkg-config|libc-dev-bin|rpcsvc-proto|libelogind0|x11-common|fontconfig-config|ttf-.*|fonts-.*|xfonts-.*)$'

apt_get() {
	APT_CONFIG=$A/apt.conf "$@"
}

if ! command -v arm-linux-gnueabihf-gcc >/dev/null ||
	! command -v qemu-arm-static >/dev/null; then
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends gcc-arm-linux-gnueabihf qemu-user-static
fi

mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial" \
	"$A/sources.list.d" "$A/preferences.d" "$A/debs"
: >"$A/status"
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$A/sources.list" <<EOF
deb [arch=armhf signed-by=$key] http://deb.debian.org/debian bookworm main
deb [arch=armhf signed-by=$key] http://deb.debian.org/debian bookworm-updates main
deb [arch=armhf signed-by=$key] http://deb.debian.org/debian-security bookworm-security main
EOF
cat >"$A/apt.conf" <<EOF
APT::Architecture "armhf";
APT::Architectures { "armhf"; };
Dir::Etc::SourceList "$A/sources.list";
Dir::Etc::SourceParts "$A/sources.list.d";
Dir::Etc::Preferences "$A/preferences";
Dir::Etc::PreferencesParts "$A/preferences.d";
Dir::State "$A/state";
Dir::State::status "$A/status";
Dir::Cache "$A/cache";
Debug::NoLocking "true";
APT::Sandbox::User "root";
EOF
# Exits 100 when the security index fails; main and updates are enough.
apt_get apt-get update -q || echo "armhf-sysroot: an index failed (above); going on"

apt_get apt-cache depends --recurse --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances "${DEV[@]}" |
	grep -v '^[ <]' | grep -v : | sort -u | grep -Ev "$SKIP" >"$A/packages"
echo "armhf-sysroot: $(wc -l <"$A/packages") packages"
mapfile -t packages <"$A/packages"
(cd "$A/debs" && apt_get apt-get download -q "${packages[@]}")
for deb in "$A"/debs/*.deb; do
	dpkg -x "$deb" "$S"
done
# Absolute symlinks (libm.so -> /lib/...) would point into the host:
# make them relative, inside DIR.
find "$S" -type l -lname '/*' | while read -r link; do
	target=$(readlink "$link")
	ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$S$target")" \
		"$link"
done
echo "armhf-sysroot: $S ready ($(du -sh "$S" | cut -f1))"
