#!/usr/bin/env python3
"""Checks that the deployment files agree with each other and with the gateway.

    scripts/check-deploy-config.py        (Python 3.11+, PyYAML)

Reads docker/docker-compose.yml, docker/Dockerfile, .dockerignore, the Nginx
files under deploy/nginx/ (the shared s3gw.conf and the per-deployment
directories local/ and docker/), the launcher scripts/cluster, and the
gateway's own settings from src/ (flags and environment variables of
`s3gw serve`, the readiness path), then checks among other things:

  - the compose gateways are exactly the upstream servers of the docker Nginx
    variant, on the port they listen on, and their admin listeners
    (S3GW_ADMIN_LISTEN) exactly the admin upstream servers; the launcher
    variant's upstreams are 127.0.0.1:9001-9003 and 127.0.0.1:9101-9103,
    the ports scripts/cluster starts the gateways with;
  - every gateway has the same root credentials (taken from the environment,
    never literal) and the same Cassandra settings; the contact points are
    exactly the compose Cassandra services on port 9042; replication is 3;
  - every S3GW_* variable and --flag used in compose and the Dockerfile is one
    the gateway knows;
  - Nginx listens on 8080 (S3) and 8081 (the dashboard's own server) and
    compose publishes both on loopback;
  - the Nginx proxy settings the gateway depends on are present (and only in
    the shared file): on the S3 server those of S3, on the admin server Host
    as sent, X-Forwarded-Proto and -For, and a per-address limit_req on the
    login; neither server proxies to the other's upstream; and `nginx -t`
    accepts both variants (skipped with a message when nginx is not
    installed).

Prints every check; exits 1 with the list of mismatches if any fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the interpreter
    venv_python = REPO / ".venv" / "bin" / "python"
    if venv_python.exists() and not os.environ.get("_CHECK_DEPLOY_REEXEC"):
        os.environ["_CHECK_DEPLOY_REEXEC"] = "1"
        os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])
    sys.exit(
        "check-deploy-config: PyYAML is missing. Run it with the project venv "
        "(.venv/bin/python, made by scripts/install-test-deps.sh) or "
        "`pip install pyyaml`."
    )

COMPOSE = REPO / "docker" / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
READY_PROBE = REPO / "docker" / "s3gw-ready"
# Every Dockerfile of the stack: classic-builder instructions only.
DOCKERFILES = (DOCKERFILE, REPO / "docker" / "nginx.Dockerfile", REPO / "docker" / "cassandra" / "Dockerfile")
CASSANDRA_SCRIPT = REPO / "scripts" / "cassandra"
DOCKERIGNORE = REPO / ".dockerignore"
NGINX_DIR = REPO / "deploy" / "nginx"
SHARED = NGINX_DIR / "s3gw.conf"
LAUNCHER = REPO / "scripts" / "cluster"
VARIANTS = ("local", "docker")

# The topology both deployments implement.
GATEWAYS = 3
CASSANDRA_NODES = 3
REPLICATION = "3"
CQL_PORT = 9042
NGINX_PORT = 8080
ADMIN_PORT = 8081          # Nginx's admin server: the dashboard's own origin
LAUNCHER_UPSTREAMS = {("127.0.0.1", 9001), ("127.0.0.1", 9002), ("127.0.0.1", 9003)}
LAUNCHER_ADMIN_UPSTREAMS = {("127.0.0.1", 9101), ("127.0.0.1", 9102), ("127.0.0.1", 9103)}
LOGIN_PATH = "/_s3gw/login"


# --------------------------------------------------------------- reporting --
class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.passed = 0
        self.section = ""

    def start(self, title: str) -> None:
        self.section = title
        print(f"\n== {title}")

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            msg = f"{what}" + (f": {detail}" if detail else "")
            self.failures.append(f"[{self.section}] {msg}")
            print(f"  FAIL  {msg}")
        return ok

    def note(self, text: str) -> None:
        print(f"  note  {text}")


R = Report()


# ------------------------------------------------------------------ helpers --
S3GW_VAR = r"\bS3GW_[A-Z0-9_]*[A-Z0-9]\b"


def yaml_strings(node):
    """Every key and scalar of a parsed YAML document, as strings."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from yaml_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from yaml_strings(v)
    elif node is not None:
        yield str(node)


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        R.check(False, f"read {path.relative_to(REPO)}", str(e))
        return ""


def host_port(s: str) -> tuple[str, int] | None:
    m = re.fullmatch(r"\[?([^\]]*?)\]?:(\d+)", s.strip())
    if not m:
        return None
    return m.group(1), int(m.group(2))


