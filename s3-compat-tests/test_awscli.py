"""aws cli v2 (official build, CRC64NVME by default) and aws cli v1 (pip, CRC32)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
import requests

from s3util import (SIZE_IDS, SIZES, MULTIPART_THRESHOLD_MB, VENV_BIN, b64_crc32,
                    b64_crc64nvme, clean_env, find_tool, missing_tool, run,
                    sha256_bytes, sha256_file)


class AwsCli:
    def __init__(self, cfg, version: str, exe: str, home: Path, s3_extra: str = "",
                 multipart_mb: int | None = MULTIPART_THRESHOLD_MB):
        """multipart_mb: threshold and part size; None keeps the cli's defaults (8 MB)."""
        self.cfg = cfg
        self.version = version
        self.exe = exe
        home.mkdir(parents=True, exist_ok=True)
        conf = home / "config"
        creds = home / "credentials"
        conf.write_text(
            "[default]\n"
            f"region = {cfg.region}\n"
            "output = json\n"
            "cli_pager =\n"
            "s3 =\n"
            "    addressing_style = path\n"
            # aws cli v1's `s3 presign` makes SigV2 URLs unless told otherwise
            # (its help says to set this); v2 always uses SigV4.
            "    signature_version = s3v4\n"
            + (f"    multipart_threshold = {multipart_mb}MB\n"
               f"    multipart_chunksize = {multipart_mb}MB\n" if multipart_mb else "")
            + s3_extra
        )
        creds.write_text(
            "[default]\n"
            f"aws_access_key_id = {cfg.access_key}\n"
            f"aws_secret_access_key = {cfg.secret_key}\n"
        )
        extra = {
            "AWS_CONFIG_FILE": str(conf),
            "AWS_SHARED_CREDENTIALS_FILE": str(creds),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "HOME": str(home),  # never read or write the real ~/.aws
        }
        if cfg.is_https and cfg.ca_bundle:
            extra["AWS_CA_BUNDLE"] = cfg.ca_bundle
        self.env = clean_env(extra)

    def __call__(self, *args, check=True, timeout=180, input=None, cwd=None):
        cmd = [self.exe, *args, "--endpoint-url", self.cfg.endpoint]
        if self.cfg.is_https and self.cfg.ca_bundle:
            cmd += ["--ca-bundle", self.cfg.ca_bundle]
        return run(cmd, env=self.env, check=check, timeout=timeout, input=input, cwd=cwd)

    def json(self, *args, **kw):
        return json.loads(self(*args, **kw).stdout or "{}")


@pytest.fixture(params=["v2", "v1"])
def aws(request, cfg, tmp_path):
    if request.param == "v2":
        exe = find_tool("aws-v2-not-on-path", cfg.tools_dir / "bin" / "aws", cfg.tools_dir / "aws")
    else:
        exe = find_tool("aws-v1-not-on-path", VENV_BIN / "aws")
    if not exe:
        missing_tool(cfg, f"aws cli {request.param}")
    cli = AwsCli(cfg, request.param, exe, tmp_path / f"aws-{request.param}-home")
    if exe not in _checked:
        r = run([exe, "--version"], env=cli.env, timeout=60)
        out = r.stdout + r.stderr
        want = "aws-cli/2." if request.param == "v2" else "aws-cli/1."
        assert want in out, f"{exe} is not aws cli {request.param}: {out!r}"
        _checked.add(exe)
    return cli


_checked: set = set()


def aws_variant(aws: AwsCli, home: Path, s3_extra: str) -> AwsCli:
    """Same cli, different s3 settings."""
    return AwsCli(aws.cfg, aws.version, aws.exe, home, s3_extra=s3_extra)


def ls_entries(stdout: str):
    """Parse `aws s3 ls` output into ({name: size}, [prefixes])."""
    files, prefixes = {}, []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        parts = line.split(None, 3)
        if parts[0] == "PRE":
            prefixes.append(line.strip()[4:])
        elif len(parts) == 4:
            files[parts[3]] = int(parts[2])
    return files, prefixes


def s3_keys(admin, bucket, prefix=""):
    keys = {}
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            keys[o["Key"]] = o["Size"]
    return keys


def tree(root: Path):
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def backdate(root: Path, seconds: int = 3600):
    t = time.time() - seconds
    for p in root.rglob("*"):
        os.utime(p, (t, t))


def transfer_lines(stdout: str, verb: str):
    return [l for l in stdout.splitlines() if l.startswith(verb + ":")]


# ----------------------------------------------------------------- tests


