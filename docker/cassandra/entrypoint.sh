#!/usr/bin/env bash
# Entrypoint of the s3gw-cassandra image (docker/cassandra/Dockerfile explains
# the image and lists the environment variables). Writes
# /etc/cassandra/cassandra.yaml and cassandra-rackdc.properties from the
# environment at every start, then execs Cassandra in the foreground as PID 1
# (docker stop's SIGTERM reaches the JVM, whose shutdown hook drains the node).
#
#   (no arguments)        run Cassandra
#   -D... -X... ...       run Cassandra with these extra JVM options
#   cassandra [-f] [...]  the same (the official image's command line)
#   any other command     exec it instead, e.g. `docker run -it IMAGE bash`
#
# The cassandra.yaml settings and the JVM options are those of
# scripts/cassandra (write_yaml, commitlog_sync_yaml, jvm_opts), with this
# container's paths and addresses; keep them in step.
set -euo pipefail

LIB=/opt/cassandra/lib
CONF=/etc/cassandra
DATA=/var/lib/cassandra
STORAGE_PORT=7000
CQL_PORT=9042
RUN_AS=cassandra

log() { printf '[entrypoint] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ arguments

if (($#)) && [[ $1 != -* && $1 != cassandra ]]; then
    exec "$@"
fi
ORIG_ARGS=("$@")
[[ ${1:-} == cassandra ]] && shift
EXTRA_ARGS=()
for a in "$@"; do
    case $a in
        -f | -R) ;; # bin/cassandra's foreground and allow-root flags: no-ops here
        -*) EXTRA_ARGS+=("$a") ;;
        *) die "unexpected argument '$a': only JVM options (-D..., -X...) may follow (or give a command to run instead of Cassandra)" ;;
    esac
done

# Started as root (docker run --user 0, e.g. for a root-owned bind mount):
# hand the data directory to the cassandra user and run as that user.
if [[ $(id -u) == 0 ]]; then
    mkdir -p "$DATA"
    find "$DATA" "$CONF" \! -user "$RUN_AS" -exec chown "$RUN_AS:$RUN_AS" {} +
    log "started as root: running Cassandra as user $RUN_AS"
    exec setpriv --reuid="$RUN_AS" --regid="$RUN_AS" --init-groups -- "$0" "${ORIG_ARGS[@]}"
fi

# ------------------------------------------------------------------ settings

# This container's address: the first IPv4 address its host name resolves to
# (Docker puts it in /etc/hosts), else the first address at all.
container_ip() {
    local words w
    words=$(hostname -i 2>/dev/null || getent hosts "$(hostname)" | awk '{print $1}' || true)
    for w in $words; do
        if [[ $w =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
            printf '%s' "$w"
            return 0
        fi
    done
    printf '%s' "${words%% *}"
}

# A double-quoted YAML scalar.
yaml_str() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

check_addr() { # variable value
    [[ -n $2 ]] || die "$1 is empty (could not find this container's address?); set it explicitly"
    [[ $2 =~ ^[][A-Za-z0-9.:_%-]+$ ]] || die "$1 must be a host name or an IP address (got '$2')"
}

# Names of the official cassandra image where it has them; empty = unset.
CLUSTER_NAME=${CASSANDRA_CLUSTER_NAME:-s3gw}
LISTEN=${CASSANDRA_LISTEN_ADDRESS:-auto}
[[ $LISTEN == auto ]] && LISTEN=$(container_ip)
check_addr CASSANDRA_LISTEN_ADDRESS "$LISTEN"
BROADCAST=${CASSANDRA_BROADCAST_ADDRESS:-$LISTEN}
[[ $BROADCAST == auto ]] && BROADCAST=$(container_ip)
check_addr CASSANDRA_BROADCAST_ADDRESS "$BROADCAST"
RPC=${CASSANDRA_RPC_ADDRESS:-0.0.0.0}
check_addr CASSANDRA_RPC_ADDRESS "$RPC"
BROADCAST_RPC=${CASSANDRA_BROADCAST_RPC_ADDRESS:-$BROADCAST}
check_addr CASSANDRA_BROADCAST_RPC_ADDRESS "$BROADCAST_RPC"
SEEDS=${CASSANDRA_SEEDS:-$BROADCAST}
NUM_TOKENS=${CASSANDRA_NUM_TOKENS:-16}
DC=${CASSANDRA_DC:-datacenter1}
RACK=${CASSANDRA_RACK:-rack1}
SNITCH=${CASSANDRA_ENDPOINT_SNITCH:-GossipingPropertyFileSnitch}
HEAP=${MAX_HEAP_SIZE:-1G}
# HEAP_NEWSIZE is accepted (the official image's cassandra-env.sh wants it
# together with MAX_HEAP_SIZE) and ignored: under G1 the young generation is
# sized by the collector, and a fixed -Xmn would defeat MaxGCPauseMillis.
: "${HEAP_NEWSIZE:=}"
COMMITLOG_SYNC=${CASSANDRA_COMMITLOG_SYNC:-group}

[[ $CLUSTER_NAME != *$'\n'* ]] || die "CASSANDRA_CLUSTER_NAME must be one line"
[[ $NUM_TOKENS =~ ^[1-9][0-9]{0,3}$ ]] || die "CASSANDRA_NUM_TOKENS must be a number 1..9999 (got '$NUM_TOKENS')"
[[ $DC =~ ^[A-Za-z0-9._-]+$ ]] || die "CASSANDRA_DC must be letters, digits, '.', '_' or '-' (got '$DC')"
[[ $RACK =~ ^[A-Za-z0-9._-]+$ ]] || die "CASSANDRA_RACK must be letters, digits, '.', '_' or '-' (got '$RACK')"
[[ $SNITCH =~ ^[A-Za-z0-9_.]+$ ]] || die "CASSANDRA_ENDPOINT_SNITCH must be a snitch class name (got '$SNITCH')"
[[ $HEAP =~ ^[1-9][0-9]*[kKmMgG]$ ]] || die "MAX_HEAP_SIZE must be a size such as 1G or 512M (got '$HEAP')"
case $COMMITLOG_SYNC in
    group | batch | periodic) ;;
    *) die "CASSANDRA_COMMITLOG_SYNC must be group, batch or periodic (got '$COMMITLOG_SYNC')" ;;
