"""What the dashboard's browser test (scripts/dashboard-browser-test.py) and
its scale step (scripts/dashboard_scale.py) both use: their log line, the
login with the root keys (from Python, for a session cookie; and through
the page's own form), the page loaded in the browser, Debian's chromium
launched headless, and the bounded wait every check polls with, plus the
full-page screenshot. What is not the dashboard's own (Failed, plain HTTP,
command lines) is in scripts/s3gw_common.py.

The dashboard lives on the gateways' admin listeners (--admin-listen): its
page is public, its API answers 401 until POST /_s3gw/login has set the
session cookie."""
import shutil
import time

from s3gw_common import Failed, http_post_form, logger

KiB = 1024
PAGE_SIZE = 50            # bucket rows on one page of the dashboard's table
# The session cookie's names: the second one when the request came through
# TLS (X-Forwarded-Proto: https).
SESSION_COOKIES = ("s3gw_session", "__Host-s3gw_session")
LOGIN_LIMIT = 15.0        # the login form shown, or gone after a login

log = logger("dashboard-test")


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


def open_dashboard(page, base):
    """Loads base/_s3gw/dashboard/ in the page; returns (url, the
    playwright Response). Failed unless it answered 200."""
    url = f"{base}/_s3gw/dashboard/"
    resp = page.goto(url, timeout=30000)
    if resp is None or resp.status != 200:
        raise Failed(f"GET {url} in chromium: {resp.status if resp else 'no response'}")
    return url, resp


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
    """Logs in through the page's form with the keys auth; returns the
    answer to POST ../login once the form is gone and the dashboard shown."""
    resp = submit_login(page, *auth)
    if resp.status != 204:
        raise Failed(f"the login form as {auth[0]}: POST ../login answered {resp.status} {resp.text()[:200]!r}")
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
