"""The processes of `scripts/cluster` (run dir tmp/cluster, or
S3GW_CLUSTER_DIR): Cassandra nodes and gateways found by their pid files
and checked against their command lines before any signal, kill -9, and
`scripts/cluster up` to restart what is missing. Shared by the fault tests
and the dashboard's browser test."""

import os
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.environ.get("S3GW_CLUSTER_DIR", os.path.join(ROOT, "tmp", "cluster"))
GATEWAYS = {1: 9001, 2: 9002, 3: 9003}
CLUSTER_UP_TIMEOUT = 400


def stored_credentials():
    """The root keys `scripts/cluster up` stored in RUN/credentials."""
    values = {}
    with open(os.path.join(RUN, "credentials")) as f:
        for line in f:
            name, _, value = line.strip().partition("=")
            values[name] = value
    return values["S3GW_ROOT_ACCESS_KEY"], values["S3GW_ROOT_SECRET_KEY"]


def pid_of(pidfile, marker):
    """The pid recorded in pidfile if that process is alive and its command
    line contains marker; else None."""
    try:
        pid = int(open(pidfile).read().strip())
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if marker in cmdline else None


def cassandra_pid(node):
    node_dir = os.path.join(RUN, "cassandra", f"node{node}")
    return pid_of(os.path.join(node_dir, "pid"), f"-Dcassandra.storagedir={os.path.realpath(node_dir)}")


def gateway_pid(n):
    return pid_of(os.path.join(RUN, f"gw{n}", "pid"), f"--listen 127.0.0.1:{GATEWAYS[n]}")


def kill9(pid, what):
    """SIGKILL to pid (from cassandra_pid or gateway_pid), then waits up to
    10 s until it is gone. ProcessLookupError if it was not running."""
    if pid is None:
        raise ProcessLookupError(f"{what} is not running: nothing to kill")
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        try:
            # Reap it if it is our child (it is not: scripts/cluster started it).
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            pass
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    break
        except OSError:
            break
        time.sleep(0.05)


def cluster_up():
    """`scripts/cluster up` (starts only what is missing); its duration in s."""
    started = time.monotonic()
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "cluster"), "up"], check=True,
                   timeout=CLUSTER_UP_TIMEOUT, stdout=subprocess.DEVNULL)
    return time.monotonic() - started
