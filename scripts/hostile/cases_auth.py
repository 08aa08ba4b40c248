"""Catalogue cases, part 1: authentication, presigned URLs, aws-chunked
framing and signatures, checksums, HTTP framing and heads, keys and bucket
names. See catalogue.py for the record and how the runner reads it."""

from datetime import timedelta
import hashlib

from builders import STREAMING, STREAMING_TRAILER, UNSIGNED_TRAILER, Req, b64, case, crc32_b64, \
    flip, md5_b64
from sigv4 import now, raw


# ---------------------------------------------------------------- auth-header
# Malformed, duplicated and missing Authorization fields. AWS answers a
# header it cannot parse with 400 AuthorizationHeaderMalformed, naming the
# three components Credential, SignedHeaders and Signature.
A = "auth-header"
GET_OBJ = lambda c, **kw: c.signed("GET", c.path("obj"), **kw)  # noqa: E731

case("no Authorization on a bucket", A, lambda c: raw("GET", c.path(), [("Host", c.host)]),
     403, "AccessDenied")
case("no Authorization on an object", A, lambda c: raw("GET", c.path("obj"), [("Host", c.host)]),
     403, "AccessDenied")
case("no Authorization on a PUT", A,
     lambda c: raw("PUT", c.path("anon"), [("Host", c.host), ("Content-Length", "3")], b"abc"),
     403, "AccessDenied")
case("well-formed request (control)", A, lambda c: GET_OBJ(c), 200, None)
case("unknown scheme Bearer", A, lambda c: GET_OBJ(c, auth=lambda d: "Bearer abc"),
     400, "InvalidArgument",
     note="AWS: 'Unsupported Authorization Type' (GH Einstore/Einstore#152, versity/versitygw#1512)")
case("empty Authorization", A, lambda c: GET_OBJ(c, auth=lambda d: ""),
     400, "InvalidArgument",
     note="AWS: 'Unsupported Authorization Type' (GH versity/versitygw#1512)")
case("scheme only", A, lambda c: GET_OBJ(c, auth=lambda d: "AWS4-HMAC-SHA256"),
     400, "AuthorizationHeaderMalformed")
case("missing Credential", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 SignedHeaders={d['signed']},Signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed")
case("missing SignedHeaders", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},Signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed")
case("missing Signature", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']}"),
     400, "AuthorizationHeaderMalformed")
case("repeated Credential", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},Credential={d['cred']},"
                      f"SignedHeaders={d['signed']},Signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed")
case("repeated Signature", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},"
                      f"Signature={d['sig']},Signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed")
case("repeated SignedHeaders", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},"
                      f"SignedHeaders=host,Signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed")
case("field without =", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential {d['cred']},SignedHeaders={d['signed']},"
                      f"Signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed")
case("unknown field", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},"
                      f"Signature={d['sig']},Extra=1"),
     400, "AuthorizationHeaderMalformed")
case("lower-case field names", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 credential={d['cred']},signedheaders={d['signed']},"
                      f"signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed")
case("signature not hex", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},"
                      f"Signature={'z' * 64}"),
     400, "AuthorizationHeaderMalformed", note="AWS undocumented; s3gw's answer")
case("signature 63 digits", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},"
                      f"Signature={d['sig'][:-1]}"),
     400, "AuthorizationHeaderMalformed", note="AWS undocumented; s3gw's answer")
case("signature 10 KB", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},"
                      f"Signature={'a' * 10000}"),
     400, "AuthorizationHeaderMalformed", note="AWS undocumented; s3gw's answer")
case("tampered signature", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},"
                      f"Signature={flip(d['sig'])}"),
     403, "SignatureDoesNotMatch")
case("wrong secret", A, lambda c: GET_OBJ(c, sk="not-the-secret-key"), 403, "SignatureDoesNotMatch")
case("unknown access key", A, lambda c: GET_OBJ(c, ak="AKIDUNKNOWN000000000"), 403,
     "InvalidAccessKeyId")
case("SignedHeaders without host", A, lambda c: GET_OBJ(
    c, signed=["x-amz-content-sha256", "x-amz-date"]),
     400, "AuthorizationHeaderMalformed", note="AWS undocumented; s3gw requires host signed")
case("SignedHeaders with an empty name", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']},SignedHeaders=host;;x-amz-date,"
                      f"Signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed", note="AWS undocumented; s3gw's answer")
case("signed header not sent", A, lambda c: GET_OBJ(
    c, headers=[("x-amz-meta-gone", "v")]).replace(b"x-amz-meta-gone: v\r\n", b""),
     403, "SignatureDoesNotMatch")
case("SigV2 header dated 2007", A, lambda c: raw("GET", c.path("obj"), [
    ("Host", c.host), ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
    ("Authorization", f"AWS {c.ak}:frJIUN8DYpKDtOLCwo//yllqDzg=")]),
     403, "RequestTimeTooSkewed",
     note="SigV2 is served (the legacy mode, on by default); its own cases are cases_sigv2.py")
case("SigV4a header", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-ECDSA-P256-SHA256 Credential={d['cred']},SignedHeaders={d['signed']},"
                      f"Signature={d['sig']}"),
     400, "InvalidRequest")
