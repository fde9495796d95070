#!/usr/bin/env python3
"""A local stand-in for IAM Identity Center (no public fake exists; moto has neither API),
speaking the real restJson1 wire format of both services, on one port:

OIDC (oidc.<region>.amazonaws.com):
  POST /client/register          RegisterClient
  POST /device_authorization     StartDeviceAuthorization
  POST /token                    CreateToken: device_code, authorization_code (PKCE S256
                                 checked), refresh_token grants
  GET  /authorize?...            the sign-in page: redirects (302) to redirect_uri with
                                 code and state, as a person clicking "Allow" would
  GET  /device?user_code=...     the device page: approves the code
Portal (portal.sso.<region>.amazonaws.com):
  GET  /federation/credentials?account_id=&role_name=   GetRoleCredentials
  GET  /assignment/accounts?max_result=&next_token=     ListAccounts (paginated)
  GET  /assignment/roles?account_id=&max_result=&next_token=   ListAccountRoles (paginated)
  POST /logout                   Logout (revokes the token)

Errors are AWS's: HTTP status, `x-amzn-ErrorType` header and a JSON body. The role
credentials are real in the moto it is given: each GetRoleCredentials is an AssumeRole
of `AWSReservedSSO_<role>_…` in moto, so the hops after it are real AssumeRole calls.

Test controls: POST /control with JSON (token_seconds, refresh_token, slow_down, expire_devices,
auto_approve, forbid ["acct/role"], revoke_all, refresh_fails, role_seconds, report_seconds;
for the listing: accounts [{"id","name","roles":[…]}] or org {"accounts": N, "roles": M},
page_max, throttle (the next N listing calls answer 429 TooManyRequestsException),
list_delay), GET /requests (what was called), GET /stats (the most listing calls that were
in flight at once), POST /issue (a token as `aws sso login` would have left it). tests/support/sso_fake_check.py
drives every call with botocore, so this fake cannot drift from AWS's models.
Usage: sso_fake.py MOTO_URL; prints its port, serves until its parent exits.
"""
import base64
import hashlib
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from lifetime import serve_on_loopback

LOCK = threading.Lock()
SEEN = []
CLIENTS = {}      # client_id -> {secret, grant_types, redirect_uris, scopes, expires}
DEVICES = {}      # device_code -> {client_id, user_code, approved, expires, polls}
CODES = {}        # code -> {client_id, challenge, redirect_uri}
TOKENS = {}       # access token -> {expires, revoked, refresh}
REFRESH = {}      # refresh token -> client_id
CONTROL = {
    "token_seconds": 3600,      # lifetime of issued access tokens
    "refresh_token": True,      # issue refresh tokens when scopes were registered
    "slow_down": 0,             # answer SlowDown to this many device polls first
    "expire_devices": False,    # device codes expire at once (ExpiredToken)
    "auto_approve": False,      # device codes are approved without the page
    "forbid": [],               # "account/role" pairs answered 403
    "refresh_fails": False,     # refresh_token grants fail (InvalidGrant)
    "role_seconds": 3600,       # lifetime of role credentials
    "report_seconds": 0,        # if set, the expiration reported for role credentials (moto's minimum is 15 min)
    "delay": 0.0,               # seconds every CreateToken takes
    "accounts": None,           # [{"id", "name", "roles": [...]}]: what the listing shows
                                # (and, when set, the only assignments GetRoleCredentials serves)
    "page_max": 100,            # the largest page the listing answers, whatever was asked
    "throttle": 0,              # answer TooManyRequestsException to this many listing calls
    "list_delay": 0.0,          # seconds every listing call takes
}
IN_FLIGHT = {"now": 0, "max": 0}
ORG_ROLES = ["AdministratorAccess", "ReadOnlyAccess", "Billing", "PowerUserAccess", "ViewOnly"]


