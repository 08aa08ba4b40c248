"""Multipart uploads with the real clients, at their own default thresholds.

aws cli v2/v1 (`s3 cp`, `s3 sync`, s3->s3 copy via UploadPartCopy, one 1 GiB file),
s3cmd (15 MiB chunks, unquoted ETags in Complete, multipart/listmp/abortmp), rclone
(Content-MD5 per part, md5 in metadata, cleanup) and boto3 (transfer manager with and
without default checksums, GET/HEAD partNumber, ListParts/ListMultipartUploads paging,
the Complete errors and idempotent retry). Every round trip compares SHA-256.

Big files come from s3util.write_big_file (fast, CRC-64/NVME known without a pass in
Python) inside the test's tmp dir and are deleted at the end of each test.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import make_client
from s3util import (MiB, VENV_BIN, b64_crc32, find_tool, missing_tool, sha256_bytes,
                    sha256_file, write_big_file)
from test_awscli import AwsCli, backdate, transfer_lines, tree
from test_rclone import REMOTE, Rclone
from test_s3cmd import S3cmd

AWS_PART = 8 * MiB  # aws cli and s3transfer default threshold and part size
MIN_PART = 5 * MiB


def err_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def http_status(exc: ClientError) -> int:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


def quoted_md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def multipart_etag(parts) -> str:
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def n_parts(size: int, part: int) -> int:
    return -(-size // part)


def streamed_sha256(body) -> str:
    h = hashlib.sha256()
    for block in iter(lambda: body.read(MiB), b""):
        h.update(block)
    return h.hexdigest()


def mbps(size: int, seconds: float) -> str:
    return f"{size / MiB / max(seconds, 1e-6):.1f} MiB/s"


# ----------------------------------------------------------------- client fixtures


def aws_exe(cfg, version: str) -> str:
    if version == "v2":
        exe = find_tool("aws-v2-not-on-path", cfg.tools_dir / "bin" / "aws", cfg.tools_dir / "aws")
    else:
        exe = find_tool("aws-v1-not-on-path", VENV_BIN / "aws")
    if not exe:
        missing_tool(cfg, f"aws cli {version}")
    return exe


@pytest.fixture(params=["v2", "v1"])
def aws(request, cfg, tmp_path):
    """aws cli with its own multipart defaults: 8 MiB threshold and parts, 10 threads."""
    v = request.param
    return AwsCli(cfg, v, aws_exe(cfg, v), tmp_path / f"aws-{v}-home", multipart_mb=None)


@pytest.fixture
def aws2(cfg, tmp_path):
    return AwsCli(cfg, "v2", aws_exe(cfg, "v2"), tmp_path / "aws-v2-home", multipart_mb=None)


@pytest.fixture
def s3cmd(cfg, tmp_path):
    exe = find_tool("s3cmd", VENV_BIN / "s3cmd")
    if not exe:
        missing_tool(cfg, "s3cmd")
    return S3cmd(cfg, exe, tmp_path / "s3cmd-home", multipart_chunk_mb=15)  # s3cmd's default


@pytest.fixture
def rclone(cfg, tmp_path):
    exe = find_tool("rclone", VENV_BIN / "rclone")
    if not exe:
        missing_tool(cfg, "rclone")
    return Rclone(cfg, exe, tmp_path / "rclone-home")


@pytest.fixture
def big(tmp_path):
    """big(size, name, dir) -> BigFile in the test's tmp dir. Afterwards every file of
    1 MiB or more under the tmp dir (sources and downloads) is deleted."""
    made = []

    def make(size: int, name: str = None, dir=None):
        d = dir if dir is not None else tmp_path / "big"
        f = write_big_file(d / (name or f"big-{len(made)}-{size}.bin"), size)
        made.append(f)
        return f

    yield make
    for p in tmp_path.rglob("*"):
        if p.is_file() and not p.is_symlink() and p.stat().st_size >= MiB:
            p.unlink()


# ----------------------------------------------------------------- aws cli


def test_aws_cp_multipart_up_down_and_s3_copy(aws, admin, bucket, big, tmp_path, figure):
    """`aws s3 cp` of a 64 MiB + 12345 B file: 9 parts of 8 MiB uploaded in parallel,
    downloaded with parallel ranged GETs (If-Match), then copied s3->s3 (UploadPartCopy,
    GetObjectTagging on the source)."""
    f = big(64 * MiB + 12345)
    t = time.monotonic()
    out = aws("s3", "cp", str(f.path), f"s3://{bucket}/dir/big.bin").stdout
    up = time.monotonic() - t
    assert len(transfer_lines(out, "upload")) == 1, out

    head = admin.head_object(Bucket=bucket, Key="dir/big.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == f.size
    assert head["ETag"] == f.multipart_etag(AWS_PART), "ETag must be md5(part md5s)-9"
    if aws.version == "v2":
        # aws cli v2: CRC64NVME per part; the object gets the full-object CRC64NVME.
        assert head.get("ChecksumCRC64NVME") == f.b64_crc64nvme(), head
        assert head.get("ChecksumType") == "FULL_OBJECT", head
    else:
        # aws cli v1: CRC32 per part; S3's default type for CRC32 is COMPOSITE.
        assert head.get("ChecksumCRC32") == f.composite_crc32(AWS_PART), head
        assert head.get("ChecksumType") == "COMPOSITE", head

    dst = tmp_path / "down" / "big.bin"
    t = time.monotonic()
    aws("s3", "cp", f"s3://{bucket}/dir/big.bin", str(dst))
    down = time.monotonic() - t
    assert sha256_file(dst) == f.sha256
    dst.unlink()
    figure(f"64 MiB up {up:.1f} s ({mbps(f.size, up)}), down {down:.1f} s ({mbps(f.size, down)})")

    # s3 -> s3: multipart copy. --debug shows which operations the cli used.
    r = aws("s3", "cp", "--debug", f"s3://{bucket}/dir/big.bin", f"s3://{bucket}/copy/big.bin")
    ops = re.findall(r"Making request for OperationModel\(name=(\w+)\)", r.stderr)
    assert "UploadPartCopy" in ops, sorted(set(ops))
    if aws.version == "v2":  # --copy-props default (v2 only) reads the source's tags
        assert "GetObjectTagging" in ops, sorted(set(ops))
    assert ops.count("UploadPartCopy") == n_parts(f.size, AWS_PART), sorted(set(ops))
    assert "CopyObject" not in ops
    copy = admin.head_object(Bucket=bucket, Key="copy/big.bin", ChecksumMode="ENABLED")
    assert copy["ContentLength"] == f.size
    assert copy["ETag"] == f.multipart_etag(AWS_PART), "same part layout => same ETag"
    for alg in ("CRC64NVME", "CRC32"):
        if f"Checksum{alg}" in copy:
            assert copy[f"Checksum{alg}"] == head.get(f"Checksum{alg}"), (copy, head)
    got = admin.get_object(Bucket=bucket, Key="copy/big.bin")
    assert streamed_sha256(got["Body"]) == f.sha256

    if aws.version == "v2":
        # boto3 (no CRT here, so it cannot validate CRC64NVME itself) reads the
        # full-object checksum; aws cli v2 (bundles the CRT) validates it on GET.
        s3 = make_client(aws.cfg, checksums="when_supported")
        h = s3.head_object(Bucket=bucket, Key="dir/big.bin", ChecksumMode="ENABLED")
        assert h.get("ChecksumCRC64NVME") == f.b64_crc64nvme() and h.get("ChecksumType") == "FULL_OBJECT", h
        g = s3.get_object(Bucket=bucket, Key="dir/big.bin", ChecksumMode="ENABLED")
        assert g.get("ChecksumCRC64NVME") == f.b64_crc64nvme() and g.get("ChecksumType") == "FULL_OBJECT", g
        assert streamed_sha256(g["Body"]) == f.sha256
        out = tmp_path / "api-get.bin"
        meta = aws.json("s3api", "get-object", "--bucket", bucket, "--key", "dir/big.bin",
                        "--checksum-mode", "ENABLED", str(out))
        assert meta.get("ChecksumCRC64NVME") == f.b64_crc64nvme(), meta
        assert sha256_file(out) == f.sha256
        out.unlink()


def test_aws_sync_with_multipart_file(aws, admin, bucket, big, make_file, tmp_path):
    src = tmp_path / "sync-src"
    f = big(20 * MiB + 333, name="big file+.bin", dir=src)
    make_file(1000, name="small.txt", dir=src)
    make_file(0, name="sub/empty", dir=src)
    want = tree(src)
    backdate(src)  # see test_awscli.test_sync_both_ways

    out = aws("s3", "sync", str(src), f"s3://{bucket}/sync/").stdout
    assert len(transfer_lines(out, "upload")) == 3, out
    head = admin.head_object(Bucket=bucket, Key="sync/big file+.bin")
    assert head["ContentLength"] == f.size
    assert head["ETag"] == f.multipart_etag(AWS_PART)
    out = aws("s3", "sync", str(src), f"s3://{bucket}/sync/").stdout
    assert transfer_lines(out, "upload") == [], f"second sync transferred again:\n{out}"

    dst = tmp_path / "sync-dst"
    out = aws("s3", "sync", f"s3://{bucket}/sync/", str(dst)).stdout
    assert len(transfer_lines(out, "download")) == 3, out
    assert tree(dst) == want
    out = aws("s3", "sync", f"s3://{bucket}/sync/", str(dst)).stdout
    assert transfer_lines(out, "download") == [], f"second sync transferred again:\n{out}"


@pytest.mark.timeout(900)
def test_aws_v2_1gib_round_trip(aws2, admin, bucket, big, tmp_path, figure):
    """One 1 GiB file up and down with aws cli v2 defaults (128 parts, 10 threads)."""
    f = big(1024 * MiB)
    t = time.monotonic()
    aws2("s3", "cp", "--only-show-errors", str(f.path), f"s3://{bucket}/1gib.bin", timeout=600)
    up = time.monotonic() - t
    head = admin.head_object(Bucket=bucket, Key="1gib.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == f.size
    assert head["ETag"].endswith('-128"'), head["ETag"]
    assert head.get("ChecksumCRC64NVME") == f.b64_crc64nvme(), head

    dst = tmp_path / "1gib-down.bin"
    t = time.monotonic()
    try:
        aws2("s3", "cp", "--only-show-errors", f"s3://{bucket}/1gib.bin", str(dst), timeout=600)
        down = time.monotonic() - t
        assert sha256_file(dst) == f.sha256
    finally:
        dst.unlink(missing_ok=True)
    f.unlink()
    admin.delete_object(Bucket=bucket, Key="1gib.bin")
    figure(f"1 GiB up {up:.1f} s ({mbps(f.size, up)}), down {down:.1f} s ({mbps(f.size, down)})")


# ----------------------------------------------------------------- s3cmd


def test_s3cmd_multipart_put_get_del(s3cmd, admin, bucket, big, tmp_path):
    """s3cmd put > 15 MiB: CreateMultipartUpload, signed UploadParts, Complete with
    unquoted ETags; get checks the md5 from x-amz-meta-s3cmd-attrs."""
    f = big(20 * MiB + 77, name="mp file.bin")
    s3cmd("put", str(f.path), f"s3://{bucket}/s3cmd/")
    head = admin.head_object(Bucket=bucket, Key="s3cmd/mp file.bin")
    assert head["ContentLength"] == f.size
    assert head["ETag"] == f.multipart_etag(15 * MiB)
    assert f"md5:{f.md5()}" in head["Metadata"].get("s3cmd-attrs", ""), head["Metadata"]

    info = s3cmd("info", f"s3://{bucket}/s3cmd/mp file.bin").stdout
    assert re.search(rf"File size:\s*{f.size}\b", info), info

    dst = tmp_path / "got.bin"
    s3cmd("get", f"s3://{bucket}/s3cmd/mp file.bin", str(dst))
    assert sha256_file(dst) == f.sha256
    dst.unlink()

    s3cmd("del", f"s3://{bucket}/s3cmd/mp file.bin")
    assert admin.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_s3cmd_multipart_listmp_abortmp(s3cmd, s3d, admin, bucket):
    key = "open/up load+1.bin"
    other = s3d.create_multipart_upload(Bucket=bucket, Key="open/other")["UploadId"]
    uid = s3d.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    bodies = [os.urandom(MIN_PART), os.urandom(1234)]
    etags = [s3d.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=i + 1, Body=b)["ETag"]
             for i, b in enumerate(bodies)]

    out = s3cmd("multipart", f"s3://{bucket}").stdout
    listed = {m.group(1): m.group(2) for m in
              re.finditer(rf"(s3://{bucket}/\S.*?)\s+([0-9A-Za-z_.~-]{{8,}})\s*$", out, re.M)}
    assert listed == {f"s3://{bucket}/{key}": uid, f"s3://{bucket}/open/other": other}, out

    out = s3cmd("listmp", f"s3://{bucket}/{key}", uid).stdout
    rows = [l.split() for l in out.splitlines() if re.match(r"^\s*\S+\s+\d+\s+\S+\s+\d+\s*$", l)]
    got = {int(r[1]): (r[2].strip('"'), int(r[3])) for r in rows}
    want = {i + 1: (etags[i].strip('"'), len(bodies[i])) for i in range(2)}
    assert got == want, out

    s3cmd("abortmp", f"s3://{bucket}/{key}", uid)
    ups = admin.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [(u["Key"], u["UploadId"]) for u in ups] == [("open/other", other)]
    with pytest.raises(ClientError) as ei:
        admin.list_parts(Bucket=bucket, Key=key, UploadId=uid)
    assert err_code(ei.value) == "NoSuchUpload"


# ----------------------------------------------------------------- rclone


def test_rclone_multipart_copy_check_md5sum(rclone, admin, bucket, big, tmp_path):
    """30 MiB at --s3-upload-cutoff 10M --s3-chunk-size 5M: 7 parts, each with
    Content-MD5; rclone keeps the whole-file MD5 in X-Amz-Meta-Md5chksum and uses it
    for check and md5sum (the multipart ETag is no MD5)."""
    src = tmp_path / "src"
    f = big(30 * MiB + 5, name="thirty.bin", dir=src)
    mp = ["--s3-upload-cutoff", "10M", "--s3-chunk-size", "5M"]
    r = rclone("copy", *mp, "--dump", "headers", str(src), f"{REMOTE}:{bucket}/rc")
    # The dump logs each request ("HTTP REQUEST (req ...)", request line, headers).
    dumped = re.split(r"HTTP (?:REQUEST|RESPONSE) \(req ", r.stderr)
    part_puts = [d for d in dumped if re.search(r": PUT /\S*[?&]partNumber=\d+", d)]
    assert len(part_puts) == 7, r.stderr[-3000:]
    assert all(re.search(r"^Content-Md5: \S+", d, re.M | re.I) for d in part_puts), part_puts[0]

    head = admin.head_object(Bucket=bucket, Key="rc/thirty.bin")
    assert head["ContentLength"] == f.size
    assert head["ETag"] == f.multipart_etag(5 * MiB)
    md5 = f.md5()
    assert head["Metadata"].get("md5chksum") == base64.b64encode(bytes.fromhex(md5)).decode(), head

    r = rclone("check", str(src), f"{REMOTE}:{bucket}/rc")
    assert "0 differences found" in r.stderr and "1 matching files" in r.stderr, r.stderr
    out = rclone("md5sum", f"{REMOTE}:{bucket}/rc").stdout
    assert out.split() == [md5, "thirty.bin"], out

    dst = tmp_path / "dst"
    rclone("copy", f"{REMOTE}:{bucket}/rc", str(dst))
    assert sha256_file(dst / "thirty.bin") == f.sha256


def test_rclone_cleanup_removes_dangling_upload(rclone, admin, bucket):
    """`rclone cleanup` aborts uploads older than 24 h (so it must read Initiated
    right and keep a fresh one); the backend command with max-age=0 aborts the rest."""
    dangling = admin.create_multipart_upload(Bucket=bucket, Key="dangling/obj")["UploadId"]
    admin.upload_part(Bucket=bucket, Key="dangling/obj", UploadId=dangling, PartNumber=1, Body=b"x" * 1000)
    ups = admin.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in ups] == [dangling]

    rclone("cleanup", f"{REMOTE}:{bucket}")
    ups = admin.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in ups] == [dangling], "a fresh upload is kept by plain cleanup"

    rclone("backend", "cleanup", f"{REMOTE}:{bucket}", "-o", "max-age=0s")
    assert admin.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as ei:
        admin.list_parts(Bucket=bucket, Key="dangling/obj", UploadId=dangling)
    assert err_code(ei.value) == "NoSuchUpload"


# ----------------------------------------------------------------- boto3


def test_boto3_transfer_manager(s3, bucket, big, tmp_path, figure):
    """upload_file/download_file, 8 MiB threshold and parts, 8 threads; with default
    checksums (CRC32 per part) and with when_required (none)."""
    f = big(40 * MiB + 11)
    tc = TransferConfig(multipart_threshold=AWS_PART, multipart_chunksize=AWS_PART, max_concurrency=8)
    t = time.monotonic()
    s3.upload_file(str(f.path), bucket, "tm/obj.bin", Config=tc)
    up = time.monotonic() - t
    head = s3.head_object(Bucket=bucket, Key="tm/obj.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == f.size
    assert head["ETag"] == f.multipart_etag(AWS_PART)
    if s3.meta.config.request_checksum_calculation == "when_supported":
        assert head.get("ChecksumCRC32") == f.composite_crc32(AWS_PART), head
        assert head.get("ChecksumType") == "COMPOSITE", head
    else:
        assert not [k for k in head if k.startswith("Checksum")], head

    dst = tmp_path / "tm-down.bin"
    t = time.monotonic()
    s3.download_file(bucket, "tm/obj.bin", str(dst), Config=tc)
    down = time.monotonic() - t
    assert sha256_file(dst) == f.sha256
    dst.unlink()
    figure(f"40 MiB up {up:.1f} s, down {down:.1f} s")


def complete(s3, bucket, key, uid, parts):
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]})


def test_get_and_head_part_number(s3d, bucket):
    """GET/HEAD ?partNumber=N: that part's bytes, Content-Range, x-amz-mp-parts-count,
    and (ChecksumMode) the part's own CRC32, which botocore validates."""
    bodies = [os.urandom(MIN_PART), os.urandom(MIN_PART + 3), os.urandom(1000)]
    uid = s3d.create_multipart_upload(Bucket=bucket, Key="pn", ChecksumAlgorithm="CRC32")["UploadId"]
    etags = [s3d.upload_part(Bucket=bucket, Key="pn", UploadId=uid, PartNumber=i + 1, Body=b)["ETag"]
             for i, b in enumerate(bodies)]
    assert etags == [quoted_md5(b) for b in bodies]
    done = complete(s3d, bucket, "pn", uid, [(i + 1, e) for i, e in enumerate(etags)])
    assert done["ETag"] == multipart_etag(bodies)
    total = sum(map(len, bodies))

    start = 0
    for n, b in enumerate(bodies, 1):
        g = s3d.get_object(Bucket=bucket, Key="pn", PartNumber=n, ChecksumMode="ENABLED")
        assert g["ResponseMetadata"]["HTTPStatusCode"] == 206, n
        assert g.get("ChecksumCRC32") == b64_crc32(b), f"part {n}"
        assert g["Body"].read() == b, f"part {n}"
        assert g["ContentLength"] == len(b)
        assert g["PartsCount"] == 3
        assert g["ContentRange"] == f"bytes {start}-{start + len(b) - 1}/{total}"
        assert g["ETag"] == done["ETag"]
        h = s3d.head_object(Bucket=bucket, Key="pn", PartNumber=n)
        assert h["ContentLength"] == len(b) and h["PartsCount"] == 3
        start += len(b)

    # A range across the part 1/part 2 boundary.
    whole = b"".join(bodies)
    g = s3d.get_object(Bucket=bucket, Key="pn", Range=f"bytes={MIN_PART - 7}-{MIN_PART + 8}")
    assert g["Body"].read() == whole[MIN_PART - 7:MIN_PART + 9]

    # A single-part object is its own part 1 (what the Java transfer manager asks).
    s3d.put_object(Bucket=bucket, Key="single", Body=b"just one part")
    g = s3d.get_object(Bucket=bucket, Key="single", PartNumber=1)
    assert g["Body"].read() == b"just one part"
    assert g.get("PartsCount", 1) == 1

    # Past the last part: S3 answers 416 InvalidPartNumber ("The requested
    # partnumber is not satisfiable"), not InvalidRange.
    with pytest.raises(ClientError) as ei:
        s3d.get_object(Bucket=bucket, Key="pn", PartNumber=4)
    assert (http_status(ei.value), err_code(ei.value)) == (416, "InvalidPartNumber")


