#!/usr/bin/env python3
"""A seeded generator of AWS config/credentials pairs for the differential runner.

Each world holds a handful of profiles drawn from the shapes that decide how botocore
resolves credentials: chains up to 8 deep, source_profile cycles of length 1-4, a
profile that names itself while holding its own keys, credential_source =
Environment, credential_process roots, missing source profiles, source_profile plus
credential_source, keys in the credentials file, the config file or both,
[default] vs [profile default], duplicate sections, comments and odd whitespace,
role_session_name, external_id, duration_seconds and region in various places;
IAM Identity Center roots ([sso-session] or legacy, a key repeated in the profile that
agrees or not, a key missing, a session that does not exist) with the sign-in token in
the AWS CLI's cache fresh, due for a refresh, expired or missing; `aws login` sessions
(login_session) under roles, their session file fresh, due, expired, revoked or missing;
web identity roots (web_identity_token_file + role_arn) with the token file present, empty
or missing; credential_source = Ec2InstanceMetadata and EcsContainer with the metadata
service reachable, unreachable or turned off, the container token from a file or a
variable, right or wrong. The metadata and web identity choices draw on a random stream
of their own, so worlds without them are the same as before they existed.

    python3 generate.py --seed 7 --worlds 3     # prints the worlds as JSON
"""
import argparse
import json
import random
import sys

ACCOUNT = "123456789012"
# Two root key pairs: which one signed a call tells which file's keys won.
CRED_KEYS = ("AKIDCREDSFILE0000001", "secret-from-credentials-file")
CONFIG_KEYS = ("AKIDCONFIGFILE000001", "secret-from-config-file")
PROCESS_KEYS = ("AKIDPROCESS000000001", "secret-from-credential-process")
ENV_KEYS = ("AKIDENVIRONMENT00001", "secret-from-environment")
STATIC_KEYS = (CRED_KEYS, CONFIG_KEYS, PROCESS_KEYS, ENV_KEYS)
MFA_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/conformance"
SSO_ACCOUNT = "210987654321"
# What the AWS CLI's token cache holds for a sign-in when the profile is resolved.
TOKEN_STATES = ["fresh", "fresh", "fresh", "refresh", "expired", "missing"]
# What ~/.aws/login/cache holds for a login session: credentials with an hour left, two
# minutes (due: under botocore's 5), expired, a session the service has revoked, none.
LOGIN_STATES = ["fresh", "fresh", "due", "expired", "revoked", "missing"]
# A web identity token file: holding a token, empty, or not there.
WEB_STATES = ["present"] * 6 + ["empty", "missing"]
# The instance metadata service of a world: the fake, a closed port, turned off.
IMDS_STATES = ["up"] * 6 + ["down", "disabled"]
# The container endpoint: the fake with its token from a file or a variable, a wrong
# token, no URI in the environment, a closed port.
CONTAINER_STATES = ["file"] * 4 + ["token"] * 3 + ["wrong", "unset", "down"]
# Where the runner writes a world's token files (it knows its directory, we do not).
WORKDIR = "@WORKDIR@"


