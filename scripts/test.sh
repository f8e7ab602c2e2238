#!/bin/sh
# The README's test command, and what CI runs: installs what is missing,
# builds libopenvswitch and tether, then runs
#   1. make check (unit + sandbox tiers) built with -Werror, ASan and UBSan;
#   2. make check-mininet (the Mininet tier; root only) on an optimized build;
#   3. make check-qemu (the real-hypervisor tier: QEMU guests live-migrating;
#      root only; QEMU is installed from Debian, skipped if it cannot be);
#   4. make distcheck;
#   5. a bounded libFuzzer run of the protocol decoder (clang build).
# Ends with one line "tests: N passed, M failed" counted from the test
# results of steps 1 to 3.  Exit status 0 only if every step passed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

step() { printf '\n==== %s\n' "$*"; }

step "bootstrap"
"$top/scripts/bootstrap.sh"

start=$(date +%s)
step "build with -Werror, ASan and UBSan"
mkdir -p _build/check
cd _build/check
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
    ../../configure -q --enable-Werror --enable-asan --enable-ubsan
fi
make -j"$jobs" > build.log 2>&1 || { tail -50 build.log; exit 1; }
echo "built in $(( $(date +%s) - start )) s"

step "make check (unit and sandbox tiers)"
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    make -j"$jobs" check || status=$?
if [ "$status" != 0 ]; then
    # Show every failing test's log.
    for trs in $(find . -name '*.trs'); do
        if grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs"; then
            log=${trs%.trs}.log
            echo "---- $log"
            tail -80 "$log"
        fi
    done
fi
passed=$(cat $(find . -name '*.trs') /dev/null | grep -c '^:test-result: PASS' || true)
failed=$(cat $(find . -name '*.trs') /dev/null | grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)' || true)
skipped=$(cat $(find . -name '*.trs') /dev/null | grep -c '^:test-result: SKIP' || true)
cd "$top"

step "make check-mininet (Mininet tier)"
mn_passed=0
mn_failed=0
if [ "$(id -u)" = 0 ]; then
    mkdir -p _build/mininet
    (cd _build/mininet && { [ -f Makefile ] && [ Makefile -nt "$top/configure" ] \
                            || ../../configure -q; } \
        && make -j"$jobs" > build.log 2>&1 \
        && make check-mininet 2>&1 | tee check-mininet.log) || status=1
    summary=$(grep -E '^mininet: [0-9]+ passed, [0-9]+ failed' \
              _build/mininet/check-mininet.log | tail -1)
    if [ -n "$summary" ]; then
        mn_passed=$(echo "$summary" | sed 's/mininet: \([0-9]*\) passed.*/\1/')
        mn_failed=$(echo "$summary" | sed 's/.*passed, \([0-9]*\) failed.*/\1/')
        [ "$mn_failed" = 0 ] || status=1
    else
        echo "make check-mininet printed no summary" >&2
        status=1
    fi
else
    echo "skipped: the Mininet tier needs root"
fi
passed=$((passed + mn_passed))
failed=$((failed + mn_failed))

step "make check-qemu (real-hypervisor tier)"
q_passed=0
q_failed=0
if [ "$(id -u)" = 0 ]; then
    # deps.sh installs QEMU from Debian; the target prints "check-qemu:
    # skipped" (and no summary) only when it cannot.
    (cd _build/mininet && make check-qemu 2>&1 | tee check-qemu.log) || status=1
    summary=$(grep -E '^qemu: [0-9]+ passed, [0-9]+ failed' \
              _build/mininet/check-qemu.log | tail -1)
    if [ -n "$summary" ]; then
        q_passed=$(echo "$summary" | sed 's/qemu: \([0-9]*\) passed.*/\1/')
        q_failed=$(echo "$summary" | sed 's/.*passed, \([0-9]*\) failed.*/\1/')
        [ "$q_failed" = 0 ] || status=1
    elif grep -q '^check-qemu: skipped' _build/mininet/check-qemu.log; then
        echo "skipped: QEMU cannot be installed here"
    else
        echo "make check-qemu printed no summary" >&2
        status=1
    fi
else
    echo "skipped: the QEMU tier needs root"
fi
passed=$((passed + q_passed))
failed=$((failed + q_failed))

step "make distcheck"
mkdir -p _build/dist
(cd _build/dist && { [ -f Makefile ] && [ Makefile -nt "$top/configure" ] \
                     || ../../configure -q; } \
    && make -j"$jobs" distcheck > distcheck.log 2>&1) \
    || { tail -60 _build/dist/distcheck.log; status=1; }
grep 'archives ready for distribution' -A2 _build/dist/distcheck.log || true

step "fuzz the protocol decoder for ${FUZZ_SECONDS} s"
mkdir -p _build/fuzz
(cd _build/fuzz && { [ -f Makefile ] && [ Makefile -nt "$top/configure" ] \
                     || ../../configure -q CC=clang --enable-fuzzing; } \
    && make -j"$jobs" fuzz-run FUZZ_SECONDS="$FUZZ_SECONDS") || status=1

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