def test_boto3_managed_copy_across_part_boundaries(s3d, bucket):
    """boto3's managed copy (UploadPartCopy with x-amz-copy-source-range) at a part size
    that is not the source's: every copied range spans two source parts."""
    bodies = [os.urandom(MIN_PART), os.urandom(MIN_PART + 3), os.urandom(1000)]
    uid = s3d.create_multipart_upload(Bucket=bucket, Key="src", ContentType="text/x-src",
                                      Metadata={"origin": "parts"})["UploadId"]
    etags = [s3d.upload_part(Bucket=bucket, Key="src", UploadId=uid, PartNumber=i + 1, Body=b)["ETag"]
             for i, b in enumerate(bodies)]
    complete(s3d, bucket, "src", uid, [(i + 1, e) for i, e in enumerate(etags)])
    whole = b"".join(bodies)

    chunk = MIN_PART + 12345
    tc = TransferConfig(multipart_threshold=MIN_PART, multipart_chunksize=chunk)
    s3d.copy({"Bucket": bucket, "Key": "src"}, bucket, "dst", Config=tc)
    h = s3d.head_object(Bucket=bucket, Key="dst")
    assert h["ContentLength"] == len(whole)
    assert h["ETag"] == multipart_etag([whole[:chunk], whole[chunk:]])
    assert h["ContentType"] == "text/x-src" and h["Metadata"] == {"origin": "parts"}
    assert sha256_bytes(s3d.get_object(Bucket=bucket, Key="dst")["Body"].read()) == sha256_bytes(whole)
    g = s3d.get_object(Bucket=bucket, Key="dst", PartNumber=2)
    assert g["Body"].read() == whole[chunk:] and g["PartsCount"] == 2


