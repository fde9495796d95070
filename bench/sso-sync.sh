#!/usr/bin/env bash
# IAM Identity Center at organisation scale: `awsrole sso sync` against the local portal
# (tests/support/sso_fake.py) listing 500 accounts with 3 roles each. Prints one line:
# a full sync (1,500 profiles written into a config without them) and a repeat with
# nothing changed (the portal listed again, nothing written), each as the wall-clock
# median and awsrole's own CPU time (user + system, mean) over hyperfine's runs. The
# wall time is mostly the portal's (a single Python process answering 505 calls).
#
#   bench/sso-sync.sh [AWSROLE] [--quick]     (bench/run.sh runs it with its release build)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh
awsrole=${1:-}
if [[ -z $awsrole || $awsrole == --quick ]]; then
    cargo build --release -q
    awsrole="$PWD/target/release/awsrole"
fi
if [[ " $* " == *" --quick "* ]]; then runs=(--warmup 1 --runs 3); else runs=(--warmup 2 --runs 10); fi

work=$(mktemp -d)
# Listing never reaches moto (only GetRoleCredentials would): any URL does.
mkfifo "$work/fake.in"
python3 tests/support/sso_fake.py --until-stdin-closes http://127.0.0.1:9 <"$work/fake.in" >"$work/fake.out" 2>/dev/null &
exec {fake_fd}>"$work/fake.in"
trap 'exec {fake_fd}>&-; wait 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [[ -s $work/fake.out ]] && break; sleep 0.1; done
portal="http://127.0.0.1:$(head -1 "$work/fake.out")"

export HOME="$work/home" AWSROLE_KEYRING=none AWS_ENDPOINT_URL_SSO="$portal" AWS_ENDPOINT_URL_SSO_OIDC="$portal"
unset AWS_CONFIG_FILE AWS_PROFILE
mkdir -p "$HOME/.aws/sso/cache"
curl -sf -X POST -d '{"org": {"accounts": 500, "roles": 3}}' "$portal/control" >/dev/null
# A token as `aws sso login` leaves it, for the session `corp`.
curl -sf -X POST -d '{"start_url": "https://bench.awsapps.com/start", "region": "eu-west-1", "expires_in": 36000}' "$portal/issue" \
    >"$HOME/.aws/sso/cache/$(printf corp | sha1sum | cut -d' ' -f1).json"
printf '[sso-session corp]\nsso_start_url = https://bench.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n' >"$work/config"

hyperfine -N "${runs[@]}" --export-json "$work/full.json" \
    --prepare "cp $work/config $HOME/.aws/config" -n full "$awsrole sso sync" >/dev/null 2>&1
"$awsrole" sso sync 2>/dev/null
[[ $(grep -c '^\[profile ' "$HOME/.aws/config") == 1500 ]] || { echo "bench: sso sync did not write 1,500 profiles" >&2; exit 1; }
hyperfine -N "${runs[@]}" --export-json "$work/repeat.json" -n repeat "$awsrole sso sync" >/dev/null 2>&1
"$awsrole" sso sync 2>&1 | grep -q "nothing to write" || { echo "bench: the repeat wrote the config" >&2; exit 1; }

python3 - "$work" <<'EOF'
import json, os, sys
def load(name):
    r = json.load(open(os.path.join(sys.argv[1], name + ".json")))["results"][0]
    return r["median"] * 1000, (r["user"] + r["system"]) * 1000
full, full_cpu = load("full")
same, same_cpu = load("repeat")
print(f"`awsrole sso sync`, 500 accounts × 3 roles against the local portal (505 listing calls): "
      f"full sync {full:.0f} ms (awsrole's own CPU {full_cpu:.0f} ms), repeat with nothing changed "
      f"{same:.0f} ms (awsrole's own CPU {same_cpu:.0f} ms, nothing written).")
EOF
