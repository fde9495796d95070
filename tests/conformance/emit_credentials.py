#!/usr/bin/env python3
"""A credential_process: prints a Version 1 document with the given key pair."""
import json
import sys

print(json.dumps({"Version": 1, "AccessKeyId": sys.argv[1], "SecretAccessKey": sys.argv[2]}))
