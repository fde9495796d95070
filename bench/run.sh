#!/usr/bin/env bash
# Side-by-side benchmark of awsrole against the tools users would otherwise pick, on
# this machine in one run, against a local STS (moto) holding the seed's five-role
# chain: the AWS CLI, awsume, aws-vault and granted for switching roles, direnv and mise
# for the per-prompt hook. Prints a Markdown table of awsrole's medians and ratios, one
# of every tool side by side, STS calls per case, the release binary's size and the
# hook's peak RSS, and `sso sync` of a 500-account organisation. Every peer is
# configured for real and its STS calls are counted; a peer that fails fails the run.
#
#   bench/run.sh           full run (hyperfine, >= 40 runs a case)
#   bench/run.sh --quick   a few runs a case (CI: fails on errors, never on timings)
#
# Needs: hyperfine, direnv, openssl (apt); awscli, awsume, moto[server] (pip);
# .ci/install; aws-vault, granted (its assumego and assume) and mise: .ci/install-peers.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh

quick=0
[[ ${1:-} == --quick ]] && quick=1
if ((quick)); then runs=(--warmup 1 --runs 3); else runs=(--warmup 5 --min-runs 40); fi

# The recommended Linux build: a static PIE (see README), so no dynamic loader runs on
# every prompt: the release's own binary, built as dist/build.sh builds it (dist/env.sh),
# so after dist/check.sh (tests/all.sh runs it first) cargo has nothing to do.
# Elsewhere the ordinary release build.
if [[ $(uname -sm) == "Linux x86_64" ]]; then
    # shellcheck source=dist/env.sh
    source dist/env.sh
    dist_build x86_64-unknown-linux-gnu
    awsrole=$(dist_binary x86_64-unknown-linux-gnu)
else
    cargo build --release -q
    awsrole="$PWD/target/release/awsrole"
fi
support="$PWD/tests/support"
bench_dir="$PWD/bench"
# The peers .ci/install-peers puts on PATH at pinned versions.
for tool in aws-vault assumego assume mise; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing: run .ci/install-peers (as root)" >&2; exit 1; }
done
work=$(mktemp -d)
results="$work/results"
mkdir -p "$results"

