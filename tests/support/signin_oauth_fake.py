#!/usr/bin/env python3
"""A local stand-in for the AWS Sign-In service's OAuth 2.0 endpoints used by `aws login`
(no public fake exists; moto has no `signin`), speaking the real restJson1 wire format of
botocore's `signin` 2023-01-01 model. Not tests/support/signin_fake.py, which is the
console federation endpoint (a different service).

  POST /v1/token        CreateOAuth2Token. Checks the DPoP proof as AWS does (RFC 9449):
                        typ dpop+jwt, alg ES256, a P-256 jwk, the ES256 signature (raw
                        r||s) over header.payload, htm POST, htu the exact URL, iat within
                        5 minutes, jti never seen before. Grants:
                          refresh_token       the token must be live, unused (single use:
                                              each refresh rotates it), issued to this
                                              clientId and bound to the proof's key
                                              (RFC 7638 thumbprint);
                          authorization_code  the code once, its PKCE verifier
                                              (SHA-256 of it, base64url = the challenge),
                                              the same redirectUri and clientId; the
                                              answer adds idToken (sub = the user's ARN).
  GET  /v1/authorize?…  the sign-in page: as the person clicking through, it redirects
                        (302) to redirect_uri with code and state (same-device), or, for
                        the cross-device client, shows the text to paste:
                        base64("state=…&code=…").

Errors are AWS's: status, `x-amzn-ErrorType` and `{"error": CODE, "message"}`:
401 AccessDeniedException TOKEN_EXPIRED (revoked or ended session), 403
AccessDeniedException USER_CREDENTIALS_CHANGED / INSUFFICIENT_PERMISSIONS, 400
ValidationException INVALID_REQUEST (a bad proof, a spent refresh token, a bad code),
429 TooManyRequestsError, 500 InternalServerException.

The credentials are real in the moto it is given (900 s, made with the user's keys; see
moto_session for how they name the user), so the hops after it are real AssumeRole calls.

Test controls: POST /control with JSON: user {"arn","key","secret"} (who signs in at
/v1/authorize), token_seconds (expiresIn), revoke_all, credentials_changed,
insufficient, fail [statuses answered to the next calls, e.g. [429, 500]], delay
(seconds each CreateOAuth2Token takes), deny (the sign-in page answers error=access_denied).
POST /issue {"arn","key","secret","format":"sec1"|"pkcs8","expires_in","client_id","revoked"}:
a session document as `aws login` leaves it in ~/.aws/login/cache (revoked: its refresh
answers TOKEN_EXPIRED). GET /requests: what was
called. signin_oauth_fake_check.py drives it with botocore (the model and LoginProvider).

Usage: signin_oauth_fake.py MOTO_URL            serves; prints its port first
       signin_oauth_fake.py --browser URL       the person's browser: follows URL (a
                                                file:// redirect page included) to the end
"""
import base64
import hashlib
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler

LOCK = threading.Lock()
SEEN = []
JTIS = set()
REFRESH = {}   # refresh token -> {arn, key, secret, client_id, jkt, used, session}
CODES = {}     # code -> {client_id, challenge, redirect_uri, user, used}
SESSIONS = {}  # session id -> {revoked}
CONTROL = {
    "user": None,
    "token_seconds": 900,
    "revoke_all": False,
    "credentials_changed": False,
    "insufficient": False,
    "fail": [],
    "delay": 0.0,
    "deny": False,
}
SAME = "arn:aws:signin:::devtools/same-device"
CROSS = "arn:aws:signin:::devtools/cross-device"


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(jwk):
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
                           separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def new_key_pem(fmt):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8 if fmt == "pkcs8" else serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
           "y": b64url(numbers.y.to_bytes(32, "big"))}
    return pem, jwk


