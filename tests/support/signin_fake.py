#!/usr/bin/env python3
"""A local stand-in for the AWS federation sign-in endpoint (no public fake exists),
speaking its wire format: GET /federation?Action=getSigninToken[&SessionDuration=N]
&Session={"sessionId","sessionKey","sessionToken"} answers {"SigninToken": "…"}.

It checks the session the way AWS does, against the moto it is given:
- the credentials must be a live role session in moto (its /moto-api/data.json) or
  the federation-token credentials moto hands out (asked of moto at start);
- SessionDuration is refused (HTTP 400) for a chained role session: one whose
  AssumeRole was signed with temporary (ASIA…) credentials, from moto's recorder.
GET /requests lists what it was sent, for the tests. Usage: signin_fake.py MOTO_URL;
prints its port, serves until its parent exits.
"""
import json
import sys
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler

from lifetime import serve_on_loopback
from sts_calls import calls

SEEN = []


def federation_key(moto):
    """The key id moto gives every federation session, asked of moto itself."""
    import boto3
    sts = boto3.client("sts", endpoint_url=moto, region_name="us-east-1",
                       aws_access_key_id="admin", aws_secret_access_key="admin")
    return sts.get_federation_token(Name="probe")["Credentials"]["AccessKeyId"]


def role_session(moto, key_id, secret, token):
    data = json.loads(urllib.request.urlopen(f"{moto}/moto-api/data.json").read())
    for role in data.get("sts", {}).get("AssumedRole", []):
        if (role.get("access_key_id"), role.get("secret_access_key"), role.get("session_token")) == (key_id, secret, token):
            return role
    return None


def chained(moto, role):
    for call in calls(moto):
        if call.get("Action") == "AssumeRole" and call.get("RoleArn") == role["role_arn"] \
                and call.get("RoleSessionName") == role["session_name"]:
            return call.get("AccessKey", "").startswith("ASIA")
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    moto = ""
    federation_key = ""

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/requests":
            return self.reply(200, SEEN)
        SEEN.append({"path": url.path, "query": query})
        if url.path != "/federation" or query.get("Action") != "getSigninToken":
            return self.reply(404, {"error": "unknown action"})
        try:
            session = json.loads(query["Session"])
            key_id, secret, token = session["sessionId"], session["sessionKey"], session["sessionToken"]
        except (KeyError, ValueError):
            return self.reply(400, {"error": "Invalid Session parameter"})
        role = role_session(self.moto, key_id, secret, token)
        if role is None and key_id != self.federation_key:
            return self.reply(400, {"error": "Invalid credentials"})
        if "SessionDuration" in query and role is not None and chained(self.moto, role):
            return self.reply(400, {"error": "Invalid credentials parameter: SessionDuration is not allowed for a chained role session"})
        return self.reply(200, {"SigninToken": f"signin-token-for-{key_id}"})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    Handler.moto = sys.argv[1]
    Handler.federation_key = federation_key(sys.argv[1])
    serve_on_loopback(Handler)


if __name__ == "__main__":
    sys.exit(main())
