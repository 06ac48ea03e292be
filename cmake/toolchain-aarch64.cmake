# cmake/toolchain-aarch64.cmake - cross-build for arm64 (64-bit Raspberry Pi
# OS, Debian arm64) on a Debian amd64 host.
#
#   cmake -S . -B build-arm64 \
#       -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
#
# The one thing to know: this is a multiarch build, not a sysroot one. The
# arm64 libraries and headers are Debian's own :arm64 -dev packages,
# installed into this host's /usr (/usr/lib/aarch64-linux-gnu,
# /usr/include/aarch64-linux-gnu) next to the amd64 ones;
# scripts/cross-arm64.sh installs them and the tools named here.

# Target: sets CMAKE_CROSSCOMPILING, so CMake runs no target binary itself.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

# Debian's cross compiler (gcc-aarch64-linux-gnu); it already searches the
# multiarch directories above.
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

# find_library() and find_path() look in .../aarch64-linux-gnu, never in
# the host's x86_64-linux-gnu directories.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkgconf's cross personality (from pkgconf:arm64): reads only the arm64
# .pc files, so pkg_check_modules() gets the arm64 flags and libraries.
set(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config CACHE FILEPATH
	"pkg-config for the target")

# Programs found at configure time (valgrind, cpack's helpers) run on the
# host. Libraries, headers and CMake packages must be the target's: with no
# sysroot they are searched in place (CMAKE_LIBRARY_ARCHITECTURE picks the
# arm64 directories), and if a Pi's root file system is given as
# -DCMAKE_SYSROOT=DIR, only there.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# binfmt_misc is not available here (nor in CI), so the kernel cannot run
# an arm64 binary by itself: ctest (and try_run) prefix every test program
# with qemu. No -L is needed: the :arm64 packages put the arm64 dynamic
# loader and libraries where the binary looks for them (/lib,
# /usr/lib/aarch64-linux-gnu), so it runs against the host's root.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)

# CPack names the .deb's architecture after `dpkg --print-architecture`
# (the host, amd64) unless told: the package holds arm64 binaries.
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
