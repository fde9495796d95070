#!/usr/bin/env python3
"""Differential conformance: every profile of generated configs, resolved by botocore
and by awsrole against one moto STS with its request recorder on, and (for IAM Identity
Center roots) one local portal/OIDC (tests/support/sso_fake.py) whose role credentials
are real in that moto, and (for `aws login` sessions) one local sign-in service
(tests/support/signin_oauth_fake.py, its credentials real in moto too), and (for
credential_source = Ec2InstanceMetadata / EcsContainer) one instance metadata service and
one container endpoint (tests/support/imds_fake.py, container_fake.py, their roles real
in moto); botocore and awsrole read the same AWS CLI token and session caches and the
same web identity token files, written afresh before each side runs, and both must ask
the metadata services the same requests.

For each profile both sides must agree on success or failure; on success, on the
sequence of (Action, RoleArn, RoleSessionName when configured, ExternalId,
DurationSeconds, signing key) sent to STS and on the final caller ARN and, where botocore
returns long-term keys, which ones (moto gives every such key one caller); on the IAM Identity
Center calls (GetRoleCredentials per account and role, token refreshes) and the sign-in
service's (CreateOAuth2Token refreshes of login sessions, and how each ended); on failure, on
the class of error. Where awsrole differs on purpose, the difference must be listed in
differences.toml. A disagreement prints the config that produced it, minimised.

Where botocore refuses a file for a repeated section (configparser, strict), awsrole
merges the twins, later keys winning (differences.toml, duplicate-sections); it is then
held to what botocore makes of the same files with the twins merged that way.

A run that agrees on little proves little, so each profile's comparison is classed by
what it actually compared (STS calls, IAM Identity Center calls, caller, error class),
the counts per class are printed at the end, and the run fails when:
  - fewer than 35% of profiles compared STS calls and the caller. Seeds 1-7 at 2,000
    profiles give 40-43% (the rest are mostly error classes: loops, missing sources);
    35% stays clear of that spread and still catches a generator or a comparison that
    lost its chains;
  - fewer than 3% compared IAM Identity Center calls (seed 1: 8.7%), and always when no
    SSO root was exercised at all;
  - fewer than 2% exercised a web identity or metadata root (AssumeRoleWithWebIdentity,
    a metadata request, or a token-file or metadata error class);
  - moto's recorder returned nothing for any profile: its reader or the recorder is
    broken, and every "calls" verdict compared two empty lists;
  - any profile compared nothing at all: two successes with nothing looked at are no
    evidence, and every generated shape has something to compare, so the ceiling is 0.
A small sample (--profiles under a few hundred) can fall under a floor by chance.

    python3 tests/conformance/run.py --profiles 2000 --seed 1
"""
import argparse
import collections
import configparser
import dataclasses
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.tokens

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import generate  # noqa: E402
import sts_calls  # noqa: E402

MFA_CODE = "123456"
# The floors (see the docstring): least share of profiles comparing STS calls and the
# caller, least share comparing IAM Identity Center calls, most profiles comparing nothing.
CALLS_FLOOR = 0.35
SSO_FLOOR = 0.03
NOTHING_CEILING = 0
# Least share of profiles whose botocore run called AssumeRoleWithWebIdentity or a metadata
# service, or failed on a token file or metadata root (seed 1 at 300 profiles: 5%).
ROOTS_FLOOR = 0.02
# What a comparison can look at, in the order a class names them; "caller" is the final
# caller ARN and, where botocore returns long-term keys, which ones.
ASPECTS = ("sts calls", "sso calls", "login calls", "metadata calls", "caller", "error class")
DIFFERENCES = tomllib.load(open(os.path.join(HERE, "differences.toml"), "rb"))


def expect_listed(name):
    if name not in DIFFERENCES:
        raise SystemExit(f"run.py uses the difference '{name}', which differences.toml does not list")
    return name