esac

# Seeds: comma-separated host names or IP addresses, each with the storage
# port appended unless it has one (host:port, [v6], [v6]:port or a bare v6).
SEED_LIST=""
IFS=',' read -ra seed_words <<<"$SEEDS"
for s in "${seed_words[@]}"; do
    s=${s//[[:space:]]/}
    [[ -n $s ]] || continue
    if [[ $s == \[*\]:* ]]; then
        :
    elif [[ $s == \[*\] ]]; then
        s+=":$STORAGE_PORT"
    elif [[ $s == *:*:* ]]; then
        s="[$s]:$STORAGE_PORT"
    elif [[ $s != *:* ]]; then
        s+=":$STORAGE_PORT"
    fi
    [[ $s =~ ^[][A-Za-z0-9.:_%-]+$ ]] || die "CASSANDRA_SEEDS: '$s' is not a host name or IP address"
    SEED_LIST+="${SEED_LIST:+,}$s"
done
[[ -n $SEED_LIST ]] || die "CASSANDRA_SEEDS names no seed (got '$SEEDS')"

# ------------------------------------------------------------------ directories

for d in "$DATA" "$CONF"; do
    [[ -d $d && -w $d ]] || die "$d must be a directory writable by uid $(id -u) (the image's user is $RUN_AS, uid 999: chown 999:999 a bind-mounted directory, or start the container with --user 0 to let this script do it)"
done
mkdir -p "$DATA"/{data,commitlog,saved_caches,hints,logs} "$CONF/triggers"

# ------------------------------------------------------------------ config

# How a node makes its commitlog durable before it acknowledges a write
# (as scripts/cassandra's commitlog_sync_yaml). periodic (Cassandra's default)
# acknowledges at once and marks the log as replayable every 100 ms and
# fsyncs it every 10 s: a node killed -9 within about 100 ms of a write
# replays without it, so killing 2 of 3 nodes right after a LOCAL_QUORUM
# write could lose it. group fsyncs first, in groups of at most 15 ms of
# writes, so an acknowledged write survives any kill or power loss of its 2
# replicas (docs/operations.md, Durability).
commitlog_sync_yaml() {
    case $COMMITLOG_SYNC in
        group) printf 'commitlog_sync: group\ncommitlog_sync_group_window: 15ms' ;;
        batch) printf 'commitlog_sync: batch' ;;
        periodic) printf 'commitlog_sync: periodic\ncommitlog_sync_period: 10000ms' ;;
    esac
}