case("Authorization and presigned query both", A, lambda c: c.signed(
    "GET", c.path("obj"), query=[("X-Amz-Algorithm", "AWS4-HMAC-SHA256")]),
     400, "InvalidArgument",
     note="AWS: 'Only one auth mechanism allowed' (GH catalyst/moodle-tool_objectfs#303)")
case("Authorization with bytes over 0x7f", A, lambda c: GET_OBJ(
    c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={d['cred']}\udcff,SignedHeaders={d['signed']},"
                      f"Signature={d['sig']}"),
     400, "AuthorizationHeaderMalformed", note="AWS undocumented; s3gw's answer")
case("missing x-amz-date and Date", A, lambda c: GET_OBJ(
    c, drop=("x-amz-date",), signed=["host", "x-amz-content-sha256"]),
     403, "AccessDenied")
case("x-amz-date not a date", A, lambda c: GET_OBJ(
    c, headers=[("x-amz-date", "yesterday")], drop=("x-amz-date",)),
     403, "AccessDenied")
case("missing x-amz-content-sha256", A, lambda c: GET_OBJ(
    c, drop=("x-amz-content-sha256",), signed=["host", "x-amz-date"]),
     400, "InvalidRequest")
case("x-amz-content-sha256 not a hash", A, lambda c: GET_OBJ(c, payload="abc"),
     400, "InvalidArgument")
case("x-amz-content-sha256 of another body", A, lambda c: c.signed(
    "PUT", c.path("sha-mismatch"), body=b"actual", payload=hashlib.sha256(b"other").hexdigest()),
     400, "XAmzContentSHA256Mismatch")
case("two Authorization headers, second garbage", A, lambda c: GET_OBJ(
    c, unsigned=[("Authorization", "garbage")]),
     400, "InvalidArgument",
     note="ambiguous: refused as two auth mechanisms (AWS undocumented; s3gw's answer)")
case("two Authorization headers, first garbage", A, lambda c: c.signed(
    "GET", c.path("obj"), auth=lambda d: "garbage",
    unsigned=[("Authorization", "AWS4-HMAC-SHA256 Credential=x/20200101/us-east-1/s3/aws4_request,"
                                "SignedHeaders=host,Signature=" + "0" * 64)]),
     400, "InvalidArgument",
     note='refused as two auth mechanisms, as AWS refuses the unknown scheme')

# ---------------------------------------------------------------- scope
S = "scope"


def with_cred(cred_fn):
    return lambda c: GET_OBJ(c, auth=lambda d: f"AWS4-HMAC-SHA256 Credential={cred_fn(c, d)},"
                                               f"SignedHeaders={d['signed']},Signature={d['sig']}")


def day(c, d):
    return d["cred"].split("/")[1]


case("region of another gateway", S, lambda c: GET_OBJ(c, region="eu-central-1"),
     400, "AuthorizationHeaderMalformed")
case("empty region", S, with_cred(lambda c, d: f"{c.ak}/{day(c, d)}//s3/aws4_request"),
     400, "AuthorizationHeaderMalformed")
case("service ec2", S, lambda c: GET_OBJ(c, service="ec2"), 400, "AuthorizationHeaderMalformed")
case("terminator aws4_reques", S, with_cred(lambda c, d: f"{c.ak}/{day(c, d)}/us-east-1/s3/aws4_reques"),
     400, "AuthorizationHeaderMalformed")
case("date not digits", S, with_cred(lambda c, d: f"{c.ak}/2026XXXX/us-east-1/s3/aws4_request"),
     400, "AuthorizationHeaderMalformed")
case("date of yesterday", S, lambda c: GET_OBJ(
    c, scope_day=(now() - timedelta(days=1)).strftime("%Y%m%d")),
     400, "AuthorizationHeaderMalformed")
case("date 9 digits", S, with_cred(lambda c, d: f"{c.ak}/{day(c, d)}0/us-east-1/s3/aws4_request"),
     400, "AuthorizationHeaderMalformed")
case("three parts", S, with_cred(lambda c, d: f"{c.ak}/{day(c, d)}/us-east-1"),
     400, "AuthorizationHeaderMalformed")
case("six parts", S, with_cred(lambda c, d: f"{c.ak}/x/{day(c, d)}/us-east-1/s3/aws4_request/x"),
     400, "AuthorizationHeaderMalformed")
case("empty access key", S, with_cred(lambda c, d: f"/{day(c, d)}/us-east-1/s3/aws4_request"),
     400, "AuthorizationHeaderMalformed", note="AWS undocumented; s3gw's answer")
case("access key with a slash", S, with_cred(lambda c, d: f"a/{c.ak}/{day(c, d)}/us-east-1/s3/aws4_request"),
     403, "InvalidAccessKeyId")
case("Credential empty", S, with_cred(lambda c, d: ""), 400, "AuthorizationHeaderMalformed")
case("region 2000 chars", S, lambda c: GET_OBJ(c, region="r" * 2000), 400,
     "AuthorizationHeaderMalformed")

# ---------------------------------------------------------------- time
T = "time"
case("x-amz-date 20 minutes past", T, lambda c: GET_OBJ(c, when=now() - timedelta(minutes=20)),
     403, "RequestTimeTooSkewed")
case("x-amz-date 20 minutes ahead", T, lambda c: GET_OBJ(c, when=now() + timedelta(minutes=20)),
     403, "RequestTimeTooSkewed")
