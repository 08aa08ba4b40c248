"""Catalogue cases, part 2: XML bodies, multipart completes, ranges, part
numbers, methods, CORS preflights and rules, form uploads, the reserved /_s3gw/ paths, query and copy parameters,
and slow clients. See catalogue.py for the record and how the runner reads it."""

import hashlib

from builders import Req, b64, case, md5_b64
from cases_auth import GET_OBJ
from sigv4 import raw

# ---------------------------------------------------------------- xml
X = "xml"
BOMB = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + ']>')


def complete(c, body, key="mp", upload=None, **kw):
    return c.signed("POST", c.path(key), query=[("uploadId", upload or c.upload_id)], body=body, **kw)


def delete_objects(c, body):
    b = body.encode() if isinstance(body, str) else body
    return c.signed("POST", c.path(), query=[("delete", "")], body=b, headers=[("Content-MD5", md5_b64(b))])


case("Complete with a billion laughs", X, lambda c: complete(
    c, BOMB + "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&j;</ETag></Part>"
              "</CompleteMultipartUpload>"), 400, "MalformedXML")
case("Complete with an external entity", X, lambda c: complete(
    c, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
       "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&e;</ETag></Part>"
       "</CompleteMultipartUpload>"), 400, "MalformedXML")
case("Complete nested 100 000 deep", X, lambda c: complete(
    c, "<CompleteMultipartUpload>" + "<Part>" * 100000 + "</Part>" * 100000 + "</CompleteMultipartUpload>"),
     400, "MalformedXML")
case("Complete over 4 MiB", X, lambda c: complete(
    c, "<CompleteMultipartUpload>" + " " * (5 << 20) + "</CompleteMultipartUpload>"),
     400, "MaxMessageLengthExceeded")
case("Complete not XML", X, lambda c: complete(c, "hello"), 400, "MalformedXML")
case("Complete empty body", X, lambda c: complete(c, ""), 400, "MalformedXML")
case("Complete invalid UTF-8", X, lambda c: complete(
    c, b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\xff\xfe</ETag></Part>"
       b"</CompleteMultipartUpload>"), 400, "MalformedXML")
case("Complete unclosed", X, lambda c: complete(c, "<CompleteMultipartUpload><Part>"), 400, "MalformedXML")
case("DeleteObjects with a billion laughs", X, lambda c: delete_objects(
    c, BOMB + "<Delete><Object><Key>&j;</Key></Object></Delete>"), 400, "MalformedXML")
case("DeleteObjects nested 100 000 deep", X, lambda c: delete_objects(
    c, "<Delete>" + "<Object>" * 100000 + "</Object>" * 100000 + "</Delete>"), 400, "MalformedXML")
case("DeleteObjects 1001 keys", X, lambda c: delete_objects(
    c, "<Delete>" + "".join(f"<Object><Key>k{i}</Key></Object>" for i in range(1001)) + "</Delete>"),
     400, "MalformedXML")
case("DeleteObjects over 2 MiB", X, lambda c: delete_objects(
    c, "<Delete>" + " " * (3 << 20) + "</Delete>"), 400, "MaxMessageLengthExceeded",
     note="s3gw's documented limit (docs/security.md)")
case("DeleteObjects key with NUL character reference", X, lambda c: delete_objects(
    c, "<Delete><Object><Key>a&#0;b</Key></Object></Delete>"), 400, "MalformedXML")
case("CreateBucket configuration with an entity", X, lambda c: c.signed(
    "PUT", "/hostile-xml-bucket", body=BOMB + "<CreateBucketConfiguration><LocationConstraint>&j;"
                                              "</LocationConstraint></CreateBucketConfiguration>"),
     400, "MalformedXML")
case("CreateBucket configuration over 64 KiB", X, lambda c: c.signed(
    "PUT", "/hostile-xml-bucket", body="<CreateBucketConfiguration>" + " " * 70000
                                       + "</CreateBucketConfiguration>"),
     400, "MaxMessageLengthExceeded", note="s3gw's documented limit")

# ---------------------------------------------------------------- multipart
M = "multipart"


def parts_xml(numbers, etag='"x"'):
    return "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>" for n in numbers) + \
        "</CompleteMultipartUpload>"


case("Complete with 100 000 parts", M, lambda c: complete(c, parts_xml(range(1, 100001))),
     400, "MaxMessageLengthExceeded", note="the XML is over s3gw's documented 4 MiB")
