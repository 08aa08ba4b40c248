#!/usr/bin/env bash
# Benchmark (not a test): PUT and GET throughput of the Cassandra backend at
# several chunk sizes, through the gateway and straight into Cassandra ("raw").
#
#   scripts/bench-chunk-size.sh
#   COUNT=8 SIZE=4194304 scripts/bench-chunk-size.sh        # a quick run
#
# Builds nothing: expects target/release/s3gw and target/release/examples/s3bench:
#
#   cargo build --release && cargo build --release --example s3bench
#
# Starts its own fresh single-node Cassandra (scripts/cassandra, heap
# CASSANDRA_HEAP) in its own run dir on 127.0.0.$BENCH_CASSANDRA_FIRST_IP:9042, so
# it never touches the test cluster of tmp/cassandra on 127.0.0.1. Then for each
# chunk size: starts a release gateway on 127.0.0.1 (free port) on keyspace
# bench_<size> with --chunk-size <size>, runs s3bench (PUT COUNT objects of SIZE
# bytes with CONCURRENCY requests in flight, then GET them all and check every
# byte), reads the gateway's VmHWM and stops it; then s3bench --mode raw writes
# and reads the same objects as blobs of <size> chunks through the backend's
# Storage trait (no HTTP), in the same keyspace, which is then dropped (so no
# flush or compaction of one run's data lands in the next). ROUNDS > 1 repeats
# the whole set, every other round in reverse order, and adds medians. Prints a
# summary table (MB/s = 10^6 B/s, gateway VmHWM, WARN/ERROR lines of the gateway
# and of Cassandra) and stops its Cassandra and everything else it started, by PID.
# Figures on a small shared machine are noisy: compare sizes within one run.
#
# Env:
#   CHUNK_SIZES        chunk sizes in bytes ("262144 524288 1048576")
#   SIZE               object size, bytes or with a K/M/G suffix (16777216)
#   COUNT              objects per phase (32)
#   CONCURRENCY        objects in flight (4)
#   CHUNKS_IN_FLIGHT   chunks of one object stored at once, for the gateway
#                      (--chunks-in-flight) and for raw (4, the gateway's default)
#   ROUNDS             repetitions of the whole set of chunk sizes (1)
#   SETTLE_SECS        pause before each chunk size's run (5)
#   WARMUP             1: first an untimed raw write+read of the same volume, so that
#                      Cassandra's JIT is warm for the first size; 0: none (1)
#   CASSANDRA_HEAP     heap of the Cassandra node (4G)
#   BENCH_CASSANDRA_DIR       run dir of that node (<repo>/tmp/bench-cassandra)
#   BENCH_CASSANDRA_FIRST_IP  its address 127.0.0.N (21)
#   KEEP_CASSANDRA=1   keep the keyspaces and leave the node running at the end (stop
#                      it with S3GW_CASSANDRA_DIR=<run dir> scripts/cassandra stop)
#   STEP_TIMEOUT       seconds per step: Cassandra start, each s3bench run (900)
#   TMPDIR_BASE        where the work dir goes (<repo>/tmp)
#   S3GW_LOG           the gateway's log filter (info); logs are kept only on failure
# The gateway ignores every other S3GW_* variable of the caller's environment.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
BIN="$ROOT/target/release/s3gw"
BENCH="$ROOT/target/release/examples/s3bench"
CASSANDRA="$ROOT/scripts/cassandra"
CHUNK_SIZES="${CHUNK_SIZES:-262144 524288 1048576}"
SIZE="${SIZE:-16777216}"
COUNT="${COUNT:-32}"
CONCURRENCY="${CONCURRENCY:-4}"
CHUNKS_IN_FLIGHT="${CHUNKS_IN_FLIGHT:-4}"
HEAP="${CASSANDRA_HEAP:-4G}"
CASS_DIR="${BENCH_CASSANDRA_DIR:-$ROOT/tmp/bench-cassandra}"
FIRST_IP="${BENCH_CASSANDRA_FIRST_IP:-21}"
KEEP_CASSANDRA="${KEEP_CASSANDRA:-0}"
STEP_TIMEOUT="${STEP_TIMEOUT:-900}"
ROUNDS="${ROUNDS:-1}"
SETTLE_SECS="${SETTLE_SECS:-5}"
WARMUP="${WARMUP:-1}"
PYTHON="${PYTHON:-python3}"
BASE="${TMPDIR_BASE:-$ROOT/tmp}"
GW_LOG_FILTER="${S3GW_LOG:-info}"

