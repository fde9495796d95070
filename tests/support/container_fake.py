#!/usr/bin/env python3
"""A local stand-in for a container credentials endpoint (the ECS agent at
169.254.170.2, the EKS Pod Identity agent at 169.254.170.23), speaking their wire format:

  GET <any path>   with `Authorization: <token>` when the control sets one (EKS Pod
                   Identity always does; ECS with a relative URI does not) →
      200 {"AccessKeyId","SecretAccessKey","Token","Expiration":"…Z","RoleArn","AccountId"}
      401/403 {"Code","Message"} when the token is missing or wrong, 500 on request.

The credentials are real in the moto it is given (an AssumeRole of `role_arn` there), so
hops above a container role are real AssumeRole calls; the same credentials are handed
out until they near expiry, as the agents do.

Test controls: POST /control with JSON: role_arn, token (the Authorization value it
demands, or null), fail (answer the next N requests with 500). GET /requests: what was
asked (path, the Authorization value). tests/support/metadata_fake_check.py drives it
with botocore's own ContainerProvider and ContainerMetadataFetcher.
Usage: container_fake.py MOTO_URL; prints its port, serves until its parent exits.
"""
import datetime
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from imds_fake import moto_assume, stamp
from lifetime import serve_on_loopback

LOCK = threading.Lock()
SEEN = []
ISSUED = {}
CONTROL = {"role_arn": None, "token": None, "fail": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    moto = ""

    def log_message(self, *args):
        pass

    def reply(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path == "/control":
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with LOCK:
                CONTROL.update(body)
                ISSUED.clear()
            return self.reply(200, {})
        self.reply(405, {"Code": "MethodNotAllowed", "Message": "GET only"})

    def do_GET(self):
        if self.path == "/requests":
            with LOCK:
                return self.reply(200, SEEN)
        auth = self.headers.get("Authorization")
        with LOCK:
            SEEN.append({"path": self.path, "authorization": auth, "accept": self.headers.get("Accept")})
            failing = CONTROL["fail"] > 0
            if failing:
                CONTROL["fail"] -= 1
        if failing:
            return self.reply(500, {"Code": "InternalError", "Message": "try again"})
        if CONTROL["token"] is not None:
            if auth is None:
                return self.reply(401, {"Code": "AccessDeniedException", "Message": "Authorization header is missing"})
            if auth != CONTROL["token"]:
                return self.reply(403, {"Code": "AccessDeniedException", "Message": "The authorization token is not valid"})
        arn = CONTROL["role_arn"]
        if not arn:
            return self.reply(404, {"Code": "NotFound", "Message": "no role for this task"})
        with LOCK:
            doc = ISSUED.get(arn)
            if doc is None or doc["_expires"] - time.time() < 900:
                creds = moto_assume(self.moto, arn, "container-task")
                doc = {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                       "Token": creds["SessionToken"], "Expiration": stamp(creds["Expiration"]),
                       "RoleArn": arn, "AccountId": arn.split(":")[4],
                       "_expires": creds["Expiration"].timestamp()}
                ISSUED[arn] = doc
        self.reply(200, {k: v for k, v in doc.items() if not k.startswith("_")})


def main():
    Handler.moto = [a for a in sys.argv[1:] if not a.startswith("--")][0]
    serve_on_loopback(Handler)


if __name__ == "__main__":
    sys.exit(main())