case("Complete with 100 000 parts without ETags (under 4 MiB)", M, lambda c: complete(
    c, "<CompleteMultipartUpload>" + "<Part><PartNumber>1</PartNumber></Part>" * 100000
       + "</CompleteMultipartUpload>"), 400, "MalformedXML", note="a Part needs its ETag")
case("Complete with 10 001 parts", M, lambda c: complete(c, parts_xml(range(1, 10002))),
     400, "InvalidPart", note="part 2 was never uploaded")
case("Complete with part 10001", M, lambda c: complete(c, parts_xml([1, 10001])),
     400, "InvalidPart", note="AWS undocumented; s3gw's answer")
case("Complete with part number 0", M, lambda c: complete(c, parts_xml([0])), 400, "InvalidArgument",
     note="part numbers are 1-10000 (InvalidArgument, as UploadPart answers); AWS undocumented")
case("Complete with part number -1", M, lambda c: complete(c, parts_xml([-1])), 400, "MalformedXML",
     note="AWS undocumented; s3gw's answer")
case("Complete with part number 2^64", M, lambda c: complete(c, parts_xml([2 ** 64])), 400, "MalformedXML",
     note="AWS undocumented; s3gw's answer")
case("Complete with a repeated part", M, lambda c: complete(
    c, parts_xml([1, 1], '"%s"' % hashlib.md5(b"part one").hexdigest())), 400, "InvalidPartOrder")
case("Complete with part 1 too small and part 2 (wrong ETag)", M, lambda c: complete(
    c, parts_xml([1], '"%s"' % hashlib.md5(b"part one").hexdigest())[:-len("</CompleteMultipartUpload>")]
    + '<Part><PartNumber>2</PartNumber><ETag>"00"</ETag></Part></CompleteMultipartUpload>'),
     400, "InvalidPart")
case("Complete with descending parts", M, lambda c: complete(c, parts_xml([2, 1])), 400, "InvalidPart",
     note="part 2 was never uploaded: s3gw checks parts before order; AWS undocumented")
case("Complete with an unknown part", M, lambda c: complete(c, parts_xml([7])), 400, "InvalidPart")
case("Complete with a wrong ETag", M, lambda c: complete(c, parts_xml([1], '"00"')), 400, "InvalidPart")
case("Complete with no parts", M, lambda c: complete(c, "<CompleteMultipartUpload></CompleteMultipartUpload>"),
     400, "MalformedXML")
case("Complete of an unknown upload", M, lambda c: complete(c, parts_xml([1]), upload="0" * 32),
     404, "NoSuchUpload")
case("Complete with an upload id of 10 KB", M, lambda c: complete(c, parts_xml([1]), upload="a" * 10000),
     404, "NoSuchUpload")
case("UploadPart to an upload id with NUL", M, lambda c: c.signed(
    "PUT", c.path("mp"), query=[("partNumber", "1"), ("uploadId", c.upload_id + "\x00")], body=b"x"),
     400, "InvalidArgument", note="s3gw refuses query parameters XML cannot carry")

# ---------------------------------------------------------------- ranges
R = "ranges"


def ranged(value):
    return lambda c: GET_OBJ(c, unsigned=[("Range", value)])


case("range past the end", R, ranged("bytes=200-300"), 416, "InvalidRange")
case("range starting at the size", R, ranged("bytes=100-"), 416, "InvalidRange")
case("suffix of zero bytes", R, ranged("bytes=-0"), 416, "InvalidRange")
case("inverted range", R, ranged("bytes=50-10"), 200, None, note="S3 ignores an invalid range")
case("end overflowing u64", R, ranged("bytes=0-99999999999999999999999"), 206, None,
     note='RFC 9110 §14.1.2: a last position past the end means the end')
case("start overflowing u64", R, ranged("bytes=99999999999999999999999-"), 416, "InvalidRange",
     note='RFC 9110 §14.1.2: a first position past the end is unsatisfiable')
case("suffix overflowing u64", R, ranged("bytes=-99999999999999999999999"), 206, None,
     note='RFC 9110 §14.1.2: a suffix longer than the object is the whole object')
case("suffix longer than the object", R, ranged("bytes=-1000"), 206, None)
case("range not bytes", R, ranged("items=0-1"), 200, None)
case("range junk", R, ranged("bytes=abc"), 200, None)
case("several ranges", R, ranged("bytes=0-1,5-6"), 200, None)
case("range with partNumber", R, lambda c: GET_OBJ(c, query=[("partNumber", "1")], unsigned=[("Range", "bytes=0-1")]),
     400, "InvalidRequest")
