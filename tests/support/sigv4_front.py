"""A front for moto that checks every SigV4 signature, as AWS does and moto does not.

moto (without its IAM-enforcing mode) accepts any key id, any secret and any session
token, so a cache that served a corrupted secret, or a chain that signed with the wrong
hop's keys, would pass every test. This front learns each key pair the moment moto
issues it (IAM CreateAccessKey, STS AssumeRole/GetSessionToken/…: the `<Credentials>` and
`<AccessKey>` elements of the answer), plus the fixed test keys it is given, and refuses
a signed request whose key it does not know (InvalidClientTokenId), whose session token
is missing or not the one issued with the key (InvalidClientTokenId), or whose signature
does not match (SignatureDoesNotMatch), each with AWS's status and error document.
Requests without a signature (moto's own /moto-api/, unsigned STS calls) pass as they are.
"""
import hashlib
import hmac
import http.client
import re
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

# The test fixtures' own keys: world.py and the fakes sign IAM/STS set-up calls with them.
FIXTURE_KEYS = {"admin": "admin", "ssofake": "ssofake", "unused": "unused"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}
CREDENTIAL_BLOCK = re.compile(r"<(Credentials|AccessKey)>(.*?)</\1>", re.S)


def tag(block, name):
    found = re.search(rf"<{name}>([^<]*)</{name}>", block)
    return found.group(1) if found else None


class Keys:
    """Every key pair this front has seen issued: id -> (secret, session token or None)."""

    def __init__(self, fixed):
        self.lock = threading.Lock()
        self.known = {key: (secret, None) for key, secret in fixed.items()}

    def learn(self, body):
        for _, block in CREDENTIAL_BLOCK.findall(body):
            key, secret = tag(block, "AccessKeyId"), tag(block, "SecretAccessKey")
            if key and secret:
                with self.lock:
                    self.known[key] = (secret, tag(block, "SessionToken"))

    def get(self, key):
        with self.lock:
            return self.known.get(key)


def canonical_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    quote = lambda s: urllib.parse.quote(s, safe="-_.~")  # noqa: E731
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(pairs))


def expected_signature(secret, method, raw_path, headers, body, auth):
    """The SigV4 signature of this request (AWS's algorithm, as botocore computes it)."""
    scope = auth["Credential"].split("/", 1)[1]
    date, region, service, _ = scope.split("/")
    path, _, query = raw_path.partition("?")
    signed = auth["SignedHeaders"].split(";")
    lines = []
    for name in signed:
        values = headers.get_all(name) or []
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}\n")
    payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join([
        method,
        urllib.parse.quote(path or "/", safe="/~"),
        canonical_query(query),
        "".join(lines),
        ";".join(signed),
        payload,
    ])
    amz_date = headers.get("x-amz-date", "")
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def parse_authorization(value):
    algorithm, _, rest = value.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return None
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    return fields if {"Credential", "SignedHeaders", "Signature"} <= fields.keys() else None


def check(headers, keys):
    """None for an unsigned request; (status, code, message) when AWS would refuse it
    before looking at the signature; else the parsed Authorization fields."""
    value = headers.get("Authorization")
    if value is None:
        return None
    auth = parse_authorization(value)
    if auth is None:
        return (400, "IncompleteSignature", "The request signature does not conform to AWS standards.")
    key_id = auth["Credential"].split("/", 1)[0]
    known = keys.get(key_id)
    token = headers.get("X-Amz-Security-Token")
    if known is None or known[1] != token:
        return (403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    return auth


class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    backend_port = 0
    keys = None

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def refuse(self, status, code, message):
        document = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(document)))
        self.end_headers()
        self.wfile.write(document)

    def handle_any(self):
        body = self.body()
        checked = check(self.headers, self.keys)
        if isinstance(checked, tuple):
            return self.refuse(*checked)
        if isinstance(checked, dict):
            key_id = checked["Credential"].split("/", 1)[0]
            secret = self.keys.get(key_id)[0]
            wanted = expected_signature(secret, self.command, self.path, self.headers, body, checked)
            if not hmac.compare_digest(wanted, checked["Signature"]):
                return self.refuse(403, "SignatureDoesNotMatch",
                                   "The request signature we calculated does not match the signature you provided.")
        self.forward(body)

    def forward(self, body):
        backend = http.client.HTTPConnection("127.0.0.1", self.backend_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        backend.request(self.command, self.path, body=body, headers=headers)
        answer = backend.getresponse()
        data = answer.read()
        backend.close()
        self.keys.learn(data.decode("utf-8", "replace"))
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


def handler(backend_port, extra_keys=None):
    """A request handler class that checks signatures and forwards to moto on backend_port."""
    keys = Keys({**FIXTURE_KEYS, **(extra_keys or {})})
    return type("SigV4Front", (Front,), {"backend_port": backend_port, "keys": keys})
