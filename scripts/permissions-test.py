#!/usr/bin/env python3
"""Access keys, grants and bucket policies (issue 17) with real clients:
keys made and granted with the real `s3gw admin` CLI, used with boto3,
anonymous requests with plain HTTP. The test command runs it against the
embedded gateway and through Nginx on the 3-gateway cluster.

usage: permissions-test.py --endpoint URL [--other URL ...] [--bin PATH]

  --endpoint  where everything goes (the cluster: Nginx)
  --other     a gateway's own S3 address: a change made through --endpoint
              must hold there within the documented bound (5 s at most)
  --bin       the s3gw binary (default target/release/s3gw)

The root pair comes from S3GW_ROOT_ACCESS_KEY / S3GW_ROOT_SECRET_KEY.
Checks, in order: two applications with separate buckets and ListBuckets
filtering; read-only and read-write grants on one bucket; copies across
buckets with and without read on the source; presigned URLs limited to
their key; public read through a bucket policy and anonymous denied
without it; a grant taken back and a key deleted, seen on every --other
gateway within the bound; a key deleted while it uploads. Everything it
made is removed at the end, also when a check fails. Exit 0 when all
pass."""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid

from s3gw_common import ROOT, Failed, env_credentials, http, logger, s3_client

log = logger("permissions")
BOUND_S = 5.0


