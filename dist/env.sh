# shellcheck shell=bash
# How a release binary is built, sourced by dist/build.sh and bench/run.sh: the
# benchmark measures the very binary the release ships, and cargo builds it once.
#
#   dist_build TARGET    builds TARGET's release binary (quietly), in a target directory
#                        of its own under $dist_target_dir, so that the targets can
#                        build at the same time (cargo locks a whole target directory)
#   dist_binary TARGET   prints its path
#   dist_run TARGET CMD  runs CMD with the same flags (dist/check-crate.sh: cargo install)
#
# Reproducible: the checkout, the target directory and CARGO_HOME are remapped to fixed
# names in Rust's panic locations (--remap-path-prefix) and in the C code's __FILE__
# (-ffile-prefix-map: aws-lc and libdbus are built from C); the Windows linker writes
# no timestamp; SOURCE_DATE_EPOCH is the commit's time. build.rs adds no timestamp.
dist_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dist_target_dir=${AWSROLE_DIST_TARGET_DIR:-$dist_root/target/dist-build}
dist_cargo_home=${CARGO_HOME:-$HOME/.cargo}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$dist_root" log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
# The release's targets, in the order build.sh builds them.
# shellcheck disable=SC2034
dist_targets=(x86_64-unknown-linux-gnu aarch64-unknown-linux-musl x86_64-pc-windows-gnu)

# dist_run TARGET COMMAND…: COMMAND in the checkout, with the release's flags for TARGET.
dist_run() {
    local target=$1
    shift
    # The more specific prefix last: rustc applies the last remapping that matches.
    local flags=(--remap-path-prefix="$dist_root=/awsrole" --remap-path-prefix="$dist_cargo_home=/cargo"
        --remap-path-prefix="$dist_target_dir=/target")
    local cflags="-ffile-prefix-map=$dist_root=/awsrole -ffile-prefix-map=$dist_cargo_home=/cargo -ffile-prefix-map=$dist_target_dir=/target"
    case $target in
        # glibc, linked statically (a static PIE): no dynamic loader on each prompt;
        # README's recommended Linux build, and what the benchmark measures.
        x86_64-unknown-linux-gnu) flags+=(-C target-feature=+crt-static) ;;
        # musl, static by default; zig is the C compiler and the linker (dist_build).
        aarch64-unknown-linux-musl) ;;
        x86_64-pc-windows-gnu) flags+=(-C 'link-arg=-Wl,--no-insert-timestamp') ;;
        # On a Mac only (Apple's SDK): the two macOS targets with Apple's own tools.
        *-apple-darwin) export MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-11.0} ;;
        *) echo "dist: no recipe for target $target" >&2; return 1 ;;
    esac
    (
        IFS=$'\x1f'
        unset RUSTFLAGS
        export CARGO_ENCODED_RUSTFLAGS="${flags[*]}" "CFLAGS_${target//-/_}=$cflags" CARGO_TARGET_DIR="$dist_target_dir/$target"
        cd "$dist_root" && "$@"
    )
}

dist_build() {
    local tool=cargo
    [[ $1 == *-linux-musl ]] && tool=cargo-zigbuild
    dist_run "$1" "$tool" build --release --locked -q --target "$1"
}

dist_binary() {
    local exe=awsrole
    [[ $1 == *windows* ]] && exe=awsrole.exe
    echo "$dist_target_dir/$1/$1/release/$exe"
}
