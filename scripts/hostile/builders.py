"""Request builders for the hostile-input catalogue: the case record, and
header-signed, presigned and aws-chunked requests as raw bytes, signed by
sigv4.py. A builder only builds: the runner (scripts/hostile-test.py) sends.
"""

import base64
import hashlib
import urllib.parse
import zlib
from dataclasses import dataclass
from typing import Callable, Optional

from sigv4 import Signer, amz_date, canonical_query, chunk_signature, now, raw, \
    trailer_signature, uri_encode

STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


@dataclass
class Req:
    data: bytes = b""
    # Shut the write side after sending (a body shorter than announced).
    half_close: bool = False
    # Send in steps: (bytes, seconds to wait after them).
    steps: Optional[list] = None
    # Seconds to wait for the answer.
    timeout: float = 10.0
    # Only check that no answer comes within `timeout` (a partial head).
    expect_silence: bool = False
    # The gateway must close the connection after its answer.
    expect_close: bool = False
    # Send all of `data` in one write (else in pieces of 64 KiB, stopping
    # once the gateway answers): a head that arrives whole is parsed whole.
    one_write: bool = False
    # A response header that must not appear (lower case), e.g. one injected.
    absent_header: bytes = b""
    # Send to the admin listener (the dashboard's origin) instead of S3.
    admin: bool = False


@dataclass
class Case:
    name: str
    category: str
    build: Callable
    status: Optional[int]
    code: Optional[str]
    codes: tuple = ()
    xfail: str = ""
    note: str = ""


