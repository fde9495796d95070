#!/usr/bin/env bash
# macOS and Windows from Linux, so that a crate that does not build there cannot land.
#
#   macOS (aarch64 and x86_64): `cargo check --all-targets`, zig as the C cross
#     compiler (aws-lc-sys builds its C with it). Linking needs Apple's SDK, which
#     cannot be shipped, so nothing runs on macOS here.
#   Windows (x86_64-pc-windows-gnu, mingw-w64): `cargo check --all-targets`, then
#     awsrole.exe is built and RUN under Wine: --help, the portable unit tests, and a
#     round trip against the local moto STS through the Credential Manager — add (keys
#     on stdin), list shows [keyring], export (one AssumeRole), export again (no STS
#     call), remove (keys and sessions gone).
#   Packaging: `cargo package` builds the crate as it would be published.
#
# Needs what .ci/install brings: the rustup targets, ziglang and cargo-zigbuild (PyPI),
# gcc-mingw-w64-x86-64 and wine (Debian), moto (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh
export CARGO_TARGET_DIR="$PWD/target/cross"
say() { echo "cross-check: $*" >&2; }

# --- macOS -------------------------------------------------------------------------
for target in aarch64-apple-darwin x86_64-apple-darwin; do
    say "cargo check --all-targets --target $target (zig as the C compiler)"
    MACOSX_DEPLOYMENT_TARGET=11.0 RUSTFLAGS="-D warnings" \
        cargo-zigbuild check -q --all-targets --target "$target"
done

# --- Windows -----------------------------------------------------------------------
win=x86_64-pc-windows-gnu
say "cargo check --all-targets --target $win"
RUSTFLAGS="-D warnings" cargo check -q --all-targets --target "$win"
debug_dir="$CARGO_TARGET_DIR/$win/debug"
work=$(mktemp -d)
# tests/all.sh sets AWSROLE_WINDOWS_EXE to the release's awsrole.exe, which dist/check.sh
# has just built: the round trip below then runs what users download, and nothing is
# built twice. Alone, this script runs a debug build.
if [[ -n ${AWSROLE_WINDOWS_EXE:-} ]]; then
    say "Wine runs the release's $AWSROLE_WINDOWS_EXE"
    exe_dir="$work/exe"
    mkdir "$exe_dir"
    cp "$AWSROLE_WINDOWS_EXE" "$exe_dir/awsrole.exe"
else
    cargo build -q --target "$win"
    exe_dir=$debug_dir
