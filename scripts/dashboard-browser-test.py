#!/usr/bin/env python3
"""Headless-browser test of the cluster dashboard (/_s3gw/dashboard/) on the
cluster of `scripts/cluster up` (3 Cassandra nodes, gateways gw1..gw3 on
127.0.0.1:9001-9003, Nginx on 127.0.0.1:8080).

    .venv/bin/python scripts/dashboard-browser-test.py [--out DIR]
    .venv/bin/python scripts/dashboard-browser-test.py --fixture http://127.0.0.1:8099

Drives Debian's /usr/bin/chromium through playwright (scripts/install-test-deps.sh
installs both; no browser is ever downloaded) at 1280x800 with the root keys
as HTTP Basic credentials, and checks, each within a bounded wait:
  1. without credentials (or with a wrong secret) the page and the API answer
     401 with a Basic challenge;
  2. the page shows the gateways of 127.0.0.1:9001-9003 (gw1..gw3) and 3
     Cassandra nodes up (30 s);
  3. after 60 PUTs and 60 GETs of 64 KiB through Nginx (boto3), the chart's
     data-total-requests rises by >= 100 (20 s), and the new bucket shows up
     in the bucket table, filtered by its name, with its 60 objects (60 s);
  4. after kill -9 of gateway 2 (pid from tmp/cluster/gw2/pid, checked
     against /proc/PID/cmdline) its row turns down within 15 s; gateway 2 is
     restarted with `scripts/cluster up` (also when a check fails after the
     kill) and its row must be up again within 60 s;
  5. the page raised no JavaScript error.
Screenshots (full page): OUT/dashboard.png after step 3, OUT/gateway-down.png
in step 4 (OUT defaults to tmp/test-output/dashboard). The bucket is deleted
at the end.

Then the scale step (skip it with --no-scale): 10 gateways of
target/release/s3gw on a keyspace of their own with 1000 buckets, where the
page must stay usable (one page of rows in the DOM, filter, sort, next page)
and renders take 500 ms at the median, 3 s at most; scripts/dashboard_scale.py describes
it. Helpers both steps use are in scripts/dashboard_common.py.
Exits 0 when every check passed, 1 otherwise.

--fixture URL runs the same page checks against scripts/dashboard-fixture.py:
the traffic, the kill and the restart become pokes of the fixture
(/_fixture/traffic, /_fixture/kill, /_fixture/start); no S3 call, no process
is killed. The scale step's page checks run on the fixture too when it serves
at least 10 gateways and 1000 buckets (start it with --gateways 10 --buckets
1000); otherwise it is skipped. Credentials: S3GW_ROOT_ACCESS_KEY /
S3GW_ROOT_SECRET_KEY, else the cluster's credentials file (fixture: else
fixture/fixture).
"""
import argparse
import os
import shutil
import sys
import time
import urllib.parse
import urllib.request

from dashboard_common import KiB, PAGE_SIZE, ROOT, Failed, http_get, launch, log, screenshot, wait
from dashboard_scale import run_scale
from cluster_procs import GATEWAYS, RUN, cluster_up, gateway_pid, kill9, stored_credentials

NGINX = "http://127.0.0.1:8080"

OBJECTS = 60
OBJECT_SIZE = 64 * KiB
MIN_RISE = 100            # of 2 * OBJECTS requests, allowing for rounded rates
READY_LIMIT = 30.0
TRAFFIC_LIMIT = 20.0
BUCKET_LIMIT = 60.0
DOWN_LIMIT = 15.0
UP_LIMIT = 60.0


# ------------------------------------------------- credentials

def credentials(fixture):
    ak = os.environ.get("S3GW_ROOT_ACCESS_KEY")
    sk = os.environ.get("S3GW_ROOT_SECRET_KEY")
    if ak and sk:
        return ak, sk
    if fixture:
        return "fixture", "fixture"
    return stored_credentials()


# ------------------------------------------------------------ HTTP

def http_post(url):
    req = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


# ------------------------------------------------------------ the two clusters

