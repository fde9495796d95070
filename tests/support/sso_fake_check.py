#!/usr/bin/env python3
"""Drives every call of tests/support/sso_fake.py with botocore's own SSO and SSO OIDC
clients (their service models), so the fake cannot drift from AWS's wire format: each
answer must parse into the modelled shape and each error into the modelled exception.
Usage: sso_fake_check.py FAKE_URL; prints "ok" and exits 0, else fails with a traceback."""
import base64
import hashlib
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

import boto3
import botocore.config
import botocore.exceptions

fake = sys.argv[1]
kw = dict(endpoint_url=fake, region_name="eu-west-1",
          aws_access_key_id="unused", aws_secret_access_key="unused")
oidc = boto3.client("sso-oidc", **kw)
portal = boto3.client("sso", **kw)


def control(**fields):
    req = urllib.request.Request(f"{fake}/control", data=json.dumps(fields).encode(), method="POST")
    urllib.request.urlopen(req).read()


def expect(exception, call, **args):
    try:
        call(**args)
    except exception as e:
        return e
    raise AssertionError(f"{call.__name__} did not raise {exception}")


# RegisterClient (device flow, with scopes so a refresh token is issued)
reg = oidc.register_client(clientName="check", clientType="public", scopes=["sso:account:access"])
assert reg["clientId"] and reg["clientSecret"] and isinstance(reg["clientSecretExpiresAt"], int)
client = dict(clientId=reg["clientId"], clientSecret=reg["clientSecret"])

# StartDeviceAuthorization, then CreateToken: pending, slow down, approved
dev = oidc.start_device_authorization(startUrl="https://check.awsapps.com/start", **client)
assert dev["userCode"] and dev["verificationUriComplete"] and isinstance(dev["expiresIn"], int)
grant = dict(grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=dev["deviceCode"], **client)
expect(oidc.exceptions.AuthorizationPendingException, oidc.create_token, **grant)
control(slow_down=1)
expect(oidc.exceptions.SlowDownException, oidc.create_token, **grant)
urllib.request.urlopen(dev["verificationUriComplete"]).read()
tok = oidc.create_token(**grant)
assert tok["accessToken"] and tok["refreshToken"] and isinstance(tok["expiresIn"], int)

# refresh_token grant; a spent refresh token is refused as InvalidGrant
new = oidc.create_token(grantType="refresh_token", refreshToken=tok["refreshToken"], **client)
assert new["accessToken"] != tok["accessToken"]
expect(oidc.exceptions.InvalidGrantException, oidc.create_token,
       grantType="refresh_token", refreshToken=tok["refreshToken"], **client)

# Expired device codes
control(expire_devices=True)
dev2 = oidc.start_device_authorization(startUrl="https://check.awsapps.com/start", **client)
expect(oidc.exceptions.ExpiredTokenException, oidc.create_token,
       grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=dev2["deviceCode"], **client)
control(expire_devices=False)

# PKCE: the authorize redirect, then the authorization_code grant
pkce = oidc.register_client(clientName="check-pkce", clientType="public", scopes=["sso:account:access"],
                            grantTypes=["authorization_code", "refresh_token"],
                            redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl="https://check.awsapps.com/start")
verifier = secrets.token_urlsafe(64)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
redirect = "http://127.0.0.1:9/oauth/callback"
query = urllib.parse.urlencode(dict(response_type="code", client_id=pkce["clientId"], redirect_uri=redirect,
                                    state="s1", code_challenge_method="S256", scopes="sso:account:access",
                                    code_challenge=challenge))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


try:
    urllib.request.build_opener(NoRedirect).open(f"{fake}/authorize?{query}")
    raise AssertionError("authorize did not redirect")
except urllib.error.HTTPError as e:
    assert e.code == 302, e.code
    location = urllib.parse.urlparse(e.headers["Location"])
    back = dict(urllib.parse.parse_qsl(location.query))