def test_mb_ls_rb(aws, admin, bucket_factory, make_file):
    name = bucket_factory.register(f"s3c-awsmb-{aws.version}-{os.urandom(4).hex()}")
    out = aws("s3", "mb", f"s3://{name}").stdout
    assert f"make_bucket: {name}" in out
    admin.head_bucket(Bucket=name)
    assert name in aws("s3", "ls").stdout.split()

    f = make_file(10)
    aws("s3", "cp", str(f), f"s3://{name}/x")
    r = aws("s3", "rb", f"s3://{name}", check=False)
    assert r.returncode != 0 and "BucketNotEmpty" in r.stderr, r.stderr
    out = aws("s3", "rb", "--force", f"s3://{name}").stdout
    assert f"remove_bucket: {name}" in out
    assert name not in aws("s3", "ls").stdout.split()

    aws("s3", "mb", f"s3://{name}")
    out = aws("s3", "rb", f"s3://{name}").stdout
    assert f"remove_bucket: {name}" in out


def test_cp_round_trip(aws, admin, bucket, make_file, tmp_path):
    src = tmp_path / "cp-src"
    for size, sid in zip(SIZES, SIZE_IDS):
        make_file(size, name=f"up load+{sid}.bin", dir=src)
    want = tree(src)

    # One file at a time (the common case), the rest recursively.
    single = src / "up load+5MiB.bin"
    out = aws("s3", "cp", str(single), f"s3://{bucket}/cp/").stdout
    assert len(transfer_lines(out, "upload")) == 1
    out = aws("s3", "cp", "--recursive", "--exclude", single.name, str(src), f"s3://{bucket}/cp/").stdout
    assert len(transfer_lines(out, "upload")) == len(want) - 1

    files, _ = ls_entries(aws("s3", "ls", f"s3://{bucket}/cp/").stdout)
    assert files == {name: (src / name).stat().st_size for name in want}
    for name in want:
        head = admin.head_object(Bucket=bucket, Key=f"cp/{name}")
        assert head["ContentLength"] == (src / name).stat().st_size
        assert head["ETag"] == '"' + hashlib.md5((src / name).read_bytes()).hexdigest() + '"', name
        assert "aws-chunked" not in (head.get("ContentEncoding") or ""), name

    dst = tmp_path / "cp-dst"
    aws("s3", "cp", f"s3://{bucket}/cp/{single.name}", str(dst / single.name))
    out = aws("s3", "cp", "--recursive", "--exclude", single.name, f"s3://{bucket}/cp/", str(dst)).stdout
    assert len(transfer_lines(out, "download")) == len(want) - 1
    assert tree(dst) == want


def test_cp_stdin_stdout(aws, bucket):
    data = os.urandom(200_000).hex()  # text, 400 kB, non-seekable upload
    aws("s3", "cp", "-", f"s3://{bucket}/stdin.txt", input=data)
    out = aws("s3", "cp", f"s3://{bucket}/stdin.txt", "-").stdout
    assert sha256_bytes(out.encode()) == sha256_bytes(data.encode())


def test_ls_recursive_and_prefixes(aws, admin, bucket):
    for k in ["a/1", "a/b/2", "c d/3", "top"]:
        admin.put_object(Bucket=bucket, Key=k, Body=b"12345")
    files, prefixes = ls_entries(aws("s3", "ls", f"s3://{bucket}/").stdout)
    assert files == {"top": 5}
    assert sorted(prefixes) == ["a/", "c d/"]
    files, prefixes = ls_entries(aws("s3", "ls", "--recursive", f"s3://{bucket}/").stdout)
    assert files == {"a/1": 5, "a/b/2": 5, "c d/3": 5, "top": 5}


def test_sync_both_ways(aws, admin, bucket, make_file, tmp_path):
    src = tmp_path / "sync-src"
    for size, sid in zip(SIZES, SIZE_IDS):
        make_file(size, name=f"f-{sid}.bin", dir=src)
    make_file(123, name="sub dir/ünï cödé+1.txt", dir=src)
    make_file(7, name="deep/er/x%41.txt", dir=src)
    want = tree(src)
    # sync re-uploads when the remote LastModified (whole seconds in listings, on AWS
    # too) is older than the local mtime; files made this very second would race.
    backdate(src)

    out = aws("s3", "sync", str(src), f"s3://{bucket}/sync/").stdout
    assert len(transfer_lines(out, "upload")) == len(want)
    remote = s3_keys(admin, bucket, "sync/")
    assert {k[len("sync/"):] for k in remote} == set(want)

    out = aws("s3", "sync", str(src), f"s3://{bucket}/sync/").stdout
    assert transfer_lines(out, "upload") == [], f"second sync transferred again:\n{out}"

    dst = tmp_path / "sync-dst"
    out = aws("s3", "sync", f"s3://{bucket}/sync/", str(dst)).stdout
    assert len(transfer_lines(out, "download")) == len(want)
    assert tree(dst) == want
    out = aws("s3", "sync", f"s3://{bucket}/sync/", str(dst)).stdout
    assert transfer_lines(out, "download") == [], f"second sync transferred again:\n{out}"

    # --delete removes what disappeared locally; a changed size is uploaded again.
    (src / "f-1B.bin").unlink()
    (src / "f-0B.bin").write_bytes(b"now three")
    out = aws("s3", "sync", "--delete", str(src), f"s3://{bucket}/sync/").stdout
    assert len(transfer_lines(out, "delete")) == 1, out
    assert len(transfer_lines(out, "upload")) == 1, out
    remote = s3_keys(admin, bucket, "sync/")
    assert "sync/f-1B.bin" not in remote and remote["sync/f-0B.bin"] == 9