case("range on HEAD past the end", R, lambda c: c.signed("HEAD", c.path("obj"), unsigned=[("Range", "bytes=500-")]),
     416, None, note="HEAD answers carry no body")
case("copy-source-range inverted", R, lambda c: c.signed(
    "PUT", c.path("mp"), query=[("partNumber", "2"), ("uploadId", c.upload_id)],
    headers=[("x-amz-copy-source", f"/{c.bucket}/obj"), ("x-amz-copy-source-range", "bytes=50-10")]),
     400, "InvalidArgument")
case("copy-source-range past the end", R, lambda c: c.signed(
    "PUT", c.path("mp"), query=[("partNumber", "2"), ("uploadId", c.upload_id)],
    headers=[("x-amz-copy-source", f"/{c.bucket}/obj"), ("x-amz-copy-source-range", "bytes=0-500")]),
     416, "InvalidRange")

# ---------------------------------------------------------------- part-numbers
N = "part-numbers"
for pn in ("0", "10001", "-1", "abc", "99999999999999999999", ""):
    case(f"GET partNumber={pn!r}", N, (lambda v: lambda c: GET_OBJ(c, query=[("partNumber", v)]))(pn),
         400, "InvalidArgument")
    case(f"UploadPart partNumber={pn!r}", N, (lambda v: lambda c: c.signed(
        "PUT", c.path("mp"), query=[("partNumber", v), ("uploadId", c.upload_id)], body=b"x"))(pn),
         400, "InvalidArgument")
case("GET partNumber=2 of a single-part object", N, lambda c: GET_OBJ(c, query=[("partNumber", "2")]),
     416, "InvalidPartNumber")
case("UploadPart partNumber=10000 (allowed)", N, lambda c: c.signed(
    "PUT", c.path("mp"), query=[("partNumber", "10000"), ("uploadId", c.upload_id)], body=b"x"), 200, None)

# ---------------------------------------------------------------- methods
V = "methods"
for m in ("BREW", "PATCH", "TRACE", "PROPFIND"):
    case(f"{m} on an object", V, (lambda mm: lambda c: c.signed(mm, c.path("obj")))(m),
         405, "MethodNotAllowed")
case("CONNECT", V, lambda c: raw("CONNECT", c.host, [("Host", c.host)]), 405, "MethodNotAllowed",
     note="AWS undocumented; s3gw's answer")
case("lower-case get", V, lambda c: c.signed("get", c.path("obj")), 405, "MethodNotAllowed",
     note="methods are case-sensitive (RFC 9110 §9.1)")
case("method with an invalid character", V, lambda c: raw("G@T", c.path("obj"), [("Host", c.host)]),
     400, None, note="hyper's bare 400")
case("HTTP/1.0 request (allowed)", V, lambda c: GET_OBJ(c, version="HTTP/1.0"), 200, None)
case("HTTP/9.9", V, lambda c: GET_OBJ(c, version="HTTP/9.9"), 400, None, note="hyper's bare 400")
case("HTTP/2 preface on HTTP/1", V, lambda c: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None, None,
     note="HTTP/1 only: hyper closes the connection without an answer")
case("not HTTP at all", V, lambda c: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
     400, None, note="a TLS ClientHello on the plain port: hyper's bare 400")
case("absolute-form target for another host", V, lambda c: c.signed(
    "GET", f"http://evil.example{c.path('obj')}", canon_path=c.path("obj")),
     403, "SignatureDoesNotMatch",
     note="RFC 9112 §3.2.2: the target's authority (evil.example) replaces Host, and the "
          "signature (host 127.0.0.1) does not cover it; AWS undocumented")

# ---------------------------------------------------------------- cors
# The preflight is answered without a signature (docs/s3-compatibility.md,
# "CORS"); the fixture's bucket has no CORS rules.
C = "cors"


def preflight(c, headers, path=None):
    return raw("OPTIONS", path or c.path("obj"), [("Host", c.host), *headers])


def put_cors(c, body):
    b = body.encode() if isinstance(body, str) else body
    return c.signed("PUT", c.path(), query=[("cors", "")], body=b, headers=[("Content-MD5", md5_b64(b))])


CORS_RULE = "<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>"
case("preflight without Origin", C, lambda c: preflight(c, [("Access-Control-Request-Method", "GET")]),
     400, "BadRequest")
