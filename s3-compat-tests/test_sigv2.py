"""SigV2 (legacy, on by default; docs/security.md): boto3 with
signature_version='s3' (header form and presigned URLs), s3cmd with
signature_v2 and `s3cmd signurl`, and the aws cli v1's `s3 presign` in its
default configuration (which makes SigV2 URLs)."""

from __future__ import annotations

import hashlib
import os
import time
import urllib.parse

import boto3
import pytest
import requests
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from botocore.httpsession import URLLib3Session

from s3util import MiB, VENV_BIN, clean_env, find_tool, missing_tool, run
from test_s3cmd import S3cmd

# Spaces, a plus, non-ASCII letters and a symbol outside the BMP's Latin.
ODD_KEY = "dir one/caf\u00e9 \u2713+x (1).txt"


def v2_client(cfg, addressing: str = "path", endpoint: str | None = None):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint or cfg.endpoint,
        aws_access_key_id=cfg.access_key,
        aws_secret_access_key=cfg.secret_key,
        config=BotoConfig(
            region_name=cfg.region,
            signature_version="s3",
            s3={"addressing_style": addressing},
            retries={"total_max_attempts": 1, "mode": "standard"},
        ),
        verify=cfg.verify,
    )


@pytest.fixture
def s3v2(cfg):
    return v2_client(cfg)


def fetch(cfg, url: str):
    """GET a URL as it is (no signing of its own): status, body, headers.
    Sent through botocore's HTTP session, whose TLS setup accepts the test
    certificate's `*.localhost` for virtual-hosted URLs (Python's own
    hostname check does not)."""
    r = URLLib3Session(verify=cfg.verify).send(AWSRequest("GET", url).prepare())
    return r.status_code, r.content, r.headers


def error_code(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else text


def test_boto3_objects(s3v2, admin, bucket):
    body = os.urandom(100_000)
    s3v2.put_object(Bucket=bucket, Key=ODD_KEY, Body=body, ContentType="text/plain",
                    Metadata={"color": "blue", "n": "1"})
    got = s3v2.get_object(Bucket=bucket, Key=ODD_KEY)
    assert got["Body"].read() == body
    assert got["Metadata"] == {"color": "blue", "n": "1"}
    assert got["ContentType"] == "text/plain"
    # What the V2 client wrote, a SigV4 client reads back the same.
    assert admin.get_object(Bucket=bucket, Key=ODD_KEY)["Body"].read() == body
    ranged = s3v2.get_object(Bucket=bucket, Key=ODD_KEY, Range="bytes=10-19")
    assert ranged["Body"].read() == body[10:20]
    s3v2.put_object(Bucket=bucket, Key="other", Body=b"x")
    assert [o["Key"] for o in s3v2.list_objects_v2(Bucket=bucket)["Contents"]] == [ODD_KEY, "other"]
    assert [o["Key"] for o in s3v2.list_objects(Bucket=bucket, Prefix="dir")["Contents"]] == [ODD_KEY]
    s3v2.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": ODD_KEY})
    assert admin.head_object(Bucket=bucket, Key="copy")["ContentLength"] == len(body)
    s3v2.put_object_tagging(Bucket=bucket, Key="other",
                            Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3v2.get_object_tagging(Bucket=bucket, Key="other")["TagSet"] == [
        {"Key": "k", "Value": "v"}]
    assert bucket in [b["Name"] for b in s3v2.list_buckets()["Buckets"]]
    s3v2.head_bucket(Bucket=bucket)
    s3v2.get_bucket_location(Bucket=bucket)
    s3v2.delete_object(Bucket=bucket, Key=ODD_KEY)
    s3v2.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "other"}, {"Key": "copy"}]})
    assert "Contents" not in admin.list_objects_v2(Bucket=bucket)


def test_boto3_bucket_lifecycle(cfg, s3v2, admin, bucket_factory):
    name = bucket_factory.register(f"s3c-sigv2-{os.urandom(5).hex()}")
    s3v2.create_bucket(Bucket=name)
    admin.head_bucket(Bucket=name)
    s3v2.delete_bucket(Bucket=name)
    with pytest.raises(ClientError):
        admin.head_bucket(Bucket=name)


def test_boto3_multipart(s3v2, admin, bucket):
    part1, part2 = os.urandom(5 * MiB), os.urandom(1000)
    key = "multi part \u00fc"
    up = s3v2.create_multipart_upload(Bucket=bucket, Key=key, Metadata={"m": "v"})
    etags = [s3v2.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n,
                              Body=data)["ETag"] for n, data in ((1, part1), (2, part2))]
    parts = s3v2.list_parts(Bucket=bucket, Key=key, UploadId=up["UploadId"])["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    uploads = s3v2.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["Key"] for u in uploads] == [key]
    s3v2.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    got = admin.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == part1 + part2
    assert got["Metadata"] == {"m": "v"}
    aborted = s3v2.create_multipart_upload(Bucket=bucket, Key="gone")
    s3v2.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted["UploadId"])
    assert "Uploads" not in s3v2.list_multipart_uploads(Bucket=bucket)


