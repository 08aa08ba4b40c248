#!/usr/bin/env python3
"""A web application in a real browser: headless Chromium (Debian's, driven
by playwright, as scripts/dashboard-browser-test.py drives it) runs a page
served from another origin that uses a bucket the way S3 lets pages do,
against the S3 endpoint given (Nginx on the cluster in the test command).

    .venv/bin/python scripts/browser-test.py [--endpoint URL] [--mib N]

The endpoint's root keys come from S3GW_ROOT_ACCESS_KEY /
S3GW_ROOT_SECRET_KEY, else from the cluster's credentials file. Steps:
  1. From Python (boto3): a new bucket, and CORS rules on it that let the
     page's origin (http://127.0.0.1:PORT, served here) GET, HEAD, PUT and
     POST with the x-amz-meta-* and Content-Type headers and read ETag and
     x-amz-meta-color; nothing for any other origin. The page sets nothing
     up itself: it gets presigned URLs and a presigned POST, as an
     application's server hands them out.
  2. In the page: a PUT to a presigned URL with a signed x-amz-meta-color
     header (so the browser sends a preflight first), reading the ETag
     the rules expose; a POST form (FormData) with a file of N MiB (40 by
     default) built in the page, answered 201 with its document; a GET
     with fetch of what the PUT stored, reading x-amz-meta-color.
  3. A page from a second origin, which no rule allows: its fetch of the
     same presigned GET and its presigned PUT fail as the browser's CORS
     check refuses them (TypeError), and nothing it sent was stored.
  4. A real HTML form (hidden fields from generate_presigned_post, a file
     input): a file chosen and the button clicked, the browser is sent to
     success_action_redirect with the bucket, key and ETag in its query.
  5. From Python: the stored objects are what the page sent (the form's
     file compared byte for byte, by SHA-256), with the page's metadata.
The page must raise no JavaScript error. Every wait is bounded; the
bucket is deleted at the end. Exits 0 when every check passed, 1 otherwise.
"""
import argparse
import hashlib
import html
import http.server
import urllib.parse
import sys
import threading
import time

from dashboard_common import launch
from s3gw_common import Failed, delete_bucket, logger, root_credentials, s3_client

log = logger("browser-test")
MiB = 1024 * 1024
PAGE = b"<!doctype html><html><head><title>web app</title></head><body>app</body></html>"
EVAL_LIMIT_MS = 120_000

ALLOWED_PAGE_JS = """async (a) => {
  const out = {};
  let r = await fetch(a.putUrl, {method: 'PUT', headers: {'x-amz-meta-color': 'red'},
                                 body: new Blob(['written by the page'])});
  out.put = {status: r.status, etag: r.headers.get('ETag'), body: r.status === 200 ? '' : await r.text()};
  const n = a.mib * 1048576;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (i * 31 + 7) & 255;
  const form = new FormData();
  for (const [k, v] of Object.entries(a.postFields)) form.append(k, v);
  form.append('file', new Blob([data], {type: 'application/octet-stream'}), 'big.bin');
  r = await fetch(a.postUrl, {method: 'POST', body: form});
  out.post = {status: r.status, body: await r.text(), etag: r.headers.get('ETag')};
  r = await fetch(a.getUrl);
  out.get = {status: r.status, text: await r.text(), color: r.headers.get('x-amz-meta-color'),
             etag: r.headers.get('ETag')};
  return out;
}"""

OTHER_PAGE_JS = """async (a) => {
  const tryFetch = async (url, init) => {
    try { const r = await fetch(url, init); return 'answered ' + r.status; }
    catch (e) { return 'refused: ' + e.name; }
  };
  return {
    get: await tryFetch(a.getUrl),
    put: await tryFetch(a.putUrl, {method: 'PUT', headers: {'x-amz-meta-color': 'blue'},
                                   body: new Blob(['written by another origin'])}),
  };
}"""


def pattern(mib):
    """The bytes the page builds: byte i is (i * 31 + 7) mod 256."""
    period = bytes((i * 31 + 7) & 255 for i in range(256))
    return period * (mib * MiB // 256)


class Page(http.server.BaseHTTPRequestHandler):
    """The application's pages: /form.html is the upload form (FORM, set
    by the test), every other path the blank page."""
    form = b""

    def do_GET(self):
        body = Page.form if self.path == "/form.html" else PAGE
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_page():
    """An origin of its own: a server on 127.0.0.1 at a free port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def upload_form(url, fields):
    """An HTML form that posts `fields` and a chosen file to `url`, as an
    application renders one from generate_presigned_post."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    return (f'<!doctype html><html><body><form id="upload" action="{html.escape(url)}" method="post" '
            f'enctype="multipart/form-data">{inputs}<input type="file" name="file">'
            f'<button id="send" type="submit">Upload</button></form></body></html>').encode()


def check(what, ok, seen):
    if not ok:
        raise Failed(f"{what}: {seen}")
    log(f"ok: {what}")


