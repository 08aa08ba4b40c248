#!/usr/bin/env bash
# A TLS terminator (Nginx) in front of a plain-HTTP gateway, for the HTTPS pass
# of the real-client suite.
#
#   scripts/tls-proxy.sh start BACKEND_PORT TLS_PORT STATE_DIR
#   scripts/tls-proxy.sh stop  BACKEND_PORT TLS_PORT STATE_DIR
#
# start: makes a throwaway CA and a server certificate for localhost,
#        *.localhost and 127.0.0.1 in STATE_DIR (ca.pem is what clients trust),
#        renders scripts/nginx-tls.conf.template to STATE_DIR/nginx.conf and
#        starts nginx listening on 127.0.0.1:TLS_PORT, proxying to
#        127.0.0.1:BACKEND_PORT. Pid, logs and temp files live in STATE_DIR.
# stop:  kills the nginx whose pid is in STATE_DIR/nginx.pid.
set -euo pipefail

usage() { echo "usage: $0 start|stop BACKEND_PORT TLS_PORT STATE_DIR" >&2; exit 2; }
[[ $# -eq 4 ]] || usage
CMD="$1" BACKEND_PORT="$2" TLS_PORT="$3" STATE_DIR="$4"
[[ $BACKEND_PORT =~ ^[0-9]+$ && $TLS_PORT =~ ^[0-9]+$ ]] || usage

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATE="$HERE/nginx-tls.conf.template"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

log() { printf '[tls-proxy] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

make_certs() {
    local d="$1"
    [[ -s $d/ca.pem && -s $d/server.pem && -s $d/server.key ]] && return 0
    log "creating self-signed CA and server certificate in $d"
    cat >"$d/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:*.localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
    # A separate CA, so strict verifiers (Python 3.13+ VERIFY_X509_STRICT,
    # Go) see a proper chain rather than a self-signed leaf.
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
        -subj "/CN=s3gw test CA" -config "$d/openssl.cnf" -extensions ca_ext \
        -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
        -config "$d/openssl.cnf" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -days 30 -sha256 -extfile "$d/openssl.cnf" \
        -extensions server_ext -out "$d/server.pem" 2>/dev/null
    chmod 600 "$d/ca.key" "$d/server.key"
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

case "$CMD" in
start)
    [[ -f $TEMPLATE ]] || die "missing $TEMPLATE"
    [[ -x $NGINX ]] || die "nginx not found (run scripts/install-test-deps.sh)"
    mkdir -p "$STATE_DIR"
    STATE_DIR="$(cd "$STATE_DIR" && pwd)"
    if [[ -s $STATE_DIR/nginx.pid ]] && kill -0 "$(cat "$STATE_DIR/nginx.pid")" 2>/dev/null; then
        die "nginx already running with pid $(cat "$STATE_DIR/nginx.pid") for $STATE_DIR"
    fi
    if port_open "$TLS_PORT"; then die "port $TLS_PORT is already in use"; fi
    mkdir -p "$STATE_DIR"/tmp/{client_body,proxy,fastcgi,uwsgi,scgi}
    make_certs "$STATE_DIR"
    sed -e "s#@STATE_DIR@#$STATE_DIR#g" -e "s#@BACKEND_PORT@#$BACKEND_PORT#g" \
        -e "s#@TLS_PORT@#$TLS_PORT#g" "$TEMPLATE" >"$STATE_DIR/nginx.conf"
    "$NGINX" -p "$STATE_DIR" -e "$STATE_DIR/error.log" -c "$STATE_DIR/nginx.conf" -t -q \
        || die "nginx -t failed; see $STATE_DIR/error.log"
    "$NGINX" -p "$STATE_DIR" -e "$STATE_DIR/error.log" -c "$STATE_DIR/nginx.conf" \
        || die "nginx failed to start; see $STATE_DIR/error.log"
    for _ in $(seq 1 50); do
        if [[ -s $STATE_DIR/nginx.pid ]] && port_open "$TLS_PORT"; then
            log "nginx pid $(cat "$STATE_DIR/nginx.pid"): https://127.0.0.1:$TLS_PORT -> http://127.0.0.1:$BACKEND_PORT (CA $STATE_DIR/ca.pem)"
            exit 0
        fi
        sleep 0.1
    done
    die "nginx did not listen on 127.0.0.1:$TLS_PORT; see $STATE_DIR/error.log"
    ;;
stop)
    pidfile="$STATE_DIR/nginx.pid"
    if [[ ! -s $pidfile ]]; then
        log "no pid file $pidfile: nothing to stop"
        exit 0
    fi
    pid="$(cat "$pidfile")"
    [[ $pid =~ ^[0-9]+$ ]] || die "bad pid file $pidfile"
    if kill -0 "$pid" 2>/dev/null; then
        kill -QUIT "$pid"   # graceful: master waits for its workers
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "nginx $pid still running; sending TERM"
            kill -TERM "$pid" 2>/dev/null || true
            sleep 0.5
        fi
        log "stopped nginx $pid"
    else
        log "nginx $pid was not running"
    fi
    rm -f "$pidfile"
    ;;
*)
    usage
    ;;
esac
