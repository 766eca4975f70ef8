#!/bin/sh
# Smoke-run every libFuzzer target for a bounded time from its seed corpus.
# Usage: run-all.sh FUZZ_BUILD_DIR [SECONDS_PER_TARGET]
# Seeds are in tests/fuzz/corpus/<name>/ (name = target without "fuzz_");
# new inputs go to a scratch copy, so the committed corpus is not touched.
set -u
build=$1 secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); short=${name#fuzz_}
    work=$(mktemp -d)
    if [ -d "$here/corpus/$short" ]; then cp -r "$here/corpus/$short/." "$work/"; fi
    art=$(mktemp -d)
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
         -artifact_prefix="$art/" "$work" >"$work.log" 2>&1; then
        echo "ok   $name ($(grep -c . "$work.log") log lines, $(ls "$work" | wc -l) corpus files)"
        pass=$((pass + 1))
    else
        echo "FAIL $name"; tail -n 40 "$work.log"; fail=$((fail + 1))
        for f in "$art"/*; do [ -f "$f" ] && { echo "input $f:"; od -c "$f" | head -n 20; }; done
    fi
    rm -rf "$work" "$work.log" "$art"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
