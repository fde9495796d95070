#!/usr/bin/env python3
"""Drives tests/support/signin_oauth_fake.py with botocore: its `signin` client (the
service model: request and answer shapes, every modelled error) and its own
`LoginProvider` (botocore[crt]: the DPoP proof botocore builds), so neither the fake nor
what awsrole is tested against can drift from AWS's wire format.

Checks: the authorization-code grant with PKCE (idToken naming the user) and the
refresh grant through the signin client with botocore's DPoP handler; a spent refresh
token, a replayed jti, a proof by another key, a wrong PKCE verifier refused; the
modelled errors (AccessDeniedException with TOKEN_EXPIRED / USER_CREDENTIALS_CHANGED /
INSUFFICIENT_PERMISSIONS, TooManyRequestsError, InternalServerException); botocore's
LoginProvider refreshing a due session from a PKCS#8 and from a SEC1 key file through
the fake, saving the rotated refresh token, and the credentials naming the user in moto;
LoginProvider on a revoked session raising LoginRefreshRequired.
Usage: signin_oauth_fake_check.py FAKE_URL MOTO_URL USER_ARN KEY SECRET; prints "ok"."""
import base64
import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session

fake, moto, arn, key, secret = sys.argv[1:6]
SAME = "arn:aws:signin:::devtools/same-device"


def post(path, fields):
    req = urllib.request.Request(f"{fake}{path}", data=json.dumps(fields).encode(), method="POST")
    return json.loads(urllib.request.urlopen(req).read())


def control(**fields):
    post("/control", fields)


def requests():
    return json.loads(urllib.request.urlopen(f"{fake}/requests").read())


def signin_client(retries=True):
    # botocore retries 429 and 5xx with the same request, DPoP proof included: the
    # fake would refuse the copy as a replayed jti, so the error checks make one try.
    extra = {} if retries else {"retries": {"total_max_attempts": 1}}
    return boto3.client("signin", endpoint_url=fake, region_name="eu-west-1",
                        config=botocore.config.Config(signature_version=botocore.UNSIGNED, **extra))


def with_key(client, private_key, proof=None):
    """botocore's own DPoP handler, or one that sends `proof` as it is."""
    if proof is None:
        handler = botocore.credentials._build_add_dpop_header_handler(private_key)
    else:
        def handler(**kwargs):
            kwargs["params"]["headers"]["DPoP"] = proof
    client.meta.events.register("before-call.signin.CreateOAuth2Token", handler)
    return client


def crt_key(pem):
    return botocore.credentials.LoginCredentialFetcher._load_private_key({"dpopKey": pem})


def expect_error(call, kind, code):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == kind, e.response
        assert e.response.get("error") == code or e.response["Error"].get("Message"), e.response
        return e
    raise AssertionError(f"no {kind}")


def caller(creds):
    sts = boto3.client("sts", endpoint_url=moto, region_name="us-east-1",
                       aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
                       aws_session_token=creds["sessionToken"])
    return sts.get_caller_identity()["Arn"]


# --- the authorization-code grant with PKCE, through the model -------------------------
control(user={"arn": arn, "key": key, "secret": secret})
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
raw_key = ec.generate_private_key(ec.SECP256R1())
pem = raw_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
verifier = secrets.token_urlsafe(48)[:64]
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
redirect = "http://127.0.0.1:9/oauth/callback"
query = urllib.parse.urlencode({"response_type": "code", "client_id": SAME, "state": "s1",
                                "code_challenge_method": "SHA-256", "scope": "openid",
                                "redirect_uri": redirect, "code_challenge": challenge})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


try:
    urllib.request.build_opener(NoRedirect).open(f"{fake}/v1/authorize?{query}")
    raise AssertionError("the sign-in page did not redirect")
except urllib.error.HTTPError as e:
    assert e.code == 302
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(e.headers["Location"]).query))
assert answer["state"] == "s1"
client = with_key(signin_client(), crt_key(pem))
wrong = dict(clientId=SAME, grantType="authorization_code", code=answer["code"],
             codeVerifier="x" * 64, redirectUri=redirect)
expect_error(lambda: client.create_oauth2_token(tokenInput=wrong), "ValidationException", "INVALID_REQUEST")
# The code was spent by the failed try: a new one.
try:
    urllib.request.build_opener(NoRedirect).open(f"{fake}/v1/authorize?{query}")
except urllib.error.HTTPError as e:
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(e.headers["Location"]).query))
out = client.create_oauth2_token(tokenInput=dict(clientId=SAME, grantType="authorization_code",
                                                 code=answer["code"], codeVerifier=verifier,
                                                 redirectUri=redirect))["tokenOutput"]
claims = json.loads(base64.urlsafe_b64decode(out["idToken"].split(".")[1] + "=="))
assert claims["sub"] == arn, claims
assert out["tokenType"] == "aws_sigv4" and out["expiresIn"] == 900
assert caller(out["accessToken"]).endswith("/" + arn.split("/")[-1]), caller(out["accessToken"])

# --- refresh: rotation, single use, key binding, jti -----------------------------------
first = out["refreshToken"]
out2 = client.create_oauth2_token(tokenInput=dict(clientId=SAME, grantType="refresh_token",
                                                  refreshToken=first))["tokenOutput"]