case("x-amz-date year 9999", T, lambda c: GET_OBJ(c, when=now().replace(year=9999)),
     403, "RequestTimeTooSkewed")
case("x-amz-date year 1970", T, lambda c: GET_OBJ(c, when=now().replace(year=1970)),
     403, "RequestTimeTooSkewed")
case("x-amz-date 10 minutes past (allowed)", T,
     lambda c: GET_OBJ(c, when=now() - timedelta(minutes=10)), 200, None)

# ---------------------------------------------------------------- presigned
P = "presigned"


def in_pieces(data, size=8192, pause=0.05):
    """The request sent in pieces, each read on its own by the gateway."""
    return Req(steps=[(data[i:i + size], pause) for i in range(0, len(data), size)])


def head_then_rest(data, first=61440):
    """60 KiB of the head, a pause, then the rest: the head crosses 64 KiB
    in the gateway's second read."""
    return Req(steps=[(data[:first], 0.2), (data[first:], 0)])


def pre(mutate=None, method="GET", key="obj", **kw):
    return lambda c: c.presigned(method, c.path(key), mutate=mutate, **kw)


def set_param(name, value):
    def m(q):
        return [(k, value if k == name else v) for k, v in q]
    return m


def drop_param(name):
    return lambda q: [(k, v) for k, v in q if k != name]


case("presigned GET (control)", P, pre(), 200, None)
case("expired", P, pre(when=now() - timedelta(hours=2), expires=60), 403, "AccessDenied")
case("expired by a second", P, pre(when=now() - timedelta(seconds=70), expires=60), 403,
     "AccessDenied")
case("dated a day ahead", P, pre(when=now() + timedelta(days=1)), 403, "AccessDenied")
case("dated year 9999", P, pre(when=now().replace(year=9999)), 403, "AccessDenied")
case("X-Amz-Expires 604801", P, pre(expires=604801), 400, "AuthorizationQueryParametersError")
case("X-Amz-Expires 0", P, pre(expires=0), 400, "AuthorizationQueryParametersError")
case("X-Amz-Expires -1", P, pre(expires=-1), 400, "AuthorizationQueryParametersError")
case("X-Amz-Expires not a number", P, pre(expires="soon"), 400, "AuthorizationQueryParametersError")
case("X-Amz-Expires overflows u64", P, pre(expires="99999999999999999999999"), 400,
     "AuthorizationQueryParametersError")
case("X-Amz-Expires 604800 (allowed)", P, pre(expires=604800), 200, None)
for p in ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
          "X-Amz-SignedHeaders"):
    case(f"missing {p}", P, pre(mutate=drop_param(p)), 400, "AuthorizationQueryParametersError")
case("X-Amz-Algorithm HMAC-SHA1", P, pre(mutate=set_param("X-Amz-Algorithm", "AWS4-HMAC-SHA1")),
     400, "AuthorizationQueryParametersError")
case("repeated X-Amz-Credential", P, pre(mutate=lambda q: q + [q[1]]), 400,
     "AuthorizationQueryParametersError", note="AWS undocumented; s3gw's answer")
case("region of another gateway", P, pre(region="eu-central-1"), 400,
     "AuthorizationQueryParametersError")
case("X-Amz-Date not a date", P, pre(mutate=set_param("X-Amz-Date", "now")), 400,
     "AuthorizationQueryParametersError")
case("credential date differs from X-Amz-Date", P,
     pre(scope_day=(now() - timedelta(days=1)).strftime("%Y%m%d")), 400,
     "AuthorizationQueryParametersError")
case("tampered signature", P,
     pre(mutate=lambda q: q[:-1] + [("X-Amz-Signature", flip(q[-1][1]))]), 403,
     "SignatureDoesNotMatch")
case("GET URL used for DELETE", P, lambda c: c.presigned(
    "DELETE", c.path("obj"),
    mutate=lambda q: c.presigned_query("GET", c.path("obj"))), 403, "SignatureDoesNotMatch")
case("URL for another key", P, lambda c: c.presigned(
    "GET", c.path("other"), mutate=lambda q: c.presigned_query("GET", c.path("obj"))),
     403, "SignatureDoesNotMatch")
case("unsigned parameter added", P, pre(mutate=lambda q: q + [("prefix", "x")], key=None),
     403, "SignatureDoesNotMatch")
case("overlong URL (70 KB parameter)", P, lambda c: in_pieces(c.presigned(
    "GET", c.path("obj"), mutate=lambda q: q + [("x-junk", "a" * 70000)])),
     431, None, note="s3gw: 431 for a head over 64 KiB (docs/security.md); AWS answers 400 for "
                     "URLs over its own limit (undocumented code)")
case("overlong URL (70 KB parameter) in one write", P, lambda c: Req(c.presigned(
    "GET", c.path("obj"), mutate=lambda q: q + [("x-junk", "a" * 70000)]), one_write=True),
     414, None, note="the head arrives whole, so hyper parses it and refuses the URI (414 URI Too "
                     "Long) rather than the head (431): see the 70 KB header case")
case("long URL (40 KB unsigned parameter)", P, pre(mutate=lambda q: q + [("x-id", "a" * 40000)]),
     403, "SignatureDoesNotMatch")
