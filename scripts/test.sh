#!/usr/bin/env bash
# test.sh - set up and pass the whole test suite (the README's second command,
# and what CI runs).
#
# Installs what the build and tests need (apt-get), checks the formatting,
# builds twice (plain, and with AddressSanitizer + UBSan), runs every test on
# both builds, then the unit tests under valgrind (ctest -T memcheck).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

echo "== format check"
clang-format --dry-run --Werror src/*.c src/*.h include/*.h tests/*.c tests/*.h tests/tools/*.c bench/*.c

echo "== plain build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

echo "== sanitizer build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPULSE_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"

echo "== tests, sanitizer build"
(cd build-asan && ctest --output-on-failure -j2 --timeout 600)

echo "== unit tests under valgrind"
(cd build && ctest -T memcheck -L unit --output-on-failure --timeout 900)

echo "== tests, plain build"
(cd build && ctest --output-on-failure -j2 --timeout 600)
