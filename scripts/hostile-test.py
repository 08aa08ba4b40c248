#!/usr/bin/env python3
"""Runs the hostile-input catalogue (scripts/hostile/catalogue.py) against a
running gateway on 127.0.0.1:PORT and checks each answer's status and S3
error code, and that `GET /_s3gw/health` answers 200 after every case.

Usage: hostile-test.py PORT DATA_DIR --admin-port ADMIN_PORT [--only SUBSTRING] [--fsck-cmd CMD]

ADMIN_PORT is the gateway's admin listener (--admin-listen), where the
admin-origin cases go.

Credentials come from S3GW_ROOT_ACCESS_KEY / S3GW_ROOT_SECRET_KEY. The slow
cases expect the gateway to run with small body limits (scripts/test.sh
starts it with body_idle_timeout_secs = 2, body_grace_secs = 1,
body_min_bytes_per_sec = 1000). DATA_DIR is the gateway's data directory,
for --fsck-cmd (`{data_dir}` in it is replaced): that command runs after
the cases, and only works once the gateway is stopped, so scripts/test.sh
stops the gateway and runs fsck itself.

Prints one line per failing case and ends with `N passed, M failed`; exits 1
on any failure. An `xfail` case (a known gateway bug) counts as passed while
it fails as recorded, and as failed once it passes (remove its xfail).
"""

import argparse
import os
import re
import select
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile"))

import catalogue  # noqa: E402
from builders import Builders, Req  # noqa: E402
from s3gw_common import env_credentials  # noqa: E402
from sigv4 import raw  # noqa: E402

CODE = re.compile(rb"<Code>([^<]*)</Code>")


class Answer:
    kept_open = False

    def __init__(self, status=None, headers=b"", body=b"", error=""):
        self.status = status
        self.headers = headers
        self.body = body
        self.error = error

    @property
    def code(self):
        m = CODE.search(self.body)
        return m.group(1).decode() if m else None

    def __repr__(self):
        if self.status is None:
            return f"no answer ({self.error or 'closed'})"
        return f"{self.status} {self.code or '-'}"