def nginx_size(s: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", s)
    if not m:
        return -1
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    return int(m.group(1)) * mult


def nginx_seconds(s: str) -> float:
    total, rest = 0.0, s
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
    for num, unit in re.findall(r"(\d+)(ms|[smhdwMy]?)", s):
        total += int(num) * units[unit or "s"]
        rest = rest.replace(num + unit, "", 1)
    return total if not rest.strip() else -1


# ------------------------------------------------------------- nginx parser --
@dataclass
class Directive:
    name: str
    args: list[str]
    block: list["Directive"] | None
    line: int
    file: str

    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class NginxFile:
    path: Path
    items: list[Directive] = field(default_factory=list)


def nginx_tokens(text: str):
    """Yields (token, line, quoted) the way nginx's ngx_conf_read_token splits."""
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            yield c, line, False
            i += 1
        elif c in "\"'":
            q, i, buf = c, i + 1, []
            while i < n and text[i] != q:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                if text[i] == "\n":
                    line += 1
                buf.append(text[i])
                i += 1
            i += 1
            yield "".join(buf), line, True
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in ";{}":
                if text[i] == "$" and i + 1 < n and text[i + 1] == "{":
                    i = text.find("}", i) + 1 or n
                    continue
                i += 1
            yield text[start:i], line, False


def parse_nginx(path: Path) -> NginxFile:
    rel = str(path.relative_to(REPO))
    toks = list(nginx_tokens(read(path)))
    pos = 0

    def block(depth: int) -> list[Directive]:
        nonlocal pos
        items: list[Directive] = []
        cur: list[str] = []
        cur_line = 0
        while pos < len(toks):
            tok, line, quoted = toks[pos]
            pos += 1
            if not cur:
                cur_line = line
            if not quoted and tok == ";":
                if cur:
                    items.append(Directive(cur[0], cur[1:], None, cur_line, rel))
                cur = []
            elif not quoted and tok == "{":
                children = block(depth + 1)
                items.append(Directive(cur[0] if cur else "?", cur[1:], children, cur_line, rel))
                cur = []
            elif not quoted and tok == "}":
                if depth == 0:
                    R.check(False, f"parse {rel}", f"unbalanced '}}' at line {line}")
                return items
            else:
                cur.append(tok)
        if cur:
            R.check(False, f"parse {rel}", f"directive {cur[0]!r} not terminated by ';'")
        return items

    return NginxFile(path, block(0))


def walk(items: list[Directive], path: tuple[str, ...] = ()):
    """Yields (directive, enclosing block names) for every directive."""
    for d in items:
        yield d, path
        if d.block is not None:
            yield from walk(d.block, path + (d.name,))


def find(items: list[Directive], name: str) -> list[tuple[Directive, tuple[str, ...]]]:
    return [(d, p) for d, p in walk(items) if d.name == name]


# --------------------------------------------------------- gateway settings --
@dataclass
class GatewaySettings:
    env_vars: set[str]
    flags: set[str]
    subcommands: set[str]
    ready_path: str
    health_path: str
    readme_env: set[str]


def gateway_settings() -> GatewaySettings:
    env_vars: set[str] = set()
    flags: set[str] = set()
    for rs in sorted((REPO / "src").rglob("*.rs")):
        text = read(rs)
        env_vars.update(re.findall(r'\benv\s*=\s*"(S3GW_[A-Z0-9_]+)"', text))
        env_vars.update(re.findall(r'env::var(?:_os)?\(\s*"(S3GW_[A-Z0-9_]+)"', text))
        env_vars.update(re.findall(r'from_env\(\s*"(S3GW_[A-Z0-9_]+)"', text))
        for attrs, field_name in re.findall(
            r"#\[arg\(((?:[^()]|\([^()]*\))*)\)\]\s*(?:///[^\n]*\n\s*|#\[[^\n]*\]\s*)*pub\s+(\w+)\s*:",
            text,
        ):
            m = re.search(r'\blong\s*=\s*"([a-z0-9-]+)"', attrs)
            if m:
                flags.add(m.group(1))
            elif re.search(r"\blong\b", attrs):
                flags.add(field_name.replace("_", "-"))
    main_rs = read(REPO / "src" / "main.rs")
    enum = re.search(r"enum\s+Command\s*\{(.*?)\n\}", main_rs, re.S)
    subcommands = {
        re.sub(r"(?<!^)([A-Z])", r"-\1", v).lower()
        for v in re.findall(r"^\s*([A-Z]\w*)\s*\(", enum.group(1) if enum else "", re.M)
    }
    router = read(REPO / "src" / "http" / "router.rs")
    ready = re.search(r'READY_PATH\s*:\s*&str\s*=\s*"([^"]+)"', router)
    health = re.search(r'HEALTH_PATH\s*:\s*&str\s*=\s*"([^"]+)"', router)
    readme_env = set(re.findall(r"^\|\s*`--[a-z0-9-]+`\s*\|\s*`(S3GW_[A-Z0-9_]+)`", read(REPO / "README.md"), re.M))
    return GatewaySettings(
        env_vars, flags, subcommands,
        ready.group(1) if ready else "", health.group(1) if health else "", readme_env,
    )


# ---------------------------------------------------------------- compose --
def env_of(svc: dict) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v
        return out
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command_of(svc: dict) -> list[str]:
    cmd = svc.get("command")
    if cmd is None:
        return []
    if isinstance(cmd, str):
        return cmd.split()
    return [str(c) for c in cmd]


def interpolate_default(s: str) -> str:
    """Compose interpolation with every variable unset: ${V:-d} -> d, $$ -> $."""
    s = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", s)
    s = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}", "<required>", s)
    return s.replace("$$", "$")


def flag_value(cmd: list[str], flag: str) -> str | None:
    for i, tok in enumerate(cmd):
        if tok == flag and i + 1 < len(cmd):
            return cmd[i + 1]
        if tok.startswith(flag + "="):
            return tok.split("=", 1)[1]
    return None


def setting(svc: dict, image_env: dict[str, str], flag: str, env: str) -> tuple[str | None, str]:
    """A gateway setting as `s3gw` resolves it: flag, then env, then image env."""
    v = flag_value(command_of(svc), flag)
    if v is not None:
        return v, f"flag {flag}"
    e = env_of(svc)
    if env in e:
        return e[env], f"env {env}"
    if env in image_env:
        return image_env[env], f"Dockerfile ENV {env}"
    return None, "default"


def healthcheck_text(svc: dict) -> str:
    hc = svc.get("healthcheck") or {}
    test = hc.get("test")
    if isinstance(test, list):
        return " ".join(str(t) for t in test)
    return str(test or "")


def depends(svc: dict) -> dict[str, str]:
    dep = svc.get("depends_on") or {}
    if isinstance(dep, list):
        return {d: "service_started" for d in dep}
    return {k: (v or {}).get("condition", "service_started") for k, v in dep.items()}


# ------------------------------------------------------------- Dockerfile --
@dataclass
class DockerfileInfo:
    text: str
    stages: list[tuple[str, str]]  # (image, alias)
    instructions: list[tuple[str, str]]  # (INSTRUCTION, rest) of the final stage
    env: dict[str, str]
    heredocs: list[str]
    code: str  # every instruction and heredoc body, without comments


def parse_dockerfile() -> DockerfileInfo:
    text = read(DOCKERFILE)
    lines = text.split("\n")
    args: dict[str, str] = {}
    stages: list[tuple[str, str]] = []
    final: list[tuple[str, str]] = []
    env: dict[str, str] = {}
    heredocs: list[str] = []
    code: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        logical = line
        while logical.endswith("\\") and i < len(lines):
            nxt = lines[i]
            i += 1
            if nxt.lstrip().startswith("#"):
                continue
            logical = logical[:-1] + " " + nxt.strip()
        m = re.search(r"<<-?['\"]?(\w+)['\"]?", logical)
        if m and logical.split()[0].upper() in ("RUN", "COPY"):
            body = []
            while i < len(lines) and lines[i].strip() != m.group(1):
                body.append(lines[i])
                i += 1
            i += 1
            heredocs.append("\n".join(body))
            code.append(heredocs[-1])
        code.append(logical)
        inst, _, rest = logical.strip().partition(" ")
        inst = inst.upper()
        rest = rest.strip()
        if inst == "ARG" and not stages:
            k, _, v = rest.partition("=")
            args[k.strip()] = v.strip()
        elif inst == "FROM":
            ref = re.sub(r"--platform=\S+\s+", "", rest)
            ref = re.sub(r"\$\{?(\w+)\}?", lambda mm: args.get(mm.group(1), mm.group(0)), ref)
            parts = ref.split()
            alias = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else ""
            stages.append((parts[0], alias))
            final = []
            env = {}
        else:
            final.append((inst, rest))
            if inst == "ENV":
                for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', rest):
                    env[k] = v.strip('"')
    return DockerfileInfo(text, stages, final, env, heredocs, "\n".join(code))


