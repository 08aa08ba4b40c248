#!/usr/bin/env python3
"""Fault tests on the cluster of `scripts/cluster up` (3 Cassandra nodes with
replication factor 3, gateways on 127.0.0.1:9001-9003, Nginx on 8080).

    .venv/bin/python scripts/fault-cluster.py [--docker] [--quick] [SCENARIO ...]

Scenarios (all five, in this order, when none is named):
  cassandra  A mixed boto3 workload through Nginx; kill -9 Cassandra node 2
             in the middle of it; every acknowledged object must read back
             with its SHA-256 and no operation may fail after the client's
             retries. Node 2 is restarted (scripts/cluster up), and once it
             has rejoined the same runs again while node 1 is killed.
  gateway    The same workload; kill -9 gateway 2 in the middle of it. Nginx
             fails over; no acknowledged byte is lost and no object is ever
             partially visible. The gateway is restarted and must serve.
  multipart  One multipart upload whose three parts go to the three gateways
             directly, completed through Nginx and read back from each.
  large-put  kill -9 a gateway in the middle of a large PUT streamed to it:
             the key shows the old object (or nothing, for a new key), never
             a prefix of the new body, before and after the restart.
  quorum     kill -9 two of the three Cassandra nodes: GET, PUT and LIST
             through Nginx get a prompt S3 503 ServiceUnavailable, each
             gateway reports not ready; after the restart the same bytes are
             served again.

With --docker, the same workload runs against the compose stack of
`scripts/docker-stack up` (Nginx on 127.0.0.1:8080): `cassandra` kills
container cassandra2, then cassandra1, `gateway` kills container gw2 (docker
kill -s KILL), and each is started again with `docker start` and waited for
until healthy. Only those two scenarios run there; the others need the
gateways' process ids and ports of scripts/cluster.

With --quick, `cassandra` kills node 2 only (one round, not two): the
profile of scripts/docker-test that the test command runs.

Every wait and every workload is bounded in time. Processes are killed by
the PIDs that scripts/cluster and scripts/cassandra recorded, after checking
that each PID is the expected process; everything killed is started again
with `scripts/cluster up`, which restarts only what is missing. Prints, per
scenario, the operations run, retried and failed and the objects verified;
exits non-zero on any failed operation or mismatch.
Credentials: S3GW_ROOT_ACCESS_KEY / S3GW_ROOT_SECRET_KEY, else the cluster's
credentials file.
"""
import hashlib
import http.client
import io
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

import docker_stack
from cluster_procs import GATEWAYS, cassandra_pid, cluster_credentials, cluster_up, gateway_pid, kill9
from s3gw_common import Failed, delete_bucket, http_status, logger, s3_client

NGINX = "http://127.0.0.1:8080"
MiB = 1024 * 1024

WORKERS = 4
KEYS_PER_WORKER = 12
RUN_SECONDS = 20.0       # workload length per round
KILL_AFTER = 6.0         # seconds into the round
# (size, weight): small to multi-chunk single PUTs; multipart is separate.
PUT_SIZES = [(0, 1), (1024, 3), (64 * 1024, 3), (MiB + 17, 3), (3 * MiB + 5, 2)]
MULTIPART_SIZES = (6 * MiB + 3, 11 * MiB)
TRANSFER = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                          max_concurrency=2, use_threads=True)
GET_BODY_ATTEMPTS = 5    # a body cut mid-stream is read again, as s3transfer does
# Without a quorum a request waits at most for Cassandra's 5 s read timeout
# (a 10 s statement timeout at the gateway) at each gateway Nginx tries, and
# no new try starts after proxy_next_upstream_timeout (20 s): at most ~30 s.
QUORUM_LOSS_LIMIT = 35.0
RECOVERY_LIMIT = 30.0
RECENT_WRITES = 20

log = logger("fault-cluster")


class Processes:
    """The cluster of scripts/cluster: processes killed by their checked PIDs."""

    def kill_cassandra(self, node):
        kill9(cassandra_pid(node), f"Cassandra node {node}", log)

    def kill_gateway(self, n):
        kill9(gateway_pid(n), f"gateway {n}", log)

    def restore(self):
        return cluster_up()

    def cassandra_back(self, node):
        return cassandra_pid(node) is not None

    def gateway_url(self, n):
        return f"http://127.0.0.1:{GATEWAYS[n]}"