class Moto:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "support", "moto_server.py"), "--until-stdin-closes"]
            # The generated worlds' static keys, which moto never issued: its signature
            # checking front must know their secrets.
            + [arg for key, secret in generate.STATIC_KEYS for arg in ("--known-key", f"{key}:{secret}")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.proc.stdout.readline().decode().strip()}"
        # Requests the recorder returned over the run, GetCallerIdentity included: none
        # at all means the reader or the recorder is broken, not that nothing was called.
        self.recorded = 0

    def reset(self):
        for action in ("reset-recording", "start-recording"):
            urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/recorder/{action}", method="POST")).read()

    def calls(self):
        seen = sts_calls.calls(self.url)
        self.recorded += len(seen)
        return [c for c in seen if c.get("Action") != "GetCallerIdentity"]

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class SsoFake:
    def __init__(self, moto_url):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "support", "sso_fake.py"), moto_url, "--until-stdin-closes"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.proc.stdout.readline().decode().strip()}"

    def post(self, path, body):
        req = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(), method="POST")
        return json.loads(urllib.request.urlopen(req).read())

    def calls(self):
        """What was asked of it: (GetRoleCredentials, account, role) and (CreateToken, grant)."""
        seen = json.loads(urllib.request.urlopen(f"{self.url}/requests").read())
        return [(c["op"], c.get("account"), c.get("role")) if c["op"] == "GetRoleCredentials" else (c["op"], c.get("grant"))
                for c in seen if c["op"] in ("GetRoleCredentials", "CreateToken")]

    def write_tokens(self, tokens, cache_dir):
        """The AWS CLI's cache as `aws sso login` would leave it, in each state."""
        import hashlib
        os.makedirs(cache_dir, exist_ok=True)
        for name in os.listdir(cache_dir):
            os.remove(os.path.join(cache_dir, name))
        for key, state in tokens.items():
            if state == "missing":
                continue
            expires_in = {"fresh": 7200, "refresh": 600, "expired": -60}[state]
            doc = self.post("/issue", {"start_url": key, "expires_in": expires_in, "refreshable": state == "refresh"})
            with open(os.path.join(cache_dir, hashlib.sha1(key.encode()).hexdigest() + ".json"), "w") as f:
                json.dump(doc, f)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class SigninFake:
    """The sign-in service of `aws login` sessions (tests/support/signin_oauth_fake.py)."""

    def __init__(self, moto_url):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "support", "signin_oauth_fake.py"), moto_url,
             "--until-stdin-closes"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.proc.stdout.readline().decode().strip()}"

    def calls(self):
        """Each CreateOAuth2Token: its grant and how it ended."""
        seen = json.loads(urllib.request.urlopen(f"{self.url}/requests").read())
        return [("CreateOAuth2Token", c.get("grant"), c.get("error") or c.get("status"))
                for c in seen if c["op"] == "CreateOAuth2Token"]

    def write_tokens(self, tokens, cache_dir):
        """~/.aws/login/cache as `aws login` would leave it, in each state."""
        import hashlib
        os.makedirs(cache_dir, exist_ok=True)
        for name in os.listdir(cache_dir):
            os.remove(os.path.join(cache_dir, name))
        for arn, state in tokens.items():
            if state == "missing":
                continue
            expires_in = {"fresh": 3600, "due": 120, "expired": -60, "revoked": -60}[state]
            body = {"arn": arn, "key": generate.CRED_KEYS[0], "secret": generate.CRED_KEYS[1],
                    "expires_in": expires_in, "revoked": state == "revoked"}
            req = urllib.request.Request(f"{self.url}/issue", data=json.dumps(body).encode(), method="POST")
            doc = json.loads(urllib.request.urlopen(req).read())
            with open(os.path.join(cache_dir, hashlib.sha256(arn.encode()).hexdigest() + ".json"), "w") as f:
                json.dump(doc, f)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class MetadataFakes:
    """The instance metadata service and a container credentials endpoint
    (tests/support/imds_fake.py, container_fake.py), their roles real in moto."""
    TOKEN = "conformance-container-token"

    def __init__(self, moto_url):
        def start(script, role):
            proc = subprocess.Popen(
                [sys.executable, os.path.join(ROOT, "tests", "support", script), moto_url, "--until-stdin-closes"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )
            url = f"http://127.0.0.1:{proc.stdout.readline().decode().strip()}"
            body = {"role_arn": f"arn:aws:iam::{generate.ACCOUNT}:role/metadata/{role}", "token": self.TOKEN}
            req = urllib.request.Request(f"{url}/control", data=json.dumps(body).encode(), method="POST")
            urllib.request.urlopen(req).read()
            return proc, url
        self.imds_proc, self.imds = start("imds_fake.py", "InstanceRole")
        self.container_proc, self.container = start("container_fake.py", "TaskRole")
        # A port nothing listens on: a metadata service that is not there.
        import socket
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
        probe.close()

    def env(self, metadata, workdir):
        """The variables a world's metadata states stand for."""
        env = {}
        imds = metadata.get("imds")
        if imds in (None, "disabled"):
            env["AWS_EC2_METADATA_DISABLED"] = "true"
        if imds is not None:
            env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = self.closed if imds == "down" else self.imds
        container = metadata.get("container")
        if container not in (None, "unset"):
            base = self.closed if container == "down" else self.container
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"{base}/v1/credentials"
        if container == "file":
            path = os.path.join(workdir, "container-token")
            with open(path, "w") as f:
                f.write(self.TOKEN)
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = path
        elif container in ("token", "down"):
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = self.TOKEN
        elif container == "wrong":
            env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "not-the-token"
        return env

    def requests(self):
        """What both services were asked so far: (service, method, path, token sent)."""
        seen = []
        for name, url in (("imds", self.imds), ("container", self.container)):
            for r in json.loads(urllib.request.urlopen(f"{url}/requests").read()):
                token = r.get("token") if name == "imds" else r.get("authorization")
                seen.append((name, r.get("method", "GET"), r["path"], token))
        return seen

    def stop(self):
        for proc in (self.imds_proc, self.container_proc):
            proc.stdin.close()
            proc.wait(timeout=10)


# Every variable a world's metadata or web identity state may set; cleared before each
# botocore run, since botocore reads os.environ and worlds differ.
METADATA_VARS = ("AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")


def caller_arn(url, creds):
    client = boto3.client(
        "sts", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
    )
    return client.get_caller_identity()["Arn"]


def botocore_class(error):
    text = str(error)
    if isinstance(error, OSError) and getattr(error, "filename", None) and ".token" in error.filename:
        return "token-file"  # the web identity token file is not there
    if isinstance(error, botocore.exceptions.ParamValidationError) and "WebIdentityToken" in text:
        return "token-file"  # an empty token file: botocore sends "" and its validator refuses it
    if isinstance(error, botocore.exceptions.CredentialRetrievalError) and (
            "credential_source" in text or "container-role" in text):
        return "metadata"
    if isinstance(error, botocore.exceptions.InfiniteLoopConfigError):
        return "loop"
    if isinstance(error, botocore.exceptions.ConfigParseError):
        return "config-parse"
    if isinstance(error, botocore.exceptions.ProfileNotFound):
        return "unknown-profile"
    if isinstance(error, botocore.exceptions.PartialCredentialsError):
        return "incomplete"
    if isinstance(error, (botocore.exceptions.NoCredentialsError,)):
        return "no-credentials"
    if isinstance(error, (botocore.exceptions.SSOTokenLoadError, botocore.exceptions.UnauthorizedSSOTokenError,
                          botocore.exceptions.TokenRetrievalError)):
        return "sso-login"
    if isinstance(error, botocore.exceptions.InvalidConfigError):
        if "configured to use SSO" in text or "sso-session" in text or "inconsistent between profile" in text:
            return "sso-config"
        if "does not exist" in text:
            return "missing-source"
        if "must have credentials" in text:
            return "no-credentials"
        if "contains both" in text:
            return "invalid-combination"
    if isinstance(error, (botocore.exceptions.LoginError, botocore.exceptions.LoginTokenLoadError)):
        return "login"
    if isinstance(error, botocore.exceptions.CredentialRetrievalError):
        return "process"
    return f"other:{type(error).__name__}:{text[:120]}"


def awsrole_class(message):
    rules = [
        ("the web identity token file", "token-file"),
        ("found no credentials", "metadata"),
        ("to IAM Identity Center (", "sso-login"),
        (": not signed in as arn:", "login"),
        ("; sign in again with", "login"),
        ("configured for IAM Identity Center but is missing", "sso-config"),
        ("[sso-session", "sso-config"),
        ("source_profile loop", "loop"),
        ("both source_profile and credential_source", "invalid-combination"),
        ("neither source_profile nor credential_source", "incomplete"),
        ("partial credentials", "incomplete"),
        ("does not exist", "missing-source"),
        ("has no credentials", "no-credentials"),
        ("is not in", "unknown-profile"),
        ("credential_process", "process"),
        ("fix that line of the file", "config-parse"),
    ]
    for needle, cls in rules:
        if needle in message:
            return cls
    return f"other:{message[:160]}"


def resolve_botocore(url, profile, env):
    for name in METADATA_VARS:
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        session = boto3.Session(profile_name=profile)
        provider = session._session.get_component("credential_provider").get_provider("assume-role")
        provider._prompter = lambda _prompt: MFA_CODE
        creds = session.get_credentials()
        if creds is None:
            raise botocore.exceptions.NoCredentialsError()
        frozen = creds.get_frozen_credentials()
        doc = {"AccessKeyId": frozen.access_key, "SecretAccessKey": frozen.secret_key, "SessionToken": frozen.token}
        return {"ok": True, "caller": caller_arn(url, doc), "key": frozen.access_key}
    except (botocore.exceptions.BotoCoreError, OSError) as error:
        return {"ok": False, "class": botocore_class(error)}


def resolve_awsrole(url, binary, profile, env):
    out = subprocess.run(
        [binary, "export", profile, "--format", "json", "--no-cache", "--mfa-code", MFA_CODE],
        env=env, capture_output=True, text=True, timeout=60,
    )
    if out.returncode != 0:
        last = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""
        return {"ok": False, "class": awsrole_class(last), "stderr": out.stderr}
    doc = json.loads(out.stdout)
    return {"ok": True, "caller": caller_arn(url, doc), "key": doc["AccessKeyId"], "stderr": out.stderr}


def configured(config_text):
    """role_session_name per profile, for deciding which session names to compare."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(config_text)
    except configparser.Error:
        return {}
    names = {}
    for section in parser.sections():
        name = section[len("profile "):] if section.startswith("profile ") else section
        if parser.has_option(section, "role_session_name"):
            names[name] = parser.get(section, "role_session_name")
    return names


def signer(key):
    """Long-term keys (which file's keys won) must match; session keys are fresh each run."""
    return key if key.startswith("AKID") else "session"


def call_key(call, session_names):
    session = call.get("RoleSessionName") if call.get("RoleSessionName") in session_names else None
    return (call.get("Action"), call.get("RoleArn"), session, call.get("ExternalId"),
            call.get("DurationSeconds"), signer(call.get("AccessKey", "")))


def has_duplicate_sections(world):
    for text in (world["config"], world["credentials"]):
        try:
            configparser.RawConfigParser(strict=True).read_string(text)
        except configparser.DuplicateSectionError:
            return True
        except configparser.Error:
            pass
    return False


def merge_duplicates(world):
    """The world's files as differences.toml's duplicate-sections says awsrole reads them:
    a repeated section merged into its first appearance, later keys winning. configparser
    (not strict) writes them, so awsrole's own parser is not what sets the expectation."""
    merged = {}
    for name in ("config", "credentials"):
        parser = configparser.RawConfigParser(strict=False)
        parser.read_string(world[name])
        text = io.StringIO()
        parser.write(text)
        merged[name] = text.getvalue()
    return dict(world, **merged)


@dataclasses.dataclass
class Outcome:
    """One profile's verdict and what it rested on."""
    problem: str | None = None  # None when the sides agree, or differ only as listed
    used: set = dataclasses.field(default_factory=set)      # differences.toml entries relied on
    compared: set = dataclasses.field(default_factory=set)  # ASPECTS looked at and found equal
    merged: bool = False  # botocore refused repeated sections and judged them merged
    roots: set = dataclasses.field(default_factory=set)  # web identity / metadata roots exercised

    def label(self):
        if self.problem:
            return "disagreement"
        what = "+".join(a for a in ASPECTS if a in self.compared) or "nothing compared"
        return f"{what} (duplicate sections merged)" if self.merged else what


def compare(world, boto, boto_calls, ours, our_calls, boto_sso=(), our_sso=()):
    """Whether they agree (or differ only as listed), and on what."""
    out = Outcome()
    if list(boto_sso) != list(our_sso):
        out.problem = f"IAM Identity Center calls differ:\n  botocore: {list(boto_sso)}\n  awsrole:  {list(our_sso)}"
        return out
    if any(c[0] != "CreateOAuth2Token" for c in boto_sso):
        out.compared.add("sso calls")
    if any(c[0] == "CreateOAuth2Token" for c in boto_sso):
        out.compared.add("login calls")
    if boto["ok"] != ours["ok"]:
        out.problem = f"botocore {'succeeded' if boto['ok'] else 'failed: ' + boto['class']}; awsrole {'succeeded' if ours['ok'] else 'failed: ' + ours['class']}"
        return out
    if not boto["ok"]:
        if boto["class"] != ours["class"]:
            out.problem = f"error class: botocore {boto['class']}, awsrole {ours['class']}"
        out.compared.add("error class")
        return out

    session_names = set(configured(world["config"]).values())
    # One MFA session instead of MFA on each AssumeRole; a session of plain keys.
    if any(c.get("Action") == "GetSessionToken" for c in our_calls):
        if our_calls[-1].get("Action") != "GetSessionToken" or boto_calls:
            out.used.add(expect_listed("mfa-session"))
        gst = [c for c in our_calls if c.get("Action") == "GetSessionToken"]
        our_calls = [c for c in our_calls if c.get("Action") != "GetSessionToken"]
        # After the MFA session, the next call is signed by the session, not the keys.
        if our_calls and boto_calls:
            our_calls[0] = dict(our_calls[0], AccessKey=gst[0].get("AccessKey"))
        if not our_calls and not boto_calls:
            # awsrole exports a session of the keys botocore returns: the keys that
            # signed GetSessionToken are the ones it stands for.
            out.used.add(expect_listed("mfa-session-plain-keys"))
            ours = dict(ours, key=gst[0].get("AccessKey", ""))
    theirs = [call_key(c, session_names) for c in boto_calls]
    mine = [call_key(c, session_names) for c in our_calls]
    # Chained hops asking for more than an hour: awsrole sends 3600.
    adjusted = []
    for b, a in zip(theirs, mine):
        if b != a and b[4] and a[4] == "3600" and int(b[4]) > 3600 and b[:4] == a[:4] and b[5:] == a[5:]:
            out.used.add(expect_listed("chained-duration-cap"))
            adjusted.append(b)
        else:
            adjusted.append(a)
    mine = adjusted + mine[len(adjusted):]
    if theirs != mine:
        out.problem = f"STS calls differ:\n  botocore: {theirs}\n  awsrole:  {mine}"
        return out
    if theirs:
        out.compared.add("sts calls")
    strip = lambda arn: arn.rsplit("/", 1)[0] if ":assumed-role/" in arn else arn  # noqa: E731
    if strip(boto["caller"]) != strip(ours["caller"]):
        out.problem = f"caller: botocore {boto['caller']}, awsrole {ours['caller']}"
        return out
    # moto answers one caller ARN for every long-term key, so the key itself is compared.
    if signer(boto["key"]) != signer(ours["key"]):
        out.problem = f"credentials: botocore {signer(boto['key'])}, awsrole {signer(ours['key'])}"
        return out
    out.compared.add("caller")
    out.used.add(expect_listed("session-name"))
    return out


def compare_metadata(outcome, theirs, mine):
    """Both sides must ask the metadata services the same things (IMDS: the token PUT,
    then the role and its credentials with the token; the container endpoint: a GET
    with the Authorization value), except where differences.toml says."""
    if outcome.problem or (not theirs and not mine):
        return
    if theirs != mine:
        refused_once = (mine and all(r[0] == "container" for r in theirs + mine)
                        and len(mine) == 1 and len(theirs) == 3 and mine[0] == theirs[0])
        if refused_once and not outcome.problem:
            outcome.used.add(expect_listed("container-refusal-once"))
        else:
            outcome.problem = f"metadata requests differ:\n  botocore: {theirs}\n  awsrole:  {mine}"
            return
    outcome.compared.add("metadata calls")


def write_files(world, workdir):
    for name in ("config", "credentials"):
        with open(os.path.join(workdir, name), "w") as f:
            f.write(world[name].replace(generate.WORKDIR, workdir))
    for path, state in world.get("web_tokens", {}).items():
        path = path.replace(generate.WORKDIR, workdir)
        if os.path.exists(path):
            os.remove(path)
        if state != "missing":
            with open(path, "w") as f:
                f.write("" if state == "empty" else "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb25mb3JtYW5jZSJ9.c2ln")


def observe(moto, sso, world, workdir, resolve):
    """One side's run on the world's files and a fresh token cache: its result, its STS
    calls (without the fake's own, for SSO role credentials) and its IAM Identity Center
    calls."""
    write_files(world, workdir)
    sso.write_tokens(world.get("sso_tokens", {}), os.path.join(workdir, ".aws", "sso", "cache"))
    sso.signin.write_tokens(world.get("login_tokens", {}), os.path.join(workdir, ".aws", "login", "cache"))
    moto.reset()
    before = len(sso.calls())
    before_signin = len(sso.signin.calls())
    before_metadata = len(sso.metadata.requests())
    result = resolve()
    result["metadata"] = sso.metadata.requests()[before_metadata:]
    # Without the fakes' own AssumeRole calls (SSO role credentials, login sessions).
    calls = [c for c in moto.calls()
             if "AWSReservedSSO" not in c.get("RoleArn", "") and ":role/signin/" not in c.get("RoleArn", "")
             and ":role/metadata/" not in c.get("RoleArn", "")]
    return result, calls, sso.calls()[before:] + sso.signin.calls()[before_signin:]


def run_profile(moto, sso, binary, world, profile, workdir):
    env = {
        "AWS_CONFIG_FILE": os.path.join(workdir, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(workdir, "credentials"),
        "AWS_ENDPOINT_URL_STS": moto.url,
        "AWS_ENDPOINT_URL_SSO": sso.url,
        "AWS_ENDPOINT_URL_SSO_OIDC": sso.url,
        "AWS_ENDPOINT_URL_SIGNIN": sso.signin.url,
        "AWS_LOGIN_CACHE_DIRECTORY": os.path.join(workdir, ".aws", "login", "cache"),
        "AWS_ACCESS_KEY_ID": generate.ENV_KEYS[0],
        "AWS_SECRET_ACCESS_KEY": generate.ENV_KEYS[1],
        # botocore needs a region for its STS client; regions are not compared.
        "AWS_DEFAULT_REGION": "us-east-1",
        # Web identity in the environment: for a named profile botocore reads only the
        # profile's keys (and so must awsrole), so no call may use this role or file.
        "AWS_WEB_IDENTITY_TOKEN_FILE": os.path.join(workdir, "env-web-identity.token"),
        "AWS_ROLE_ARN": f"arn:aws:iam::{generate.ACCOUNT}:role/from-the-environment",
        **sso.metadata.env(world.get("metadata", {}), workdir),
    }
    with open(env["AWS_WEB_IDENTITY_TOKEN_FILE"], "w") as f:
        f.write("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJlbnYifQ.c2ln")
    # botocore fixes its token directory at import; point it at this HOME's.
    cache_dir = os.path.join(workdir, ".aws", "sso", "cache")
    botocore.credentials.SSOProvider._SSO_TOKEN_CACHE_DIR = cache_dir
    botocore.tokens.SSOTokenProvider._SSO_TOKEN_CACHE_DIR = cache_dir

    def botocore_on(files):
        return observe(moto, sso, files, workdir, lambda: resolve_botocore(moto.url, profile, env))

    def awsrole():
        # A new botocore Session remembers no earlier refresh try; neither may awsrole's
        # once-a-minute marker from another world's run.
        shutil.rmtree(os.path.join(workdir, ".run"), ignore_errors=True)
        child_env = {"PATH": os.environ.get("PATH", ""), "HOME": workdir, "USER": "conformance",
                     "AWSROLE_KEYRING": "none", "XDG_RUNTIME_DIR": os.path.join(workdir, ".run"), **env}
        return resolve_awsrole(moto.url, binary, profile, child_env)

    boto, boto_calls, boto_sso = botocore_on(world)
    merged = not boto["ok"] and boto["class"] == "config-parse" and has_duplicate_sections(world)
    if merged:
        # botocore refuses the whole file for a repeated section; awsrole merges the
        # twins, so what botocore makes of the merged files is what awsrole must do.
        boto, boto_calls, boto_sso = botocore_on(merge_duplicates(world))
    ours, our_calls, our_sso = observe(moto, sso, world, workdir, awsrole)
    outcome = compare(world, boto, boto_calls, ours, our_calls, boto_sso, our_sso)
    if (outcome.problem and boto["ok"] and not ours["ok"] and ours["class"] == "no-credentials"
            and boto["metadata"] and not boto_calls and not ours["metadata"]):
        # A profile left without credentials (a spaced header botocore ignores, say):
        # botocore's chain went on to a metadata service, awsrole named the profile.
        outcome = Outcome(used={expect_listed("metadata-fallback")}, compared={"error class"})
    else:
        compare_metadata(outcome, boto["metadata"], ours["metadata"])
        outcome.roots = {c.get("Action") for c in boto_calls if c.get("Action") == "AssumeRoleWithWebIdentity"}
        outcome.roots |= {r[0] for r in boto["metadata"]}
    if not boto["ok"] and boto["class"] in ("token-file", "metadata") and not outcome.problem:
        outcome.roots.add(boto["class"])
    if merged:
        outcome.used.add(expect_listed("duplicate-sections"))
        outcome.merged = True
    return outcome


def minimise(moto, sso, binary, world, profile, workdir):
    """Drops sections one at a time while the disagreement stays."""
    def sections(text):
        blocks, current = [], []
        for line in text.splitlines(keepends=True):
            if line.lstrip().startswith("[") and current:
                blocks.append(current)
                current = []
            current.append(line)
        if current:
            blocks.append(current)
        return blocks

    for file in ("config", "credentials"):
        blocks = sections(world[file])
        i = 0
        while i < len(blocks):
            trial = blocks[:i] + blocks[i + 1:]
            candidate = dict(world, **{file: "".join("".join(b) for b in trial)})
            if run_profile(moto, sso, binary, candidate, profile, workdir).problem:
                blocks = trial
                world = candidate
            else:
                i += 1
    return world


def summary(outcomes):
    """One line per class, most frequent first, then the total: what the run compared."""
    counts = collections.Counter(o.label() for o in outcomes)
    width = max(map(len, counts), default=5)
    lines = [f"  {label:<{width}}  {n:5}" for label, n in counts.most_common()]
    return "\n".join(["compared, per profile:", *lines, f"  {'total':<{width}}  {len(outcomes):5}"])


def shortfalls(outcomes, recorded):
    """Why the run compared too little to be believed (see the floors in the docstring)."""
    agreed = [o for o in outcomes if not o.problem]
    full = sum({"sts calls", "caller"} <= o.compared for o in agreed)
    sso = sum("sso calls" in o.compared for o in agreed)
    nothing = sum(not o.compared for o in agreed)
    new_roots = sum(bool(o.roots) for o in agreed)
    total = max(len(outcomes), 1)
    problems = []
    if recorded == 0:
        problems.append("moto's recorder returned no request for any profile: the recorder or "
                        "tests/support/sts_calls.py is broken, so no STS call was compared")
    if full < CALLS_FLOOR * total:
        problems.append(f"{full} of {len(outcomes)} profiles ({full / total:.0%}) compared STS calls and the "
                        f"caller, under the floor of {CALLS_FLOOR:.0%}")
    if sso < SSO_FLOOR * total:
        problems.append(f"{sso} of {len(outcomes)} profiles ({sso / total:.1%}) compared IAM Identity Center "
                        f"calls, under the floor of {SSO_FLOOR:.0%}: too few SSO roots were exercised")
    if new_roots < ROOTS_FLOOR * total:
        problems.append(f"{new_roots} of {len(outcomes)} profiles ({new_roots / total:.1%}) exercised a web identity "
                        f"or metadata root, under the floor of {ROOTS_FLOOR:.0%}")
    if nothing > NOTHING_CEILING:
        problems.append(f"{nothing} profiles compared nothing (ceiling {NOTHING_CEILING})")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "debug", "awsrole"))
    parser.add_argument("--show", type=int, default=3, help="disagreements to print, minimised")
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        subprocess.run(["cargo", "build", "-q"], cwd=ROOT, check=True)
    emit = f"{shlex.quote(sys.executable)} {shlex.quote(os.path.join(HERE, 'emit_credentials.py'))}"

    moto = Moto()
    sso = SsoFake(moto.url)
    # Carried with the SSO fake: both are the sign-in services a world's roots call.
    sso.signin = SigninFake(moto.url)
    sso.metadata = MetadataFakes(moto.url)
    started = time.time()
    outcomes = []
    failures = []
    index = 0
    try:
        with tempfile.TemporaryDirectory() as workdir:
            while len(outcomes) < args.profiles:
                world = generate.world(args.seed, index, emit)
                index += 1
                for profile in world["targets"][: args.profiles - len(outcomes)]:
                    outcome = run_profile(moto, sso, args.binary, world, profile, workdir)
                    outcomes.append(outcome)
                    if outcome.problem:
                        failures.append((world, profile, outcome.problem))
            for world, profile, problem in failures[: args.show]:
                small = minimise(moto, sso, args.binary, world, profile, workdir)
                print(f"\n--- world {world['index']} (seed {args.seed}), profile '{profile}': {problem}")
                print("# config\n" + small["config"] + "# credentials\n" + small["credentials"])
    finally:
        sso.signin.stop()
        sso.metadata.stop()
        sso.stop()
        moto.stop()
    used = set().union(*(o.used for o in outcomes))
    print("\n" + summary(outcomes))
    exercised = collections.Counter(r for o in outcomes for r in o.roots)
    print("web identity and metadata roots, per profile: " + ", ".join(f"{name} {exercised[key]}" for key, name in (
        ("AssumeRoleWithWebIdentity", "AssumeRoleWithWebIdentity"), ("imds", "instance metadata service"),
        ("container", "container endpoint"), ("token-file", "token file errors"), ("metadata", "metadata errors"))))
    print(f"worlds: {index}, deliberate differences seen: {', '.join(sorted(used)) or 'none'}, "
          f"{time.time() - started:.0f} s")
    print(f"conformance: {len(outcomes) - len(failures)} passed, {len(failures)} failed")
    problems = shortfalls(outcomes, moto.recorded)
    for problem in problems:
        print(f"conformance: too little compared: {problem}")
    sys.exit(1 if failures or problems else 0)


if __name__ == "__main__":
    main()