# ----------------------------------------------------------------- checks --
def check_dockerfile(gw: GatewaySettings, df: DockerfileInfo) -> None:
    R.start("docker/Dockerfile")
    R.check(len(df.stages) >= 2, "multi-stage build", f"stages: {df.stages}")
    if df.stages:
        R.check(re.fullmatch(r"rust:1(\.\d+)*-bookworm", df.stages[0][0]) is not None,
                "builder is rust:1-bookworm (or a pinned 1.x)", df.stages[0][0])
        R.check(df.stages[-1][0] == "debian:bookworm-slim", "runtime is debian:bookworm-slim", df.stages[-1][0])
    cargo = re.search(r"cargo build[^\n&;|]*", df.code)
    R.check(bool(cargo) and "--locked" in cargo.group(0) and "--release" in cargo.group(0),
            "cargo build --locked --release", cargo.group(0) if cargo else "no cargo build")
    inst = dict()
    for k, v in df.instructions:
        inst.setdefault(k, []).append(v)
    user = (inst.get("USER") or ["root"])[-1]
    R.check(user.split(":")[0] not in ("root", "0"), "runs as a non-root user", f"USER {user}")
    R.check(any("/usr/local/bin/s3gw" in c for c in inst.get("COPY", [])),
            "binary copied to /usr/local/bin/s3gw")
    R.check(inst.get("ENTRYPOINT", [""])[-1].replace(" ", "") == '["s3gw"]', 'ENTRYPOINT ["s3gw"]',
            inst.get("ENTRYPOINT", ["missing"])[-1])
    cmd = inst.get("CMD", [""])[-1]
    sub = re.findall(r'"([^"]+)"', cmd)
    R.check(bool(sub) and sub[0] in gw.subcommands, "CMD is a known s3gw subcommand",
            f"{cmd} (known: {sorted(gw.subcommands)})")
    R.check(inst.get("STOPSIGNAL", [""])[-1] == "SIGTERM", "STOPSIGNAL SIGTERM (the gateway drains on it)")
    listen = host_port(df.env.get("S3GW_LISTEN", ""))
    R.check(listen is not None and listen[0] in ("0.0.0.0", "::"),
            "ENV S3GW_LISTEN listens on all interfaces", df.env.get("S3GW_LISTEN", "unset"))
    exposed = {int(p.split("/")[0]) for e in inst.get("EXPOSE", []) for p in e.split()}
    R.check(listen is not None and exposed == {listen[1]}, "EXPOSE matches the S3GW_LISTEN port",
            f"EXPOSE {sorted(exposed)}, S3GW_LISTEN {df.env.get('S3GW_LISTEN')}")
    hc = inst.get("HEALTHCHECK", [""])[-1]
    probe = re.search(r'"(s3gw-ready)"|\b(s3gw-ready)\b', hc)
    R.check(bool(probe), "HEALTHCHECK runs s3gw-ready", hc or "no HEALTHCHECK")
    script = read(READY_PROBE) if READY_PROBE.exists() else ""
    R.check(any(re.match(r"docker/s3gw-ready\s+/usr/local/bin/s3gw-ready$", c) for c in inst.get("COPY", [])),
            "docker/s3gw-ready copied to /usr/local/bin/s3gw-ready", f"{inst.get('COPY')}")
    R.check(any("chmod" in r and "/usr/local/bin/s3gw-ready" in r for r in inst.get("RUN", [])),
            "s3gw-ready made executable by a RUN (COPY --chmod is BuildKit's)")
    R.check(bool(gw.ready_path) and f'"${{1:-{gw.ready_path}}}"' in script,
            f"s3gw-ready probes {gw.ready_path} by default (src/http/router.rs READY_PATH)")
    R.check("S3GW_LISTEN" in script, "s3gw-ready takes its port from S3GW_LISTEN")
    used = set(re.findall(S3GW_VAR, df.code))
    unknown = sorted(used - gw.env_vars)
    R.check(not unknown, f"S3GW_* variables in the Dockerfile are known to the gateway ({len(used)})",
            f"unknown: {unknown}")


def check_classic_builder() -> None:
    """What Docker 20.10 without BuildKit, and Podman, refuse or fetch."""
    R.start("Dockerfiles: classic builder only")
    for path in DOCKERFILES:
        name = path.relative_to(REPO)
        if not R.check(path.exists(), f"{name} exists"):
            continue
        text = read(path)
        lines = [ln for ln in text.splitlines() if ln.strip()]
        R.check(not any(re.match(r"#\s*syntax\s*=", ln, re.I) for ln in lines),
                f"{name}: no `# syntax` line (it fetches a frontend from a registry)")
        code = [ln for ln in lines if not ln.lstrip().startswith("#")]
        R.check(not any(re.search(r"<<-?['\"]?\w+", ln) and ln.split()[0].upper() in ("RUN", "COPY")
                        for ln in code), f"{name}: no heredoc")
        for flag in ("--mount", "--chmod", "--link", "--parents"):
            R.check(not any(re.match(r"\s*(RUN|COPY|ADD)\b.*\s" + flag + r"\b", ln, re.I) for ln in code),
                    f"{name}: no {flag}")
        args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))
        froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
        external = [f for f in froms if f.startswith("${")]
        R.check(bool(external) and all(f.strip("${}") in args for f in external),
                f"{name}: base images are build arguments with defaults", f"FROM {froms}, ARG {args}")
        base = args.get("BASE_IMAGE")
        R.check(base == "debian:bookworm-slim", f"{name}: BASE_IMAGE defaults to debian:bookworm-slim", f"{base}")


def check_dockerignore() -> None:
    R.start(".dockerignore")
    text = read(DOCKERIGNORE)
    pats = {ln.strip().rstrip("/") for ln in text.splitlines() if ln.strip() and not ln.startswith("#")}
    for p in ("target", ".git", ".venv", ".tools", "tmp", "data"):
        R.check(p in pats, f"excludes {p}")


def cassandra_version() -> str:
    m = re.search(r"^CASSANDRA_VERSION=([0-9.]+)", read(CASSANDRA_SCRIPT), re.M)
    return m.group(1) if m else "?"


def check_compose_portable(doc: dict, gateways: dict) -> None:
    """What Debian's docker-compose 1.29 refuses, and fixed gateway addresses."""
    R.check("name" not in doc, "no top-level name: (docker-compose 1.29 refuses it; pass -p)")
    for n, svc in (doc.get("services") or {}).items():
        dep = svc.get("depends_on") or {}
        if isinstance(dep, dict):
            bad = [d for d, v in dep.items() if isinstance(v, dict) and set(v) - {"condition"}]
            R.check(not bad, f"{n}: depends_on holds only conditions (1.29 refuses restart:)", f"{bad}")
    addrs = {}
    for n, svc in sorted(gateways.items()):
        nets = svc.get("networks")
        addr = None
        if isinstance(nets, dict):
            addr = next((interpolate_default(str((v or {}).get("ipv4_address", ""))) for v in nets.values()
                         if isinstance(v, dict) and v.get("ipv4_address")), None)
        R.check(addr is not None, f"{n}: a fixed address on the stack's network (Nginx resolves it once)",
                f"{nets}")
        addrs[n] = addr
    R.check(len(set(addrs.values())) == len(addrs), "the gateways' addresses differ", f"{addrs}")