class Containers:
    """The compose stack of scripts/docker-stack: containers killed by id."""

    def kill_cassandra(self, node):
        docker_stack.kill(f"cassandra{node}", log)

    def kill_gateway(self, n):
        docker_stack.kill(f"gw{n}", log)

    def restore(self):
        return docker_stack.stack_up()

    def cassandra_back(self, node):
        return docker_stack.state(docker_stack.container(f"cassandra{node}"))[1] == "healthy"

    def gateway_url(self, n):
        return docker_stack.GATEWAY_URLS[n]


TOPOLOGY = Processes()


class Counted:
    """A boto3 client whose API calls and HTTP attempts are counted."""

    def __init__(self, endpoint, max_attempts=10):
        self.client = s3_client(endpoint, cluster_credentials(),
                                retries={"max_attempts": max_attempts, "mode": "standard"},
                                connect_timeout=5, read_timeout=60, max_pool_connections=8,
                                signature_version="s3v4")
        self.lock = threading.Lock()
        self.calls = 0
        self.attempts = 0
        events = self.client.meta.events
        events.register("before-call.s3", self._on_call)
        events.register("before-send.s3", self._on_send)

    def _on_call(self, **_):
        with self.lock:
            self.calls += 1

    def _on_send(self, **_):
        with self.lock:
            self.attempts += 1

    def snapshot(self):
        with self.lock:
            return self.calls, self.attempts


# ------------------------------------------------------------ readiness

def ready(base):
    """The status of GET base/_s3gw/ready, or None when nothing answers."""
    return http_status(f"{base}/_s3gw/ready", timeout=10)


# ------------------------------------------------------------ workload

def sha(data):
    return hashlib.sha256(data).hexdigest()


def status_of(err):
    return err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def read_object(counted, bucket, key, on_reread=None):
    """(sha256 of the body, or None on 404). A body cut off mid-stream (a
    gateway killed while it streamed) is requested again, like s3transfer
    does; on_reread() is called for each such re-read."""
    for attempt in range(GET_BODY_ATTEMPTS):
        try:
            obj = counted.client.get_object(Bucket=bucket, Key=key)
        except ClientError as e:
            if e.response["Error"].get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        try:
            body = obj["Body"].read()
        except (BotoCoreError, OSError) as e:
            if attempt + 1 == GET_BODY_ATTEMPTS:
                raise
            if on_reread is not None:
                on_reread()
            log(f"GET {key}: body cut after headers ({type(e).__name__}); reading again")
            continue
        if len(body) != obj["ContentLength"]:
            raise Failed(f"GET {key}: {len(body)} bytes, Content-Length {obj['ContentLength']}")
        return sha(body)
    raise Failed("unreachable")


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = {}
        self.retried = 0
        self.failed = []
        self.after_kill = 0

    def record(self, kind, retried, error=None, after_kill=False):
        with self.lock:
            self.ops[kind] = self.ops.get(kind, 0) + 1
            self.retried += bool(retried)
            self.after_kill += after_kill
            if error is not None:
                self.failed.append(f"{kind}: {error}")

    def problem(self, message):
        """A wrong answer to an operation already counted."""
        with self.lock:
            self.failed.append(message)


