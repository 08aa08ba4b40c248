#!/usr/bin/env python3
"""Minimal CQL native protocol v4 client (stdlib only) for scripts/cassandra.

Readiness check (default mode): every host answers CQL, and every host sees
the whole cluster: N-1 usable rows in system.peers (rpc_address, host_id and
tokens set), N endpoints in NORMAL state in system_views.gossip_info, and a
single schema version.

  cql-ready.py [--nodes N] [--hosts H1,H2,..] [--wait SECS] [--pid PID ...]
  cql-ready.py --cql-only --hosts H [--wait SECS]   (only: does H answer CQL?)

  Hosts default to 127.0.0.1 .. 127.0.0.N. Without --wait it checks once.
  With --wait it retries until ready or SECS have passed; with --pid it gives
  up as soon as one of those processes has exited.
  Exit status: 0 ready, 1 not ready (or timed out), 3 a watched pid exited.

Query helper:

  cql-ready.py [--host H] [--consistency ONE] [--keyspace KS] -e CQL [-e CQL ...]
  cql-ready.py [--host H] ... -f FILE        (statements from FILE, - = stdin)

  Runs the statements in order on one connection and prints the rows of each
  result as tab-separated lines with a header line (--no-header to omit it).
  After a schema change it waits (up to 30 s) for schema agreement, as the
  drivers do. Exit status: 0 ok, 1 error (the server's message on stderr).

Authentication and TLS (both modes):

  --user U --password P   log in (SASL PLAIN, e.g. PasswordAuthenticator);
                          default: $S3GW_CASSANDRA_USERNAME, $S3GW_CASSANDRA_PASSWORD
  --tls-ca FILE           connect with TLS, verifying the server's certificate
                          (and its IP/name) against the CA certificates in FILE
  --tls-cert FILE --tls-key FILE
                          client certificate and its key (PEM) for servers that
                          require one; default: $S3GW_CASSANDRA_TLS_CA_FILE,
                          $S3GW_CASSANDRA_TLS_CERT_FILE, $S3GW_CASSANDRA_TLS_KEY_FILE
  Any of the three TLS files turns TLS on (without --tls-ca the system's CAs
  are trusted). A failed login is an error in query mode (exit 1); readiness
  with --wait retries it (a new cluster's superuser appears late). With
  --cql-only, a host that asks for a login nobody gave counts as answering CQL.
"""

import argparse
import datetime
import decimal
import ipaddress
import os
import socket
import ssl
import struct
import sys
import time
import uuid

VERSION = 0x04
OP_ERROR, OP_STARTUP, OP_READY, OP_AUTHENTICATE = 0x00, 0x01, 0x02, 0x03
OP_QUERY, OP_RESULT = 0x07, 0x08
OP_AUTH_CHALLENGE, OP_AUTH_RESPONSE, OP_AUTH_SUCCESS = 0x0E, 0x0F, 0x10
RESULT_VOID, RESULT_ROWS, RESULT_SET_KEYSPACE, RESULT_SCHEMA_CHANGE = 1, 2, 3, 5
CONSISTENCY = {"ANY": 0, "ONE": 1, "TWO": 2, "THREE": 3, "QUORUM": 4, "ALL": 5,
               "LOCAL_QUORUM": 6, "EACH_QUORUM": 7, "SERIAL": 8, "LOCAL_SERIAL": 9,
               "LOCAL_ONE": 10}


class CqlError(Exception):
    """An ERROR frame, a protocol violation or a connection problem."""


class ServerError(CqlError):
    """An ERROR frame: the server's error code and message."""

    def __init__(self, text, code, message):
        super().__init__(text)
        self.code, self.message = code, message


class LoginRequired(CqlError):
    """The server asked for a login and no credentials were given."""


# ---------------------------------------------------------------- encoding

def _short(n):
    return struct.pack(">H", n)


def _string(s):
    b = s.encode()
    return _short(len(b)) + b


