"""Fixtures for the real-client suite. Configuration comes only from the environment."""

from __future__ import annotations

import os
import secrets
import socket
import warnings

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

import s3util
from s3util import MiB, MULTIPART_THRESHOLD_MB


def pytest_configure(config):
    try:
        cfg = s3util.load_config()
    except RuntimeError as e:
        pytest.exit(f"s3-compat-tests: {e}", returncode=4)
    config._s3cfg = cfg


def pytest_report_header(config):
    cfg = config._s3cfg
    return [
        f"s3 endpoint: {cfg.endpoint} (region {cfg.region}, ca {cfg.ca_bundle or '-'}, "
        f"vhost domain {cfg.vhost_domain or '-'})",
        f"boto3 {boto3.__version__}",
    ]


@pytest.fixture(scope="session")
def cfg(pytestconfig) -> s3util.Config:
    return pytestconfig._s3cfg


_FIGURES: list = []


@pytest.fixture
def figure(request):
    """figure("text"): a line for the summary at the end of the run (timings, rates)."""
    return lambda text: _FIGURES.append(f"{request.node.name}: {text}")


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


# ----------------------------------------------------------------- boto3


def make_client(
    cfg: s3util.Config,
    *,
    checksums: str = "when_supported",
    addressing: str = "path",
    endpoint: str | None = None,
):
    """A boto3 S3 client. checksums: 'when_supported' (SDK default) or 'when_required'."""
    bc = BotoConfig(
        region_name=cfg.region,
        signature_version="s3v4",
        s3={"addressing_style": addressing},
        request_checksum_calculation=checksums,
        response_checksum_validation=checksums,
        # No retries: a retried 500 would hide a gateway bug.
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint or cfg.endpoint,
        aws_access_key_id=cfg.access_key,
        aws_secret_access_key=cfg.secret_key,
        config=bc,
        verify=cfg.verify,
    )


@pytest.fixture(scope="session")
def admin(cfg):
    """Client used for setup, teardown and independent verification."""
    return make_client(cfg, checksums="when_required")


@pytest.fixture(params=["when_supported", "when_required"])
def s3(request, cfg):
    """boto3 client, once with the SDK's default checksums and once with the opt-out."""
    return make_client(cfg, checksums=request.param)


@pytest.fixture(scope="session")
def s3d(cfg):
    """boto3 client with the SDK's default checksum settings only."""
    return make_client(cfg, checksums="when_supported")


@pytest.fixture(scope="session")
def transfer_config():
    threshold = MULTIPART_THRESHOLD_MB * MiB
    return TransferConfig(multipart_threshold=threshold, multipart_chunksize=threshold)


def new_bucket_name(tag: str = "t") -> str:
    tag = "".join(c for c in tag.lower() if c.isalnum())[:20] or "t"
    return f"s3c-{tag}-{secrets.token_hex(6)}"


def empty_and_delete_bucket(client, bucket: str) -> None:
    """Delete every object (and open multipart upload), then the bucket. Best effort."""
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        return  # already gone (the test deleted it)
    problems = []
    try:
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for up in page.get("Uploads", []):
                client.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
    except ClientError:
        pass  # multipart may not be implemented yet
    try:
        keys = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys += [o["Key"] for o in page.get("Contents", [])]
        for k in keys:
            try:
                client.delete_object(Bucket=bucket, Key=k)
            except ClientError as e:
                problems.append(f"delete {k!r}: {e}")
        client.delete_bucket(Bucket=bucket)
    except ClientError as e:
        problems.append(str(e))
    if problems:
        warnings.warn(f"cleanup of bucket {bucket} failed: {problems[:3]}")


@pytest.fixture
def bucket_factory(admin, request):
    """Create unique buckets; all are emptied and deleted after the test."""
    made = []

    def create(tag: str | None = None) -> str:
        name = new_bucket_name(tag or request.node.originalname or "t")
        admin.create_bucket(Bucket=name)
        made.append(name)
        return name

    def register(name: str) -> str:
        """Track a bucket a client created itself, so it gets cleaned up."""
        made.append(name)
        return name

    create.register = register
    yield create
    for name in made:
        empty_and_delete_bucket(admin, name)


@pytest.fixture
def bucket(bucket_factory) -> str:
    return bucket_factory()


# ----------------------------------------------------------------- files


@pytest.fixture
def make_file(tmp_path):
    """make_file(size, name=None, dir=None) -> Path with `size` random bytes."""
    counter = [0]

    def make(size: int, name: str | None = None, dir=None):
        counter[0] += 1
        d = dir if dir is not None else tmp_path / "src"
        d.mkdir(parents=True, exist_ok=True)
        p = d / (name or f"file-{counter[0]}-{size}.bin")
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "wb") as f:
            left = size
            while left:
                n = min(left, MiB)
                f.write(os.urandom(n))
                left -= n
        return p

    return make


# ----------------------------------------------------------------- vhost


@pytest.fixture
def localhost_subdomains(monkeypatch):
    """Resolve *.localhost to 127.0.0.1 in this process (RFC 6761), as curl and Go do.

    glibc's resolver here only knows `localhost` itself from /etc/hosts.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