class Worker(threading.Thread):
    """Owns the keys w<idx>/k<n> of one bucket; knows, for each key, the set
    of states it may be in: the SHA-256 of an acknowledged body, or None for
    absent; an operation that failed even after retries adds its outcome as
    possible rather than replacing the state."""

    def __init__(self, idx, bucket, expected, tally, stop, kill_time, seed):
        super().__init__(name=f"worker{idx}", daemon=True)
        self.idx = idx
        self.bucket = bucket
        self.expected = expected  # shared dict key -> set, each key owned by one worker
        self.tally = tally
        self.stop = stop
        self.kill_time = kill_time
        self.rng = random.Random(seed)
        self.counted = Counted(NGINX)
        self.rereads = 0
        self.error = None

    def keys(self):
        return [f"w{self.idx}/k{n:02d}" for n in range(KEYS_PER_WORKER)]

    def run(self):
        try:
            while not self.stop.is_set():
                self.step()
        except Exception as e:  # a bug in the test itself: report, do not hang
            self.error = f"{type(e).__name__}: {e}"
            self.stop.set()

    def present(self):
        return [k for k in self.keys() if self.expected.get(k, {None}) != {None}]

    def step(self):
        roll = self.rng.random()
        key = self.rng.choice(self.keys())
        if roll < 0.30:
            size = self.rng.choices([s for s, _ in PUT_SIZES], [w for _, w in PUT_SIZES])[0]
            self.put(key, size, multipart=False)
        elif roll < 0.40:
            self.put(key, self.rng.choice(MULTIPART_SIZES), multipart=True)
        elif roll < 0.70:
            keys = self.present()
            self.get(self.rng.choice(keys) if keys else key)
        elif roll < 0.80:
            self.list()
        else:
            self.delete(key)

    def op(self, kind, fn):
        """Runs fn; records the op, whether it needed a retry and whether it
        failed for good. Returns (ok, result)."""
        calls0, attempts0 = self.counted.snapshot()
        rereads0 = self.rereads
        after_kill = self.kill_time() is not None
        try:
            result = fn()
            error = None
        except (ClientError, BotoCoreError, OSError, Failed) as e:
            result, error = None, f"{type(e).__name__}: {e}"
        calls1, attempts1 = self.counted.snapshot()
        retried = (attempts1 - attempts0) > (calls1 - calls0) or self.rereads != rereads0
        self.tally.record(kind, retried, error, after_kill)
        return error is None, result

    def put(self, key, size, multipart):
        body = os.urandom(size)
        digest = sha(body)
        if multipart:
            ok, _ = self.op("multipart-put", lambda: self.counted.client.upload_fileobj(
                io.BytesIO(body), self.bucket, key, Config=TRANSFER))
        else:
            ok, _ = self.op("put", lambda: self.counted.client.put_object(
                Bucket=self.bucket, Key=key, Body=body))
        if ok:
            self.expected[key] = {digest}
        else:
            self.expected.setdefault(key, {None}).add(digest)

    def get(self, key):
        ok, got = self.op("get", lambda: read_object(self.counted, self.bucket, key, self.reread))
        if ok and got not in self.expected.get(key, {None}):
            self.tally.problem(
                f"GET {key}: sha256 {got} is none of the acknowledged states {self.expected.get(key)}")

    def reread(self):
        self.rereads += 1

    def list(self):
        def walk():
            keys = set()
            for page in self.counted.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=f"w{self.idx}/"):
                keys.update(o["Key"] for o in page.get("Contents", []))
            return keys
        ok, listed = self.op("list", walk)
        if not ok:
            return
        for key in self.keys():
            states = self.expected.get(key, {None})
            if states == {None} and key in listed:
                self.tally.problem(f"LIST shows deleted {key}")
            elif None not in states and key not in listed:
                self.tally.problem(f"LIST misses acknowledged {key}")

    def delete(self, key):
        ok, _ = self.op("delete", lambda: self.counted.client.delete_object(
            Bucket=self.bucket, Key=key))
        if ok:
            self.expected[key] = {None}
        else:
            self.expected.setdefault(key, {None}).add(None)


def workload(bucket, expected, label, kill, seed):
    """Runs WORKERS workers through Nginx for RUN_SECONDS, calling kill()
    KILL_AFTER seconds in. Returns the tally."""
    tally = Tally()
    stop = threading.Event()
    killed_at = []
    workers = [Worker(i, bucket, expected, tally, stop, lambda: killed_at[0] if killed_at else None,
                      seed * 100 + i) for i in range(WORKERS)]
    started = time.monotonic()
    for w in workers:
        w.start()
    stop.wait(KILL_AFTER)
    try:
        if not stop.is_set():
            kill()
            killed_at.append(time.monotonic())
        stop.wait(max(0.0, RUN_SECONDS - (time.monotonic() - started)))
    finally:
        stop.set()
    for w in workers:
        w.join(timeout=180)
        if w.is_alive():
            raise Failed(f"{label}: {w.name} did not finish within 180 s of the stop")
        if w.error:
            raise Failed(f"{label}: {w.name} crashed: {w.error}")
    calls = sum(w.counted.snapshot()[0] for w in workers)
    attempts = sum(w.counted.snapshot()[1] for w in workers)
    ops = sum(tally.ops.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(tally.ops.items()))
    log(f"{label}: {ops} operations ({detail}) in {time.monotonic() - started:.1f} s, "
        f"{tally.after_kill} of them after the kill; {calls} API calls, {attempts} HTTP attempts; "
        f"retried {tally.retried} ({sum(w.rereads for w in workers)} body re-reads), "
        f"failed {len(tally.failed)}")
    if tally.after_kill == 0:
        raise Failed(f"{label}: no operation ran after the kill")
    for f in tally.failed[:20]:
        log(f"  failed: {f}")
    return tally