class RealCluster:
    """scripts/cluster up: traffic through Nginx with boto3, kill -9 by pid."""
    kill_label = "kill -9"

    def __init__(self, auth):
        import boto3
        from botocore.config import Config
        self.base = NGINX
        self.s3 = boto3.client(
            "s3", endpoint_url=NGINX, aws_access_key_id=auth[0], aws_secret_access_key=auth[1],
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5,
                          read_timeout=60, signature_version="s3v4", s3={"addressing_style": "path"}))

    def preflight(self):
        status, _, _ = http_get(f"{NGINX}/_s3gw/ready")
        if status != 200:
            raise Failed(f"{NGINX}/_s3gw/ready answers {status}: run scripts/cluster up first")
        if gateway_pid(2) is None:
            raise Failed(f"gateway 2 is not running ({RUN}/gw2/pid): run scripts/cluster up first")

    def traffic(self, bucket):
        body = os.urandom(OBJECT_SIZE)
        self.s3.create_bucket(Bucket=bucket)
        for i in range(OBJECTS):
            self.s3.put_object(Bucket=bucket, Key=f"obj-{i:03d}", Body=body)
        for i in range(OBJECTS):
            got = self.s3.get_object(Bucket=bucket, Key=f"obj-{i:03d}")["Body"].read()
            if got != body:
                raise Failed(f"GET obj-{i:03d} returned {len(got)} bytes that differ from the PUT")
        return f"{OBJECTS} PUTs and {OBJECTS} GETs of {OBJECT_SIZE // KiB} KiB through Nginx"

    def kill_gateway2(self):
        pid = gateway_pid(2)
        kill9(pid, "gateway 2")
        log(f"kill -9 gateway 2 (pid {pid})")

    def gateway2_missing(self):
        return gateway_pid(2) is None

    def restart_gateway2(self):
        took = cluster_up()
        if gateway_pid(2) is None:
            raise Failed("gateway 2 is not running after scripts/cluster up")
        return f"scripts/cluster up restarted gateway 2 in {took:.1f} s"

    def delete_bucket(self, bucket):
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        self.s3.delete_bucket(Bucket=bucket)


class FixtureCluster:
    """scripts/dashboard-fixture.py: the same steps as pokes of the fixture."""
    kill_label = "the fixture's kill"

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.killed = False

    def poke(self, action, **params):
        http_post(f"{self.base}/_fixture/{action}?{urllib.parse.urlencode(params)}")

    def preflight(self):
        status, _, _ = http_get(f"{self.base}/_s3gw/dashboard/")
        if status != 401:
            raise Failed(f"{self.base} does not look like scripts/dashboard-fixture.py (GET answered {status})")
        self.poke("start", gateway="gw2")

    def traffic(self, bucket):
        total = OBJECTS * OBJECT_SIZE
        self.poke("traffic", requests=2 * OBJECTS, bytes_in=total, bytes_out=total, bucket=bucket, objects=OBJECTS)
        return f"fixture: {2 * OBJECTS} requests poked in"

    def kill_gateway2(self):
        self.poke("kill", gateway="gw2")
        self.killed = True
        log("fixture: gateway gw2 stopped beating")

    def gateway2_missing(self):
        return self.killed

    def restart_gateway2(self):
        self.poke("start", gateway="gw2")
        self.killed = False
        return "fixture: gateway gw2 beats again"

    def delete_bucket(self, bucket):
        self.poke("delete-bucket", bucket=bucket)


# ------------------------------------------------------------ the page

REQUESTS_SINCE_JS = """(since) => {
  const t = ui.data && ui.data.throughput;
  if (!t) return 0;
  return t.points.filter((p) => p.t_ms > since)
    .reduce((sum, p) => sum + p.requests_per_s * t.step_s, 0);
}"""

SNAPSHOT_JS = """() => {
  const rows = (sel, key) => Object.fromEntries([...document.querySelectorAll(sel)].map(r => [r.dataset[key], r.dataset.state]));
  const banner = document.getElementById('error');
  return {
    gateways: rows('#gateways-body tr[data-gateway]', 'gateway'),
    byAddress: rows('#gateways-body tr[data-gateway]', 'address'),
    nodes: rows('#nodes-body tr[data-node]', 'node'),
    gatewaysSummary: document.getElementById('gateways-summary').textContent,
    nodesSummary: document.getElementById('nodes-summary').textContent,
    error: banner.hidden ? null : banner.textContent,
    chart: Object.assign({}, document.getElementById('throughput').dataset),
    bucketRows: document.querySelectorAll('#buckets-body tr[data-bucket]').length,
    bucketForeign: document.querySelectorAll('#buckets-body *:not(tr):not(td)').length,
  };
}"""

BUCKET_JS = """(name) => {
  const tr = document.querySelector(`#buckets-body tr[data-bucket="${CSS.escape(name)}"]`);
  return tr ? [...tr.cells].map(c => c.textContent) : null;
}"""