def run(endpoint, auth, mib):
    from playwright.sync_api import sync_playwright

    s3 = s3_client(endpoint, auth, retries={"total_max_attempts": 1}, signature_version="s3v4")
    bucket = f"browser-{int(time.time())}"
    s3.create_bucket(Bucket=bucket)
    servers = []
    try:
        app, app_origin = serve_page()
        other, other_origin = serve_page()
        servers = [app, other]
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": [app_origin], "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
            "AllowedHeaders": ["x-amz-meta-*", "Content-Type"],
            "ExposeHeaders": ["ETag", "x-amz-meta-color"], "MaxAgeSeconds": 60}]})
        log(f"bucket {bucket}: CORS for {app_origin}; the other origin is {other_origin}")
        urls = {
            "putUrl": s3.generate_presigned_url(
                "put_object", Params={"Bucket": bucket, "Key": "page/note.txt",
                                      "Metadata": {"color": "red"}}, ExpiresIn=600),
            "getUrl": s3.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": "page/note.txt"}, ExpiresIn=600),
        }
        post = s3.generate_presigned_post(
            bucket, "form/${filename}", Fields={"success_action_status": "201"},
            Conditions=[{"success_action_status": "201"},
                        ["content-length-range", 1, (mib + 1) * MiB]], ExpiresIn=600)
        errors = []
        with sync_playwright() as p:
            browser = launch(p)
            try:
                page = browser.new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.set_default_timeout(EVAL_LIMIT_MS)
                page.goto(app_origin + "/app.html")
                started = time.monotonic()
                out = page.evaluate(ALLOWED_PAGE_JS, {
                    **urls, "postUrl": post["url"], "postFields": post["fields"], "mib": mib})
                secs = time.monotonic() - started
                log(f"the page's PUT, {mib} MiB POST and GET took {secs:.1f} s")
                check("the presigned PUT answered 200 with the exposed ETag",
                      out["put"]["status"] == 200 and out["put"]["etag"], out["put"])
                check(f"the POST form of {mib} MiB answered 201 with its PostResponse",
                      out["post"]["status"] == 201 and "<Key>form/big.bin</Key>" in out["post"]["body"]
                      and out["post"]["etag"], out["post"])
                check("fetch read the object back and the exposed x-amz-meta-color",
                      out["get"] == {"status": 200, "text": "written by the page", "color": "red",
                                     "etag": out["put"]["etag"]}, out["get"])
                page.goto(other_origin + "/app.html")
                out = page.evaluate(OTHER_PAGE_JS, urls)
                check("a page from another origin is refused by the browser",
                      out == {"get": "refused: TypeError", "put": "refused: TypeError"}, out)
                # A real <form>: the file chosen in its input, the button
                # clicked, the browser sent to success_action_redirect.
                redirect = s3.generate_presigned_post(
                    bucket, "chosen/${filename}",
                    Fields={"success_action_redirect": app_origin + "/done"},
                    Conditions=[{"success_action_redirect": app_origin + "/done"}], ExpiresIn=600)
                Page.form = upload_form(redirect["url"], redirect["fields"])
                page.goto(app_origin + "/form.html")
                page.set_input_files("input[type=file]", files=[{
                    "name": "chosen.txt", "mimeType": "text/plain", "buffer": b"chosen in the form"}])
                with page.expect_navigation(url=lambda u: u.startswith(app_origin + "/done")):
                    page.click("#send")
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
                expected_etag = '"' + hashlib.md5(b"chosen in the form").hexdigest() + '"'
                check("the form's submit was redirected with the bucket, key and ETag",
                      query == {"bucket": [bucket], "key": ["chosen/chosen.txt"], "etag": [expected_etag]},
                      page.url)
                check("the pages raised no JavaScript error", not errors, errors)
            finally:
                browser.close()
        got = s3.get_object(Bucket=bucket, Key="page/note.txt")
        check("the PUT stored the page's bytes and metadata, not the other origin's",
              got["Body"].read() == b"written by the page" and got["Metadata"] == {"color": "red"},
              got["Metadata"])
        chosen = s3.get_object(Bucket=bucket, Key="chosen/chosen.txt")["Body"].read()
        check("the file chosen in the HTML form is stored", chosen == b"chosen in the form", chosen)
        body = s3.get_object(Bucket=bucket, Key="form/big.bin")["Body"].read()
        check(f"the form's {mib} MiB file is stored byte for byte",
              hashlib.sha256(body).digest() == hashlib.sha256(pattern(mib)).digest(), len(body))
    finally:
        for server in servers:
            server.shutdown()
        delete_bucket(s3, bucket)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", default="http://127.0.0.1:8080")
    ap.add_argument("--mib", type=int, default=40)
    args = ap.parse_args()

    def from_cluster():
        from cluster_procs import cluster_credentials
        return cluster_credentials()

    auth = root_credentials(from_cluster)
    try:
        run(args.endpoint, auth, args.mib)
    except Failed as e:
        log(f"FAILED: {e}")
        return 1
    log("every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
