#!/usr/bin/env bash
# The main job on a fresh machine, without an AWS account: builds awsrole, starts a
# local STS (moto) on loopback, creates the seed scenario's five-role chain
# (User1 -> RoleA with MFA -> RoleB -> ... -> RoleE) and resolves it.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if ! python3 -c 'import moto, boto3' 2>/dev/null; then
    # Into a virtual environment: Debian's own Python refuses pip (PEP 668).
    say "installing the local STS into ${AWSROLE_VENV}: pip install 'moto[server]' boto3"
    [[ -x $AWSROLE_VENV/bin/python3 ]] || python3 -m venv "$AWSROLE_VENV"
    "$AWSROLE_VENV/bin/python3" -m pip install -q 'moto[server]' boto3
    source tests/support/venv.sh
fi

say "cargo build --release"
cargo build --release -q
awsrole="$PWD/target/release/awsrole"

work=$(mktemp -d)
# The moto server lives until this script closes its stdin.
coproc MOTO { exec python3 tests/support/moto_server.py --until-stdin-closes; }
trap 'exec {MOTO[1]}>&-; wait "$MOTO_PID" 2>/dev/null; rm -rf "$work"' EXIT
read -r port <&"${MOTO[0]}"
endpoint="http://127.0.0.1:${port}"

export HOME="$work" AWS_ENDPOINT_URL_STS="$endpoint" AWSROLE_CACHE_NAMESPACE="demo$$"
python3 tests/support/seed_home.py --endpoint "$endpoint" --prefix demo --home "$HOME" >/dev/null

say "~/.aws/config (the seed scenario, against a local STS at $endpoint)"
cat "$HOME/.aws/config"

say "awsrole list"
"$awsrole" list

say "awsrole explain role-e   (no network call)"
"$awsrole" explain role-e

say "awsrole export role-e --mfa-code 123456   (cold: one MFA session, five AssumeRole calls)"
"$awsrole" export role-e --mfa-code 123456 | sed -E 's/(SECRET_ACCESS_KEY|SESSION_TOKEN)=.*/\1=<redacted for the demo>/'

say "awsrole exec role-e -- aws sts get-caller-identity"
if command -v aws >/dev/null; then
    "$awsrole" exec role-e -- aws sts get-caller-identity --endpoint-url "$endpoint" --output text --query Arn
else
    "$awsrole" exec role-e -- python3 tests/support/caller.py "$endpoint"
fi

say "awsrole export role-c   (warm: from the keyring cache, no STS call, no MFA code)"
time "$awsrole" export role-c --format json >/dev/null

say "awsrole cache list"
"$awsrole" cache list
"$awsrole" cache clear