def gw_state(snap, n):
    """The state of gateway n's row: the one with address 127.0.0.1:900n
    (scripts/cluster's ports; ids are gw1..gw3 there but may be left at
    their default, host:port)."""
    return snap["byAddress"].get(f"127.0.0.1:{GATEWAYS[n]}")


class Dashboard:
    """The page as the main steps probe it: its tables and chart."""

    def __init__(self, page):
        self.page = page

    def snapshot(self):
        return self.page.evaluate(SNAPSHOT_JS)

    def total_requests(self):
        return float(self.snapshot()["chart"].get("totalRequests", "nan"))

    def requests_since(self, since_ms):
        """Requests in the chart's points that end after since_ms: the
        traffic of the test, whatever older traffic ages out of the
        10-minute window meanwhile (the compat suite just before can)."""
        return float(self.page.evaluate(REQUESTS_SINCE_JS, since_ms))


# ------------------------------------------------------------ the test

def check_auth(base, auth, passed):
    for path in ("/_s3gw/dashboard/", "/_s3gw/api/cluster"):
        for label, creds in (("no credentials", None), ("a wrong secret", (auth[0], auth[1] + "x"))):
            status, headers, _ = http_get(base + path, creds)
            challenge = headers.get("WWW-Authenticate", "") if headers else ""
            if status != 401 or not challenge.lower().startswith("basic"):
                raise Failed(f"GET {path} with {label}: {status}, WWW-Authenticate {challenge!r} (want 401 Basic)")
    status, _, body = http_get(base + "/_s3gw/api/cluster", auth)
    if status != 200:
        raise Failed(f"GET /_s3gw/api/cluster with the root keys: {status} {body[:200]!r}")
    passed.append("without credentials or with a wrong secret, the page and the API answer 401 Basic")


