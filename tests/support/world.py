#!/usr/bin/env python3
"""Builds the seed scenario's world in a running moto server.

User1 with access keys and a virtual MFA device; RoleA trusting User1 with MFA;
RoleB..RoleE each trusting the previous role. Every name starts with --prefix so
tests sharing one moto never see each other's roles. Prints the world as JSON.
"""
import argparse
import json

import boto3


def trust(principal, mfa=False):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if mfa:
        statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--roles", type=int, default=5)
    parser.add_argument("--grant-user", action="store_true",
                        help="let User1 call STS (for moto with auth on); the roles get no policy")
    args = parser.parse_args()
    session = boto3.session.Session(
        aws_access_key_id="admin", aws_secret_access_key="admin", region_name="us-east-1"
    )
    iam = session.client("iam", endpoint_url=args.endpoint)
    user = iam.create_user(UserName=f"{args.prefix}User1")["User"]
    key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{args.prefix}User1")
    serial = device["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName=user["UserName"], SerialNumber=serial,
        AuthenticationCode1="123456", AuthenticationCode2="654321",
    )
    if args.grant_user:
        iam.put_user_policy(
            UserName=user["UserName"], PolicyName="sts",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}),
        )
    roles = []
    principal = user["Arn"]
    for index in range(args.roles):
        name = f"{args.prefix}Role{chr(ord('A') + index)}"
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=trust(principal, mfa=index == 0),
            MaxSessionDuration=43200,
        )["Role"]
        roles.append({"name": name, "arn": role["Arn"]})
        principal = role["Arn"]
    print(json.dumps({
        "access_key_id": key["AccessKeyId"],
        "secret_access_key": key["SecretAccessKey"],
        "user_arn": user["Arn"],
        "mfa_serial": serial,
        "roles": roles,
    }))


if __name__ == "__main__":
    main()
