# check.sh - assertions for the shell integration tests. Source it.
#
#   check DESCRIPTION COMMAND...   runs COMMAND; counts and prints ok/FAIL
#   within A B TOL                 true when |A - B| <= TOL (floats)
#   check_done                     prints "N passed, N failed"; fails if any
passes=0
fails=0

check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
		passes=$((passes + 1))
	else
		echo "FAIL: $what"
		fails=$((fails + 1))
	fi
}

within() {
	python3 -c "import sys; a,b,t=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<=t else 1)" "$1" "$2" "$3"
}

check_done() {
	echo "$passes passed, $fails failed"
	[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]
}