assert out2["refreshToken"] != first and "idToken" not in out2
expect_error(lambda: client.create_oauth2_token(tokenInput=dict(clientId=SAME, grantType="refresh_token",
                                                                refreshToken=first)),
             "ValidationException", "INVALID_REQUEST")
other_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
thief = with_key(signin_client(), crt_key(other_key))
expect_error(lambda: thief.create_oauth2_token(tokenInput=dict(clientId=SAME, grantType="refresh_token",
                                                               refreshToken=out2["refreshToken"])),
             "ValidationException", "INVALID_REQUEST")
proof = botocore.credentials._build_dpop_header(crt_key(pem), f"{fake}/v1/token")
once = with_key(signin_client(), None, proof=proof)
out3 = once.create_oauth2_token(tokenInput=dict(clientId=SAME, grantType="refresh_token",
                                                refreshToken=out2["refreshToken"]))["tokenOutput"]
expect_error(lambda: once.create_oauth2_token(tokenInput=dict(clientId=SAME, grantType="refresh_token",
                                                              refreshToken=out3["refreshToken"])),
             "ValidationException", "INVALID_REQUEST")
wrong_url = botocore.credentials._build_dpop_header(crt_key(pem), f"{fake}/v1/other")
expect_error(lambda: with_key(signin_client(), None, proof=wrong_url).create_oauth2_token(
    tokenInput=dict(clientId=SAME, grantType="refresh_token", refreshToken=out3["refreshToken"])),
    "ValidationException", "INVALID_REQUEST")
assert "htu" in requests()[-1]["message"], requests()[-1]

# --- the modelled errors ---------------------------------------------------------------
def refresh_with(doc):
    c = with_key(signin_client(retries=False), crt_key(doc["dpopKey"]))
    return lambda: c.create_oauth2_token(tokenInput=dict(clientId=SAME, grantType="refresh_token",
                                                         refreshToken=doc["refreshToken"]))


for setting, status, code in [("revoke_all", 401, "TOKEN_EXPIRED"),
                              ("credentials_changed", 403, "USER_CREDENTIALS_CHANGED"),
                              ("insufficient", 403, "INSUFFICIENT_PERMISSIONS")]:
    control(**{setting: True})
    doc = post("/issue", {"arn": arn, "key": key, "secret": secret})
    e = expect_error(refresh_with(doc), "AccessDeniedException", code)
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert e.response.get("error") == code, e.response
    control(**{setting: False})
for status, kind in [(429, "TooManyRequestsError"), (500, "InternalServerException")]:
    control(fail=[status] * 5)
    doc = post("/issue", {"arn": arn, "key": key, "secret": secret})
    expect_error(refresh_with(doc), kind, None)
    control(fail=[])

# --- botocore's LoginProvider refreshes a due session through the fake ---------------
for fmt in ["pkcs8", "sec1"]:
    with tempfile.TemporaryDirectory() as home:
        cache = os.path.join(home, "cache")
        os.makedirs(cache)
        doc = post("/issue", {"arn": arn, "key": key, "secret": secret, "format": fmt, "expires_in": 60})
        assert doc["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY" if fmt == "sec1" else "-----BEGIN PRIVATE KEY")
        path = os.path.join(cache, hashlib.sha256(arn.encode()).hexdigest() + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
        config = os.path.join(home, "config")
        with open(config, "w") as f:
            f.write(f"[profile dev]\nlogin_session = {arn}\nregion = eu-west-1\n")
        os.environ.update(AWS_CONFIG_FILE=config, AWS_LOGIN_CACHE_DIRECTORY=cache,
                          AWS_ENDPOINT_URL_SIGNIN=fake, AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "none"))
        before = len([r for r in requests() if r["op"] == "CreateOAuth2Token"])
        session = botocore.session.Session(profile="dev")
        creds = session.get_credentials()
        assert creds.method == "login", creds.method
        frozen = creds.get_frozen_credentials()  # due (60 s left): refreshes
        calls = [r for r in requests() if r["op"] == "CreateOAuth2Token"][before:]
        assert [(c["grant"], c["status"]) for c in calls] == [("refresh_token", 200)], calls
        saved = json.load(open(path))
        assert saved["refreshToken"] != doc["refreshToken"], "rotated token saved"
        assert saved["accessToken"]["accessKeyId"] == frozen.access_key
        assert saved["idToken"] == doc["idToken"], "other fields kept"
        assert caller({"accessKeyId": frozen.access_key, "secretAccessKey": frozen.secret_key,
                       "sessionToken": frozen.token}).endswith("/" + arn.split("/")[-1])

# A revoked session: botocore's own message.
with tempfile.TemporaryDirectory() as home:
    doc = post("/issue", {"arn": arn, "key": key, "secret": secret, "expires_in": 0})
    path = os.path.join(home, hashlib.sha256(arn.encode()).hexdigest() + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    config = os.path.join(home, "config")
    with open(config, "w") as f:
        f.write(f"[profile dev]\nlogin_session = {arn}\nregion = eu-west-1\n")
    os.environ.update(AWS_LOGIN_CACHE_DIRECTORY=home, AWS_CONFIG_FILE=config)
    control(revoke_all=True)
    try:
        botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
        raise AssertionError("a revoked session refreshed")
    except botocore.exceptions.LoginRefreshRequired:
        pass
    control(revoke_all=False)
print("ok")
