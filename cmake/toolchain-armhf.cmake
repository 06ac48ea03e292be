# cmake/toolchain-armhf.cmake - cross-build for armhf (32-bit Raspberry Pi
# OS, Debian armhf) on a Debian amd64 host. Not part of CI.
#
#   scripts/armhf-sysroot.sh /tmp/armhf-sysroot
#   cmake -S . -B build-armhf \
#       -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake \
#       -DCMAKE_SYSROOT=/tmp/armhf-sysroot
#
# The one thing to know: unlike arm64 this is a sysroot build. Debian's
# armhf packages cannot be installed next to the amd64 ones here (the
# armhf security index fails to download, so the armhf copies of updated
# libraries lag the amd64 ones and multiarch refuses them); the libraries
# are unpacked into a directory instead (scripts/armhf-sysroot.sh).

if(NOT CMAKE_SYSROOT)
	message(FATAL_ERROR "give the armhf sysroot: -DCMAKE_SYSROOT=DIR "
		"(made by scripts/armhf-sysroot.sh DIR)")
endif()

# Target: sets CMAKE_CROSSCOMPILING, so CMake runs no target binary itself.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)

# Debian's cross compiler (gcc-arm-linux-gnueabihf): ARMv7, hard float,
# like Debian armhf. Raspberry Pi OS's armhf is ARMv6 (Pi 1 and Zero):
# this binary runs on a Pi 2 or later only.
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)

# 64-bit file offsets, inode numbers and directory cookies. Without them
# a 32-bit stat() fails with EOVERFLOW on a file over 2 GiB or with a
# 64-bit inode number, and under qemu (a 64-bit host kernel hands out
# ext4's 64-bit directory offsets) every readdir() does: the library scan
# and the drop folder then see nothing. A no-op on 64-bit targets, so
# CMakeLists.txt could set it for all; until it does, it is here.
set(CMAKE_C_FLAGS_INIT -D_FILE_OFFSET_BITS=64)

# Libraries and headers in the sysroot's multiarch directories.
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

# The host's pkg-config, told to read only the sysroot's .pc files and to
# put the sysroot in front of the paths they give. Only the configure step
# runs it, so setting the environment here is enough.
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${CMAKE_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR}
	"${CMAKE_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${CMAKE_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Programs found at configure time run on the host; libraries, headers and
# packages come from the sysroot only.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# No binfmt_misc: ctest runs each test program through qemu, whose -L
# makes the armhf loader and libraries in the sysroot appear at their
# usual paths. Debian's armhf libespeak-ng lists its voices with a 32-bit
# readdir(), which fails under qemu on ext4 (see above): copy
# DIR/usr/lib/arm-linux-gnueabihf/espeak-ng-data to a tmpfs (/dev/shm)
# and point ESPEAK_DATA_PATH at the folder holding the copy.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static -L ${CMAKE_SYSROOT})

# CPack would name the host's architecture (amd64).
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE armhf)