case("preflight without Access-Control-Request-Method", C, lambda c: preflight(c, [("Origin", "https://a.test")]),
     400, "BadRequest")
case("preflight on a bucket without rules", C, lambda c: preflight(c, [
    ("Origin", "https://a.test"), ("Access-Control-Request-Method", "GET")]), 403, "AccessForbidden")
case("preflight on a bucket that does not exist", C, lambda c: preflight(c, [
    ("Origin", "https://a.test"), ("Access-Control-Request-Method", "GET")], path="/no-such-bucket-cors/k"),
     403, "AccessForbidden", note="answered as a bucket without rules: nothing tells which buckets exist")
case("preflight naming 5000 request headers", C, lambda c: preflight(c, [
    ("Origin", "https://a.test"), ("Access-Control-Request-Method", "PUT"),
    ("Access-Control-Request-Headers", ",".join(f"x-h{i}" for i in range(5000)))]), 403, "AccessForbidden")
case("preflight with a 30 KB origin", C, lambda c: preflight(c, [
    ("Origin", "https://" + "a" * 30000), ("Access-Control-Request-Method", "GET")]), 403, "AccessForbidden")
case("PutBucketCors with a billion laughs", C, lambda c: put_cors(
    c, BOMB + "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>"
              "<AllowedOrigin>&j;</AllowedOrigin></CORSRule></CORSConfiguration>"), 400, "MalformedXML")
case("PutBucketCors with 101 rules", C, lambda c: put_cors(
    c, "<CORSConfiguration>" + CORS_RULE * 101 + "</CORSConfiguration>"), 400, "MalformedXML")
case("PutBucketCors over 64 KiB", C, lambda c: put_cors(
    c, "<CORSConfiguration>" + CORS_RULE + " " * (65 << 10) + "</CORSConfiguration>"),
     400, "MaxMessageLengthExceeded")
case("PutBucketCors with a method S3 does not allow", C, lambda c: put_cors(
    c, "<CORSConfiguration><CORSRule><AllowedMethod>TRACE</AllowedMethod>"
       "<AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>"), 400, "InvalidRequest")
case("PutBucketCors with two wildcards in an origin", C, lambda c: put_cors(
    c, "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>"
       "<AllowedOrigin>*.*</AllowedOrigin></CORSRule></CORSConfiguration>"), 400, "InvalidRequest")

# ---------------------------------------------------------------- form uploads
# POST /bucket with multipart/form-data (PostObject); none of these is
# signed by a valid policy.
F = "form-upload"
FB = "XyZformBoundary"


def form_post(c, body, content_type=f"multipart/form-data; boundary={FB}"):
    b = body.encode() if isinstance(body, str) else body
    return raw("POST", c.path(), [("Host", c.host), ("Content-Type", content_type),
                                  ("Content-Length", str(len(b)))], body=b)


def form_body(fields, file=b"data", boundary=FB):
    out = b""
    for k, v in fields:
        v = v.encode() if isinstance(v, str) else v
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v + b"\r\n"
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'.encode()
            + file + f"\r\n--{boundary}--\r\n".encode())
    return out


case("form upload not multipart/form-data", F, lambda c: form_post(c, "key=k", "application/x-www-form-urlencoded"),
     412, "PreconditionFailed")
case("form upload with a 71-character boundary", F, lambda c: form_post(
    c, form_body([("key", "k")], boundary="b" * 71), "multipart/form-data; boundary=" + "b" * 71),
     412, "PreconditionFailed")
case("form upload with 70 KiB of fields before the file", F, lambda c: form_post(
    c, form_body([("key", "k"), ("x-ignore-pad", "p" * (70 << 10))])), 400, "MaxMessageLengthExceeded")
case("form upload with 300 fields", F, lambda c: form_post(
    c, form_body([(f"x-ignore-{i}", "v") for i in range(300)])), 400, "MaxMessageLengthExceeded")
case("form upload with a field that is not UTF-8", F, lambda c: form_post(
    c, form_body([("key", b"\xff\xfe")])), 400, "MalformedPOSTRequest")
case("form upload with the key twice", F, lambda c: form_post(
    c, form_body([("key", "a"), ("Key", "b")])), 400, "InvalidArgument")
case("form upload without a key", F, lambda c: form_post(c, form_body([("acl", "private")])),
     400, "InvalidArgument")