def verify_all(counted, bucket, expected, label):
    """Reads every key back through Nginx and lists the bucket: each key must
    be in one of its possible states. Returns the number of objects whose
    bytes were verified."""
    verified = 0
    problems = []
    for key, states in sorted(expected.items()):
        got = read_object(counted, bucket, key)
        if got not in states:
            problems.append(f"{key}: sha256 {got}, expected one of {states}")
        elif got is not None:
            verified += 1
    listed = set()
    for page in counted.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        listed.update(o["Key"] for o in page.get("Contents", []))
    for key, states in expected.items():
        if states == {None} and key in listed:
            problems.append(f"{key}: deleted but listed")
        if None not in states and key not in listed:
            problems.append(f"{key}: acknowledged but not listed")
    uncertain = sum(1 for s in expected.values() if len(s) > 1)
    log(f"{label}: verified {verified} objects by SHA-256 and the listing of {len(expected)} keys "
        f"({uncertain} keys had an unacknowledged write)")
    if problems:
        for p in problems[:20]:
            log(f"  mismatch: {p}")
        raise Failed(f"{label}: {len(problems)} keys do not match what was acknowledged")
    return verified


def empty_bucket(counted, bucket):
    delete_bucket(counted.client, bucket, uploads=True)


def new_bucket(counted, name):
    bucket = f"fault-{name}-{os.getpid()}-{int(time.time())}"
    counted.client.create_bucket(Bucket=bucket)
    return bucket


def check_no_failures(tally, label):
    if tally.failed:
        raise Failed(f"{label}: {len(tally.failed)} operations failed after the client's retries")


# ------------------------------------------------------------ scenarios

def scenario_cassandra():
    counted = Counted(NGINX)
    bucket = new_bucket(counted, "cassandra")
    expected = {}
    for round_no, node in enumerate(CASSANDRA_KILLS, start=1):
        label = f"(a) Cassandra node {node} killed"
        tally = workload(bucket, expected, label, lambda: TOPOLOGY.kill_cassandra(node), seed=round_no)
        check_no_failures(tally, label)
        verify_all(counted, bucket, expected, f"{label}, node down")
        took = TOPOLOGY.restore()
        if not TOPOLOGY.cassandra_back(node):
            raise Failed(f"Cassandra node {node} did not come back")
        log(f"Cassandra node {node} restarted and the cluster ready again in {took:.1f} s")
        verify_all(counted, bucket, expected, f"{label}, after node {node} rejoined")
    empty_bucket(counted, bucket)


def scenario_gateway():
    counted = Counted(NGINX)
    bucket = new_bucket(counted, "gateway")
    expected = {}
    label = "(b) gateway 2 killed"
    tally = workload(bucket, expected, label, lambda: TOPOLOGY.kill_gateway(2), seed=7)
    check_no_failures(tally, label)
    verify_all(counted, bucket, expected, f"{label}, gateway down")
    took = TOPOLOGY.restore()
    if ready(TOPOLOGY.gateway_url(2)) != 200:
        raise Failed("gateway 2 is not ready after the restart")
    log(f"gateway 2 restarted and ready in {took:.1f} s")
    direct = Counted(TOPOLOGY.gateway_url(2), max_attempts=1)
    body = os.urandom(2 * MiB + 1)
    direct.client.put_object(Bucket=bucket, Key="after-restart", Body=body)
    expected["after-restart"] = {sha(body)}
    verify_all(direct, bucket, expected, f"{label}, read through the restarted gateway")
    empty_bucket(counted, bucket)


