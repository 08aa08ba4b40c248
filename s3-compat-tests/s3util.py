"""Helpers shared by the real-client tests: configuration, hashing, subprocesses.

Everything is configured through the environment (see README.md in this folder).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence
from urllib.parse import urlsplit

import pytest

MiB = 1024 * 1024

# Sizes every client round-trips. All stay below the multipart thresholds we
# configure (64 MiB) until the gateway implements multipart uploads.
SIZES = [0, 1, MiB - 1, MiB + 1, 5 * MiB]
SIZE_IDS = ["0B", "1B", "1MiB-1", "1MiB+1", "5MiB"]

# Multipart threshold given to every client (must stay above max(SIZES)).
MULTIPART_THRESHOLD_MB = 64

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    endpoint: str  # e.g. http://127.0.0.1:9000 or https://localhost:9443
    access_key: str
    secret_key: str
    region: str
    ca_bundle: Optional[str]  # PEM the HTTPS endpoint's certificate chains to
    vhost_domain: Optional[str]  # e.g. "localhost" => bucket.localhost:PORT
    tools_dir: Path  # holds bin/aws (aws cli v2)
    require_all: bool  # missing client => fail instead of skip

    @property
    def scheme(self) -> str:
        return urlsplit(self.endpoint).scheme

    @property
    def is_https(self) -> bool:
        return self.scheme == "https"

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or ""

    @property
    def port(self) -> int:
        u = urlsplit(self.endpoint)
        return u.port or (443 if u.scheme == "https" else 80)

    @property
    def hostport(self) -> str:
        """host:port as clients put it in the Host header."""
        return urlsplit(self.endpoint).netloc

    @property
    def verify(self):
        """Value for boto3's / requests' verify=."""
        if not self.is_https:
            return True
        return self.ca_bundle or True


def load_config() -> Config:
    endpoint = os.environ.get("S3_ENDPOINT_URL", "").rstrip("/")
    access = os.environ.get("S3_ACCESS_KEY", "")
    secret = os.environ.get("S3_SECRET_KEY", "")
    missing = [n for n, v in [("S3_ENDPOINT_URL", endpoint), ("S3_ACCESS_KEY", access),
                              ("S3_SECRET_KEY", secret)] if not v]
    if missing:
        raise RuntimeError("set " + ", ".join(missing) + " (see s3-compat-tests/README.md)")
    if urlsplit(endpoint).scheme not in ("http", "https"):
        raise RuntimeError(f"S3_ENDPOINT_URL must be http:// or https://, got {endpoint!r}")
    ca = os.environ.get("S3_CA_BUNDLE") or None
    if ca:
        ca = str(Path(ca).resolve())
        if not Path(ca).is_file():
            raise RuntimeError(f"S3_CA_BUNDLE={ca} does not exist")
    tools = Path(os.environ.get("S3_TOOLS_DIR") or (REPO_ROOT / ".tools")).resolve()
    return Config(
        endpoint=endpoint,
        access_key=access,
        secret_key=secret,
        region=os.environ.get("S3_REGION") or "us-east-1",
        ca_bundle=ca,
        vhost_domain=os.environ.get("S3_VHOST_DOMAIN") or None,
        tools_dir=tools,
        require_all=os.environ.get("S3_REQUIRE_ALL_CLIENTS", "") not in ("", "0", "false"),
    )


# ----------------------------------------------------------------- hashing


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def md5_file(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def b64_crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def b64_digest(name: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(name, data).digest()).decode()


def _crc64nvme_table():
    poly = 0x9A6C9329AC4BC9B5  # reflected CRC-64/NVME polynomial
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC64_TABLE = None


def crc64nvme(data: bytes) -> int:
    """CRC-64/NVME (the aws cli v2 default checksum). Pure Python: keep inputs small."""
    global _CRC64_TABLE
    if _CRC64_TABLE is None:
        _CRC64_TABLE = _crc64nvme_table()
    t = _CRC64_TABLE
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


assert crc64nvme(b"123456789") == 0xAE8B14860A799888


def b64_crc64nvme(data: bytes) -> str:
    return base64.b64encode(crc64nvme(data).to_bytes(8, "big")).decode()


# ----------------------------------------------------------------- subprocesses

_OUT_LIMIT = 6000


def _clip(s: str) -> str:
    if len(s) <= _OUT_LIMIT:
        return s
    return s[: _OUT_LIMIT // 2] + "\n[... clipped ...]\n" + s[-_OUT_LIMIT // 2:]


def run(
    cmd: Sequence[str],
    *,
    env: Optional[Mapping[str, str]] = None,
    timeout: float = 120,
    check: bool = True,
    cwd=None,
    input: Optional[str] = None,
) -> subprocess.CompletedProcess:
    """Run a command, capture its output, bound it in time.

    On a non-zero exit (when check) or a timeout, the test fails with the command
    line and everything it printed.
    """
    cmd = [str(c) for c in cmd]
    shown = shlex.join(cmd)
    proc = subprocess.Popen(
        cmd,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,  # own process group, so a timeout kills children too
    )
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        pytest.fail(
            f"timed out after {timeout}s: {shown}\n--- stdout\n{_clip(out)}\n--- stderr\n{_clip(err)}",
            pytrace=False,
        )
    cp = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if check and proc.returncode != 0:
        pytest.fail(
            f"exit {proc.returncode}: {shown}\n--- stdout\n{_clip(out)}\n--- stderr\n{_clip(err)}",
            pytrace=False,
        )
    return cp


def kill_group(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    """Kill the process group of a process we started (start_new_session=True)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        proc.kill()


def clean_env(extra: Optional[Mapping[str, str]] = None, drop_prefixes=("AWS_",)) -> dict:
    """The current environment without AWS_* (and friends), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(drop_prefixes))}
    env.setdefault("LANG", "C.UTF-8")
    env["LC_ALL"] = "C.UTF-8"
    if extra:
        env.update(extra)
    return env


def find_tool(name: str, *candidates: Path) -> Optional[str]:
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return str(c)
    return shutil.which(name)


VENV_BIN = Path(sys.executable).parent


def missing_tool(cfg: Config, what: str):
    """Skip (developer run) or fail (S3_REQUIRE_ALL_CLIENTS=1) when a client is absent."""
    msg = f"{what} not found (run scripts/install-test-deps.sh)"
    if cfg.require_all:
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)