log() { printf '[bench-chunk-size] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

[[ -x $BIN ]] || die "$BIN missing: run cargo build --release"
[[ -x $BENCH ]] || die "$BENCH missing: run cargo build --release --example s3bench"
[[ $SETTLE_SECS =~ ^[0-9]+$ ]] || die "SETTLE_SECS must be an integer"
[[ $WARMUP == 0 || $WARMUP == 1 ]] || die "WARMUP must be 0 or 1"
for v in COUNT CONCURRENCY CHUNKS_IN_FLIGHT STEP_TIMEOUT FIRST_IP ROUNDS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[[ $SIZE =~ ^[0-9]+([kKmMgG](iB)?)?$ ]] || die "SIZE must be bytes, or a number with K, M or G (got '$SIZE')"
for cs in $CHUNK_SIZES; do
    if ! [[ $cs =~ ^[1-9][0-9]*$ ]] || ((cs < 65536 || cs > 8388608)); then
        die "chunk sizes must be bytes in 65536..8388608 (got '$cs')"
    fi
done
[[ -r /proc/self/status ]] || die "/proc/PID/status is needed"
mkdir -p "$CASS_DIR"
CASS_DIR="$(cd "$CASS_DIR" && pwd -P)"
if [[ $CASS_DIR == "$ROOT/tmp/cassandra" ]] || ((FIRST_IP == 1)); then
    die "use a run dir and address of their own (not tmp/cassandra, not 127.0.0.1): that is the test cluster"
fi
CONTACT="127.0.0.$FIRST_IP:9042"

mkdir -p "$BASE"
WORK="$(mktemp -d "$BASE/bench-chunk.XXXXXX")"
GW_PID=""
STEP_PID=""
CASS_STARTED=0
FAILED=0

# scripts/cassandra on the benchmark's own run dir and address, never the default ones.
cass() {
    S3GW_CASSANDRA_DIR="$CASS_DIR" S3GW_CASSANDRA_FIRST_IP="$FIRST_IP" CASSANDRA_HEAP="$HEAP" \
        bash "$CASSANDRA" "$@"
}

# bounded CMD...: runs CMD in the background under `timeout` (so that the traps
# below run at once on a signal) and waits for it; returns its status (124:
# timed out). bounded_to OUT ERR CMD... sends its stdout and stderr to files.
# (Never redirect a call of these: the traps would inherit the redirection.)
bounded() {
    timeout -k 10 "$STEP_TIMEOUT" "$@" &
    wait_step "$!"
}
bounded_to() {
    local out=$1 err=$2
    shift 2
    timeout -k 10 "$STEP_TIMEOUT" "$@" >"$out" 2>"$err" &
    wait_step "$!"
}
wait_step() {
    STEP_PID=$1
    local rc=0
    wait "$STEP_PID" || rc=$?
    STEP_PID=""
    return "$rc"
}

stop_gateway() {
    [[ -n $GW_PID ]] || return 0
    if kill -0 "$GW_PID" 2>/dev/null; then
        kill -TERM "$GW_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$GW_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$GW_PID" 2>/dev/null; then
            log "gateway pid $GW_PID still alive 10 s after SIGTERM: SIGKILL"
            kill -KILL "$GW_PID" 2>/dev/null || true
        fi
    fi
    wait "$GW_PID" 2>/dev/null || true
    GW_PID=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $STEP_PID ]]; then
        kill -TERM "$STEP_PID" 2>/dev/null || true
        wait "$STEP_PID" 2>/dev/null || true
    fi
    stop_gateway
    if ((CASS_STARTED)); then
        if [[ $KEEP_CASSANDRA == 1 ]]; then
            log "KEEP_CASSANDRA=1: Cassandra left running at $CONTACT (run dir $CASS_DIR)"
        else
            cass stop || log "could not stop the Cassandra of $CASS_DIR"
        fi
    fi
    if ((rc == 0)); then
        rm -rf "$WORK"
    else
        log "logs kept in $WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The gateway's environment: none of the caller's S3GW_* settings.
