#!/bin/sh
# Compares the dynamic symbols a library exports with the checked-in list.
lib=$1; list=$2
actual=$(mktemp); trap 'rm -f "$actual"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u > "$actual"
if ! diff -u "$list" "$actual"; then
    echo "check-abi: exported symbols differ from $list (- listed, + exported)"
    exit 1
fi
bad=$(grep -v '^negs_' "$actual")
[ -z "$bad" ] || { echo "check-abi: symbols without the negs_ prefix: $bad"; exit 1; }
needed=$(readelf -d "$lib" | awk '/NEEDED/ { print $NF }' | tr -d '[]' | grep -v -E '^(libc|libm)\.so')
[ -z "$needed" ] || { echo "check-abi: NEEDED beyond libc and libm: $needed"; exit 1; }
echo "check-abi: $(wc -l < "$actual") exported symbols match $list; NEEDED is libc/libm only"
