#!/bin/sh
# Differential test of mw-mime against Python's email package: runs
# tests/differential/mime_diff.py on a generated corpus (fixed seed, made in
# a temporary directory at test time). Differences must be listed in
# tests/differential/known-differences.md. Ends with "N passed, N failed".
# The committed vectors of tests/vectors/mime and tests/vectors/mime-cli are
# compared too.
# Usage: sh mime-differential.sh BUILD_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=$1/examples/mw-mime
py=
for c in /usr/bin/python3 python3; do
    if command -v "$c" >/dev/null 2>&1; then py=$c; break; fi
done
if [ -z "$py" ]; then
    echo "python3 not found: differential test cannot run"
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -x "$bin" ]; then
    echo "no executable at $bin"
    echo "0 passed, 1 failed"
    exit 1
fi
# Under the sanitizer build every process start costs several times more:
# a smaller corpus (still every kind several times) keeps the run short.
count=460
if grep -q '^MW_SANITIZE:BOOL=ON' "$1/CMakeCache.txt" 2>/dev/null; then count=161; fi
exec "$py" "$here/../differential/mime_diff.py" "$bin" --count "${MW_DIFF_COUNT:-$count}" \
    --vectors "$here/../vectors/mime" --vectors "$here/../vectors/mime-cli"