def test_boto3_presigned(cfg, s3v2, admin, bucket):
    admin.put_object(Bucket=bucket, Key=ODD_KEY, Body=b"presigned body")
    url = s3v2.generate_presigned_url(
        "get_object", ExpiresIn=300,
        Params={"Bucket": bucket, "Key": ODD_KEY,
                "ResponseContentType": "application/x-test; a=b",
                "ResponseContentDisposition": 'attachment; filename="a b.txt"'})
    assert "AWSAccessKeyId=" in url and "X-Amz-" not in url, url
    status, body, headers = fetch(cfg, url)
    assert (status, body) == (200, b"presigned body")
    assert headers["Content-Type"] == "application/x-test; a=b"
    assert headers["Content-Disposition"] == 'attachment; filename="a b.txt"'

    # A response override added to the URL is signed: refused.
    status, body, _ = fetch(cfg, url + "&response-content-type=text%2Fhtml")
    assert (status, error_code(body)) == (403, "SignatureDoesNotMatch")

    # A presigned PUT carries its metadata in the query, signed.
    put_url = s3v2.generate_presigned_url(
        "put_object", ExpiresIn=300, Params={"Bucket": bucket, "Key": "uploaded", "Metadata": {"a": "1"}})
    r = requests.put(put_url, data=b"via url", verify=cfg.verify, timeout=60)
    assert r.status_code == 200, r.text
    head = admin.head_object(Bucket=bucket, Key="uploaded")
    assert head["Metadata"] == {"a": "1"}
    r = requests.put(put_url.replace("x-amz-meta-a=1", "x-amz-meta-a=2"), data=b"forged",
                     verify=cfg.verify, timeout=60)
    assert (r.status_code, error_code(r.content)) == (403, "SignatureDoesNotMatch")
    assert admin.get_object(Bucket=bucket, Key="uploaded")["Body"].read() == b"via url"

    expired = s3v2.generate_presigned_url("get_object", ExpiresIn=-60,
                                          Params={"Bucket": bucket, "Key": ODD_KEY})
    status, body, _ = fetch(cfg, expired)
    assert (status, error_code(body)) == (403, "AccessDenied")
    assert b"Request has expired" in body


def test_boto3_presigned_post(cfg, s3v2, admin, bucket):
    """generate_presigned_post with signature_version='s3': the legacy form
    (AWSAccessKeyId and signature, base64 of HMAC-SHA1 over the policy)."""
    post = s3v2.generate_presigned_post(
        bucket, "v2/${filename}", Conditions=[["content-length-range", 1, 1024]], ExpiresIn=300)
    assert {"AWSAccessKeyId", "signature", "policy"} <= set(post["fields"]), post["fields"]
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a.txt", b"legacy form")},
                      verify=cfg.verify, timeout=60)
    assert r.status_code == 204, r.text
    assert admin.get_object(Bucket=bucket, Key="v2/a.txt")["Body"].read() == b"legacy form"
    forged = dict(post["fields"], signature="AAAA" + post["fields"]["signature"][4:])
    r = requests.post(post["url"], data=forged, files={"file": ("b.txt", b"forged")},
                      verify=cfg.verify, timeout=60)
    assert (r.status_code, error_code(r.content)) == (403, "SignatureDoesNotMatch")
    r = requests.post(post["url"], data=post["fields"], files={"file": ("c.txt", b"x" * 1025)},
                      verify=cfg.verify, timeout=60)
    assert (r.status_code, error_code(r.content)) == (400, "EntityTooLarge")


def test_boto3_virtual_hosted(cfg, bucket, admin, localhost_subdomains):
    if not cfg.vhost_domain:
        pytest.skip("set S3_VHOST_DOMAIN (gateway started with --domain) for virtual-hosted style")
    c = v2_client(cfg, addressing="virtual",
                  endpoint=f"{cfg.scheme}://{cfg.vhost_domain}:{cfg.port}")
    seen_hosts = []
    c.meta.events.register("before-send.s3", lambda request, **kw: seen_hosts.append(
        urllib.parse.urlsplit(request.url).hostname))
    c.put_object(Bucket=bucket, Key=ODD_KEY, Body=b"vhost")
    assert c.get_object(Bucket=bucket, Key=ODD_KEY)["Body"].read() == b"vhost"
    assert [o["Key"] for o in c.list_objects_v2(Bucket=bucket)["Contents"]] == [ODD_KEY]
    c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "none"}]})
    assert seen_hosts and all(h == f"{bucket}.{cfg.vhost_domain}" for h in seen_hosts), seen_hosts
    url = c.generate_presigned_url("get_object", ExpiresIn=300,
                                   Params={"Bucket": bucket, "Key": ODD_KEY})
    assert urllib.parse.urlsplit(url).hostname == f"{bucket}.{cfg.vhost_domain}", url
    status, body, _ = fetch(cfg, url)
    assert (status, body) == (200, b"vhost")


