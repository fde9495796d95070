#!/usr/bin/env bash
# The non-root tier: the keyring, key store, trust, lock and shell tests run a second time as a
# freshly made normal user. Real users are not root: the kernel gives a normal user a
# keyring quota of 20,000 bytes (root's is 25 MB, so eviction never happens as root),
# and the checks that refuse files and directories of other users only mean something
# for a user who cannot write everywhere.
#
# Run as root after `cargo test` built the test binaries (tests/all.sh does both). It
# makes the user `awsrole-ci` if missing, the fixtures only root can make (a `.awsrole`
# and a lock directory owned by another user: root, to that user), and runs the test
# binaries as that user with a clean environment. Each test still makes its own temp
# HOME, moto and cache namespace, and removes what it cached.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh
user=awsrole-ci
say() { echo "as-user: $*" >&2; }

[[ $(id -u) == 0 ]] || { say "run this as root: it makes the user $user"; exit 1; }
id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
home=$(getent passwd "$user" | cut -d: -f6)

# The quota that makes eviction happen: the kernel's default for normal users.
maxbytes=$(cat /proc/sys/kernel/keys/maxbytes)
((maxbytes <= 20000)) || { say "kernel.keys.maxbytes is $maxbytes; this tier wants the default 20000 or less"; exit 1; }

# The checkout, its build and its virtual environment must be readable by the user:
# give it search permission (only that, by ACL) on any directory above that lacks it.
dir=$PWD
while [[ $dir != / ]]; do
    if ! runuser -u "$user" -- test -x "$dir"; then
        say "granting $user search permission on $dir (ACL u:$user:x)"
        setfacl -m "u:$user:x" "$dir"
    fi
    dir=$(dirname "$dir")
done

fixtures=$(mktemp -d /tmp/awsrole-as-user.XXXXXX)
trap 'rm -rf "$fixtures"' EXIT
chmod 755 "$fixtures"
mkdir -p "$fixtures/runtime/awsrole"
printf 'role-b\n' >"$fixtures/foreign.awsrole"
chmod 644 "$fixtures/foreign.awsrole"

# The test binaries cargo built, by name.
mapfile -t binaries < <(
    cargo test --no-run --message-format=json --test cache --test keystores --test shells --test hostile --test nushell 2>/dev/null |
        python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])'
)
((${#binaries[@]} == 5)) || { say "expected 5 test binaries, cargo gave: ${binaries[*]}"; exit 1; }

failed=0
for binary in "${binaries[@]}"; do
    say "$(basename "$binary") as $user"
    runuser -u "$user" -- env -i \
        HOME="$home" USER="$user" LOGNAME="$user" PATH="$PATH" TERM=dumb CI="${CI:-}" \
        AWSROLE_TEST_FOREIGN_AWSROLE="$fixtures/foreign.awsrole" \
        AWSROLE_TEST_FOREIGN_LOCK_DIR="$fixtures/runtime/awsrole" \
        "$binary" || failed=1
done
# Nothing of the tests stays in the user's kernel keyring. A purged key is listed in
# /proc/keys until the kernel's key collector has run (a few seconds later): the
# count is taken again for up to 15 s before anything is called left behind.
for _ in $(seq 15); do
    left=$(runuser -u "$user" -- sh -c 'grep -c "awsrole:" /proc/keys || true')
    ((left == 0)) && break
    sleep 1
done
if ((left != 0)); then
    say "$left awsrole entries stayed in $user's kernel keyring:"
    runuser -u "$user" -- sh -c 'grep "awsrole:" /proc/keys' >&2 || true
    failed=1
fi
((failed == 0)) && say "all ${#binaries[@]} test binaries passed as $user"
exit "$failed"
