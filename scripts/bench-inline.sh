#!/bin/bash
# Inline objects against the blob protocol and raw rows (docs/benchmarks.md,
# "Inline objects"): on the Cassandra node at 127.0.0.1:9042 (start one with
# `scripts/cassandra start --nodes 1`), the release gateway with inlining off
# (--inline-max-size 0) and on (262144: every size here inline), then raw rows,
# small PUT/GET/HEAD (4000 requests, 32 in flight) at each size, ROUNDS rounds;
# then the embedded store at 4 KiB, off and on. Prints one JSON line per
# scenario. Needs `cargo build --release --bins`. Every gateway it starts
# listens on 127.0.0.1 and is stopped by its PID.
set -u
cd "$(dirname "$0")/.."
BIN=target/release/s3gw
BENCH=target/release/s3gw-bench
ROUNDS=${ROUNDS:-2}
SIZES=${SIZES:-"4096 16384 1024 65536 262144"}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export AWS_ACCESS_KEY_ID=S3GWBENCHKEY0000001 AWS_SECRET_ACCESS_KEY=benchsecretbenchsecretbenchsecret0000001
export S3GW_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID S3GW_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY S3GW_LOG=warn
KS=${KEYSPACE:-s3gw_bench_inline}
SC=put-4KiB,get-4KiB,head-4KiB
"$BIN" migrate --backend cassandra --cassandra-keyspace "$KS" >/dev/null
gw() { # label size serve-args...
  local label=$1 size=$2; shift 2
  "$BIN" serve --listen 127.0.0.1:9700 --data-dir "$WORK/data-$label" "$@" > "$WORK/gw-$label.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:9700/ && break; sleep 0.2; done
  "$BENCH" --endpoint http://127.0.0.1:9700 --bucket "b-$label-$size-$RANDOM" --label "$label-$size" \
     --small-size "$size" --scenarios $SC --pid $pid 2>&1 | grep -E '^\{'
  kill $pid; wait $pid 2>/dev/null
  rm -rf "$WORK/data-$label"
}
CAS=(--backend cassandra --cassandra-keyspace "$KS")
for r in $(seq "$ROUNDS"); do
  for size in $SIZES; do
    echo "== round $r size $size" >&2
    gw off "$size" "${CAS[@]}" --inline-max-size 0
    gw on "$size" "${CAS[@]}" --inline-max-size 262144
    "$BENCH" --raw-cassandra 127.0.0.1:9042 --keyspace "$KS" --label "raw-$size" --small-size "$size" \
       --scenarios $SC 2>&1 | grep -E '^\{'
  done
done
for r in $(seq "$ROUNDS"); do
  echo "== round $r embedded 4096" >&2
  gw emb-off 4096 --inline-max-size 0
  gw emb-on 4096
done