def _long_string(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise CqlError("truncated frame body")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def byte(self):
        return self.take(1)[0]

    def short(self):
        return struct.unpack(">H", self.take(2))[0]

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def string(self):
        return self.take(self.short()).decode("utf-8", "replace")

    def string_list(self):
        return [self.string() for _ in range(self.short())]

    def bytes(self):
        n = self.int()
        return None if n < 0 else self.take(n)

    def option(self):
        tid = self.short()
        if tid == 0x0000:                      # custom
            return (tid, self.string())
        if tid in (0x0020, 0x0022):            # list, set
            return (tid, self.option())
        if tid == 0x0021:                      # map
            return (tid, self.option(), self.option())
        if tid == 0x0030:                      # UDT
            ks, name = self.string(), self.string()
            fields = [(self.string(), self.option()) for _ in range(self.short())]
            return (tid, ks, name, fields)
        if tid == 0x0031:                      # tuple
            return (tid, [self.option() for _ in range(self.short())])
        return (tid,)


# ---------------------------------------------------------------- decoding

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def decode(typ, b):
    """Decode one value (bytes or None) of type option `typ` to a Python value."""
    if b is None:
        return None
    tid = typ[0]
    if tid in (0x0001, 0x000D):                # ascii, varchar
        return b.decode("utf-8", "replace")
    if tid in (0x0002, 0x0005, 0x0009, 0x0012, 0x0013, 0x0014):  # bigint counter int time smallint tinyint
        return int.from_bytes(b, "big", signed=True)
    if tid == 0x000E:                          # varint
        return int.from_bytes(b, "big", signed=True)
    if tid == 0x0004:                          # boolean
        return b != b"\x00"
    if tid == 0x0007:                          # double
        return struct.unpack(">d", b)[0]
    if tid == 0x0008:                          # float
        return struct.unpack(">f", b)[0]
    if tid == 0x0006:                          # decimal
        scale = struct.unpack(">i", b[:4])[0]
        return decimal.Decimal(int.from_bytes(b[4:], "big", signed=True)).scaleb(-scale)
    if tid == 0x000B:                          # timestamp (ms since epoch)
        ms = struct.unpack(">q", b)[0]
        return EPOCH + datetime.timedelta(milliseconds=ms)
    if tid in (0x000C, 0x000F):                # uuid, timeuuid
        return uuid.UUID(bytes=b)
    if tid == 0x0010:                          # inet
        return ipaddress.ip_address(b)
    if tid == 0x0011:                          # date (days, 2^31 = epoch)
        days = struct.unpack(">I", b)[0] - (1 << 31)
        try:
            return datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
        except OverflowError:
            return days
    if tid in (0x0020, 0x0022):                # list, set
        r = Reader(b)
        items = [decode(typ[1], r.bytes()) for _ in range(r.int())]
        return items if tid == 0x0020 else set_of(items)
    if tid == 0x0021:                          # map
        r = Reader(b)
        return {decode(typ[1], r.bytes()): decode(typ[2], r.bytes()) for _ in range(r.int())}
    if tid == 0x0031:                          # tuple
        r = Reader(b)
        return tuple(decode(t, r.bytes()) if r.pos < len(b) else None for t in typ[1])
    if tid == 0x0030:                          # UDT
        r = Reader(b)
        return {name: (decode(t, r.bytes()) if r.pos < len(b) else None) for name, t in typ[3]}
    return b                                   # blob, custom, duration, vector...: raw bytes


class set_of(list):
    """A decoded CQL set (kept ordered, printed with braces)."""


def render(v):
    """Text form of a decoded value for the query helper's TSV output."""
    if v is None:
        return "null"
    if isinstance(v, (bytes, bytearray)):
        return "0x" + v.hex()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime.datetime):
        return v.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(v, set_of):
        return "{" + ", ".join(render(x) for x in v) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(render(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(render(x) for x in v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{render(k)}: {render(x)}" for k, x in v.items()) + "}"
    s = str(v)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


# ---------------------------------------------------------------- connection

def tls_context(ca, cert, key):
    """An SSLContext that verifies the server against `ca` (else the system's
    CAs), checks its name or IP address, and offers the client certificate
    `cert` with `key` when given; None when no TLS file is given."""
    if not (ca or cert or key):
        return None
    if key and not cert:
        raise CqlError("--tls-key needs --tls-cert")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)      # CERT_REQUIRED, check_hostname
    try:
        if ca:
            ctx.load_verify_locations(cafile=ca)
        else:
            ctx.load_default_certs()
        if cert:
            ctx.load_cert_chain(cert, key or None)
    except (OSError, ssl.SSLError) as e:
        raise CqlError(f"TLS files (ca {ca}, cert {cert}, key {key}): {e}") from None
    ctx.has_client_cert = bool(cert)      # for error hints (SSLContext is a Python class)
    return ctx


class Connection:
    def __init__(self, host, port=9042, timeout=5.0, login=None, tls=None):
        """login: (user, password) or None; tls: an SSLContext or None."""
        self.host, self.port, self.tls = host, port, tls
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise CqlError(f"connect {host}:{port}: {e.strerror or e}") from None
        self.sock.settimeout(timeout)
        if tls is not None:
            self._handshake(tls)
        self.stream = 0
        self.warnings = []
        try:
            op, body = self._request(OP_STARTUP, _short(1) + _string("CQL_VERSION") + _string("3.0.0"))
        except CqlError:
            self.close()
            raise
        if op == OP_AUTHENTICATE:
            authenticator = Reader(body).string()
            if login is None:
                self.close()
                raise LoginRequired(f"{host}: server requires authentication ({authenticator}): "
                                    "give --user and --password (or S3GW_CASSANDRA_USERNAME/_PASSWORD)")
            self._login(*login)
        elif op != OP_READY:
            self.close()
            raise CqlError(f"{host}: unexpected reply 0x{op:02x} to STARTUP")

    def _handshake(self, ctx):
        raw = self.sock
        try:
            # server_hostname: an IP address is matched against the IP SANs.
            self.sock = ctx.wrap_socket(raw, server_hostname=self.host)
        except ssl.SSLCertVerificationError as e:
            raw.close()
            raise CqlError(f"{self.host}: TLS certificate verification failed: "
                           f"{e.verify_message or e.reason or e}") from None
        except ssl.SSLError as e:
            raw.close()
            raise CqlError(f"{self.host}: TLS handshake failed: {e.reason or e}"
                           " (does the server speak TLS on this port?)") from None
        except OSError as e:
            raw.close()
            raise CqlError(f"{self.host}: TLS handshake: {e.strerror or e}") from None

    def _login(self, user, password):
        """SASL PLAIN (what PasswordAuthenticator takes): one AUTH_RESPONSE."""
        token = b"\0" + user.encode() + b"\0" + password.encode()
        try:
            op, _ = self._request(OP_AUTH_RESPONSE, struct.pack(">i", len(token)) + token)
        except ServerError as e:
            self.close()
            raise CqlError(f"{self.host}: authentication failed for user {user}: {e.message}") from None
        except CqlError:
            self.close()
            raise
        if op != OP_AUTH_SUCCESS:
            self.close()
            what = "a SASL challenge" if op == OP_AUTH_CHALLENGE else f"reply 0x{op:02x}"
            raise CqlError(f"{self.host}: authentication for user {user}: unexpected {what} "
                           "(only SASL PLAIN is supported)")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise CqlError(f"{self.host}: timed out waiting for a reply") from None
            except ssl.SSLError as e:
                raise CqlError(f"{self.host}: TLS: {e.reason or e}{self._tls_hint(e)}") from None
            except OSError as e:
                raise CqlError(f"{self.host}: {e.strerror or e}{self._tls_hint(e)}") from None
            if not chunk:
                raise CqlError(f"{self.host}: connection closed by server{self._tls_hint(None)}")
            buf += chunk
        return bytes(buf)

    def _tls_hint(self, e):
        """Why a server that requires TLS (or a client certificate) may have
        dropped us: servers close plain connections and reject missing client
        certificates only after the handshake, on the first read."""
        if self.tls is None:
            return " (does the server require TLS? --tls-ca)"
        if not getattr(self.tls, "has_client_cert", True) or (e is not None and "CERTIFICATE" in str(e).upper()):
            return " (does the server require a client certificate? --tls-cert/--tls-key)"
        if e is not None and "ALERT" in str(e).upper():
            return " (the server ended the TLS session: does it trust the client certificate's CA?)"
        return ""

    def _request(self, opcode, body):
        self.stream = (self.stream + 1) % 32768
        header = struct.pack(">BBhBi", VERSION, 0, self.stream, opcode, len(body))
        try:
            self.sock.sendall(header + body)
        except ssl.SSLError as e:
            raise CqlError(f"{self.host}: send: TLS: {e.reason or e}{self._tls_hint(e)}") from None
        except OSError as e:
            raise CqlError(f"{self.host}: send: {e.strerror or e}{self._tls_hint(e)}") from None
        while True:
            version, flags, stream, op, length = struct.unpack(">BBhBi", self._recv(9))
            if version & 0x7F != VERSION:
                # Servers answer an unsupported version with an ERROR in their own version.
                raise CqlError(f"{self.host}: server answered with protocol version {version & 0x7F}")
            body = self._recv(length)
            if stream != self.stream:          # events (stream -1) or stale replies
                continue
            if flags & 0x01:
                raise CqlError(f"{self.host}: compressed frame received but none was negotiated")
            r = Reader(body)
            if flags & 0x02:                   # tracing id
                r.take(16)
            self.warnings = r.string_list() if flags & 0x08 else []
            if flags & 0x04:                   # custom payload: [bytes map]
                for _ in range(r.short()):
                    r.string()
                    r.bytes()
            rest = r.data[r.pos:]
            if op == OP_ERROR:
                er = Reader(rest)
                code = er.int()
                msg = er.string()
                raise ServerError(f"{self.host}: error 0x{code:04x}: {msg}", code, msg)
            return op, rest

    def query(self, cql, consistency="ONE"):
        """Run one statement. Returns (kind, columns, rows); columns/rows only for Rows."""
        op, body = self._request(OP_QUERY, _long_string(cql) + _short(CONSISTENCY[consistency]) + b"\x00")
        if op != OP_RESULT:
            raise CqlError(f"{self.host}: unexpected reply 0x{op:02x} to QUERY")
        r = Reader(body)
        kind = r.int()
        if kind != RESULT_ROWS:
            return kind, [], []
        flags, ncols = r.int(), r.int()
        if flags & 0x0002:                     # has_more_pages: paging_state (we never page)
            r.bytes()
        if flags & 0x0004:                     # no_metadata (never for unprepared queries)
            raise CqlError(f"{self.host}: rows without metadata")
        global_spec = bool(flags & 0x0001)
        if global_spec:
            r.string(), r.string()
        cols = []
        for _ in range(ncols):
            if not global_spec:
                r.string(), r.string()
            cols.append((r.string(), r.option()))
        rows = []
        for _ in range(r.int()):
            rows.append(tuple(decode(t, r.bytes()) for _, t in cols))
        return kind, [c for c, _ in cols], rows


# ---------------------------------------------------------------- readiness

def schema_versions(conn):
    local = conn.query("SELECT schema_version FROM system.local")[2]
    peers = conn.query("SELECT schema_version FROM system.peers")[2]
    return {row[0] for row in local + peers}


def check_host(host, port, nodes, timeout, cql_only=False, login=None, tls=None):
    """Returns (ok, one-line summary) for one host."""
    try:
        conn = Connection(host, port, timeout, login, tls)
    except LoginRequired:
        if cql_only:
            return True, f"answers CQL{' over TLS' if tls else ''}, requires a login (none given)"
        raise
    with conn as c:
        _, _, local = c.query("SELECT release_version, schema_version FROM system.local")
        if not local:
            return False, "system.local is empty"
        release, versions = local[0][0], {local[0][1]}
        if cql_only:
            return True, f"release {release}"
        _, _, peers = c.query("SELECT peer, rpc_address, host_id, tokens, schema_version FROM system.peers")
        usable = [p for p in peers if p[1] is not None and p[2] is not None and p[3]]
        versions |= {p[4] for p in peers}
        # gossip_info has one row per endpoint, the node itself included. Its
        # status is e.g. "NORMAL,<token>". Only the node's own row has the legacy
        # `status`; peers carry `status_with_port` alone (Cassandra >= 4.0).
        try:
            _, _, gossip = c.query("SELECT address, status_with_port, status FROM system_views.gossip_info")
            states = [((g[1] or g[2] or "?").split(",")[0]) for g in gossip]
            normal = states.count("NORMAL")
            normal_txt = f"{normal}/{nodes} NORMAL" + ("" if normal == len(states) else f" {sorted(states)}")
        except CqlError:
            normal, normal_txt = nodes, "gossip_info n/a"
        ok = len(peers) == nodes - 1 and len(usable) == nodes - 1 and normal == nodes and len(versions) == 1
        summary = (f"release {release}, peers {len(usable)}/{nodes - 1}, {normal_txt}, "
                   f"schema {'agreed' if len(versions) == 1 else 'DISAGREES (%d versions)' % len(versions)}")
        return ok, summary


def pids_alive(pids):
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
    return None


def readiness(args):
    hosts = args.hosts.split(",") if args.hosts else [f"127.0.0.{i}" for i in range(1, args.nodes + 1)]
    deadline = time.monotonic() + (args.wait or 0)
    last = None
    while True:
        results = []
        for h in hosts:
            try:
                ok, summary = check_host(h, args.port, args.nodes, args.timeout, args.cql_only,
                                         args.login, args.tls)
            except CqlError as e:
                ok, summary = False, str(e)
            results.append((h, ok, summary))
        report = "\n".join(f"{h}: {'ready' if ok else 'NOT READY'}: {s}" for h, ok, s in results)
        if all(ok for _, ok, _ in results):
            if not args.quiet:
                print(report)
            return 0
        dead = pids_alive(args.pid)
        if dead is not None:
            print(f"process {dead} exited\n{report}", file=sys.stderr)
            return 3
        if time.monotonic() >= deadline:
            print(report, file=sys.stderr)
            return 1
        if args.verbose and report != last:
            print(report, file=sys.stderr)
        last = report
        time.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))


