"""boto3 against the endpoint: with the SDK's default (when_supported) checksums and
with the when_required opt-out. Over HTTPS the default mode sends aws-chunked bodies
with an unsigned checksum trailer; over HTTP it signs the body's SHA-256."""

from __future__ import annotations

import base64
import email.header
import hashlib
import os
import time
import urllib.parse

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client
from s3util import (SIZE_IDS, SIZES, MiB, b64_crc32, b64_digest, sha256_bytes,
                    sha256_file)


def err_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def http_status(exc: ClientError) -> int:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


def quoted_md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def all_keys_v2(client, bucket, **kw):
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kw):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


# ----------------------------------------------------------------- objects


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_put_get_head_delete(s3, admin, bucket, make_file, size):
    src = make_file(size)
    data = src.read_bytes()
    with open(src, "rb") as f:
        put = s3.put_object(Bucket=bucket, Key="obj", Body=f)
    assert put["ETag"] == quoted_md5(data), "single-part ETag must be the quoted hex MD5"

    head = s3.head_object(Bucket=bucket, Key="obj")
    assert head["ContentLength"] == size
    assert head["ETag"] == quoted_md5(data)
    assert "LastModified" in head

    got = s3.get_object(Bucket=bucket, Key="obj")
    body = got["Body"].read()
    assert got["ContentLength"] == size
    assert sha256_bytes(body) == sha256_bytes(data)
    assert got["ETag"] == quoted_md5(data)
    # The aws-chunked framing must never leak into what is stored.
    assert "aws-chunked" not in (got.get("ContentEncoding") or "")

    # Verify with an independent client (other checksum mode) too.
    again = admin.get_object(Bucket=bucket, Key="obj")["Body"].read()
    assert sha256_bytes(again) == sha256_bytes(data)

    s3.delete_object(Bucket=bucket, Key="obj")
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="obj")
    assert http_status(ei.value) == 404
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="obj")
    assert err_code(ei.value) == "NoSuchKey"
    # Deleting a missing key succeeds (204).
    resp = s3.delete_object(Bucket=bucket, Key="obj")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_put_bytes_body_and_overwrite(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first version")
    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second"
    assert got["ContentLength"] == 6


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_upload_file_download_file(s3, bucket, make_file, tmp_path, transfer_config, size):
    src = make_file(size)
    s3.upload_file(str(src), bucket, "dir/uploaded.bin", Config=transfer_config)
    dst = tmp_path / "downloaded.bin"
    s3.download_file(bucket, "dir/uploaded.bin", str(dst), Config=transfer_config)
    assert dst.stat().st_size == size
    assert sha256_file(dst) == sha256_file(src)


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_checksum_mode_returns_checksum(s3, bucket, algorithm):
    data = os.urandom(MiB + 1)
    expected = {
        "CRC32": b64_crc32(data),
        "SHA1": b64_digest("sha1", data),
        "SHA256": b64_digest("sha256", data),
    }[algorithm]
    put = s3.put_object(Bucket=bucket, Key="c", Body=data, ChecksumAlgorithm=algorithm)
    assert put.get(f"Checksum{algorithm}") == expected, f"PutObject must echo x-amz-checksum-{algorithm.lower()}"

    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got.get(f"Checksum{algorithm}") == expected
    assert sha256_bytes(got["Body"].read()) == sha256_bytes(data)
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head.get(f"Checksum{algorithm}") == expected


def test_default_checksum_stored(cfg, bucket):
    """With default settings boto3 sends CRC32 (header over HTTP, trailer over HTTPS);
    the gateway must store it and return it for ChecksumMode=ENABLED."""
    s3 = make_client(cfg, checksums="when_supported")
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="d", Body=data)
    head = s3.head_object(Bucket=bucket, Key="d", ChecksumMode="ENABLED")
    assert head.get("ChecksumCRC32") == b64_crc32(data)


