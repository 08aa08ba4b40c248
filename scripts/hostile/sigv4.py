"""A small SigV4 signer and raw-request builder for the hostile-input suite.

Everything here builds bytes: the runner sends them over a raw socket, so a
case may break the framing, repeat headers or lie about lengths. The
algorithms follow AWS's "Signature Calculations for the Authorization
Header" (single chunk, multiple chunks, trailers) and "Query String
Authentication".
"""

import datetime
import hashlib
import hmac

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def uri_encode(value, keep_slash=False):
    """AWS's UriEncode: every byte but the unreserved ones as %XX (upper case)."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    out = []
    for b in value:
        if b in UNRESERVED or (keep_slash and b == ord("/")):
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def amz_date(when):
    return when.strftime("%Y%m%dT%H%M%SZ")


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _hmac(key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def signing_key(secret, day, region, service="s3"):
    k = _hmac(("AWS4" + secret).encode(), day)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def canonical_query(pairs):
    enc = sorted((uri_encode(k), uri_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


class Signer:
    def __init__(self, access_key, secret_key, region="us-east-1"):
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region

    def signature(self, method, path, query, headers, signed_names, payload, when, region=None,
                  secret=None, scope_day=None, service="s3"):
        """Hex signature of a request; `headers` is a list of (name, value)."""
        region = region or self.region
        day = scope_day or when.strftime("%Y%m%d")
        values = {}
        for name, value in headers:
            values.setdefault(name.lower(), []).append(" ".join(str(value).split()))
        canon_headers = "".join(f"{n}:{','.join(values.get(n, []))}\n" for n in signed_names)
        creq = "\n".join([method, path, canonical_query(query), canon_headers,
                          ";".join(signed_names), payload])
        scope = f"{day}/{region}/{service}/aws4_request"
        sts = "\n".join([ALGORITHM, amz_date(when), scope,
                         hashlib.sha256(creq.encode("utf-8", "surrogateescape")).hexdigest()])
        key = signing_key(secret or self.secret_key, day, region, service)
        return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest(), key, scope


def raw(method, target, headers, body=b"", version="HTTP/1.1"):
    """The request bytes, headers in the order given (no Content-Length added)."""
    head = f"{method} {target} {version}\r\n"
    lines = []
    for name, value in headers:
        if isinstance(value, bytes):
            lines.append(name.encode() + b": " + value + b"\r\n")
        else:
            lines.append(f"{name}: {value}\r\n".encode("utf-8", "surrogateescape"))
    if isinstance(body, str):
        body = body.encode()
    return head.encode("utf-8", "surrogateescape") + b"".join(lines) + b"\r\n" + body


def chunk_signature(key, date, scope, previous, data):
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", date, scope, previous, EMPTY_SHA256,
                     hashlib.sha256(data).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def trailer_signature(key, date, scope, previous, trailer):
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", date, scope, previous,
                     hashlib.sha256(trailer).hexdigest()])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