def scenario_multipart():
    via_nginx = Counted(NGINX, max_attempts=3)
    bucket = new_bucket(via_nginx, "multipart")
    key = "spread/over/three/gateways"
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 7), os.urandom(1234)]
    upload = via_nginx.client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for number, (gw, port) in enumerate(sorted(GATEWAYS.items()), start=1):
        direct = Counted(f"http://127.0.0.1:{port}", max_attempts=1)
        etag = direct.client.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                         PartNumber=number, Body=parts[number - 1])["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
        log(f"(c) part {number} ({len(parts[number - 1])} bytes) uploaded to gateway {gw}")
    listed = via_nginx.client.list_parts(Bucket=bucket, Key=key, UploadId=upload)["Parts"]
    if [(p["PartNumber"], p["ETag"]) for p in listed] != [(p["PartNumber"], p["ETag"]) for p in done]:
        raise Failed(f"(c) ListParts through Nginx shows {listed}")
    via_nginx.client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                               MultipartUpload={"Parts": done})
    want = sha(b"".join(parts))
    readers = [("nginx", via_nginx)] + [
        (f"gateway {gw}", Counted(f"http://127.0.0.1:{port}", max_attempts=1))
        for gw, port in sorted(GATEWAYS.items())]
    for name, reader in readers:
        if read_object(reader, bucket, key) != want:
            raise Failed(f"(c) the object read through {name} differs")
    log(f"(c) completed through Nginx; the {sum(map(len, parts))}-byte object verified by SHA-256 "
        f"through Nginx and each of the 3 gateways: 1 multipart upload, 3 parts, 0 failed")
    empty_bucket(via_nginx, bucket)