# ----------------------------------------------------------------- s3cmd


@pytest.fixture
def s3cmd_v2(cfg, tmp_path):
    exe = find_tool("s3cmd", VENV_BIN / "s3cmd")
    if not exe:
        missing_tool(cfg, "s3cmd")
    cli = S3cmd(cfg, exe, tmp_path / "s3cmd-home", multipart_chunk_mb=5)
    conf = cli.conf.read_text().replace("signature_v2 = False", "signature_v2 = True")
    conf += f"signurl_use_https = {cfg.is_https}\n"
    cli.conf.write_text(conf)
    return cli


def test_s3cmd_signature_v2(s3cmd_v2, admin, bucket, tmp_path):
    small = tmp_path / "small file.txt"
    small.write_bytes(b"s3cmd v2 " * 100)
    big = tmp_path / "big"
    big.write_bytes(os.urandom(11 * MiB))  # three parts of 5 MiB
    s3cmd_v2("put", str(small), f"s3://{bucket}/v2/")
    s3cmd_v2("put", str(big), f"s3://{bucket}/v2/big")
    listed = s3cmd_v2("ls", f"s3://{bucket}/v2/").stdout
    assert f"s3://{bucket}/v2/small file.txt" in listed and f"s3://{bucket}/v2/big" in listed
    out = tmp_path / "out"
    s3cmd_v2("get", f"s3://{bucket}/v2/big", str(out))
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    assert admin.head_object(Bucket=bucket, Key="v2/big")["ETag"].endswith('-3"')
    s3cmd_v2("info", f"s3://{bucket}/v2/small file.txt")
    s3cmd_v2("del", f"s3://{bucket}/v2/small file.txt")
    s3cmd_v2("del", "--recursive", "--force", f"s3://{bucket}/v2/")
    assert "Contents" not in admin.list_objects_v2(Bucket=bucket)


def test_s3cmd_signurl(cfg, s3cmd_v2, admin, bucket):
    admin.put_object(Bucket=bucket, Key=ODD_KEY, Body=b"signed by s3cmd")
    url = s3cmd_v2("signurl", f"s3://{bucket}/{ODD_KEY}", "+300").stdout.strip()
    assert "AWSAccessKeyId=" in url and "Signature=" in url, url
    status, body, _ = fetch(cfg, url)
    assert (status, body) == (200, b"signed by s3cmd")
    past = s3cmd_v2("signurl", f"s3://{bucket}/{ODD_KEY}", str(int(time.time()) - 60)).stdout.strip()
    status, body, _ = fetch(cfg, past)
    assert (status, error_code(body)) == (403, "AccessDenied")


# ----------------------------------------------------------------- aws cli v1


def test_awscli_v1_default_presign(cfg, admin, bucket, tmp_path):
    """`aws s3 presign` of the aws cli v1, configured with nothing but a
    region and keys: it makes a SigV2 URL (aws-cli/1.46), which works."""
    exe = find_tool("aws-v1-not-on-path", VENV_BIN / "aws")
    if not exe:
        missing_tool(cfg, "aws cli v1")
    home = tmp_path / "aws-v1-home"
    home.mkdir()
    (home / "config").write_text(f"[default]\nregion = {cfg.region}\n")
    (home / "credentials").write_text(
        f"[default]\naws_access_key_id = {cfg.access_key}\naws_secret_access_key = {cfg.secret_key}\n")
    env = clean_env({"AWS_CONFIG_FILE": str(home / "config"),
                     "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
                     "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(home)})
    if cfg.is_https and cfg.ca_bundle:
        env["AWS_CA_BUNDLE"] = cfg.ca_bundle
    admin.put_object(Bucket=bucket, Key=ODD_KEY, Body=b"aws cli v1")
    version = run([exe, "--version"], env=env, timeout=60)
    assert "aws-cli/1." in version.stdout + version.stderr
    url = run([exe, "s3", "presign", f"s3://{bucket}/{ODD_KEY}", "--expires-in", "300",
               "--endpoint-url", cfg.endpoint], env=env, timeout=60).stdout.strip()
    assert "AWSAccessKeyId=" in url and "X-Amz-Signature" not in url, f"not SigV2: {url}"
    status, body, _ = fetch(cfg, url)
    assert (status, body) == (200, b"aws cli v1")