case("SigV2 presigned with a garbage signature", P, lambda c: raw(
    "GET", c.path("obj") + f"?AWSAccessKeyId={c.ak}&Expires=2000000000&Signature=abc%3D",
    [("Host", c.host)]), 403, "SignatureDoesNotMatch",
     note="SigV2 is served (the legacy mode, on by default); its own cases are cases_sigv2.py")
case("presigned with SignedHeaders lacking host", P,
     pre(mutate=set_param("X-Amz-SignedHeaders", "x-amz-date")), 400,
     "AuthorizationQueryParametersError", note="AWS undocumented; s3gw's answer")
case("presigned PUT with x-amz-content-sha256 switching to aws-chunked", P, lambda c: c.presigned(
    "PUT", c.path("pre-chunked"), body=b"abc",
    extra_headers=[("x-amz-content-sha256", STREAMING), ("x-amz-decoded-content-length", "3")]),
     400, "AuthorizationQueryParametersError",
     note="s3gw's documented rule (docs/security.md); AWS undocumented")

# ---------------------------------------------------------------- unsigned-headers
U = "unsigned-headers"
case("unsigned x-amz-copy-source on PUT", U, lambda c: c.signed(
    "PUT", c.path("copy-dst"), unsigned=[("x-amz-copy-source", f"/{c.bucket}/obj")]),
     403, "AccessDenied")
case("unsigned x-amz-meta-a", U, lambda c: c.signed(
    "PUT", c.path("meta"), body=b"x", unsigned=[("x-amz-meta-a", "b")]), 403, "AccessDenied")
case("unsigned X-AMZ-META-UPPER", U, lambda c: c.signed(
    "PUT", c.path("meta"), body=b"x", unsigned=[("X-AMZ-META-UPPER", "b")]), 403, "AccessDenied")
case("unsigned x-amz-acl", U, lambda c: c.signed(
    "PUT", c.path("acl"), body=b"x", unsigned=[("x-amz-acl", "private")]), 403, "AccessDenied")
case("unsigned x-amz-checksum-crc32", U, lambda c: c.signed(
    "PUT", c.path("ck"), body=b"x", unsigned=[("x-amz-checksum-crc32", crc32_b64(b"x"))]),
     403, "AccessDenied")
case("unsigned x-amz-date", U, lambda c: GET_OBJ(c, signed=["host", "x-amz-content-sha256"]),
     403, "AccessDenied")
case("unsigned x-amz-content-sha256 (allowed)", U, lambda c: GET_OBJ(
    c, signed=["host", "x-amz-date"]), 200, None)
case("unsigned Content-Type (allowed)", U, lambda c: c.signed(
    "PUT", c.path("ctype"), body=b"x", unsigned=[("Content-Type", "text/html")]), 200, None)
case("presigned PUT plus unsigned x-amz-meta", U, lambda c: c.presigned(
    "PUT", c.path("pre-meta"), body=b"x", extra_headers=[("x-amz-meta-a", "b")]),
     403, "AccessDenied")
case("presigned PUT plus unsigned x-amz-copy-source", U, lambda c: c.presigned(
    "PUT", c.path("pre-copy"), extra_headers=[("x-amz-copy-source", f"/{c.bucket}/obj")]),
     403, "AccessDenied")
case("presigned header differs from its query parameter", U, lambda c: c.presigned(
    "PUT", c.path("pre-q"), body=b"x", query=[("x-amz-meta-a", "1")],
    extra_headers=[("x-amz-meta-a", "2")]), 400, "AuthorizationQueryParametersError")
case("signed x-amz-copy-source with a second unsigned value", U, lambda c: c.signed(
    "PUT", c.path("copy-dup"), headers=[("x-amz-copy-source", f"/{c.bucket}/obj")],
    unsigned=[("x-amz-copy-source", f"/{c.bucket}/other")]), 403, "SignatureDoesNotMatch")

# ---------------------------------------------------------------- chunk-signatures
C = "chunk-signatures"
case("signed aws-chunked PUT (control)", C, lambda c: c.chunked("chunked-ok"), 200, None)
case("tampered first chunk signature", C,
     lambda c: c.chunked("cs1", sig_edit=lambda i, s: flip(s) if i == 0 else s),
     403, "SignatureDoesNotMatch")
case("tampered middle chunk signature", C,
     lambda c: c.chunked("cs2", sig_edit=lambda i, s: flip(s) if i == 1 else s),
     403, "SignatureDoesNotMatch")
case("tampered final chunk signature", C,
     lambda c: c.chunked("cs3", sig_edit=lambda i, s: flip(s) if i == 3 else s),
     403, "SignatureDoesNotMatch")
case("data changed after signing", C,
     lambda c: c.chunked("cs4", edit=lambda b: b.replace(b"hostile", b"HOSTILE")),
     403, "SignatureDoesNotMatch")
case("chunk signature missing", C, lambda c: c.chunked(
    "cs5", edit=lambda b: b.split(b";", 1)[0] + b"\r\n" + b.split(b"\r\n", 1)[1]),
     400, "InvalidRequest", note="AWS undocumented; s3gw's answer (malformed aws-chunked)")
case("chunk signature 10 digits", C, lambda c: c.chunked(
    "cs6", sig_edit=lambda i, s: s[:10] if i == 0 else s), 400, "InvalidRequest",
     note="AWS undocumented; s3gw's answer")
