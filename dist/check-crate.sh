#!/usr/bin/env bash
# `cargo install` from the crate as it would be published: the .crate of `cargo package`
# (tests/cross-check.sh runs it with its build check; here --no-verify), unpacked
# and installed into a temporary root, then run: `--version` must name the commit,
# read from the crate's .cargo_vcs_info.json, since a packaged crate has no .git.
#
# With the release's x86_64 flags and target directory (dist/env.sh), so cargo reuses
# every dependency dist/build.sh compiled and builds only awsrole itself again (about
# 1.5 CPU-minutes: its fat LTO). Cargo names a path crate's build after its path within
# its workspace, the same for the checkout and the unpacked crate, so the next
# dist/build.sh links awsrole again; tests/all.sh runs this last.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh
# shellcheck source=dist/env.sh
source dist/env.sh
say() { echo "check-crate: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
commit=$(git rev-parse HEAD | cut -c1-7)
say "cargo package --no-verify (tests/cross-check.sh builds the crate: cargo package)"
CARGO_TARGET_DIR=$dist_target_dir/crate cargo package -q --allow-dirty --no-verify
crate=$dist_target_dir/crate/package/awsrole-$version.crate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$crate" -C "$work"
[[ -f $work/awsrole-$version/.cargo_vcs_info.json ]] || fail "the crate has no .cargo_vcs_info.json"
[[ ! -e $work/awsrole-$version/.git ]] || fail "the crate holds a .git"
target=x86_64-unknown-linux-gnu
say "cargo install --path <the unpacked crate> --target $target"
start=$SECONDS
dist_run "$target" cargo install -q --locked --offline --path "$work/awsrole-$version" --root "$work/root" --target "$target"
say "cargo install took $((SECONDS - start)) s"
want="awsrole $version ($commit $target)"
got=$("$work/root/bin/awsrole" --version)
[[ $got == "$want" ]] || fail "the installed awsrole says '$got', not '$want'"
"$work/root/bin/awsrole" list --help >/dev/null || fail "the installed awsrole does not run"
say "cargo install from the packaged crate: $got"