def test_wrong_checksum_rejected(cfg, bucket):
    """A body whose x-amz-checksum-crc32 does not match must be rejected (BadDigest)
    and must leave no object behind."""
    s3 = make_client(cfg, checksums="when_required")
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"hello world", ChecksumCRC32=b64_crc32(b"other"))
    assert http_status(ei.value) == 400
    assert err_code(ei.value) in ("BadDigest", "InvalidRequest", "XAmzContentChecksumMismatch")
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="bad")
    assert http_status(ei.value) == 404


# ----------------------------------------------------------------- ranges & conditionals


def test_ranged_get(s3, bucket):
    data = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    cases = [
        ("bytes=0-0", data[0:1], "bytes 0-0/1000"),
        ("bytes=5-", data[5:], "bytes 5-999/1000"),
        ("bytes=-3", data[-3:], "bytes 997-999/1000"),
        ("bytes=100-199", data[100:200], "bytes 100-199/1000"),
        ("bytes=990-2000", data[990:], "bytes 990-999/1000"),
    ]
    for rng, want, content_range in cases:
        got = s3.get_object(Bucket=bucket, Key="r", Range=rng)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, rng
        assert got["Body"].read() == want, rng
        assert got["ContentLength"] == len(want), rng
        assert got["ContentRange"] == content_range, rng
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-1001")
    assert http_status(ei.value) == 416
    assert err_code(ei.value) == "InvalidRange"


def test_conditional_get(s3, bucket):
    data = b"conditional body"
    etag = s3.put_object(Bucket=bucket, Key="c", Body=data)["ETag"]

    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert http_status(ei.value) == 304
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert http_status(ei.value) == 412
    assert err_code(ei.value) == "PreconditionFailed"
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert http_status(ei.value) == 412

    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == data
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"nope"')["Body"].read() == data
    # Unquoted ETags are accepted too.
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag.strip('"'))["Body"].read() == data


def test_put_if_none_match_star(s3, bucket):
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert http_status(ei.value) == 412
    assert err_code(ei.value) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


# ----------------------------------------------------------------- metadata & copy


def test_metadata_and_content_headers(s3, bucket):
    data = os.urandom(2048)
    s3.put_object(
        Bucket=bucket,
        Key="m",
        Body=data,
        Metadata={"color": "blue", "MixedCase": "Value With Spaces", "empty": ""},
        ContentType="application/x-test",
        ContentDisposition='attachment; filename="x.bin"',
        ContentEncoding="gzip",
        ContentLanguage="de-CH",
        CacheControl="max-age=60",
    )
    for resp in (s3.head_object(Bucket=bucket, Key="m"), s3.get_object(Bucket=bucket, Key="m")):
        assert resp["Metadata"] == {"color": "blue", "mixedcase": "Value With Spaces", "empty": ""}
        assert resp["ContentType"] == "application/x-test"
        assert resp["ContentDisposition"] == 'attachment; filename="x.bin"'
        # botocore sends "gzip,aws-chunked" over HTTPS; the framing must be stripped.
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentLanguage"] == "de-CH"
        assert resp["CacheControl"] == "max-age=60"
        assert resp["ContentLength"] == len(data)


def _rfc2047_text(value: str) -> str:
    """The text of a header value made of RFC 2047 encoded words."""
    return str(email.header.make_header(email.header.decode_header(value)))