case("form upload without a signature (anonymous)", F, lambda c: form_post(c, form_body([("key", "k")])),
     403, "AccessDenied")
case("form upload with a forged SigV2 signature", F, lambda c: form_post(c, form_body([
    ("key", "k"), ("AWSAccessKeyId", c.ak), ("policy", "e30="), ("signature", "AAAA")])), 403,
     "SignatureDoesNotMatch")
case("form upload with a forged policy signature", F, lambda c: form_post(c, form_body([
    ("key", "k"), ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
    ("x-amz-credential", f"{c.ak}/20250101/us-east-1/s3/aws4_request"), ("x-amz-date", "20250101T000000Z"),
    ("policy", "eyJleHBpcmF0aW9uIjoiMjA5OS0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0="),
    ("x-amz-signature", "0" * 64)])), 403, "SignatureDoesNotMatch")
case("form upload cut inside the fields", F, lambda c: form_post(
    c, f'--{FB}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk'), 400, "MalformedPOSTRequest")

# ---------------------------------------------------------------- reserved
Z = "reserved-paths"
# The S3 listener never serves the dashboard (issue 15, item 5): its paths
# answer 404 there, with or without credentials.
case("dashboard on the S3 listener", Z, lambda c: raw("GET", "/_s3gw/dashboard/", [("Host", c.host)]), 404, None)
case("dashboard app.js on the S3 listener", Z,
     lambda c: raw("GET", "/_s3gw/dashboard/app.js", [("Host", c.host)]), 404, None)
case("dashboard API on the S3 listener", Z, lambda c: raw("GET", "/_s3gw/api/cluster", [("Host", c.host)]),
     404, None)
case("dashboard API on the S3 listener with the root pair as Basic", Z, lambda c: raw("GET", "/_s3gw/api/cluster", [
    ("Host", c.host), ("Authorization", "Basic " + b64(f"{c.ak}:{c.sk}".encode()))]), 404, None)
case("access view on the S3 listener with the root pair as Basic", Z, lambda c: raw("GET", "/_s3gw/api/access", [
    ("Host", c.host), ("Authorization", "Basic " + b64(f"{c.ak}:{c.sk}".encode()))]), 404, None)
case("dashboard with Basic not base64", Z, lambda c: raw("GET", "/_s3gw/dashboard/", [
    ("Host", c.host), ("Authorization", "Basic !!!")]), 404, None)
case("dashboard with a SigV4 header", Z, lambda c: c.signed("GET", "/_s3gw/dashboard/"), 404, None)
case("login on the S3 listener", Z, lambda c: raw("POST", "/_s3gw/login", [
    ("Host", c.host), ("Content-Type", "application/x-www-form-urlencoded"),
    ("Content-Length", str(len(c.login_form())))], c.login_form()), 404, None)
case("dashboard via ../ from health", Z, lambda c: raw("GET", "/_s3gw/health/../dashboard/", [("Host", c.host)]),
     404, None, note="no path normalisation: an unknown reserved path")
case("dashboard %2F-encoded", Z, lambda c: raw("GET", "/_s3gw%2Fdashboard%2F", [("Host", c.host)]),
     403, "AccessDenied", note="not the reserved path: an anonymous S3 request")
case("unknown reserved path", Z, lambda c: raw("GET", "/_s3gw/secret", [("Host", c.host)]), 404, None)
case("PUT on the dashboard", Z, lambda c: raw("PUT", "/_s3gw/dashboard/", [("Host", c.host), ("Content-Length", "0")]),
     404, None)
case("health answers without login (control)", Z, lambda c: raw("GET", "/_s3gw/health", [("Host", c.host)]),
     200, None)
case("CreateBucket _s3gw", Z, lambda c: c.signed("PUT", "/_s3gw"), 400, "InvalidBucketName")

# ---------------------------------------------------------------- admin listener
# The dashboard's own origin (--admin-listen): a session cookie from a form
# login, never objects. Two failed logins here: below the five that start the
# throttling, so the cases do not depend on their order.
A = "admin-origin"


def admin(method, path, headers=(), body=b""):
    return lambda c: Req(raw(method, path, [("Host", c.admin_host)] + list(headers), body), admin=True)


def login(form, headers=(("Content-Type", "application/x-www-form-urlencoded"),)):
    def build(c):
        data = form(c) if callable(form) else form
        return Req(raw("POST", "/_s3gw/login", [("Host", c.admin_host), *headers,
                                                 ("Content-Length", str(len(data)))], data), admin=True)
    return build


