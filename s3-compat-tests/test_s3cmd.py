"""s3cmd: SigV4, signed-SHA-256 bodies, ListObjects v1, DeleteObjects with Content-MD5."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import pytest

from s3util import (SIZE_IDS, SIZES, MULTIPART_THRESHOLD_MB, VENV_BIN, clean_env, find_tool,
                    missing_tool, run, sha256_file)


class S3cmd:
    def __init__(self, cfg, exe: str, home: Path, multipart_chunk_mb: int | None = None):
        """multipart_chunk_mb: enable multipart with this chunk size (s3cmd's default
        is 15); None disables multipart."""
        self.cfg = cfg
        self.exe = exe
        home.mkdir(parents=True, exist_ok=True)
        self.conf = home / "s3cfg"
        lines = [
            "[default]",
            f"access_key = {cfg.access_key}",
            f"secret_key = {cfg.secret_key}",
            f"host_base = {cfg.hostport}",
            f"host_bucket = {cfg.hostport}",  # no %(bucket)s => path style
            f"use_https = {'True' if cfg.is_https else 'False'}",
            "signature_v2 = False",
            "bucket_location = US",  # s3cmd's default: it asks GET /?location first
            f"check_ssl_certificate = True",
            f"check_ssl_hostname = True",
            f"ca_certs_file = {cfg.ca_bundle if (cfg.is_https and cfg.ca_bundle) else ''}",
            f"enable_multipart = {bool(multipart_chunk_mb)}",
            f"multipart_chunk_size_mb = {multipart_chunk_mb or MULTIPART_THRESHOLD_MB}",
            "max_retries = 0",  # a retried failure would hide a gateway bug
            "socket_timeout = 60",
            "progress_meter = False",
            "guess_mime_type = True",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        self.env = clean_env({"HOME": str(home)})

    def __call__(self, *args, check=True, timeout=180):
        r = run([self.exe, "-c", str(self.conf), *args], env=self.env, check=check, timeout=timeout)
        if check:
            out = r.stdout + r.stderr
            assert "MD5 signatures do not match" not in out, out
            assert "WARNING: Retrying" not in out, out
        return r


@pytest.fixture
def s3cmd(cfg, tmp_path):
    exe = find_tool("s3cmd", VENV_BIN / "s3cmd")
    if not exe:
        missing_tool(cfg, "s3cmd")
    return S3cmd(cfg, exe, tmp_path / "s3cmd-home")


LS_LINE = re.compile(r"^\s*(\S+\s+\S+)\s+(\d+)\s+(s3://.*)$")


def ls_objects(stdout: str):
    """{uri: size} from `s3cmd ls`/`la` output (DIR lines skipped)."""
    found = {}
    for line in stdout.splitlines():
        m = LS_LINE.match(line)
        if m:
            found[m.group(3)] = int(m.group(2))
    return found


def s3_keys(admin, bucket, prefix=""):
    keys = {}
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            keys[o["Key"]] = o["Size"]
    return keys


def tree(root: Path):
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def transfers(stdout: str, verb: str):
    return [l for l in stdout.splitlines() if l.startswith(verb + ":")]


def test_mb_rb(s3cmd, admin, bucket_factory):
    # With s3cmd's default bucket_location = US, mb signs with the credential
    # scope region "US" (not us-east-1) and sends no LocationConstraint.
    name = bucket_factory.register(f"s3c-s3cmd-{os.urandom(5).hex()}")
    s3cmd("mb", f"s3://{name}")
    admin.head_bucket(Bucket=name)
    assert f"s3://{name}" in s3cmd("ls").stdout.split()
    s3cmd("rb", f"s3://{name}")
    assert name not in [b["Name"] for b in admin.list_buckets()["Buckets"]]


def test_put_get_ls_info_del(s3cmd, admin, bucket, make_file, tmp_path):
    name = bucket
    src = tmp_path / "src"
    for size, sid in zip(SIZES, SIZE_IDS):
        make_file(size, name=f"f {sid}+.bin", dir=src)
    files = sorted(src.iterdir())
    for f in files:
        s3cmd("put", str(f), f"s3://{name}/dir/")

    want = {f"s3://{name}/dir/{f.name}": f.stat().st_size for f in files}
    assert ls_objects(s3cmd("ls", f"s3://{name}/dir/").stdout) == want
    listed = s3cmd("ls", f"s3://{name}/").stdout
    assert any(l.split() == ["DIR", f"s3://{name}/dir/"] for l in listed.splitlines()), listed
    la = s3cmd("la").stdout  # every bucket, one level deep
    assert any(l.split() == ["DIR", f"s3://{name}/dir/"] for l in la.splitlines()), la

    dst = tmp_path / "dst"
    dst.mkdir()
    for f in files:
        s3cmd("get", "--force", f"s3://{name}/dir/{f.name}", str(dst / f.name))
        assert sha256_file(dst / f.name) == sha256_file(f), f.name

    big = files[-1]
    info = s3cmd("info", f"s3://{name}/dir/{big.name}").stdout
    assert re.search(rf"File size:\s*{big.stat().st_size}\b", info), info
    assert re.search(rf"MD5 sum:\s*{hashlib.md5(big.read_bytes()).hexdigest()}\b", info), info
    binfo = s3cmd("info", f"s3://{name}").stdout
    assert f"s3://{name}/" in binfo

    s3cmd("del", f"s3://{name}/dir/{files[0].name}")
    assert len(s3_keys(admin, name)) == len(files) - 1
    s3cmd("del", "--recursive", "--force", f"s3://{name}/dir/")
    assert s3_keys(admin, name) == {}
    assert ls_objects(s3cmd("ls", f"s3://{name}/dir/").stdout) == {}


def test_sync_both_ways(s3cmd, admin, bucket, make_file, tmp_path):
    src = tmp_path / "sync-src"
    for size, sid in zip(SIZES, SIZE_IDS):
        make_file(size, name=f"f-{sid}.bin", dir=src)
    make_file(321, name="sub dir/ünï cödé+1.txt", dir=src)
    make_file(9, name="deep/er/x%41.txt", dir=src)
    want = tree(src)

    out = s3cmd("sync", str(src) + "/", f"s3://{bucket}/sync/").stdout
    assert len(transfers(out, "upload")) == len(want), out
    assert {k[len("sync/"):] for k in s3_keys(admin, bucket, "sync/")} == set(want)
    out = s3cmd("sync", str(src) + "/", f"s3://{bucket}/sync/").stdout
    assert transfers(out, "upload") == [], f"second sync transferred again:\n{out}"

    dst = tmp_path / "sync-dst"
    dst.mkdir()
    out = s3cmd("sync", f"s3://{bucket}/sync/", str(dst) + "/").stdout
    assert len(transfers(out, "download")) == len(want), out
    assert tree(dst) == want
    out = s3cmd("sync", f"s3://{bucket}/sync/", str(dst) + "/").stdout
    assert transfers(out, "download") == [], f"second sync transferred again:\n{out}"

    # --delete-removed (DeleteObjects with Content-MD5) and a changed file.
    (src / "f-1B.bin").unlink()
    (src / "sub dir" / "ünï cödé+1.txt").unlink()
    (src / "f-0B.bin").write_bytes(b"changed!")
    out = s3cmd("sync", "--delete-removed", str(src) + "/", f"s3://{bucket}/sync/").stdout
    assert len(transfers(out, "delete")) == 2, out
    assert len(transfers(out, "upload")) == 1, out
    remote = s3_keys(admin, bucket, "sync/")
    assert {k[len("sync/"):] for k in remote} == set(tree(src))
    assert remote["sync/f-0B.bin"] == 8

    # ...and back down with --delete-removed.
    out = s3cmd("sync", "--delete-removed", f"s3://{bucket}/sync/", str(dst) + "/").stdout
    assert tree(dst) == tree(src)
