#!/usr/bin/env bash
# The whole test suite. Needs what .ci/run installs (zsh, fish, shellcheck,
# keyutils, dbus + gnome-keyring, moto[server], awscli).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
# The benchmark in quick mode: it must run, its timings are not judged here.
bash bench/run.sh --quick
