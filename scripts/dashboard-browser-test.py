#!/usr/bin/env python3
"""Headless-browser test of the cluster dashboard on the cluster of
`scripts/cluster up` (3 Cassandra nodes, gateways gw1..gw3 with S3 on
127.0.0.1:9001-9003 and their admin listeners on 127.0.0.1:9101-9103, Nginx
with S3 on 127.0.0.1:8080 and the dashboard's own server on 127.0.0.1:8081).

    .venv/bin/python scripts/dashboard-browser-test.py [--out DIR]
    .venv/bin/python scripts/dashboard-browser-test.py --fixture http://127.0.0.1:8099

Drives Debian's /usr/bin/chromium through playwright (scripts/install-test-deps.sh
installs both; no browser is ever downloaded) at 1280x800 on
http://127.0.0.1:8081/_s3gw/dashboard/, the admin server of Nginx, and
checks, each within a bounded wait:
  1. without a session cookie the API answers 401 JSON with no Basic
     challenge, also to the root keys sent as HTTP Basic; the S3 server
     (127.0.0.1:8080) answers 404 for the dashboard, the API and the login;
  2. the page is public and sends the strict CSP; it shows the login form;
     a wrong secret submitted there shows "wrong access key or secret" and
     sets no cookie; a 429 (faked in the browser: a real one would throttle
     the cluster's next logins) shows its Retry-After seconds; the root keys
     log in: the session cookie is HttpOnly, SameSite=Strict, with an expiry;
     the S3 server answers 404 to the API with that cookie too (cookies do
     not isolate ports);
  3. the page shows the gateways of 127.0.0.1:9001-9003 (gw1..gw3) and 3
     Cassandra nodes up (30 s), and "logged in as root" with the access
     section filled in;
  4. after 60 PUTs and 60 GETs of 64 KiB through Nginx (boto3), the chart's
     data-total-requests rises by >= 100 (20 s), and the new bucket shows up
     in the bucket table, filtered by its name, with its 60 objects (60 s);
  5. after kill -9 of gateway 2 (pid from tmp/cluster/gw2/pid, checked
     against /proc/PID/cmdline) its row turns down within 15 s; gateway 2 is
     restarted with `scripts/cluster up` (also when a check fails after the
     kill) and its row must be up again within 60 s;
  6. "Log out" shows the login form again, the cookie is gone and the API
     answers 401 again;
  7. access keys: with two keys made by `s3gw admin key create NAME --json`
     through Nginx (S3GW_BIN, else target/release/s3gw; the root keys as
     AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), one with --admin: the
     other one's pair is refused by the form (401, "wrong access key or
     secret", no cookie); the admin key logs in, the header says it is
     logged in and the "Access keys" table lists it as an admin (15 s). Both
     keys are deleted at the end. Skipped with --fixture;
  8. no request the page made carried an Authorization header (the headers
     as sent, playwright's all_headers(); the polls after the login carried
     the session cookie), and the page raised no JavaScript error and logged
     no console error (a CSP violation is one).
Screenshots (full page): OUT/login.png in step 2, OUT/dashboard.png after
step 4, OUT/gateway-down.png in step 5 (OUT defaults to
tmp/test-output/dashboard). The bucket is deleted at the end.

Then the scale step (skip it with --no-scale): 10 gateways of
target/release/s3gw on a keyspace of their own with 1000 buckets, where the
page (logged in through its form, on gateway 1's admin listener) must stay
usable (one page of rows in the DOM, filter, sort, next page) and renders
take 500 ms at the median, 3 s at most; scripts/dashboard_scale.py describes
it. Helpers both steps use are in scripts/dashboard_common.py.
Exits 0 when every check passed, 1 otherwise.

--fixture URL runs the same page checks against scripts/dashboard-fixture.py,
which answers as the admin listener does: the traffic, the kill and the
restart become pokes of the fixture (/_fixture/traffic, /_fixture/kill,
/_fixture/start); no S3 call, no process is killed, and there is no S3 server
to check. The scale step's page checks run on the fixture too when it serves
at least 10 gateways and 1000 buckets (start it with --gateways 10 --buckets
1000); otherwise it is skipped. Credentials: S3GW_ROOT_ACCESS_KEY /
S3GW_ROOT_SECRET_KEY, else the cluster's credentials file (fixture: else
fixture/fixture).
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from dashboard_common import (KiB, LOGIN_LIMIT, PAGE_SIZE, SESSION_COOKIES, launch, log, log_in,
                              login_form_shown, open_dashboard, screenshot, session_cookie, submit_login,
                              wait)
from dashboard_scale import run_scale
from cluster_procs import GATEWAYS, RUN, cluster_credentials, cluster_up, gateway_pid, kill9
from s3gw_common import ROOT, Failed, delete_bucket, http_get, http_post_form, root_credentials, s3_client

NGINX = "http://127.0.0.1:8080"          # S3
NGINX_ADMIN = "http://127.0.0.1:8081"    # the dashboard's own server
API = "/_s3gw/api/cluster"
# Directives of the admin listener's CSP that the page relies on.
CSP_MUST = ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'")
FAKE_RETRY_AFTER = 3

OBJECTS = 60
OBJECT_SIZE = 64 * KiB
MIN_RISE = 100            # of 2 * OBJECTS requests, allowing for rounded rates
READY_LIMIT = 30.0
TRAFFIC_LIMIT = 20.0
BUCKET_LIMIT = 60.0
DOWN_LIMIT = 15.0
UP_LIMIT = 60.0
ACCESS_LIMIT = 15.0
S3GW_BIN = os.environ.get("S3GW_BIN") or os.path.join(ROOT, "target", "release", "s3gw")


# ------------------------------------------------- credentials

def credentials(fixture):
    if fixture:
        return root_credentials(lambda: ("fixture", "fixture"))
    return cluster_credentials()


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
        self.auth = auth
        self.base = NGINX_ADMIN
        self.s3_base = NGINX
        self.s3 = s3_client(NGINX, auth, retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5,
                            read_timeout=60, signature_version="s3v4")

    def preflight(self):
        for base in (NGINX, NGINX_ADMIN):
            status, _, _ = http_get(f"{base}/_s3gw/ready")
            if status != 200:
                raise Failed(f"{base}/_s3gw/ready answers {status}: run scripts/cluster up first")
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
        kill9(gateway_pid(2), "gateway 2", log)

    def gateway2_missing(self):
        return gateway_pid(2) is None

    def restart_gateway2(self):
        took = cluster_up()
        if gateway_pid(2) is None:
            raise Failed("gateway 2 is not running after scripts/cluster up")
        return f"scripts/cluster up restarted gateway 2 in {took:.1f} s"

    def delete_bucket(self, bucket):
        delete_bucket(self.s3, bucket)

    def admin(self, *args):
        """stdout of `s3gw admin ARGS` through Nginx, signed with the root keys."""
        env = dict(os.environ, S3GW_ENDPOINT=NGINX, AWS_ACCESS_KEY_ID=self.auth[0],
                   AWS_SECRET_ACCESS_KEY=self.auth[1])
        r = subprocess.run([S3GW_BIN, "admin", *args], env=env, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise Failed(f"s3gw admin {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()[:300]}")
        return r.stdout


class FixtureCluster:
    """scripts/dashboard-fixture.py: the same steps as pokes of the fixture."""
    kill_label = "the fixture's kill"

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.s3_base = None
        self.killed = False

    def poke(self, action, **params):
        http_post(f"{self.base}/_fixture/{action}?{urllib.parse.urlencode(params)}")

    def preflight(self):
        status, _, _ = http_get(f"{self.base}{API}")
        if status != 401:
            raise Failed(f"{self.base} does not look like scripts/dashboard-fixture.py (GET {API} answered {status})")
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

    admin = None       # no access keys to make


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

ACCESS_JS = """() => ({
  state: document.getElementById('access').dataset.state || null,
  who: document.getElementById('logged-in').textContent,
  keys: Object.fromEntries([...document.querySelectorAll('#access-keys-body tr[data-key]')]
    .map(r => [r.dataset.key, r.dataset.admin])),
  buckets: document.querySelectorAll('#access-grants-body tr[data-bucket]').length,
})"""

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

def check_api_closed(base, auth, passed):
    """Without a session cookie the API answers 401 JSON, with no Basic
    challenge (a browser would prompt for it), and HTTP Basic with the root
    keys no longer opens it."""
    basic = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    for label, headers in (("no cookie", {}), ("the root keys as HTTP Basic", {"Authorization": basic})):
        status, h, body = http_get(base + API, headers=headers)
        challenge = h.get("WWW-Authenticate", "") if h else ""
        try:
            error = json.loads(body).get("error")
        except ValueError:
            error = None
        if status != 401 or challenge.lower().startswith("basic") or not error:
            raise Failed(f"GET {API} with {label}: {status}, WWW-Authenticate {challenge!r}, body {body[:120]!r} "
                         f"(want 401 JSON with an error, no Basic challenge)")
    passed.append(f"without a session cookie {API} answers 401 {{\"error\": {error!r}}} with no Basic "
                  f"challenge, also to the root keys as HTTP Basic")


def check_s3_server(s3_base, auth, cookie, passed):
    """The S3 server (Nginx's 8080) serves neither the dashboard nor its API
    nor the login: 404, also with the session cookie, which browsers send to
    every port of the host."""
    seen = []
    for method, path, cookie_sent in (("GET", "/_s3gw/dashboard/", None), ("GET", "/_s3gw/dashboard/app.js", None),
                                      ("GET", API, None), ("GET", API, cookie), ("GET", "/_s3gw/dashboard/", cookie)):
        status, _, body = http_get(s3_base + path, cookie=cookie_sent)
        seen.append(f"{method} {path}{' with the cookie' if cookie_sent else ''}: {status}")
        if status != 404:
            raise Failed(f"{s3_base}{path}{' with the session cookie' if cookie_sent else ''}: {status} "
                         f"{body[:120]!r} (want 404: the dashboard has its own server)")
    # A wrong secret, so that no session could come of it even if it were served.
    status, h, body = http_post_form(s3_base + "/_s3gw/login", {"access_key": auth[0], "secret_key": auth[1] + "x"})
    if status != 404 or (h and h.get("Set-Cookie")):
        raise Failed(f"POST {s3_base}/_s3gw/login: {status} {body[:120]!r} (want 404, no cookie)")
    passed.append(f"the S3 server {s3_base} answers 404 for the dashboard, the API (also with the session cookie) "
                  f"and the login")


def check_cookie(resp, context, passed):
    """The login's Set-Cookie and the cookie the browser keeps: HttpOnly,
    SameSite=Strict, with an expiry (not a browser-session cookie)."""
    set_cookie = resp.all_headers().get("set-cookie", "")
    attrs = [a.strip().lower() for a in set_cookie.split(";")]
    max_age = next((a.split("=", 1)[1] for a in attrs if a.startswith("max-age=")), "")
    if set_cookie.split("=", 1)[0] not in SESSION_COOKIES or "httponly" not in attrs \
            or "samesite=strict" not in attrs or not max_age.isdigit() or int(max_age) <= 0:
        raise Failed(f"the login's Set-Cookie {set_cookie!r} (want {SESSION_COOKIES[0]}, HttpOnly, "
                     f"SameSite=Strict, Max-Age > 0)")
    c = session_cookie(context)
    now = time.time()
    if c is None or not c["httpOnly"] or c["sameSite"] != "Strict" or not now + 60 < c["expires"] <= now + 86400:
        raise Failed(f"the browser's session cookie {c} (want httpOnly, sameSite Strict, expires within a day)")
    passed.append(f"session cookie {c['name']}: HttpOnly, SameSite=Strict, Max-Age {max_age} (expires in "
                  f"{(c['expires'] - now) / 3600:.1f} h), Path {c['path']}")


def check_requests(sent, login_at, logout_at, passed):
    """No request the page made carried an Authorization header (as sent:
    all_headers()); the API polls between the login and Log out carried the
    session cookie (which shows that all_headers() sees what the network
    stack adds)."""
    with_auth, polls, polls_with_cookie = [], 0, 0
    for t, req in sent:
        h = req.all_headers()
        if "authorization" in h:
            with_auth.append(f"{req.method} {req.url}")
        if login_at < t < logout_at and req.url.endswith(API):
            polls += 1
            polls_with_cookie += any(c.strip().split("=", 1)[0] in SESSION_COOKIES
                                     for c in h.get("cookie", "").split(";"))
    if with_auth:
        raise Failed(f"{len(with_auth)} requests of the page carried an Authorization header: {with_auth[:5]}")
    if polls < 3 or polls_with_cookie < polls:
        raise Failed(f"{polls_with_cookie} of {polls} API polls after the login carried the session cookie")
    passed.append(f"none of the {len(sent)} requests of the page carried an Authorization header; all "
                  f"{polls} API polls after the login carried the session cookie")


def login_steps(page, context, cluster, auth, out, passed):
    """Step 2: the login form, a wrong secret, a (faked) 429, the login."""
    url, resp = open_dashboard(page, cluster.base)
    if page.title() != "s3gw cluster":
        raise Failed(f"page title {page.title()!r}")
    csp = resp.all_headers().get("content-security-policy", "")
    missing = [d for d in CSP_MUST if d not in csp]
    if missing:
        raise Failed(f"the page's Content-Security-Policy {csp!r} lacks {missing}")
    _, took = wait("the login form shown (the API answers 401)", LOGIN_LIMIT, lambda: login_form_shown(page), bool)
    passed.append(f"the page {url} is public (200, CSP {'; '.join(CSP_MUST[:3])}) and shows the login form "
                  f"after {took:.1f} s")

    r = submit_login(page, auth[0], auth[1] + "x")
    error, _ = wait("the login form's error after a wrong secret", LOGIN_LIMIT,
                    lambda: page.is_visible("#login-error") and page.text_content("#login-error"), bool)
    if r.status != 401 or "wrong access key or secret" not in error.lower():
        raise Failed(f"a wrong secret: POST ../login {r.status}, the form says {error!r} (want 401 and "
                     f"'wrong access key or secret')")
    if session_cookie(context) or r.all_headers().get("set-cookie"):
        raise Failed(f"a wrong secret set a cookie: {session_cookie(context) or r.all_headers().get('set-cookie')}")
    if not login_form_shown(page):
        raise Failed("after a wrong secret the login form is not shown")
    passed.append(f"a wrong secret: 401, the form says {error!r}, no cookie")
    screenshot(page, os.path.join(out, "login.png"))

    # A 429 with Retry-After, faked in the browser.
    pattern = re.compile(r".*/_s3gw/login$")
    page.route(pattern, lambda route: route.fulfill(
        status=429, headers={"Retry-After": str(FAKE_RETRY_AFTER), "Content-Type": "application/json"},
        body='{"error":"too many failed logins; retry later"}'))
    try:
        submit_login(page, auth[0], auth[1] + "y")
        (error, disabled), _ = wait(
            "the login form's message after a 429", LOGIN_LIMIT,
            lambda: (page.text_content("#login-error") or "", page.is_disabled("#login-submit")),
            lambda v: re.search(r"retry in \d+ s", v[0]) is not None)
        secs = int(re.search(r"retry in (\d+) s", error).group(1))
        if not 0 < secs <= FAKE_RETRY_AFTER or not disabled:
            raise Failed(f"after a 429 with Retry-After {FAKE_RETRY_AFTER}: {error!r}, button disabled {disabled}")
        _, took = wait("the login button enabled again after the Retry-After", FAKE_RETRY_AFTER + 3,
                       lambda: page.is_enabled("#login-submit"), bool)
    finally:
        page.unroute(pattern)
    passed.append(f"a 429 with Retry-After {FAKE_RETRY_AFTER} (faked in the browser): the form says {error!r}, "
                  f"its button is disabled for {secs} s")

    r = log_in(page, auth)
    check_cookie(r, context, passed)
    return time.monotonic()


def access_key_steps(page, context, cluster, passed):
    """Step 7: a non-admin key's pair is refused by the form; an admin
    key's logs in and sees itself listed. The keys are deleted after."""
    tag = f"dash-{os.getpid()}"
    made = []
    try:
        keys = {}
        for name, flags in ((f"{tag}-admin", ["--admin"]), (f"{tag}-app", [])):
            k = json.loads(cluster.admin("key", "create", name, *flags, "--json"))
            made.append(k["access_key_id"])
            keys[name] = (k["access_key_id"], k["secret_access_key"])
        admin_id, admin_secret = keys[f"{tag}-admin"]
        app_id, app_secret = keys[f"{tag}-app"]

        r = submit_login(page, app_id, app_secret)
        error, _ = wait("the login form's error for a non-admin key", LOGIN_LIMIT,
                        lambda: page.is_visible("#login-error") and page.text_content("#login-error"), bool)
        if r.status != 401 or "wrong access key or secret" not in error.lower() or session_cookie(context):
            raise Failed(f"a non-admin key's login: POST ../login {r.status}, the form says {error!r}, cookie "
                         f"{session_cookie(context)} (want 401, 'wrong access key or secret', no cookie)")
        passed.append(f"a non-admin key ({app_id}) is refused by the form: 401, {error!r}, no cookie")

        started = time.monotonic()
        log_in(page, (admin_id, admin_secret))
        snap, took = wait(f"the admin key {admin_id} logged in and listed as an admin", ACCESS_LIMIT,
                          lambda: page.evaluate(ACCESS_JS),
                          lambda a: a["state"] == "ok" and admin_id in a["who"] and a["keys"].get(admin_id) == "yes"
                          and a["keys"].get(app_id) == "no")
        passed.append(f"the admin key {admin_id} logs in through the form: 'logged in as {snap['who']}', "
                      f"{len(snap['keys'])} keys and {snap['buckets']} buckets in the access section "
                      f"({time.monotonic() - started:.1f} s, the view after {took:.1f} s)")
    finally:
        for key_id in made:
            try:
                cluster.admin("key", "delete", key_id)
            except Exception as e:  # cleanup must not hide the test's own failure
                log(f"could not delete access key {key_id}: {type(e).__name__}: {e}")


def run(args, cluster, auth, out, passed):
    from playwright.sync_api import sync_playwright

    bucket = f"dash-{os.getpid()}-{int(time.time())}"
    bucket_made = False
    js_errors = []
    console_errors = []
    sent = []            # (monotonic time, request) of every request the page made
    with sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.on("pageerror", lambda e: js_errors.append(str(e)))
            # Chromium logs every 4xx/5xx fetch ("Failed to load resource"): the
            # 401s before the login are expected; anything else is not.
            page.on("console", lambda m: console_errors.append(m.text)
                    if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
            # Not "requestfinished": a 401 whose body the page never reads
            # does not finish. all_headers() later gives each one as sent.
            page.on("request", lambda r: sent.append((time.monotonic(), r)))
            dash = Dashboard(page)

            # 1-2: no way in without a session; the login.
            check_api_closed(cluster.base, auth, passed)
            login_at = login_steps(page, context, cluster, auth, out, passed)
            cookie = session_cookie(context)
            if cluster.s3_base:
                check_s3_server(cluster.s3_base, auth, f"{cookie['name']}={cookie['value']}", passed)
            else:
                log("fixture: no S3 server to check")

            # 3: everything up.
            snap, took = wait(
                "the 3 gateways and 3 Cassandra nodes shown up", READY_LIMIT, dash.snapshot,
                lambda s: all(gw_state(s, n) == "up" for n in GATEWAYS)
                and sum(v == "up" for v in s["nodes"].values()) >= 3)
            ids = sorted(snap["gateways"])
            passed.append(f"page shows the gateways on 127.0.0.1:9001-9003 and 3 nodes up after {took:.1f} s "
                          f"({snap['gatewaysSummary']!r}, {snap['nodesSummary']!r}; ids {', '.join(ids)})")
            snap, took = wait("logged in as root, the access section filled in", ACCESS_LIMIT,
                              lambda: page.evaluate(ACCESS_JS), lambda a: a["state"] == "ok" and a["who"] == "root")
            passed.append(f"'logged in as root'; the access section lists {len(snap['keys'])} keys and "
                          f"{snap['buckets']} buckets")

            # 4: traffic moves the chart, the bucket shows up.
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

            # 5: kill -9 gateway 2: shown down, restarted, shown up.
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

            # 6: Log out.
            logout_at = time.monotonic()
            page.click("#logout")
            _, took = wait("the login form shown again after Log out", LOGIN_LIMIT, lambda: login_form_shown(page), bool)
            left = session_cookie(context)
            status = context.request.get(cluster.base + API).status
            if left is not None or status != 401:
                raise Failed(f"after Log out: cookie {left}, {API} answers {status} (want no cookie, 401)")
            passed.append(f"Log out: the login form is back after {took:.1f} s, no cookie left, {API} answers 401")

            # 7: access keys: a non-admin key refused, an admin key in.
            if cluster.admin:
                access_key_steps(page, context, cluster, passed)
            else:
                log("fixture: no access keys to make")

            # 8: what the page sent and raised.
            check_requests(sent, login_at, logout_at, passed)
            if js_errors or console_errors:
                raise Failed(f"JavaScript errors on the page: {js_errors[:5]}; console errors: {console_errors[:5]}")
            passed.append("no JavaScript error and no console error (no CSP violation) on the page")
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
        f"({'fixture ' + args.fixture if args.fixture else 'cluster: dashboard via ' + NGINX_ADMIN + ', S3 via ' + NGINX})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
