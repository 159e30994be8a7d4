#!/usr/bin/env bash
# run.sh - build with sanitizers and run every test of Lienthong.
#
# Steps, each counted as checks: formatting (clang-format), the unit tests
# (cmocka, TAP), the integration tests (tests/integration/test_*.sh against
# the real binary), the browser tests of the web UI (tests/web, headless
# Chromium driven from Node.js; "npm ci" there first if node_modules is
# missing), and a short run of each fuzz target.  The last line is
# "N passed, N failed"; the exit status is 0 only if nothing failed.
#
#   tests/run.sh [--no-fuzz] [--only PATTERN]
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/tests/out
rm -rf "$out"
mkdir -p "$out"

fuzz=1
only=""
while [ $# -gt 0 ]; do
    case "$1" in
    --no-fuzz) fuzz=0 ;;
    --only) only=$2; shift ;;
    *) echo "usage: tests/run.sh [--no-fuzz] [--only PATTERN]" >&2; exit 2 ;;
    esac
    shift
done

passed=0
failed=0
failures=""

# tally NAME LOGFILE RC: count TAP lines of a finished test program.
tally() {
    local name=$1 log=$2 rc=$3 ok bad
    ok=$(grep -cE '^ok [0-9]+' "$log")
    bad=$(grep -cE '^not ok [0-9]+' "$log")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1 # crashed or failed outside any check
        echo "not ok - $name exited with status $rc" >>"$log"
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$bad" -gt 0 ]; then
        failures="$failures $name"
        printf 'FAIL %-40s %d passed, %d failed (log: %s)\n' "$name" "$ok" "$bad" "${log#$root/}"
        grep -E '^(not ok|#)' "$log" | head -n 30 | sed 's/^/     /'
    else
        printf 'ok   %-40s %d passed\n' "$name" "$ok"
    fi
}

selected() {
    [ -z "$only" ] || [[ "$1" == *$only* ]]
}

echo "== build (ASan + UBSan)"
if [ ! -f build-test/build.ninja ]; then
    meson setup build-test -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug >"$out/setup.log" 2>&1 || { cat "$out/setup.log"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C build-test >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log"
    echo "0 passed, 1 failed"
    exit 1
fi
export LT=$root/build-test/lienthong
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CMOCKA_MESSAGE_OUTPUT=TAP

echo "== format"
if selected format; then
    unformatted=$(git ls-files -co --exclude-standard -- '*.c' '*.h' | while read -r f; do
        [ -f "$f" ] && ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1 && echo "$f"
    done)
    if [ -z "$unformatted" ]; then
        echo "ok 1 - every C file is formatted" >"$out/format.log"
    else
        { echo "not ok 1 - files not formatted by .clang-format:"; echo "$unformatted" | sed 's/^/# /'; } >"$out/format.log"
    fi
    tally format "$out/format.log" 0
fi

echo "== unit tests"
for t in $(find build-test/tests -maxdepth 1 -type f -name 'test_*' -executable | sort); do
    name=unit/$(basename "$t")
    selected "$name" || continue
    log=$out/$(basename "$t").log
    timeout 300 "$t" >"$log" 2>&1
    tally "$name" "$log" $?
done

echo "== integration tests"
for t in tests/integration/test_*.sh; do
    name=integration/$(basename "$t" .sh)
    selected "$name" || continue
    log=$out/$(basename "$t" .sh).log
    timeout 600 bash "$t" >"$log" 2>&1
    tally "$name" "$log" $?
done

echo "== browser tests"
if selected web/browser; then
    log=$out/browser.log
    chromium=${LT_CHROMIUM:-/usr/bin/chromium}
    if ! command -v node >/dev/null || ! command -v npm >/dev/null || [ ! -x "$chromium" ]; then
        echo "not ok 1 - node, npm or $chromium is missing (./dev test installs them)" >"$log"
        tally web/browser "$log" 1
    elif [ ! -d tests/web/node_modules/playwright-core ] &&
        ! (cd tests/web && npm ci --no-audit --no-fund) >"$out/npm.log" 2>&1; then
        { echo "not ok 1 - npm ci in tests/web failed:"; tail -n 20 "$out/npm.log" | sed 's/^/# /'; } >"$log"
        tally web/browser "$log" 1
    else
        LT_CHROMIUM=$chromium timeout 180 node tests/web/browser.mjs >"$log" 2>&1
        tally web/browser "$log" $?
    fi
fi

if [ "$fuzz" -eq 1 ] && [ -d fuzz ] && selected fuzz; then
    echo "== fuzz (short runs)"
    if [ ! -f build-fuzz/build.ninja ]; then
        CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false >"$out/fuzz-setup.log" 2>&1
    fi
    if ninja -C build-fuzz >"$out/fuzz-build.log" 2>&1; then
        for f in $(find build-fuzz/fuzz -maxdepth 1 -type f -name 'fuzz_*' -executable | sort); do
            name=fuzz/$(basename "$f")
            log=$out/$(basename "$f").log
            corpus=$out/corpus-$(basename "$f")
            mkdir -p "$corpus"
            seeds=fuzz/corpus/$(basename "$f")
            [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
            "$f" -max_total_time="${LT_FUZZ_SECONDS:-20}" -rss_limit_mb=1024 \
                -artifact_prefix="$out/" "$corpus" >"$log" 2>&1
            rc=$?
            if [ $rc -eq 0 ]; then
                echo "ok 1 - $(basename "$f") ran clean for ${LT_FUZZ_SECONDS:-20} s: $(grep -E '^Done' "$log" | tail -n 1)" >>"$log"
            fi
            tally "$name" "$log" $rc
        done
    else
        echo "not ok 1 - fuzz targets did not build" >"$out/fuzz-build.log.tap"
        tail -n 20 "$out/fuzz-build.log" >>"$out/fuzz-build.log.tap"
        tally fuzz/build "$out/fuzz-build.log.tap" 1
    fi
fi

echo
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
