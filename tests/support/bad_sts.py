#!/usr/bin/env python3
"""An STS that misbehaves, on a free loopback port: the answer depends on the URL path
the client was pointed at (AWS_ENDPOINT_URL_STS=http://127.0.0.1:PORT/<mode>).

  truncated  200 text/xml, the document cut off in the middle of the credentials
  empty      200 text/xml, an AssumeRoleResult with an empty <Credentials/>
  expired    200 text/xml, well-formed credentials that expired in 2001
  html       502 text/html, a proxy's error page
  silent     accepts the connection and never answers
  endless    200 chunked, a body that never ends (bounded: 60 s or 4 GiB)
  mfa-once/ID  refuses the first GetSessionToken for ID as a bad MFA code (403
             AccessDenied, as STS words it), then answers every call with good credentials

Prints the port on the first line, then serves until its parent exits.
"""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from lifetime import serve_on_loopback

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
LOCK = threading.Lock()
REFUSED = set()


def document(credentials):
    return (
        f'<AssumeRoleResponse xmlns="{NS}"><AssumeRoleResult>{credentials}'
        "<AssumedRoleUser><AssumedRoleId>AROAX:s</AssumedRoleId>"
        "<Arn>arn:aws:sts::123456789012:assumed-role/R/s</Arn></AssumedRoleUser>"
        "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId>"
        "</ResponseMetadata></AssumeRoleResponse>"
    )


FULL = (
    "<Credentials><AccessKeyId>ASIABADSTSEXAMPLE</AccessKeyId>"
    "<SecretAccessKey>badstsSECRETvalue</SecretAccessKey>"
    "<SessionToken>badstsTOKENvalue</SessionToken>"
    "<Expiration>{expiry}</Expiration></Credentials>"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace")
        mode = self.path.strip("/").split("/")[0]
        if mode == "mfa-once":
            return self.mfa_once(body)
        if mode == "silent":
            time.sleep(120)
            return
        if mode == "endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"<x>" + b"a" * 65536 + b"</x>"
            frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            started, sent = time.time(), 0
            try:
                while time.time() - started < 60 and sent < 4 << 30:
                    self.wfile.write(frame)
                    sent += len(chunk)
            except OSError:
                pass
            return
        if mode == "html":
            self.reply(502, "text/html", "<html><body>Bad gateway</body></html>")
        elif mode == "truncated":
            whole = document(FULL.format(expiry="2099-01-01T00:00:00Z"))
            self.reply(200, "text/xml", whole[: whole.index("badstsSECRET")])
        elif mode == "empty":
            self.reply(200, "text/xml", document("<Credentials/>"))
        elif mode == "expired":
            self.reply(200, "text/xml", document(FULL.format(expiry="2001-01-01T00:00:00Z")))
        else:
            self.reply(404, "text/plain", "unknown mode")

    def mfa_once(self, body):
        action = "GetSessionToken" if "Action=GetSessionToken" in body else "AssumeRole"
        with LOCK:
            first = action == "GetSessionToken" and self.path not in REFUSED
            if first:
                REFUSED.add(self.path)
        if first:
            return self.reply(403, "text/xml", (
                f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>AccessDenied</Code>'
                "<Message>MultiFactorAuthentication failed with invalid MFA one time pass code. </Message>"
                "</Error><RequestId>r</RequestId></ErrorResponse>"))
        credentials = FULL.format(expiry="2099-01-01T00:00:00Z")
        if action == "GetSessionToken":
            doc = (f'<GetSessionTokenResponse xmlns="{NS}"><GetSessionTokenResult>{credentials}'
                   "</GetSessionTokenResult><ResponseMetadata><RequestId>r</RequestId>"
                   "</ResponseMetadata></GetSessionTokenResponse>")
        else:
            doc = document(credentials)
        return self.reply(200, "text/xml", doc)

    def reply(self, status, content_type, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    serve_on_loopback(Handler)


if __name__ == "__main__":
    sys.exit(main())
