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


# ----------------------------------------------------------------- big files
#
# Multipart tests need files of 20 MiB to 1 GiB, written fast and with checksums
# known without reading them back. A file is a sequence of blocks: a 16-byte
# header (block index, per-file tag) followed by one random body shared by all
# blocks. The block length is not a divisor of any part or chunk size, so every
# part and every gateway chunk starts at a different offset within a block, and
# the headers make every block (hence every part) distinct. CRC-64/NVME is
# affine in the data, so the file's CRC comes from the body's CRC plus one
# 64x64 GF(2) operator per block: no pure-Python pass over the whole file.

PATTERN_BLOCK = MiB + 4099
_CRC64_MASK = 0xFFFFFFFFFFFFFFFF


def _crc64_update(crc: int, data) -> int:
    """Raw reflected CRC-64/NVME register update (no init/xorout)."""
    global _CRC64_TABLE
    if _CRC64_TABLE is None:
        _CRC64_TABLE = _crc64nvme_table()
    t = _CRC64_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def _gf2_apply(op, v: int) -> int:
    r, i = 0, 0
    while v:
        if v & 1:
            r ^= op[i]
        v >>= 1
        i += 1
    return r


def _gf2_compose(a, b):
    """a after b."""
    return [_gf2_apply(a, col) for col in b]


_ZEROS_OPS: dict = {}


def _zeros_op(n: int):
    """Linear operator: CRC register -> register after n zero bytes."""
    op = _ZEROS_OPS.get(n)
    if op is not None:
        return op
    result = [1 << i for i in range(64)]
    base = [_crc64_update(1 << i, b"\0") for i in range(64)]
    k = n
    while k:
        if k & 1:
            result = _gf2_compose(base, result)
        k >>= 1
        if k:
            base = _gf2_compose(base, base)
    _ZEROS_OPS[n] = result
    return result


def _pattern_header(index: int, tag: int) -> bytes:
    return index.to_bytes(8, "big") + tag.to_bytes(8, "big")


def _pattern_crc64nvme(body: bytes, tag: int, size: int) -> int:
    block = len(body) + 16
    full, tail = divmod(size, block)
    zb = _zeros_op(block)
    zh = _zeros_op(block - 16)
    body_crc = _crc64_update(0, body)
    s = _CRC64_MASK
    for i in range(full):
        h = _crc64_update(0, _pattern_header(i, tag))
        s = _gf2_apply(zb, s) ^ _gf2_apply(zh, h) ^ body_crc
    if tail:
        hdr = _pattern_header(full, tag)
        if tail <= 16:
            s = _crc64_update(s, hdr[:tail])
        else:
            h = _crc64_update(0, hdr)
            s = (_gf2_apply(_zeros_op(tail), s) ^ _gf2_apply(_zeros_op(tail - 16), h)
                 ^ _crc64_update(0, body[: tail - 16]))
    return s ^ _CRC64_MASK


def _pattern_bytes(body: bytes, tag: int, size: int) -> bytes:
    out = bytearray()
    i = 0
    while len(out) < size:
        out += _pattern_header(i, tag) + body
        i += 1
    return bytes(out[:size])


# The shortcut must agree with the plain CRC (a few sizes around block edges).
for _n in (0, 5, 16, 17, 40, 41, 123):
    _b, _t = bytes(range(7, 31)), 0x0123456789ABCDEF
    assert _pattern_crc64nvme(_b, _t, _n) == crc64nvme(_pattern_bytes(_b, _t, _n)), _n
_ZEROS_OPS.clear()


@dataclass
class BigFile:
    path: Path
    size: int
    sha256: str
    body: bytes
    tag: int

    def crc64nvme(self) -> int:
        return _pattern_crc64nvme(self.body, self.tag, self.size)

    def b64_crc64nvme(self) -> str:
        return base64.b64encode(self.crc64nvme().to_bytes(8, "big")).decode()

    def read(self, start: int, length: int) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(start)
            return f.read(length)

    def parts(self, part_size: int):
        """Yield the file's bytes in parts of part_size (the last may be shorter)."""
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(part_size), b""):
                yield block

    def md5(self) -> str:
        return md5_file(self.path)

    def multipart_etag(self, part_size: int) -> str:
        """The de-facto multipart ETag (quoted): md5 of the parts' binary MD5s, '-N'."""
        digests = [hashlib.md5(p).digest() for p in self.parts(part_size)]
        return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'

    def composite_crc32(self, part_size: int) -> str:
        """S3's COMPOSITE CRC32 of a multipart object: CRC32 of the parts' CRC32s, '-N'."""
        raws = [zlib.crc32(p).to_bytes(4, "big") for p in self.parts(part_size)]
        return f"{b64_crc32(b''.join(raws))}-{len(raws)}"

    def unlink(self) -> None:
        self.path.unlink(missing_ok=True)


def write_big_file(path, size: int) -> BigFile:
    """Write `size` bytes of the block pattern described above to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = os.urandom(PATTERN_BLOCK - 16)
    tag = int.from_bytes(os.urandom(8), "big")
    h = hashlib.sha256()
    left, i = size, 0
    with open(path, "wb") as f:
        while left:
            block = _pattern_header(i, tag) + body
            if left < len(block):
                block = block[:left]
            f.write(block)
            h.update(block)
            left -= len(block)
            i += 1
    return BigFile(path=path, size=size, sha256=h.hexdigest(), body=body, tag=tag)
