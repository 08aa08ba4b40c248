"""A small SigV2 signer for the hostile-input suite, written from S3's
"Signing and authenticating REST requests" (Signature Version 2): the
string to sign is

    VERB \\n Content-MD5 \\n Content-Type \\n Date \\n
    CanonicalizedAmzHeaders CanonicalizedResource

and the signature base64(HMAC-SHA1(secret, string to sign)). The caller
gives the resource (path with the sub-resources it wants signed), so a
case can sign one request and send another.
"""

import base64
import email.utils
import hashlib
import hmac
import time
import urllib.parse


def http_date(offset_secs=0):
    return email.utils.formatdate(time.time() + offset_secs, usegmt=True)


def amz_headers(headers):
    """CanonicalizedAmzHeaders of (name, value) pairs."""
    values = {}
    for name, value in headers:
        lower = name.lower()
        if lower.startswith("x-amz-"):
            values.setdefault(lower, []).append(str(value).strip())
    return "".join(f"{n}:{','.join(values[n])}\n" for n in sorted(values))


def string_to_sign(method, resource, headers=(), date=None):
    """`date` None: the Date header (empty with x-amz-date); else the
    Date line itself (a presigned URL's Expires)."""
    found = {n.lower(): str(v).strip() for n, v in headers}
    if date is None:
        date = "" if "x-amz-date" in found else found.get("date", "")
    return (f"{method}\n{found.get('content-md5', '')}\n{found.get('content-type', '')}\n"
            f"{date}\n{amz_headers(headers)}{resource}")


def signature(secret, sts):
    mac = hmac.new(secret.encode(), sts.encode("utf-8", "surrogateescape"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def quote(value):
    return urllib.parse.quote(value, safe="")
