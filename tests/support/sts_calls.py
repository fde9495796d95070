#!/usr/bin/env python3
"""The STS calls moto's recorder has seen, one JSON object per call, in order:
the form parameters plus "AccessKey", the key id that signed the request ("" for an
unsigned call: AssumeRoleWithWebIdentity)."""
import base64
import json
import re
import sys
import urllib.parse
import urllib.request


def calls(endpoint):
    raw = urllib.request.urlopen(f"{endpoint}/moto-api/recorder/download-recording").read().decode()
    out = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        auth = record.get("headers", {}).get("Authorization", "")
        body = record.get("body") or ""
        try:
            body = base64.b64decode(body).decode()
        except Exception:
            pass
        params = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
        # AssumeRoleWithWebIdentity is unsigned: an STS call by its action and version.
        unsigned_sts = not auth and params.get("Version") == "2011-06-15" and "Action" in params
        if "/sts/aws4_request" not in auth and not unsigned_sts:
            continue
        match = re.search(r"Credential=([^/]+)/", auth)
        params["AccessKey"] = match.group(1) if match else ""
        out.append(params)
    return out


if __name__ == "__main__":
    print(json.dumps(calls(sys.argv[1])))