# Each daemon serves until its stdin (a FIFO this script holds open) closes.
start_daemon() { # name script [args…] -> prints the daemon's first line
    mkfifo "$work/$1.in"
    local script=$2
    [[ $script == /* ]] || script="$support/$script"
    python3 "$script" --until-stdin-closes "${@:3}" <"$work/$1.in" >"$work/$1.out" &
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

# aws-vault 7.2.0 builds its STS client by hand (vault.NewAwsConfig): no
# AWS_ENDPOINT_URL_STS, no endpoint_url, only sts_regional_endpoints, so it always calls
# https://sts.<region>.amazonaws.com. It honours HTTPS_PROXY and SSL_CERT_FILE (Go's
# defaults), so it reaches the same moto through this front: a proxy on loopback that
# answers CONNECT, ends TLS with a certificate from a CA made here for this run, and
# relays the bytes to moto. Its cost per call is measured below and printed with the table.
mkdir "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=awsrole-bench-ca \
    -keyout "$work/tls/ca.key" -out "$work/tls/ca.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=sts.amazonaws.com \
    -CA "$work/tls/ca.pem" -CAkey "$work/tls/ca.key" -keyout "$work/tls/sts.key" -out "$work/tls/sts.pem" \
    -addext "subjectAltName=DNS:sts.amazonaws.com,DNS:sts.ap-northeast-1.amazonaws.com,DNS:sts.us-east-1.amazonaws.com" 2>/dev/null
cat >"$work/tls_front.py" <<'PY'
import socket, ssl, sys, threading
moto, cert, key = [a for a in sys.argv[1:] if a != "--until-stdin-closes"]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
def pump(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(client):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return client.close()
            head += chunk
        if not head.startswith(b"CONNECT "):
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return client.close()
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        tls = ctx.wrap_socket(client, server_side=True)
        upstream = socket.create_connection(("127.0.0.1", int(moto)))
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(upstream, tls), daemon=True).start()
        pump(tls, upstream)
    except OSError:
        client.close()
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
def accept():
    while True:
        client, _ = listener.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(client,), daemon=True).start()
threading.Thread(target=accept, daemon=True).start()
sys.stdin.read()
PY
start_daemon tls "$work/tls_front.py" "$port" "$work/tls/sts.pem" "$work/tls/sts.key" >"$work/front"
front=$(<"$work/front")
vault_env=(HTTPS_PROXY="http://127.0.0.1:$front" SSL_CERT_FILE="$work/tls/ca.pem")
vault() { env "${vault_env[@]}" aws-vault "$@"; }

export HOME="$work/home" AWS_ENDPOINT_URL_STS="$endpoint" AWSROLE_CACHE_NAMESPACE="bench$$"
export XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config" XDG_CACHE_HOME="$HOME/.cache"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE DIRENV_DIFF DIRENV_DIR DIRENV_WATCHES
mkdir -p "$HOME"
python3 "$support/seed_home.py" --endpoint "$endpoint" --prefix bench --home "$HOME" --no-mfa-config >/dev/null
# aws-vault: its encrypted-file keyring, User1's keys added to it from the environment
# (as `aws-vault add` does at a prompt); it reads the same ~/.aws/config.
export AWS_VAULT_BACKEND=file AWS_VAULT_FILE_PASSPHRASE=bench
AWS_ACCESS_KEY_ID=$(awk '/aws_access_key_id/ {print $3}' "$HOME/.aws/credentials") \
    AWS_SECRET_ACCESS_KEY=$(awk '/aws_secret_access_key/ {print $3}' "$HOME/.aws/credentials") \
    aws-vault add default --env >/dev/null
# granted: its own config (a browser chosen, so no first-run wizard; its encrypted-file
# keyring for the session cache), User1's keys from ~/.aws/credentials as in its docs,
# AWS_ENDPOINT_URL_STS honoured by the SDK it loads. GRANTED_ALIAS_CONFIGURED is what its
# assume script sets when sourced: assumego prints the line the script applies.
mkdir -p "$HOME/.granted"
printf 'DefaultBrowser = "STDOUT"\n\n[Keyring]\nBackend = "file"\n' >"$HOME/.granted/config"
export CF_KEYRING_FILE_PASSWORD=bench GRANTED_ALIAS_CONFIGURED=true
granted_cache="$HOME/.granted/secure-storage-aws-session-credentials"
# The recorder writes every request to a file; it runs only while calls are counted.
recorder stop-recording

bench() { # name, then hyperfine arguments
    local name=$1
    shift
    local output=(--style none)
    [[ -n ${BENCH_DEBUG:-} ]] && output=(--show-output)
    hyperfine -N "${runs[@]}" "${output[@]}" --export-json "$results/$name.json" "$@" >/dev/null
}

sts_calls() { # runs a command once and counts the STS calls it made; fails if it fails
    recorder reset-recording
    recorder start-recording
    "$@" >/dev/null 2>&1 || { recorder stop-recording; echo "bench: failed: $*" >&2; return 1; }
    recorder stop-recording
    python3 "$support/sts_calls.py" "$endpoint" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

echo "awsrole benchmark: $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr), hyperfine $(hyperfine --version | cut -d' ' -f2)" >&2

# 1. The hook with nothing to do: no .awsrole (no .envrc, no mise.toml) above a 6-deep
#    directory. mise's hook is what its `mise activate bash` runs at every prompt, after a
#    first run here has set its session variables, as the first prompt would.
idle="$HOME/w/a/b/c/d/e/f"
mkdir -p "$idle"
cd "$idle"
path_before_mise=$PATH
mise_hook="mise hook-env --shell-pid $$ -s bash --reason precmd"
eval "$($mise_hook)"
[[ -n ${__MISE_SESSION:-} && -z ${FOO_MISE:-} ]] || { echo "mise's hook did not run" >&2; exit 1; }
bench hook-idle -n "awsrole hook bash" "$awsrole hook bash" -n "direnv export bash" "direnv export bash" \
    -n "mise hook-env -s bash" "$mise_hook" -n "/bin/true" "/bin/true"

# 2. The hook in its steady state: inside an allowed .awsrole that is applied (and an
#    allowed .envrc that direnv has applied, a trusted mise.toml whose [env] mise has
#    applied), 5 levels below it.
proj="$HOME/proj"
mkdir -p "$proj/1/2/3/4/5"
echo role-e >"$proj/.awsrole"
echo 'export FOO=bar' >"$proj/.envrc"
printf '[env]\nFOO_MISE = "bar"\n' >"$proj/mise.toml"
"$awsrole" export role-e --mfa-code 123456 >/dev/null
"$awsrole" allow "$proj" 2>/dev/null
direnv allow "$proj" 2>/dev/null
mise trust "$proj/mise.toml" 2>/dev/null
cd "$proj/1/2/3/4/5"
eval "$("$awsrole" hook bash)"
eval "$(direnv export bash 2>/dev/null)"
eval "$(mise hook-env --shell-pid $$ -s bash --reason chpwd)"
[[ ${AWSROLE_PROFILE:-} == role-e ]] || { echo "the .awsrole was not applied" >&2; exit 1; }
[[ ${FOO:-} == bar ]] || { echo "the .envrc was not applied" >&2; exit 1; }
[[ ${FOO_MISE:-} == bar ]] || { echo "the mise.toml was not applied" >&2; exit 1; }
bench hook-steady -n "awsrole hook bash" "$awsrole hook bash" -n "direnv export bash" "direnv export bash" \
    -n "mise hook-env -s bash" "$mise_hook" -n "/bin/true" "/bin/true"
peak_rss=$(/usr/bin/time -f %M "$awsrole" hook bash 2>&1 >/dev/null | tail -1)
true_rss=$(/usr/bin/time -f %M /bin/true 2>&1 | tail -1)
eval "$("$awsrole" unuse --shell bash)" 2>/dev/null || true
unset AWSROLE_STATE AWSROLE_DIFF AWSROLE_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
unset FOO FOO_MISE __MISE_SESSION __MISE_DIFF
PATH=$path_before_mise
cd "$HOME"

# 3. A warm switch to role-e: from the kernel keyring, from the Secret Service; awsume
#    (which caches its MFA session but assumes the five roles again); aws-vault (which
#    caches the one hop that used MFA, role-a's, and assumes the four after it again);
#    granted's assumego (which caches role-e's credentials).
export DBUS_SESSION_BUS_ADDRESS="$bus"
AWSROLE_KEYRING=secret-service "$awsrole" export role-e --mfa-code 123456 >/dev/null
awsumepy role-e --mfa-token 123456 >/dev/null 2>&1
vault export role-e --mfa-token 123456 >/dev/null
assumego role-e --mfa-token 123456 >/dev/null 2>&1
bench warm-keyutils -n "awsrole export role-e (kernel keyring)" "$awsrole export role-e" -n "/bin/true" "/bin/true"
AWSROLE_KEYRING=secret-service bench warm-secret-service -n "awsrole export role-e (Secret Service)" "$awsrole export role-e"
bench warm-awsume -n "awsumepy role-e (warm)" "awsumepy role-e"
(export "${vault_env[@]}"; bench warm-aws-vault -n "aws-vault export role-e (warm)" "aws-vault export role-e")
bench warm-granted -n "assumego role-e (warm)" "assumego role-e"
calls_warm=$(sts_calls "$awsrole" export role-e)
calls_awsume_warm=$(sts_calls awsumepy role-e)
calls_vault_warm=$(sts_calls vault export role-e)
calls_granted_warm=$(sts_calls assumego role-e)

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
# aws-vault and granted take the code on the command line; both assume role-a with it.
(export "${vault_env[@]}"; bench cold-aws-vault --prepare "aws-vault clear" -n "aws-vault export role-e (cold)" \
    "aws-vault export role-e --mfa-token 123456")
bench cold-granted --prepare "rm -rf $granted_cache" -n "assumego role-e (cold)" "assumego role-e --mfa-token 123456"
vault clear >/dev/null
calls_vault_cold=$(sts_calls vault export role-e --mfa-token 123456)
rm -rf "$granted_cache"
calls_granted_cold=$(sts_calls assumego role-e --mfa-token 123456)
# A cold five-hop chain takes at least one call a hop: fewer means a tool did not do
# the work (a cache this script failed to clear, an endpoint not reached).
for calls in "$calls_cold" "$calls_cli" "$calls_awsume_cold" "$calls_vault_cold" "$calls_granted_cold"; do
    ((calls >= 5)) || { echo "bench: a cold chain made only $calls STS calls" >&2; exit 1; }
done
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
# What aws-vault's front costs a call: the same call on a fresh connection each (as
# aws-vault's one STS client a hop makes), through the front and straight to moto.
front_ms=$(python3 - "$port" "$front" "$work/tls/ca.pem" <<'PY'
import http.client, ssl, statistics, sys, time
port, front, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
headers = {"Content-Type": "application/x-www-form-urlencoded",
           "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/ap-northeast-1/sts/aws4_request, SignedHeaders=host, Signature=0"}
def direct():
    return http.client.HTTPConnection("127.0.0.1", port)
def fronted():
    c = http.client.HTTPSConnection("127.0.0.1", front, context=ctx)
    c.set_tunnel("sts.ap-northeast-1.amazonaws.com", 443)
    return c
def call(connect):
    t = time.perf_counter()
    c = connect()
    c.request("POST", "/", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/R&RoleSessionName=front", headers)
    c.getresponse().read()
    c.close()
    return (time.perf_counter() - t) * 1000
print(f"{statistics.median(call(fronted) for _ in range(60)) - statistics.median(call(direct) for _ in range(60)):.1f}")
PY
)
"$awsrole" cache clear 2>/dev/null

# 5. An `exec` round trip, warm: credentials from the cache into a command's
#    environment, the command run, its status back. awsrole and aws-vault exec the command;
#    granted's is its assume script (assumego prints the credentials and the command, the
#    script runs it with `sh -c`). First each must hand the command role-e's credentials.
"$awsrole" export role-e --mfa-code 123456 >/dev/null
vault export role-e --mfa-token 123456 >/dev/null
assumego role-e --mfa-token 123456 >/dev/null 2>&1
caller=(python3 "$support/caller.py" "$endpoint")
for who in "$("$awsrole" exec role-e -- "${caller[@]}")" "$(vault exec role-e -- "${caller[@]}")" \
    "$(assume role-e --exec "${caller[*]}" 2>/dev/null)"; do
    [[ $who == *:assumed-role/benchRoleE/* ]] || { echo "bench: an exec ran as '$who', not role-e" >&2; exit 1; }
done
bench exec-awsrole -n "awsrole exec role-e -- /bin/true" "$awsrole exec role-e -- /bin/true"
(export "${vault_env[@]}"; bench exec-aws-vault -n "aws-vault exec role-e -- /bin/true" "aws-vault exec role-e -- /bin/true")
bench exec-granted -n "assume role-e --exec /bin/true" "assume role-e --exec /bin/true"
calls_exec=$(sts_calls "$awsrole" exec role-e -- /bin/true)
calls_vault_exec=$(sts_calls vault exec role-e -- /bin/true)
calls_granted_exec=$(sts_calls assume role-e --exec /bin/true)
"$awsrole" cache clear 2>/dev/null

# 6. The credential endpoint of `exec --server`: the time a client waits for an answer
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

# 7. Parsing and planning are linear: a 1 MB config (4,000 chained profiles, one
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

# 8. IAM Identity Center at organisation scale: `sso sync` of 500 accounts × 3 roles from
#    the local portal, full and repeated with nothing changed (bench/sso-sync.sh).
quick_flag=()
((quick)) && quick_flag=(--quick)
# By its absolute path: the cases above have moved into their own directories.
sso_sync_line=$(bash "$bench_dir/sso-sync.sh" "$awsrole" "${quick_flag[@]}")

versions="aws-vault $(aws-vault --version 2>&1), granted $(granted --version | awk '{print $NF}'), mise $(mise --version | cut -d' ' -f1), direnv $(direnv version), awsume $(awsumepy --version 2>&1 | head -1), $(aws --version 2>&1 | cut -d' ' -f1)"
export calls_warm calls_awsume_warm calls_vault_warm calls_granted_warm calls_cold calls_cli calls_awsume_cold \
    calls_vault_cold calls_granted_cold calls_exec calls_vault_exec calls_granted_exec moto_floor front_ms \
    endpoint_ms peak_rss true_rss versions awsrole sso_sync_line
python3 - "$results" <<'EOF'
import json, os, sys
results, env = sys.argv[1], os.environ
def load(name):
    with open(os.path.join(results, name + ".json")) as f:
        return {r["command"]: r["median"] * 1000 for r in json.load(f)["results"]}
idle, steady = load("hook-idle"), load("hook-steady")
ku, ss, aw = load("warm-keyutils"), load("warm-secret-service"), load("warm-awsume")
vw, gw = load("warm-aws-vault")["aws-vault export role-e (warm)"], load("warm-granted")["assumego role-e (warm)"]
ca, cli, caw = load("cold-awsrole"), load("cold-cli"), load("cold-awsume")
vc, gc = load("cold-aws-vault")["aws-vault export role-e (cold)"], load("cold-granted")["assumego role-e (cold)"]
ea = load("exec-awsrole")["awsrole exec role-e -- /bin/true"]
ev, eg = load("exec-aws-vault")["aws-vault exec role-e -- /bin/true"], load("exec-granted")["assume role-e --exec /bin/true"]
big = load("big-config")["awsrole list (1 MB config)"]
true_ms = idle["/bin/true"]
c = {k: env[k] for k in env if k.startswith("calls_")}
warm = ku["awsrole export role-e (kernel keyring)"]
cold = ca["awsrole export role-e (cold)"]
cli_ms = cli["aws sts get-caller-identity --profile role-e (cold)"]
caw_ms = caw["awsumepy role-e (cold)"]
aw_ms = aw["awsumepy role-e (warm)"]
rows = [
    ("hook, nothing to do", "awsrole hook bash", idle["awsrole hook bash"], f'{idle["awsrole hook bash"] / idle["direnv export bash"]:.2f}× direnv export bash ({idle["direnv export bash"]:.2f} ms); {idle["awsrole hook bash"] / idle["mise hook-env -s bash"]:.2f}× mise hook-env ({idle["mise hook-env -s bash"]:.2f} ms)', "0"),
    ("hook, steady state in an applied .awsrole", "awsrole hook bash", steady["awsrole hook bash"], f'{steady["awsrole hook bash"] / steady["direnv export bash"]:.2f}× direnv export bash ({steady["direnv export bash"]:.2f} ms); {steady["awsrole hook bash"] / steady["mise hook-env -s bash"]:.2f}× mise hook-env ({steady["mise hook-env -s bash"]:.2f} ms)', "0"),
    ("warm switch, kernel keyring", "awsrole export role-e", warm, f'{warm / aw_ms:.4f}× awsume ({aw_ms:.0f} ms, {c["calls_awsume_warm"]} STS calls); {warm / vw:.3f}× aws-vault ({vw:.0f} ms, {c["calls_vault_warm"]} calls); {warm / gw:.3f}× granted ({gw:.1f} ms, {c["calls_granted_warm"]} calls)', c["calls_warm"]),
    ("warm switch, Secret Service", "awsrole export role-e", ss["awsrole export role-e (Secret Service)"], f'{ss["awsrole export role-e (Secret Service)"] / aw_ms:.4f}× awsume', c["calls_warm"]),
    ("cold five-hop chain, MFA code given", "awsrole export role-e", cold, f'{cold / cli_ms:.3f}× AWS CLI ({cli_ms:.0f} ms, {c["calls_cli"]} calls); {cold / caw_ms:.3f}× awsume ({caw_ms:.0f} ms, {c["calls_awsume_cold"]} calls); {cold / vc:.2f}× aws-vault ({vc:.0f} ms, {c["calls_vault_cold"]} calls); {cold / gc:.2f}× granted ({gc:.0f} ms, {c["calls_granted_cold"]} calls)', c["calls_cold"]),
    ("exec round trip, warm", "awsrole exec role-e -- /bin/true", ea, f'{ea / ev:.3f}× aws-vault exec ({ev:.0f} ms, {c["calls_vault_exec"]} calls); {ea / eg:.3f}× granted\'s assume --exec ({eg:.1f} ms, {c["calls_granted_exec"]} calls)', c["calls_exec"]),
]
print("| case | awsrole | median | × /bin/true | against the peer | STS calls |")
print("|---|---|---:|---:|---|---:|")
for case, cmd, ms, peer, calls in rows:
    print(f"| {case} | `{cmd}` | {ms:.2f} ms | {ms / true_ms:.1f}× | {peer} | {calls} |")
print()
# Every tool side by side: one row per tool and case, the peer's time over awsrole's.
side = [
    ("hook, nothing to do", [("awsrole", "awsrole hook bash", idle["awsrole hook bash"], "–"),
                             ("direnv", "direnv export bash", idle["direnv export bash"], "–"),
                             ("mise", "mise hook-env -s bash", idle["mise hook-env -s bash"], "–")]),
    ("hook, steady state", [("awsrole", "awsrole hook bash", steady["awsrole hook bash"], "–"),
                            ("direnv", "direnv export bash", steady["direnv export bash"], "–"),
                            ("mise", "mise hook-env -s bash", steady["mise hook-env -s bash"], "–")]),
    ("warm switch", [("awsrole", "awsrole export role-e", warm, c["calls_warm"]),
                     ("awsume", "awsumepy role-e", aw_ms, c["calls_awsume_warm"]),
                     ("aws-vault", "aws-vault export role-e", vw, c["calls_vault_warm"]),
                     ("granted", "assumego role-e", gw, c["calls_granted_warm"])]),
    ("cold five-hop chain, MFA code given", [("awsrole", "awsrole export role-e --mfa-code …", cold, c["calls_cold"]),
                                             ("AWS CLI", "aws sts get-caller-identity --profile role-e (no MFA)", cli_ms, c["calls_cli"]),
                                             ("awsume", "awsumepy role-e --mfa-token …", caw_ms, c["calls_awsume_cold"]),
                                             ("aws-vault", "aws-vault export role-e --mfa-token …", vc, c["calls_vault_cold"]),
                                             ("granted", "assumego role-e --mfa-token …", gc, c["calls_granted_cold"])]),
    ("exec round trip, warm", [("awsrole", "awsrole exec role-e -- /bin/true", ea, c["calls_exec"]),
                               ("aws-vault", "aws-vault exec role-e -- /bin/true", ev, c["calls_vault_exec"]),
                               ("granted", "assume role-e --exec /bin/true", eg, c["calls_granted_exec"])]),
]
print("| case | tool | command | median | × awsrole | STS calls |")
print("|---|---|---|---:|---:|---:|")
for case, tools in side:
    base = tools[0][2]
    for tool, cmd, ms, calls in tools:
        print(f"| {case} | {tool} | `{cmd}` | {ms:.2f} ms | {ms / base:.1f}× | {calls} |")
print()
print(f"Peers: {env['versions']}.")
print(f"moto's own time for the cold chain's six calls: {env['moto_floor']} ms, so awsrole's own share of its cold case is {cold - float(env['moto_floor']):.1f} ms.")
fm = float(env["front_ms"])
less = lambda ms, calls: f"{ms - fm * int(calls):.0f} ms"
print(f"aws-vault's calls pass the TLS front (it has no STS endpoint setting): {fm:.1f} ms a call over a fresh direct connection, measured from Python; its rows include that. "
      f"Less that, about: warm switch {less(vw, c['calls_vault_warm'])}, cold chain {less(vc, c['calls_vault_cold'])}, exec {less(ev, c['calls_vault_exec'])}.")
print(f"The exec --server endpoint answers in {env['endpoint_ms']} ms (median of 200 GETs over fresh loopback connections, urllib).")
print(f"Parsing a 1 MB config and planning its 4,000 chains (`awsrole list`): {big:.1f} ms.")
print(env["sso_sync_line"])
print(f"/bin/true: {true_ms:.2f} ms median. Release binary: {os.path.getsize(env['awsrole']) / 1e6:.1f} MB. Peak RSS of the hook: {env['peak_rss']} KB (/bin/true: {env['true_rss']} KB, same method).")
EOF
