#!/usr/bin/env bash
# Benchmark (not a test): the gateway's memory while aws cli v2 moves one big file
# as a multipart upload and a parallel ranged download.
#
#   scripts/bench-multipart-rss.sh
#
# Builds nothing: expects target/release/s3gw (cargo build --release) and the aws cli v2
# from scripts/install-test-deps.sh. Starts its own gateway on 127.0.0.1 (free port) with
# a temp data dir, samples VmRSS from /proc/PID/status every 100 ms, uploads a file with
# `aws s3 cp` (multipart, PART_MB parts, CONCURRENCY threads, set in a temp
# AWS_CONFIG_FILE), downloads it again, compares the bytes, and prints RSS before, peak
# RSS during each direction, VmHWM at the end, elapsed seconds and MB/s (10^6 B/s) each
# way, and the gateway's chunk size. Stops the gateway by PID and removes its files.
#
# Env: SIZE_MB (1024), PART_MB (8), CONCURRENCY (10), S3GW_CHUNK_SIZE (bytes; unset =
# the gateway's default), STEP_TIMEOUT (600 s per step), TMPDIR_BASE ($ROOT/tmp).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/target/release/s3gw"
AWS="$ROOT/.tools/bin/aws"
SIZE_MB="${SIZE_MB:-1024}"
PART_MB="${PART_MB:-8}"
CONCURRENCY="${CONCURRENCY:-10}"
STEP_TIMEOUT="${STEP_TIMEOUT:-600}"
BASE="${TMPDIR_BASE:-$ROOT/tmp}"

