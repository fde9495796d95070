#!/usr/bin/env bash
# The whole test suite. Needs what .ci/install installs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
# macOS (checked with zig) and Windows (built, and run under Wine), and `cargo package`.
bash tests/cross-check.sh
# Differential conformance against botocore: 2,000 generated profiles.
python3 tests/conformance/run.py --profiles 2000 --seed "${CONFORMANCE_SEED:-1}"
# The benchmark in quick mode: it must run, its timings are not judged here.
bash bench/run.sh --quick
