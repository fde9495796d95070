#!/usr/bin/env python3
"""A local stand-in for the EC2 instance metadata service (IMDS), the part the credential
providers use, with the real service's wire behaviour:

  PUT /latest/api/token                       IMDSv2 session token; needs the header
                                              x-aws-ec2-metadata-token-ttl-seconds (1-21600,
                                              else 400); refused (403) with X-Forwarded-For
  GET /latest/meta-data/iam/security-credentials/          the instance role's name
  GET /latest/meta-data/iam/security-credentials/<role>    its credentials:
      {"Code":"Success","LastUpdated","Type":"AWS-HMAC","AccessKeyId","SecretAccessKey",
       "Token","Expiration":"YYYY-MM-DDTHH:MM:SSZ"}
  A GET with a token that was not issued (or expired) is 401; without a token it is 401
  too (IMDSv2 required, as AWS recommends) unless the control allows IMDSv1.

The role credentials are real in the moto it is given: the fake assumes the role ARN
it is told (`role_arn`) in moto, so hops above an instance role are real AssumeRole
calls. IMDS hands out the same credentials until they are close to expiry; so does this.

Test controls: POST /control with JSON: role_arn, role_name (what the listing says),
v1 (answer tokenless GETs), token_status (answer the PUT with this status instead of a
token: 403/404/405 are what botocore treats as "no IMDSv2", 400 a bad request),
silent_put (accept the PUT but never answer it), no_role (no instance profile: 404),
error_doc (a 200 with {"Code","Message"}, as when EC2 cannot assume the role),
expired (credentials whose Expiration has passed). GET /requests: what was asked
(method, path, whether a token came). tests/support/metadata_fake_check.py drives it
with botocore's own InstanceMetadataFetcher and InstanceMetadataProvider.
Usage: imds_fake.py MOTO_URL; prints its port, serves until its parent exits.
"""
import datetime
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from lifetime import serve_on_loopback

LOCK = threading.Lock()
SEEN = []
TOKENS = {}   # token -> expires (epoch)
ISSUED = {}   # role arn -> credentials document
CONTROL = {
    "role_arn": None,
    "role_name": None,
    "v1": False,
    "token_status": None,
    "silent_put": False,
    "no_role": False,
    "error_doc": False,
    "expired": False,
}
ROLE_PATH = "/latest/meta-data/iam/security-credentials/"


def moto_assume(moto, role_arn, session):
    """Credentials for `role_arn` that moto issued (so every later signature checks out)."""
    import boto3
    sts = boto3.client("sts", endpoint_url=moto, region_name="us-east-1",
                       aws_access_key_id="ssofake", aws_secret_access_key="ssofake")
    return sts.assume_role(RoleArn=role_arn, RoleSessionName=session, DurationSeconds=3600)["Credentials"]


def stamp(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    moto = ""

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def seen(self, method):
        with LOCK:
            SEEN.append({"method": method, "path": self.path,
                         "token": self.headers.get("x-aws-ec2-metadata-token") is not None})

    def do_PUT(self):
        self.seen("PUT")
        if self.path != "/latest/api/token":
            return self.reply(404, "Not Found")
        if CONTROL["silent_put"]:
            time.sleep(30)
            return
        if CONTROL["token_status"]:
            return self.reply(int(CONTROL["token_status"]), "refused")
        if self.headers.get("X-Forwarded-For"):
            return self.reply(403, "Forbidden")
        ttl = self.headers.get("x-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, "Bad Request")
        token = secrets.token_urlsafe(40)
        with LOCK:
            TOKENS[token] = time.time() + int(ttl)
        self.reply(200, token)

    def do_POST(self):
        if self.path == "/control":
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with LOCK:
                CONTROL.update(body)
                ISSUED.clear()
            return self.reply(200, "{}", "application/json")
        self.reply(405, "Method Not Allowed")

    def do_GET(self):
        if self.path == "/requests":
            with LOCK:
                return self.reply(200, json.dumps(SEEN), "application/json")
        self.seen("GET")
        token = self.headers.get("x-aws-ec2-metadata-token")
        if token is None and not CONTROL["v1"]:
            return self.reply(401, "Unauthorized")
        if token is not None and TOKENS.get(token, 0) < time.time():
            return self.reply(401, "Unauthorized")
        if not self.path.startswith(ROLE_PATH):
            return self.reply(404, "Not Found")
        arn = CONTROL["role_arn"]
        if CONTROL["no_role"] or not arn:
            return self.reply(404, "Not Found")
        name = CONTROL["role_name"] or arn.rsplit("/", 1)[-1]
        rest = self.path[len(ROLE_PATH):]
        if rest == "":
            return self.reply(200, name)
        if rest != name:
            return self.reply(404, "Not Found")
        now = datetime.datetime.now(datetime.timezone.utc)
        if CONTROL["error_doc"]:
            return self.reply(200, json.dumps({
                "Code": "AssumeRoleUnauthorizedAccess",
                "Message": "EC2 cannot assume the role " + name + ".  Please see documentation at "
                           "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html#troubleshoot_roles_ec2-trust",
                "LastUpdated": stamp(now)}), "text/plain")
        with LOCK:
            doc = ISSUED.get(arn)
            if doc is None or doc["_expires"] - time.time() < 900:
                creds = moto_assume(self.moto, arn, "i-0123456789abcdef0")
                expires = creds["Expiration"]
                doc = {"Code": "Success", "LastUpdated": stamp(now), "Type": "AWS-HMAC",
                       "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                       "Token": creds["SessionToken"], "Expiration": stamp(expires),
                       "_expires": expires.timestamp()}
                ISSUED[arn] = doc
        shown = {k: v for k, v in doc.items() if not k.startswith("_")}
        if CONTROL["expired"]:
            shown["Expiration"] = stamp(now - datetime.timedelta(minutes=5))
        # IMDS answers text/plain even for the JSON document.
        self.reply(200, json.dumps(shown, indent=2), "text/plain")


def main():
    Handler.moto = [a for a in sys.argv[1:] if not a.startswith("--")][0]
    serve_on_loopback(Handler)


if __name__ == "__main__":
    sys.exit(main())