GW_UNSET=()
while read -r v; do
    [[ $v == S3GW_* ]] && GW_UNSET+=(-u "$v")
done < <(compgen -e)

ACCESS="bench$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
SECRET="$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"

# Starts the gateway for chunk size $1; sets GW_PID and ENDPOINT.
start_gateway() {
    local cs=$1 dir="$WORK/gw-$1" port=""
    mkdir -p "$dir/data"
    env "${GW_UNSET[@]}" S3GW_LOG="$GW_LOG_FILTER" \
        S3GW_ROOT_ACCESS_KEY="$ACCESS" S3GW_ROOT_SECRET_KEY="$SECRET" \
        "$BIN" serve --backend cassandra --cassandra-contact-points "$CONTACT" \
        --cassandra-keyspace "bench_$cs" --chunk-size "$cs" --chunks-in-flight "$CHUNKS_IN_FLIGHT" \
        --listen 127.0.0.1:0 --data-dir "$dir/data" \
        >"$dir/gw.out" 2>"$dir/gw.err" &
    GW_PID=$!
    for _ in $(seq 1 600); do
        port="$(sed -n 's#^s3gw serving S3 at http://127\.0\.0\.1:\([0-9]*\).*#\1#p;T;q' "$dir/gw.out")"
        [[ -n $port ]] && break
        if ! kill -0 "$GW_PID" 2>/dev/null; then
            wait "$GW_PID" 2>/dev/null || true
            GW_PID=""
            tail -n 20 "$dir/gw.err" >&2
            return 1
        fi
        sleep 0.1
    done
    if [[ -z $port ]]; then
        log "gateway did not print its address within 60 s"
        tail -n 20 "$dir/gw.err" >&2
        return 1
    fi
    ENDPOINT="http://127.0.0.1:$port"
}

