#!/usr/bin/env bash
#
# fuzz.sh - build the libFuzzer targets with clang and run each of them.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]
#
# Installs what it needs (scripts/deps.sh, then clang and its sanitizer
# runtimes, idempotently: apt-get runs only when something is missing),
# configures build-fuzz/ with CC=clang -DPULSE_FUZZ=ON (the library with
# ASan, UBSan and libFuzzer's coverage; only the fuzzers are built) and,
# for each target (default: all of tests/fuzz/fuzz_*.c, by NAME:
# playlist, textnorm, ...):
#   1. runs every file in tests/fuzz/regress/NAME/ once (past crashes);
#   2. fuzzes for SECONDS_PER_TARGET (default 20; 0 skips this) on a copy
#      of tests/fuzz/corpus/NAME/, so the tree is never written to.
# Two targets run at a time (one per core). Exits non-zero if any input
# crashed, leaked, hung (10 s) or broke a check, after printing its path:
# copy it to tests/fuzz/regress/NAME/, fix the bug, and it stays tested
# (the unit test test_fuzz_NAME replays it on every build).
#
# The one thing to know: libFuzzer runs with stderr closed (the project
# logs a line per bad input there); its own and the sanitizers' reports
# still reach the log, build-fuzz/logs/NAME.log, and the crashing inputs
# are kept in build-fuzz/artifacts/NAME/ until the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
if [[ ! $seconds =~ ^[0-9]+$ ]]; then
	echo "usage: $0 [SECONDS_PER_TARGET [TARGET...]]" >&2
	exit 2
fi
shift $(($# > 0 ? 1 : 0))

BUILD=build-fuzz
JOBS=$(nproc)
# Inputs longer than this are not tried: a file of each kind that big is
# already hostile, and shorter inputs keep the runs fast.
declare -A MAX_LEN=([source]=16384)
DEFAULT_MAX_LEN=4096
# Debian 12: clang 14; libclang-rt-14-dev has the fuzzer and sanitizer
# runtimes (only a recommendation of clang, so named here).
FUZZ_PACKAGES=(clang libclang-rt-14-dev)

elapsed() {
	echo $(($(date +%s) - $1))
}

start=$(date +%s)
scripts/deps.sh
missing=()
for p in "${FUZZ_PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [[ $status != "install ok installed" ]]; then
		missing+=("$p")
	fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
	echo "fuzz: missing: ${missing[*]}"
	if [[ $(id -u) -eq 0 ]]; then
		SUDO=()
	elif command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "fuzz: not root and no sudo: install them by hand" >&2
		exit 1
	fi
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" </dev/null
fi

echo "== fuzz: build (clang, ASan + UBSan + libFuzzer)"
t0=$(date +%s)
CC=clang cmake -S . -B "$BUILD" -DPULSE_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
cmake --build "$BUILD" -j"$JOBS"
t_build=$(elapsed "$t0")

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
	for f in tests/fuzz/fuzz_*.c; do
		f=${f##*/fuzz_}
		targets+=("${f%.c}")
	done
fi
for t in "${targets[@]}"; do
	if [[ ! -x $BUILD/fuzz_$t ]]; then
		echo "fuzz: no target $t (tests/fuzz/fuzz_$t.c)" >&2
		exit 2
	fi
done

# In memory where there is /dev/shm: some targets write a file per input.
base=${TMPDIR:-/tmp}
if [[ -z ${TMPDIR:-} && -d /dev/shm && -w /dev/shm ]]; then
	base=/dev/shm
fi
work=$(mktemp -d "$base/pulse-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The targets' temp files (fuzz_path()) go here, and go with it.
export TMPDIR=$work
export UBSAN_OPTIONS=print_stacktrace=1
mkdir -p "$BUILD/logs"

# Runs one target: its regression inputs, then the fuzzing. Prints one
# summary line; exit 1 after printing each failing input's path.
run_target() {
	local t=$1 bin=$BUILD/fuzz_$1 log=$BUILD/logs/$1.log
	local art=$BUILD/artifacts/$1 max_len=${MAX_LEN[$1]:-$DEFAULT_MAX_LEN}
	local opts=(-timeout=10 -rss_limit_mb=2048)
	local t0 n=0 rc=0 f execs dict=tests/fuzz/$1.dict

	t0=$(date +%s)
	rm -rf "$art"
	mkdir -p "$art" "$work/$t"
	: >"$log"
	for f in tests/fuzz/regress/"$t"/*; do
		[[ -f $f ]] || continue
		n=$((n + 1))
		if ! timeout 60 "$bin" "${opts[@]}" "$f" >>"$log" 2>&1; then
			echo "fuzz: $t: FAILED on regression input $f" \
				"(log: $log)"
			rc=1
		fi
	done
	if ((rc == 0 && seconds > 0)); then
		cp -r "tests/fuzz/corpus/$t" "$work/$t/corpus"
		opts+=(-max_len="$max_len")
		[[ -f $dict ]] && opts+=(-dict="$dict")
		# -max_total_time ends the run; timeout(1) is the backstop.
		if ! timeout $((seconds + 120)) "$bin" "${opts[@]}" \
			-max_total_time="$seconds" -close_fd_mask=2 \
			-print_final_stats=1 -artifact_prefix="$art/" \
			"$work/$t/corpus" >>"$log" 2>&1; then
			rc=1
		fi
		for f in "$art"/*; do
			[[ -f $f ]] || continue
			echo "fuzz: $t: FAILED on input $f (log: $log)"
			rc=1
		done
	fi
	if ((rc)); then
		tail -n 40 "$log" | sed "s/^/  $t| /"
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		tail -n 1)
	printf 'fuzz: %-8s %s: %d regression inputs, %s runs in %d s\n' \
		"$t" "$( ((rc)) && echo FAILED || echo ok)" "$n" \
		"${execs:-0}" "$(elapsed "$t0")"
	return "$rc"
}

echo "== fuzz: ${#targets[@]} targets, ${seconds} s each, $JOBS at a time"
t0=$(date +%s)
failed=0
running=0
for t in "${targets[@]}"; do
	if ((running >= JOBS)); then
		wait -n || failed=1
		running=$((running - 1))
	fi
	run_target "$t" &
	running=$((running + 1))
done
while ((running > 0)); do
	wait -n || failed=1
	running=$((running - 1))
done

echo "== fuzz summary"
echo "build:  $t_build s"
echo "fuzz:   $(elapsed "$t0") s"
echo "total:  $(elapsed "$start") s"
if ((failed)); then
	echo "fuzz: FAILED: see the inputs above" >&2
	exit 1
fi
echo "fuzz: all targets passed"
