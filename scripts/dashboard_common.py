"""What the dashboard's browser test (scripts/dashboard-browser-test.py) and
its scale step (scripts/dashboard_scale.py) both use: the log line and the
Failed exception, plain GETs and form POSTs, the login with the root keys
(from Python, for a session cookie; and through the page's own form), a
process's command line, Debian's chromium launched headless, and the bounded
wait every check polls with, plus the full-page screenshot.

The dashboard lives on the gateways' admin listeners (--admin-listen): its
page is public, its API answers 401 until POST /_s3gw/login has set the
session cookie."""
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KiB = 1024
PAGE_SIZE = 50            # bucket rows on one page of the dashboard's table
# The session cookie's names: the second one when the request came through
# TLS (X-Forwarded-Proto: https).
SESSION_COOKIES = ("s3gw_session", "__Host-s3gw_session")
LOGIN_LIMIT = 15.0        # the login form shown, or gone after a login


def log(msg):
    print(f"[dashboard-test] {msg}", flush=True)


class Failed(Exception):
    pass


def cmdline(pid):
    """The command line of pid, arguments joined by spaces; OSError when it
    is gone."""
    return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def http(method, url, body=None, headers=None):
    """(status, headers, body) of one request; no redirect is followed."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def http_get(url, cookie=None, headers=None):
    """(status, headers, body) of a GET; cookie is a Cookie header value."""
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = cookie
    return http("GET", url, headers=h)


def http_post_form(url, fields):
    """(status, headers, body) of a POST of fields as a form body."""
    return http("POST", url, urllib.parse.urlencode(fields).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})


def login(base, auth):
    """Logs in at base (an admin listener, or Nginx's admin server) with the
    root keys auth; returns the Cookie header value ("name=token") that the
    API wants."""
    status, headers, body = http_post_form(f"{base}/_s3gw/login", {"access_key": auth[0], "secret_key": auth[1]})
    if status != 204:
        raise Failed(f"POST {base}/_s3gw/login with the root keys: {status} {body[:200]!r}")
    for line in headers.get_all("Set-Cookie") or []:
        pair = line.split(";", 1)[0].strip()
        if pair.split("=", 1)[0] in SESSION_COOKIES:
            return pair
    raise Failed(f"POST {base}/_s3gw/login answered 204 without a session cookie: {headers.get_all('Set-Cookie')}")


def session_cookie(context):
    """The browser context's session cookie (a playwright cookie dict), or None."""
    return next((c for c in context.cookies() if c["name"] in SESSION_COOKIES), None)


def login_form_shown(page):
    return page.is_visible("#login-form") and not page.is_visible("#dashboard")


def submit_login(page, access_key, secret_key):
    """Fills the page's login form (waiting until it is shown) and submits
    it with its button; returns the answer to POST ../login (a playwright
    Response) once the page has it."""
    wait("the login form shown", LOGIN_LIMIT, lambda: login_form_shown(page), bool)
    page.fill("#login-access-key", access_key)
    page.fill("#login-secret-key", secret_key)
    with page.expect_response(lambda r: r.url.endswith("/_s3gw/login") and r.request.method == "POST",
                              timeout=LOGIN_LIMIT * 1000) as answer:
        page.click("#login-submit")
    return answer.value


def log_in(page, auth):
    """Logs in through the page's form with the root keys; returns the
    answer to POST ../login once the form is gone and the dashboard shown."""
    resp = submit_login(page, *auth)
    if resp.status != 204:
        raise Failed(f"the login form with the root keys: POST ../login answered {resp.status} {resp.text()[:200]!r}")
    wait("the dashboard shown instead of the login form after the login", LOGIN_LIMIT,
         lambda: page.is_visible("#dashboard") and not page.is_visible("#login"), bool)
    return resp


def launch(p):
    return p.chromium.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium",
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])


def wait(what, limit, probe, ok):
    """Polls probe() until ok(value); returns (value, seconds). Raises
    Failed naming what and the last value seen after limit seconds."""
    started = time.monotonic()
    while True:
        value = probe()
        if ok(value):
            return value, time.monotonic() - started
        if time.monotonic() - started > limit:
            raise Failed(f"{what}: not within {limit:.0f} s; last seen {value}")
        time.sleep(0.1)


def screenshot(page, path):
    page.screenshot(path=path, full_page=True)
    log(f"screenshot: {path}")
