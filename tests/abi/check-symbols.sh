#!/bin/sh
# Compare the dynamic symbols exported by libmailwire.so with the committed
# list. Usage: check-symbols.sh LIB LIST [--update]
set -eu
lib=$1 list=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
if [ "${3:-}" = "--update" ]; then
    printf '%s\n' "$actual" > "$list"
    echo "updated $list ($(printf '%s\n' "$actual" | wc -l) symbols)"
    exit 0
fi
bad=$(printf '%s\n' "$actual" | grep -v '^mw_' | grep -v '^MAILWIRE_' || true)
if [ -n "$bad" ]; then
    echo "symbols outside the mw_ namespace are exported:"; printf '%s\n' "$bad"
    echo "0 passed, 1 failed"; exit 1
fi
if ! printf '%s\n' "$actual" | diff -u "$list" - ; then
    echo "the exported symbols changed; if that is intended run:"
    echo "  sh tests/abi/check-symbols.sh $lib $list --update"
    echo "0 passed, 1 failed"; exit 1
fi
echo "$(printf '%s\n' "$actual" | wc -l) symbols match $list"
echo "1 passed, 0 failed"