def check_compose(gw: GatewaySettings, df: DockerfileInfo, upstream_docker: list[tuple[str, int]],
                  admin_upstream_docker: list[tuple[str, int]]) -> dict:
    R.start("docker/docker-compose.yml")
    try:
        doc = yaml.safe_load(read(COMPOSE)) or {}
    except yaml.YAMLError as e:
        R.check(False, "parse docker-compose.yml", str(e))
        return {}
    services: dict = doc.get("services") or {}
    s3gw_svcs, cassandra, nginx = {}, {}, {}
    for name, svc in services.items():
        build = svc.get("build")
        image = str(svc.get("image", ""))
        if isinstance(build, dict) and str(build.get("dockerfile", "")).endswith("docker/Dockerfile"):
            s3gw_svcs[name] = svc
            ctx = (COMPOSE.parent / str(build.get("context", "."))).resolve()
            R.check(ctx == REPO, f"{name}: build context is the repository root", str(ctx))
        elif "cassandra" in interpolate_default(image):
            cassandra[name] = svc
        elif "nginx" in interpolate_default(image):
            nginx[name] = svc
    migrate = {n: s for n, s in s3gw_svcs.items() if command_of(s)[:1] == ["migrate"]}
    gateways = {n: s for n, s in s3gw_svcs.items() if command_of(s)[:1] in ([], ["serve"])}
    R.check(len(gateways) == GATEWAYS, f"{GATEWAYS} gateway services", f"found {sorted(gateways)}")
    R.check(len(cassandra) == CASSANDRA_NODES, f"{CASSANDRA_NODES} Cassandra services", f"found {sorted(cassandra)}")
    R.check(len(migrate) == 1, "one migrate service", f"found {sorted(migrate)}")
    R.check(len(nginx) == 1, "one nginx service", f"found {sorted(nginx)}")
    check_compose_portable(doc, {n: s for n, s in s3gw_svcs.items() if command_of(s)[:1] in ([], ["serve"])})
    for n, s in s3gw_svcs.items():
        first = command_of(s)[:1]
        R.check(not first or first[0] in gw.subcommands, f"{n}: command is a known s3gw subcommand",
                f"{command_of(s)} (known: {sorted(gw.subcommands)})")

    # Every S3GW_* name and --flag handed to the gateway is one it knows.
    used_env = set()
    for n, s in s3gw_svcs.items():
        used_env.update(k for k in env_of(s) if k.startswith("S3GW_"))
    used_env.update(v for s in yaml_strings(doc) for v in re.findall(S3GW_VAR, s))
    unknown = sorted(used_env - gw.env_vars)
    R.check(not unknown, f"S3GW_* variables in compose are known to the gateway ({len(used_env)})",
            f"unknown: {unknown}; known: {sorted(gw.env_vars)}")
    for n, s in s3gw_svcs.items():
        bad = [t for t in command_of(s) if t.startswith("--") and t[2:].split("=")[0] not in gw.flags]
        R.check(not bad, f"{n}: command flags are known to the gateway", f"unknown: {bad}")

    # The gateways, as Nginx sees them.
    ports = {}
    for n, s in sorted(gateways.items()):
        v, src = setting(s, df.env, "--listen", "S3GW_LISTEN")
        hp = host_port(v) if v else None
        ok = hp is not None and hp[0] in ("0.0.0.0", "::")
        R.check(ok, f"{n}: listens on all interfaces ({src})", f"{v or 'default 127.0.0.1:9000'}")
        if hp:
            ports[n] = hp[1]
    want = sorted((n, p) for n, p in ports.items())
    R.check(sorted(upstream_docker) == want,
            "deploy/nginx/docker/gateways.conf lists exactly the compose gateways and their ports",
            f"nginx {sorted(upstream_docker)} vs compose {want}")
    # Their admin listeners (the dashboard), as Nginx's admin server sees them.
    admin_ports = {}
    for n, s in sorted(gateways.items()):
        v, src = setting(s, df.env, "--admin-listen", "S3GW_ADMIN_LISTEN")
        hp = host_port(v) if v else None
        R.check(hp is not None and hp[0] in ("0.0.0.0", "::"),
                f"{n}: admin listener on all interfaces ({src})", f"{v or 'unset: no dashboard'}")
        if hp:
            admin_ports[n] = hp[1]
            R.check(hp[1] != ports.get(n), f"{n}: admin listener on a port of its own", f"{v}")
    want = sorted(admin_ports.items())
    R.check(sorted(admin_upstream_docker) == want,
            "deploy/nginx/docker/admin-gateways.conf lists exactly the compose gateways and their admin ports",
            f"nginx {sorted(admin_upstream_docker)} vs compose {want}")

    # Same backend settings for the migration and every gateway.
    creds_seen: dict[str, set[str]] = {
        "S3GW_ROOT_ACCESS_KEY": set(), "S3GW_ROOT_SECRET_KEY": set(), "S3GW_KEY_ENCRYPTION_KEY": set(),
    }
    for n, s in sorted({**migrate, **gateways}.items()):
        backend, _ = setting(s, df.env, "--backend", "S3GW_BACKEND")
        R.check(backend == "cassandra", f"{n}: backend cassandra", str(backend))
        cps, src = setting(s, df.env, "--cassandra-contact-points", "S3GW_CASSANDRA_CONTACT_POINTS")
        points = [host_port(p) for p in (cps or "").split(",") if p.strip()]
        hosts = sorted(p[0] for p in points if p)
        R.check(None not in points and hosts == sorted(cassandra),
                f"{n}: contact points are exactly the Cassandra services ({src})", f"{cps}")
        R.check(bool(points) and all(p and p[1] == CQL_PORT for p in points),
                f"{n}: contact points use port {CQL_PORT}", f"{cps}")
        rep, src = setting(s, df.env, "--cassandra-replication", "S3GW_CASSANDRA_REPLICATION")
        if n in migrate or rep is not None:
            R.check(rep == REPLICATION, f"{n}: replication {REPLICATION} ({src})", str(rep))
        if n in gateways:
            env = env_of(s)
            for var in creds_seen:
                val = env.get(var)
                R.check(bool(val) and re.fullmatch(r"\$\{" + var + r"(:?[?-][^}]*)?\}", val or "") is not None,
                        f"{n}: {var} comes from the environment", f"{val!r}")
                creds_seen[var].add(val or "")
    for var, vals in creds_seen.items():
        R.check(len(vals) == 1, f"every gateway has the same {var}", f"{sorted(vals)}")
    ks = {setting(s, df.env, "--cassandra-keyspace", "S3GW_CASSANDRA_KEYSPACE")[0] for s in {**migrate, **gateways}.values()}
    R.check(len(ks) == 1, "migration and gateways use the same keyspace", f"{ks}")

    # Start order and health.
    for n, s in sorted(gateways.items()):
        R.check(all(depends(s).get(m) == "service_completed_successfully" for m in migrate) and bool(migrate),
                f"{n}: starts after migrate completed successfully", f"{depends(s)}")
        R.check(gw.ready_path in healthcheck_text(s), f"{n}: healthcheck on {gw.ready_path}",
                healthcheck_text(s) or "none")
    for n, s in migrate.items():
        R.check(all(depends(s).get(c) == "service_healthy" for c in cassandra),
                f"{n}: starts after every Cassandra node is healthy", f"{depends(s)}")
        R.check(str(s.get("restart", "no")) == "no", f"{n}: one-shot (restart: no)")
    cnames = sorted(cassandra)
    for i, n in enumerate(cnames):
        s = cassandra[n]
        env = env_of(s)
        want_image = f"s3gw-cassandra:{cassandra_version()}"
        R.check(interpolate_default(str(s.get("image"))) == want_image,
                f"{n}: image defaults to {want_image} (scripts/cassandra's version)", str(s.get("image")))
        R.check(bool(healthcheck_text(s)), f"{n}: has a healthcheck")
        seeds = [x.strip() for x in env.get("CASSANDRA_SEEDS", "").split(",") if x.strip()]
        R.check(bool(seeds) and set(seeds) <= set(cnames), f"{n}: CASSANDRA_SEEDS are compose Cassandra services",
                f"{seeds}")
        R.check(("MAX_HEAP_SIZE" in env) == ("HEAP_NEWSIZE" in env), f"{n}: MAX_HEAP_SIZE and HEAP_NEWSIZE set together")
        if i > 0:
            R.check(any(depends(s).get(o) == "service_healthy" for o in cnames[:i]),
                    f"{n}: starts after an earlier node is healthy (no concurrent bootstrap)", f"{depends(s)}")
        vols = [str(v).split(":") for v in s.get("volumes") or []]
        named = [v[0] for v in vols if len(v) >= 2 and v[1] == "/var/lib/cassandra"]
        R.check(len(named) == 1 and named[0] in (doc.get("volumes") or {}), f"{n}: named volume for /var/lib/cassandra",
                f"{s.get('volumes')}")
    names = {env_of(s).get("CASSANDRA_CLUSTER_NAME") for s in cassandra.values()}
    R.check(len(names) == 1 and None not in names, "one CASSANDRA_CLUSTER_NAME for all nodes", f"{names}")
    all_vols = [str(v).split(":")[0] for s in cassandra.values() for v in s.get("volumes") or []]
    R.check(len(all_vols) == len(set(all_vols)), "each Cassandra node has its own volume", f"{all_vols}")

    out = {"nginx_mount": None, "nginx_conf": None}
    for n, s in nginx.items():
        R.check(all(depends(s).get(g) == "service_healthy" for g in gateways),
                f"{n}: starts after every gateway is healthy", f"{depends(s)}")
        pubs = []
        for p in s.get("ports") or []:
            if isinstance(p, dict):
                pubs.append((str(p.get("host_ip", "")), str(p.get("published", "")), str(p.get("target", ""))))
            else:
                parts = interpolate_default(str(p)).rsplit(":", 2)
                pubs.append(tuple(parts) if len(parts) == 3 else ("",) + tuple(parts))
        for port in (NGINX_PORT, ADMIN_PORT):
            R.check(any(pub == str(port) for _, pub, _ in pubs), f"{n}: publishes port {port}", f"{pubs}")
        R.check(all(ip in ("127.0.0.1", "::1", "localhost") for ip, _, _ in pubs),
                f"{n}: published on loopback by default", f"{pubs}")
        out["nginx_targets"] = {int(t.split("/")[0]) for _, _, t in pubs if t}
        for v in s.get("volumes") or []:
            src, _, rest = str(v).partition(":")
            if (COMPOSE.parent / src).resolve() == NGINX_DIR:
                out["nginx_mount"] = rest.split(":")[0]
        R.check(out["nginx_mount"] is not None, f"{n}: mounts deploy/nginx", f"{s.get('volumes')}")
        cmd = command_of(s)
        conf = flag_value(cmd, "-c")
        out["nginx_conf"] = conf
        want_conf = f"{out['nginx_mount']}/docker/nginx.conf"
        R.check(conf == want_conf, f"{n}: runs nginx -c <mount>/docker/nginx.conf", f"{cmd}")
        R.check(gw.ready_path in healthcheck_text(s) and f"/{NGINX_PORT}" in healthcheck_text(s),
                f"{n}: healthcheck goes through Nginx to {gw.ready_path}")
    return out


