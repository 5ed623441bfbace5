#!/usr/bin/env bash
# Coverage-guided fuzzing of the C extension with atheris (libFuzzer).
#
#   fuzz/run.sh TARGET [DURATION] [-- LIBFUZZER_ARGS...]
#
# TARGET: parser (aioredis._core.Reader, fuzz_parser.py), protocol (a
# RedisConnection fed by a stub transport, fuzz_protocol.py) or all (each
# in turn, DURATION each). DURATION: 90 (seconds), 30s, 10m, 2h; default 60s.
# A file instead of a duration replays that input once (a crash reproducer).
#
# What it does: installs clang and its runtimes with apt-get if missing;
# makes build/fuzz-venv (Python 3.11 by default: FUZZ_PYTHON=...) with
# atheris; builds aioredis._core with clang, -fsanitize=fuzzer-no-link (edge
# coverage and comparison tracing for libFuzzer) plus AIOREDIS_SANITIZE's
# ASan+UBSan, into build/fuzz-build (the in-place build is left alone); runs
# the target with atheris' ASan runtime that has libFuzzer linked in
# preloaded. Python code of aioredis is instrumented by atheris itself.
#
# Corpus: fuzz/corpus/TARGET is the committed seed corpus, read only; what a
# run finds goes to build/fuzz-corpus/TARGET. FUZZ_MERGE=1 at the end merges
# that into the committed corpus, keeping only inputs that add coverage.
# A crash or a broken invariant stops the run, exit status non-zero, with the
# input in build/fuzz-artifacts/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
export DEBIAN_FRONTEND=noninteractive

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
TARGET=$1
shift
DURATION=60s
if [ $# -ge 1 ] && [ "$1" != -- ]; then
    DURATION=$1
    shift
fi
[ "${1:-}" = -- ] && shift
EXTRA=("$@")

case $TARGET in
    parser | protocol) TARGETS=("$TARGET") ;;
    all) TARGETS=(parser protocol) ;;
    *) usage ;;
esac

REPLAY=""
if [ -f "$DURATION" ]; then
    REPLAY=$(readlink -f "$DURATION")
    SECS=0
else
    case $DURATION in
        *h) SECS=$((${DURATION%h} * 3600)) ;;
        *m) SECS=$((${DURATION%m} * 60)) ;;
        *s) SECS=${DURATION%s} ;;
        *[!0-9]* | "") usage ;;
        *) SECS=$DURATION ;;
    esac
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# --- clang -------------------------------------------------------------------
# clang, and its sanitizer/fuzzer runtimes (Debian 12's libclang-rt-dev;
# elsewhere the versioned libclang-rt-N-dev)
if ! command -v clang >/dev/null; then
    echo "installing clang (apt-get)"
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends clang
fi
if [ ! -e "$(clang -print-file-name=libclang_rt.fuzzer_no_main-x86_64.a)" ]; then
    ver=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n1)
    as_root apt-get install -y -q --no-install-recommends libclang-rt-dev ||
        as_root apt-get install -y -q --no-install-recommends "libclang-rt-$ver-dev"
fi
clang --version | head -n1

# --- Python with atheris -------------------------------------------------------
PY=${FUZZ_PYTHON:-}
if [ -z "$PY" ]; then
    PY=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11.[0-9]*/bin/python 2>/dev/null | sort -V | tail -n1 || true)
    [ -n "$PY" ] || PY=$(command -v python3.11 || command -v python3)
fi
VENV=build/fuzz-venv
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import atheris' 2>/dev/null; then
    "$VENV/bin/python" -m pip install -q "setuptools>=77" "atheris>=2.3"
fi
ATHERIS_DIR=$("$VENV/bin/python" -c 'import atheris; print(atheris.path())')
ASAN_FUZZER=$ATHERIS_DIR/asan_with_fuzzer.so
[ -e "$ASAN_FUZZER" ] || { echo "atheris has no $ASAN_FUZZER" >&2; exit 1; }
"$VENV/bin/python" -c 'import sys, importlib.metadata as m; print("Python", sys.version.split()[0], "atheris", m.version("atheris"))'

# --- the instrumented build ------------------------------------------------------
BUILD=build/fuzz-build
# -fsanitize=fuzzer-no-link: coverage counters, PC table and comparison
# hooks for libFuzzer (from the preloaded runtime), no main().
# Rebuilt when a source is newer than the build (or it is missing).
SO=$(ls -d "$BUILD"/lib*/aioredis/_core*.so 2>/dev/null | head -n1 || true)
if [ -z "$SO" ] || [ -n "$(find src setup.py aioredis -newer "$SO" -name '*.[ch]' -o -newer "$SO" -name '*.py' | head -n1)" ]; then
    CC=clang LDSHARED="clang -shared" CFLAGS="-fsanitize=fuzzer-no-link" AIOREDIS_SANITIZE=1 \
        PYTHONWARNINGS=ignore "$VENV/bin/python" setup.py -q build --build-base "$BUILD" --force >"$BUILD.log" 2>&1 ||
        { cat "$BUILD.log" >&2; exit 1; }
    SO=$(ls -d "$BUILD"/lib*/aioredis/_core*.so | head -n1)
fi
LIB=$(dirname "$(dirname "$SO")")
nm -D "$LIB"/aioredis/_core*.so | grep -q __sanitizer_cov_8bit_counters_init ||
    { echo "the build has no libFuzzer coverage counters" >&2; exit 1; }

export LD_PRELOAD=$ASAN_FUZZER PYTHONMALLOC=malloc PYTHONPATH=$ROOT/$LIB
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"

rc=0
for t in "${TARGETS[@]}"; do
    script=$ROOT/fuzz/fuzz_$t.py
    if [ -n "$REPLAY" ]; then
        echo "== $t: replaying $REPLAY"
        (cd "$LIB" && "$ROOT/$VENV/bin/python" "$script" "$REPLAY" "${EXTRA[@]}") || rc=$?
        continue
    fi
    work=build/fuzz-corpus/$t
    mkdir -p "$work" build/fuzz-artifacts
    echo "== $t: ${SECS}s on fuzz/corpus/$t (new inputs go to $work)"
    log=build/fuzz-$t.log
    t0=$SECONDS
    # from $LIB, so the instrumented aioredis is imported, not the checkout's
    (cd "$LIB" && "$ROOT/$VENV/bin/python" "$script" \
        -max_total_time="$SECS" -timeout=20 -rss_limit_mb=4096 -max_len=8192 \
        -dict="$ROOT/fuzz/resp.dict" -print_final_stats=1 -artifact_prefix="$ROOT/build/fuzz-artifacts/$t-" \
        "${EXTRA[@]}" "$ROOT/$work" "$ROOT/fuzz/corpus/$t") 2>&1 | tee "$log" | grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)' || true
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
    echo "== $t: ${runs:-?} executions in $((SECONDS - t0))s, $cov, corpus $(ls "$work" | wc -l) new + $(ls "fuzz/corpus/$t" | wc -l) seeds"
    if ! grep -q '^Done [0-9]* runs' "$log"; then
        echo "== $t: FAILED (see $log; the input is in build/fuzz-artifacts/)" >&2
        rc=1
        continue
    fi
    if [ "${FUZZ_MERGE:-}" = 1 ]; then
        (cd "$LIB" && "$ROOT/$VENV/bin/python" "$script" -merge=1 "$ROOT/fuzz/corpus/$t" "$ROOT/$work")
    fi
done
exit "$rc"