case("chunks swapped", C, lambda c: c.chunked(
    "cs7", data=b"AAAAAAAABBBBBBBB", edit=lambda b: b.replace(b"AAAAAAAA", b"@").replace(
        b"BBBBBBBB", b"AAAAAAAA").replace(b"@", b"BBBBBBBB")), 403, "SignatureDoesNotMatch")
case("trailer signature tampered", C, lambda c: c.chunked(
    "cs8", mode=STREAMING_TRAILER, trailer=("x-amz-checksum-crc32", crc32_b64(b"hostile chunked body")),
    trailer_sig_edit=flip), 403, "SignatureDoesNotMatch")
case("signed trailer (control)", C, lambda c: c.chunked(
    "cs9", mode=STREAMING_TRAILER, trailer=("x-amz-checksum-crc32", crc32_b64(b"hostile chunked body"))),
     200, None)
case("trailer signature missing", C, lambda c: c.chunked(
    "cs10", mode=STREAMING_TRAILER, trailer=("x-amz-checksum-crc32", crc32_b64(b"hostile chunked body")),
    edit=lambda b: b[:b.index(b"x-amz-trailer-signature")] + b"\r\n"),
     400, "InvalidRequest", note="AWS undocumented; s3gw's answer (malformed trailer)")


def tamper_seed(r):
    i = r.index(b"Signature=") + len(b"Signature=")
    return r[:i] + flip(r[i:i + 64].decode()).encode() + r[i + 64:]


case("seed signature tampered", C, lambda c: tamper_seed(c.chunked("cs11")), 403,
     "SignatureDoesNotMatch")

# ---------------------------------------------------------------- chunk-framing
F = "chunk-framing"


def replace_first_size(new):
    return lambda b: new + b[b.index(b";"):]


case("missing x-amz-decoded-content-length", F, lambda c: c.chunked(
    "cf1", drop=("x-amz-decoded-content-length",)), 411, "MissingContentLength")
case("decoded length larger than the data", F, lambda c: c.chunked("cf2", decoded_length=1000),
     400, "IncompleteBody", note="AWS undocumented; s3gw's answer")
case("decoded length smaller than the data", F, lambda c: c.chunked("cf3", decoded_length=3),
     400, "IncompleteBody", note="AWS undocumented; s3gw's answer")
case("decoded length not a number", F, lambda c: c.chunked("cf4", decoded_length="ten"),
     400, "InvalidArgument", note="AWS undocumented; s3gw's answer")
case("hex size overflowing u64", F, lambda c: c.chunked(
    "cf5", edit=replace_first_size(b"ffffffffffffffffffff")), 400, "InvalidRequest")
case("hex size 2^64", F, lambda c: c.chunked(
    "cf6", edit=replace_first_size(b"10000000000000000")), 400, "InvalidRequest")
case("chunk over 64 MiB announced", F, lambda c: c.chunked(
    "cf7", edit=replace_first_size(b"4000001")), 400, "InvalidRequest")
case("size not hex", F, lambda c: c.chunked("cf8", edit=replace_first_size(b"zz")),
     400, "InvalidRequest")
case("negative size", F, lambda c: c.chunked("cf9", edit=replace_first_size(b"-8")),
     400, "InvalidRequest")
case("empty size", F, lambda c: c.chunked("cf10", edit=replace_first_size(b"")),
     400, "InvalidRequest")
case("size line over 4 KiB", F, lambda c: c.chunked(
    "cf11", edit=replace_first_size(b"0" * 5000 + b"8")), 400, "InvalidRequest")
case("size larger than the chunk sent", F, lambda c: c.chunked(
    "cf12", edit=replace_first_size(b"a")), 403, "SignatureDoesNotMatch",
     note="the chunk then takes bytes of the next frame, so its signature fails first")


def drop_second_crlf(b):
    i = b.index(b"\r\n", b.index(b"\r\n") + 2)
    return b[:i] + b[i + 2:]


case("CRLF after chunk data missing", F, lambda c: c.chunked("cf13", edit=drop_second_crlf),
     400, "InvalidRequest")
case("truncated before the final chunk", F, lambda c: c.chunked(
    "cf14", edit=lambda b: b[:b.rindex(b"0;chunk-signature")]), 400, "IncompleteBody",
     note="AWS undocumented; s3gw's answer")
case("truncated in the middle of a chunk, connection half-closed", F, lambda c: Req(
    c.chunked("cf15", content_length=400)[:-20], half_close=True), 400, "IncompleteBody")
case("garbage after the final chunk", F, lambda c: c.chunked(
    "cf16", edit=lambda b: b + b"GARBAGE"), 400, "InvalidRequest",
     note="AWS undocumented; s3gw's answer")
case("trailer section over 16 KiB", F, lambda c: c.chunked(
    "cf17", mode=UNSIGNED_TRAILER, trailer=("x-amz-checksum-crc32", crc32_b64(b"hostile chunked body")),
    edit=lambda b: b[:-2] + b"".join(b"x-junk-%d:%s\r\n" % (i, b"a" * 100) for i in range(200)) + b"\r\n"),
     400, "InvalidRequest")
