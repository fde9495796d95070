#!/usr/bin/env python3
"""Prints the caller ARN for the AWS_* credentials in the environment (botocore)."""
import sys

import boto3

print(boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1").get_caller_identity()["Arn"])
