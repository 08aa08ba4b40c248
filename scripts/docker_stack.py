"""The compose stack of scripts/docker-stack as the fault tests see it: its
containers killed with SIGKILL and started again, found by compose's labels
(project s3gw), never by name guesses.

The gateways answer on their fixed addresses of the stack's network
(docker/docker-compose.yml, STACK_NET), reachable from this host only."""
import json
import os
import subprocess
import time

PROJECT = os.environ.get("S3GW_DOCKER_PROJECT", "s3gw")
NET = os.environ.get("STACK_NET", "172.30.57")
GATEWAY_URLS = {n: f"http://{NET}.1{n}:9000" for n in (1, 2, 3)}
HEALTHY_TIMEOUT = 240.0


def docker(*args, timeout=60):
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True,
                          timeout=timeout).stdout.strip()


def container(service):
    """The id of the service's one container of the project."""
    out = docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}",
                 "--filter", f"label=com.docker.compose.service={service}")
    ids = out.split()
    if len(ids) != 1:
        raise RuntimeError(f"expected one container of service {service}, found {len(ids)}")
    return ids[0]


def state(cid):
    st = json.loads(docker("inspect", "-f", "{{json .State}}", cid))
    health = (st.get("Health") or {}).get("Status")
    return st.get("Status"), health


def kill(service, log=None):
    """SIGKILL to the service's container, then waits until it has exited."""
    cid = container(service)
    docker("kill", "-s", "KILL", cid)
    deadline = time.monotonic() + 10
    while state(cid)[0] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    if log is not None:
        log(f"docker kill -s KILL {service} ({cid[:12]})")


def start_stopped(services, timeout=HEALTHY_TIMEOUT):
    """Starts each service's container that is not running, in order (each
    Cassandra node once the previous one is healthy), and waits until every
    one is healthy. Returns the seconds it took."""
    started = time.monotonic()
    for service in services:
        cid = container(service)
        if state(cid)[0] != "running":
            docker("start", cid)
        deadline = time.monotonic() + timeout
        while state(cid)[1] != "healthy":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service} not healthy within {timeout:.0f} s: {state(cid)}")
            time.sleep(1)
    return time.monotonic() - started


SERVICES = ["cassandra1", "cassandra2", "cassandra3", "gw1", "gw2", "gw3", "nginx"]


def stack_up():
    return start_stopped(SERVICES)