def cli(args, endpoint, root, *command):
    """stdout of `s3gw admin COMMAND` run as the root pair; Failed with its
    stderr when it exits non-zero."""
    env = dict(os.environ, S3GW_ENDPOINT=endpoint, AWS_ACCESS_KEY_ID=root[0],
               AWS_SECRET_ACCESS_KEY=root[1])
    p = subprocess.run([args.bin, "admin", *command], env=env, capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        raise Failed(f"s3gw admin {' '.join(command)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def error_code(call):
    """The S3 error code call() fails with, or None when it succeeds."""
    from botocore.exceptions import ClientError
    try:
        call()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


def expect(what, got, want):
    if got != want:
        raise Failed(f"{what}: got {got!r}, want {want!r}")
    log(f"ok: {what} -> {want}")


class Run:
    def __init__(self, args):
        self.args = args
        self.root = env_credentials()
        self.tag = uuid.uuid4().hex[:8]
        self.keys = {}      # name -> (id, secret)
        self.buckets = []

    def admin(self, *command):
        return cli(self.args, self.args.endpoint, self.root, *command)

    def key(self, name, *flags):
        made = json.loads(self.admin("key", "create", f"{name}-{self.tag}", *flags, "--json"))
        self.keys[name] = (made["access_key_id"], made["secret_access_key"])
        return self.keys[name]

    def s3(self, name, endpoint=None):
        return s3_client(endpoint or self.args.endpoint, self.keys[name], signature_version="s3v4",
                         retries={"max_attempts": 1}, connect_timeout=5, read_timeout=20)

    def bucket(self, client, name):
        b = f"perm-{name}-{self.tag}"
        client.create_bucket(Bucket=b)
        self.buckets.append(b)
        return b

    def cleanup(self):
        root = s3_client(self.args.endpoint, self.root)
        for b in self.buckets:
            try:
                root.delete_bucket_policy(Bucket=b)
                for page in root.get_paginator("list_objects_v2").paginate(Bucket=b):
                    for o in page.get("Contents", []):
                        root.delete_object(Bucket=b, Key=o["Key"])
                root.delete_bucket(Bucket=b)
            except Exception as e:  # noqa: BLE001 - clean what can be cleaned
                log(f"cleanup: bucket {b}: {e}")
        for name, (kid, _) in self.keys.items():
            try:
                self.admin("key", "delete", kid)
            except Failed:
                pass  # deleted by a check already


def anonymous(url, method="GET"):
    status, _, body = http(method, url, body=b"" if method in ("PUT", "POST") else None)
    return status, body


def applications(r):
    """Two applications, each with its own bucket, see and use only it."""
    r.key("app-a", "--create-bucket")
    r.key("app-b", "--create-bucket")
    a, b = r.s3("app-a"), r.s3("app-b")
    ba, bb = r.bucket(a, "a"), r.bucket(b, "b")
    a.put_object(Bucket=ba, Key="doc.txt", Body=b"from a")
    a.put_object(Bucket=ba, Key="pub/page.html", Body=b"<p>public</p>")
    b.put_object(Bucket=bb, Key="doc.txt", Body=b"from b")
    seen = lambda c: {x["Name"] for x in c.list_buckets()["Buckets"]}
    expect("ListBuckets of app-a", (ba in seen(a), bb in seen(a)), (True, False))
    expect("ListBuckets of app-b", (bb in seen(b), ba in seen(b)), (True, False))
    expect("app-a reads app-b's object", error_code(lambda: a.get_object(Bucket=bb, Key="doc.txt")),
           "AccessDenied")
    expect("app-a writes into app-b's bucket",
           error_code(lambda: a.put_object(Bucket=bb, Key="x", Body=b"x")), "AccessDenied")
    expect("app-a deletes app-b's bucket", error_code(lambda: a.delete_bucket(Bucket=bb)),
           "AccessDenied")
    return ba, bb


def grants(r, ba):
    """Read-only and read-write grants on one bucket."""
    ro_id, _ = r.key("reader")
    rw_id, _ = r.key("writer")
    ro, rw = r.s3("reader"), r.s3("writer")
    expect("reader before any grant", error_code(lambda: ro.get_object(Bucket=ba, Key="doc.txt")),
           "AccessDenied")
    r.admin("bucket", "allow", ba, "--key", ro_id, "--read")
    r.admin("bucket", "allow", ba, "--key", rw_id, "--read", "--write")
    expect("reader GET", ro.get_object(Bucket=ba, Key="doc.txt")["Body"].read(), b"from a")
    expect("reader lists", [o["Key"] for o in ro.list_objects_v2(Bucket=ba)["Contents"]],
           ["doc.txt", "pub/page.html"])
    expect("reader ListBuckets", [x["Name"] for x in ro.list_buckets()["Buckets"]], [ba])
    expect("reader PUT", error_code(lambda: ro.put_object(Bucket=ba, Key="r", Body=b"r")),
           "AccessDenied")
    expect("reader DELETE", error_code(lambda: ro.delete_object(Bucket=ba, Key="doc.txt")),
           "AccessDenied")
    expect("reader puts a policy", error_code(lambda: ro.put_bucket_policy(
        Bucket=ba, Policy=public_policy(ba))), "AccessDenied")
    expect("writer PUT", error_code(lambda: rw.put_object(Bucket=ba, Key="w", Body=b"w")), None)
    expect("writer DELETE", error_code(lambda: rw.delete_object(Bucket=ba, Key="w")), None)
    expect("writer deletes the bucket", error_code(lambda: rw.delete_bucket(Bucket=ba)),
           "AccessDenied")
    info = json.loads(r.admin("bucket", "info", ba, "--json"))
    held = {g["access_key_id"]: (g["read"], g["write"], g["owner"]) for g in info["grants"]}
    expect("bucket info: the reader's grant", held.get(ro_id), (True, False, False))
    expect("bucket info: the writer's grant", held.get(rw_id), (True, True, False))
    return ro_id


def copies(r, ba, bb):
    """A copy needs read on its source and write on its destination."""
    b = r.s3("app-b")
    src = {"Bucket": ba, "Key": "doc.txt"}
    expect("app-b copies from app-a's bucket without read",
           error_code(lambda: b.copy_object(Bucket=bb, Key="copy.txt", CopySource=src)),
           "AccessDenied")
    b_id = r.keys["app-b"][0]
    r.admin("bucket", "allow", ba, "--key", b_id, "--read")
    expect("app-b copies with read on the source",
           error_code(lambda: b.copy_object(Bucket=bb, Key="copy.txt", CopySource=src)), None)
    expect("the copy", b.get_object(Bucket=bb, Key="copy.txt")["Body"].read(), b"from a")
    expect("app-b copies into app-a's bucket (read only there)",
           error_code(lambda: b.copy_object(Bucket=ba, Key="back.txt",
                                            CopySource={"Bucket": bb, "Key": "doc.txt"})),
           "AccessDenied")


def presigned(r, ba, bb):
    """A presigned URL carries its key's permissions, no more."""
    ro = r.s3("reader")
    url = lambda method, b, k: ro.generate_presigned_url(
        method, Params={"Bucket": b, "Key": k}, ExpiresIn=300)
    expect("reader's presigned GET in its bucket",
           anonymous(url("get_object", ba, "doc.txt")), (200, b"from a"))
    expect("reader's presigned GET elsewhere", anonymous(url("get_object", bb, "doc.txt"))[0], 403)
    expect("reader's presigned PUT", anonymous(url("put_object", ba, "p.txt"), "PUT")[0], 403)


def public_policy(bucket, prefix="pub/"):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/{prefix}*"}]})


def policies(r, ba):
    """Public read through a policy; anonymous denied without it."""
    a = r.s3("app-a")
    page = f"{r.args.endpoint}/{ba}/pub/page.html"
    expect("anonymous GET without a policy", anonymous(page)[0], 403)
    a.put_bucket_policy(Bucket=ba, Policy=public_policy(ba))
    expect("GetBucketPolicy", a.get_bucket_policy(Bucket=ba)["Policy"], public_policy(ba))
    expect("GetBucketPolicyStatus", a.get_bucket_policy_status(Bucket=ba)["PolicyStatus"],
           {"IsPublic": True})
    expect("anonymous GET under pub/", anonymous(page), (200, b"<p>public</p>"))
    for other in (f"/{ba}/doc.txt", f"/{ba}", "/"):
        expect(f"anonymous GET {other}", anonymous(r.args.endpoint + other)[0], 403)
    expect("anonymous PUT under pub/", anonymous(page, "PUT")[0], 403)
    expect("anonymous DELETE under pub/", anonymous(page, "DELETE")[0], 403)
    for url in r.args.other:
        expect(f"anonymous GET on {url}", anonymous(f"{url}/{ba}/pub/page.html")[0], 200)
    info = json.loads(r.admin("bucket", "info", ba, "--json"))
    expect("bucket info shows the policy", info["policy"], json.loads(public_policy(ba)))
    bad = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{ba}/*"}]})
    expect("a Deny statement", error_code(lambda: a.put_bucket_policy(Bucket=ba, Policy=bad)),
           "MalformedPolicy")
    a.delete_bucket_policy(Bucket=ba)
    expect("anonymous GET after DeleteBucketPolicy", anonymous(page)[0], 403)


def wait_for(what, check):
    """Seconds until check() is true, polled every 50 ms; Failed past the
    bound (plus a poll's slack)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > BOUND_S:
            raise Failed(f"{what}: not seen within {BOUND_S} s")
        time.sleep(0.05)
    took = time.monotonic() - start
    log(f"ok: {what} after {took * 1000:.0f} ms (bound {BOUND_S:.0f} s)")
    return took


def across_gateways(r, ba, ro_id):
    """A grant taken back and a key deleted through --endpoint hold on
    every other gateway within the bound."""
    r.admin("bucket", "deny", ba, "--key", ro_id, "--read")
    for url in r.args.other:
        ro = r.s3("reader", url)
        wait_for(f"revoked read seen on {url}", lambda: error_code(
            lambda: ro.get_object(Bucket=ba, Key="doc.txt")) == "AccessDenied")
    r.admin("key", "delete", ro_id)
    for url in [r.args.endpoint, *r.args.other]:
        ro = r.s3("reader", url)
        wait_for(f"deleted key refused on {url}",
                 lambda: error_code(lambda: ro.list_buckets()) == "InvalidAccessKeyId")


def deleted_while_uploading(r, ba):
    """A key deleted while it writes: its next requests fail within the
    bound, and what it wrote before stays readable. Deleting a key first
    drops its grants, so a gateway may answer AccessDenied before it
    learns the key is gone (InvalidAccessKeyId); both are refusals, and
    neither may come before the deletion started."""
    rw = r.s3("writer")
    rw_id = r.keys["writer"][0]
    stop, codes, written = threading.Event(), [], []

    def upload():
        i = 0
        while not stop.is_set() and i < 2000:
            code = error_code(lambda: rw.put_object(Bucket=ba, Key=f"loop/{i}", Body=b"x" * 1000))
            codes.append((time.monotonic(), code))
            if code is None:
                written.append(f"loop/{i}")
            if code == "InvalidAccessKeyId":
                return
            i += 1

    t = threading.Thread(target=upload)
    t.start()
    time.sleep(0.5)
    asked = time.monotonic()
    r.admin("key", "delete", rw_id)
    deleted = time.monotonic()
    t.join(timeout=BOUND_S + 10)
    stop.set()
    t.join()
    refusals = ("AccessDenied", "InvalidAccessKeyId")
    early = [code for at, code in codes if code is not None and at < asked]
    if early:
        raise Failed(f"the writer was refused before its key was deleted: {early}")
    gone = [at for at, code in codes if code == "InvalidAccessKeyId"]
    if not gone:
        raise Failed(f"the deleted key kept working: {len(codes)} requests, last {codes[-1:]}")
    first = min(at for at, code in codes if code in refusals)
    log(f"ok: writer deleted while uploading; refused {max(first - deleted, 0) * 1000:.0f} ms "
        f"and unknown {(gone[0] - deleted) * 1000:.0f} ms after the deletion returned, "
        f"{len(written)} objects written before")
    if gone[0] - deleted > BOUND_S:
        raise Failed(f"the deleted key was refused only after {gone[0] - deleted:.1f} s")
    others = {code for _, code in codes} - {None, *refusals}
    if others:
        raise Failed(f"unexpected errors while uploading: {others}")
    a = r.s3("app-a")
    body = a.get_object(Bucket=ba, Key=written[-1])["Body"].read()
    expect("the last object written before the deletion is whole", body == b"x" * 1000, True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--other", action="append", default=[])
    p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "s3gw"))
    args = p.parse_args()
    r = Run(args)
    started = time.monotonic()
    try:
        ba, bb = applications(r)
        ro_id = grants(r, ba)
        copies(r, ba, bb)
        presigned(r, ba, bb)
        policies(r, ba)
        across_gateways(r, ba, ro_id)
        deleted_while_uploading(r, ba)
    except Failed as e:
        log(f"FAILED: {e}")
        return 1
    finally:
        r.cleanup()
    log(f"all passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