case("aws-chunked body sent as plain data", F, lambda c: c.signed(
    "PUT", c.path("cf18"), body=b"not framed at all", payload=STREAMING,
    headers=[("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "17")]),
     400, "IncompleteBody", note="no size line ends before the body does; AWS undocumented")

# ---------------------------------------------------------------- trailer-checksums
K = "trailer-checksums"
BODY = b"hostile chunked body"
case("unsigned trailer CRC32 (control)", K, lambda c: c.chunked(
    "tc0", mode=UNSIGNED_TRAILER, trailer=("x-amz-checksum-crc32", crc32_b64(BODY))), 200, None)
case("unsigned trailer CRC32 mismatch", K, lambda c: c.chunked(
    "tc1", mode=UNSIGNED_TRAILER, trailer=("x-amz-checksum-crc32", crc32_b64(b"other"))),
     400, "BadDigest")
case("signed trailer CRC32 mismatch", K, lambda c: c.chunked(
    "tc2", mode=STREAMING_TRAILER, trailer=("x-amz-checksum-crc32", crc32_b64(b"other"))),
     400, "BadDigest")
case("trailer SHA256 mismatch", K, lambda c: c.chunked(
    "tc3", mode=UNSIGNED_TRAILER, trailer=("x-amz-checksum-sha256", b64(hashlib.sha256(b"o").digest()))),
     400, "BadDigest")
case("trailer checksum not base64", K, lambda c: c.chunked(
    "tc4", mode=UNSIGNED_TRAILER, trailer=("x-amz-checksum-crc32", "!!!!")),
     400, "InvalidRequest", note="AWS undocumented; s3gw's answer")
case("trailer other than the one announced", K, lambda c: c.chunked(
    "tc5", mode=UNSIGNED_TRAILER, trailer=("x-amz-checksum-crc32", crc32_b64(BODY)),
    trailer_name="x-amz-checksum-sha256"), 400, "InvalidRequest",
     note="AWS undocumented; s3gw's answer")
case("announced trailer never sent", K, lambda c: c.chunked(
    "tc6", mode=UNSIGNED_TRAILER, extra=[("x-amz-trailer", "x-amz-checksum-crc32")]),
     400, "InvalidRequest", note="AWS undocumented; s3gw's answer")
case("unknown trailer algorithm", K, lambda c: c.chunked(
    "tc7", mode=UNSIGNED_TRAILER, trailer=("x-amz-checksum-md4", "AAAA")),
     400, "InvalidRequest", note="AWS undocumented; s3gw's answer")
case("header CRC32 mismatch", K, lambda c: c.signed(
    "PUT", c.path("tc8"), body=b"abc", headers=[("x-amz-checksum-crc32", crc32_b64(b"abd"))]),
     400, "BadDigest")
case("Content-MD5 mismatch", K, lambda c: c.signed(
    "PUT", c.path("tc9"), body=b"abc", headers=[("Content-MD5", md5_b64(b"abd"))]),
     400, "BadDigest")
case("Content-MD5 not base64", K, lambda c: c.signed(
    "PUT", c.path("tc10"), body=b"abc", headers=[("Content-MD5", "not-md5")]),
     400, "InvalidDigest")
case("Content-MD5 of 8 bytes", K, lambda c: c.signed(
    "PUT", c.path("tc11"), body=b"abc", headers=[("Content-MD5", b64(b"12345678"))]),
     400, "InvalidDigest")
case("two different checksum headers", K, lambda c: c.signed(
    "PUT", c.path("tc12"), body=b"abc", headers=[("x-amz-checksum-crc32", crc32_b64(b"abc")),
                                                   ("x-amz-checksum-sha256", b64(hashlib.sha256(b"abc").digest()))]),
     400, "InvalidRequest")

# ---------------------------------------------------------------- content-length
L = "content-length"
case("body shorter than Content-Length, half-closed", L, lambda c: Req(
    c.signed("PUT", c.path("cl1"), body=b"abc", payload="UNSIGNED-PAYLOAD",
             headers=[("Content-Length", "10")], signed=None), half_close=True),
     400, "IncompleteBody")
case("body longer than Content-Length", L, lambda c: c.signed(
    "PUT", c.path("cl2"), body=b"abcdef", headers=[("Content-Length", "3")]),
     400, "XAmzContentSHA256Mismatch")
case("Transfer-Encoding chunked and Content-Length", L, lambda c: Req(c.signed(
    "PUT", c.path("cl3"), body=b"3\r\nabc\r\n0\r\n\r\n", payload=hashlib.sha256(b"abc").hexdigest(),
    unsigned=[("Transfer-Encoding", "chunked"), ("Content-Length", "3")]), expect_close=True),
     200, None, note="RFC 9112 §6.1: a server may process it by Transfer-Encoding alone, and must then "
          "close the connection; AWS undocumented")
case("Content-Length and Transfer-Encoding chunked", L, lambda c: Req(c.signed(
    "PUT", c.path("cl4"), body=b"3\r\nabc\r\n0\r\n\r\n", payload=hashlib.sha256(b"abc").hexdigest(),
    unsigned=[("Content-Length", "13"), ("Transfer-Encoding", "chunked")]), expect_close=True),
     200, None, note="RFC 9112 §6.1: a server may process it by Transfer-Encoding alone, and must then "
          "close the connection; AWS undocumented")
case("two different Content-Length", L, lambda c: c.signed(
    "PUT", c.path("cl5"), body=b"abc", unsigned=[("Content-Length", "3"), ("Content-Length", "4")]),
     400, None, note="hyper's bare 400")
case("Content-Length -1", L, lambda c: c.signed(
    "PUT", c.path("cl6"), body=b"abc", unsigned=[("Content-Length", "-1")]), 400, None)
case("Content-Length not a number", L, lambda c: c.signed(
    "PUT", c.path("cl7"), body=b"abc", unsigned=[("Content-Length", "abc")]), 400, None)
case("Content-Length overflowing u64", L, lambda c: c.signed(
    "PUT", c.path("cl8"), body=b"abc", unsigned=[("Content-Length", "99999999999999999999999")]),
     400, None)
case("Content-Length 6 GiB", L, lambda c: c.signed(
    "PUT", c.path("cl9"), body=b"", payload="UNSIGNED-PAYLOAD",
    unsigned=[("Content-Length", str(6 << 30))]), 400, "EntityTooLarge")
case("PUT without Content-Length", L, lambda c: c.signed(
    "PUT", c.path("cl10"), content_length=False), 411, "MissingContentLength")
case("Transfer-Encoding gzip", L, lambda c: c.signed(
    "PUT", c.path("cl11"), body=b"abc", unsigned=[("Transfer-Encoding", "gzip")]),
     400, None, note="hyper's bare 400: chunked must be the final coding")
case("Transfer-Encoding chunked, size overflowing", L, lambda c: c.signed(
    "PUT", c.path("cl12"), body=b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n", payload="UNSIGNED-PAYLOAD",
    unsigned=[("Transfer-Encoding", "chunked")]), 400, "IncompleteBody",
     note="hyper fails the body; s3gw answers IncompleteBody")
case("Transfer-Encoding chunked, size not hex", L, lambda c: c.signed(
    "PUT", c.path("cl13"), body=b"zz\r\nabc\r\n0\r\n\r\n", payload="UNSIGNED-PAYLOAD",
    unsigned=[("Transfer-Encoding", "chunked")]), 400, "IncompleteBody")
case("Transfer-Encoding chunked (control)", L, lambda c: c.signed(
    "PUT", c.path("cl14"), body=b"3\r\nabc\r\n0\r\n\r\n", payload=hashlib.sha256(b"abc").hexdigest(),
    unsigned=[("Transfer-Encoding", "chunked")]), 200, None)
case("Content-Length with a plus sign", L, lambda c: c.signed(
    "PUT", c.path("cl15"), body=b"abc", unsigned=[("Content-Length", "+3")]), 400, None)
case("Content-Length on a GET with a body", L, lambda c: c.signed(
    "GET", c.path("obj"), body=b"ignored"), 200, None,
     note="a GET body is read and ignored (its hash is signed)")

# ---------------------------------------------------------------- headers
H = "headers"
case("one header of 70 KB", H, lambda c: in_pieces(GET_OBJ(c, unsigned=[("x-junk", "a" * 70000)])),
     431, None, note="AWS answers 400 RequestHeaderSectionTooLarge over 8 KB; s3gw documents 431 "
                     "over 64 KiB (docs/security.md)")
case("one header of 70 KB in one write", H, lambda c: Req(
    GET_OBJ(c, unsigned=[("x-junk", "a" * 70000)]), one_write=True), 431, None,
     note="hyper's max_buf_size bounds when it stops reading, and one read may take in more: the "
          "gateway measures the parsed head again (src/http/head.rs)")
case("one header of 100 KB in one write", H, lambda c: Req(
    GET_OBJ(c, unsigned=[("x-junk", "a" * 100000)]), one_write=True), 431, None)
case("one header of 70 KB, the last 10 KB after a pause", H, lambda c: head_then_rest(
    GET_OBJ(c, unsigned=[("x-junk", "a" * 70000)])), 431, None)
case("one header of 200 KB", H, lambda c: GET_OBJ(c, unsigned=[("x-junk", "a" * 200000)]),
     431, None, note="hyper's 431 (docs/security.md)")
case("one header of 1 MB", H, lambda c: GET_OBJ(c, unsigned=[("x-junk", "a" * 1000000)]),
     431, None, note="hyper's 431 (docs/security.md)")
case("150 headers", H, lambda c: GET_OBJ(c, unsigned=[(f"x-junk-{i}", "a") for i in range(150)]),
     431, None, note="s3gw: hyper's 431 over 100 headers (docs/security.md)")
case("90 unsigned extra headers (allowed)", H, lambda c: GET_OBJ(
    c, unsigned=[(f"x-junk-{i}", "a") for i in range(90)]), 200, None)
case("header name with a space", H, lambda c: GET_OBJ(c, unsigned=[("x bad", "a")]), 400, None)
case("header value with NUL", H, lambda c: GET_OBJ(c, unsigned=[("x-junk", b"a\x00b")]), 400, None)
case("header line without colon", H, lambda c: GET_OBJ(c).replace(b"\r\n\r\n", b"\r\nnocolon\r\n\r\n", 1),
     400, None)
case("obsolete line folding", H, lambda c: GET_OBJ(c).replace(b"\r\n\r\n", b"\r\nx-a: b\r\n c\r\n\r\n", 1),
     400, None)
case("header value bytes over 0x7f (allowed)", H, lambda c: GET_OBJ(c, unsigned=[("x-junk", b"\xff\xfe")]),
     200, None)
case("bare LF line endings", H, lambda c: GET_OBJ(c).replace(b"\r\n", b"\n"), 200, None,
     note="hyper accepts LF-only heads, as RFC 9112 §2.2 allows")
case("no Host header", H, lambda c: GET_OBJ(c, drop=("host",), signed=["x-amz-content-sha256", "x-amz-date"]),
     400, "AuthorizationHeaderMalformed", note="AWS undocumented; s3gw requires host signed")
case("two Host headers", H, lambda c: GET_OBJ(c, unsigned=[("Host", "evil.example")]),
     403, "SignatureDoesNotMatch", note="AWS undocumented; both values enter the canonical host line")
case("request line of 70 KB", H, lambda c: in_pieces(
    GET_OBJ(c).replace(b" HTTP/1.1", b"?x=" + b"a" * 70000 + b" HTTP/1.1", 1)),
     431, None, note="a head over 64 KiB (docs/security.md)")
case("request line of 70 KB in one write", H, lambda c: Req(GET_OBJ(c).replace(
    b" HTTP/1.1", b"?x=" + b"a" * 70000 + b" HTTP/1.1", 1), one_write=True),
     414, None, note="the head arrives whole: hyper's 414 URI Too Long, not 431")

# ---------------------------------------------------------------- keys
Y = "keys"
case("key of 1025 bytes", Y, lambda c: c.signed("PUT", c.path("k" * 1025), body=b"x"),
     400, "KeyTooLongError")
case("key of 1024 bytes (allowed)", Y, lambda c: c.signed("PUT", c.path("k" * 1024), body=b"x"),
     200, None)
case("GET key of 1025 bytes", Y, lambda c: c.signed("GET", c.path("k" * 1025)), 400, "KeyTooLongError")
case("key of 1025 bytes of 2-byte UTF-8 ", Y, lambda c: c.signed("PUT", c.path("é" * 513), body=b"x"),
     400, "KeyTooLongError")
case("key with NUL", Y, lambda c: c.signed("PUT", c.path("a\x00b"), body=b"x"), 400, "InvalidArgument",
     note="s3gw refuses keys XML cannot carry (docs/s3-compatibility.md); AWS stores them")
case("key with U+0001", Y, lambda c: c.signed("PUT", c.path("a\x01b"), body=b"x"), 400, "InvalidArgument",
     note="s3gw's documented difference")
case("key with U+FFFF", Y, lambda c: c.signed("PUT", c.path("a\uffffb"), body=b"x"), 400, "InvalidArgument",
     note="s3gw's documented difference")
case("key of invalid UTF-8", Y, lambda c: c.signed("PUT", c.path(b"a\xffb".decode("utf-8", "surrogateescape")),
                                                    body=b"x"), 400, "InvalidURI",
     note="AWS: InvalidURI, 'Couldn't parse the specified URI.'")
case("key with a bad percent escape", Y, lambda c: c.signed("PUT", f"/{c.bucket}/a%zzb", body=b"x"),
     400, "InvalidURI",
     note="'%zz' is no escape; kept literally, 'a%zzb' and 'a%25zzb' would name one key")
case("key with a raw space in the request line", Y, lambda c: c.signed("GET", f"/{c.bucket}/a b"),
     400, None, note="hyper's bare 400")
case("key with NUL in a GET", Y, lambda c: c.signed("GET", c.path("a\x00b")), 400, "InvalidArgument")
case("prefix with NUL in a listing", Y, lambda c: c.signed("GET", c.path(), query=[("prefix", "a\x00")]),
     400, "InvalidArgument", note="s3gw's documented difference")
case("key ../obj", Y, lambda c: c.signed("GET", c.path("../obj")), 404, "NoSuchKey",
     note="keys are opaque: no path normalisation")

# ---------------------------------------------------------------- bucket-names
B = "bucket-names"
for bname, why in [("AB", "upper case, 2 chars"), ("ab", "2 chars"), ("a" * 64, "64 chars"),
                   ("-abc", "leading hyphen"), ("abc-", "trailing hyphen"), ("a..b", "two dots"),
                   ("192.168.1.1", "IP address"), ("xn--abc", "xn-- prefix"), ("abc_def", "underscore"),
                   ("abc-s3alias", "-s3alias suffix"), (".abc", "leading dot"), ("Abc", "upper case"),
                   ("abc--ol-s3", "--ol-s3 suffix"), ("sthree-abc", "sthree- prefix")]:
    case(f"CreateBucket {why}", B, (lambda n: lambda c: c.signed("PUT", f"/{n}", body=b""))(bname),
         400, "InvalidBucketName")
case("CreateBucket name with %00", B, lambda c: c.signed("PUT", "/abc%00def"), 400, "InvalidBucketName")
case("GET object in an invalid bucket", B, lambda c: c.signed("GET", "/ab/obj"), 404, "NoSuchBucket",
     note="reads name no bucket that could exist; AWS undocumented")
case("GET bucket that does not exist", B, lambda c: c.signed("GET", "/no-such-bucket-hostile"),
     404, "NoSuchBucket")