assert back["state"] == "s1" and location.port == 9
pclient = dict(clientId=pkce["clientId"], clientSecret=pkce["clientSecret"])
expect(oidc.exceptions.InvalidGrantException, oidc.create_token, grantType="authorization_code",
       code=back["code"], codeVerifier="wrong" * 10, redirectUri=redirect, **pclient)
urllib.request.build_opener(NoRedirect)
try:
    urllib.request.build_opener(NoRedirect).open(f"{fake}/authorize?{query}")
except urllib.error.HTTPError as e:
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(e.headers["Location"]).query))
ptok = oidc.create_token(grantType="authorization_code", code=back["code"], codeVerifier=verifier,
                         redirectUri=redirect, **pclient)
assert ptok["accessToken"]

# GetRoleCredentials: credentials, then 403 and, after Logout, 401
creds = portal.get_role_credentials(roleName="Admin", accountId="123456789012", accessToken=new["accessToken"])
rc = creds["roleCredentials"]
assert rc["accessKeyId"] and rc["secretAccessKey"] and rc["sessionToken"] and isinstance(rc["expiration"], int)
control(forbid=["123456789012/Admin"])
e = expect(botocore.exceptions.ClientError, portal.get_role_credentials,
           roleName="Admin", accountId="123456789012", accessToken=new["accessToken"])
assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403 and e.response["Error"]["Code"] == "ForbiddenException", e.response
control(forbid=[])

# ListAccounts / ListAccountRoles through botocore's own paginators: pages of two, every
# item once; an unassigned role is refused like a forbidden one; TooManyRequests is the
# modelled exception (429) and the call after it succeeds.
control(accounts=[{"id": "111111111111", "name": "Prod (EU)", "roles": ["Admin", "ReadOnly", "Billing"]},
                  {"id": "222222222222", "name": "dev", "roles": ["Admin"]},
                  {"id": "333333333333", "name": "sandbox", "roles": []}], page_max=2)
pages = list(portal.get_paginator("list_accounts").paginate(accessToken=new["accessToken"]))
assert len(pages) == 2 and all("nextToken" in p for p in pages[:-1]), pages
listed = [a for p in pages for a in p["accountList"]]
assert [(a["accountId"], a["accountName"]) for a in listed] == [
    ("111111111111", "Prod (EU)"), ("222222222222", "dev"), ("333333333333", "sandbox")], listed
assert listed[0]["emailAddress"]
roles = [r for p in portal.get_paginator("list_account_roles").paginate(
    accessToken=new["accessToken"], accountId="111111111111") for r in p["roleList"]]
assert [(r["roleName"], r["accountId"]) for r in roles] == [
    ("Admin", "111111111111"), ("ReadOnly", "111111111111"), ("Billing", "111111111111")], roles
one = portal.list_account_roles(accessToken=new["accessToken"], accountId="111111111111", maxResults=1)
assert len(one["roleList"]) == 1 and one["nextToken"]
assert portal.list_account_roles(accessToken=new["accessToken"], accountId="333333333333")["roleList"] == []
e = expect(botocore.exceptions.ClientError, portal.get_role_credentials,
           roleName="Admin", accountId="333333333333", accessToken=new["accessToken"])
assert e.response["Error"]["Code"] == "ForbiddenException", e.response
portal.get_role_credentials(roleName="Billing", accountId="111111111111", accessToken=new["accessToken"])
no_retry = boto3.client("sso", config=botocore.config.Config(retries={"total_max_attempts": 1}), **kw)
control(throttle=1)
e = expect(no_retry.exceptions.TooManyRequestsException, no_retry.list_accounts,
           accessToken=new["accessToken"])
assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429, e.response
assert no_retry.list_accounts(accessToken=new["accessToken"])["accountList"]
control(accounts=None, page_max=100)
portal.logout(accessToken=new["accessToken"])
expect(portal.exceptions.UnauthorizedException, portal.list_accounts, accessToken=new["accessToken"])
expect(portal.exceptions.UnauthorizedException, portal.get_role_credentials,
       roleName="Admin", accountId="123456789012", accessToken=new["accessToken"])
print("ok")
