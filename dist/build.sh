#!/usr/bin/env bash
# Builds the release into target/dist/:
#
#   bash dist/build.sh [VERSION]
#
#   awsrole-V-x86_64-unknown-linux-gnu.tar.gz     static PIE (glibc), no dynamic loader
#   awsrole-V-aarch64-unknown-linux-musl.tar.gz   static (musl), zig as C compiler and linker
#   awsrole-V-x86_64-pc-windows-gnu.zip           mingw-w64
#   SHA256SUMS, awsrole.rb (Homebrew), awsrole.json (Scoop)     dist/packages.sh
#   install.sh                                                  the installer, as is
#
# On a Mac it builds aarch64-apple-darwin and x86_64-apple-darwin instead (Apple's SDK
# cannot be had on Linux): copy those two archives into the Linux release's target/dist/
# and run `bash dist/packages.sh` there to add them to SHA256SUMS and the formula.
# AWSROLE_DIST_TARGETS="t1 t2" builds only those targets.
#
# Each archive holds one directory, awsrole-V-TARGET/: the binary, completions/
# (awsrole.bash, _awsrole for zsh, awsrole.fish, awsrole.nu: nushell's integration with
# its completions), man/awsrole.1, README.md, LICENSE, CHANGELOG.md. The bytes depend on
# the commit alone (dist/env.sh, dist/archive.py); dist/check.sh checks all of this.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
[[ -f tests/support/venv.sh ]] && source tests/support/venv.sh
# shellcheck source=dist/env.sh
source dist/env.sh
say() { echo "dist: $*" >&2; }
die() { say "$*"; exit 1; }

crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
version=${1:-$crate_version}
version=${version#v}
[[ $version == "$crate_version" ]] ||
    die "version $version is not Cargo.toml's $crate_version: set it there first (the binary's --version reads it)"

if [[ -n ${AWSROLE_DIST_TARGETS:-} ]]; then
    read -ra targets <<<"$AWSROLE_DIST_TARGETS"
elif [[ $(uname -s) == Darwin ]]; then
    targets=(aarch64-apple-darwin x86_64-apple-darwin)
else
    targets=("${dist_targets[@]}")
fi

# All targets at once: much of a release build is one rustc or one C compiler at a time
# (the fat LTO of awsrole itself, aws-lc), so on 2 cores three builds side by side take
# about half the time of three in a row. Each logs to target/dist-build/TARGET.log.
mkdir -p "$dist_target_dir"
pids=()
for target in "${targets[@]}"; do
    say "cargo build --release --target $target"
    dist_build "$target" >"$dist_target_dir/$target.log" 2>&1 &
    pids+=($!)
done
failed=()
for i in "${!targets[@]}"; do
    wait "${pids[$i]}" || failed+=("${targets[$i]}")
done
# ${a[@]+…}: an empty array under set -u is an error in a Mac's bash 3.2.
for target in ${failed[@]+"${failed[@]}"}; do
    cat "$dist_target_dir/$target.log" >&2
    say "the build for $target failed (above)"
done
((${#failed[@]} == 0)) || exit 1

# Completions and the man page come from the clap definitions, the same on every
# platform: printed by the first binary that runs on this machine.
docs_bin=
for target in "${targets[@]}"; do
    if "$(dist_binary "$target")" --version >/dev/null 2>&1; then
        docs_bin=$(dist_binary "$target") docs_target=$target
        break
    fi
done
[[ -n $docs_bin ]] || die "none of the binaries built runs on this machine, so no completions or man page"

out=target/dist
rm -rf "$out"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for target in "${targets[@]}"; do
    name="awsrole-$version-$target"
    dir="$stage/$name"
    mkdir -p "$dir/completions" "$dir/man"
    bin=$(dist_binary "$target")
    install -m 755 "$bin" "$dir/$(basename "$bin")"
    "$docs_bin" completions bash >"$dir/completions/awsrole.bash"
    "$docs_bin" completions zsh >"$dir/completions/_awsrole"
    "$docs_bin" completions fish >"$dir/completions/awsrole.fish"
    "$docs_bin" init nu >"$dir/completions/awsrole.nu"
    # The man page's header names the version line of --version: this archive's target.
    "$docs_bin" man | sed "1,10s/ $docs_target)\"/ $target)\"/" >"$dir/man/awsrole.1"
    cp README.md LICENSE CHANGELOG.md "$dir/"
    find "$dir" -type f ! -name awsrole ! -name awsrole.exe -exec chmod 644 {} +
    if [[ $target == *windows* ]]; then archive="$name.zip"; else archive="$name.tar.gz"; fi
    python3 dist/archive.py "$out/$archive" "$dir"
    say "$out/$archive"
done
cp dist/install.sh "$out/install.sh"
bash dist/packages.sh "$version"