def test_list_parts_paging(s3d, bucket):
    uid = s3d.create_multipart_upload(Bucket=bucket, Key="lp", ChecksumAlgorithm="CRC32")["UploadId"]
    bodies = [os.urandom(1000 + i) for i in range(5)]
    for i, b in enumerate(bodies):
        s3d.upload_part(Bucket=bucket, Key="lp", UploadId=uid, PartNumber=i + 1, Body=b,
                        ChecksumAlgorithm="CRC32")
    seen, marker, pages = [], 0, 0
    while True:
        r = s3d.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=2, PartNumberMarker=marker)
        pages += 1
        assert r["MaxParts"] == 2 and r["UploadId"] == uid and r["Key"] == "lp"
        assert len(r["Parts"]) <= 2
        seen += r["Parts"]
        if not r["IsTruncated"]:
            break
        assert r["NextPartNumberMarker"] == r["Parts"][-1]["PartNumber"]
        marker = r["NextPartNumberMarker"]
        assert pages < 10, "ListParts paging does not terminate"
    assert pages == 3
    assert [p["PartNumber"] for p in seen] == [1, 2, 3, 4, 5]
    assert [p["Size"] for p in seen] == [len(b) for b in bodies]
    assert [p["ETag"] for p in seen] == [quoted_md5(b) for b in bodies]
    assert [p.get("ChecksumCRC32") for p in seen] == [b64_crc32(b) for b in bodies]
    paged = [p["PartNumber"] for page in s3d.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="lp", UploadId=uid, PaginationConfig={"PageSize": 2}) for p in page["Parts"]]
    assert paged == [1, 2, 3, 4, 5]