cat >"$CONF/cassandra.yaml.tmp" <<EOF
# Written by the s3gw-cassandra entrypoint from the environment at every start.
cluster_name: $(yaml_str "$CLUSTER_NAME")
num_tokens: $NUM_TOKENS
allocate_tokens_for_local_replication_factor: 3
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: $SNITCH
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: $(yaml_str "$SEED_LIST")
listen_address: $(yaml_str "$LISTEN")
broadcast_address: $(yaml_str "$BROADCAST")
rpc_address: $(yaml_str "$RPC")
broadcast_rpc_address: $(yaml_str "$BROADCAST_RPC")
storage_port: $STORAGE_PORT
native_transport_port: $CQL_PORT
start_native_transport: true
$(commitlog_sync_yaml)
commitlog_segment_size: 32MiB
data_file_directories:
  - $DATA/data
commitlog_directory: $DATA/commitlog
saved_caches_directory: $DATA/saved_caches
hints_directory: $DATA/hints
auto_snapshot: false
block_for_peers_timeout_in_secs: 0
paxos_variant: v2
concurrent_compactors: 1
# Every node, the gateways and the clients share this one machine (2 cores
# in CI), so a replica's acknowledgement can wait behind CPU for seconds
# while 1 MiB chunks stream in. Cassandra's 2 s write timeout then fails
# writes that were only queued (the gateway answers 503, a client retries,
# and Nginx takes every gateway out for fail_timeout after three of them).
# Below the gateway's own 10 s statement timeout; production clusters keep
# their operator's values (docs/operations.md).
write_request_timeout: 5000ms
counter_write_request_timeout: 5000ms
cas_contention_timeout: 2000ms
EOF
mv "$CONF/cassandra.yaml.tmp" "$CONF/cassandra.yaml"

# Read by GossipingPropertyFileSnitch (from the classpath); harmless otherwise.
printf 'dc=%s\nrack=%s\n' "$DC" "$RACK" >"$CONF/cassandra-rackdc.properties"

# ------------------------------------------------------------------ JVM

JVM_OPTS=(
    # conf/jvm-server.options
    -ea -da:net.openhft...
    -XX:+UseThreadPriorities -Xss256k
    -XX:+AlwaysPreTouch -XX:+UseTLAB -XX:+ResizeTLAB -XX:+UseNUMA -XX:+PerfDisableSharedMem
    -Djava.net.preferIPv4Stack=true -Dchronicle.analytics.disable=true
    -XX:+ExitOnOutOfMemoryError -XX:ErrorFile="$DATA/logs/hs_err_%p.log"
    "-Xms$HEAP" "-Xmx$HEAP"
    # conf/jvm17-server.options: GC
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:G1HeapRegionSize=16m
    -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300 -XX:InitiatingHeapOccupancyPercent=70
    # conf/jvm17-server.options: JPMS
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.management/com.sun.jmx.remote.security=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    --add-opens java.base/java.nio=ALL-UNNAMED
    # conf/jvm17-server.options: Netty
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11
)
# bin/cassandra.in.sh: these only when the runtime has the compiler modules
# (Debian's openjdk-17-jre-headless does; see its release file).
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
if grep -q '^MODULES=.*jdk\.compiler' "$java_home/release" 2>/dev/null; then
    JVM_OPTS+=(
        --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
        --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
        --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    )
fi
JVM_OPTS+=(
    # as scripts/cassandra: no JMX (no cassandra.jmx.* property), fast start
    -Dcassandra-foreground=yes
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=5000
    -Dcassandra.config="file://$CONF/cassandra.yaml"
    -Dcassandra.storagedir="$DATA"
    -Dcassandra.logdir="$DATA/logs"
    -Dcassandra.triggers_dir="$CONF/triggers"
    -Dlogback.configurationFile="$CONF/logback.xml"
    -Djava.io.tmpdir=/tmp
)
jamm=$(compgen -G "$LIB/jamm-*.jar" | head -n1 || true)
[[ -n $jamm ]] && JVM_OPTS+=("-javaagent:$jamm")
# JVM_EXTRA_OPTS (as in the official image's cassandra-env.sh), then the
# options given as arguments; both come last, so they win.
read -ra jvm_extra <<<"${JVM_EXTRA_OPTS:-}"
JVM_OPTS+=("${jvm_extra[@]}" "${EXTRA_ARGS[@]}")

log "cluster $(yaml_str "$CLUSTER_NAME"), listen $LISTEN, broadcast $BROADCAST," \
    "rpc $RPC (broadcast $BROADCAST_RPC), seeds $SEED_LIST, $NUM_TOKENS tokens," \
    "$SNITCH $DC/$RACK, heap $HEAP, commitlog_sync $COMMITLOG_SYNC"
cd "$DATA"
exec java "${JVM_OPTS[@]}" -cp "$CONF:$LIB/*" org.apache.cassandra.service.CassandraDaemon
