#!/usr/bin/env python3
"""A stand-in for the dashboard endpoints of the gateway's admin listener
(--admin-listen), for front-end work on src/dashboard/assets without
building or running s3gw or Cassandra. Kept in the repo on purpose: edit the
assets, reload the page, no cargo build.

    python3 scripts/dashboard-fixture.py [--port 8099] [--down-after 20] ...
    open http://127.0.0.1:8099/_s3gw/dashboard/   (log in: fixture / fixture)

Listens on 127.0.0.1 only and answers as the gateway's admin listener does
(the root keys are S3GW_ROOT_ACCESS_KEY / S3GW_ROOT_SECRET_KEY if set, else
fixture/fixture):
  /                            303 to /_s3gw/dashboard/ (/_s3gw/dashboard: 308)
  /_s3gw/dashboard/            index.html, app.js, style.css read from
                               src/dashboard/assets on every request; public
  /_s3gw/api/cluster           401 {"error":"login needed"} without a valid
                               session cookie; with one, a fake, changing
                               cluster in the JSON shape of the real endpoint:
                               gateways gw1..gwN beating every 2 s (down 6 s
                               after their last beat), Cassandra nodes, buckets
                               refreshed by a usage scan every --scan-every s,
                               and 5 s throughput points over the last 10
                               minutes (prefilled)
  /_s3gw/api/access            401 likewise; with a session, the access view
                               of the real endpoint: logged in as root, three
                               fake keys (one admin), and the fixture's
                               buckets (the first 1000) with grants
  POST /_s3gw/login            form body access_key, secret_key (<= 4 KiB):
                               204 + Set-Cookie s3gw_session (HttpOnly,
                               SameSite=Strict, Max-Age 8 h; __Host- and Secure
                               with X-Forwarded-Proto: https), 401 wrong keys,
                               429 + Retry-After per client address (5 failures
                               free, then 2^(n-5) s after the last, cap 300 s),
                               403 cross-site (Origin, Sec-Fetch-Site), 415
                               other content types, 413 over 4 KiB
  POST /_s3gw/logout           204, the cookie cleared (Max-Age=0)
  /_s3gw/health, /_s3gw/ready  200
Every answer carries the contract's CSP and security headers, so an inline
script or style breaks here as it would on the gateway. Sessions are
stateless (an HMAC of the expiry under a key derived from the secret), as on
the gateway: logging out clears the cookie, the token stays valid until it
expires.

Without a session, POST endpoints that poke the fake cluster (used by
`scripts/dashboard-browser-test.py --fixture URL`):
  /_fixture/traffic?requests=N&bytes_in=B&bytes_out=B&bucket=NAME&objects=K
                               N extra requests spread over the up gateways in
                               the next 2 s; creates NAME with K objects of
                               bytes_in/K bytes (seen after the next scan)
  /_fixture/kill?gateway=ID    ID stops beating (as after kill -9)
  /_fixture/start?gateway=ID   ID beats again, with a new start time
  /_fixture/delete-bucket?bucket=NAME
Options make the page's other states reachable: --backend embedded,
--fail-every N (every Nth API call answers 503), --down-after S (gateway 2
stops beating S s after start), --session-secs S (sessions expire sooner),
--gateways N, --buckets N.
"""
import argparse
import hashlib
import hmac
import json
import math
import os
import random
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from s3gw_common import ROOT, logger

ASSETS = os.path.join(ROOT, "src", "dashboard", "assets")
CONTENT_TYPES = {"index.html": "text/html; charset=utf-8",
                 "app.js": "text/javascript; charset=utf-8",
                 "style.css": "text/css; charset=utf-8"}
BEAT_S = 2.0          # a gateway's heartbeat period
DOWN_AFTER_S = 6.0    # up = last beat younger than this
WINDOW_S = 10         # per-gateway rates are over the last 10 s
STEP_S = 5            # throughput points
HISTORY_S = 600
SESSION_S = 8 * 3600  # Max-Age of the session cookie
LOGIN_BODY_MAX = 4096
FREE_FAILURES = 5     # failed logins per client address before the waits start
MAX_WAIT_S = 300
FORGET_S = 15 * 60    # failures are forgotten this long after the last one
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]