def check_proof(proof, url):
    """The jwk of a valid DPoP proof for POST `url`, or raises ValueError saying why."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    if not proof:
        raise ValueError("no DPoP header")
    parts = proof.split(".")
    if len(parts) != 3:
        raise ValueError("DPoP proof is not a compact JWT")
    header = json.loads(unb64url(parts[0]))
    payload = json.loads(unb64url(parts[1]))
    if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
        raise ValueError("DPoP header must be typ dpop+jwt, alg ES256")
    jwk = header.get("jwk") or {}
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("DPoP jwk must be an EC P-256 key")
    signature = unb64url(parts[2])
    if len(signature) != 64:
        raise ValueError("ES256 signature must be raw r||s (64 bytes)")
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64url(jwk["x"]), "big"), int.from_bytes(unb64url(jwk["y"]), "big"),
        ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("DPoP signature does not verify")
    if payload.get("htm") != "POST":
        raise ValueError("DPoP htm must be POST")
    if payload.get("htu") != url:
        raise ValueError(f"DPoP htu {payload.get('htu')!r} is not {url!r}")
    iat = payload.get("iat")
    if not isinstance(iat, int) or abs(time.time() - iat) > 300:
        raise ValueError("DPoP iat is not within 5 minutes of now")
    jti = payload.get("jti")
    if not isinstance(jti, str) or not jti:
        raise ValueError("DPoP jti missing")
    with LOCK:
        if jti in JTIS:
            raise ValueError("DPoP jti replayed")
        JTIS.add(jti)
    return jwk


def moto_session(moto, user):
    """Session credentials for the user, real in moto. moto's GetSessionToken answers
    for a fixed `user/moto` whoever asks, so the session is an AssumeRole of a role
    named after the user: GetCallerIdentity then names them
    (`assumed-role/<user name>/<user name>`)."""
    import boto3
    sts = boto3.client("sts", endpoint_url=moto, region_name="us-east-1",
                       aws_access_key_id=user["key"], aws_secret_access_key=user["secret"])
    account, name = user["arn"].split(":")[4], user["arn"].rsplit("/", 1)[-1]
    return sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/signin/{name}",
                           RoleSessionName=name, DurationSeconds=900)["Credentials"]


def id_token(arn):
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": arn, "iat": int(time.time())}).encode())
    return f"{header}.{claims}."


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    moto = ""

    def log_message(self, *args):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    def reply(self, status, body=None, error=None, headers=(), text=None):
        data = text.encode() if text is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if text is not None else "application/json")
        if error:
            self.send_header("x-amzn-ErrorType", error)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, status, kind, code, message, **seen):
        self.seen("CreateOAuth2Token", status=status, error=code, message=message, **seen)
        self.reply(status, {"error": code, "message": message}, error=kind)

    def seen(self, op, **fields):
        with LOCK:
            SEEN.append(dict(op=op, at=time.time(), **fields))

    def base(self):
        return f"http://{self.headers.get('Host')}"

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/requests":
            with LOCK:
                return self.reply(200, SEEN)
        if url.path == "/v1/authorize":
            return self.authorize(query)
        if url.path == "/v1/sessions/confirmation":
            return self.reply(200, text="Paste the code shown into your terminal.")
        self.reply(404, {"message": "not found"})

    def authorize(self, query):
        wanted = {"response_type": "code", "scope": "openid", "code_challenge_method": "SHA-256"}
        bad = [k for k, v in wanted.items() if query.get(k) != v]
        bad += [k for k in ("client_id", "state", "redirect_uri", "code_challenge") if not query.get(k)]
        if query.get("client_id") not in (SAME, CROSS):
            bad.append("client_id")
        self.seen("Authorize", client_id=query.get("client_id"), bad=bad)
        if bad:
            return self.reply(400, {"error": "INVALID_REQUEST", "message": f"bad {', '.join(bad)}"})
        user = CONTROL["user"]
        if user is None:
            return self.reply(400, {"error": "INVALID_REQUEST", "message": "no user set (POST /control user)"})
        redirect = query["redirect_uri"]
        if CONTROL["deny"]:
            return self.reply(302, headers=[("Location", redirect + "?" + urllib.parse.urlencode(
                {"error": "access_denied", "state": query["state"]}))])
        code = secrets.token_urlsafe(24)
        with LOCK:
            CODES[code] = {"client_id": query["client_id"], "challenge": query["code_challenge"],
                           "redirect_uri": redirect, "user": dict(user), "used": False}
        if query["client_id"] == CROSS:
            paste = base64.b64encode(urllib.parse.urlencode({"state": query["state"], "code": code}).encode())
            return self.reply(200, text=paste.decode())
        self.reply(302, headers=[("Location", redirect + "?" + urllib.parse.urlencode(
            {"code": code, "state": query["state"]}))])

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        body = self.body()
        if url.path == "/control":
            with LOCK:
                CONTROL.update(body or {})
            return self.reply(200, CONTROL)
        if url.path == "/issue":
            return self.reply(200, self.issue(body or {}))
        if url.path == "/v1/token":
            return self.create_token(body)
        self.reply(404, {"message": "not found"})

    def issue(self, body):
        """A session as `aws login` leaves it: key, bound refresh token, credentials."""
        pem, jwk = new_key_pem(body.get("format", "sec1"))
        user = {"arn": body["arn"], "key": body["key"], "secret": body["secret"]}
        client_id = body.get("client_id", SAME)
        refresh = "ASOR" + secrets.token_urlsafe(32)
        session = secrets.token_hex(8)
        with LOCK:
            SESSIONS[session] = {"revoked": bool(body.get("revoked"))}
            REFRESH[refresh] = {**user, "client_id": client_id, "jkt": thumbprint(jwk),
                                "used": False, "session": session}
        creds = moto_session(self.moto, user)
        expires = time.gmtime(time.time() + int(body.get("expires_in", 900)))
        return {
            "accessToken": {
                "accessKeyId": creds["AccessKeyId"], "secretAccessKey": creds["SecretAccessKey"],
                "sessionToken": creds["SessionToken"], "accountId": user["arn"].split(":")[4],
                "expiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", expires),
            },
            "tokenType": "aws_sigv4",
            "clientId": client_id,
            "refreshToken": refresh,
            "idToken": id_token(user["arn"]),
            "dpopKey": pem,
        }

    def create_token(self, body):
        if CONTROL["delay"]:
            time.sleep(CONTROL["delay"])
        if not isinstance(body, dict):
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "body is not JSON")
        grant = body.get("grantType")
        try:
            jwk = check_proof(self.headers.get("DPoP"), self.base() + "/v1/token")
        except (ValueError, KeyError, TypeError) as e:
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", str(e), grant=grant)
        with LOCK:
            fail = CONTROL["fail"].pop(0) if CONTROL["fail"] else None
        if fail == 429:
            return self.refuse(429, "TooManyRequestsError", "INVALID_REQUEST", "Rate exceeded", grant=grant)
        if fail:
            return self.refuse(fail, "InternalServerException", "server_error", "Internal error", grant=grant)
        if body.get("clientId") not in (SAME, CROSS):
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "unknown clientId", grant=grant)
        if grant == "refresh_token":
            return self.refresh(body, jwk)
        if grant == "authorization_code":
            return self.redeem(body, jwk)
        self.refuse(400, "ValidationException", "INVALID_REQUEST", f"unsupported grantType {grant!r}", grant=grant)

    def refresh(self, body, jwk):
        # A proof by another key or client spends nothing: only the holder can.
        with LOCK:
            entry = REFRESH.get(body.get("refreshToken") or "")
            bound = entry is not None and entry["jkt"] == thumbprint(jwk) and entry["client_id"] == body["clientId"]
            spent = entry is not None and entry["used"]
            if bound and not spent:
                entry["used"] = True
        if entry is None:
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "unknown refresh token", grant="refresh_token")
        if not bound:
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "DPoP key or clientId is not the one the refresh token is bound to", grant="refresh_token")
        if spent:
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "refresh token already used", grant="refresh_token")
        if CONTROL["revoke_all"] or SESSIONS[entry["session"]]["revoked"]:
            return self.refuse(401, "AccessDeniedException", "TOKEN_EXPIRED", "Session expired", grant="refresh_token")
        if CONTROL["credentials_changed"]:
            return self.refuse(403, "AccessDeniedException", "USER_CREDENTIALS_CHANGED", "Credentials changed", grant="refresh_token")
        if CONTROL["insufficient"]:
            return self.refuse(403, "AccessDeniedException", "INSUFFICIENT_PERMISSIONS", "Not authorized to perform signin:CreateOAuth2Token", grant="refresh_token")
        self.grant(entry, entry["session"], grant="refresh_token")

    def redeem(self, body, jwk):
        with LOCK:
            entry = CODES.get(body.get("code") or "")
            spent = entry is not None and entry["used"]
            if entry is not None:
                entry["used"] = True
        if entry is None or spent:
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "unknown or used code", grant="authorization_code")
        verifier = body.get("codeVerifier") or ""
        if not re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier):
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "bad codeVerifier", grant="authorization_code")
        if b64url(hashlib.sha256(verifier.encode()).digest()) != entry["challenge"]:
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "PKCE verifier does not match", grant="authorization_code")
        if body.get("redirectUri") != entry["redirect_uri"] or body.get("clientId") != entry["client_id"]:
            return self.refuse(400, "ValidationException", "INVALID_REQUEST", "redirectUri or clientId differs", grant="authorization_code")
        session = secrets.token_hex(8)
        with LOCK:
            SESSIONS[session] = {"revoked": False}
        user = entry["user"]
        self.grant({**user, "client_id": entry["client_id"], "jkt": thumbprint(jwk)}, session,
                   grant="authorization_code", id_token=id_token(user["arn"]))

    def grant(self, entry, session, grant, id_token=None):
        creds = moto_session(self.moto, entry)
        refresh = "ASOR" + secrets.token_urlsafe(32)
        with LOCK:
            REFRESH[refresh] = {**{k: entry[k] for k in ("arn", "key", "secret", "client_id", "jkt")},
                                "used": False, "session": session}
        out = {
            "accessToken": {"accessKeyId": creds["AccessKeyId"], "secretAccessKey": creds["SecretAccessKey"],
                            "sessionToken": creds["SessionToken"]},
            "tokenType": "aws_sigv4",
            "expiresIn": int(CONTROL["token_seconds"]),
            "refreshToken": refresh,
        }
        if id_token:
            out["idToken"] = id_token
        self.seen("CreateOAuth2Token", status=200, grant=grant, arn=entry["arn"])
        self.reply(200, out)


def browse(url):
    """The person's browser: a file:// page is read for the address it sends on to."""
    log = os.environ.get("SIGNIN_BROWSER_LOG")
    if log:
        with open(log, "a") as f:
            f.write(url + "\n")
    if url.startswith("file://"):
        page = open(urllib.parse.unquote(url[len("file://"):])).read()
        url = json.loads(re.search(r"location\.replace\((\".*?\")\);", page).group(1))
    with urllib.request.urlopen(url, timeout=30) as answer:
        answer.read()


def main():
    if sys.argv[1:2] == ["--browser"]:
        return browse(sys.argv[2])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from lifetime import serve_on_loopback
    Handler.moto = [a for a in sys.argv[1:] if not a.startswith("--")][0]
    serve_on_loopback(Handler)


if __name__ == "__main__":
    sys.exit(main())
