#!/usr/bin/env bash
# Side-by-side benchmark of awsrole against the tools users would otherwise pick, on
# this machine in one run, against a local STS (moto) holding the seed's five-role
# chain. Prints a Markdown table of medians and ratios, STS calls per case, the
# release binary's size and the hook's peak RSS.
#
#   bench/run.sh           full run (hyperfine, >= 40 runs a case)
#   bench/run.sh --quick   a few runs a case (CI: fails on errors, never on timings)
#
# Needs: hyperfine, direnv (apt); awscli, awsume, moto[server] (pip); .ci/install.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh

quick=0
[[ ${1:-} == --quick ]] && quick=1
if ((quick)); then runs=(--warmup 1 --runs 3); else runs=(--warmup 5 --min-runs 40); fi

# The recommended Linux build: a static PIE (see README), so no dynamic loader runs on
# every prompt. Elsewhere the ordinary release build.
if [[ $(uname -sm) == "Linux x86_64" ]]; then
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -q --target x86_64-unknown-linux-gnu
    awsrole="$PWD/target/x86_64-unknown-linux-gnu/release/awsrole"
else
    cargo build --release -q
    awsrole="$PWD/target/release/awsrole"
fi
support="$PWD/tests/support"
work=$(mktemp -d)
results="$work/results"
mkdir -p "$results"