log = logger("fixture")
log_request = logger("fixture", stderr=True)


def now_ms():
    return int(time.time() * 1000)


class Gateway:
    def __init__(self, n, started):
        self.id = f"gw{n}"
        self.address = f"127.0.0.1:{9000 + n}"
        self.started = started
        self.stopped_at = None    # wall time of the "kill": no beat after it
        self.per_s = {}           # whole second -> [requests, errors, bytes_in, bytes_out]

    def last_beat(self, t):
        end = t if self.stopped_at is None else min(t, self.stopped_at)
        return self.started + math.floor((end - self.started) / BEAT_S) * BEAT_S

    def up(self, t):
        return t - self.last_beat(t) < DOWN_AFTER_S


class Cluster:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.calls = 0
        t = time.time()
        # Gateway 1 has run for two days, the others were restarted later.
        self.gateways = [Gateway(n, t - (172800 if n == 1 else 3600 * n + 5 * n)) for n in range(1, args.gateways + 1)]
        self.pending = []          # [second, requests, bytes_in, bytes_out] not yet spread
        self.buckets = {}          # name -> [objects, bytes]
        names = ["logs", "backups", "media-assets", "ci-artifacts", "x<b>not-bold</b>&amp;"]
        for i in range(args.buckets):
            name = names[i] if i < len(names) else f"bucket-{i:04d}"
            self.buckets[name] = [self.rng.randint(0, 50000), self.rng.randint(0, 2 * 10**10)]
        self.scan_ms = None
        self.scanned = {}
        self.auto_killed = False
        self.started = t
        self.filled_to = int(t) - HISTORY_S - WINDOW_S
        self.fill(int(t))

    def arrivals(self, n, second):
        """Requests gateway n served by the end of second: the integral of a
        rate that wobbles with periods of 300 s and 20 s. Both divide 600 s,
        so every 10-minute window holds the same number of requests, and the
        chart's total only moves with poked traffic (or a gateway going down)."""
        b, t = self.args.background, second + 37 * n
        return math.floor(b * (t - 0.6 * 300 / (2 * math.pi) * math.cos(2 * math.pi * t / 300)
                                 - 0.3 * 20 / (2 * math.pi) * math.cos(2 * math.pi * t / 20)))

    def fill(self, upto):
        """Records whole seconds up to (excluding) upto for every gateway."""
        for s in range(self.filled_to, upto):
            ups = [g for g in self.gateways if g.up(s + 0.5) and g.started <= s]
            extra = [p for p in self.pending if p[0] <= s]
            for n, g in enumerate(self.gateways, start=1):
                if g not in ups:
                    continue
                req = self.arrivals(n, s + 1) - self.arrivals(n, s)
                err = sum(1 for _ in range(req) if self.rng.random() < 0.01)
                g.per_s[s] = [req, err, req * self.rng.randint(0, 200_000), req * self.rng.randint(0, 400_000)]
            for p in extra:
                # Spread the poked traffic over the up gateways (Nginx round robin).
                share = len(ups) or 1
                for i, g in enumerate(ups):
                    part = p[1] // share + (1 if i < p[1] % share else 0)
                    row = g.per_s.setdefault(s, [0, 0, 0, 0])
                    row[0] += part
                    row[2] += p[2] // share
                    row[3] += p[3] // share
                self.pending.remove(p)
        self.filled_to = max(self.filled_to, upto)
        for g in self.gateways:
            for s in [s for s in g.per_s if s < upto - HISTORY_S - WINDOW_S]:
                del g.per_s[s]

    def snapshot(self):
        with self.lock:
            t = time.time()
            if self.args.down_after is not None and t - self.started >= self.args.down_after:
                g2 = self.gateways[min(1, len(self.gateways) - 1)]
                if not self.auto_killed:
                    g2.stopped_at = self.started + self.args.down_after
                    self.auto_killed = True
            self.fill(int(t))
            if self.scan_ms is None or t * 1000 - self.scan_ms >= self.args.scan_every * 1000:
                self.scan_ms = now_ms()
                self.scanned = {k: list(v) for k, v in self.buckets.items()}
            return self.render(t)

    def render(self, t):
        sec = int(t)
        gateways = []
        for g in self.gateways:
            ref = sec if g.up(t) else int(g.last_beat(t))   # a down gateway keeps its last figures
            window = [g.per_s.get(s, [0, 0, 0, 0]) for s in range(ref - WINDOW_S, ref)]
            req = sum(w[0] for w in window)
            err = sum(w[1] for w in window)
            gateways.append({
                "id": g.id, "address": g.address, "version": "0.1.0",
                "started_ms": int(g.started * 1000), "last_seen_ms": int(g.last_beat(t) * 1000),
                "up": g.up(t),
                "requests_per_s": req / WINDOW_S, "errors_per_s": err / WINDOW_S,
                "error_rate": err / req if req else 0.0,
                "p99_ms": round(self.rng.uniform(8, 60), 1) if req else None,
                "in_flight": self.rng.randint(0, 4) if g.up(t) and req else 0,
                "bytes_in_per_s": sum(w[2] for w in window) / WINDOW_S,
                "bytes_out_per_s": sum(w[3] for w in window) / WINDOW_S,
            })
        points = []
        last_full = sec - sec % STEP_S
        for start in range(last_full - HISTORY_S, last_full, STEP_S):
            tot = [0, 0, 0, 0]
            for g in self.gateways:
                if not g.up(t):
                    continue
                for s in range(start, start + STEP_S):
                    for i, v in enumerate(g.per_s.get(s, (0, 0, 0, 0))):
                        tot[i] += v
            points.append({"t_ms": start * 1000, "requests_per_s": tot[0] / STEP_S, "errors_per_s": tot[1] / STEP_S,
                           "bytes_in_per_s": tot[2] / STEP_S, "bytes_out_per_s": tot[3] / STEP_S})
        embedded = self.args.backend == "embedded"
        nodes = [] if embedded else [
            {"address": f"127.0.0.{i}:9042", "datacenter": "datacenter1", "up": True,
             "load_bytes": None if i == 3 else 123_456_789 * i, "status": "NORMAL"}
            for i in range(1, self.args.nodes + 1)]
        items = [{"name": k, "objects": v[0], "bytes": v[1]} for k, v in sorted(self.scanned.items())]
        return {
            "now_ms": int(t * 1000), "backend": self.args.backend, "answered_by": "gw1",
            "gateways": gateways, "nodes": nodes,
            "buckets": {"as_of_ms": self.scan_ms, "count": len(items), "items": items},
            "throughput": {"step_s": STEP_S, "points": points},
        }

    def access(self):
        """The JSON of GET /_s3gw/api/access: fake keys, the buckets of the
        fixture (as of the last scan) with grants, logged in as root."""
        with self.lock:
            t = now_ms()
            keys = [{"access_key_id": f"S3GWFIXTURE0000000{i}", "name": name, "created_ms": t - 86400_000 * i,
                     "create_bucket": i != 2, "admin": i == 1}
                    for i, name in enumerate(["backup", "ops", "reader"])]
            names = sorted(self.buckets)
            items = []
            for n, name in enumerate(names[:1000]):
                owner = keys[0]["access_key_id"] if n % 2 else "root"
                grants = {owner: "rwo"} if owner != "root" else {}
                if n % 3 == 0:
                    grants[keys[2]["access_key_id"]] = "r"
                items.append({"name": name, "owner": owner, "grants": grants, "grants_truncated": False})
            return {"now_ms": t, "logged_in": {"root": True, "access_key_id": None, "name": "root"},
                    "keys": {"total": len(keys), "truncated": False, "items": keys},
                    "buckets": {"total": len(names), "truncated": len(names) > 1000, "items": items}}

    def poke(self, action, q):
        with self.lock:
            self.fill(int(time.time()))
            one = lambda k, d=None: q.get(k, [d])[0]
            if action == "traffic":
                n = int(one("requests", "120"))
                b_in, b_out = int(one("bytes_in", "0")), int(one("bytes_out", "0"))
                s = int(time.time())
                self.pending += [[s, n // 2, b_in // 2, b_out // 2], [s + 1, n - n // 2, b_in - b_in // 2, b_out - b_out // 2]]
                if one("bucket"):
                    self.buckets[one("bucket")] = [int(one("objects", "0")), b_in]
                return {"ok": True}
            if action in ("kill", "start"):
                g = next((g for g in self.gateways if g.id == one("gateway")), None)
                if g is None:
                    return None
                if action == "kill":
                    g.stopped_at = time.time()
                else:
                    g.stopped_at, g.started = None, time.time()
                return {"ok": True, "gateway": g.id}
            if action == "delete-bucket":
                return {"ok": self.buckets.pop(one("bucket", ""), None) is not None}
            return None


class Sessions:
    """Login, tokens and the per-address throttle of the contract. A token is
    "<expiry>.<hmac of it>" under a key derived from the root pair: valid
    until it expires, whoever answers, as on the gateway."""

    def __init__(self, access_key, secret_key):
        self.access_key = access_key
        self.secret_key = secret_key
        self.key = hashlib.sha256(b"s3gw-fixture-session\0" + f"{access_key}\0{secret_key}".encode()).digest()
        self.lock = threading.Lock()
        self.failures = {}        # client address -> (count, time of the last failure)
        self.session_s = SESSION_S

    def _mac(self, expiry):
        return hmac.new(self.key, str(expiry).encode(), hashlib.sha256).hexdigest()

    def issue(self):
        expiry = int(time.time()) + self.session_s
        return f"{expiry}.{self._mac(expiry)}"

    def valid(self, token):
        expiry, _, mac = (token or "").partition(".")
        return expiry.isdigit() and hmac.compare_digest(mac, self._mac(int(expiry))) and int(expiry) > time.time()

    def wait_s(self, addr):
        """Seconds addr must still wait before its next attempt, or 0."""
        with self.lock:
            n, last = self.failures.get(addr, (0, 0.0))
            now = time.time()
            if n and now - last > FORGET_S:
                del self.failures[addr]
                return 0
            if n < FREE_FAILURES:
                return 0
            return max(0.0, last + min(MAX_WAIT_S, 2 ** (n - FREE_FAILURES)) - now)

    def attempt(self, addr, access_key, secret_key):
        ok = hmac.compare_digest(access_key.encode(), self.access_key.encode()) & \
            hmac.compare_digest(secret_key.encode(), self.secret_key.encode())
        with self.lock:
            if ok:
                self.failures.pop(addr, None)
            else:
                n, _ = self.failures.get(addr, (0, 0.0))
                self.failures[addr] = (n + 1, time.time())
        return ok


class Handler(BaseHTTPRequestHandler):
    cluster = None
    sessions = None
    server_version = "s3gw-dashboard-fixture"

    def log_message(self, fmt, *a):
        if self.cluster.args.verbose:
            log_request(fmt % a)

    def send(self, status, body, ctype, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in SECURITY_HEADERS + list(extra):
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, extra=()):
        return self.send(status, json.dumps(obj).encode(), "application/json", extra)

    def https(self):
        return self.headers.get("X-Forwarded-Proto", "").strip().lower() == "https"

    def cookie_name(self):
        return "__Host-s3gw_session" if self.https() else "s3gw_session"

    def set_cookie(self, value, max_age):
        secure = " Secure;" if self.https() else ""
        return ("Set-Cookie", f"{self.cookie_name()}={value}; Path=/; Max-Age={max_age};{secure} HttpOnly; SameSite=Strict")

    def session_token(self):
        """The token of the session cookie this request may use (only the
        __Host- name behind https), or None."""
        for header in self.headers.get_all("Cookie") or []:
            for part in header.split(";"):
                name, _, value = part.strip().partition("=")
                if name == self.cookie_name():
                    return value
        return None

    def cross_site(self):
        """The contract's origin check: an Origin whose host[:port] is not
        Host, or a Sec-Fetch-Site other than same-origin / none."""
        origin = self.headers.get("Origin")
        if origin is not None and urllib.parse.urlsplit(origin).netloc.lower() != self.headers.get("Host", "").lower():
            return True
        site = self.headers.get("Sec-Fetch-Site")
        return site is not None and site not in ("same-origin", "none")

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/":
            return self.send(303, b"", "text/plain", [("Location", "/_s3gw/dashboard/")])
        if path == "/_s3gw/dashboard":
            return self.send(308, b"", "text/plain", [("Location", "/_s3gw/dashboard/")])
        if path in ("/_s3gw/health", "/_s3gw/ready"):
            return self.send(200, b"ok\n", "text/plain")
        if path.startswith("/_s3gw/dashboard/"):
            name = path[len("/_s3gw/dashboard/"):] or "index.html"
            if name not in CONTENT_TYPES:
                return self.send(404, b"not found\n", "text/plain")
            with open(os.path.join(ASSETS, name), "rb") as f:
                return self.send(200, f.read(), CONTENT_TYPES[name])
        if path == "/_s3gw/api/cluster" and self.command == "GET":
            if not self.sessions.valid(self.session_token()):
                return self.send_json(401, {"error": "login needed"})
            self.cluster.calls += 1
            n = self.cluster.args.fail_every
            if n and self.cluster.calls % n == 0:
                return self.send_json(503, {"error": "fixture: simulated failure"})
            return self.send_json(200, self.cluster.snapshot())
        if path == "/_s3gw/api/access" and self.command == "GET":
            if not self.sessions.valid(self.session_token()):
                return self.send_json(401, {"error": "login needed"})
            return self.send_json(200, self.cluster.access())
        if path in ("/_s3gw/login", "/_s3gw/logout"):
            return self.send(405, b"method not allowed\n", "text/plain", [("Allow", "POST")])
        return self.send(404, b"not found\n", "text/plain")

    do_HEAD = do_GET

    def do_POST(self):
        parts = urllib.parse.urlsplit(self.path)
        if parts.path == "/_s3gw/login":
            return self.login()
        if parts.path == "/_s3gw/logout":
            if self.cross_site():
                return self.send_json(403, {"error": "cross-site request refused"})
            return self.send(204, b"", "text/plain", [self.set_cookie("", 0)])
        if not parts.path.startswith("/_fixture/"):
            return self.send(404, b"not found\n", "text/plain")
        result = self.cluster.poke(parts.path[len("/_fixture/"):], urllib.parse.parse_qs(parts.query))
        if result is None:
            return self.send(400, b'{"ok":false}', "application/json")
        return self.send(200, json.dumps(result).encode(), "application/json")

    def login(self):
        if self.cross_site():
            return self.send_json(403, {"error": "cross-site request refused"})
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return self.send_json(415, {"error": "send application/x-www-form-urlencoded"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > LOGIN_BODY_MAX:
            self.close_connection = True
            return self.send_json(413, {"error": "body over 4 KiB"})
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True)
        addr = self.client_address[0]
        wait = self.sessions.wait_s(addr)
        if wait > 0:
            return self.send_json(429, {"error": "too many failed logins; retry later"},
                                  [("Retry-After", str(math.ceil(wait)))])
        one = lambda k: form.get(k, [""])[0]
        if not self.sessions.attempt(addr, one("access_key"), one("secret_key")):
            return self.send_json(401, {"error": "wrong access key or secret"})
        return self.send(204, b"", "text/plain", [self.set_cookie(self.sessions.issue(), self.sessions.session_s)])

    def do_PUT(self):
        return self.send(405, b"method not allowed\n", "text/plain")

    do_DELETE = do_PATCH = do_PUT


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--gateways", type=int, default=3)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--buckets", type=int, default=1000)
    ap.add_argument("--backend", choices=["cassandra", "embedded"], default="cassandra")
    ap.add_argument("--background", type=float, default=2.0, help="requests/s per gateway at rest")
    ap.add_argument("--scan-every", type=float, default=3.0, help="usage scan period, s")
    ap.add_argument("--down-after", type=float, help="gateway 2 stops beating this many s after start")
    ap.add_argument("--fail-every", type=int, default=0, help="every Nth API call answers 503")
    ap.add_argument("--session-secs", type=int, default=SESSION_S, help="Max-Age of a session")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--verbose", action="store_true", help="log every request")
    args = ap.parse_args()
    user = os.environ.get("S3GW_ROOT_ACCESS_KEY") or "fixture"
    password = os.environ.get("S3GW_ROOT_SECRET_KEY") or "fixture"
    Handler.sessions = Sessions(user, password)
    Handler.sessions.session_s = args.session_secs
    Handler.cluster = Cluster(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    log(f"http://127.0.0.1:{server.server_port}/_s3gw/dashboard/ (log in with access key {user})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