def test_non_ascii_metadata_round_trips_as_rfc2047_words(s3, bucket):
    # botocore sends header values as ISO-8859-1 and signs them as UTF-8,
    # so a non-ASCII value goes as RFC 2047 encoded words; S3 stores the
    # decoded text and answers it as one UTF-8 "B" word.
    text = "Grüße, 日本"
    b_word = "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="
    q_word = "=?UTF-8?Q?caf=C3=A9_au_lait?="
    s3.put_object(Bucket=bucket, Key="meta", Body=b"x",
                  Metadata={"b": b_word, "q": q_word, "plain": "ascii only"})
    for resp in (s3.head_object(Bucket=bucket, Key="meta"), s3.get_object(Bucket=bucket, Key="meta")):
        meta = resp["Metadata"]
        assert meta["b"] == b_word, meta
        assert _rfc2047_text(meta["q"]) == "café au lait", meta
        assert meta["q"].startswith("=?UTF-8?B?"), meta
        assert meta["plain"] == "ascii only"
    # A copy keeps the text.
    s3.copy_object(Bucket=bucket, Key="meta-copy", CopySource={"Bucket": bucket, "Key": "meta"})
    meta = s3.head_object(Bucket=bucket, Key="meta-copy")["Metadata"]
    assert _rfc2047_text(meta["b"]) == text
    # And so does a multipart upload.
    mpu = s3.create_multipart_upload(Bucket=bucket, Key="meta-mp", Metadata={"b": b_word})
    part = s3.upload_part(Bucket=bucket, Key="meta-mp", UploadId=mpu["UploadId"], PartNumber=1, Body=b"y")
    s3.complete_multipart_upload(Bucket=bucket, Key="meta-mp", UploadId=mpu["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=bucket, Key="meta-mp")["Metadata"]["b"] == b_word


def test_copy_object(s3, bucket):
    data = os.urandom(MiB + 1)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ContentType="text/x-src", Metadata={"a": "1"})
    src = {"Bucket": bucket, "Key": "src"}

    # COPY (default) keeps metadata and content type.
    r = s3.copy_object(Bucket=bucket, Key="dst-copy", CopySource=src)
    assert r["CopyObjectResult"]["ETag"] == quoted_md5(data)
    h = s3.head_object(Bucket=bucket, Key="dst-copy")
    assert h["Metadata"] == {"a": "1"} and h["ContentType"] == "text/x-src"
    assert sha256_bytes(s3.get_object(Bucket=bucket, Key="dst-copy")["Body"].read()) == sha256_bytes(data)

    # REPLACE takes the new metadata.
    s3.copy_object(Bucket=bucket, Key="dst-replace", CopySource=src, MetadataDirective="REPLACE",
                   Metadata={"b": "2"}, ContentType="text/x-new")
    h = s3.head_object(Bucket=bucket, Key="dst-replace")
    assert h["Metadata"] == {"b": "2"} and h["ContentType"] == "text/x-new"
    assert sha256_bytes(s3.get_object(Bucket=bucket, Key="dst-replace")["Body"].read()) == sha256_bytes(data)

    # Onto itself without changes is an error; with REPLACE it updates metadata (rclone's set-mtime).
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=src)
    assert http_status(ei.value) == 400
    assert err_code(ei.value) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="src", CopySource=src, MetadataDirective="REPLACE",
                   Metadata={"mtime": "1700000000.5"})
    h = s3.head_object(Bucket=bucket, Key="src")
    assert h["Metadata"] == {"mtime": "1700000000.5"}
    assert h["ETag"] == quoted_md5(data)
    assert sha256_bytes(s3.get_object(Bucket=bucket, Key="src")["Body"].read()) == sha256_bytes(data)

    # Missing source.
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})
    assert err_code(ei.value) == "NoSuchKey"


def test_copy_between_buckets_weird_key(s3d, bucket, bucket_factory):
    other = bucket_factory("copydst")
    key = "dir with space/ünï+cödé%.txt"
    s3d.put_object(Bucket=bucket, Key=key, Body=b"payload")
    s3d.copy_object(Bucket=other, Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert s3d.get_object(Bucket=other, Key=key)["Body"].read() == b"payload"


def test_delete_objects(s3, bucket):
    keys = [f"del/{i}" for i in range(5)] + ["del/with space", "del/plus+"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    s3.put_object(Bucket=bucket, Key="keep", Body=b"keep")

    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:3]], "Quiet": True})
    assert not quiet.get("Errors")
    assert not quiet.get("Deleted"), "Quiet mode reports only errors"

    loud = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[3:] + ["del/never-existed"]]})
    assert not loud.get("Errors")
    assert sorted(d["Key"] for d in loud["Deleted"]) == sorted(keys[3:] + ["del/never-existed"])

    assert all_keys_v2(s3, bucket) == ["keep"]


