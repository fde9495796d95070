#!/usr/bin/env python3
"""Drives tests/support/imds_fake.py and container_fake.py with botocore's own providers
(InstanceMetadataFetcher, InstanceMetadataProvider, ContainerProvider and its
ContainerMetadataFetcher, AssumeRoleWithWebIdentityProvider through a profile), so the
fakes cannot drift from what AWS's SDKs expect: each must hand botocore credentials that
are real in moto (GetCallerIdentity names the role), and each refusal must make botocore
fail as it fails at AWS.
Usage: metadata_fake_check.py MOTO_URL IMDS_URL CONTAINER_URL ROLE_ARN ROLE_ARN2 WORKDIR;
prints "ok" and exits 0, else fails with a traceback."""
import json
import os
import sys
import urllib.request

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.utils

moto, imds, container, role, role2, work = sys.argv[1:7]


def control(url, **fields):
    req = urllib.request.Request(f"{url}/control", data=json.dumps(fields).encode(), method="POST")
    urllib.request.urlopen(req).read()


def requests(url):
    return json.loads(urllib.request.urlopen(f"{url}/requests").read())


def caller(access_key, secret_key, token):
    sts = boto3.client("sts", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=access_key,
                       aws_secret_access_key=secret_key, aws_session_token=token)
    return sts.get_caller_identity()["Arn"]


def role_name(arn):
    return arn.rsplit("/", 1)[-1]


# --- IMDS: botocore's fetcher, IMDSv2 ------------------------------------------------
control(imds, role_arn=role)
# A generous timeout: the check is of the wire format, and a loaded CI machine (the
# whole suite in parallel on two cores) once took longer than botocore's 1 s default.
fetcher = botocore.utils.InstanceMetadataFetcher(
    timeout=10, num_attempts=1, config={"ec2_metadata_service_endpoint": imds})
got = fetcher.retrieve_iam_role_credentials()
assert got["role_name"] == role_name(role), got
assert f"assumed-role/{role_name(role)}/" in caller(got["access_key"], got["secret_key"], got["token"])
seen = requests(imds)
assert [r["method"] for r in seen] == ["PUT", "GET", "GET"], seen
assert not seen[0]["token"] and seen[1]["token"] and seen[2]["token"], seen

# The provider botocore's credential_source uses
creds = botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
assert creds is not None and creds.method == "iam-role"

# IMDSv1 fallback where botocore falls back: the token PUT answered 405
control(imds, role_arn=role, token_status=405, v1=True)
got = fetcher.retrieve_iam_role_credentials()
assert got["role_name"] == role_name(role) and not requests(imds)[-1]["token"]
# ... and none when IMDSv1 is off
v2only = botocore.utils.InstanceMetadataFetcher(
    timeout=10, num_attempts=1,
    config={"ec2_metadata_service_endpoint": imds, "ec2_metadata_v1_disabled": True})
try:
    v2only.retrieve_iam_role_credentials()
    raise AssertionError("IMDSv1 used although disabled")
except botocore.exceptions.MetadataRetrievalError:
    pass

# A tokenless GET is refused (IMDSv2 required): botocore gets nothing
control(imds, role_arn=role, token_status=403, v1=False)
assert fetcher.retrieve_iam_role_credentials() == {}
# EC2 could not assume the role: a 200 with Code/Message, which botocore reads as nothing
control(imds, role_arn=role, token_status=None, error_doc=True)
assert fetcher.retrieve_iam_role_credentials() == {}
# No instance profile
control(imds, role_arn=role, error_doc=False, no_role=True)
assert fetcher.retrieve_iam_role_credentials() == {}
control(imds, role_arn=role, no_role=False)

# --- container: botocore's ContainerProvider, token from a file ----------------------
token_file = os.path.join(work, "container-token")
with open(token_file, "w") as f:
    f.write("pod-identity-token")
control(container, role_arn=role, token="pod-identity-token")
env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{container}/v1/credentials",
       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file,
       "AWS_CONTAINER_AUTHORIZATION_TOKEN": "loses-to-the-file"}
creds = botocore.credentials.ContainerProvider(environ=env).load().get_frozen_credentials()
assert f"assumed-role/{role_name(role)}/" in caller(creds.access_key, creds.secret_key, creds.token)
last = requests(container)[-1]
assert last["authorization"] == "pod-identity-token" and last["accept"] == "application/json", last
# A wrong token: refused with the agent's JSON error, and botocore raises
control(container, role_arn=role, token="another")
fast = botocore.utils.ContainerMetadataFetcher(sleep=lambda _: None)
try:
    botocore.credentials.ContainerProvider(environ=env, fetcher=fast).load()
    raise AssertionError("a refused token gave credentials")
except botocore.exceptions.CredentialRetrievalError as e:
    assert "403" in str(e), e
control(container, role_arn=role, token=None)

# --- through profiles, as `aws --profile` resolves them ------------------------------
web_token = os.path.join(work, "web-token")
with open(web_token, "w") as f:
    f.write("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln")
config = os.path.join(work, "check-config")
with open(config, "w") as f:
    f.write(f"""[profile onbox]
role_arn = {role2}
credential_source = Ec2InstanceMetadata

[profile incontainer]
role_arn = {role2}
credential_source = EcsContainer

[profile web]
web_identity_token_file = {web_token}
role_arn = {role}
role_session_name = check-web

[profile onweb]
role_arn = {role2}
source_profile = web
""")
os.environ.update({
    "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_ENDPOINT_URL_STS": moto, "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{container}/v1/credentials",
})
for profile, want in [("onbox", role2), ("incontainer", role2), ("web", role), ("onweb", role2)]:
    sts = boto3.Session(profile_name=profile).client("sts")
    arn = sts.get_caller_identity()["Arn"]
    assert f"assumed-role/{role_name(want)}/" in arn, (profile, arn)

# Instance metadata turned off: botocore finds nothing for the credential_source
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
try:
    boto3.Session(profile_name="onbox").get_credentials().get_frozen_credentials()
    raise AssertionError("IMDS used although disabled")
except botocore.exceptions.CredentialRetrievalError as e:
    assert "No credentials found in credential_source" in str(e), e
print("ok")
