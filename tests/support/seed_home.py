#!/usr/bin/env python3
"""Builds the seed world in moto and writes the AWS files for it under --home.

Writes ~/.aws/config (role-a with MFA … role-e) and ~/.aws/credentials (User1's
keys under [default]); with --no-mfa-config also ~/.aws/config-no-mfa, the same
chain without mfa_serial (for peers that cannot be given a code non-interactively).
Prints the world as JSON.
"""
import argparse
import json
import os
import subprocess
import sys


def config(world, mfa=True):
    text = "[default]\nregion = ap-northeast-1\n\n"
    source = "default"
    for index, role in enumerate(world["roles"]):
        name = "role-" + "abcdefgh"[index]
        text += f"[profile {name}]\nrole_arn = {role['arn']}\nsource_profile = {source}\n"
        if index == 0 and mfa:
            text += f"mfa_serial = {world['mfa_serial']}\n"
        text += "\n"
        source = name
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--prefix", default="seed")
    parser.add_argument("--home", required=True)
    parser.add_argument("--no-mfa-config", action="store_true")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    world = json.loads(subprocess.check_output(
        [sys.executable, os.path.join(here, "world.py"), "--endpoint", args.endpoint, "--prefix", args.prefix]))
    aws = os.path.join(args.home, ".aws")
    os.makedirs(aws, exist_ok=True)
    with open(os.path.join(aws, "config"), "w") as f:
        f.write(config(world))
    if args.no_mfa_config:
        with open(os.path.join(aws, "config-no-mfa"), "w") as f:
            f.write(config(world, mfa=False))
    with open(os.path.join(aws, "credentials"), "w") as f:
        f.write(f"[default]\naws_access_key_id = {world['access_key_id']}\n"
                f"aws_secret_access_key = {world['secret_access_key']}\n")
    print(json.dumps(world))


if __name__ == "__main__":
    main()