def read_answer(sock, deadline, head_request=False):
    buf = b""
    while b"\r\n\r\n" not in buf:
        if time.monotonic() > deadline:
            return Answer(error="timeout") if not buf else Answer(error="partial head")
        try:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError as e:
            return Answer(error=str(e)) if not buf else _partial(buf)
        if not data:
            break
        buf += data
    if b"\r\n\r\n" not in buf:
        return Answer(error="closed") if not buf else _partial(buf)
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Answer(error=f"bad status line {lines[0][:80]!r}")
    if 100 <= status < 200:
        # An interim answer (100 Continue): the final one follows.
        return read_answer_after(sock, deadline, body, head_request)
    hdrs = {}
    for line in lines[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            hdrs[k.strip().lower()] = v.strip()
    if head_request or status in (204, 304):
        return Answer(status, head, b"")
    if b"content-length" in hdrs:
        want = int(hdrs[b"content-length"])
        body = read_more(sock, deadline, body, lambda b: len(b) >= want)
    elif hdrs.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = read_more(sock, deadline, body, lambda b: b.endswith(b"0\r\n\r\n"))
    return Answer(status, head, body)


def read_more(sock, deadline, body, done):
    """Reads into `body` until `done(body)`, the peer closes, or the deadline."""
    while not done(body) and time.monotonic() < deadline:
        try:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not data:
            break
        body += data
    return body


def read_answer_after(sock, deadline, rest, head_request):
    class Prefixed:
        def __init__(self):
            self.rest = rest

        def settimeout(self, t):
            sock.settimeout(t)

        def recv(self, n):
            if self.rest:
                data, self.rest = self.rest, b""
                return data
            return sock.recv(n)

    return read_answer(Prefixed(), deadline, head_request)


def _partial(buf):
    return Answer(error=f"partial answer {buf[:80]!r}")


def send_paced(sock, steps):
    """Sends the steps in pieces of 64 KiB, and stops as soon as the gateway
    answers (it may refuse a body before the end): what is still sent after
    the gateway closed would reset the connection and lose the answer."""
    for data, pause in steps:
        for i in range(0, max(len(data), 1), 65536):
            if select.select([sock], [], [], 0)[0]:
                return
            try:
                sock.sendall(data[i:i + 65536])
            except OSError:
                return
        if pause:
            time.sleep(pause)


def exchange(port, req, timeout=10.0):
    """Sends a request (bytes or Req) and reads one answer."""
    if isinstance(req, bytes):
        req = Req(req, timeout=timeout)
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        steps = req.steps if req.steps is not None else [(req.data, 0)]
        if req.one_write:
            try:
                sock.sendall(req.data)
            except OSError:
                pass
        else:
            send_paced(sock, steps)
        if req.half_close:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        is_head = (req.data or steps[0][0]).startswith(b"HEAD ")
        deadline = time.monotonic() + req.timeout
        answer = read_answer(sock, deadline, head_request=is_head)
        answer.absent_header = req.absent_header
        if req.expect_close and answer.status is not None:
            answer.kept_open = not closed_soon(sock)
        return answer
    finally:
        sock.close()


def closed_soon(sock, wait=3.0):
    """The peer closes the connection within `wait` seconds."""
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def health(port):
    try:
        return exchange(port, raw("GET", "/_s3gw/health", [("Host", f"127.0.0.1:{port}")]), 5).status
    except OSError as e:
        return f"connect failed: {e}"


class Ctx(Builders):
    def __init__(self, port, admin_port, ak, sk):
        super().__init__(port, ak, sk)
        self.port = port
        self.admin_port = admin_port
        self.admin_host = f"127.0.0.1:{admin_port}"
        self.bucket = f"hostile-{uuid.uuid4().hex[:12]}"
        self.upload_id = None

    def must(self, req, what):
        a = exchange(self.port, req)
        if a.status != 200:
            raise SystemExit(f"setup failed: {what}: {a} {a.body[:300]!r}")
        return a

    def setup(self):
        self.must(self.signed("PUT", self.path()), "CreateBucket")
        self.must(self.signed("PUT", self.path("obj"), body=b"0123456789" * 10), "PutObject obj")
        a = self.must(self.signed("POST", self.path("mp"), query=[("uploads", "")]),
                      "CreateMultipartUpload")
        self.upload_id = re.search(rb"<UploadId>([^<]*)</UploadId>", a.body).group(1).decode()
        self.must(self.signed("PUT", self.path("mp"), query=[("partNumber", "1"),
                                                           ("uploadId", self.upload_id)],
                              body=b"part one"), "UploadPart 1")


def case_absent(case, answer):
    name = getattr(answer, "absent_header", b"")
    if name and any(line.lower().startswith(name + b":") for line in answer.headers.split(b"\r\n")[1:]):
        return name.decode()
    return ""


def check(case, answer):
    """'' if the answer is the one expected, else what differs."""
    if case.status is None:
        if answer.status is None:
            return ""
        return f"expected no answer, got {answer!r}"
    if answer.status != case.status:
        return f"expected {case.status} {case.code or '-'}, got {answer!r}"
    got = answer.code
    if case.codes:
        if got not in case.codes:
            return f"expected code in {case.codes}, got {answer!r}"
    elif got != case.code:
        return f"expected {case.status} {case.code or '-'}, got {answer!r}"
    if case_absent(case, answer):
        return f"{answer!r} as expected, but with the header {case_absent(case, answer)!r}"
    if answer.kept_open:
        return f"{answer!r} as expected, but the connection was kept open (it must be closed)"
    return ""


def run_case(ctx, case):
    req = case.build(ctx)
    if isinstance(req, bytes):
        req = Req(req)
    if req.expect_silence:
        # A partial head: nothing may come back while it waits, and the
        # gateway must keep serving other connections meanwhile.
        sock = socket.create_connection(("127.0.0.1", ctx.port), timeout=5)
        try:
            sock.sendall(req.data)
            time.sleep(req.timeout / 2)
            others = health(ctx.port)
            answer = read_answer(sock, time.monotonic() + req.timeout / 2)
        finally:
            sock.close()
        if others != 200:
            return f"health answered {others} while a partial head was open"
        return check(case, answer)
    return check(case, exchange(ctx.admin_port if req.admin else ctx.port, req))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("data_dir")
    ap.add_argument("--admin-port", type=int, required=True, help="the admin listener's port")
    ap.add_argument("--only", default="", help="run the cases whose category or name contains this")
    ap.add_argument("--fsck-cmd", default="",
                    help="run this after the cases, {data_dir} replaced (the gateway must be "
                         "stopped by then: fsck needs the embedded store to itself)")
    ap.add_argument("--list", action="store_true", help="print the catalogue and exit")
    args = ap.parse_args()

    cases = [c for c in catalogue.CASES if args.only in c.category or args.only in c.name]
    if args.list:
        for c in cases:
            print(f"{c.category:18} {c.status or '-'} {c.code or '-':32} {c.name}"
                  + (" [xfail]" if c.xfail else ""))
        counts = {}
        for c in cases:
            counts[c.category] = counts.get(c.category, 0) + 1
        print(", ".join(f"{k} {v}" for k, v in counts.items()), f"= {len(cases)}")
        return 0
    ctx = Ctx(args.port, args.admin_port, *env_credentials())
    started = time.monotonic()
    try:
        ctx.setup()
    except (SystemExit, OSError) as e:
        print(f"FAIL setup: {e}")
        print(f"0 passed, {len(cases)} failed")
        return 1
    passed = failed = 0
    xfailed = []
    for case in cases:
        t0 = time.monotonic()
        try:
            problem = run_case(ctx, case)
        except Exception as e:  # noqa: BLE001 — one broken case must not stop the run
            problem = f"raised {type(e).__name__}: {e}"
        alive = health(args.port)
        label = f"[{case.category}] {case.name}"
        if alive != 200:
            # The gateway must survive every case, xfail or not.
            failed += 1
            print(f"FAIL {label}: {problem or 'answered as expected'}; health then answered {alive}")
        elif case.xfail:
            if problem:
                passed += 1
                xfailed.append((label, problem))
            else:
                failed += 1
                print(f"XPASS {label}: passes now; remove its xfail ({case.xfail})")
        elif problem:
            failed += 1
            print(f"FAIL {label}: {problem}")
        else:
            passed += 1
        if time.monotonic() - t0 > 20:
            print(f"SLOW {label}: {time.monotonic() - t0:.1f} s")
        if alive != 200 and not isinstance(alive, int):
            print("the gateway no longer answers: stopping")
            failed = len(cases) - passed
            break
    for label, problem in xfailed:
        print(f"xfail {label}: {problem}")
    print(f"{len(cases)} cases in {time.monotonic() - started:.1f} s; {len(xfailed)} known gateway bugs (xfail)")
    if args.fsck_cmd:
        r = subprocess.run(args.fsck_cmd.replace("{data_dir}", args.data_dir), shell=True)
        if r.returncode != 0:
            print(f"FAIL fsck: {args.fsck_cmd} exited {r.returncode}")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