case("API without a session", A, admin("GET", "/_s3gw/api/cluster"), 401, None)
case("API with the root pair as Basic", A, lambda c: admin("GET", "/_s3gw/api/cluster", [
    ("Authorization", "Basic " + b64(f"{c.ak}:{c.sk}".encode()))])(c), 401, None)
case("API with a forged session cookie", A,
     admin("GET", "/_s3gw/api/cluster", [("Cookie", "s3gw_session=4102444800.00.00")]), 401, None)
case("API with a 16 KiB cookie", A,
     admin("GET", "/_s3gw/api/cluster", [("Cookie", "s3gw_session=" + "9" * 16384)]), 401, None)
case("API with a session cookie under another name", A,
     admin("GET", "/_s3gw/api/cluster", [("Cookie", "__Host-s3gw_session=1.2.3")]), 401, None)
case("API with the plain cookie over TLS", A, admin("GET", "/_s3gw/api/cluster", [
    ("X-Forwarded-Proto", "https"), ("Cookie", "s3gw_session=1.2.3")]), 401, None)
case("access view without a session", A, admin("GET", "/_s3gw/api/access"), 401, None)
case("access view with a forged v2 cookie for the root pair", A, lambda c: admin("GET", "/_s3gw/api/access", [
    ("Cookie", f"s3gw_session=v2.{c.ak.encode().hex()}.4102444800.{'0' * 32}.{'0' * 64}")])(c), 401, None)
case("login with a wrong secret", A, login(lambda c: f"access_key={c.ak}&secret_key=wrong"), 401, None)
case("login without a secret", A, login(lambda c: f"access_key={c.ak}"), 401, None)
case("login as JSON", A, login(lambda c: '{"access_key": "x"}', [("Content-Type", "application/json")]),
     415, None)
case("login without a content type", A, login(lambda c: c.login_form(), []), 415, None)
case("login with a 5 KiB form", A, login(lambda c: c.login_form() + "&pad=" + "x" * 5000), 413, None)
case("login with a chunked 8 KiB form", A, lambda c: Req(raw("POST", "/_s3gw/login", [
    ("Host", c.admin_host), ("Content-Type", "application/x-www-form-urlencoded"),
    ("Transfer-Encoding", "chunked")], "2000\r\n" + "x" * 8192 + "\r\n0\r\n\r\n"), admin=True), 413, None)
case("login from another origin", A, login(lambda c: c.login_form(), [
    ("Content-Type", "application/x-www-form-urlencoded"), ("Origin", "http://evil.example")]), 403, None)
case("login from a sibling site", A, login(lambda c: c.login_form(), [
    ("Content-Type", "application/x-www-form-urlencoded"), ("Sec-Fetch-Site", "same-site")]), 403, None)
case("login with Origin null", A, login(lambda c: c.login_form(), [
    ("Content-Type", "application/x-www-form-urlencoded"), ("Origin", "null")]), 403, None)
case("login by GET", A, admin("GET", "/_s3gw/login"), 405, None)
case("an object path on the admin listener", A, lambda c: admin("GET", c.path("obj"))(c), 404, None)
case("a signed GET of an object on the admin listener", A,
     lambda c: Req(c.signed("GET", c.path("obj")), admin=True), 404, None)
case("PUT on the admin listener", A, admin("PUT", "/b/k", [("Content-Length", "1")], b"x"), 405, None)
case("the page is public on the admin listener (control)", A, admin("GET", "/_s3gw/dashboard/"), 200, None)

# ---------------------------------------------------------------- parameters
Q = "parameters"
case("response-content-type with CR LF", Q, lambda c: Req(GET_OBJ(
    c, query=[("response-content-type", "text/html\r\nX-Evil: 1")]), absent_header=b"x-evil"),
     200, None, note="no header is injected: s3gw drops an override that is no valid header value; "
                     "AWS undocumented")
case("response-cache-control with LF", Q, lambda c: Req(GET_OBJ(
    c, query=[("response-cache-control", "x\nX-Evil: 1")]), absent_header=b"x-evil"),
     200, None, note="no header is injected; AWS undocumented")
case("response-content-type with NUL", Q, lambda c: GET_OBJ(c, query=[("response-content-type", "a\x00b")]),
     400, "InvalidArgument", note="s3gw refuses query parameters XML cannot carry")