class World:
    def __init__(self, rng, emit_script, meta):
        self.rng = rng
        self.emit_script = emit_script
        self.config = {}        # section header -> list of (key, value)
        self.credentials = {}   # section header -> list of (key, value)
        self.order = []         # (file, header) in writing order
        self.targets = []       # profile names to resolve
        self.names = 0
        self.sso_tokens = {}    # token key (session name or start URL) -> state
        self.login_tokens = {}  # login session ARN -> state
        # Its own stream: drawing on it leaves the worlds that never use it unchanged.
        self.meta = meta
        self.web_tokens = {}    # token file path -> state
        self.metadata = {}      # "imds" / "container" -> state, for the runner's environment

    def name(self, stem="p"):
        self.names += 1
        return f"{stem}{self.names}"

    def section(self, file, header):
        table = self.config if file == "config" else self.credentials
        if header not in table:
            table[header] = []
            self.order.append((file, header))
        return table[header]

    def put(self, file, profile, key, value):
        header = profile if file == "credentials" or profile == "default" else f"profile {profile}"
        self.section(file, header).append((key, value))

    # --- roots -------------------------------------------------------------------
    def keys_root(self, name=None):
        name = name or self.name("keys")
        where = self.rng.choice(["credentials", "credentials", "config", "both"])
        if where in ("credentials", "both"):
            self.put("credentials", name, "aws_access_key_id", CRED_KEYS[0])
            self.put("credentials", name, "aws_secret_access_key", CRED_KEYS[1])
        if where in ("config", "both"):
            self.put("config", name, "aws_access_key_id", CONFIG_KEYS[0])
            self.put("config", name, "aws_secret_access_key", CONFIG_KEYS[1])
        if self.rng.random() < 0.15:
            self.put("config", name, "region", self.rng.choice(["eu-west-1", "us-west-2"]))
        if where == "config" and self.rng.random() < 0.3:
            # credential_process beats config-file keys in botocore's order.
            self.put("config", name, "credential_process", f"{self.emit_script} {PROCESS_KEYS[0]} {PROCESS_KEYS[1]}")
        return name

    def sso_root(self):
        name = self.name("sso")
        r = self.rng.random
        region = self.rng.choice(["eu-west-1", "us-east-1"])
        if r() < 0.7:
            session = self.name("corp")
            start_url = f"https://{session}.awsapps.com/start"
            table = self.section("config", f"sso-session {session}")
            table += [("sso_start_url", start_url), ("sso_region", region)]
            if r() < 0.5:
                table.append(("sso_registration_scopes", "sso:account:access"))
            self.put("config", name, "sso_session", session if r() > 0.03 else session + "x")
            if r() < 0.15:
                # The same key in the profile: agreeing, or (rarely) not.
                self.put("config", name, "sso_region", region if r() < 0.8 else "ap-south-1")
            key = session
        else:
            start_url = f"https://{name}.awsapps.com/start"
            self.put("config", name, "sso_start_url", start_url)
            if r() > 0.05:
                self.put("config", name, "sso_region", region)
            key = start_url
        self.put("config", name, "sso_account_id", SSO_ACCOUNT)
        if r() > 0.05:
            self.put("config", name, "sso_role_name", self.rng.choice(["Admin", "ReadOnly"]))
        if r() < 0.2:
            self.put("config", name, "region", "ca-central-1")
        self.sso_tokens.setdefault(key, self.rng.choice(TOKEN_STATES))
        return name

    def login_root(self):
        """A profile of `aws login`: botocore's form (roles reach it by source_profile)."""
        name = self.name("login")
        arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
        self.put("config", name, "login_session", arn)
        if self.rng.random() < 0.5:
            self.put("config", name, "region", self.rng.choice(["eu-west-1", "us-east-1"]))
        self.login_tokens[arn] = self.rng.choice(LOGIN_STATES)
        return name

    def web_identity_root(self):
        """botocore's AssumeRoleWithWebIdentityProvider: the role beside the token file."""
        name = self.name("web")
        path = f"{WORKDIR}/{name}.token"
        self.put("config", name, "web_identity_token_file", path)
        self.put("config", name, "role_arn", f"arn:aws:iam::{ACCOUNT}:role/{name}")
        if self.meta.random() < 0.4:
            self.put("config", name, "role_session_name", f"session-{name}")
        self.web_tokens[path] = self.meta.choice(WEB_STATES)
        return name

    def metadata_source(self):
        """A credential_source the metadata services answer; the world's state of it."""
        if self.meta.random() < 0.5:
            self.metadata.setdefault("imds", self.meta.choice(IMDS_STATES))
            return "Ec2InstanceMetadata"
        self.metadata.setdefault("container", self.meta.choice(CONTAINER_STATES))
        return "EcsContainer"

    def process_root(self):
        name = self.name("proc")
        self.put("config", name, "credential_process", f"{self.emit_script} {PROCESS_KEYS[0]} {PROCESS_KEYS[1]}")
        return name

    def keys_with_mfa(self):
        """Static keys and mfa_serial, no role: awsrole exports an MFA session."""
        name = self.keys_root()
        self.put("config", name, "mfa_serial", MFA_SERIAL)
        self.targets.append(name)

    def empty_profile(self):
        name = self.name("empty")
        self.put("config", name, "region", "ap-south-1")
        return name

    # --- roles -------------------------------------------------------------------
    def role(self, name, source=None, credential_source=None, first_hop=False):
        self.put("config", name, "role_arn", f"arn:aws:iam::{ACCOUNT}:role/{name}")
        if source is not None:
            self.put("config", name, "source_profile", source)
        if credential_source is not None:
            self.put("config", name, "credential_source", credential_source)
        r = self.rng.random
        if r() < 0.2:
            self.put("config", name, "external_id", f"ext-{name}")
        if r() < 0.2:
            self.put("config", name, "role_session_name", f"session-{name}")
        if r() < 0.25:
            self.put("config", name, "duration_seconds", str(self.rng.choice([900, 1800, 3600, 7200, 14400])))
        if r() < 0.15:
            self.put("config", name, "region", self.rng.choice(["eu-central-1", "sa-east-1"]))
        if first_hop and r() < 0.25:
            self.put("config", name, "mfa_serial", MFA_SERIAL)
        return name

    def chain(self):
        depth = self.rng.randint(1, 8)
        root_kind = self.rng.random()
        metadata_kind = self.meta.random()
        if metadata_kind < 0.1:
            source, env = self.web_identity_root(), None
            if self.meta.random() < 0.4:
                self.targets.append(source)
        elif metadata_kind < 0.26:
            source, env = None, self.metadata_source()
        elif root_kind < 0.35:
            source, env = self.keys_root(), None
        elif root_kind < 0.5:
            source, env = self.process_root(), None
        elif root_kind < 0.75:
            source, env = self.sso_root(), None
            if self.rng.random() < 0.3:
                self.targets.append(source)
        elif root_kind < 0.87:
            source, env = self.login_root(), None
            if self.rng.random() < 0.3:
                self.targets.append(source)
        else:
            source, env = None, "Environment"
        names = []
        for level in range(depth):
            name = self.name("role")
            if level == 0 and env:
                self.role(name, credential_source=env)
            else:
                self.role(name, source=source, first_hop=level == 0)
            names.append(name)
            source = name
        # A middle profile that also holds keys: botocore stops there and uses them.
        if depth > 2 and self.rng.random() < 0.2:
            middle = names[self.rng.randrange(1, depth - 1)]
            self.put("credentials", middle, "aws_access_key_id", CRED_KEYS[0])
            self.put("credentials", middle, "aws_secret_access_key", CRED_KEYS[1])
        self.targets.extend(self.rng.sample(names, k=min(len(names), self.rng.randint(1, 3))))

    def cycle(self):
        length = self.rng.randint(1, 4)
        names = [self.name("loop") for _ in range(length)]
        for i, name in enumerate(names):
            self.role(name, source=names[(i + 1) % length])
        if self.rng.random() < 0.5:
            # Entered from outside the cycle.
            entry = self.name("into")
            self.role(entry, source=names[0])
            self.targets.append(entry)
        self.targets.append(self.rng.choice(names))

    def self_with_keys(self):
        name = self.name("self")
        self.role(name, source=name)
        if self.rng.random() < 0.8 or self.metadata:
            self.put("credentials", name, "aws_access_key_id", CRED_KEYS[0])
            self.put("credentials", name, "aws_secret_access_key", CRED_KEYS[1])
        self.targets.append(name)

    def broken(self):
        kinds = ["missing", "both", "neither", "no-creds", "empty-target"]
        if self.metadata:
            # botocore falls back to the container and instance providers for a named
            # profile without credentials; awsrole refuses it (differences.toml,
            # metadata-fallback). Not generated where a metadata service is configured.
            kinds = kinds[:3]
        kind = self.rng.choice(kinds)
        name = self.name(kind.replace("-", ""))
        if kind == "missing":
            self.role(name, source=f"nowhere{self.names}")
        elif kind == "both":
            self.role(name, source=self.keys_root(), credential_source="Environment")
        elif kind == "neither":
            self.role(name)
        elif kind == "no-creds":
            self.role(name, source=self.empty_profile())
        else:
            name = self.empty_profile()
        self.targets.append(name)

    def default_profile(self):
        style = self.rng.choice(["bare", "profile", "both", "creds-only"])
        if style in ("bare", "both"):
            self.section("config", "default").append(("region", "us-east-2"))
        if style in ("profile", "both"):
            self.section("config", "profile default").append(("region", "eu-north-1"))
            if self.rng.random() < 0.5:
                self.section("config", "profile default").append(("aws_access_key_id", CONFIG_KEYS[0]))
                self.section("config", "profile default").append(("aws_secret_access_key", CONFIG_KEYS[1]))
        self.section("credentials", "default").extend(
            [("aws_access_key_id", CRED_KEYS[0]), ("aws_secret_access_key", CRED_KEYS[1])])
        user = self.name("fromdefault")
        self.role(user, source="default", first_hop=True)
        self.targets += ["default", user]

    # --- text --------------------------------------------------------------------
    def render(self, file, duplicate):
        table = self.config if file == "config" else self.credentials
        out = []
        if self.rng.random() < 0.5:
            out.append(self.rng.choice(["# generated", "; generated", "#"]))
        headers = [h for f, h in self.order if f == file]
        for header in headers:
            entries = table[header]
            split = duplicate and len(entries) > 1 and self.rng.random() < 0.3
            halves = [entries[: len(entries) // 2], entries[len(entries) // 2:]] if split else [entries]
            for part in halves:
                out.append(f"[{header}]" if self.rng.random() < 0.9 else f"[ {header} ]")
                for key, value in part:
                    out.append(self.line(key, value))
                    if self.rng.random() < 0.1:
                        out.append(self.rng.choice(["# comment", "; comment", "   # indented comment"]))
                if self.rng.random() < 0.7:
                    out.append("")
        return "\n".join(out) + "\n"

    def line(self, key, value):
        style = self.rng.random()
        if style < 0.6:
            return f"{key} = {value}"
        if style < 0.75:
            return f"{key}={value}"
        if style < 0.85:
            return f"{key}\t=\t{value}   "
        return f"{key}   =   {value}"


def world(seed, index, emit_script):
    rng = random.Random(f"{seed}:{index}")
    w = World(rng, emit_script, random.Random(f"{seed}:{index}:metadata"))
    for _ in range(rng.randint(1, 3)):
        w.chain()
    if rng.random() < 0.5:
        w.cycle()
    if rng.random() < 0.3:
        w.self_with_keys()
    for _ in range(rng.randint(0, 2)):
        w.broken()
    if rng.random() < 0.4:
        w.default_profile()
    if rng.random() < 0.1:
        w.keys_with_mfa()
    duplicate = rng.random() < 0.05
    # Unique, in order of first appearance.
    targets = list(dict.fromkeys(w.targets))
    return {
        "index": index,
        "config": w.render("config", duplicate),
        "credentials": w.render("credentials", duplicate),
        "targets": targets,
        "sso_tokens": w.sso_tokens,
        "login_tokens": w.login_tokens,
        "web_tokens": w.web_tokens,
        "metadata": w.metadata,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worlds", type=int, default=3)
    parser.add_argument("--emit-script", default="emit-credentials")
    args = parser.parse_args()
    json.dump([world(args.seed, i, args.emit_script) for i in range(args.worlds)], sys.stdout, indent=1)


if __name__ == "__main__":
    main()
