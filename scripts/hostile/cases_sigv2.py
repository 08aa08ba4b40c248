"""Catalogue cases, part 3: SigV2, the legacy mode the gateway serves by
default (`--sigv2`; docs/security.md). Header-signed and presigned requests
signed by sigv2.py, then broken after signing. See catalogue.py for the
record and how the runner reads it."""

import time

from builders import STREAMING, case, md5_b64
from sigv2 import http_date, quote, signature, string_to_sign
from sigv4 import raw

V = "sigv2"


def v2(c, method, path, query="", headers=(), body=b"", resource=None, sk=None, ak=None,
       auth=None, unsigned=(), date_offset=0, date=True, signed_as=None):
    """A V2 header-signed request. `resource` is what is signed (default:
    the path alone); `unsigned` headers are added after signing; `auth(sig)`
    may rewrite the Authorization value; `signed_as` replaces `headers` in
    the string to sign (a header changed after signing)."""
    hdrs = [("Host", c.host)]
    if date:
        hdrs.append(("Date", http_date(date_offset)))
    sig_hdrs = hdrs + list(headers if signed_as is None else signed_as)
    hdrs += list(headers)
    sig = signature(sk or c.sk, string_to_sign(method, resource or path, sig_hdrs))
    hdrs.append(("Authorization", auth(sig) if auth else f"AWS {ak or c.ak}:{sig}"))
    hdrs += list(unsigned)
    if body or method in ("PUT", "POST"):
        hdrs.append(("Content-Length", str(len(body))))
    return raw(method, path + (f"?{query}" if query else ""), hdrs, body)


def v2_url(c, method, path, expires_in=300, resource=None, sk=None, extra="", expires=None,
           signature_edit=None):
    """A V2 presigned target: path?AWSAccessKeyId&Expires&Signature, then `extra`."""
    exp = str(int(time.time()) + expires_in) if expires is None else expires
    sig = signature(sk or c.sk, string_to_sign(method, resource or path, (), date=exp))
    if signature_edit:
        sig = signature_edit(sig)
    return f"{path}?AWSAccessKeyId={c.ak}&Expires={exp}&Signature={quote(sig)}{extra}"


def pre2(method="GET", key="obj", headers=(), body=b"", sign_method=None, **kw):
    def build(c):
        hdrs = [("Host", c.host)] + list(headers)
        if body or method in ("PUT", "POST"):
            hdrs.append(("Content-Length", str(len(body))))
        return raw(method, v2_url(c, sign_method or method, c.path(key), **kw), hdrs, body)
    return build


def get2(**kw):
    return lambda c: v2(c, "GET", c.path("obj"), **kw)


# Header form.
case("V2 header GET (control)", V, get2(), 200, None)
case("V2 header with x-amz-date instead of Date (control)", V, lambda c: v2(
    c, "GET", c.path("obj"), date=False, headers=[("x-amz-date", http_date())]), 200, None)
case("V2 header dated 20 minutes ahead", V, get2(date_offset=1200), 403, "RequestTimeTooSkewed")
case("V2 header dated 20 minutes past", V, get2(date_offset=-1200), 403, "RequestTimeTooSkewed")
case("V2 header without Date or x-amz-date", V, get2(date=False), 403, "AccessDenied")
case("V2 header with Date not a date", V, get2(
    date=False, headers=[("Date", "yesterday")]), 403, "AccessDenied")
case("V2 header without a colon", V, get2(auth=lambda s: "AWS " + s), 400, "InvalidArgument",
     note="AWS: 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature'")
case("V2 header with an empty signature", V, get2(auth=lambda s: "AWS AKID:"), 400,
     "InvalidArgument")
case("V2 header with an unknown access key", V, get2(ak="AKIDUNKNOWN000000000"), 403,
     "InvalidAccessKeyId")
case("V2 header with the wrong secret", V, get2(sk="not-the-secret-key"), 403,
     "SignatureDoesNotMatch")
case("V2 header with a 10 KB signature", V, lambda c: v2(
    c, "GET", c.path("obj"), auth=lambda s: f"AWS {c.ak}:{'A' * 10000}"),
     403, "SignatureDoesNotMatch")
case("V2 header, x-amz-copy-source added after signing", V, lambda c: v2(
    c, "PUT", c.path("v2-copy"), unsigned=[("x-amz-copy-source", f"/{c.bucket}/obj")]),
     403, "SignatureDoesNotMatch", note="every x-amz-* header is in V2's string to sign")
case("V2 header, x-amz-meta added after signing", V, lambda c: v2(
    c, "PUT", c.path("v2-meta"), body=b"x", unsigned=[("x-amz-meta-a", "b")]),
     403, "SignatureDoesNotMatch")
case("V2 header, Content-Type changed after signing", V, lambda c: v2(
    c, "PUT", c.path("v2-type"), body=b"x", headers=[("Content-Type", "text/html")],
    signed_as=[("Content-Type", "text/plain")]), 403, "SignatureDoesNotMatch")