def test_list_multipart_uploads_paging(s3d, bucket):
    keys = ["mu/a", "mu/b", "mu/b", "mu/b", "mu/c"]
    made = []
    for k in keys:
        made.append((k, s3d.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]))
    # Sorted by key, then by initiation time within a key (created in this order).
    seen, pages, kw = [], 0, {}
    while True:
        r = s3d.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **kw)
        pages += 1
        got = [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
        assert len(got) <= 2
        seen += got
        if not r["IsTruncated"]:
            break
        assert (r["NextKeyMarker"], r["NextUploadIdMarker"]) == got[-1], r
        kw = {"KeyMarker": r["NextKeyMarker"], "UploadIdMarker": r["NextUploadIdMarker"]}
        assert pages < 10, "ListMultipartUploads paging does not terminate"
    assert seen == made
    assert pages == 3

    # A key-marker alone skips every upload of that key.
    r = s3d.list_multipart_uploads(Bucket=bucket, KeyMarker="mu/b")
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == made[4:]
    # Marker inside a key: the rest of that key's uploads, then later keys.
    r = s3d.list_multipart_uploads(Bucket=bucket, KeyMarker="mu/b", UploadIdMarker=made[1][1])
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == made[2:]
    # Prefix and delimiter.
    r = s3d.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["mu/"] and not r.get("Uploads")
    r = s3d.list_multipart_uploads(Bucket=bucket, Prefix="mu/b")
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == made[1:4]


def test_abort_then_upload_part(s3d, bucket):
    uid = s3d.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    s3d.upload_part(Bucket=bucket, Key="ab", UploadId=uid, PartNumber=1, Body=b"a" * 100)
    r = s3d.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3d.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    for call in (
        lambda: s3d.upload_part(Bucket=bucket, Key="ab", UploadId=uid, PartNumber=2, Body=b"b" * 100),
        lambda: s3d.list_parts(Bucket=bucket, Key="ab", UploadId=uid),
        lambda: complete(s3d, bucket, "ab", uid, [(1, quoted_md5(b"a" * 100))]),
        lambda: s3d.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert http_status(ei.value) == 404 and err_code(ei.value) == "NoSuchUpload"
    with pytest.raises(ClientError) as ei:
        s3d.head_object(Bucket=bucket, Key="ab")
    assert http_status(ei.value) == 404


def test_upload_part_bad_content_md5(admin, bucket):
    """A part whose Content-MD5 does not match is refused (BadDigest) and not stored."""
    uid = admin.create_multipart_upload(Bucket=bucket, Key="md5")["UploadId"]
    body = os.urandom(10_000)
    wrong = base64.b64encode(hashlib.md5(body + b"x").digest()).decode()
    with pytest.raises(ClientError) as ei:
        admin.upload_part(Bucket=bucket, Key="md5", UploadId=uid, PartNumber=1, Body=body, ContentMD5=wrong)
    assert (http_status(ei.value), err_code(ei.value)) == (400, "BadDigest")
    assert admin.list_parts(Bucket=bucket, Key="md5", UploadId=uid).get("Parts", []) == []
    right = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = admin.upload_part(Bucket=bucket, Key="md5", UploadId=uid, PartNumber=1, Body=body, ContentMD5=right)
    assert r["ETag"] == quoted_md5(body)


def test_full_object_crc32_checked_on_complete(s3d, bucket):
    """ChecksumType FULL_OBJECT with CRC32: the gateway combines the parts' CRC32s and
    checks the whole-object value the client sends with Complete."""
    bodies = [os.urandom(MIN_PART), os.urandom(3000)]
    uid = s3d.create_multipart_upload(Bucket=bucket, Key="full", ChecksumAlgorithm="CRC32",
                                      ChecksumType="FULL_OBJECT")["UploadId"]
    parts = []
    for i, b in enumerate(bodies, 1):
        r = s3d.upload_part(Bucket=bucket, Key="full", UploadId=uid, PartNumber=i, Body=b,
                            ChecksumAlgorithm="CRC32")
        assert r.get("ChecksumCRC32") == b64_crc32(b)
        parts.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    with pytest.raises(ClientError) as ei:
        s3d.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=uid, ChecksumType="FULL_OBJECT",
                                      ChecksumCRC32=b64_crc32(b"something else"),
                                      MultipartUpload={"Parts": parts})
    assert (http_status(ei.value), err_code(ei.value)) == (400, "BadDigest")
    whole = b"".join(bodies)
    done = s3d.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=uid, ChecksumType="FULL_OBJECT",
                                         ChecksumCRC32=b64_crc32(whole), MultipartUpload={"Parts": parts})
    assert done.get("ChecksumCRC32") == b64_crc32(whole) and done.get("ChecksumType") == "FULL_OBJECT"
    g = s3d.get_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")  # botocore validates
    assert g.get("ChecksumCRC32") == b64_crc32(whole)
    assert sha256_bytes(g["Body"].read()) == sha256_bytes(whole)