# status_kb PID FIELD: a /proc/PID/status value in kB.
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
mib() {
    if [[ -n $1 ]]; then awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; else printf -- '-'; fi
}
# field FILE PHASE KEY: a key=value field of s3bench's line for PHASE.
field() {
    awk -v p="phase=$2" -v k="$3=" '$1 == "s3bench" && index($0, " " p " ") {
        for (i = 2; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' "$1"
}
# cell FILE PHASE: "MB/s", with the error count when there were errors, or "-".
cell() {
    local mb err
    mb="$(field "$1" "$2" MB/s)"
    err="$(field "$1" "$2" errors)"
    if [[ -z $mb ]]; then
        printf -- '-'
    elif [[ $err != 0 ]]; then
        printf '%s (%s err)' "$mb" "$err"
    else
        printf '%s' "$mb"
    fi
}

# ---------------------------------------------------------------- Cassandra
log "Cassandra: fresh single node, heap $HEAP, at $CONTACT, run dir $CASS_DIR"
cass stop >/dev/null 2>&1 || true   # a leftover of an interrupted run (this run dir only)
CASS_STARTED=1
bounded env S3GW_CASSANDRA_DIR="$CASS_DIR" S3GW_CASSANDRA_FIRST_IP="$FIRST_IP" CASSANDRA_HEAP="$HEAP" \
    bash "$CASSANDRA" start --nodes 1 || die "Cassandra did not start"
CASS_PID="$(cat "$CASS_DIR/node1/pid")"
CASS_LOG_START="$(wc -l <"$CASS_DIR/node1/logs/system.log" 2>/dev/null || echo 0)"

# ---------------------------------------------------------------- runs
common=(--size "$SIZE" --count "$COUNT" --concurrency "$CONCURRENCY")
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# s3bench_step NAME OUT ARGS...: runs s3bench bounded, output appended to OUT
# and shown; a failure is reported and remembered.
s3bench_step() {
    local name=$1 out=$2 rc=0
    shift 2
    bounded_to "$out.part" "$out.$name.err" "$BENCH" "$@" || rc=$?
    cat "$out.part"
    cat "$out.part" >>"$out"
    if ((rc != 0)); then
        FAILED=1
        log "$name: s3bench exited $rc$( ((rc == 124)) && echo " (timed out after $STEP_TIMEOUT s)")"
        sed 's/^/  /' "$out.$name.err" | tail -n 12 >&2
    fi
}

# run_one ROUND CHUNK_SIZE: gateway put+get, then raw; appends a row to $RESULTS.
run_one() {
    local r=$1 cs=$2 out="$WORK/s3bench-r$1-$2.out" ks="bench_$2" hwm="" warns=0 gw_pid
    : >"$out"
    sleep "$SETTLE_SECS"
    log "round $r, chunk size $cs: gateway on keyspace $ks"
    if start_gateway "$cs"; then
        log "gateway pid $GW_PID at $ENDPOINT; s3bench put+get ($COUNT x $SIZE B, $CONCURRENCY in flight)"
        s3bench_step "gw-$cs" "$out" --mode both --label "gw-$cs" --endpoint "$ENDPOINT" \
            --access-key "$ACCESS" --secret-key "$SECRET" --bucket "bench-$cs" --create-bucket \
            "${common[@]}"
        hwm="$(status_kb "$GW_PID" VmHWM)"
        gw_pid=$GW_PID
        stop_gateway
        cp "$WORK/gw-$cs/gw.err" "$WORK/gateway-r$r-$cs.log"
        rm -rf "$WORK/gw-$cs"
        warns="$(grep -cE ' (WARN|ERROR) ' "$WORK/gateway-r$r-$cs.log" || true)"
        if ((warns > 0)); then
            log "the gateway (pid $gw_pid) logged $warns WARN/ERROR lines; the first ones:"
            { grep -E ' (WARN|ERROR) ' "$WORK/gateway-r$r-$cs.log" | head -n 5 | cut -c1-400 >&2; } || true
        fi
    else
        log "the gateway did not start"
        FAILED=1
    fi

    log "s3bench raw (Storage trait, no HTTP) on $ks, $CHUNKS_IN_FLIGHT chunks in flight per object"
    s3bench_step "raw-$cs" "$out" --mode raw --label "raw-$cs" --cassandra "$CONTACT" --keyspace "$ks" \
        --chunk-size "$cs" --chunks-in-flight "$CHUNKS_IN_FLIGHT" "${common[@]}"

    # A fresh keyspace for every run: no flushes or compactions of an earlier
    # run's data during the next one, and the disk use stays bounded.
    if [[ $KEEP_CASSANDRA != 1 ]]; then
        if ! bounded_to /dev/null "$WORK/drop-$ks.err" "$PYTHON" "$ROOT/scripts/cql-ready.py" \
            --host "127.0.0.$FIRST_IP" --timeout 120 -e "DROP KEYSPACE IF EXISTS $ks"; then
            log "could not drop keyspace $ks: $(tail -n 3 "$WORK/drop-$ks.err")"
        fi
    fi
    local ph v row="$r	$cs"
    for ph in put get raw-put raw-get; do
        v="$(field "$out" "$ph" MB/s)"
        row+="	${v:--}	$(field "$out" "$ph" errors)"
    done
    printf '%s\t%s\t%s\n' "$row" "$(mib "$hwm")" "$warns" >>"$RESULTS"
}

SIZES=()
read -r -a SIZES <<<"$CHUNK_SIZES"
if ((WARMUP)); then
    # A fresh JVM is markedly slower for its first minute or so (JIT): write and
    # read the same amount once, untimed, before the first measurement.
    log "warm-up: s3bench raw, $COUNT x $SIZE B at chunk size ${SIZES[0]} (not counted)"
    if bounded_to /dev/null "$WORK/warmup.err" "$BENCH" --mode raw --label warmup --cassandra "$CONTACT" \
        --keyspace bench_warmup --chunk-size "${SIZES[0]}" --chunks-in-flight "$CHUNKS_IN_FLIGHT" "${common[@]}"; then
        bounded_to /dev/null "$WORK/warmup.err" "$PYTHON" "$ROOT/scripts/cql-ready.py" \
            --host "127.0.0.$FIRST_IP" --timeout 120 -e "DROP KEYSPACE IF EXISTS bench_warmup" \
            || log "could not drop keyspace bench_warmup"
    else
        log "warm-up failed (ignored): $(tail -n 3 "$WORK/warmup.err")"
    fi
fi
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
    # Odd rounds in the given order, even rounds reversed: drift over time
    # (Cassandra warming up, the machine's other work) spreads over all sizes.
    order=()
    if ((r % 2)); then
        order=("${SIZES[@]}")
    else
        for ((k = ${#SIZES[@]} - 1; k >= 0; k--)); do order+=("${SIZES[k]}"); done
    fi
    for cs in "${order[@]}"; do
        run_one "$r" "$cs"
    done
done

# ---------------------------------------------------------------- summary
cass_rss="$(status_kb "$CASS_PID" VmRSS)"
echo
echo "bench-chunk-size: $COUNT objects x $SIZE B, $CONCURRENCY in flight, $CHUNKS_IN_FLIGHT chunks in flight per object, $ROUNDS round(s);"
echo "  Cassandra 1 node at $CONTACT, heap $HEAP (RSS at end $(mib "$cass_rss") MiB); MB/s = 10^6 B/s"
echo "  $(nproc) CPUs; load average before the runs $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)"
awk -F'\t' -v rounds="$ROUNDS" -v sizes="$CHUNK_SIZES" '
    function cell(mb, err) { return mb == "-" ? "-" : (err != "" && err != "0" ? mb " (" err " err)" : mb) }
    function median(cs, c,    n, i, j, t, a) {
        n = 0
        for (i = 1; i <= nrow; i++) if (row[i, 2] == cs && row[i, c] != "-") a[++n] = row[i, c] + 0
        if (n == 0) return "-"
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return sprintf("%.1f", n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
    }
    { nrow++; for (i = 1; i <= NF; i++) row[nrow, i] = $i }
    END {
        fmt = "%-6s %-10s %-16s %-16s %-16s %-16s %-11s %s\n"
        printf fmt, "round", "chunk", "gw PUT MB/s", "gw GET MB/s", "raw PUT MB/s", "raw GET MB/s", "gw HWM MiB", "gw WARN+ERROR"
        for (i = 1; i <= nrow; i++)
            printf fmt, row[i, 1], row[i, 2], cell(row[i, 3], row[i, 4]), cell(row[i, 5], row[i, 6]),
                cell(row[i, 7], row[i, 8]), cell(row[i, 9], row[i, 10]), row[i, 11], row[i, 12]
        if (rounds > 1) {
            n = split(sizes, s, " ")
            for (k = 1; k <= n; k++)
                printf fmt, "median", s[k], median(s[k], 3), median(s[k], 5), median(s[k], 7), median(s[k], 9), "", ""
        }
    }' "$RESULTS"

# What Cassandra said while the benchmark ran (after its start-up).
SYSLOG="$CASS_DIR/node1/logs/system.log"
if [[ -r $SYSLOG ]]; then
    tail -n +"$((CASS_LOG_START + 1))" "$SYSLOG" >"$WORK/cassandra-bench.log" || true
    gcs="$(grep -c 'GCInspector' "$WORK/cassandra-bench.log" || true)"
    cwarn="$(grep -cE '^(WARN|ERROR) ' "$WORK/cassandra-bench.log" || true)"
    echo "  Cassandra log during the runs: $cwarn WARN/ERROR lines, $gcs GC pauses logged by GCInspector"
    { grep -E '^(WARN|ERROR) ' "$WORK/cassandra-bench.log" | cut -c1-300 | head -n 5 | sed 's/^/    /'; } || true
    { grep 'GCInspector' "$WORK/cassandra-bench.log" \
        | sed -n 's/.* - \(G1 [A-Za-z ]* GC in [0-9]*ms\).*/\1/p' | head -n 5 | sed 's/^/    /'; } || true
fi
if ((FAILED)); then
    log "some steps failed (see above)"
    exit 1
fi