# ----------------------------------------------------------------- listing


def test_list_v2_paging(s3d, bucket):
    keys = [f"page/{c}" for c in "abcde"]
    for k in keys:
        s3d.put_object(Bucket=bucket, Key=k, Body=b"x")
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3d.list_objects_v2(Bucket=bucket, MaxKeys=2, **kw)
        pages += 1
        got = [o["Key"] for o in r.get("Contents", [])]
        assert r["KeyCount"] == len(got)
        assert len(got) <= 2
        seen += got
        if not r["IsTruncated"]:
            assert "NextContinuationToken" not in r
            break
        token = r["NextContinuationToken"]
        assert pages < 10, "listing does not terminate"
    assert seen == keys
    assert pages == 3
    # StartAfter
    r = s3d.list_objects_v2(Bucket=bucket, StartAfter="page/c")
    assert [o["Key"] for o in r["Contents"]] == ["page/d", "page/e"]
    # Paginator agrees, sizes and ETags present.
    r = s3d.list_objects_v2(Bucket=bucket)
    assert all(o["Size"] == 1 and o["ETag"] == quoted_md5(b"x") for o in r["Contents"])


def test_list_delimiter_common_prefixes(s3d, bucket):
    for k in ["a/1", "a/2", "b/x/1", "c", "d/"]:
        s3d.put_object(Bucket=bucket, Key=k, Body=b"")
    r = s3d.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["a/", "b/", "d/"]
    assert [o["Key"] for o in r.get("Contents", [])] == ["c"]
    assert r["KeyCount"] == 4

    r = s3d.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="b/")
    assert [p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["b/x/"]
    assert not r.get("Contents")

    r = s3d.list_objects_v2(Bucket=bucket, Prefix="a/")
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2"]

    # Paging across prefixes: each CommonPrefix counts against MaxKeys.
    seen = []
    for page in s3d.get_paginator("list_objects_v2").paginate(Bucket=bucket, Delimiter="/",
                                                            PaginationConfig={"PageSize": 1}):
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        seen += [o["Key"] for o in page.get("Contents", [])]
    assert seen == ["a/", "b/", "c", "d/"]


WEIRD_KEYS = [
    "with space",
    "plus+sign",
    "plus+and space",
    "percent%41literal",
    "percent%2Fslash",
    "unicodé/ключ/日本語.txt",
    "emoji-\U0001F600",
    "tilde~star*paren()",
    "amp&eq=semi;comma,",
    "question?hash#",
    "quote'dq\"",
    "lt<gt>",
    "dir/sub dir/file",
    "trailing-space ",
    "double//slash",
]


def test_weird_keys_round_trip(s3d, bucket):
    for k in WEIRD_KEYS:
        s3d.put_object(Bucket=bucket, Key=k, Body=k.encode())
    for k in WEIRD_KEYS:
        assert s3d.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode(), k
        assert s3d.head_object(Bucket=bucket, Key=k)["ContentLength"] == len(k.encode()), k
    want = sorted(WEIRD_KEYS, key=lambda s: s.encode())
    assert all_keys_v2(s3d, bucket) == want  # botocore sends encoding-type=url
    v1 = s3d.list_objects(Bucket=bucket)
    assert [o["Key"] for o in v1["Contents"]] == want
    # Prefix and delimiter with special characters.
    r = s3d.list_objects_v2(Bucket=bucket, Prefix="plus+")
    assert [o["Key"] for o in r["Contents"]] == ["plus+and space", "plus+sign"]
    r = s3d.list_objects_v2(Bucket=bucket, Prefix="unicodé/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["unicodé/ключ/"]
    r = s3d.list_objects_v2(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/sub dir/"]


def test_list_url_encoding_on_the_wire(cfg, admin, bucket):
    """With encoding-type=url, keys come back percent-encoded ('+' as %2B, ' ' as %20)
    and the response says <EncodingType>url</EncodingType>. Raw request, so botocore's
    decoding cannot hide a wrong answer."""
    admin.put_object(Bucket=bucket, Key="a+b c", Body=b"")
    url = admin.generate_presigned_url(
        "list_objects_v2", Params={"Bucket": bucket, "EncodingType": "url"}, ExpiresIn=300)
    r = requests.get(url, verify=cfg.verify, timeout=30)
    assert r.status_code == 200, r.text
    assert "<EncodingType>url</EncodingType>" in r.text
    assert "<Key>a%2Bb%20c</Key>" in r.text


def test_list_v1_marker(s3d, bucket):
    keys = [f"m/{i:02d}" for i in range(5)]
    for k in keys:
        s3d.put_object(Bucket=bucket, Key=k, Body=b"v1")
    r = s3d.list_objects(Bucket=bucket, Marker="m/01")
    assert [o["Key"] for o in r["Contents"]] == keys[2:]
    assert r["IsTruncated"] is False
    assert r.get("Marker") == "m/01"

    r = s3d.list_objects(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in r["Contents"]] == keys[:2]
    assert r["IsTruncated"] is True
    # Walk the listing the way clients do: NextMarker if present, else the last key.
    seen, marker = [], ""
    for _ in range(10):
        r = s3d.list_objects(Bucket=bucket, MaxKeys=2, Marker=marker)
        got = [o["Key"] for o in r.get("Contents", [])]
        seen += got
        if not r["IsTruncated"]:
            break
        marker = r.get("NextMarker") or got[-1]
    assert seen == keys

    # With a delimiter the truncated page carries NextMarker.
    for k in ["p/a/1", "p/b/1", "p/c/1"]:
        s3d.put_object(Bucket=bucket, Key=k, Body=b"")
    r = s3d.list_objects(Bucket=bucket, Prefix="p/", Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["p/a/", "p/b/"]
    assert r["IsTruncated"] is True
    assert r["NextMarker"] == "p/b/"
    r = s3d.list_objects(Bucket=bucket, Prefix="p/", Delimiter="/", Marker=r["NextMarker"])
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["p/c/"]


# ----------------------------------------------------------------- buckets


def test_bucket_lifecycle_and_errors(s3d, admin, bucket_factory):
    name = bucket_factory.register(f"s3c-bkt-{os.urandom(5).hex()}")
    with pytest.raises(ClientError) as ei:
        s3d.head_bucket(Bucket=name)
    assert http_status(ei.value) == 404
    with pytest.raises(ClientError) as ei:
        s3d.list_objects_v2(Bucket=name)
    assert err_code(ei.value) == "NoSuchBucket"
    with pytest.raises(ClientError) as ei:
        s3d.put_object(Bucket=name, Key="k", Body=b"x")
    assert err_code(ei.value) == "NoSuchBucket"

    s3d.create_bucket(Bucket=name)
    s3d.head_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3d.list_buckets()["Buckets"]]
    loc = s3d.get_bucket_location(Bucket=name)
    assert loc.get("LocationConstraint") in (None, ""), "us-east-1 is reported as an empty LocationConstraint"

    s3d.put_object(Bucket=name, Key="k", Body=b"x")
    # us-east-1: the owner's re-create answers 200 (S3's legacy behaviour)
    # and keeps the bucket as it was.
    s3d.create_bucket(Bucket=name)
    assert s3d.get_object(Bucket=name, Key="k")["Body"].read() == b"x"
    with pytest.raises(ClientError) as ei:
        s3d.delete_bucket(Bucket=name)
    assert http_status(ei.value) == 409
    assert err_code(ei.value) == "BucketNotEmpty"

    s3d.delete_object(Bucket=name, Key="k")
    s3d.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as ei:
        s3d.head_bucket(Bucket=name)
    assert http_status(ei.value) == 404
    with pytest.raises(ClientError) as ei:
        s3d.delete_bucket(Bucket=name)
    assert err_code(ei.value) == "NoSuchBucket"


def test_invalid_bucket_name_rejected(s3d):
    with pytest.raises(ClientError) as ei:
        # botocore validates some names client-side; this one passes its check.
        s3d.create_bucket(Bucket="UPPER-case-bucket-" + os.urandom(3).hex())
    assert http_status(ei.value) == 400
    assert err_code(ei.value) == "InvalidBucketName"


def test_wrong_secret_rejected(cfg, bucket):
    from dataclasses import replace

    bad = make_client(replace(cfg, secret_key=cfg.secret_key + "x"))
    with pytest.raises(ClientError) as ei:
        bad.list_objects_v2(Bucket=bucket)
    assert http_status(ei.value) == 403
    assert err_code(ei.value) == "SignatureDoesNotMatch"
    bad = make_client(replace(cfg, access_key="AKIANOSUCHKEY0000000"))
    with pytest.raises(ClientError) as ei:
        bad.list_objects_v2(Bucket=bucket)
    assert http_status(ei.value) == 403
    assert err_code(ei.value) == "InvalidAccessKeyId"


# ----------------------------------------------------------------- presigned URLs


def test_presigned_get_and_put(cfg, s3d, bucket):
    data = os.urandom(100_000)
    put_url = s3d.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre/sig ned+"},
                                        ExpiresIn=300)
    r = requests.put(put_url, data=data, verify=cfg.verify, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers.get("ETag") == quoted_md5(data)
    assert sha256_bytes(s3d.get_object(Bucket=bucket, Key="pre/sig ned+")["Body"].read()) == sha256_bytes(data)

    get_url = s3d.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/sig ned+"},
                                        ExpiresIn=300)
    r = requests.get(get_url, verify=cfg.verify, timeout=60)
    assert r.status_code == 200, r.text
    assert sha256_bytes(r.content) == sha256_bytes(data)

    # A tampered signature is refused.
    u = urllib.parse.urlsplit(get_url)
    q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    q = [(k, ("0" * len(v) if k == "X-Amz-Signature" else v)) for k, v in q]
    bad = urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(q)))
    r = requests.get(bad, verify=cfg.verify, timeout=60)
    assert r.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_presigned_expired(cfg, s3d, bucket):
    s3d.put_object(Bucket=bucket, Key="exp", Body=b"x")
    url = s3d.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "exp"}, ExpiresIn=1)
    time.sleep(2.5)
    r = requests.get(url, verify=cfg.verify, timeout=60)
    assert r.status_code == 403
    assert "<Code>AccessDenied</Code>" in r.text