def upstream_servers(variant: str, name: str = "gateways.conf") -> tuple[list[tuple[str, int]], list[Directive]]:
    f = parse_nginx(NGINX_DIR / variant / name)
    servers = [d for d in f.items if d.name == "server"]
    R.check(len(servers) == len(f.items), f"{variant}/{name} holds only server lines",
            ", ".join(d.name for d in f.items if d.name != "server"))
    out = []
    for d in servers:
        hp = host_port(d.args[0]) if d.args else None
        R.check(hp is not None, f"{variant}/{name}: {d.args[:1]} is host:port", d.where())
        if hp:
            out.append(hp)
    return out, servers


def check_nginx(gw: GatewaySettings) -> dict:
    R.start("deploy/nginx (shared s3gw.conf + local/ and docker/ variants)")
    shared = parse_nginx(SHARED)
    items = shared.items

    # Structure: the shared file pulls in the per-deployment pieces. Two
    # upstreams and two servers: S3, and the dashboard's own (admin) server.
    def including(kind: str, name: str) -> Directive:
        found = [d for d in items if d.name == kind
                 and any(c.name == "include" and c.args == [name] for c in d.block or [])]
        R.check(len(found) == 1, f"one {kind} block of s3gw.conf includes the per-deployment {name}",
                f"{len(found)} do")
        return found[0] if found else Directive(kind, ["?"], [], 0, "")

    ups = [d for d in items if d.name == "upstream"]
    srvs = [d for d in items if d.name == "server"]
    R.check(len(ups) == 2 and all(len(u.args) == 1 for u in ups), "s3gw.conf defines two upstreams (S3, admin)")
    R.check(len(srvs) == 2, "s3gw.conf defines two server blocks (S3, admin)")
    up = including("upstream", "gateways.conf")
    admin_up = including("upstream", "admin-gateways.conf")
    srv = including("server", "listen.conf")
    admin_srv = including("server", "admin-listen.conf")
    R.check(up is not admin_up and srv is not admin_srv, "S3 and admin have separate upstreams and servers")
    R.check(not find(items, "listen"), "no listen in the shared file (it is per deployment)")

    locs = [d for d in srv.block or [] if d.name == "location"]
    root = next((d for d in locs if d.args == ["/"]), None)
    R.check(root is not None, "location / proxies everything")
    scope = (srv.block or []) + ((root.block or []) if root else [])

    def val(name: str) -> list[list[str]]:
        return [d.args for d in scope if d.name == name]

    def one(name: str) -> list[str] | None:
        v = val(name)
        return v[-1] if v else None

    passes = find(srv.block or [], "proxy_pass")
    R.check(len(passes) == 1, "exactly one proxy_pass in the S3 server", f"{len(passes)}")
    if passes:
        target = passes[0][0].args[0] if passes[0][0].args else ""
        R.check(target == f"http://{up.args[0] if up.args else '?'}",
                "proxy_pass http://<upstream> without a URI part (URI passed byte for byte)", target)
    R.check(one("proxy_request_buffering") == ["off"], "proxy_request_buffering off (uploads stream)")
    R.check(one("client_max_body_size") == ["0"], "client_max_body_size 0")
    R.check(one("proxy_http_version") == ["1.1"], "proxy_http_version 1.1")
    headers = {a[0].lower(): a[1:] for a in val("proxy_set_header") if a}
    R.check(headers.get("host") == ["$http_host"], "proxy_set_header Host $http_host (SigV4 signs Host)")
    R.check(headers.get("connection") == [""], 'proxy_set_header Connection "" (upstream keep-alive)')
    R.check(headers.get("x-forwarded-for") == ["$proxy_add_x_forwarded_for"], "X-Forwarded-For passed")
    touched = sorted(h for h in headers if h == "authorization" or h.startswith("x-amz-") or h.startswith("content-"))
    R.check(not touched, "Authorization, x-amz-* and Content-* are not set or altered", f"{touched}")
    R.check(not find(items, "proxy_set_body") and one("proxy_pass_request_headers") in (None, ["on"])
            and one("proxy_pass_request_body") in (None, ["on"]), "request headers and body passed as sent")
    R.check(one("proxy_buffering") == ["off"] or one("proxy_max_temp_file_size") == ["0"],
            "large GETs are not buffered to disk")
    R.check(one("proxy_max_temp_file_size") == ["0"], "proxy_max_temp_file_size 0")
    bs = one("proxy_buffer_size")
    R.check(bs is not None and nginx_size(bs[0]) >= 1 << 20,
            "proxy_buffer_size >= 1m (0.29 GB/s with the default, 0.9 GB/s with 1m)", f"{bs}")
    keep = [d for d in up.block or [] if d.name == "keepalive"]
    R.check(bool(keep) and keep[0].args and keep[0].args[0].isdigit() and int(keep[0].args[0]) > 0,
            "keepalive in the upstream block")
    nu = one("proxy_next_upstream")
    R.check(nu is not None and "non_idempotent" not in nu,
            "proxy_next_upstream without non_idempotent (POST is never replayed)", f"{nu}")
    R.check(nu is not None and {"error", "timeout", "http_502", "http_503"} <= set(nu),
            "proxy_next_upstream error timeout http_502 http_503", f"{nu}")
    tries = one("proxy_next_upstream_tries")
    R.check(tries is not None and tries[0].isdigit() and 0 < int(tries[0]) <= GATEWAYS,
            f"proxy_next_upstream_tries bounded (1..{GATEWAYS})", f"{tries}")
    nut = one("proxy_next_upstream_timeout")
    R.check(nut is not None and nginx_seconds(nut[0]) > 0, "proxy_next_upstream_timeout bounded", f"{nut}")
    for name, lo, hi in (("proxy_connect_timeout", 1, 60), ("proxy_read_timeout", 60, 3600),
                         ("proxy_send_timeout", 60, 3600)):
        v = one(name)
        R.check(v is not None and lo <= nginx_seconds(v[0]) <= hi, f"{name} within {lo}..{hi}s", f"{v}")
    pages = val("error_page")
    named = {d.args[0]: d for d in locs if d.args and d.args[0].startswith("@")}
    target = next((a[-1] for a in pages if "502" in a and a[-1].startswith("@")), None)
    R.check(target is not None and target in named,
            "Nginx's own 502 goes to a named location (no HTML error page)", f"{pages}")
    if target in named:
        ret = [d.args for d in named[target].block or [] if d.name == "return"]
        body = ret[0][1] if ret and len(ret[0]) > 1 else ""
        R.check(bool(ret) and ret[0][0] == "503" and "<Code>ServiceUnavailable</Code>" in body,
                f"{target} answers an S3 503 ServiceUnavailable (clients parse and retry it)", f"{ret}")
    R.check(one("proxy_intercept_errors") in (None, ["off"]),
            "proxy_intercept_errors off (the gateways' own S3 errors pass unchanged)")
    R.check(one("server_tokens") == ["off"], "server_tokens off")
    R.check(one("merge_slashes") == ["off"], "merge_slashes off (keys may contain //)")
    lchb = one("large_client_header_buffers")
    R.check(lchb is not None and len(lchb) == 2 and nginx_size(lchb[1]) >= 16 << 10,
            "large_client_header_buffers >= 16k each (metadata, presigned URLs)", f"{lchb}")
    R.check(one("underscores_in_headers") == ["on"],
            "underscores_in_headers on (x-amz-meta-* names may contain '_'; signed)")
    lc = one("limit_conn")
    zones = [d.args for d, _ in find(items, "limit_conn_zone")]
    R.check(lc is not None and len(lc) == 2 and lc[1].isdigit() and int(lc[1]) >= 32
            and any(f"zone={lc[0]}:" in " ".join(z) for z in zones),
            "limit_conn per client address, generous (>= 32)", f"{lc}, zones {zones}")
    R.check(one("gzip") in (None, ["off"]), "responses are not re-encoded (gzip off)")
    fmt = [d for d, _ in find(items, "log_format") if d.args and d.args[0] == "s3gw"]
    fmt_text = " ".join(fmt[0].args[1:]) if fmt else ""
    missing = [v for v in ("$request_id", "$upstream_addr", "$upstream_status", "$request_time") if v not in fmt_text]
    R.check(bool(fmt) and not missing, "log_format s3gw has request id, upstream addr/status, request time",
            f"missing {missing}")

    check_admin_server(items, admin_srv, admin_up)

    # The per-deployment files hold nothing that belongs in the shared one.
    allowed_main = {"worker_processes", "worker_rlimit_nofile", "pid", "error_log", "events",
                    "worker_connections", "http", "include", "access_log", "user", "resolver",
                    "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path",
                    "uwsgi_temp_path", "scgi_temp_path"}
    out: dict = {}
    params = {}
    for v in VARIANTS:
        main = parse_nginx(NGINX_DIR / v / "nginx.conf")
        extra = sorted({d.name for d, _ in walk(main.items)} - allowed_main)
        R.check(not extra, f"{v}/nginx.conf holds no proxy settings (those live in s3gw.conf only)", f"{extra}")
        inc = [(d, p) for d, p in find(main.items, "include") if d.args == ["../s3gw.conf"]]
        R.check(len(inc) == 1 and inc[0][1] == ("http",), f"{v}/nginx.conf includes ../s3gw.conf in http")
        logs = [d.args for d, _ in find(main.items, "access_log")]
        R.check(any(len(a) >= 2 and a[1] == "s3gw" for a in logs), f"{v}/nginx.conf logs with format s3gw", f"{logs}")
        for name, port, what in (("listen.conf", NGINX_PORT, "S3"), ("admin-listen.conf", ADMIN_PORT, "admin")):
            lst = parse_nginx(NGINX_DIR / v / name)
            R.check(all(d.name == "listen" for d in lst.items) and lst.items, f"{v}/{name} holds only listen")
            addrs = [d.args[0] for d in lst.items if d.args]
            lports = {int(a.rsplit(":", 1)[-1]) for a in addrs if a.rsplit(":", 1)[-1].isdigit()}
            R.check(lports == {port}, f"{v}: Nginx's {what} server listens on {port}", f"{addrs}")
            if v == "local":
                R.check(all(a.startswith("127.0.0.1:") for a in addrs),
                        f"local: the {what} server listens on 127.0.0.1 only", f"{addrs}")
        for name, key in (("gateways.conf", v), ("admin-gateways.conf", f"{v}-admin")):
            servers, dirs = upstream_servers(v, name)
            out[key] = servers
            for d in dirs:
                p = {a.split("=")[0]: a.split("=", 1)[1] for a in d.args[1:] if "=" in a}
                R.check(p.get("max_fails", "0") not in ("0", "") and "fail_timeout" in p,
                        f"{v}/{name}: {d.args[0]} has max_fails and fail_timeout (passive health)", d.where())
                params.setdefault(v, set()).add((p.get("max_fails"), p.get("fail_timeout")))
            R.check(len(servers) == len(set(servers)), f"{v}/{name}: no duplicate gateways", f"{servers}")
        R.check(sorted(h for h, _ in out[f"{v}-admin"]) == sorted(h for h, _ in out[v]),
                f"{v}: the admin upstream has the same gateways as the S3 upstream",
                f"{out[f'{v}-admin']} vs {out[v]}")
    R.check(set(out.get("local", [])) == LAUNCHER_UPSTREAMS and len(out.get("local", [])) == 3,
            "local upstreams are 127.0.0.1:9001-9003", f"{out.get('local')}")
    R.check(set(out.get("local-admin", [])) == LAUNCHER_ADMIN_UPSTREAMS and len(out.get("local-admin", [])) == 3,
            "local admin upstreams are 127.0.0.1:9101-9103", f"{out.get('local-admin')}")
    R.check(params.get("local") == params.get("docker") and len(params.get("local", ())) == 1,
            "same max_fails/fail_timeout in both variants", f"{params}")
    return out


