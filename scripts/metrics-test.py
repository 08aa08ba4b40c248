#!/usr/bin/env python3
"""Scrapes a gateway's /_s3gw/metrics around requests this script makes
with boto3, and checks that the counters moved by exactly those requests;
then checks the gateway's access log: one line per request, with its
request id, operation, bucket, key, status and bytes, and no secret or
signature anywhere in the log.

    .venv/bin/python scripts/metrics-test.py PORT GATEWAY_LOG

The gateway must serve nothing else meanwhile (the counters are its
own, not per client). Credentials: S3GW_ROOT_ACCESS_KEY /
S3GW_ROOT_SECRET_KEY. Exit 0 on success, 1 with what differed.
"""

import json
import os
import re
import sys
import time
import urllib.request

from botocore.exceptions import ClientError

from s3gw_common import env_credentials, s3_client

PUTS = 7
GETS = 5
SIZE = 100_000
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(port):
    """{(name, frozenset(labels)): value} of every sample."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_s3gw/metrics", timeout=10) as r:
        if r.status != 200:
            raise SystemExit(f"metrics answered {r.status}")
        ctype = r.headers.get("Content-Type", "")
        text = r.read().decode()
    if not ctype.startswith("text/plain"):
        raise SystemExit(f"metrics Content-Type {ctype!r}")
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            raise SystemExit(f"unparseable metrics line: {line!r}")
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


TEXT_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def access_entries(log):
    """Every access line of the log as {field: text}, from either format:
    JSON objects (--log-format json) or text lines (fields as name=value,
    client strings quoted)."""
    out = []
    for line in log.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("target") == "s3gw::access":
                out.append({k: str(v) for k, v in obj.items()})
        elif "s3gw::access" in line:
            fields = {}
            for name, raw in TEXT_FIELD.findall(line):
                fields[name] = json.loads(raw) if raw.startswith('"') else raw
            out.append(fields)
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def main():
    port, log_path = sys.argv[1], sys.argv[2]
    access, secret = env_credentials()
    s3 = s3_client(f"http://127.0.0.1:{port}", (access, secret), retries={"max_attempts": 1})
    bucket = f"metrics-{os.getpid()}-{int(time.time())}"
    s3.create_bucket(Bucket=bucket)
    request_ids = []
    before = scrape(port)
    body = os.urandom(SIZE)
    for i in range(PUTS):
        r = s3.put_object(Bucket=bucket, Key=f"k{i}", Body=body)
        request_ids.append(("PutObject", f"k{i}", 200, r["ResponseMetadata"]["RequestId"]))
    for i in range(GETS):
        r = s3.get_object(Bucket=bucket, Key=f"k{i}")
        if r["Body"].read() != body:
            raise SystemExit("GET returned other bytes")
        request_ids.append(("GetObject", f"k{i}", 200, r["ResponseMetadata"]["RequestId"]))
    try:
        s3.get_object(Bucket=bucket, Key="missing")
        raise SystemExit("GET of a missing key succeeded")
    except ClientError as e:
        request_ids.append(("GetObject", "missing", 404, e.response["ResponseMetadata"]["RequestId"]))
    after = scrape(port)

    failures = []

    def expect(what, got, want):
        ok = got == want
        if isinstance(want, bool):
            print(f"{'ok ' if ok else 'BAD'} {what}")
        else:
            print(f"{'ok ' if ok else 'BAD'} {what}: {got:g} (expected {want:g})")
        if not ok:
            failures.append(what)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    expect("s3gw_requests_total{op=PutObject,status=200}",
           moved("s3gw_requests_total", op="PutObject", status="200"), PUTS)
    expect("s3gw_requests_total{op=GetObject,status=200}",
           moved("s3gw_requests_total", op="GetObject", status="200"), GETS)
    expect("s3gw_requests_total{op=GetObject,status=404}",
           moved("s3gw_requests_total", op="GetObject", status="404"), 1)
    expect("s3gw_errors_total{code=NoSuchKey}", moved("s3gw_errors_total", code="NoSuchKey"), 1)
    # Over plain HTTP boto3 sends the body as is (no aws-chunked framing).
    expect("s3gw_request_bytes_total{op=PutObject}",
           moved("s3gw_request_bytes_total", op="PutObject"), PUTS * SIZE)
    sent = moved("s3gw_response_bytes_total", op="GetObject")
    expect(f"s3gw_response_bytes_total{{op=GetObject}} moved by {sent:g}: the {GETS} bodies"
           " and one error document (< 1000 bytes)", GETS * SIZE < sent < GETS * SIZE + 1000, True)
    expect("s3gw_request_duration_seconds_count{op=PutObject}",
           moved("s3gw_request_duration_seconds_count", op="PutObject"), PUTS)
    expect("s3gw_request_duration_seconds_count{op=GetObject}",
           moved("s3gw_request_duration_seconds_count", op="GetObject"), GETS + 1)
    expect("s3gw_storage_call_duration_seconds_count{call=put_object} (one head write per PUT)",
           moved("s3gw_storage_call_duration_seconds_count", call="put_object"), PUTS)
    expect("s3gw_chunks_read_total (one 100 kB chunk per GET)", moved("s3gw_chunks_read_total"), GETS)
    expect("s3gw_requests_in_flight during the scrape (the scrape itself)",
           value(after, "s3gw_requests_in_flight"), 1)
    for name in ("s3gw_gc_reclaimed_bytes_total", "s3gw_gc_backlog", "s3gw_uptime_seconds"):
        present = any(k[0] == name for k in after)
        expect(f"{name} is exported", present, True)

    for i in range(PUTS):
        s3.delete_object(Bucket=bucket, Key=f"k{i}")
    s3.delete_bucket(Bucket=bucket)

    # The access log: one line per request id, with what the request was.
    time.sleep(0.5)
    with open(log_path, errors="replace") as f:
        log = f.read()
    entries = access_entries(log)
    print(f"ok  {len(entries)} access lines in the log ({'JSON' if log.lstrip().startswith('{') else 'text'})")
    for op, key, status, rid in request_ids:
        mine = [e for e in entries if e.get("request_id") == rid]
        want = {"op": op, "bucket": bucket, "key": key, "status": str(status)}
        if op == "PutObject":
            want["bytes_in"] = str(SIZE)
        if op == "GetObject" and status == 200:
            want["bytes_out"] = str(SIZE)
        ok = len(mine) == 1 and all(mine[0].get(k) == v for k, v in want.items())
        if not ok:
            failures.append(f"access line of {rid}")
            print(f"BAD access line of {op} {key} ({rid}): {mine}, expected {want}")
    print(f"{'ok ' if not failures else '...'} {len(request_ids)} requests, one access line each")
    for needle, what in ((secret, "the secret key"), ("Signature=", "a signature"),
                         ("X-Amz-Signature", "a presigned signature")):
        if needle in log:
            failures.append(what)
            print(f"BAD the gateway log contains {what}")
    if failures:
        print(f"FAILED: {', '.join(failures)}")
        return 1
    print("metrics and access log: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
