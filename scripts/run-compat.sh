#!/usr/bin/env bash
# Run the real-client suite (s3-compat-tests/) against a running gateway, twice:
#   1. plain HTTP  on http://127.0.0.1:BACKEND_PORT
#   2. HTTPS       through an Nginx TLS terminator (scripts/tls-proxy.sh) on a free
#                  port, https://localhost:TLS_PORT. Only over HTTPS do boto3 and
#                  the aws clis send aws-chunked bodies with a checksum trailer
#                  (STREAMING-UNSIGNED-PAYLOAD-TRAILER) and no Content-Length.
#
#   S3GW_ROOT_ACCESS_KEY=... S3GW_ROOT_SECRET_KEY=... scripts/run-compat.sh BACKEND_PORT [pytest args]
#
# Optional env: S3_VHOST_DOMAIN=localhost (gateway started with --domain localhost),
# S3_REGION (default us-east-1), KEEP_STATE=1 (keep certs and Nginx logs on success),
# COMPAT_PASSES="http https" (the default; "https" runs only the HTTPS pass),
# COMPAT_ACCESS_KEY / COMPAT_SECRET_KEY (sign with this key, not the root pair).
# Exits non-zero if a pass that ran fails. Needs scripts/install-test-deps.sh first.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[run-compat] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

[[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || die "usage: $0 BACKEND_PORT [pytest args...]"
PORT="$1"
shift
: "${S3GW_ROOT_ACCESS_KEY:?set S3GW_ROOT_ACCESS_KEY}"
: "${S3GW_ROOT_SECRET_KEY:?set S3GW_ROOT_SECRET_KEY}"

PY="$ROOT/.venv/bin/python"
[[ -x $PY ]] || die "$PY missing: run scripts/install-test-deps.sh"
[[ -x $ROOT/.tools/bin/aws ]] || die "aws cli v2 missing: run scripts/install-test-deps.sh"

# Is anything listening, and is it healthy?
health="$("$PY" - "$PORT" <<'EOF'
import sys, time, urllib.request, urllib.error
url = f"http://127.0.0.1:{sys.argv[1]}/_s3gw/health"
for _ in range(50):
    try:
        print(urllib.request.urlopen(url, timeout=5).status); break
    except urllib.error.HTTPError as e:
        print(e.code); break
    except OSError:
        time.sleep(0.2)
else:
    print("down")
EOF
)"
[[ $health == down ]] && die "nothing listens on 127.0.0.1:$PORT"
[[ $health == 200 ]] || log "WARNING: GET /_s3gw/health answered $health (continuing)"

mkdir -p "$ROOT/tmp"
STATE="$(mktemp -d "$ROOT/tmp/compat.XXXXXX")"
TLS_DIR="$STATE/tls"
TLS_PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

proxy_started=0
cleanup() {
    if [[ $proxy_started == 1 ]]; then
        "$ROOT/scripts/tls-proxy.sh" stop "$PORT" "$TLS_PORT" "$TLS_DIR" || true
        proxy_started=0
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The clients sign with COMPAT_ACCESS_KEY / COMPAT_SECRET_KEY when set (an
# application's key, made with `s3gw admin key create`), else the root pair.
export S3_ACCESS_KEY="${COMPAT_ACCESS_KEY:-$S3GW_ROOT_ACCESS_KEY}"
export S3_SECRET_KEY="${COMPAT_SECRET_KEY:-$S3GW_ROOT_SECRET_KEY}"
export S3_REGION="${S3_REGION:-us-east-1}"
export S3_TOOLS_DIR="$ROOT/.tools"
export S3_REQUIRE_ALL_CLIENTS=1
unset S3_CA_BUNDLE

run_pass() {
    local name="$1"
    log "=== $name pass: $S3_ENDPOINT_URL"
    (cd "$ROOT/s3-compat-tests" && "$PY" -m pytest -q --basetemp="$STATE/pytest-$name" "${@:2}")
}

PASSES=" ${COMPAT_PASSES:-http https} "
rc_http=0
if [[ $PASSES == *" http "* ]]; then
    S3_ENDPOINT_URL="http://127.0.0.1:$PORT" run_pass http "$@"
    rc_http=$?
else
    log "plain HTTP pass skipped (COMPAT_PASSES=$COMPAT_PASSES)"
fi

rc_https=1
if [[ $PASSES != *" https "* ]]; then
    log "HTTPS pass skipped (COMPAT_PASSES=$COMPAT_PASSES)"
    rc_https=0
elif "$ROOT/scripts/tls-proxy.sh" start "$PORT" "$TLS_PORT" "$TLS_DIR"; then
    proxy_started=1
    S3_ENDPOINT_URL="https://localhost:$TLS_PORT" S3_CA_BUNDLE="$TLS_DIR/ca.pem" run_pass https "$@"
    rc_https=$?

    # What went over the wire: uploads in aws-chunked trailer mode, per client.
    access="$TLS_DIR/access.log"
    trailer_uploads="$(grep -c 'sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER"' "$access" || true)"
    log "HTTPS pass: $trailer_uploads requests with x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    grep 'sha256="STREAMING-' "$access" \
        | sed -E 's/.*"(PUT|POST) [^"]*".*cl="([^"]*)" te="([^"]*)" ce="([^"]*)" sha256="([^"]*)" trailer="([^"]*)".*ua="([^/ ]*\/[0-9]+)[^"]*".*/  \7 \1 cl=\2 te=\3 ce=\4 \5 trailer=\6/' \
        | sort | uniq -c | sort -rn >&2 || true
    if [[ ${trailer_uploads:-0} -eq 0 ]]; then
        log "ERROR: no aws-chunked trailer uploads reached the gateway over HTTPS"
        rc_https=1
    fi
    cleanup
else
    log "ERROR: could not start the TLS proxy"
fi

log "plain HTTP pass: exit $rc_http; HTTPS pass: exit $rc_https"
if [[ $rc_http -eq 0 && $rc_https -eq 0 && ${KEEP_STATE:-0} != 1 ]]; then
    rm -rf "$STATE"
else
    log "logs, certificates and pytest temp files kept in $STATE"
fi
[[ $rc_http -eq 0 && $rc_https -eq 0 ]]
