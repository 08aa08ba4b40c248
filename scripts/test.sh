#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need, then runs
# format and lint checks, the Rust unit and integration tests, and the
# real-client suite against a release gateway over HTTP and HTTPS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

step() { printf '\n=== %s ===\n' "$*"; }

step "install test dependencies"
bash scripts/install-test-deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "cargo test"
cargo test --locked

step "release build"
cargo build --release --locked

step "real clients against the embedded gateway"
WORK=$(mktemp -d /tmp/s3gw-test.XXXXXX)
GW_PID=""
cleanup() {
  if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then
    kill "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export S3GW_ROOT_ACCESS_KEY=S3GWTESTACCESSKEY001
export S3GW_ROOT_SECRET_KEY=s3gw-test-secret-key-not-for-production
target/release/s3gw serve --listen 127.0.0.1:0 --data-dir "$WORK/data" --domain localhost \
  >"$WORK/gateway.out" 2>"$WORK/gateway.log" &
GW_PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's#^s3gw serving S3 at http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$WORK/gateway.out" | head -n1)
  [ -n "$PORT" ] && break
  kill -0 "$GW_PID" 2>/dev/null || { cat "$WORK/gateway.log"; echo "gateway exited"; exit 1; }
  sleep 0.1
done
[ -n "$PORT" ] || { echo "gateway did not report its port"; cat "$WORK/gateway.log"; exit 1; }
curl -fsS "http://127.0.0.1:$PORT/_s3gw/health" >/dev/null

status=0
S3_VHOST_DOMAIN=localhost bash scripts/run-compat.sh "$PORT" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- gateway log (last 50 lines) ---"
  tail -n 50 "$WORK/gateway.log"
fi
exit "$status"