case("max-keys -1", Q, lambda c: c.signed("GET", c.path(), query=[("max-keys", "-1")]), 400, "InvalidArgument")
case("max-keys overflowing u64", Q, lambda c: c.signed(
    "GET", c.path(), query=[("max-keys", "99999999999999999999")]), 400, "InvalidArgument")
case("continuation-token garbage", Q, lambda c: c.signed(
    "GET", c.path(), query=[("list-type", "2"), ("continuation-token", "garbage!!")]),
     400, "InvalidArgument")
case("encoding-type bogus", Q, lambda c: c.signed("GET", c.path(), query=[("encoding-type", "bogus")]),
     400, "InvalidArgument")
case("max-parts not a number", Q, lambda c: c.signed(
    "GET", c.path("mp"), query=[("uploadId", c.upload_id), ("max-parts", "abc")]), 400, "InvalidArgument")
case("copy source without a key", Q, lambda c: c.signed(
    "PUT", c.path("cp"), headers=[("x-amz-copy-source", "nobucket")]), 400, "InvalidArgument")
case("copy source of invalid UTF-8", Q, lambda c: c.signed(
    "PUT", c.path("cp"), headers=[("x-amz-copy-source", f"/{c.bucket}/o%ffbj")]), 400, "InvalidArgument")
case("copy onto itself without REPLACE", Q, lambda c: c.signed(
    "PUT", c.path("obj"), headers=[("x-amz-copy-source", f"/{c.bucket}/obj")]), 400, "InvalidRequest")
case("metadata directive BOGUS", Q, lambda c: c.signed(
    "PUT", c.path("cp"), headers=[("x-amz-copy-source", f"/{c.bucket}/obj"),
                                  ("x-amz-metadata-directive", "BOGUS")]), 400, "InvalidArgument")
case("user metadata of 3 KB", Q, lambda c: c.signed(
    "PUT", c.path("m3"), body=b"x", headers=[("x-amz-meta-a", "v" * 3000)]), 400, "MetadataTooLarge")
case("x-amz-acl unknown", Q, lambda c: c.signed(
    "PUT", c.path("acl2"), body=b"x", headers=[("x-amz-acl", "weird")]), 400, "InvalidArgument")
case("DELETE versionId junk", Q, lambda c: c.signed("DELETE", c.path("obj"), query=[("versionId", "junk")]),
     400, "InvalidArgument", note="S3's answer for an id that names no version it could hold")
case("aws-chunked decoded length 6 GiB", Q, lambda c: c.chunked("d6", decoded_length=6 << 30),
     400, "EntityTooLarge")
case("UploadPart Content-Length 6 GiB", Q, lambda c: c.signed(
    "PUT", c.path("mp"), query=[("partNumber", "3"), ("uploadId", c.upload_id)], payload="UNSIGNED-PAYLOAD",
    unsigned=[("Content-Length", str(6 << 30))]), 400, "EntityTooLarge")

# ---------------------------------------------------------------- slow (these use the gateway's body limits)
W = "slow"
case("slow head: partial head, others still served", W, lambda c: Req(
    b"GET /_s3gw/health HTTP/1.1\r\nHost: x\r\n", timeout=2.0, expect_silence=True), None, None,
     note="the head timeout is 30 s; the runner checks the gateway serves others meanwhile")
case("slow body: 10 of 1000 bytes then stall", W, lambda c: Req(
    steps=[(c.signed("PUT", c.path("slow1"), body=b"", payload="UNSIGNED-PAYLOAD",
                     unsigned=[("Content-Length", "1000")]) + b"x" * 10, 0)], timeout=15),
     400, "RequestTimeout")
case("trickled body: a byte every 0.4 s", W, lambda c: Req(
    steps=[(c.signed("PUT", c.path("slow2"), body=b"", payload="UNSIGNED-PAYLOAD",
                     unsigned=[("Content-Length", "1000")]), 0)] + [(b"y", 0.4)] * 30, timeout=15),
     400, "RequestTimeout")
case("slow aws-chunked body", W, lambda c: Req(
    steps=[(c.chunked("slow3", data=b"z" * 64)[:-40], 0)], timeout=15), 400, "RequestTimeout")
case("Expect: 100-continue, then no body", W, lambda c: Req(c.signed(
    "PUT", c.path("slow4"), payload="UNSIGNED-PAYLOAD",
    unsigned=[("Expect", "100-continue"), ("Content-Length", "5")]), timeout=15),
     400, "RequestTimeout")
