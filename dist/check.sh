#!/usr/bin/env bash
# Builds the release (dist/build.sh) and checks what it made, as a user would get it:
#
#   - every archive holds exactly the binary, the four completions, the man page,
#     README, LICENSE and CHANGELOG; SHA256SUMS matches the archives;
#   - x86_64: static (`file`, `ldd`), `--version` names version, commit and target, and
#     the demo's cold export (one MFA session, five AssumeRole calls) and warm export
#     (no STS call) run against moto;
#   - aarch64: static, `--version` and a cold export against moto under qemu-aarch64;
#   - Windows: a PE32+ x86-64 executable (tests/cross-check.sh runs it under Wine:
#     AWSROLE_WINDOWS_EXE);
#   - no path of this machine (checkout, target directory, CARGO_HOME, rustup) in any
#     binary, and building the release again from the same binaries gives the same
#     bytes (the full rebuild in another directory is dist/reproduce.sh, by hand);
#   - the Homebrew formula (`ruby -c`) and the Scoop manifest (JSON) carry the
#     archives' hashes;
#   - dist/install.sh from file:// URLs: installs into a new prefix and prints the rc
#     line; refuses a tampered archive (nonzero, a clear message, nothing installed)
#     and a target SHA256SUMS does not list; and as a normal user (when run as root)
#     into that user's ~/.local/bin.
#
#   bash dist/check.sh          (tests/all.sh runs it)
#
# Needs what .ci/install brings: ziglang and cargo-zigbuild (venv), qemu-user, ruby,
# file, moto (venv), shellcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh
# shellcheck source=dist/env.sh
source dist/env.sh
say() { echo "dist-check: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

say "shellcheck dist/*.sh"
shellcheck -x dist/*.sh

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
commit=$(git rev-parse HEAD | cut -c1-7)
start=$SECONDS
bash dist/build.sh
say "dist/build.sh took $((SECONDS - start)) s"
out=$PWD/target/dist
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
    [[ -n ${moto_fd:-} ]] && exec {moto_fd}>&-
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- the archives -------------------------------------------------------------------
(cd "$out" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the archives"
[[ $(wc -l <"$out/SHA256SUMS") == "${#dist_targets[@]}" ]] || fail "SHA256SUMS lists $(wc -l <"$out/SHA256SUMS") archives, not ${#dist_targets[@]}"
for target in "${dist_targets[@]}"; do
    name=awsrole-$version-$target
    exe=awsrole
    if [[ $target == *windows* ]]; then
        exe=awsrole.exe
        unzip -Z1 "$out/$name.zip" | grep -v '/$' | LC_ALL=C sort >"$work/$target.list"
        unzip -q "$out/$name.zip" -d "$work"
    else
        tar -tzf "$out/$name.tar.gz" | grep -v '/$' | LC_ALL=C sort >"$work/$target.list"
        tar -xzf "$out/$name.tar.gz" -C "$work"
    fi
    printf "$name/%s\n" CHANGELOG.md LICENSE README.md "$exe" completions/_awsrole completions/awsrole.bash \
        completions/awsrole.fish completions/awsrole.nu man/awsrole.1 | LC_ALL=C sort >"$work/$target.want"
    diff -u "$work/$target.want" "$work/$target.list" >&2 || fail "$name's files are not the ones listed above"
    [[ -x $work/$name/$exe ]] || fail "$name/$exe is not executable"
    grep -q "^\.TH awsrole 1 .*$target)" "$work/$name/man/awsrole.1" || fail "$name's man page does not name $target"
    for file in completions/awsrole.bash completions/_awsrole completions/awsrole.fish completions/awsrole.nu; do
        [[ -s $work/$name/$file ]] || fail "$name/$file is empty"
    done
done
bash -n "$work/awsrole-$version-x86_64-unknown-linux-gnu/completions/awsrole.bash" || fail "the bash completions do not parse"
x86=$work/awsrole-$version-x86_64-unknown-linux-gnu/awsrole
arm=$work/awsrole-$version-aarch64-unknown-linux-musl/awsrole
win=$work/awsrole-$version-x86_64-pc-windows-gnu/awsrole.exe

# --- the binaries -------------------------------------------------------------------
file -b "$x86" | grep -q "x86-64.*static-pie linked" || fail "x86_64 is not a static PIE: $(file -b "$x86")"
ldd "$x86" 2>&1 | grep -qE "statically linked|not a dynamic executable" || fail "ldd finds libraries in the x86_64 binary: $(ldd "$x86" 2>&1)"
file -b "$arm" | grep -q "ARM aarch64.*statically linked" || fail "aarch64 is not a static ARM binary: $(file -b "$arm")"
file -b "$win" | grep -q "PE32+ executable.*x86-64" || fail "the Windows binary is not PE32+ x86-64: $(file -b "$win")"
want="awsrole $version ($commit x86_64-unknown-linux-gnu)"
[[ $("$x86" --version) == "$want" ]] || fail "x86_64 --version says '$("$x86" --version)', not '$want'"
want="awsrole $version ($commit aarch64-unknown-linux-musl)"
[[ $(qemu-aarch64 "$arm" --version) == "$want" ]] || fail "aarch64 --version (qemu) says '$(qemu-aarch64 "$arm" --version)', not '$want'"
grep -aqF "$version ($commit x86_64-pc-windows-gnu)" "$win" || fail "the Windows binary does not carry its version line"
for bin in "$x86" "$arm" "$win"; do
    for path in "$PWD" "$dist_target_dir" "$dist_cargo_home" "$HOME/.rustup"; do
        if grep -aqF "$path" "$bin"; then fail "$(basename "$(dirname "$bin")") holds the path $path: not reproducible elsewhere"; fi
    done
done
say "binaries: static x86_64 and aarch64, PE32+, --version right, no local path inside"

# --- against moto ----------------------------------------------------------------------
mkfifo "$work/moto.in"
python3 tests/support/moto_server.py --until-stdin-closes <"$work/moto.in" >"$work/moto.out" 2>/dev/null &
exec {moto_fd}>"$work/moto.in"
for _ in $(seq 600); do [[ -s "$work/moto.out" ]] && break; sleep 0.1; done
[[ -s "$work/moto.out" ]] || fail "moto did not start within 60 s"
endpoint="http://127.0.0.1:$(head -1 "$work/moto.out")"
# The demo's world in a home of its own; HOME is put back afterwards (cargo and rustup
# live under the real one).
real_home=$HOME
export HOME="$work/home" AWS_ENDPOINT_URL_STS="$endpoint" AWSROLE_CACHE_NAMESPACE="dist$$"
mkdir -p "$HOME"
python3 tests/support/seed_home.py --endpoint "$endpoint" --prefix dist --home "$HOME" >/dev/null
calls() { python3 tests/support/sts_calls.py "$endpoint" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
before=$(calls)
"$x86" export role-e --mfa-code 123456 --format json >"$work/cold.json" || fail "x86_64: the cold export failed"
grep -q '"AccessKeyId":"ASIA' "$work/cold.json" || fail "x86_64: the cold export printed no role credentials"
[[ $(($(calls) - before)) == 6 ]] || fail "x86_64: the cold export made $(($(calls) - before)) STS calls, not 6 (GetSessionToken + 5 AssumeRole)"
before=$(calls)
"$x86" export role-e --format json >"$work/warm.json" || fail "x86_64: the warm export failed"
[[ $(calls) == "$before" ]] || fail "x86_64: the warm export called STS"
cmp -s "$work/cold.json" "$work/warm.json" || fail "x86_64: the warm export differs from the cold one"
"$x86" cache clear 2>/dev/null
say "x86_64: cold export (6 STS calls), warm export (none) against moto"
before=$(calls)
qemu-aarch64 "$arm" export role-e --mfa-code 123456 --no-cache --format json >"$work/arm.json" || fail "aarch64: the export failed under qemu"
grep -q '"AccessKeyId":"ASIA' "$work/arm.json" || fail "aarch64: the export printed no role credentials"
[[ $(($(calls) - before)) == 6 ]] || fail "aarch64: the export made $(($(calls) - before)) STS calls, not 6"
say "aarch64 under qemu: --version, export (6 STS calls) against moto"
export HOME=$real_home
unset AWS_ENDPOINT_URL_STS AWSROLE_CACHE_NAMESPACE

# --- reproducible packaging ------------------------------------------------------------
cp "$out/SHA256SUMS" "$work/SHA256SUMS.first"
bash dist/build.sh 2>"$work/again.err" || { cat "$work/again.err" >&2; fail "dist/build.sh failed the second time"; }
cmp -s "$out/SHA256SUMS" "$work/SHA256SUMS.first" ||
    fail "building again from the same commit gave other archives: $(diff "$work/SHA256SUMS.first" "$out/SHA256SUMS")"
say "dist/build.sh again: the same bytes (cargo had nothing to rebuild)"

# --- package manager files -------------------------------------------------------------
ruby -c "$out/awsrole.rb" >/dev/null || fail "awsrole.rb is not valid Ruby"
python3 -m json.tool "$out/awsrole.json" >/dev/null || fail "awsrole.json is not valid JSON"
while read -r hash file; do
    case $file in
        *windows*) python3 - "$out/awsrole.json" "$hash" "$file" <<'PY' || fail "awsrole.json does not carry $file's hash"
import json, sys
m = json.load(open(sys.argv[1]))["architecture"]["64bit"]
assert m["hash"] == sys.argv[2] and m["url"].endswith("/" + sys.argv[3]), m
PY
            ;;
        *) grep -A1 -F "/$file\"" "$out/awsrole.rb" | grep -qF "sha256 \"$hash\"" || fail "awsrole.rb does not carry $file's hash" ;;
    esac
done <"$out/SHA256SUMS"
grep -qF "version \"$version\"" "$out/awsrole.rb" || fail "awsrole.rb does not name version $version"
say "awsrole.rb (ruby -c) and awsrole.json carry the archives' hashes"
# cargo binstall's templates (Cargo.toml), rendered as binstall does for each target it
# may run on: the archive must be one of the release's, holding the binary at bin-dir.
python3 - "$out" "$version" <<'PY' || fail "Cargo.toml's [package.metadata.binstall] does not match the archives"
import os, sys, tarfile, tomllib, zipfile
out, version = sys.argv[1:]
meta = tomllib.load(open("Cargo.toml", "rb"))["package"]["metadata"]["binstall"]
repo = "https://github.com/awsrole/awsrole"
prefix = f"{repo}/releases/download/v{version}/"
hosts = ["x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl",
         "aarch64-unknown-linux-gnu", "x86_64-pc-windows-gnu", "x86_64-pc-windows-msvc"]
for target in hosts:
    m = {k: v for k, v in meta.items() if k != "overrides"} | meta.get("overrides", {}).get(target, {})
    values = {"repo": repo, "version": version, "name": "awsrole", "target": target, "bin": "awsrole",
              "binary-ext": ".exe" if "windows" in target else ""}
    render = lambda t: t.replace("{ ", "{").replace(" }", "}").format_map(values)
    url, bin_dir, fmt = render(m["pkg-url"]), render(m["bin-dir"]), m["pkg-fmt"]
    assert url.startswith(prefix), (target, url)
    archive = os.path.join(out, url[len(prefix):])
    assert os.path.exists(archive), (target, "no archive", archive)
    if fmt == "zip":
        names = zipfile.ZipFile(archive).namelist()
    else:
        assert fmt == "tgz" and archive.endswith(".tar.gz"), (target, fmt, archive)
        names = tarfile.open(archive).getnames()
    assert bin_dir in names, (target, bin_dir, "not in", archive)
PY
say "cargo binstall's metadata names an archive holding the binary, for each of 6 host targets"

# --- install.sh ------------------------------------------------------------------------
url="file://$out"
SHELL=/bin/zsh bash -c 'sh dist/install.sh --from "$1" --version "$2" --prefix "$3"' _ "$url" "$version" "$work/prefix" \
    >"$work/install.out" 2>"$work/install.err" || fail "install.sh failed: $(cat "$work/install.err")"
[[ $("$work/prefix/bin/awsrole" --version) == "awsrole $version ($commit x86_64-unknown-linux-gnu)" ]] ||
    fail "install.sh installed no working awsrole into the prefix"
cmp -s "$work/prefix/bin/awsrole" "$x86" || fail "install.sh installed another binary than the archive's"
[[ -f $work/prefix/share/man/man1/awsrole.1 ]] || fail "install.sh installed no man page"
# shellcheck disable=SC2016
grep -qxF 'eval "$(awsrole init zsh)"' "$work/install.out" || fail "install.sh printed no zsh rc line: $(cat "$work/install.out")"
# The download base from the environment, bash's rc line, the latest release.
AWSROLE_DOWNLOAD_URL=$url SHELL=/bin/bash sh dist/install.sh --prefix "$work/prefix2" >"$work/install2.out" 2>/dev/null ||
    fail "install.sh with AWSROLE_DOWNLOAD_URL failed"
# shellcheck disable=SC2016
grep -qxF 'eval "$(awsrole init bash)"' "$work/install2.out" || fail "install.sh printed no bash rc line"
[[ -x $work/prefix2/bin/awsrole ]] || fail "install.sh with AWSROLE_DOWNLOAD_URL installed nothing"

# A tampered archive: one byte changed, the SHA256SUMS of the release kept.
cp -r "$out" "$work/tampered"
python3 - "$work/tampered/awsrole-$version-x86_64-unknown-linux-gnu.tar.gz" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x01
open(sys.argv[1], "wb").write(bytes(data))
PY
status=0
sh dist/install.sh --from "file://$work/tampered" --prefix "$work/prefix3" >/dev/null 2>"$work/tampered.err" || status=$?
((status != 0)) || fail "install.sh accepted a tampered archive"
grep -q "checksum mismatch for awsrole-$version-x86_64-unknown-linux-gnu.tar.gz" "$work/tampered.err" ||
    fail "install.sh refused the tampered archive without saying why: $(cat "$work/tampered.err")"
[[ ! -e $work/prefix3/bin/awsrole ]] || fail "install.sh installed the tampered archive's binary"
# A version the release does not have.
status=0
sh dist/install.sh --from "$url" --version 9.9.9 --prefix "$work/prefix4" >/dev/null 2>"$work/missing.err" || status=$?
if ((status == 0)) || ! grep -q "lists no archive for x86_64-unknown-linux-gnu of version 9.9.9" "$work/missing.err"; then
    fail "install.sh did not refuse a version the release lacks: $(cat "$work/missing.err")"
fi
say "install.sh: installs from file:// (--from and AWSROLE_DOWNLOAD_URL), prints the rc line, refuses a tampered archive"

# As a normal user, into its own ~/.local/bin (root only: it makes the user, as
# tests/as-user.sh does).
if [[ $(id -u) == 0 ]]; then
    user=awsrole-ci
    id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
    cp -r "$out" "$work/release" && cp dist/install.sh "$work/release/"
    chmod -R a+rX "$work/release"
    mkdir "$work/user-home" && chown "$user" "$work/user-home"
    runuser -u "$user" -- env -i HOME="$work/user-home" PATH=/usr/bin:/bin SHELL=/usr/bin/fish \
        sh "$work/release/install.sh" --from "file://$work/release" >"$work/user.out" 2>"$work/user.err" ||
        fail "install.sh failed as $user: $(cat "$work/user.err")"
    [[ $(stat -c %U "$work/user-home/.local/bin/awsrole") == "$user" ]] || fail "install.sh as $user: the binary is not the user's"
    runuser -u "$user" -- "$work/user-home/.local/bin/awsrole" --version >/dev/null || fail "the binary does not run as $user"
    grep -qxF 'awsrole init fish | source' "$work/user.out" || fail "install.sh as $user printed no fish rc line"
    grep -q "not on your PATH" "$work/user.err" || fail "install.sh did not say ~/.local/bin is not on PATH"
    say "install.sh as $user: into ~/.local/bin, fish's rc line, PATH advice"
fi
say "all checks passed"
