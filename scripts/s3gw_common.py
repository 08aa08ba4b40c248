"""What the Python scripts of scripts/ share: the log line under each
script's own prefix, the Failed exception of the checks, the root keys
(from the environment, else where the caller says), a boto3 S3 client for
an endpoint and the deletion of a bucket with what it holds, plain HTTP
requests, a process's command line, and one CQL statement through
scripts/cql-ready.py. The processes of scripts/cluster are in
scripts/cluster_procs.py.

boto3 is imported only when a client is made: scripts/bench and the
dashboard's fixture mode run without it."""
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CQL_READY = os.path.join(ROOT, "scripts", "cql-ready.py")
ACCESS_KEY_VAR = "S3GW_ROOT_ACCESS_KEY"
SECRET_KEY_VAR = "S3GW_ROOT_SECRET_KEY"


def logger(prefix, stderr=False):
    """A log(msg) that prints "[prefix] msg" to stdout (stderr with
    stderr=True) and flushes."""
    def log(msg):
        print(f"[{prefix}] {msg}", file=sys.stderr if stderr else None, flush=True)
    return log


class Failed(Exception):
    """A check that did not pass."""


# ------------------------------------------------------------ credentials

def env_credentials():
    """(access key, secret key) from S3GW_ROOT_ACCESS_KEY and
    S3GW_ROOT_SECRET_KEY; KeyError naming the one that is missing."""
    return os.environ[ACCESS_KEY_VAR], os.environ[SECRET_KEY_VAR]


def root_credentials(otherwise):
    """The root keys from the environment when both are set (and not
    empty), else otherwise()."""
    ak, sk = os.environ.get(ACCESS_KEY_VAR), os.environ.get(SECRET_KEY_VAR)
    if ak and sk:
        return ak, sk
    return otherwise()


def read_credentials(path):
    """The root keys in a file of NAME=value lines (what `scripts/cluster
    up` stores)."""
    values = {}
    with open(path) as f:
        for line in f:
            name, _, value = line.strip().partition("=")
            values[name] = value
    return values[ACCESS_KEY_VAR], values[SECRET_KEY_VAR]


# ------------------------------------------------------------ S3

def s3_client(endpoint, auth, **config):
    """A boto3 S3 client for endpoint with the keys auth, region us-east-1
    and path-style addressing; config is the rest of botocore's Config
    (retries, timeouts, signature_version, max_pool_connections), as each
    caller wants it."""
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=auth[0], aws_secret_access_key=auth[1],
        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, **config))


def delete_bucket(s3, bucket, uploads=False):
    """Deletes every object of bucket through the client s3 (with uploads,
    aborts its multipart uploads too), then the bucket."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    if uploads:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for u in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    s3.delete_bucket(Bucket=bucket)


# ------------------------------------------------------------ HTTP

def http_status(url, timeout):
    """The status of a GET of url (redirects followed), or None when
    nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


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


# ------------------------------------------------------------ processes

def cmdline(pid):
    """The command line of pid, arguments joined by spaces; OSError when it
    is gone."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode()


def run_cql(statement, cql_timeout, **run):
    """One statement against 127.0.0.1:9042 through scripts/cql-ready.py,
    which waits up to cql_timeout s for the node; its output captured, the
    rest of subprocess.run's arguments (check, text, timeout) as given."""
    return subprocess.run([sys.executable, CQL_READY, "--host", "127.0.0.1", "--timeout", str(cql_timeout),
                           "-e", statement], capture_output=True, **run)
