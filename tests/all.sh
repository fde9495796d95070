#!/usr/bin/env bash
# The whole test suite. Needs what .ci/install installs.
#
# Nothing passes silently here: every stage has a deadline (a hang fails the run instead
# of eating CI's 90 minutes), and a test binary that runs no test fails the run (a
# cfg or a filter that dropped every test is not a green line).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh

stage() { # minutes command… : the command, killed and failed after that many minutes
    local minutes=$1
    shift
    echo "== $* (deadline ${minutes} min)" >&2
    local started=$SECONDS
    timeout --kill-after=30s "${minutes}m" "$@"
    echo "== took $((SECONDS - started)) s: $*" >&2
}

# Test binaries allowed to hold no test: the binary target, whose code the library's
# unit tests cover.
ZERO_TESTS_OK='unittests src/main.rs'

# Runs `cargo test` with its output on the terminal, then fails if any test binary ran
# zero tests (other than those named above).
cargo_test_all() {
    local log
    log=$(mktemp)
    stage 40 cargo test --all-targets 2>&1 | tee "$log"
    python3 - "$log" "$ZERO_TESTS_OK" <<'PY'
import re, sys
log, allowed = open(sys.argv[1]).read(), sys.argv[2].split(",")
counted = re.findall(r"Running (.+?) \(.*?\)\n+running (\d+) tests?", log)
empty = [name.strip() for name, count in counted if count == "0" and name.strip() not in allowed]
binaries = len(re.findall(r"^\s+Running ", log, re.M))
if binaries == 0:
    sys.exit("all.sh: cargo test ran no test binary")
if len(counted) != binaries:
    sys.exit(f"all.sh: {binaries} test binaries started but {len(counted)} said how many tests they run")
if empty:
    sys.exit(f"all.sh: these test binaries ran no test: {', '.join(empty)}")
print(f"all.sh: {binaries} test binaries, none empty", file=sys.stderr)
PY
    rm -f "$log"
}

stage 5 cargo fmt --check
stage 20 cargo clippy --all-targets -- -D warnings
cargo_test_all
# The keyring, trust, lock and shell tests again as a fresh normal user (root only).
if [[ $(id -u) == 0 ]]; then
    stage 25 bash tests/as-user.sh
else
    echo "== tests/as-user.sh skipped: it runs as root and makes its own normal user;" \
        "this run already is one ($(id -un))" >&2
fi
# The release (dist/build.sh: static Linux x86_64 and aarch64, Windows; archives,
# SHA256SUMS, Homebrew and Scoop files) built and checked as users get it, install.sh
# included (dist/check.sh). The Windows round trip and the benchmark below run its
# binaries instead of building their own.
stage 30 bash dist/check.sh
AWSROLE_WINDOWS_EXE=$(bash -c 'source dist/env.sh && dist_binary x86_64-pc-windows-gnu')
export AWSROLE_WINDOWS_EXE
# macOS (checked with zig) and Windows (built, and run under Wine), and `cargo package`.
stage 25 bash tests/cross-check.sh
# Differential conformance against botocore: 2,000 generated profiles.
stage 25 python3 tests/conformance/run.py --profiles 2000 --seed "${CONFORMANCE_SEED:-1}"
# The benchmark in quick mode: it must run, its timings are not judged here.
stage 15 bash bench/run.sh --quick
# `cargo install` from the packaged crate, reusing the release's x86_64 dependencies.
stage 15 bash dist/check-crate.sh