# ----------------------------------------------------------------- virtual-hosted style


def test_virtual_hosted_style(cfg, bucket_factory, localhost_subdomains):
    if not cfg.vhost_domain:
        pytest.skip("S3_VHOST_DOMAIN not set")
    endpoint = f"{cfg.scheme}://{cfg.vhost_domain}:{cfg.port}"
    vs3 = make_client(cfg, addressing="virtual", endpoint=endpoint)
    name = bucket_factory.register(f"s3c-vhost-{os.urandom(5).hex()}")
    seen_hosts = []
    vs3.meta.events.register("before-send.s3", lambda request, **kw: seen_hosts.append(
        urllib.parse.urlsplit(request.url).hostname))
    vs3.create_bucket(Bucket=name)
    data = os.urandom(MiB + 1)
    vs3.put_object(Bucket=name, Key="v/obj", Body=data)
    assert sha256_bytes(vs3.get_object(Bucket=name, Key="v/obj")["Body"].read()) == sha256_bytes(data)
    assert [o["Key"] for o in vs3.list_objects_v2(Bucket=name)["Contents"]] == ["v/obj"]
    assert vs3.head_object(Bucket=name, Key="v/obj")["ContentLength"] == len(data)
    vs3.delete_object(Bucket=name, Key="v/obj")
    vs3.delete_bucket(Bucket=name)
    assert seen_hosts and all(h == f"{name}.{cfg.vhost_domain}" for h in seen_hosts), seen_hosts
