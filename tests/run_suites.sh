#!/bin/sh
# Runs CMocka suite binaries and Python reference tests, then prints one closing line
# "<label>: N passed, N failed, N skipped". Usage: run_suites.sh LABEL BIN... -- SCRIPT.py...
# A Python test passes with exit 0, is skipped with exit 77, fails otherwise.
label=$1; shift
passed=0; failed=0; skipped=0; failed_names=""
out=$(mktemp)
trap 'rm -f "$out"' EXIT
count() { # the number in cmocka's "[  TAG  ] N test(s)" line, or 0
    n=$(sed -n "s/.*\[  *$1  *\] \([0-9][0-9]*\) test.*/\1/p" "$out" | tail -n 1)
    echo "${n:-0}"
}
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    bin=$1; shift
    echo "== $bin"
    CMOCKA_MESSAGE_OUTPUT=stdout ${NEGS_TEST_WRAP:-} "$bin" > "$out" 2>&1; rc=$?
    cat "$out"
    p=$(count PASSED); f=$(count FAILED); s=$(count SKIPPED)
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed before its summary
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    [ "$f" -gt 0 ] && failed_names="$failed_names $bin"
done
[ "$1" = "--" ] && shift
for script in "$@"; do
    echo "== $script"
    "${PYTHON:-python3}" "$script"; rc=$?
    case $rc in
        0) passed=$((passed + 1)) ;;
        77) skipped=$((skipped + 1)); echo "(skipped)" ;;
        *) failed=$((failed + 1)); failed_names="$failed_names $script" ;;
    esac
done
[ -n "$failed_names" ] && echo "failing:$failed_names"
echo "$label: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