def test_rm_recursive(aws, admin, bucket):
    for i in range(6):
        admin.put_object(Bucket=bucket, Key=f"rm/{i}/obj", Body=b"x")
    admin.put_object(Bucket=bucket, Key="keep/obj", Body=b"x")
    out = aws("s3", "rm", "--recursive", f"s3://{bucket}/rm/").stdout
    assert len(transfer_lines(out, "delete")) == 6
    assert s3_keys(admin, bucket) == {"keep/obj": 1}
    aws("s3", "rm", f"s3://{bucket}/keep/obj")
    assert s3_keys(admin, bucket) == {}


def test_s3api_put_head_get(aws, bucket, make_file, tmp_path):
    src = make_file(100_001)
    data = src.read_bytes()
    put = aws.json("s3api", "put-object", "--bucket", bucket, "--key", "api/obj+1",
                   "--body", str(src), "--content-type", "application/x-api",
                   "--metadata", "owner=tests")
    assert put["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'

    head = aws.json("s3api", "head-object", "--bucket", bucket, "--key", "api/obj+1",
                    "--checksum-mode", "ENABLED")
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "application/x-api"
    assert head["Metadata"] == {"owner": "tests"}
    # Each cli sends its default checksum; the gateway must store and return it.
    if aws.version == "v2":
        assert head.get("ChecksumCRC64NVME") == b64_crc64nvme(data), head
    else:
        assert head.get("ChecksumCRC32") == b64_crc32(data), head

    out = tmp_path / "api-out.bin"
    got = aws.json("s3api", "get-object", "--bucket", bucket, "--key", "api/obj+1", str(out))
    assert got["ContentLength"] == len(data)
    assert sha256_file(out) == sha256_bytes(data)

    listing = aws.json("s3api", "list-objects-v2", "--bucket", bucket)
    assert [o["Key"] for o in listing["Contents"]] == ["api/obj+1"]

    r = aws("s3api", "head-object", "--bucket", bucket, "--key", "missing", check=False)
    assert r.returncode != 0 and "404" in r.stderr


def test_s3api_bucket_tagging(aws, bucket):
    """put/get/delete-bucket-tagging: the set read back in its order; a bad one refused."""
    r = aws("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert r.returncode != 0 and "NoSuchTagSet" in r.stderr, r.stderr
    tags = [{"Key": "project", "Value": "s3gw"}, {"Key": "Größe", "Value": ""},
            {"Key": "owner", "Value": "ops@example.org"}]
    aws("s3api", "put-bucket-tagging", "--bucket", bucket,
        "--tagging", json.dumps({"TagSet": tags}))
    assert aws.json("s3api", "get-bucket-tagging", "--bucket", bucket)["TagSet"] == tags
    r = aws("s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging",
            json.dumps({"TagSet": [{"Key": "a*b", "Value": "1"}]}), check=False)
    assert r.returncode != 0 and "InvalidTag" in r.stderr, r.stderr
    assert aws.json("s3api", "get-bucket-tagging", "--bucket", bucket)["TagSet"] == tags
    aws("s3api", "delete-bucket-tagging", "--bucket", bucket)
    r = aws("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert r.returncode != 0 and "NoSuchTagSet" in r.stderr, r.stderr


def test_s3api_object_tagging(aws, admin, bucket, make_file, tmp_path):
    """Object tags with put-object --tagging, put/get/delete-object-tagging, the
    count on get-object, and `aws s3 cp` of a multipart-sized tagged object."""
    small = make_file(3000)
    aws("s3api", "put-object", "--bucket", bucket, "--key", "tagged",
        "--body", str(small), "--tagging", "project=s3gw&team%20name=ops%2Bdev&empty=")
    want = [{"Key": "project", "Value": "s3gw"}, {"Key": "team name", "Value": "ops+dev"},
            {"Key": "empty", "Value": ""}]
    got = aws.json("s3api", "get-object-tagging", "--bucket", bucket, "--key", "tagged")
    assert got["TagSet"] == want, got
    out = aws.json("s3api", "get-object", "--bucket", bucket, "--key", "tagged",
                   str(tmp_path / "tagged.out"))
    assert out.get("TagCount") == 3, out
    assert sha256_file(tmp_path / "tagged.out") == sha256_file(small)

    replaced = [{"Key": "Größe", "Value": "1"}]
    aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "tagged",
        "--tagging", json.dumps({"TagSet": replaced}))
    got = aws.json("s3api", "get-object-tagging", "--bucket", bucket, "--key", "tagged")
    assert got["TagSet"] == replaced, got
    r = aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "tagged", "--tagging",
            json.dumps({"TagSet": [{"Key": f"k{i}", "Value": ""} for i in range(11)]}),
            check=False)
    assert r.returncode != 0 and "BadRequest" in r.stderr, r.stderr
    aws("s3api", "delete-object-tagging", "--bucket", bucket, "--key", "tagged")
    got = aws.json("s3api", "get-object-tagging", "--bucket", bucket, "--key", "tagged")
    assert got["TagSet"] == [], got

    # Over the cli's multipart threshold (5 MB here), a copy is a multipart
    # upload of copied parts. aws cli v2 (`--copy-props default`) reads the
    # source's tags (GetObjectTagging) and sends them with
    # CreateMultipartUpload; v1 has no --copy-props and copies no tags.
    big = os.urandom(6 * 1024 * 1024)
    admin.put_object(Bucket=bucket, Key="big", Body=big, Tagging="tier=backup")
    mp = AwsCli(aws.cfg, aws.version, aws.exe, tmp_path / "aws-mp-home", multipart_mb=5)
    mp("s3", "cp", f"s3://{bucket}/big", f"s3://{bucket}/big-copy")
    got = admin.get_object_tagging(Bucket=bucket, Key="big-copy")["TagSet"]
    want = [{"Key": "tier", "Value": "backup"}] if aws.version == "v2" else []
    assert got == want, (aws.version, got)
    copied = admin.get_object(Bucket=bucket, Key="big-copy")
    assert copied["ETag"].strip('"').endswith("-2"), copied["ETag"]
    assert sha256_bytes(copied["Body"].read()) == sha256_bytes(big)


def test_cp_no_overwrite(aws, admin, bucket, make_file):
    first, second = make_file(1000), make_file(2000)
    r = aws("s3", "cp", "--no-overwrite", str(first), f"s3://{bucket}/once", check=False)
    if r.returncode != 0 and ("Unknown options" in r.stderr or "no-overwrite" in r.stderr):
        pytest.skip(f"aws cli {aws.version} has no --no-overwrite")
    assert r.returncode == 0, r.stderr
    aws("s3", "cp", "--no-overwrite", str(second), f"s3://{bucket}/once", check=False)
    body = admin.get_object(Bucket=bucket, Key="once")["Body"].read()
    assert sha256_bytes(body) == sha256_file(first), "--no-overwrite replaced the object"


def test_presign(aws, cfg, admin, bucket):
    data = os.urandom(5000)
    admin.put_object(Bucket=bucket, Key="pre sign/ü+.bin", Body=data)
    url = aws("s3", "presign", f"s3://{bucket}/pre sign/ü+.bin", "--expires-in", "300").stdout.strip()
    assert url.startswith(cfg.endpoint), url
    r = requests.get(url, verify=cfg.verify, timeout=60)
    assert r.status_code == 200, r.text
    assert sha256_bytes(r.content) == sha256_bytes(data)


def test_empty_file_then_next_upload_on_same_connection(aws, admin, bucket, tmp_path):
    """The botocore vendored in both aws clis keeps a stale status line on a pooled
    connection after a server answers an `Expect: 100-continue` PUT with a final
    response and no `100 Continue` (what a server naturally does for a 0-byte body).
    The next upload on that connection then mis-parses its response: the headers are
    lost, the body is read until the server closes the idle connection (a long stall),
    and an error status would be taken for 200. A server avoids this by always sending
    `100 Continue` first, or by closing the connection after such an early answer."""
    src = tmp_path / "expect-src"
    src.mkdir()
    (src / "a-empty").write_bytes(b"")
    (src / "b-data").write_bytes(os.urandom(100_000))
    one = aws_variant(aws, tmp_path / "aws-serial", "    max_concurrent_requests = 1\n")
    t = time.monotonic()
    r = one("s3", "cp", "--recursive", "--debug", str(src), f"s3://{bucket}/expect/", timeout=120)
    took = time.monotonic() - t
    misparsed = [l for l in r.stderr.splitlines() if "Failed to parse headers" in l]
    assert not misparsed, (
        f"the client mis-parsed a response after an early answer to Expect: 100-continue "
        f"(took {took:.1f} s): {misparsed[0][:300]}")
    assert s3_keys(admin, bucket, "expect/") == {"expect/a-empty": 0, "expect/b-data": 100_000}
    assert took < 20, f"upload of two small files took {took:.1f} s"
