#!/usr/bin/env bash
# The whole test suite. Needs what .ci/run installs (zsh, fish, shellcheck,
# keyutils, dbus + gnome-keyring, moto[server], awscli).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
# The macOS / Windows keyring store (src/cache/native.rs), type-checked for those targets.
for target in aarch64-apple-darwin x86_64-pc-windows-msvc; do
    if rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        cargo check -q --manifest-path tests/native-check/Cargo.toml --target "$target"
    else
        echo "skipped: the $target type-check (rustup target add $target)"
    fi
done
# Differential conformance against botocore: 2,000 generated profiles.
python3 tests/conformance/run.py --profiles 2000 --seed "${CONFORMANCE_SEED:-1}"
# The benchmark in quick mode: it must run, its timings are not judged here.
bash bench/run.sh --quick