case("V2 header, Date changed after signing", V, lambda c: v2(
    c, "GET", c.path("obj"), date=False, headers=[("Date", http_date(-1))],
    signed_as=[("Date", http_date())]), 403, "SignatureDoesNotMatch")
case("V2 header, response override added after signing", V, get2(
    query="response-content-type=text%2Fhtml"), 403, "SignatureDoesNotMatch")
case("V2 header, ?%61cl (an encoded sub-resource) added", V, get2(query="%61cl"), 403,
     "SignatureDoesNotMatch", note="sub-resources are read decoded, as the router reads them")
case("V2 header, signed sub-resource (control)", V, lambda c: v2(
    c, "GET", c.path("obj"), query="acl", resource=c.path("obj") + "?acl"), 200, None)
case("V2 header and a SigV4 presigned query", V, get2(query="X-Amz-Algorithm=AWS4-HMAC-SHA256"),
     400, "InvalidArgument", note="AWS: 'Only one auth mechanism allowed'")
case("V2 header and a V2 query", V, get2(query="AWSAccessKeyId=AKID&Expires=1&Signature=x"),
     400, "InvalidArgument")
case("V2 header with a streaming x-amz-content-sha256", V, lambda c: v2(
    c, "PUT", c.path("v2-chunked"), body=b"abc",
    headers=[("x-amz-content-sha256", STREAMING), ("x-amz-decoded-content-length", "3")]),
     400, "InvalidRequest", note="aws-chunked needs SigV4 chunk signatures; s3gw's answer")
case("V2 header with Content-Encoding aws-chunked", V, lambda c: v2(
    c, "PUT", c.path("v2-chunked"), body=b"abc", headers=[("Content-Encoding", "aws-chunked")]),
     400, "InvalidRequest", note="s3gw's answer")
case("V2 header with a wrong Content-MD5 (signed)", V, lambda c: v2(
    c, "PUT", c.path("v2-md5"), body=b"abc", headers=[("Content-MD5", md5_b64(b"abd"))]),
     400, "BadDigest")
case("V2 header on the admin API", V, lambda c: v2(c, "GET", "/_s3gw/admin/v1/keys"),
     400, "InvalidRequest", note="the admin API takes SigV4 only (docs/security.md)")

# Query form.
case("V2 presigned GET (control)", V, pre2(), 200, None)
case("V2 presigned, expired", V, pre2(expires_in=-1), 403, "AccessDenied",
     note="AWS: 'Request has expired'")
case("V2 presigned, Expires not a number", V, pre2(expires="soon"), 403, "AccessDenied",
     note="AWS: 'Invalid date (should be seconds since epoch)'")
case("V2 presigned, Expires overflows", V, pre2(expires="9" * 30), 403, "AccessDenied")
case("V2 presigned without Expires", V, lambda c: raw(
    "GET", c.path("obj") + f"?AWSAccessKeyId={c.ak}&Signature=abc%3D", [("Host", c.host)]),
     403, "AccessDenied",
     note="AWS: 'Query-string authentication requires the Signature, Expires and "
          "AWSAccessKeyId parameters'")
case("V2 presigned without AWSAccessKeyId", V, lambda c: raw(
    "GET", c.path("obj") + "?Expires=2000000000&Signature=abc%3D", [("Host", c.host)]),
     403, "AccessDenied")
case("V2 presigned, repeated Signature", V, pre2(extra="&Signature=abc%3D"), 400,
     "AuthorizationQueryParametersError", note="AWS undocumented; s3gw's answer")
case("V2 presigned, tampered signature", V, pre2(
    signature_edit=lambda s: ("B" if s[0] != "B" else "C") + s[1:]), 403, "SignatureDoesNotMatch")
case("V2 presigned GET used for DELETE", V, pre2(method="DELETE", sign_method="GET"), 403,
     "SignatureDoesNotMatch")
case("V2 presigned for another key", V, lambda c: raw(
    "GET", v2_url(c, "GET", c.path("obj")).replace("/obj?", "/other?"), [("Host", c.host)]),
     403, "SignatureDoesNotMatch")
case("V2 presigned, x-amz-meta header added", V, pre2(
    method="PUT", key="v2-pre", body=b"x", headers=[("x-amz-meta-a", "b")]), 403,
     "SignatureDoesNotMatch")
case("V2 presigned, x-amz-copy-source parameter added", V, pre2(
    method="PUT", key="v2-pre", extra="&x-amz-copy-source=%2Fother%2Fobj"), 403,
     "SignatureDoesNotMatch", note="applied as a header, so signed (docs/security.md)")
case("V2 presigned, response override added", V, pre2(
    extra="&response-content-type=text%2Fhtml"), 403, "SignatureDoesNotMatch")
case("V2 presigned with SigV4 parameters", V, pre2(
    extra="&X-Amz-Algorithm=AWS4-HMAC-SHA256"), 400, "InvalidArgument")