# Each daemon serves until its stdin (a FIFO this script holds open) closes.
start_daemon() { # name script [args…] -> prints the daemon's first line
    mkfifo "$work/$1.in"
    python3 "$support/$2" --until-stdin-closes "${@:3}" <"$work/$1.in" >"$work/$1.out" &
    exec {fd}>"$work/$1.in"
    daemon_fds+=("$fd")
    for _ in $(seq 600); do [[ -s "$work/$1.out" ]] && break; sleep 0.1; done
    [[ -s "$work/$1.out" ]] || { echo "bench: $2 did not start within 60 s" >&2; exit 1; }
    head -1 "$work/$1.out"
}
daemon_fds=()
cleanup() {
    for fd in "${daemon_fds[@]}"; do exec {fd}>&-; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# moto without the tests' signature-checking front: the benchmark times clients, and
# its moto floor sends unsigned requests.
start_daemon moto moto_server.py --unchecked >"$work/port"
start_daemon secrets secret_service.py >"$work/bus" 2>/dev/null
port=$(<"$work/port")
bus=$(<"$work/bus")
endpoint="http://127.0.0.1:${port}"
recorder() { curl -s -X POST "$endpoint/moto-api/recorder/$1" >/dev/null; }

export HOME="$work/home" AWS_ENDPOINT_URL_STS="$endpoint" AWSROLE_CACHE_NAMESPACE="bench$$"
export XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config" XDG_CACHE_HOME="$HOME/.cache"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE DIRENV_DIFF DIRENV_DIR DIRENV_WATCHES
mkdir -p "$HOME"
python3 "$support/seed_home.py" --endpoint "$endpoint" --prefix bench --home "$HOME" --no-mfa-config >/dev/null
# The recorder writes every request to a file; it runs only while calls are counted.
recorder stop-recording

bench() { # name, then hyperfine arguments
    local name=$1
    shift
    local output=(--style none)
    [[ -n ${BENCH_DEBUG:-} ]] && output=(--show-output)
    hyperfine -N "${runs[@]}" "${output[@]}" --export-json "$results/$name.json" "$@" >/dev/null
}

sts_calls() { # runs a command once and counts the STS calls it made
    recorder reset-recording
    recorder start-recording
    "$@" >/dev/null 2>&1
    recorder stop-recording
    python3 "$support/sts_calls.py" "$endpoint" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

echo "awsrole benchmark: $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr), hyperfine $(hyperfine --version | cut -d' ' -f2)" >&2

# 1. The hook with nothing to do: no .awsrole (no .envrc) above a 6-deep directory.
idle="$HOME/w/a/b/c/d/e/f"
mkdir -p "$idle"
cd "$idle"
bench hook-idle -n "awsrole hook bash" "$awsrole hook bash" -n "direnv export bash" "direnv export bash" -n "/bin/true" "/bin/true"

# 2. The hook in its steady state: inside an allowed .awsrole that is applied (and an
#    allowed .envrc that direnv has applied), 5 levels below it.
proj="$HOME/proj"
mkdir -p "$proj/1/2/3/4/5"
echo role-e >"$proj/.awsrole"
echo 'export FOO=bar' >"$proj/.envrc"
"$awsrole" export role-e --mfa-code 123456 >/dev/null
"$awsrole" allow "$proj" 2>/dev/null
direnv allow "$proj" 2>/dev/null
cd "$proj/1/2/3/4/5"
eval "$("$awsrole" hook bash)"
eval "$(direnv export bash 2>/dev/null)"
[[ ${AWSROLE_PROFILE:-} == role-e ]] || { echo "the .awsrole was not applied" >&2; exit 1; }
bench hook-steady -n "awsrole hook bash" "$awsrole hook bash" -n "direnv export bash" "direnv export bash" -n "/bin/true" "/bin/true"
peak_rss=$(/usr/bin/time -f %M "$awsrole" hook bash 2>&1 >/dev/null | tail -1)
true_rss=$(/usr/bin/time -f %M /bin/true 2>&1 | tail -1)
eval "$("$awsrole" unuse --shell bash)" 2>/dev/null || true
unset AWSROLE_STATE AWSROLE_DIFF AWSROLE_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
cd "$HOME"

# 3. A warm switch to role-e: from the kernel keyring, from the Secret Service, and
#    awsume (which caches its MFA session but assumes the five roles again).
export DBUS_SESSION_BUS_ADDRESS="$bus"
AWSROLE_KEYRING=secret-service "$awsrole" export role-e --mfa-code 123456 >/dev/null
awsumepy role-e --mfa-token 123456 >/dev/null 2>&1
bench warm-keyutils -n "awsrole export role-e (kernel keyring)" "$awsrole export role-e" -n "/bin/true" "/bin/true"
AWSROLE_KEYRING=secret-service bench warm-secret-service -n "awsrole export role-e (Secret Service)" "$awsrole export role-e"
bench warm-awsume -n "awsumepy role-e (warm)" "awsumepy role-e"
calls_warm=$(sts_calls "$awsrole" export role-e)
calls_awsume_warm=$(sts_calls awsumepy role-e)

# 4. A cold five-hop chain: cache cleared, MFA code given. The AWS CLI cannot take a
#    code without a terminal, so it resolves the same chain without mfa_serial (one
#    call fewer) and then makes its one GetCallerIdentity.
bench cold-awsrole --prepare "$awsrole cache clear" -n "awsrole export role-e (cold)" "$awsrole export role-e --mfa-code 123456"
bench cold-cli --prepare "rm -rf $HOME/.aws/cli/cache" -n "aws sts get-caller-identity --profile role-e (cold)" \
    "env AWS_CONFIG_FILE=$HOME/.aws/config-no-mfa aws sts get-caller-identity --profile role-e --region ap-northeast-1 --endpoint-url $endpoint"
bench cold-awsume --prepare "rm -rf $HOME/.awsume/cache" -n "awsumepy role-e (cold)" "awsumepy role-e --mfa-token 123456"
calls_cold=$(sts_calls sh -c "'$awsrole' cache clear; '$awsrole' export role-e --mfa-code 123456")
calls_cli=$(sts_calls sh -c "rm -rf $HOME/.aws/cli/cache; AWS_CONFIG_FILE=$HOME/.aws/config-no-mfa aws sts get-caller-identity --profile role-e --region ap-northeast-1 --endpoint-url $endpoint")
calls_awsume_cold=$(sts_calls sh -c "rm -rf $HOME/.awsume/cache; awsumepy role-e --mfa-token 123456")
# moto's own time for the cold chain's six calls, on one keep-alive connection: the
# part of every cold case that no client can remove.
moto_floor=$(python3 - "$port" <<'PY'
import http.client, statistics, sys, time
headers = {"Content-Type": "application/x-www-form-urlencoded",
           "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"}
def six():
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
    t = time.perf_counter()
    c.request("POST", "/", "Action=GetSessionToken&Version=2011-06-15", headers)
    c.getresponse().read()
    for i in range(5):
        c.request("POST", "/", f"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/R{i}&RoleSessionName=floor", headers)
        c.getresponse().read()
    return (time.perf_counter() - t) * 1000
print(f"{statistics.median(six() for _ in range(30)):.1f}")
PY
)
"$awsrole" cache clear 2>/dev/null

# 5. The credential endpoint of `exec --server`: the time a client waits for an answer
#    (a fresh loopback connection each, as an SDK's container provider makes).
endpoint_ms=$("$awsrole" exec --server role-e --mfa-code 123456 -- python3 - <<'PY'
import os, statistics, time, urllib.request
req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                             headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
samples = []
for _ in range(200):
    t = time.perf_counter()
    urllib.request.urlopen(req).read()
    samples.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(samples):.2f}")
PY
)
"$awsrole" cache clear 2>/dev/null

# 6. Parsing and planning are linear: a 1 MB config (4,000 chained profiles, one
#    section repeated between all the others), listed with every chain planned.
python3 - "$work/big-config" <<'PY'
import sys
parts = []
for i in range(4000):
    parts.append(f"[profile p{i}]\nrole_arn = arn:aws:iam::1:role/R{i}\nsource_profile = {'p' + str(i + 1) if (i + 1) % 50 else 'base'}\n")
    parts.append(f"[profile again]\nregion = r{i}\n")
parts.append("[profile base]\naws_access_key_id = AKIDBIG\naws_secret_access_key = s\n")
text = "".join(parts)
while len(text) < 1_000_000:
    text += "[profile again]\nregion = padding\n"
open(sys.argv[1], "w").write(text)
PY
AWS_CONFIG_FILE="$work/big-config" bench big-config -n "awsrole list (1 MB config)" "$awsrole list"

python3 - "$results" <<EOF
import json, os, sys
results = sys.argv[1]
def load(name):
    with open(os.path.join(results, name + ".json")) as f:
        return {r["command"]: r["median"] * 1000 for r in json.load(f)["results"]}
idle, steady = load("hook-idle"), load("hook-steady")
ku, ss, aw = load("warm-keyutils"), load("warm-secret-service"), load("warm-awsume")
ca, cli, caw = load("cold-awsrole"), load("cold-cli"), load("cold-awsume")
big = load("big-config")["awsrole list (1 MB config)"]
true_ms = idle["/bin/true"]
rows = [
    ("hook, nothing to do", "awsrole hook bash", idle["awsrole hook bash"], f'{idle["awsrole hook bash"] / idle["direnv export bash"]:.2f}× direnv export bash ({idle["direnv export bash"]:.2f} ms)', "0"),
    ("hook, steady state in an applied .awsrole", "awsrole hook bash", steady["awsrole hook bash"], f'{steady["awsrole hook bash"] / steady["direnv export bash"]:.2f}× direnv export bash ({steady["direnv export bash"]:.2f} ms)', "0"),
    ("warm switch, kernel keyring", "awsrole export role-e", ku["awsrole export role-e (kernel keyring)"], f'{ku["awsrole export role-e (kernel keyring)"] / aw["awsumepy role-e (warm)"]:.4f}× awsume ({aw["awsumepy role-e (warm)"]:.0f} ms, ${calls_awsume_warm} STS calls)', "${calls_warm}"),
    ("warm switch, Secret Service", "awsrole export role-e", ss["awsrole export role-e (Secret Service)"], f'{ss["awsrole export role-e (Secret Service)"] / aw["awsumepy role-e (warm)"]:.4f}× awsume', "${calls_warm}"),
    ("cold five-hop chain, MFA code given", "awsrole export role-e", ca["awsrole export role-e (cold)"], f'{ca["awsrole export role-e (cold)"] / cli["aws sts get-caller-identity --profile role-e (cold)"]:.3f}× AWS CLI ({cli["aws sts get-caller-identity --profile role-e (cold)"]:.0f} ms, ${calls_cli} calls); {ca["awsrole export role-e (cold)"] / caw["awsumepy role-e (cold)"]:.3f}× awsume ({caw["awsumepy role-e (cold)"]:.0f} ms, ${calls_awsume_cold} calls)', "${calls_cold}"),
]
print("| case | awsrole | median | × /bin/true | against the peer | STS calls |")
print("|---|---|---:|---:|---|---:|")
for case, cmd, ms, peer, calls in rows:
    print(f"| {case} | \`{cmd}\` | {ms:.2f} ms | {ms / true_ms:.1f}× | {peer} | {calls} |")
print()
cold = ca["awsrole export role-e (cold)"]
print(f"moto's own time for the cold chain's six calls: ${moto_floor} ms, so awsrole's own share of its cold case is {cold - ${moto_floor}:.1f} ms.")
print(f"The exec --server endpoint answers in ${endpoint_ms} ms (median of 200 GETs over fresh loopback connections, urllib).")
print(f"Parsing a 1 MB config and planning its 4,000 chains (\`awsrole list\`): {big:.1f} ms.")
print(f"/bin/true: {true_ms:.2f} ms median. Release binary: {os.path.getsize('$awsrole') / 1e6:.1f} MB. Peak RSS of the hook: ${peak_rss} KB (/bin/true: ${true_rss} KB, same method).")
EOF