def run(args, cluster, auth, out, passed):
    from playwright.sync_api import sync_playwright

    bucket = f"dash-{os.getpid()}-{int(time.time())}"
    bucket_made = False
    js_errors = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context(http_credentials={"username": auth[0], "password": auth[1]},
                                          viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.on("pageerror", lambda e: js_errors.append(str(e)))
            dash = Dashboard(page)

            # 1-2: the page, everything up.
            check_auth(cluster.base, auth, passed)
            url = f"{cluster.base}/_s3gw/dashboard/"
            resp = page.goto(url, timeout=30000)
            if resp is None or resp.status != 200:
                raise Failed(f"GET {url} in chromium: {resp.status if resp else 'no response'}")
            if page.title() != "s3gw cluster":
                raise Failed(f"page title {page.title()!r}")
            snap, took = wait(
                "the 3 gateways and 3 Cassandra nodes shown up", READY_LIMIT, dash.snapshot,
                lambda s: all(gw_state(s, n) == "up" for n in GATEWAYS)
                and sum(v == "up" for v in s["nodes"].values()) >= 3)
            ids = sorted(snap["gateways"])
            passed.append(f"page shows the gateways on 127.0.0.1:9001-9003 and 3 nodes up after {took:.1f} s "
                          f"({snap['gatewaysSummary']!r}, {snap['nodesSummary']!r}; ids {', '.join(ids)})")

            # 3: traffic moves the chart, the bucket shows up.
            before = dash.total_requests()
            started_ms = time.time() * 1000
            started = time.monotonic()
            bucket_made = True
            what = cluster.traffic(bucket)
            traffic_done = time.monotonic()
            log(f"{what} in {traffic_done - started:.1f} s")
            # Either figure shows the traffic: the total's rise (unless older
            # traffic ages out of the window meanwhile) or the points that
            # end after it began (real time; the fixture's clock is its own).
            (recent, total), took = wait(
                f"the chart shows >= {MIN_RISE} more requests (total from {before:.0f}, or in the "
                f"points since the traffic began)", TRAFFIC_LIMIT,
                lambda: (dash.requests_since(started_ms), dash.total_requests()),
                lambda rt: rt[0] >= MIN_RISE or rt[1] - before >= MIN_RISE)
            chart = dash.snapshot()["chart"]
            passed.append(f"chart: {recent:.0f} requests in the points since the traffic began (for "
                          f"{2 * OBJECTS} requests) {took:.1f} s after it; total-requests {before:.0f} -> "
                          f"{total:.0f}; peak {chart['peakRequests']} req/s, {chart['points']} points")
            page.fill("#bucket-filter", bucket)
            cells, _ = wait(
                f"bucket {bucket} with {OBJECTS} objects in the bucket table", BUCKET_LIMIT,
                lambda: page.evaluate(BUCKET_JS, bucket),
                lambda c: c is not None and c[1].replace(",", "") == str(OBJECTS))
            snap = dash.snapshot()
            if snap["bucketForeign"]:
                raise Failed(f"the bucket table holds {snap['bucketForeign']} elements besides tr/td")
            took = time.monotonic() - traffic_done
            passed.append(f"bucket {bucket} listed {took:.1f} s after the traffic: {' | '.join(cells)}")
            screenshot(page, os.path.join(out, "dashboard.png"))
            page.fill("#bucket-filter", "")
            rows = wait("bucket table re-rendered without the filter", 5, dash.snapshot,
                        lambda s: s["bucketRows"] >= 1)[0]["bucketRows"]
            if rows > PAGE_SIZE:
                raise Failed(f"the bucket table shows {rows} rows, more than one page of {PAGE_SIZE}")

            # 4: kill -9 gateway 2: shown down, restarted, shown up.
            killed = False
            try:
                cluster.kill_gateway2()
                killed = True
                t_kill = time.monotonic()
                snap, _ = wait(f"gateway 2 shown down after the kill (limit {DOWN_LIMIT:.0f} s)", DOWN_LIMIT,
                               dash.snapshot, lambda s: gw_state(s, 2) == "down")
                took = time.monotonic() - t_kill
                log(f"gateway 2 shown down {took:.1f} s after {cluster.kill_label}")
                others = {n: gw_state(snap, n) for n in (1, 3)}
                if any(v != "up" for v in others.values()):
                    raise Failed(f"with gateway 2 down, gateways 1 and 3 show {others}")
                passed.append(f"gateway 2 shown down {took:.1f} s after {cluster.kill_label} ({snap['gatewaysSummary']!r})")
                screenshot(page, os.path.join(out, "gateway-down.png"))
            except BaseException:
                # Leave the cluster whole; the check's own failure is what is reported.
                if killed or cluster.gateway2_missing():
                    try:
                        log(cluster.restart_gateway2())
                    except Exception as e:
                        log(f"could not restart gateway 2: {type(e).__name__}: {e}")
                raise
            log(cluster.restart_gateway2())
            _, took = wait("gateway 2 shown up again after the restart", UP_LIMIT, dash.snapshot,
                           lambda s: gw_state(s, 2) == "up")
            passed.append(f"gateway 2 shown up again {took:.1f} s after the restart")

            if js_errors:
                raise Failed(f"JavaScript errors on the page: {js_errors[:5]}")
            passed.append("no JavaScript error on the page")
        finally:
            browser.close()
            if bucket_made:
                try:
                    cluster.delete_bucket(bucket)
                    log(f"deleted bucket {bucket}")
                except Exception as e:  # cleanup must not hide the test's own failure
                    log(f"could not delete bucket {bucket}: {type(e).__name__}: {e}")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "tmp", "test-output", "dashboard"),
                    help="directory for the screenshots")
    ap.add_argument("--fixture", metavar="URL",
                    help="test against scripts/dashboard-fixture.py at URL (no S3, no kill)")
    ap.add_argument("--no-scale", action="store_true",
                    help="skip the scale step (10 gateways, 1000 buckets on a keyspace of their own)")
    args = ap.parse_args()
    try:
        import playwright  # noqa: F401
    except ImportError:
        sys.exit("playwright missing: run scripts/install-test-deps.sh and use .venv/bin/python")
    if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
        sys.exit("chromium missing: run scripts/install-test-deps.sh (apt-get install chromium)")
    os.makedirs(args.out, exist_ok=True)
    passed = []
    started = time.monotonic()
    try:
        auth = credentials(bool(args.fixture))
        cluster = FixtureCluster(args.fixture) if args.fixture else RealCluster(auth)
        cluster.preflight()
        run(args, cluster, auth, args.out, passed)
        if not args.no_scale:
            run_scale(args, auth, args.out, passed)
    except Exception as e:
        for line in passed:
            log(f"ok: {line}")
        log(f"FAIL: {type(e).__name__}: {e}")
        return 1
    for line in passed:
        log(f"ok: {line}")
    log(f"passed: {len(passed)} checks in {time.monotonic() - started:.1f} s "
        f"({'fixture ' + args.fixture if args.fixture else 'cluster via ' + NGINX})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
