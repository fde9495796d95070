#!/bin/sh
# Installs awsrole's release binary for this machine, checked against the release's
# SHA256SUMS, without root:
#
#   curl -fsSL https://github.com/awsrole/awsrole/releases/latest/download/install.sh | sh
#   sh install.sh [--version V] [--prefix DIR] [--from URL]
#
#   --version V   that release (default: the latest)
#   --prefix DIR  installs DIR/bin/awsrole and DIR/share/man/man1/awsrole.1
#                 (default: ~/.local, so ~/.local/bin/awsrole)
#   --from URL    the directory holding the release's files (SHA256SUMS and the
#                 archives); also $AWSROLE_DOWNLOAD_URL. Default: the GitHub release.
#
# An archive whose SHA-256 is not the one SHA256SUMS lists is refused, and nothing is
# installed. POSIX sh, so `| sh` works wherever it is dash, bash or zsh.
set -eu

repo=https://github.com/awsrole/awsrole
version=
prefix=${HOME:?HOME is not set}/.local
from=${AWSROLE_DOWNLOAD_URL:-}

say() { printf 'awsrole install: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --version) [ $# -ge 2 ] || die "--version needs a value"; version=${2#v}; shift 2 ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --from) [ $# -ge 2 ] || die "--from needs a URL"; from=$2; shift 2 ;;
        -h | --help) sed -n '2,16p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done

if [ -z "$from" ]; then
    if [ -n "$version" ]; then from=$repo/releases/download/v$version; else from=$repo/releases/latest/download; fi
fi
from=${from%/}

case "$(uname -s) $(uname -m)" in
    "Linux x86_64" | "Linux amd64") target=x86_64-unknown-linux-gnu ;;
    "Linux aarch64" | "Linux arm64") target=aarch64-unknown-linux-musl ;;
    "Darwin arm64" | "Darwin aarch64") target=aarch64-apple-darwin ;;
    "Darwin x86_64") target=x86_64-apple-darwin ;;
    MINGW*" x86_64" | MSYS*" x86_64" | CYGWIN*" x86_64") target=x86_64-pc-windows-gnu ;;
    *) die "no release binary for $(uname -s) $(uname -m); build it with a Rust toolchain: cargo install awsrole" ;;
esac

command -v curl >/dev/null || die "curl is needed to download the release"
if command -v sha256sum >/dev/null; then
    sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null; then
    sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    die "sha256sum or shasum is needed to check the download"
fi
fetch() { # url file
    curl --proto '=https,file' --tlsv1.2 -fsSL -o "$2" "$1" || die "could not download $1"
}

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t awsrole)
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch "$from/SHA256SUMS" "$tmp/SHA256SUMS"
# The archive's name from SHA256SUMS: "HASH  awsrole-VERSION-TARGET.tar.gz" (or .zip).
line=$(awk -v t="$target" -v v="$version" '
    { f = $2; sub(/^\*/, "", f) }
    $1 ~ /^[0-9a-f]+$/ && length($1) == 64 && f ~ ("^awsrole-[^/]*-" t "\\.(tar\\.gz|zip)$") &&
        (v == "" || index(f, "awsrole-" v "-" t ".") == 1) { print $1 "  " f; exit }
' "$tmp/SHA256SUMS")
[ -n "$line" ] || die "$from/SHA256SUMS lists no archive for $target${version:+ of version $version}"
expected=${line%% *}
archive=${line##* }
archive=${archive#\*}
case $archive in */* | .*) die "SHA256SUMS names a strange file: $archive" ;; esac

say "downloading $from/$archive"
fetch "$from/$archive" "$tmp/$archive"
actual=$(sha256 "$tmp/$archive")
if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual. It was damaged or tampered with; nothing was installed."
fi

mkdir "$tmp/x"
case $archive in
    *.zip) command -v unzip >/dev/null || die "unzip is needed for $archive"; unzip -q "$tmp/$archive" -d "$tmp/x" ;;
    *) tar -xzf "$tmp/$archive" -C "$tmp/x" ;;
esac
dir=$tmp/x/${archive%.tar.gz}
dir=${dir%.zip}
exe=awsrole
[ "$target" = x86_64-pc-windows-gnu ] && exe=awsrole.exe
[ -f "$dir/$exe" ] || die "$archive holds no $exe"

mkdir -p "$prefix/bin" "$prefix/share/man/man1" 2>/dev/null || die "cannot create $prefix/bin: choose a directory you own with --prefix"
[ -w "$prefix/bin" ] || die "$prefix/bin is not writable: choose a directory you own with --prefix (no root needed)"
# Copied beside, then renamed over: a running awsrole keeps its file, a failed copy
# leaves the old one.
cp "$dir/$exe" "$prefix/bin/.$exe.new.$$"
chmod 755 "$prefix/bin/.$exe.new.$$"
mv -f "$prefix/bin/.$exe.new.$$" "$prefix/bin/$exe"
cp "$dir/man/awsrole.1" "$prefix/share/man/man1/awsrole.1" 2>/dev/null || true
installed=$("$prefix/bin/$exe" --version 2>/dev/null) || installed="awsrole (it does not run here: $("$prefix/bin/$exe" --version 2>&1 | head -n 1))"
say "installed $installed to $prefix/bin/$exe"

case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) say "$prefix/bin is not on your PATH: add it in your shell's rc file first" ;;
esac
# The lines as the user types them: nothing in them is expanded here.
# shellcheck disable=SC2016,SC2088
case $(basename "${SHELL:-sh}") in
    zsh) rc='~/.zshrc' line='eval "$(awsrole init zsh)"' ;;
    fish) rc='~/.config/fish/config.fish' line='awsrole init fish | source' ;;
    nu) rc='config.nu (after: mkdir ~/.config/awsrole; awsrole init nu | save -f ~/.config/awsrole/init.nu)'
        line='source ~/.config/awsrole/init.nu' ;;
    *) rc='~/.bashrc' line='eval "$(awsrole init bash)"' ;;
esac
say "for the shell integration, add this line to $rc and open a new shell:"
printf '%s\n' "$line"