def check_admin_server(items: list[Directive], srv: Directive, up: Directive) -> None:
    """The admin server: the dashboard's own origin in front of the admin
    listeners, with the login limited per client address."""
    name = up.args[0] if up.args else "?"
    block = srv.block or []
    locs = [d for d in block if d.name == "location"]
    passes = find(block, "proxy_pass")
    R.check(bool(passes) and all(d.args == [f"http://{name}"] for d, _ in passes),
            f"admin server: every proxy_pass goes to http://{name}", f"{[d.args for d, _ in passes]}")
    R.check(not [d for d, _ in find(items, "proxy_pass") if d.args == [f"http://{name}"]
                 and not any(d is e for e, _ in passes)],
            f"only the admin server proxies to {name} (the S3 server never serves the dashboard)")
    R.check(not any(d.name == "proxy_set_header" for loc in locs for d, _ in walk(loc.block or [])),
            "admin server: no location sets its own proxy_set_header (that would drop the server's)")
    headers = {d.args[0].lower(): d.args[1:] for d in block if d.name == "proxy_set_header" and d.args}
    R.check(headers.get("host") == ["$http_host"],
            "admin server: Host $http_host (the gateway compares Origin with Host, port included)", f"{headers.get('host')}")
    R.check(headers.get("x-forwarded-proto") == ["$scheme"],
            "admin server: X-Forwarded-Proto $scheme (https: the __Host- Secure cookie)", f"{headers.get('x-forwarded-proto')}")
    R.check(headers.get("x-forwarded-for") == ["$proxy_add_x_forwarded_for"], "admin server: X-Forwarded-For passed")
    R.check(headers.get("connection") == [""] and [d.args for d in block if d.name == "proxy_http_version"] == [["1.1"]],
            'admin server: HTTP/1.1 with Connection "" (upstream keep-alive)')
    nu = [d.args for d in block if d.name == "proxy_next_upstream"]
    R.check(bool(nu) and "non_idempotent" not in nu[-1],
            "admin server: proxy_next_upstream without non_idempotent (a login is never replayed)", f"{nu}")
    R.check([d.args for d in block if d.name == "server_tokens"] == [["off"]], "admin server: server_tokens off")
    cmbs = [d.args for d in block if d.name == "client_max_body_size"]
    R.check(bool(cmbs) and 4 << 10 <= nginx_size(cmbs[-1][0]) <= 1 << 20,
            "admin server: client_max_body_size between 4k (a login) and 1m", f"{cmbs}")

    # The login, limited per client address (behind Nginx the gateway sees
    # only Nginx's address, so only Nginx can tell clients apart).
    login = [d for d in locs if d.args == ["=", LOGIN_PATH]]
    R.check(len(login) == 1, f"admin server: location = {LOGIN_PATH}")
    lblock = login[0].block or [] if login else []
    lr = [d.args for d in lblock if d.name == "limit_req"]
    zone = next((a.split("=", 1)[1] for a in (lr[0] if lr else []) if a.startswith("zone=")), None)
    zones = {next((a.split("=", 1)[1].split(":")[0] for a in d.args if a.startswith("zone=")), None): d.args
             for d, _ in find(items, "limit_req_zone")}
    zargs = zones.get(zone, [])
    rate = next((a.split("=", 1)[1] for a in zargs if a.startswith("rate=")), "")
    m = re.fullmatch(r"(\d+)r/([sm])", rate)
    per_min = int(m.group(1)) * (60 if m.group(2) == "s" else 1) if m else None
    R.check(zone is not None and zargs[:1] == ["$binary_remote_addr"] and per_min is not None and per_min <= 60,
            f"admin server: limit_req on {LOGIN_PATH} per client address, at most 60 a minute",
            f"limit_req {lr}, zone {zargs}")
    status = [d.args for d in lblock + block if d.name == "limit_req_status"]
    R.check(status[:1] == [["429"]], f"admin server: limit_req_status 429 on {LOGIN_PATH}", f"{status}")
    others = [d.where() for loc in locs if loc not in login for d, _ in walk(loc.block or []) if d.name == "limit_req"]
    R.check(not others and not [d for d in block if d.name == "limit_req"],
            "admin server: only the login is rate-limited (not the page's polls)", f"{others}")