def org(accounts, roles):
    """An organisation: N accounts with M roles each, names as companies write them."""
    return [{"id": str(100000000000 + i), "name": f"Team {i % 50} (env-{i})",
             "roles": ORG_ROLES[:roles]} for i in range(accounts)]


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def moto_assume(moto, account, role):
    import boto3
    sts = boto3.client("sts", endpoint_url=moto, region_name="us-east-1",
                       aws_access_key_id="ssofake", aws_secret_access_key="ssofake")
    answer = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_{role}_0123456789abcdef",
        RoleSessionName="sso-user@example.com",
        DurationSeconds=max(900, int(CONTROL["role_seconds"])),
    )["Credentials"]
    return answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK, 40 ms a call on Linux (2.9 s of a 505-call sync).
    disable_nagle_algorithm = True
    moto = ""

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            # A client that stops with calls in flight (a sync giving up) resets its
            # keep-alive connections: nothing to report.
            pass

    # --- plumbing ------------------------------------------------------------------
    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    def reply(self, status, body=None, error=None, headers=()):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if error:
            self.send_header("x-amzn-ErrorType", error)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def oidc_error(self, status, error, code, description):
        # The OIDC error shapes carry `error` and `error_description`.
        self.reply(status, {"error": code, "error_description": description}, error=error)

    def portal_error(self, status, error, message):
        self.reply(status, {"message": message}, error=error)

    def seen(self, op, **fields):
        with LOCK:
            SEEN.append(dict(op=op, at=time.time(), **fields))

    # --- GET ---------------------------------------------------------------------------
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/requests":
            with LOCK:
                return self.reply(200, list(SEEN))
        if url.path == "/stats":
            with LOCK:
                return self.reply(200, {"max_in_flight": IN_FLIGHT["max"]})
        if url.path == "/federation/credentials":
            return self.get_role_credentials(query)
        if url.path in ("/assignment/accounts", "/assignment/roles"):
            with LOCK:
                IN_FLIGHT["now"] += 1
                IN_FLIGHT["max"] = max(IN_FLIGHT["max"], IN_FLIGHT["now"])
            try:
                time.sleep(float(CONTROL["list_delay"]))
                if url.path == "/assignment/accounts":
                    return self.list_accounts(query)
                return self.list_account_roles(query)
            finally:
                with LOCK:
                    IN_FLIGHT["now"] -= 1
        if url.path == "/authorize":
            return self.authorize(query)
        if url.path == "/device":
            return self.device_page(query)
        return self.reply(404, {"message": "no such path"}, error="NotFoundException")

    def get_role_credentials(self, query):
        token = self.headers.get("x-amz-sso_bearer_token", "")
        account, role = query.get("account_id", ""), query.get("role_name", "")
        self.seen("GetRoleCredentials", account=account, role=role, token=token[-8:])
        if not account or not role or not token:
            return self.portal_error(400, "InvalidRequestException", "account_id, role_name and the bearer token are required")
        with LOCK:
            info = TOKENS.get(token)
        if info is None or info["revoked"] or info["expires"] <= time.time():
            return self.portal_error(401, "UnauthorizedException", "Session token not found or invalid")
        if f"{account}/{role}" in CONTROL["forbid"] or not self.assigned(account, role):
            return self.portal_error(403, "ForbiddenException", "No access")
        creds = moto_assume(self.moto, account, role)
        return self.reply(200, {"roleCredentials": {
            "accessKeyId": creds["AccessKeyId"],
            "secretAccessKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
            "expiration": int((time.time() + CONTROL["report_seconds"]) * 1000) if CONTROL["report_seconds"]
                          else int(creds["Expiration"].timestamp() * 1000),
        }})

    def assigned(self, account, role):
        accounts = CONTROL["accounts"]
        return accounts is None or any(a["id"] == account and role in a["roles"] for a in accounts)

    def listing_refusal(self):
        """The checks both listing calls share: the bearer token, then throttling."""
        token = self.headers.get("x-amz-sso_bearer_token", "")
        with LOCK:
            info = TOKENS.get(token)
            if info is None or info["revoked"] or info["expires"] <= time.time():
                return self.portal_error(401, "UnauthorizedException", "Session token not found or invalid")
            throttled = CONTROL["throttle"] > 0
            if throttled:
                CONTROL["throttle"] -= 1
        if throttled:
            return self.portal_error(429, "TooManyRequestsException", "Rate exceeded")
        return None

    def page(self, items, query, key):
        """One page of `items` from the offset `next_token` names (opaque to clients)."""
        try:
            size = int(query.get("max_result", "100"))
            start = int(base64.b64decode(query["next_token"]).decode()) if "next_token" in query else 0
        except (ValueError, UnicodeDecodeError):
            return self.portal_error(400, "InvalidRequestException", "bad next_token or max_result")
        if not 1 <= size <= 100:
            return self.portal_error(400, "InvalidRequestException", "max_result must be 1 to 100")
        end = start + min(size, int(CONTROL["page_max"]))
        answer = {key: items[start:end]}
        if end < len(items):
            answer["nextToken"] = base64.b64encode(str(end).encode()).decode()
        return self.reply(200, answer)

    def list_accounts(self, query):
        self.seen("ListAccounts", next_token=query.get("next_token"), max_result=query.get("max_result"))
        refusal = self.listing_refusal()
        if refusal is not None:
            return refusal
        accounts = [{"accountId": a["id"], "accountName": a["name"], "emailAddress": f"aws+{a['id']}@example.com"}
                    for a in (CONTROL["accounts"] or [])]
        return self.page(accounts, query, "accountList")

    def list_account_roles(self, query):
        account = query.get("account_id", "")
        self.seen("ListAccountRoles", account=account, next_token=query.get("next_token"),
                  max_result=query.get("max_result"))
        refusal = self.listing_refusal()
        if refusal is not None:
            return refusal
        found = [a for a in (CONTROL["accounts"] or []) if a["id"] == account]
        if not account:
            return self.portal_error(400, "InvalidRequestException", "account_id is required")
        roles = [{"roleName": r, "accountId": account} for r in (found[0]["roles"] if found else [])]
        return self.page(roles, query, "roleList")

    def authorize(self, query):
        self.seen("Authorize", **{k: query.get(k) for k in ("client_id", "redirect_uri", "code_challenge_method", "scopes", "response_type")})
        with LOCK:
            client = CLIENTS.get(query.get("client_id"))
        if client is None or "authorization_code" not in client["grant_types"]:
            return self.reply(400, {"message": "unknown client"})
        redirect = query.get("redirect_uri", "")
        parsed = urllib.parse.urlparse(redirect)
        # RFC 8252: a loopback redirect matches its registration on any port.
        registered = [urllib.parse.urlparse(u) for u in client["redirect_uris"]]
        if not any((parsed.scheme, parsed.hostname, parsed.path) == (r.scheme, r.hostname, r.path) for r in registered):
            return self.reply(400, {"message": "redirect_uri not registered"})
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge") or query.get("response_type") != "code":
            return self.reply(400, {"message": "PKCE S256 is required"})
        code = secrets.token_urlsafe(24)
        with LOCK:
            CODES[code] = {"client_id": query["client_id"], "challenge": query["code_challenge"], "redirect_uri": redirect}
        target = redirect + "?" + urllib.parse.urlencode({"code": code, "state": query.get("state", "")})
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def device_page(self, query):
        user_code = query.get("user_code", "")
        self.seen("DevicePage", user_code=user_code)
        with LOCK:
            for device in DEVICES.values():
                if device["user_code"] == user_code:
                    device["approved"] = True
                    return self.reply(200, {"approved": True})
        return self.reply(404, {"message": "unknown code"})

    # --- POST --------------------------------------------------------------------------
    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        body = self.body()
        if body is None:
            return self.oidc_error(400, "InvalidRequestException", "invalid_request", "body is not JSON")
        if url.path == "/control":
            with LOCK:
                if body.pop("revoke_all", False):
                    for info in TOKENS.values():
                        info["revoked"] = True
                if "org" in body:
                    body["accounts"] = org(int(body["org"]["accounts"]), int(body.pop("org")["roles"]))
                CONTROL.update(body)
                shown = dict(CONTROL, accounts=len(CONTROL["accounts"] or []))
            return self.reply(200, shown)
        if url.path == "/issue":
            return self.reply(200, self.issue_for_cache(body))
        if url.path == "/client/register":
            return self.register_client(body)
        if url.path == "/device_authorization":
            return self.start_device_authorization(body)
        if url.path == "/token":
            return self.create_token(body)
        if url.path == "/logout":
            token = self.headers.get("x-amz-sso_bearer_token", "")
            self.seen("Logout", token=token[-8:])
            with LOCK:
                info = TOKENS.get(token)
                if info is None:
                    return self.portal_error(401, "UnauthorizedException", "Session token not found or invalid")
                info["revoked"] = True
            return self.reply(200)
        return self.reply(404, {"message": "no such path"}, error="NotFoundException")

    def register_client(self, body):
        self.seen("RegisterClient", grant_types=body.get("grantTypes"), scopes=body.get("scopes"),
                  redirect_uris=body.get("redirectUris"), client_type=body.get("clientType"))
        if body.get("clientType") != "public" or not body.get("clientName"):
            return self.oidc_error(400, "InvalidClientMetadataException", "invalid_client_metadata", "clientName and clientType public are required")
        client_id, secret = "client-" + secrets.token_hex(8), "secret-" + secrets.token_hex(16)
        issued = int(time.time())
        with LOCK:
            CLIENTS[client_id] = {
                "secret": secret,
                "grant_types": body.get("grantTypes") or ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
                "redirect_uris": body.get("redirectUris") or [],
                "scopes": body.get("scopes") or [],
                "expires": issued + 90 * 86400,
            }
        return self.reply(200, {"clientId": client_id, "clientSecret": secret, "clientIdIssuedAt": issued,
                                "clientSecretExpiresAt": issued + 90 * 86400})

    def client(self, body):
        with LOCK:
            client = CLIENTS.get(body.get("clientId"))
        if client is None or client["secret"] != body.get("clientSecret") or client["expires"] <= time.time():
            return None
        return client

    def start_device_authorization(self, body):
        self.seen("StartDeviceAuthorization", start_url=body.get("startUrl"))
        if self.client(body) is None:
            return self.oidc_error(401, "InvalidClientException", "invalid_client", "unknown client")
        device_code, user_code = secrets.token_urlsafe(16), f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        base = f"http://{self.headers.get('Host')}/device"
        with LOCK:
            DEVICES[device_code] = {"client_id": body["clientId"], "user_code": user_code,
                                    "approved": CONTROL["auto_approve"], "expires": time.time() + 600, "polls": 0}
        return self.reply(200, {"deviceCode": device_code, "userCode": user_code, "verificationUri": base,
                                "verificationUriComplete": f"{base}?user_code={user_code}",
                                "expiresIn": 600, "interval": 1})

    def new_token(self, client):
        access = "access-" + secrets.token_urlsafe(24)
        refresh = None
        if client["scopes"] and CONTROL["refresh_token"]:
            refresh = "refresh-" + secrets.token_urlsafe(24)
        with LOCK:
            TOKENS[access] = {"expires": time.time() + CONTROL["token_seconds"], "revoked": False, "refresh": refresh}
            if refresh:
                REFRESH[refresh] = client
        answer = {"accessToken": access, "tokenType": "Bearer", "expiresIn": int(CONTROL["token_seconds"])}
        if refresh:
            answer["refreshToken"] = refresh
        return answer

    def create_token(self, body):
        grant = body.get("grantType")
        self.seen("CreateToken", grant=grant)
        time.sleep(float(CONTROL["delay"]))
        client = self.client(body)
        if client is None:
            return self.oidc_error(401, "InvalidClientException", "invalid_client", "unknown client")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            with LOCK:
                device = DEVICES.get(body.get("deviceCode"))
                if device is None or device["client_id"] != body["clientId"]:
                    return self.oidc_error(400, "InvalidGrantException", "invalid_grant", "unknown device code")
                device["polls"] += 1
                if CONTROL["expire_devices"] or device["expires"] <= time.time():
                    return self.oidc_error(400, "ExpiredTokenException", "expired_token", "device code expired")
                if CONTROL["slow_down"] > 0:
                    CONTROL["slow_down"] -= 1
                    return self.oidc_error(400, "SlowDownException", "slow_down", "slow down")
                if not device["approved"]:
                    return self.oidc_error(400, "AuthorizationPendingException", "authorization_pending", "pending")
                del DEVICES[body["deviceCode"]]
            return self.reply(200, self.new_token(client))
        if grant == "authorization_code":
            with LOCK:
                code = CODES.pop(body.get("code", ""), None)
            if code is None or code["client_id"] != body["clientId"] or code["redirect_uri"] != body.get("redirectUri"):
                return self.oidc_error(400, "InvalidGrantException", "invalid_grant", "unknown code or redirect_uri")
            verifier = body.get("codeVerifier") or ""
            if b64url(hashlib.sha256(verifier.encode()).digest()) != code["challenge"]:
                return self.oidc_error(400, "InvalidGrantException", "invalid_grant", "code_verifier does not match")
            return self.reply(200, self.new_token(client))
        if grant == "refresh_token":
            with LOCK:
                owner = REFRESH.get(body.get("refreshToken", ""))
                if owner is not None and not CONTROL["refresh_fails"]:
                    # A used refresh token is spent: the new one replaces it.
                    del REFRESH[body["refreshToken"]]
            if owner is None or CONTROL["refresh_fails"]:
                return self.oidc_error(400, "InvalidGrantException", "invalid_grant", "refresh token is invalid")
            return self.reply(200, self.new_token(owner))
        return self.oidc_error(400, "UnsupportedGrantTypeException", "unsupported_grant_type", f"grant {grant}")

    def issue_for_cache(self, body):
        """A token document as `aws sso login` writes it, registered with this fake."""
        scopes = ["sso:account:access"] if body.get("refreshable", True) else []
        client_id, secret = "client-" + secrets.token_hex(8), "secret-" + secrets.token_hex(16)
        client = {"secret": secret, "grant_types": ["refresh_token"], "redirect_uris": [], "scopes": scopes,
                  "expires": time.time() + 90 * 86400}
        with LOCK:
            CLIENTS[client_id] = client
        saved = CONTROL["token_seconds"]
        CONTROL["token_seconds"] = body.get("expires_in", 3600)
        token = self.new_token(client)
        CONTROL["token_seconds"] = saved
        expires = time.gmtime(time.time() + body.get("expires_in", 3600))
        doc = {"startUrl": body.get("start_url", ""), "region": body.get("region", "us-east-1"),
               "accessToken": token["accessToken"], "expiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", expires)}
        if "refreshToken" in token:
            doc.update({"refreshToken": token["refreshToken"], "clientId": client_id, "clientSecret": secret,
                        "registrationExpiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(client["expires"]))})
        return doc


def main():
    Handler.moto = [a for a in sys.argv[1:] if not a.startswith("--")][0]
    serve_on_loopback(Handler)


if __name__ == "__main__":
    sys.exit(main())