def stream_and_kill(bucket, key, gw, size, sent_before_kill):
    """PUTs `size` bytes to gateway gw with a presigned URL (UNSIGNED-PAYLOAD,
    fixed Content-Length), stops after sent_before_kill bytes, lets the
    gateway store what it has, and kills it with -9 mid-body."""
    port = GATEWAYS[gw]
    signer = Counted(f"http://127.0.0.1:{port}", max_attempts=1)
    url = signer.client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key},
                                               ExpiresIn=600)
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("PUT", f"{parsed.path}?{parsed.query}", skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", parsed.netloc)
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    block = os.urandom(MiB)
    sent = 0
    while sent < sent_before_kill:
        conn.send(block)
        sent += len(block)
    time.sleep(1.5)  # the gateway writes the chunks it has received
    kill9(gateway_pid(gw), f"gateway {gw}, {sent // MiB} MiB into a {size // MiB} MiB PUT", log)
    conn.close()


def scenario_large_put():
    via_nginx = Counted(NGINX, max_attempts=3)
    bucket = new_bucket(via_nginx, "largeput")
    old = os.urandom(4 * MiB + 11)
    via_nginx.client.put_object(Bucket=bucket, Key="replaced", Body=old)
    expected = {"replaced": {sha(old)}, "fresh": {None}}
    for n, (key, gw) in enumerate((("replaced", 3), ("fresh", 1))):
        stream_and_kill(bucket, key, gw, size=256 * MiB, sent_before_kill=(48 + 16 * n) * MiB)
        verify_all(via_nginx, bucket, expected, f"(d) after the kill of gateway {gw} during a PUT of '{key}'")
        took = cluster_up()
        log(f"(d) gateway {gw} restarted in {took:.1f} s")
        direct = Counted(f"http://127.0.0.1:{GATEWAYS[gw]}", max_attempts=1)
        verify_all(direct, bucket, expected, f"(d) through the restarted gateway {gw}")
        head = via_nginx.client.head_object(Bucket=bucket, Key="replaced")
        if head["ContentLength"] != len(old):
            raise Failed(f"(d) HEAD shows {head['ContentLength']} bytes, the old object has {len(old)}")
    log("(d) 2 large PUTs cut by kill -9: the replaced key kept its old object, the new key stayed "
        "absent, before and after the restart")
    empty_bucket(via_nginx, bucket)


def scenario_quorum():
    """Two of three Cassandra nodes killed: no quorum, so nothing can be
    served; clients must get a prompt, parseable, retryable S3 503 through
    Nginx (never a hang or an HTML page), and the cluster must serve the
    same bytes again soon after the nodes return."""
    counted = Counted(NGINX, max_attempts=1)
    bucket = new_bucket(counted, "quorum")
    body = os.urandom(2 * MiB + 3)
    counted.client.put_object(Bucket=bucket, Key="kept", Body=body)
    # Acknowledged writes right before the kill: a node that acknowledges
    # before its commitlog is durable (Cassandra's default `periodic`) comes
    # back without the last ones, and a quorum read then misses them.
    recent = {f"recent-{i:02d}": os.urandom(1000 + i) for i in range(RECENT_WRITES)}
    for key, data in recent.items():
        counted.client.put_object(Bucket=bucket, Key=key, Body=data)
    for node in (2, 3):
        kill9(cassandra_pid(node), f"Cassandra node {node}", log)
    ops = {
        "GET": lambda: read_object(counted, bucket, "kept"),
        "PUT": lambda: counted.client.put_object(Bucket=bucket, Key="new", Body=b"x" * 100_000),
        "LIST": lambda: counted.client.list_objects_v2(Bucket=bucket),
        "GET again": lambda: read_object(counted, bucket, "kept"),
    }
    for name, op in ops.items():
        started = time.monotonic()
        try:
            op()
            raise Failed(f"(e) {name} succeeded without a Cassandra quorum")
        except ClientError as e:
            took = time.monotonic() - started
            code = e.response["Error"].get("Code")
            log(f"(e) {name} without quorum: {status_of(e)} {code} after {took:.2f} s")
            if status_of(e) != 503 or code != "ServiceUnavailable":
                raise Failed(f"(e) {name}: expected 503 ServiceUnavailable, got {status_of(e)} {code}")
            if took > QUORUM_LOSS_LIMIT:
                raise Failed(f"(e) {name} took {took:.1f} s (limit {QUORUM_LOSS_LIMIT} s)")
    for gw, port in sorted(GATEWAYS.items()):
        if ready(f"http://127.0.0.1:{port}") != 503:
            raise Failed(f"(e) gateway {gw} reports ready without a Cassandra quorum")
    took = cluster_up()
    log(f"(e) Cassandra nodes 2 and 3 restarted and the cluster ready in {took:.1f} s")
    started = time.monotonic()
    while True:
        try:
            got = read_object(counted, bucket, "kept")
            break
        except ClientError as e:
            if time.monotonic() - started > RECOVERY_LIMIT:
                raise Failed(f"(e) no recovery through Nginx within {RECOVERY_LIMIT} s: {e}")
            time.sleep(0.25)
    log(f"(e) served through Nginx again {time.monotonic() - started:.2f} s after the cluster was ready")
    if got != sha(body):
        raise Failed("(e) the object differs after the quorum came back")
    lost = [k for k, data in recent.items() if read_object(counted, bucket, k) != sha(data)]
    if lost:
        raise Failed(f"(e) {len(lost)} of {RECENT_WRITES} objects acknowledged just before the "
                     f"kill are missing or differ after the quorum came back: {', '.join(lost)}")
    log(f"(e) all {RECENT_WRITES} objects acknowledged just before the kill read back intact")
    counted.client.put_object(Bucket=bucket, Key="after", Body=b"y" * 1000)
    empty_bucket(counted, bucket)


SCENARIOS = {
    "cassandra": scenario_cassandra,
    "gateway": scenario_gateway,
    "multipart": scenario_multipart,
    "large-put": scenario_large_put,
    "quorum": scenario_quorum,
}


DOCKER_SCENARIOS = ("cassandra", "gateway")
# The Cassandra nodes `cassandra` kills, one after the other; --quick kills
# node 2 only.
CASSANDRA_KILLS = (2, 1)


def main():
    global TOPOLOGY, CASSANDRA_KILLS
    args = sys.argv[1:]
    docker = "--docker" in args
    if "--quick" in args:
        CASSANDRA_KILLS = (2,)
    names = [a for a in args if a not in ("--docker", "--quick")]
    if docker:
        TOPOLOGY = Containers()
        names = names or list(DOCKER_SCENARIOS)
        for name in names:
            if name not in DOCKER_SCENARIOS:
                sys.exit(f"--docker runs {', '.join(DOCKER_SCENARIOS)} only, not {name!r}")
    names = names or list(SCENARIOS)
    for name in names:
        if name not in SCENARIOS:
            sys.exit(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    if ready(NGINX) != 200:
        up = "scripts/docker-stack up" if docker else "scripts/cluster up"
        sys.exit(f"{NGINX}/_s3gw/ready is not 200: run {up} first")
    for name in names:
        started = time.monotonic()
        log(f"--- scenario {name} ---")
        try:
            SCENARIOS[name]()
        except (Failed, ClientError, BotoCoreError, OSError, subprocess.SubprocessError) as e:
            log(f"FAIL ({name}): {type(e).__name__}: {e}")
            # Leave the cluster whole for whatever runs next.
            try:
                TOPOLOGY.restore()
            except (OSError, subprocess.SubprocessError, RuntimeError):
                pass
            sys.exit(1)
        log(f"--- scenario {name}: ok in {time.monotonic() - started:.1f} s ---")


if __name__ == "__main__":
    main()