def check_launcher(gw: GatewaySettings, upstreams: dict) -> None:
    """scripts/cluster starts the gateways on the ports of the local variant."""
    R.start("scripts/cluster <-> deploy/nginx/local")
    text = read(LAUNCHER)
    R.check("admin-listen" in gw.flags, "the gateway knows --admin-listen (src/)")

    def ports(var: str) -> set[tuple[str, int]]:
        m = re.search(rf"^{var}=\(([^)]*)\)", text, re.M)
        return {("127.0.0.1", int(p)) for p in m.group(1).split()} if m else set()

    R.check(ports("GATEWAY_PORTS") == set(upstreams.get("local", [])),
            "GATEWAY_PORTS are the local S3 upstreams", f"{sorted(ports('GATEWAY_PORTS'))}")
    R.check(ports("ADMIN_PORTS") == set(upstreams.get("local-admin", [])),
            "ADMIN_PORTS are the local admin upstreams", f"{sorted(ports('ADMIN_PORTS'))}")
    R.check(re.search(r'--admin-listen "127\.0\.0\.1:\$admin"', text) is not None,
            "gateways are started with --admin-listen 127.0.0.1:<ADMIN_PORTS>")


def run_nginx_t(label: str, argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    output = (proc.stdout + proc.stderr).strip()
    bad = [ln for ln in output.splitlines() if re.search(r"\[(warn|error|crit|alert|emerg)\]", ln)]
    for ln in output.splitlines():
        print(f"        | {ln}")
    R.check(proc.returncode == 0 and not bad, f"nginx -t accepts the {label} variant",
            f"exit {proc.returncode}; " + " / ".join(bad or output.splitlines()[-1:]))


def check_nginx_t(gateway_hosts: list[str], compose_info: dict) -> None:
    R.start("nginx -t")
    nginx = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        R.note(f"nginx not found ({nginx}): nginx -t SKIPPED (scripts/install-test-deps.sh installs it)")
        return
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True)
    R.note(f"{nginx}: {(version.stderr or version.stdout).strip()}")
    with tempfile.TemporaryDirectory(prefix="s3gw-nginx-t.") as tmp:
        tmp = Path(tmp)
        # Launcher variant: exactly the command the launcher runs, on the repo files.
        (tmp / "local-prefix").mkdir()
        run_nginx_t("launcher (local/)", [nginx, "-t", "-p", f"{tmp / 'local-prefix'}/", "-e", "stderr",
                                           "-c", str(NGINX_DIR / "local" / "nginx.conf")])
        # Compose variant: a copy of deploy/nginx laid out as it is mounted. gw1..gw3
        # only resolve inside the compose network, so they become 127.0.0.1 (nginx -t
        # resolves upstream names); the official image's compiled-in temp paths and
        # pid file are replaced by ones under the temp dir. Nothing else changes.
        mount = tmp / "etc-nginx-s3gw"
        shutil.copytree(NGINX_DIR, mount)
        for name in ("gateways.conf", "admin-gateways.conf"):
            gw_conf = mount / "docker" / name
            text = gw_conf.read_text()
            for h in gateway_hosts:
                text = re.sub(rf"(^\s*server\s+){re.escape(h)}:", r"\g<1>127.0.0.1:", text, flags=re.M)
            gw_conf.write_text(text)
        main = mount / "docker" / "nginx.conf"
        mtext = main.read_text()
        temps = "".join(f"    {k}_temp_path {tmp / 'docker-prefix' / k};\n"
                        for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi") if f"{k}_temp_path" not in mtext)
        mtext = re.sub(r"^(\s*http\s*\{[^\n]*\n)", lambda m: m.group(1) + temps, mtext, count=1, flags=re.M)
        main.write_text(mtext)
        (tmp / "docker-prefix").mkdir()
        extra = [] if re.search(r"^\s*pid\s", mtext, re.M) else ["-g", f"pid {tmp / 'docker.pid'};"]
        run_nginx_t(f"compose (docker/, {', '.join(gateway_hosts)} -> 127.0.0.1)",
                    [nginx, "-t", "-p", f"{tmp / 'docker-prefix'}/", "-e", "stderr", "-c", str(main), *extra])


def main() -> int:
    print(f"check-deploy-config: {REPO}")
    gw = gateway_settings()
    R.start("gateway settings (src/)")
    R.check(len(gw.env_vars) >= 10, f"S3GW_* variables read from src/: {', '.join(sorted(gw.env_vars))}")
    R.check(len(gw.flags) >= 10, f"flags of serve/migrate: {len(gw.flags)} (--{' --'.join(sorted(gw.flags))})")
    R.check({"serve", "migrate"} <= gw.subcommands, f"subcommands: {', '.join(sorted(gw.subcommands))}")
    R.check(bool(gw.ready_path) and bool(gw.health_path), f"probes: {gw.ready_path}, {gw.health_path}")
    undocumented = sorted(gw.env_vars - gw.readme_env - {
        "S3GW_ROOT_ACCESS_KEY", "S3GW_ROOT_SECRET_KEY", "S3GW_KEY_ENCRYPTION_KEY", "S3GW_LOG", "S3GW_ENDPOINT",
    })
    if undocumented:
        R.note(f"in src/ but not in README.md's tables: {undocumented}")

    df = parse_dockerfile()
    check_dockerfile(gw, df)
    check_dockerignore()
    check_classic_builder()
    upstreams = check_nginx(gw)
    check_launcher(gw, upstreams)
    compose_info = check_compose(gw, df, upstreams.get("docker", []), upstreams.get("docker-admin", []))
    targets = compose_info.get("nginx_targets")
    if targets is not None:
        R.start("compose <-> nginx")
        R.check(targets == {NGINX_PORT, ADMIN_PORT},
                f"compose publishes the container ports Nginx listens on ({NGINX_PORT}, {ADMIN_PORT})", f"{targets}")
    check_nginx_t(sorted({h for h, _ in upstreams.get("docker", [])}), compose_info)

    print()
    if R.failures:
        print(f"check-deploy-config: {len(R.failures)} mismatch(es), {R.passed} checks passed:")
        for f in R.failures:
            print(f"  - {f}")
        return 1
    print(f"check-deploy-config: all {R.passed} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