def test_complete_errors_and_idempotent_retry(s3d, bucket):
    key = "cmp"
    uid = s3d.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    small = os.urandom(MiB)
    last = os.urandom(2000)
    e1 = s3d.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=small)["ETag"]
    e2 = s3d.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=2, Body=last)["ETag"]

    def fails(parts, status, code):
        with pytest.raises(ClientError) as ei:
            complete(s3d, bucket, key, uid, parts)
        assert (http_status(ei.value), err_code(ei.value)) == (status, code), ei.value.response

    fails([(1, e1), (2, e2)], 400, "EntityTooSmall")  # 1 MiB part that is not the last
    fails([(1, e1), (2, '"00000000000000000000000000000000"')], 400, "InvalidPart")
    fails([(1, e1), (3, e2)], 400, "InvalidPart")  # never uploaded
    fails([(2, e2), (1, e1)], 400, "InvalidPartOrder")
    # A failed Complete leaves the upload as it was.
    assert [p["PartNumber"] for p in s3d.list_parts(Bucket=bucket, Key=key, UploadId=uid)["Parts"]] == [1, 2]

    big = os.urandom(MIN_PART)
    e1 = s3d.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=big)["ETag"]
    first = complete(s3d, bucket, key, uid, [(1, e1), (2, e2)])
    assert first["ETag"] == multipart_etag([big, last])
    # A retry of the same Complete (botocore retries a 200 with an error body) gets
    # the same answer, and the object is unchanged.
    again = complete(s3d, bucket, key, uid, [(1, e1), (2, e2)])
    assert again["ETag"] == first["ETag"]
    got = s3d.get_object(Bucket=bucket, Key=key)
    assert got["ETag"] == first["ETag"]
    assert sha256_bytes(got["Body"].read()) == sha256_bytes(big + last)
    assert s3d.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as ei:
        s3d.list_parts(Bucket=bucket, Key=key, UploadId=uid)
    assert err_code(ei.value) == "NoSuchUpload"

    # One small part is a valid upload (it is the last part).
    uid = s3d.create_multipart_upload(Bucket=bucket, Key="one")["UploadId"]
    e = s3d.upload_part(Bucket=bucket, Key="one", UploadId=uid, PartNumber=1, Body=b"tiny")["ETag"]
    assert complete(s3d, bucket, "one", uid, [(1, e)])["ETag"] == multipart_etag([b"tiny"])
    assert s3d.get_object(Bucket=bucket, Key="one")["Body"].read() == b"tiny"