def wait_schema_agreement(conn, seconds=30.0):
    deadline = time.monotonic() + seconds
    while True:
        if len(schema_versions(conn)) == 1:
            return True
        if time.monotonic() >= deadline:
            print(f"warning: no schema agreement after {seconds:.0f} s", file=sys.stderr)
            return False
        time.sleep(0.2)


def run_queries(args):
    try:
        with Connection(args.host, args.port, args.timeout, args.login, args.tls) as c:
            if args.keyspace:
                c.query(f'USE "{args.keyspace}"')
            for cql in args.statements:
                kind, cols, rows = c.query(cql, args.consistency)
                for w in c.warnings:
                    print(f"warning: {w}", file=sys.stderr)
                if kind == RESULT_ROWS:
                    if not args.no_header:
                        print("\t".join(cols))
                    for row in rows:
                        print("\t".join(render(v) for v in row))
                elif kind == RESULT_SCHEMA_CHANGE:
                    wait_schema_agreement(c)
    except CqlError as e:
        print(f"cql-ready.py: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=1, help="expected cluster size (default 1)")
    p.add_argument("--hosts", help="comma-separated hosts to check (default 127.0.0.1..127.0.0.N)")
    p.add_argument("--port", type=int, default=9042, help="CQL port (default 9042)")
    p.add_argument("--timeout", type=float, default=5.0, help="per connection/request timeout, s (default 5)")
    p.add_argument("--wait", type=float, default=0.0, help="retry until ready for up to this many seconds")
    p.add_argument("--interval", type=float, default=0.5, help="retry interval, s (default 0.5)")
    p.add_argument("--pid", type=int, action="append", default=[], help="give up when this pid exits (repeatable)")
    p.add_argument("--cql-only", action="store_true",
                   help="only check that each host answers CQL (skip the cluster view)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when ready")
    p.add_argument("-v", "--verbose", action="store_true", help="print progress while waiting")
    p.add_argument("-e", "--query", action="append", default=[],
                   help="run this CQL statement instead (repeatable)")
    p.add_argument("-f", "--file", action="append", default=[],
                   help="run the statements in FILE (- = stdin), one per line, after the -e ones; "
                        "blank lines and lines starting with -- are skipped (repeatable)")
    p.add_argument("--host", default="127.0.0.1", help="host for --query (default 127.0.0.1)")
    p.add_argument("--keyspace", help="USE this keyspace before the statements")
    p.add_argument("--consistency", default="ONE", type=str.upper, choices=sorted(CONSISTENCY))
    p.add_argument("--no-header", action="store_true", help="omit the column header line")
    env = os.environ.get
    p.add_argument("--user", default=env("S3GW_CASSANDRA_USERNAME") or None,
                   help="log in as this user (default: $S3GW_CASSANDRA_USERNAME)")
    p.add_argument("--password", default=env("S3GW_CASSANDRA_PASSWORD"),
                   help="password for --user (default: $S3GW_CASSANDRA_PASSWORD)")
    p.add_argument("--tls-ca", default=env("S3GW_CASSANDRA_TLS_CA_FILE") or None,
                   help="TLS on, servers verified against these CA certificates (default: $S3GW_CASSANDRA_TLS_CA_FILE)")
    p.add_argument("--tls-cert", default=env("S3GW_CASSANDRA_TLS_CERT_FILE") or None,
                   help="TLS client certificate, PEM (default: $S3GW_CASSANDRA_TLS_CERT_FILE)")
    p.add_argument("--tls-key", default=env("S3GW_CASSANDRA_TLS_KEY_FILE") or None,
                   help="key of --tls-cert, PEM (default: $S3GW_CASSANDRA_TLS_KEY_FILE)")
    args = p.parse_args(argv)
    if args.nodes < 1:
        p.error("--nodes must be >= 1")
    if args.user and args.password is None:
        p.error("--user needs --password (or S3GW_CASSANDRA_PASSWORD)")
    args.login = (args.user, args.password) if args.user else None
    try:
        args.tls = tls_context(args.tls_ca, args.tls_cert, args.tls_key)
        args.statements = args.query + [s for f in args.file for s in read_statements(f)]
    except (CqlError, OSError) as e:
        print(f"cql-ready.py: {e}", file=sys.stderr)
        return 2
    return run_queries(args) if args.query or args.file else readiness(args)


def read_statements(path):
    """The statements of a -f file: one per line, a trailing ; dropped,
    blank lines and -- comments skipped."""
    if path == "-":
        lines = sys.stdin.read().splitlines()
    else:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    lines = [ln.strip() for ln in lines]
    return [ln.rstrip(";").rstrip() for ln in lines if ln and not ln.startswith("--")]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
