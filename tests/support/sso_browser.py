#!/usr/bin/env python3
"""The person at the browser, for tests: opens the URL it is given (following the sign-in
page's redirect back to awsrole's listener, or approving a device code), as clicking
"Allow" would. Appends the URL to $SSO_BROWSER_LOG when set.
Usage (as BROWSER): sso_browser.py URL"""
import os
import sys
import urllib.request

url = sys.argv[1]
log = os.environ.get("SSO_BROWSER_LOG")
if log:
    with open(log, "a") as f:
        f.write(url + "\n")
if os.environ.get("SSO_BROWSER_IGNORE"):
    sys.exit(0)
with urllib.request.urlopen(url, timeout=30) as answer:
    answer.read()
