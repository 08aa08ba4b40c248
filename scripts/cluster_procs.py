"""The processes of `scripts/cluster` (run dir tmp/cluster, or
S3GW_CLUSTER_DIR): Cassandra nodes and gateways found by their pid files
and checked against their command lines before any signal, kill -9, and
`scripts/cluster up` to restart what is missing, `status` to ask whether
all of it runs and `down` to stop it. Every function takes the run dir
(default RUN); scripts/bench passes a run dir of its own. Shared by the
fault tests, the dashboard's browser test and the benchmark."""

import os
import signal
import subprocess
import time

from s3gw_common import ROOT, cmdline, read_credentials, root_credentials

RUN = os.environ.get("S3GW_CLUSTER_DIR", os.path.join(ROOT, "tmp", "cluster"))
CLUSTER = os.path.join(ROOT, "scripts", "cluster")
GATEWAYS = {1: 9001, 2: 9002, 3: 9003}
CASSANDRA_NODES = (1, 2, 3)
CLUSTER_UP_TIMEOUT = 400


def stored_credentials(run=RUN):
    """The root keys `scripts/cluster up` stored in run/credentials."""
    return read_credentials(os.path.join(run, "credentials"))


def cluster_credentials(run=RUN):
    """The root keys the cluster runs with: S3GW_ROOT_ACCESS_KEY /
    S3GW_ROOT_SECRET_KEY when both are set, else the stored ones."""
    return root_credentials(lambda: stored_credentials(run))


def pid_of(pidfile, marker):
    """The pid recorded in pidfile if that process is alive and its command
    line contains marker; else None."""
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        line = cmdline(pid)
    except (OSError, ValueError):
        return None
    return pid if marker in line else None


def cassandra_pid(node, run=RUN):
    node_dir = os.path.join(run, "cassandra", f"node{node}")
    return pid_of(os.path.join(node_dir, "pid"), f"-Dcassandra.storagedir={os.path.realpath(node_dir)}")


def gateway_pid(n, run=RUN):
    return pid_of(os.path.join(run, f"gw{n}", "pid"), f"--listen 127.0.0.1:{GATEWAYS[n]}")


def kill9(pid, what, log=None):
    """SIGKILL to pid (from cassandra_pid or gateway_pid), then waits up to
    10 s until it is gone; says so with log when given. ProcessLookupError
    if it was not running."""
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
    if log is not None:
        log(f"kill -9 {what} (pid {pid})")


def cluster(command, run=RUN, **kw):
    """`scripts/cluster command` on the run dir run; the rest of
    subprocess.run's arguments as given."""
    return subprocess.run(["bash", CLUSTER, command], env=dict(os.environ, S3GW_CLUSTER_DIR=str(run)), **kw)


def cluster_up(run=RUN, timeout=CLUSTER_UP_TIMEOUT, stdout=subprocess.DEVNULL):
    """`scripts/cluster up` (starts only what is missing; its processes are
    found by their checked pid files); its duration in s.
    CalledProcessError when it fails."""
    started = time.monotonic()
    cluster("up", run, check=True, timeout=timeout, stdout=stdout)
    return time.monotonic() - started


def cluster_running(run=RUN):
    """`scripts/cluster status` finds Nginx, the 3 gateways and the 3
    Cassandra nodes running."""
    return cluster("status", run, capture_output=True).returncode == 0


def cluster_pids(run=RUN):
    """([pid or None of gateways 1-3], [pids of the Cassandra nodes that
    run]), each checked against its command line."""
    return ([gateway_pid(n, run) for n in GATEWAYS],
            [pid for pid in (cassandra_pid(node, run) for node in CASSANDRA_NODES) if pid is not None])
