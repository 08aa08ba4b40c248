"""rclone (provider Other: path style, ListObjects v1, Content-MD5, HeadObject after PUT)
and rclone mount through FUSE."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3util import (SIZE_IDS, SIZES, MULTIPART_THRESHOLD_MB, VENV_BIN, clean_env, find_tool,
                    kill_group, missing_tool, run, sha256_bytes, sha256_file)

REMOTE = "gw"


class Rclone:
    def __init__(self, cfg, exe: str, home: Path):
        self.cfg = cfg
        self.exe = exe
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.conf = home / "rclone.conf"
        self.conf.write_text(
            f"[{REMOTE}]\n"
            "type = s3\n"
            "provider = Other\n"
            f"access_key_id = {cfg.access_key}\n"
            f"secret_access_key = {cfg.secret_key}\n"
            f"endpoint = {cfg.endpoint}\n"
            f"region = {cfg.region}\n"
            "force_path_style = true\n"
            f"upload_cutoff = {MULTIPART_THRESHOLD_MB}M\n"
            f"chunk_size = {MULTIPART_THRESHOLD_MB}M\n"
        )
        # AWS_CA_BUNDLE (set machine-wide) breaks rclone on plain HTTP; the CA for
        # HTTPS goes in --ca-cert. Drop RCLONE_* so nothing outside changes behaviour.
        self.env = clean_env({"HOME": str(home), "RCLONE_CONFIG": str(self.conf)},
                             drop_prefixes=("AWS_", "RCLONE_"))

    def args(self, *args):
        cmd = [self.exe, "--config", str(self.conf), *args,
               # no retries: a retried failure would hide a gateway bug
               "--retries", "1", "--low-level-retries", "1",
               "--contimeout", "10s", "--timeout", "60s",
               "--cache-dir", str(self.home / "cache")]
        if self.cfg.is_https and self.cfg.ca_bundle:
            cmd += ["--ca-cert", self.cfg.ca_bundle]
        return cmd

    def __call__(self, *args, check=True, timeout=180):
        return run(self.args(*args), env=self.env, check=check, timeout=timeout)

    def lsf(self, path: str) -> dict:
        """{relative path: size} of files under path. Counts what came back rather
        than trusting the exit code (rclone lsf can exit 0 after a failed listing)."""
        out = self("lsf", "-R", "--files-only", "--format", "sp", "--separator", "\t",
                   f"{REMOTE}:{path}").stdout
        found = {}
        for line in out.splitlines():
            if line:
                size, name = line.split("\t", 1)
                found[name] = int(size)
        return found


@pytest.fixture
def rclone(cfg, tmp_path):
    exe = find_tool("rclone", VENV_BIN / "rclone")
    if not exe:
        missing_tool(cfg, "rclone")
    return Rclone(cfg, exe, tmp_path / "rclone-home")


def tree(root: Path):
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def sizes(root: Path):
    return {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def make_tree(make_file, root: Path):
    for size, sid in zip(SIZES, SIZE_IDS):
        make_file(size, name=f"f-{sid}.bin", dir=root)
    make_file(4321, name="sub dir/ünï cödé+1.txt", dir=root)
    make_file(10, name="deep/er/x%41 y.txt", dir=root)


def copied(out: str):
    return [l for l in out.splitlines() if "Copied (" in l]


def test_copy_lsf_check_md5sum(rclone, admin, bucket, make_file, tmp_path):
    src = tmp_path / "src"
    make_tree(make_file, src)
    rclone("copy", str(src), f"{REMOTE}:{bucket}/copy")

    assert rclone.lsf(f"{bucket}/copy") == sizes(src)
    listed = {o["Key"] for o in admin.list_objects_v2(Bucket=bucket, Prefix="copy/").get("Contents", [])}
    assert listed == {f"copy/{k}" for k in sizes(src)}

    r = rclone("check", str(src), f"{REMOTE}:{bucket}/copy")
    assert "0 differences found" in r.stderr, r.stderr
    assert f"{len(sizes(src))} matching files" in r.stderr, r.stderr

    # md5sum reads the ETags: they must be the hex MD5 of each body.
    want_md5 = {p: hashlib.md5((src / p).read_bytes()).hexdigest() for p in sizes(src)}
    got_md5 = {}
    for line in rclone("md5sum", f"{REMOTE}:{bucket}/copy").stdout.splitlines():
        digest, name = line.split("  ", 1)
        got_md5[name] = digest
    assert got_md5 == want_md5

    dst = tmp_path / "dst"
    rclone("copy", f"{REMOTE}:{bucket}/copy", str(dst))
    assert tree(dst) == tree(src)

    # A file changed behind rclone's back is detected by check.
    # Same size, so only the MD5 (ETag) comparison can see it.
    one = src / "f-1B.bin"
    one.write_bytes(bytes([one.read_bytes()[0] ^ 0xFF]))
    r = rclone("check", str(src), f"{REMOTE}:{bucket}/copy", check=False)
    assert r.returncode != 0 and "1 differences found" in r.stderr, r.stderr


def test_sync_delete_purge(rclone, admin, bucket_factory, make_file, tmp_path):
    name = bucket_factory.register(f"s3c-rclone-{os.urandom(5).hex()}")
    rclone("mkdir", f"{REMOTE}:{name}")
    admin.head_bucket(Bucket=name)

    src = tmp_path / "src"
    make_tree(make_file, src)
    out = rclone("sync", "-v", str(src), f"{REMOTE}:{name}/sync").stderr
    assert len(copied(out)) == len(sizes(src)), out
    assert rclone.lsf(f"{name}/sync") == sizes(src)

    out = rclone("sync", "-v", str(src), f"{REMOTE}:{name}/sync").stderr
    assert copied(out) == [], f"second sync transferred again:\n{out}"

    (src / "f-5MiB.bin").unlink()
    (src / "f-0B.bin").write_bytes(b"grown")
    out = rclone("sync", "-v", str(src), f"{REMOTE}:{name}/sync").stderr
    assert len(copied(out)) == 1, out
    assert rclone.lsf(f"{name}/sync") == sizes(src)

    rclone("delete", "--include", "*.bin", f"{REMOTE}:{name}/sync")
    assert rclone.lsf(f"{name}/sync") == {"sub dir/ünï cödé+1.txt": 4321, "deep/er/x%41 y.txt": 10}

    rclone("purge", f"{REMOTE}:{name}")
    with pytest.raises(ClientError) as ei:
        admin.head_bucket(Bucket=name)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# ----------------------------------------------------------------- mount


def fuse_unavailable_reason():
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse does not exist"
    if not (shutil.which("fusermount3") or shutil.which("fusermount")):
        return "fusermount3 not installed (apt-get install fuse3)"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is not readable and writable for this user"
    return None


def wait_for(pred, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def test_mount_write_read(rclone, admin, bucket, tmp_path):
    reason = fuse_unavailable_reason()
    if reason:
        pytest.skip(f"rclone mount: {reason}")
    fusermount = shutil.which("fusermount3") or shutil.which("fusermount")

    existing = os.urandom(1024 * 1024 + 1)
    admin.put_object(Bucket=bucket, Key="pre/existing.bin", Body=existing)

    mnt = tmp_path / "mnt"
    mnt.mkdir()
    log = tmp_path / "rclone-mount.log"
    cmd = rclone.args("mount", f"{REMOTE}:{bucket}", str(mnt), "--vfs-cache-mode", "writes",
                      "--vfs-write-back", "1s", "--dir-cache-time", "2s",
                      "--log-file", str(log), "-v")
    proc = subprocess.Popen(cmd, env=rclone.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)

    def logtext():
        return log.read_text(errors="replace") if log.exists() else "(no log)"

    def logtail():
        return logtext()[-4000:]

    try:
        if not wait_for(lambda: os.path.ismount(mnt) or proc.poll() is not None, 20):
            pytest.fail(f"rclone mount did not come up in 20 s\n{logtail()}")
        if proc.poll() is not None:
            reason = logtail()
            if any(m in reason for m in ("failed to mount FUSE fs", "fusermount: ", "/dev/fuse")):
                pytest.skip(f"rclone mount cannot mount FUSE here: {reason[-500:]}")
            pytest.fail(f"rclone mount exited {proc.returncode}\n{reason}")

        # Read an object through the mount.
        assert sha256_file(mnt / "pre" / "existing.bin") == sha256_bytes(existing)

        # Write through the mount; it is uploaded after close (write-back 1 s).
        written = os.urandom(3 * 1024 * 1024 + 7)
        (mnt / "new").mkdir()
        with open(mnt / "new" / "written.bin", "wb") as f:
            f.write(written)
            f.flush()
            os.fsync(f.fileno())

        def uploaded(key, size):
            try:
                return admin.head_object(Bucket=bucket, Key=key)["ContentLength"] == size
            except ClientError:
                return False

        assert wait_for(lambda: uploaded("new/written.bin", len(written)), 30), \
            f"written file never reached the bucket\n{logtail()}"
        # The object is in the bucket once the PUT returns, but rclone's
        # upload ends only after its HEAD of the result: a rename before
        # that cancels the upload, rclone then believes the source never
        # reached the bucket and leaves it there (its race, not the
        # server's). So wait for rclone to log the upload as done.
        assert wait_for(lambda: "new/written.bin: vfs cache: upload succeeded" in logtext(), 30), \
            f"rclone never finished the upload\n{logtail()}"

        # Rename = server-side copy, then delete of the source: rclone
        # does them one after the other, so the listing is checked once the
        # source is gone from the bucket (a listing between the two shows
        # both, once the 2 s directory cache expires).
        os.rename(mnt / "new" / "written.bin", mnt / "new" / "renamed.bin")
        assert wait_for(lambda: uploaded("new/renamed.bin", len(written)), 30), logtail()
        assert wait_for(lambda: not uploaded("new/written.bin", len(written)), 30), logtail()
        assert wait_for(lambda: sorted(os.listdir(mnt / "new")) == ["renamed.bin"], 10), \
            f"{sorted(os.listdir(mnt / 'new'))}\n{logtail()}"
    finally:
        if os.path.ismount(mnt):
            subprocess.run([fusermount, "-u", str(mnt)], timeout=30,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.wait(timeout=10)
        if os.path.ismount(mnt):
            subprocess.run([fusermount, "-uz", str(mnt)], timeout=30)

    # Read back outside the mount, with boto3 and with rclone.
    keys = sorted(o["Key"] for o in admin.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert keys == ["new/renamed.bin", "pre/existing.bin"], f"{keys}\n{logtail()}"
    body = admin.get_object(Bucket=bucket, Key="new/renamed.bin")["Body"].read()
    assert sha256_bytes(body) == sha256_bytes(written)
    out = tmp_path / "back.bin"
    rclone("copyto", f"{REMOTE}:{bucket}/new/renamed.bin", str(out))
    assert sha256_file(out) == sha256_bytes(written)
