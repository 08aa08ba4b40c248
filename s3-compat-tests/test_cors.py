"""Bucket CORS and browser form uploads with real clients: boto3, aws cli v2
and v1 (s3api), s3cmd (setcors / info / delcors), and what a browser sends, over
the same endpoint (through Nginx on the cluster): the OPTIONS preflight,
answered without credentials, the Access-Control-* headers on actual requests,
an error's included, and a POST form built from boto3's generate_presigned_post.
"""

from __future__ import annotations

import json

import pytest
import urllib3
from botocore.exceptions import ClientError

from test_s3cmd import s3cmd  # noqa: F401  (fixture)
from test_versioning import aws  # noqa: F401  (fixture: cli v2 and v1)

APP = "https://app.example.com"
RULES = [
    {"ID": "app", "AllowedOrigins": ["https://*.example.com"],
     "AllowedMethods": ["GET", "PUT", "POST"],
     "AllowedHeaders": ["x-amz-meta-*", "Content-Type"],
     "ExposeHeaders": ["ETag", "x-amz-meta-color"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


def refusal(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.fixture
def http(cfg):
    """A plain HTTP client for what browsers send (no SDK sends a preflight)."""
    if cfg.is_https:
        pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=cfg.ca_bundle or None)
    else:
        pool = urllib3.PoolManager()

    def send(method: str, url: str, headers: dict, fields: dict | None = None):
        if fields is not None:  # multipart/form-data, the file last
            return pool.request(method, url, headers=headers, fields=fields,
                                retries=False, redirect=False)
        return pool.request(method, url, headers=headers, retries=False, redirect=False)

    return send


def test_cors_round_trip_and_refusals(s3, bucket):
    assert refusal(s3.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    bad = [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]
    assert refusal(s3.put_bucket_cors, Bucket=bucket,
                   CORSConfiguration={"CORSRules": bad}) == (400, "InvalidRequest")
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    s3.delete_bucket_cors(Bucket=bucket)
    assert refusal(s3.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")


def test_awscli_s3api_cors(aws, admin, bucket, tmp_path):
    doc = tmp_path / "cors.json"
    doc.write_text(json.dumps({"CORSRules": RULES}))
    aws("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", f"file://{doc}")
    assert admin.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    got = aws.json("s3api", "get-bucket-cors", "--bucket", bucket)
    assert got.get("CORSRules") == RULES, got
    aws("s3api", "delete-bucket-cors", "--bucket", bucket)
    r = aws("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert r.returncode != 0 and "NoSuchCORSConfiguration" in r.stderr, r.stderr


def test_s3cmd_setcors_info_delcors(s3cmd, admin, bucket, tmp_path):
    doc = tmp_path / "cors.xml"
    doc.write_text(
        "<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader>"
        "<MaxAgeSeconds>30</MaxAgeSeconds></CORSRule></CORSConfiguration>")
    s3cmd("setcors", str(doc), f"s3://{bucket}")
    rules = admin.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules == [{"AllowedOrigins": [APP], "AllowedMethods": ["GET"],
                      "AllowedHeaders": ["*"], "MaxAgeSeconds": 30}], rules
    info = s3cmd("info", f"s3://{bucket}").stdout
    assert "https://app.example.com" in info, info
    s3cmd("delcors", f"s3://{bucket}")
    assert refusal(admin.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")


def test_preflight_and_actual_requests(admin, bucket, cfg, http):
    admin.put_object(Bucket=bucket, Key="page.txt", Body=b"for the page",
                     Metadata={"color": "blue"})
    url = f"{cfg.endpoint}/{bucket}/page.txt"

    def preflight(origin, method, headers=None):
        h = {"Origin": origin, "Access-Control-Request-Method": method}
        if headers:
            h["Access-Control-Request-Headers"] = headers
        return http("OPTIONS", url, h)

    r = preflight(APP, "GET")
    assert r.status == 403 and b"<Code>AccessForbidden</Code>" in r.data, (r.status, r.data)

    admin.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    r = preflight(APP, "PUT", "content-type,x-amz-meta-color")
    assert r.status == 200, (r.status, r.data)
    assert r.headers.get("Access-Control-Allow-Origin") == APP
    assert r.headers.get("Access-Control-Allow-Methods") == "GET, PUT, POST"
    assert r.headers.get("Access-Control-Allow-Headers") == "content-type, x-amz-meta-color"
    assert r.headers.get("Access-Control-Max-Age") == "600"
    assert "Origin" in r.headers.get("Vary", "")
    r = preflight("https://evil.test", "PUT")
    assert r.status == 403 and "Access-Control-Allow-Origin" not in r.headers
    r = preflight(APP, "PUT", "x-amz-acl")
    assert r.status == 403

    signed = admin.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "page.txt"}, ExpiresIn=300)
    r = http("GET", signed, {"Origin": APP})
    assert r.status == 200 and r.data == b"for the page"
    assert r.headers.get("Access-Control-Allow-Origin") == APP
    assert r.headers.get("Access-Control-Expose-Headers") == "ETag, x-amz-meta-color"
    assert r.headers.get("x-amz-meta-color") == "blue"
    # An error answer carries them too, so the page can read it.
    r = http("GET", url, {"Origin": APP})
    assert r.status == 403 and r.headers.get("Access-Control-Allow-Origin") == APP
    # An origin no rule allows: the answer, without the headers.
    r = http("GET", signed, {"Origin": "https://evil.test"})
    assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers
    assert r.headers.get("Vary") == "Origin"


# ----------------------------------------------------------------- form uploads


def test_presigned_post_form_upload(admin, bucket, cfg, http):
    """boto3's generate_presigned_post, posted as a browser posts the form: the file
    stored with the form's fields, the policy's conditions enforced."""
    admin.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    post = admin.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-color": "green",
                "success_action_status": "201"},
        Conditions=[["starts-with", "$Content-Type", "text/"], {"x-amz-meta-color": "green"},
                    {"success_action_status": "201"}, ["content-length-range", 1, 1 << 20]],
        ExpiresIn=300)
    data = b"posted from a form\n" * 100

    def form(file, **extra):  # the file last, as a browser sends it
        return {**post["fields"], **extra, "file": file}

    r = http("POST", post["url"], {"Origin": APP}, form(("note.txt", data, "text/plain")))
    assert r.status == 201, (r.status, r.data)
    assert b"<Key>uploads/note.txt</Key>" in r.data, r.data
    assert r.headers.get("Access-Control-Allow-Origin") == APP
    got = admin.get_object(Bucket=bucket, Key="uploads/note.txt")
    assert got["Body"].read() == data
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "green"}

    # Beyond the policy's size range: refused, nothing stored.
    r = http("POST", post["url"], {}, form(("big.txt", b"x" * ((1 << 20) + 1), "text/plain")))
    assert r.status == 400 and b"<Code>EntityTooLarge</Code>" in r.data, (r.status, r.data)
    # A field the policy does not name.
    r = http("POST", post["url"], {}, form(("extra.txt", b"x", "text/plain"),
                                          **{"x-amz-meta-other": "1"}))
    assert r.status == 403 and b"Extra input fields" in r.data, (r.status, r.data)
    keys = [o["Key"] for o in admin.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["uploads/note.txt"], keys