log() { printf '[bench-multipart-rss] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

[[ -x $BIN ]] || die "$BIN missing: run cargo build --release first"
[[ -x $AWS ]] || die "aws cli v2 missing ($AWS): run scripts/install-test-deps.sh"
[[ $SIZE_MB =~ ^[0-9]+$ && $PART_MB =~ ^[0-9]+$ && $CONCURRENCY =~ ^[0-9]+$ ]] \
    || die "SIZE_MB, PART_MB and CONCURRENCY must be integers"
[[ -r /proc/self/status ]] || die "/proc/PID/status is needed"

mkdir -p "$BASE"
WORK="$(mktemp -d "$BASE/bench-mp.XXXXXX")"
GW_PID=""
SAMPLER_PID=""

stop_sampler() {
    if [[ -n $SAMPLER_PID ]]; then
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
        SAMPLER_PID=""
    fi
}
stop_gateway() {
    if [[ -n $GW_PID ]] && kill -0 "$GW_PID" 2>/dev/null; then
        kill -TERM "$GW_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$GW_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$GW_PID" 2>/dev/null; then
            kill -KILL "$GW_PID" 2>/dev/null || true
        fi
        wait "$GW_PID" 2>/dev/null || true
    fi
    GW_PID=""
}
cleanup() {
    stop_sampler
    stop_gateway
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

status_kb() { # status_kb FIELD -> value in kB from /proc/$GW_PID/status
    awk -v f="$1:" '$1 == f { print $2 }' "/proc/$GW_PID/status" 2>/dev/null || true
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# Append one VmRSS sample (kB) per 100 ms to $1 until stopped.
start_sampler() {
    local out="$1"
    : >"$out"
    (
        # Builtins only (no awk per sample), so the period stays close to 100 ms.
        while [[ -r /proc/$GW_PID/status ]]; do
            while read -r k v _; do
                if [[ $k == VmRSS: ]]; then echo "$v"; break; fi
            done <"/proc/$GW_PID/status" >>"$out" 2>/dev/null || true
            sleep 0.1
        done
    ) &
    SAMPLER_PID=$!
}
peak_of() { sort -n "$1" | tail -1; }
count_of() { wc -l <"$1" | tr -d ' '; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v bytes="$1" -v s="$2" 'BEGIN { printf "%.1f", bytes / 1e6 / (s > 0 ? s : 1e-9) }'; }

# ---------------------------------------------------------------- gateway
ACCESS="bench$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
SECRET="$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$WORK/data"
chunk_args=()
if [[ -n ${S3GW_CHUNK_SIZE:-} ]]; then
    chunk_args=(--chunk-size "$S3GW_CHUNK_SIZE")
    CHUNK_DESC="$S3GW_CHUNK_SIZE bytes (--chunk-size)"
else
    CHUNK_DESC="$("$BIN" serve --help | sed -n 's/.*--chunk-size.*\[default: \([^]]*\)\].*/\1/p') (default)"
fi
# The gateway reads S3GW_CHUNK_SIZE itself too: pass the value only as the flag.
env -u S3GW_CHUNK_SIZE S3GW_ROOT_ACCESS_KEY="$ACCESS" S3GW_ROOT_SECRET_KEY="$SECRET" \
    "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" "${chunk_args[@]}" \
    >"$WORK/gw.out" 2>"$WORK/gw.err" &
GW_PID=$!
PORT=""
for _ in $(seq 1 100); do
    PORT="$(sed -n '1s#^s3gw serving S3 at http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$WORK/gw.out")"
    [[ -n $PORT ]] && break
    kill -0 "$GW_PID" 2>/dev/null || die "gateway exited: $(tail -5 "$WORK/gw.err")"
    sleep 0.1
done
[[ -n $PORT ]] || die "gateway did not print its address within 10 s"
ENDPOINT="http://127.0.0.1:$PORT"
log "gateway pid $GW_PID at $ENDPOINT, data in $WORK/data"

# ---------------------------------------------------------------- aws cli v2
mkdir -p "$WORK/aws"
cat >"$WORK/aws/config" <<EOF
[default]
region = us-east-1
output = json
cli_pager =
s3 =
    addressing_style = path
    multipart_threshold = ${PART_MB}MB
    multipart_chunksize = ${PART_MB}MB
    max_concurrent_requests = ${CONCURRENCY}
EOF
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$ACCESS" "$SECRET" >"$WORK/aws/credentials"
aws_() {
    env -u AWS_CA_BUNDLE -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
        -u AWS_ENDPOINT_URL -u AWS_REQUEST_CHECKSUM_CALCULATION \
        AWS_CONFIG_FILE="$WORK/aws/config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws/credentials" \
        AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" HOME="$WORK/aws" \
        timeout "$STEP_TIMEOUT" "$AWS" --endpoint-url "$ENDPOINT" "$@"
}

BUCKET="bench-mp-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
aws_ s3 mb "s3://$BUCKET" >/dev/null

SIZE=$((SIZE_MB * 1024 * 1024))
log "writing a ${SIZE_MB} MiB random file"
timeout "$STEP_TIMEOUT" head -c "$SIZE" /dev/urandom >"$WORK/src.bin"
sync "$WORK/src.bin" 2>/dev/null || true

sleep 0.5
RSS_BEFORE="$(status_kb VmRSS)"

# ---------------------------------------------------------------- upload
log "upload: aws s3 cp, ${PART_MB} MiB parts, ${CONCURRENCY} concurrent requests"
start_sampler "$WORK/rss-up"
t0="$(now)"
aws_ s3 cp --only-show-errors "$WORK/src.bin" "s3://$BUCKET/big.bin"
t1="$(now)"
stop_sampler
UP_S="$(elapsed "$t0" "$t1")"
UP_PEAK="$(peak_of "$WORK/rss-up")"
UP_N="$(count_of "$WORK/rss-up")"
ETAG="$(aws_ s3api head-object --bucket "$BUCKET" --key big.bin --query ETag --output text)"
RSS_AFTER_UP="$(status_kb VmRSS)"

# ---------------------------------------------------------------- download
log "download: aws s3 cp, ranged GETs, ${CONCURRENCY} concurrent requests"
start_sampler "$WORK/rss-down"
t0="$(now)"
aws_ s3 cp --only-show-errors "s3://$BUCKET/big.bin" "$WORK/dst.bin"
t1="$(now)"
stop_sampler
DOWN_S="$(elapsed "$t0" "$t1")"
DOWN_PEAK="$(peak_of "$WORK/rss-down")"
DOWN_N="$(count_of "$WORK/rss-down")"
HWM="$(status_kb VmHWM)"
RSS_END="$(status_kb VmRSS)"

SAME=yes
timeout "$STEP_TIMEOUT" cmp -s "$WORK/src.bin" "$WORK/dst.bin" || SAME=NO

cat <<EOF
bench-multipart-rss: ${SIZE_MB} MiB, aws cli v2 $("$AWS" --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2), ${PART_MB} MiB parts, max_concurrent_requests ${CONCURRENCY}
  gateway chunk size         ${CHUNK_DESC}
  object ETag                ${ETAG}
  RSS before                 $(mib "$RSS_BEFORE")
  peak RSS during upload     $(mib "$UP_PEAK")  (${UP_N} samples)
  RSS after upload           $(mib "$RSS_AFTER_UP")
  peak RSS during download   $(mib "$DOWN_PEAK")  (${DOWN_N} samples)
  RSS at end                 $(mib "$RSS_END")
  VmHWM at end               $(mib "$HWM")
  upload                     ${UP_S} s, $(rate "$SIZE" "$UP_S") MB/s
  download                   ${DOWN_S} s, $(rate "$SIZE" "$DOWN_S") MB/s
  downloaded bytes identical ${SAME}
EOF
[[ $SAME == yes ]] || { log "ERROR: downloaded file differs from the upload"; exit 1; }
