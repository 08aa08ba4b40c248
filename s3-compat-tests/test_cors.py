"""Bucket CORS with real clients: boto3, aws cli v2 and v1 (s3api), s3cmd
(setcors / info / delcors), and what a browser sends, over the same endpoint
(through Nginx on the cluster): the OPTIONS preflight, answered without
credentials, and the Access-Control-* headers on actual requests, an error's
included.
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

    def send(method: str, url: str, headers: dict):
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
