#!/usr/bin/env python3
"""Fault test: a gateway on the Cassandra backend while Cassandra goes away.

    S3GW_ROOT_ACCESS_KEY=... S3GW_ROOT_SECRET_KEY=... \
        .venv/bin/python scripts/fault-cassandra-outage.py PORT

With a gateway on 127.0.0.1:PORT whose only Cassandra node is the one of
scripts/cassandra (default run dir), it:
  1. writes an object and reads it back;
  2. stops Cassandra (scripts/cassandra stop);
  3. sends GET, HEAD, PUT and LIST: each must fail with 503
     ServiceUnavailable within OUTAGE_LIMIT seconds (never hang), the
     gateway must stay up (/_s3gw/health 200) and report not ready
     (/_s3gw/ready 503);
  4. starts Cassandra again on the same data (start --keep-data);
  5. waits for the gateway to serve the object again (no restart of the
     gateway), checks its bytes, and writes a new object.
Prints the latency of each failed request and the recovery time. Exits
non-zero on any deviation. Bounded: every wait has a limit.
"""
import os
import subprocess
import sys
import time

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from s3gw_common import ROOT, env_credentials, http_status, logger, s3_client

OUTAGE_LIMIT = 20.0
RECOVERY_LIMIT = 120.0

log = logger("fault-cassandra")


def fail(msg):
    log(f"FAIL: {msg}")
    sys.exit(1)


def cassandra(*args):
    started = time.monotonic()
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "cassandra"), *args],
                   check=True, timeout=300)
    return time.monotonic() - started


def probe(port, path):
    """The HTTP status of GET /_s3gw/<path>, or None if nothing answers."""
    return http_status(f"http://127.0.0.1:{port}/_s3gw/{path}", timeout=15)


def main():
    port = int(sys.argv[1])
    s3 = s3_client(f"http://127.0.0.1:{port}", env_credentials(),
                   retries={"max_attempts": 1, "mode": "standard"},
                   connect_timeout=5, read_timeout=OUTAGE_LIMIT + 10)
    bucket = f"fault-{os.getpid()}-{int(time.time())}"
    body = os.urandom(3 * 1024 * 1024 + 5)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="kept", Body=body)
    if s3.get_object(Bucket=bucket, Key="kept")["Body"].read() != body:
        fail("read back differs before the outage")

    log(f"stopping Cassandra ({cassandra('stop'):.1f} s)")
    ops = {
        "GET": lambda: s3.get_object(Bucket=bucket, Key="kept")["Body"].read(),
        "HEAD": lambda: s3.head_object(Bucket=bucket, Key="kept"),
        "PUT": lambda: s3.put_object(Bucket=bucket, Key="new", Body=b"x" * 100_000),
        "LIST": lambda: s3.list_objects_v2(Bucket=bucket),
    }
    for name, op in ops.items():
        started = time.monotonic()
        try:
            op()
            fail(f"{name} succeeded with Cassandra down")
        except ClientError as e:
            took = time.monotonic() - started
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            code = e.response["Error"].get("Code")
            log(f"{name} during the outage: {status} {code} after {took:.2f} s")
            if status != 503:
                fail(f"{name}: expected 503, got {status} {code}")
            if name != "HEAD" and code != "ServiceUnavailable":
                fail(f"{name}: expected ServiceUnavailable, got {code}")
            if took > OUTAGE_LIMIT:
                fail(f"{name} took {took:.1f} s (limit {OUTAGE_LIMIT} s)")
        except (ConnectionError, ReadTimeoutError) as e:
            fail(f"{name}: the gateway did not answer: {e}")
    if probe(port, "health") != 200:
        fail("the gateway is not alive during the outage")
    ready = probe(port, "ready")
    log(f"readiness during the outage: {ready}")
    if ready != 503:
        fail(f"/_s3gw/ready answered {ready} with Cassandra down (want 503)")

    log(f"starting Cassandra again ({cassandra('start', '--keep-data'):.1f} s)")
    started = time.monotonic()
    while True:
        try:
            got = s3.get_object(Bucket=bucket, Key="kept")["Body"].read()
            break
        except ClientError as e:
            if time.monotonic() - started > RECOVERY_LIMIT:
                fail(f"no recovery within {RECOVERY_LIMIT} s: {e}")
            time.sleep(0.5)
    log(f"gateway served the object again {time.monotonic() - started:.2f} s after Cassandra was ready")
    if got != body:
        fail("the object differs after the outage")
    if probe(port, "ready") != 200:
        fail("/_s3gw/ready is not 200 after the recovery")
    s3.put_object(Bucket=bucket, Key="after", Body=b"y" * 1000)
    for key in ("kept", "after"):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)
    log("ok")


if __name__ == "__main__":
    main()
