"""What the dashboard's browser test (scripts/dashboard-browser-test.py) and
its scale step (scripts/dashboard_scale.py) both use: the log line and the
Failed exception, a GET with Basic credentials, a process's command line,
Debian's chromium launched headless, and the bounded wait every check polls
with, plus the full-page screenshot."""
import base64
import os
import shutil
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KiB = 1024
PAGE_SIZE = 50            # bucket rows on one page of the dashboard's table


def log(msg):
    print(f"[dashboard-test] {msg}", flush=True)


class Failed(Exception):
    pass


def cmdline(pid):
    """The command line of pid, arguments joined by spaces; OSError when it
    is gone."""
    return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()


def http_get(url, auth=None):
    """(status, headers, body) of a GET; auth is (user, password) or None."""
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


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