fi
moto_in="$work/moto.in"
cleanup() {
    [[ -n ${moto_fd:-} ]] && exec {moto_fd}>&-
    wineserver -k 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Rust's std imports ProcessPrng from bcryptprimitives.dll, which Wine 8 lacks: a tiny
# forwarding DLL over RtlGenRandom (advapi32's SystemFunction036) stands in for it.
cat >"$work/prng.c" <<'C'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
C
printf 'LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n' >"$work/prng.def"
x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" "$work/prng.c" "$work/prng.def" -ladvapi32
cp "$work/bcryptprimitives.dll" "$exe_dir/"
mkdir -p "$debug_dir/deps" && cp "$work/bcryptprimitives.dll" "$debug_dir/deps/"

export WINEPREFIX="$work/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wineboot -i >/dev/null 2>&1 || true
exe="$exe_dir/awsrole.exe"
aw() { wine "$exe" "$@"; }

say "awsrole.exe --help under Wine"
aw --help | grep -q "Put AWS IAM role" || { say "awsrole.exe --help did not run"; exit 1; }
[[ $(aw --version) == "awsrole $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1) ("*" x86_64-pc-windows-gnu)" ]] ||
    { say "awsrole.exe --version says '$(aw --version)'"; exit 1; }

say "the portable unit tests under Wine"
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine cargo test -q --target "$win" --lib --test fuzz >"$work/wine-tests.out" 2>&1 ||
    { cat "$work/wine-tests.out" >&2; say "the unit tests failed under Wine"; exit 1; }
grep -E "test result|FAILED|panicked" "$work/wine-tests.out" >&2
# Two binaries (the library's unit tests, the fuzz tests), and neither ran zero tests.
[[ $(grep -cE "test result: ok\. [1-9][0-9]* passed" "$work/wine-tests.out") == 2 ]] ||
    { say "a test binary ran no test under Wine"; exit 1; }

say "a round trip through the Credential Manager against moto"
mkfifo "$moto_in"
python3 tests/support/moto_server.py --until-stdin-closes <"$moto_in" >"$work/moto.out" 2>/dev/null &
exec {moto_fd}>"$moto_in"
for _ in $(seq 600); do [[ -s "$work/moto.out" ]] && break; sleep 0.1; done
[[ -s "$work/moto.out" ]] || { say "moto did not start within 60 s"; exit 1; }
endpoint="http://127.0.0.1:$(head -1 "$work/moto.out")"
python3 tests/support/world.py --endpoint "$endpoint" --prefix win --roles 1 >"$work/world.json"
field() { python3 -c "import json,sys; w=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$work/world.json" "$1"; }
role_arn=$(field 'w["roles"][0]["arn"]')
mkdir -p "$work/aws"
printf '[profile base]\nregion = us-east-1\n\n[profile win-role]\nrole_arn = %s\nsource_profile = base\n' "$role_arn" >"$work/aws/config"
: >"$work/aws/credentials"
export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL_STS="$endpoint"
AWS_CONFIG_FILE=$(winepath -w "$work/aws/config")
AWS_SHARED_CREDENTIALS_FILE=$(winepath -w "$work/aws/credentials")
export AWSROLE_CACHE_NAMESPACE="cross$$" USER=tester
assume_roles() { python3 tests/support/sts_calls.py "$endpoint" | python3 -c 'import json,sys; print(sum(c["Action"] == "AssumeRole" for c in json.load(sys.stdin)))'; }
fail() { say "$*"; exit 1; }

printf '%s\n%s\n' "$(field 'w["access_key_id"]')" "$(field 'w["secret_access_key"]')" | aw add base 2>"$work/add.err" ||
    fail "add failed: $(cat "$work/add.err")"
aw list >"$work/list.out" || fail "list failed"
grep -q "win-role ← base \[keyring\]" "$work/list.out" || fail "list does not show [keyring]: $(cat "$work/list.out")"
aw export win-role --format json >"$work/first.json" || fail "export failed"
grep -q '"AccessKeyId":"ASIA' "$work/first.json" || fail "export printed no role credentials"
[[ $(assume_roles) == 1 ]] || fail "the first export made $(assume_roles) AssumeRole calls, not 1"
aw export win-role --format json >"$work/second.json"
[[ $(assume_roles) == 1 ]] || fail "the second export called STS again: the Credential Manager cache did not serve it"
cmp -s "$work/first.json" "$work/second.json" || fail "the cached credentials differ from the first"
# exec waits for its command on Windows (no exec(2) there) and exits with its status.
status=0
aw exec win-role -- cmd.exe /c "if defined AWS_SESSION_TOKEN (exit 7) else (exit 1)" || status=$?
[[ $status == 7 ]] || fail "exec returned $status, not the command's 7 (or the command had no credentials)"
aw remove base 2>"$work/remove.err" || fail "remove failed: $(cat "$work/remove.err")"
grep -q "1 cached session" "$work/remove.err" || fail "remove did not drop the cached session: $(cat "$work/remove.err")"
aw list >"$work/list-after.out" || fail "list failed after remove"
grep -q "\[keyring\]" "$work/list-after.out" && fail "the keys are still listed after remove"
aw cache list >"$work/cache-after.out" || fail "cache list failed after remove"
[[ $(wc -l <"$work/cache-after.out") == 1 ]] || fail "cached sessions remain after remove"
# Independently of awsrole's listings: with the cache on, an export now has neither
# keys nor a cached session to serve it, and makes no STS call.
aw export win-role >"$work/after.out" 2>"$work/after.err" && fail "export still worked after remove: $(cat "$work/after.err")"
grep -q "no credentials" "$work/after.err" || fail "export after remove failed for another reason: $(cat "$work/after.err")"
[[ $(assume_roles) == 1 ]] || fail "export after remove called STS"
say "Windows round trip: add, list [keyring], export (1 AssumeRole), export (0), exec's status, remove — ok"

# --- Packaging ---------------------------------------------------------------------
say "cargo package"
unset CARGO_TARGET_DIR
cargo package -q --allow-dirty
say "all checks passed"