class Builders:
    """Request builders; the runner's Ctx mixes these in."""

    def __init__(self, port, access_key, secret_key):
        self.host = f"127.0.0.1:{port}"
        self.ak = access_key
        self.sk = secret_key
        self.signer = Signer(access_key, secret_key)

    def login_form(self):
        """The dashboard's login form with the root pair."""
        return urllib.parse.urlencode({"access_key": self.ak, "secret_key": self.sk})

    def path(self, key=None, bucket=None):
        b = self.bucket if bucket is None else bucket
        if key is None:
            return f"/{b}"
        return f"/{b}/{uri_encode(key, keep_slash=True)}"

    def signed(self, method, path, query=(), headers=(), body=b"", payload=None, signed=None,
               unsigned=(), region=None, when=None, auth=None, content_length=True, drop=(),
               ak=None, sk=None, scope_day=None, service="s3", version="HTTP/1.1",
               canon_path=None):
        """A header-signed request. `headers` are signed unless named in
        `signed`; `unsigned` headers are added after signing; `auth(d)` may
        rewrite the Authorization value from d = {cred, signed, sig}."""
        when = when or now()
        if isinstance(body, str):
            body = body.encode()
        payload = payload if payload is not None else hashlib.sha256(body).hexdigest()
        hdrs = [("Host", self.host), ("x-amz-date", amz_date(when)),
                ("x-amz-content-sha256", payload)] + list(headers)
        hdrs = [(n, v) for n, v in hdrs if n.lower() not in drop]
        names = signed if signed is not None else sorted({n.lower() for n, _ in hdrs})
        sig, _, scope = self.signer.signature(method, canon_path or path, query, hdrs, names,
                                              payload, when, region=region, secret=sk,
                                              scope_day=scope_day, service=service)
        d = {"cred": f"{ak or self.ak}/{scope}", "signed": ";".join(names), "sig": sig}
        value = auth(d) if auth else \
            f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},Signature={d['sig']}"
        if value is not None:
            hdrs.append(("Authorization", value))
        hdrs += list(unsigned)
        if content_length and not any(n.lower() in ("content-length", "transfer-encoding")
                                      for n, _ in hdrs):
            if body or method in ("PUT", "POST"):
                hdrs.append(("Content-Length", str(len(body))))
        qs = canonical_query(query)
        return raw(method, path + ("?" + qs if qs else ""), hdrs, body, version)

    def presigned_query(self, method, path, query=(), headers=(), expires=3600, when=None,
                        region=None, signed=None, scope_day=None, sk=None):
        """The query pairs of a presigned URL (X-Amz-Signature last)."""
        when = when or now()
        region = region or self.signer.region
        day = scope_day or when.strftime("%Y%m%d")
        names = signed or sorted({"host"} | {n.lower() for n, _ in headers})
        q = list(query) + [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", f"{self.ak}/{day}/{region}/s3/aws4_request"),
            ("X-Amz-Date", amz_date(when)),
            ("X-Amz-Expires", str(expires)),
            ("X-Amz-SignedHeaders", ";".join(names)),
        ]
        hdrs = [("Host", self.host)] + list(headers)
        sig, _, _ = self.signer.signature(method, path, q, hdrs, names, "UNSIGNED-PAYLOAD", when,
                                          region=region, scope_day=scope_day, secret=sk)
        return q + [("X-Amz-Signature", sig)]

    def presigned(self, method, path, query=(), headers=(), body=b"", mutate=None,
                  extra_headers=(), **kw):
        q = self.presigned_query(method, path, query, headers, **kw)
        if mutate:
            q = mutate(q)
        qs = canonical_query(q) if not isinstance(q, str) else q
        hdrs = [("Host", self.host)] + list(headers) + list(extra_headers)
        if body or method in ("PUT", "POST"):
            hdrs.append(("Content-Length", str(len(body))))
        return raw(method, f"{path}?{qs}", hdrs, body)

    def chunked(self, key, data=b"hostile chunked body", chunk=8, mode=STREAMING, trailer=None,
                edit=None, decoded_length=None, sig_edit=None, extra=(), trailer_name=None,
                trailer_sig_edit=None, drop=(), content_length=None):
        """An aws-chunked PUT. `trailer` is (name, value) of a checksum
        trailer; `sig_edit(i, sig)` may change chunk i's signature (the last
        one is the zero-size chunk); `edit(body)` rewrites the framed body
        after signing."""
        when = now()
        date = amz_date(when)
        day = when.strftime("%Y%m%d")
        scope = f"{day}/us-east-1/s3/aws4_request"
        chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
        hdrs = [("Host", self.host), ("x-amz-date", date), ("x-amz-content-sha256", mode),
                ("Content-Encoding", "aws-chunked"),
                ("x-amz-decoded-content-length",
                 str(len(data) if decoded_length is None else decoded_length))]
        if trailer:
            hdrs.append(("x-amz-trailer", trailer_name or trailer[0]))
        hdrs += list(extra)
        hdrs = [(n, v) for n, v in hdrs if n.lower() not in drop]
        names = sorted({n.lower() for n, _ in hdrs})
        path = self.path(key)
        seed, key_bytes, _ = self.signer.signature("PUT", path, (), hdrs, names, mode, when)
        signed = mode != UNSIGNED_TRAILER
        body = b""
        prev = seed
        for i, c in enumerate(chunks):
            if signed:
                sig = chunk_signature(key_bytes, date, scope, prev, c)
                prev = sig
                if sig_edit:
                    sig = sig_edit(i, sig)
                body += b"%x;chunk-signature=%s\r\n" % (len(c), sig.encode())
            else:
                body += b"%x\r\n" % len(c)
            if c:
                body += c + b"\r\n"
        if trailer:
            line = f"{trailer[0]}:{trailer[1]}\n".encode()
            body += line.replace(b"\n", b"\r\n")
            if signed:
                tsig = trailer_signature(key_bytes, date, scope, prev, line)
                if trailer_sig_edit:
                    tsig = trailer_sig_edit(tsig)
                body += b"x-amz-trailer-signature:" + tsig.encode() + b"\r\n"
        body += b"\r\n"
        if edit:
            body = edit(body)
        auth = f"AWS4-HMAC-SHA256 Credential={self.ak}/{scope},SignedHeaders={';'.join(names)},Signature={seed}"
        cl = len(body) if content_length is None else content_length
        hdrs += [("Authorization", auth), ("Content-Length", str(cl))]
        return raw("PUT", path, hdrs, body)


def b64(b):
    return base64.b64encode(b).decode()


def crc32_b64(data):
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def md5_b64(data):
    return b64(hashlib.md5(data).digest())


def flip(sig):
    """The same signature with its first hex digit changed."""
    return ("1" if sig[0] != "1" else "2") + sig[1:]


CASES = []


def case(name, category, build, status, code, **kw):
    CASES.append(Case(name, category, build, status, code, **kw))
