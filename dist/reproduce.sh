#!/usr/bin/env bash
# Are the release's bytes a function of the commit alone? Builds it twice, in two fresh
# clones at different paths (so different checkout and target directories), and
# compares every file of the two target/dist/ byte for byte.
#
#   bash dist/reproduce.sh [COMMIT]     (default HEAD)
#   AWSROLE_DIST_TARGETS=x86_64-unknown-linux-gnu bash dist/reproduce.sh    one target
#
# Not in CI: two full release builds of three targets (about 15 minutes on 2 cores and
# 5 GB of disk). CI checks the cheaper part (dist/check.sh: no local path in the
# binaries, a second dist/build.sh giving the same archives).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "reproduce: $*" >&2; }
commit=$(git rev-parse "${1:-HEAD}^{commit}")
[[ -x .venv/bin/python3 ]] && export AWSROLE_VENV=${AWSROLE_VENV:-$PWD/.venv}
work=$(mktemp -d /tmp/awsrole-reproduce.XXXXXX)
trap 'rm -rf "$work"' EXIT
sides=("$work/one/awsrole" "$work/two/a/longer/path/awsrole")
for dir in "${sides[@]}"; do
    mkdir -p "$(dirname "$dir")"
    git clone -q --no-local . "$dir"
    git -C "$dir" checkout -q --detach "$commit"
    say "building $commit in $dir"
    start=$SECONDS
    bash "$dir/dist/build.sh" 2>"$dir.log" || { cat "$dir.log" >&2; exit 1; }
    say "built in $((SECONDS - start)) s"
done
one=${sides[0]}/target/dist two=${sides[1]}/target/dist
same=0 differ=0
while read -r file; do
    if cmp -s "$one/$file" "$two/$file"; then
        same=$((same + 1))
    else
        differ=$((differ + 1))
        say "DIFFERS: $file ($(cmp -l "$one/$file" "$two/$file" 2>/dev/null | wc -l) bytes)"
    fi
done < <(cd "$one" && find . -type f | LC_ALL=C sort)
diff <(cd "$one" && find . -type f | LC_ALL=C sort) <(cd "$two" && find . -type f | LC_ALL=C sort) >&2 ||
    { say "the two builds made different files"; exit 1; }
# The binaries themselves, not only the archives.
for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-musl x86_64-pc-windows-gnu; do
    exe=awsrole
    [[ $target == *windows* ]] && exe=awsrole.exe
    a=${sides[0]}/target/dist-build/$target/$target/release/$exe
    b=${sides[1]}/target/dist-build/$target/$target/release/$exe
    [[ -e $a || -e $b ]] || continue # not built (AWSROLE_DIST_TARGETS)
    cmp -s "$a" "$b" || say "the $target binaries differ"
done
((differ == 0)) || { say "$differ of $((same + differ)) files differ"; exit 1; }
say "all $same files of target/dist are identical: $(cd "$one" && sha256sum SHA256SUMS)"
