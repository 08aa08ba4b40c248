//! `s3bench`: a small load generator for choosing the gateway's chunk size.
//!
//! Through S3 (`--mode put|get|both`): PUTs `--count` objects of `--size`
//! bytes with `--concurrency` requests in flight (AWS SDK, path style), then
//! GETs them all back the same way, reading every body and comparing it with
//! what was sent. The object bytes are pseudo-random (incompressible) and
//! deterministic (`--seed`), generated once and shared by every PUT, so a
//! later `--mode get` run can verify objects written by an earlier one.
//!
//! Raw (`--mode raw`): the same traffic straight into Cassandra through the
//! backend's `Storage` trait, without HTTP: each object becomes a blob of
//! `--chunk-size` chunks (`begin_blob`, `put_chunk` with `--chunks-in-flight`
//! per object, `seal_blob`), then is read back with `get_chunk`. Raw blobs
//! get no object head (they stay filed as pending blobs, like an upload that
//! never committed).
//!
//! One line per phase on stdout, `key=value` fields:
//!
//! ```text
//! s3bench label=L phase=put size=16777216 count=32 concurrency=4 secs=9.876 MB/s=54.4 obj/s=3.24 p50_ms=1201.3 p99_ms=1702.9 errors=0
//! ```
//!
//! MB/s counts 10^6 bytes per second of successful requests; latencies are
//! those of successful requests (a GET's includes reading the whole body).
//! Exit status: 0, 1 if any request failed or returned wrong data, 2 on a
//! usage or setup error.
//!
//! ```text
//! cargo build --release --example s3bench
//! target/release/examples/s3bench --endpoint http://127.0.0.1:9000 \
//!     --access-key K --secret-key S --bucket bench --create-bucket \
//!     --size 16MiB --count 32 --concurrency 4
//! target/release/examples/s3bench --mode raw --cassandra 127.0.0.1:9042 \
//!     --keyspace bench --chunk-size 1MiB --size 16MiB --count 32 --concurrency 4
//! ```

use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use s3gw::storage::cassandra::{CassandraOptions, CassandraStorage};
use s3gw::storage::{chunk_count, BlobId, BlobOwner, BucketId, ChunkAddr, Storage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// PUT the objects only.
    Put,
    /// GET objects written before with the same --prefix, --size and --seed.
    Get,
    /// PUT, then GET.
    Both,
    /// Write and read the same data as blobs straight into Cassandra.
    Raw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Checksums {
    /// The SDK's default: a CRC32 with every PUT.
    WhenSupported,
    /// Only where an operation requires one (none for PutObject).
    WhenRequired,
}

/// Throughput of PUT and GET through an S3 endpoint, or of the same chunk
/// traffic straight into the Cassandra backend (--mode raw).
#[derive(Debug, Parser)]
#[command(name = "s3bench")]
struct Args {
    /// What to run.
    #[arg(long, value_enum, default_value_t = Mode::Both)]
    mode: Mode,
    /// Free text printed as label=... on every result line (no spaces).
    #[arg(long, default_value = "-")]
    label: String,
    /// Object size in bytes; K/M/G (or KiB/MiB/GiB) suffixes are powers of 1024.
    #[arg(long, value_parser = parse_size, default_value = "16MiB")]
    size: u64,
    /// Number of objects.
    #[arg(long, default_value_t = 32)]
    count: usize,
    /// Objects in flight (requests for S3, blobs for raw).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Object keys are PREFIX000000, PREFIX000001, ...
    #[arg(long, default_value = "s3bench/obj-")]
    prefix: String,
    /// Seed of the object bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// S3 endpoint, e.g. http://127.0.0.1:9000 (put, get, both).
    #[arg(long)]
    endpoint: Option<String>,
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    access_key: Option<String>,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    #[arg(long)]
    bucket: Option<String>,
    /// Create the bucket first (an existing bucket of ours is fine).
    #[arg(long)]
    create_bucket: bool,
    /// SDK retries per request; 0 makes every failure count as an error.
    #[arg(long, default_value_t = 0)]
    retries: u32,
    /// Limit on one request, retries included, in seconds.
    #[arg(long, default_value_t = 300)]
    request_timeout_secs: u64,
    /// Request checksums of the SDK (PUT).
    #[arg(long, value_enum, default_value_t = Checksums::WhenSupported)]
    checksums: Checksums,

    /// Cassandra contact point host:port (raw).
    #[arg(long, default_value = "127.0.0.1:9042")]
    cassandra: String,
    /// Keyspace (raw); created with the gateway's schema if missing.
    #[arg(long, default_value = "s3bench")]
    keyspace: String,
    /// Chunk size of the raw blobs, bytes (suffixes as for --size).
    #[arg(long, value_parser = parse_chunk_size, default_value = "1MiB")]
    chunk_size: u32,
    /// Chunks of one raw blob being written or read at once.
    #[arg(long, default_value_t = 4)]
    chunks_in_flight: usize,
    /// Client-side limit on one CQL statement in ms (raw).
    #[arg(long, default_value_t = 10_000)]
    cql_timeout_ms: u64,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size"))?;
    let mul: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        other => return Err(format!("{s:?}: unknown unit {other:?} (use K, M or G)")),
    };
    n.checked_mul(mul)
        .ok_or_else(|| format!("{s:?} is too large"))
}

fn parse_chunk_size(s: &str) -> Result<u32, String> {
    let n = parse_size(s)?;
    match u32::try_from(n) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("chunk size {s:?} must be 1..4GiB")),
    }
}

/// Deterministic pseudo-random bytes (xorshift64): incompressible, cheap.
fn pattern(len: usize, seed: u64) -> Bytes {
    let mut x = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0x6A09_E667_F3BC_C909)
        | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    Bytes::from(v)
}

/// The outcome of one phase.
struct Phase<T> {
    elapsed: Duration,
    /// (object index, latency, value) of each successful operation.
    done: Vec<(usize, Duration, T)>,
    /// (object index, message) of each failed operation.
    failed: Vec<(usize, String)>,
}

/// Runs `op` on every item with `concurrency` worker tasks.
async fn run_phase<T, F, Fut>(items: Vec<usize>, concurrency: usize, op: F) -> Phase<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, String>> + Send + 'static,
{
    let items = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let op = Arc::new(op);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (items, next, op) = (items.clone(), next.clone(), op.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            let mut failed = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = items.get(k) else { break };
                let t = Instant::now();
                match op(i).await {
                    Ok(v) => done.push((i, t.elapsed(), v)),
                    Err(e) => failed.push((i, e)),
                }
            }
            (done, failed)
        }));
    }
    let mut phase = Phase {
        elapsed: Duration::ZERO,
        done: Vec::new(),
        failed: Vec::new(),
    };
    for w in workers {
        match w.await {
            Ok((d, f)) => {
                phase.done.extend(d);
                phase.failed.extend(f);
            }
            Err(e) => phase
                .failed
                .push((usize::MAX, format!("worker task failed: {e}"))),
        }
    }
    phase.elapsed = started.elapsed();
    phase.done.sort_by_key(|d| d.0);
    phase
}

/// Nearest-rank percentile of sorted latencies, in ms.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// Prints the result line of a phase (and its first errors on stderr);
/// whether it had no errors.
fn report<T>(args: &Args, name: &str, phase: &Phase<T>) -> bool {
    let secs = phase.elapsed.as_secs_f64().max(1e-9);
    let ok = phase.done.len();
    let mut lat: Vec<Duration> = phase.done.iter().map(|d| d.1).collect();
    lat.sort();
    let bytes = ok as f64 * args.size as f64;
    let raw = if args.mode == Mode::Raw {
        format!(
            " chunk={} chunks_in_flight={}",
            args.chunk_size, args.chunks_in_flight
        )
    } else {
        String::new()
    };
    println!(
        "s3bench label={} phase={name} size={} count={} concurrency={}{raw} secs={secs:.3} \
         MB/s={:.1} obj/s={:.2} p50_ms={:.1} p99_ms={:.1} errors={}",
        args.label.replace(char::is_whitespace, "_"),
        args.size,
        ok,
        args.concurrency,
        bytes / 1e6 / secs,
        ok as f64 / secs,
        percentile_ms(&lat, 50.0),
        percentile_ms(&lat, 99.0),
        phase.failed.len(),
    );
    for (i, e) in phase.failed.iter().take(5) {
        eprintln!("s3bench: {name} of object {i} failed: {e}");
    }
    if phase.failed.len() > 5 {
        eprintln!(
            "s3bench: ... and {} more {name} errors",
            phase.failed.len() - 5
        );
    }
    phase.failed.is_empty()
}

fn key(args: &Args, i: usize) -> String {
    format!("{}{i:06}", args.prefix)
}

/// Compares one piece of a body, at `offset`, with the expected bytes.
fn check_piece(expected: &Bytes, offset: usize, piece: &[u8]) -> Result<(), String> {
    let end = offset + piece.len();
    if end > expected.len() {
        return Err(format!(
            "body longer than the {} bytes written",
            expected.len()
        ));
    }
    if expected[offset..end] != *piece {
        return Err(format!("wrong bytes in {offset}..{end}"));
    }
    Ok(())
}

fn sdk_err<E>(e: aws_sdk_s3::error::SdkError<E>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    match (status, e.code()) {
        (Some(s), Some(c)) => format!("HTTP {s} {c}: {}", e.message().unwrap_or("")),
        (Some(s), None) => format!("HTTP {s}: {}", DisplayErrorContext(&e)),
        _ => DisplayErrorContext(&e).to_string(),
    }
}

fn client(args: &Args, endpoint: &str, access: &str, secret: &str) -> Client {
    let retry = if args.retries == 0 {
        RetryConfig::disabled()
    } else {
        RetryConfig::standard().with_max_attempts(args.retries + 1)
    };
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(args.request_timeout_secs))
        .build();
    let checksums = match args.checksums {
        Checksums::WhenSupported => RequestChecksumCalculation::WhenSupported,
        Checksums::WhenRequired => RequestChecksumCalculation::WhenRequired,
    };
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(access, secret, None, None, "s3bench"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .retry_config(retry)
        .timeout_config(timeouts)
        .request_checksum_calculation(checksums)
        .build();
    Client::from_conf(conf)
}

async fn ensure_bucket(client: &Client, bucket: &str) -> Result<(), String> {
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
        Err(e) => Err(format!("cannot create bucket {bucket}: {}", sdk_err(e))),
    }
}

async fn s3_put(client: Client, bucket: String, key: String, data: Bytes) -> Result<(), String> {
    let len = data.len() as i64;
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_length(len)
        .body(ByteStream::from(data))
        .send()
        .await
        .map(|_| ())
        .map_err(sdk_err)
}

async fn s3_get(client: Client, bucket: String, key: String, data: Bytes) -> Result<(), String> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(sdk_err)?;
    if let Some(len) = out.content_length() {
        if len != data.len() as i64 {
            return Err(format!("Content-Length {len}, expected {}", data.len()));
        }
    }
    let mut body = out.body;
    let mut offset = 0;
    while let Some(piece) = body
        .try_next()
        .await
        .map_err(|e| format!("reading the body: {}", DisplayErrorContext(&e)))?
    {
        check_piece(&data, offset, &piece)?;
        offset += piece.len();
    }
    if offset != data.len() {
        return Err(format!("body of {offset} bytes, expected {}", data.len()));
    }
    Ok(())
}

async fn run_s3(args: &Args, data: Bytes) -> Result<bool, String> {
    let endpoint = args.endpoint.as_deref().ok_or("--endpoint is required")?;
    let access = args
        .access_key
        .as_deref()
        .ok_or("--access-key is required")?;
    let secret = args
        .secret_key
        .as_deref()
        .ok_or("--secret-key is required")?;
    let bucket = args.bucket.clone().ok_or("--bucket is required")?;
    let client = client(args, endpoint, access, secret);
    if args.create_bucket {
        ensure_bucket(&client, &bucket).await?;
    }
    let mut clean = true;
    let mut to_get: Vec<usize> = (0..args.count).collect();
    if matches!(args.mode, Mode::Put | Mode::Both) {
        let keys: Arc<Vec<String>> = Arc::new(to_get.iter().map(|&i| key(args, i)).collect());
        let (c, b, d) = (client.clone(), bucket.clone(), data.clone());
        let phase = run_phase(to_get.clone(), args.concurrency, move |i| {
            s3_put(c.clone(), b.clone(), keys[i].clone(), d.clone())
        })
        .await;
        clean &= report(args, "put", &phase);
        to_get = phase.done.iter().map(|d| d.0).collect();
    }
    if matches!(args.mode, Mode::Get | Mode::Both) {
        let keys: Arc<Vec<String>> = Arc::new((0..args.count).map(|i| key(args, i)).collect());
        let (c, b, d) = (client.clone(), bucket.clone(), data.clone());
        let phase = run_phase(to_get, args.concurrency, move |i| {
            s3_get(c.clone(), b.clone(), keys[i].clone(), d.clone())
        })
        .await;
        clean &= report(args, "get", &phase);
    }
    Ok(clean)
}

/// Writes `data` as a new blob of `chunk_size` chunks, `in_flight` at once.
async fn raw_put(
    store: CassandraStorage,
    data: Bytes,
    chunk_size: u32,
    in_flight: usize,
) -> Result<BlobId, String> {
    let blob = BlobId::new();
    // Nothing will reference the blob: the sweep would release it once
    // its commit deadline is past.
    let owner = BlobOwner::Object {
        bucket: BucketId(uuid::Uuid::nil()),
        key: "s3bench-raw".into(),
    };
    store
        .begin_blob(blob, &owner)
        .await
        .map_err(|e| format!("begin_blob: {e}"))?;
    let cs = chunk_size as usize;
    let chunks = chunk_count(data.len() as u64, chunk_size);
    stream::iter(0..chunks)
        .map(|index| {
            let start = index as usize * cs;
            let piece = data.slice(start..(start + cs).min(data.len()));
            let addr = ChunkAddr {
                blob,
                index,
                chunk_size,
            };
            let store = &store;
            async move {
                store
                    .put_chunk(addr, piece)
                    .await
                    .map_err(|e| format!("put_chunk {index}: {e}"))
            }
        })
        .buffer_unordered(in_flight.max(1))
        .try_for_each(|()| async { Ok(()) })
        .await?;
    store
        .seal_blob(blob)
        .await
        .map_err(|e| format!("seal_blob: {e}"))?;
    Ok(blob)
}

/// Reads a blob back in order, `in_flight` chunks ahead, and checks it.
async fn raw_get(
    store: CassandraStorage,
    blob: BlobId,
    data: Bytes,
    chunk_size: u32,
    in_flight: usize,
) -> Result<(), String> {
    let chunks = chunk_count(data.len() as u64, chunk_size);
    let mut pieces = stream::iter(0..chunks)
        .map(|index| {
            let store = &store;
            async move {
                let addr = ChunkAddr {
                    blob,
                    index,
                    chunk_size,
                };
                store
                    .get_chunk(addr)
                    .await
                    .map_err(|e| format!("get_chunk {index}: {e}"))
            }
        })
        .buffered(in_flight.max(1));
    let mut offset = 0;
    while let Some(piece) = pieces.try_next().await? {
        check_piece(&data, offset, &piece)?;
        offset += piece.len();
    }
    if offset != data.len() {
        return Err(format!("blob of {offset} bytes, expected {}", data.len()));
    }
    Ok(())
}

async fn run_raw(args: &Args, data: Bytes) -> Result<bool, String> {
    let mut opts = CassandraOptions::local(&args.cassandra, &args.keyspace);
    opts.request_timeout = Duration::from_millis(args.cql_timeout_ms);
    let store = CassandraStorage::open(opts).await.map_err(|e| {
        format!(
            "cannot open keyspace {} at {}: {e}",
            args.keyspace, args.cassandra
        )
    })?;
    let (chunk_size, in_flight) = (args.chunk_size, args.chunks_in_flight);

    let (s, d) = (store.clone(), data.clone());
    let put = run_phase((0..args.count).collect(), args.concurrency, move |_| {
        raw_put(s.clone(), d.clone(), chunk_size, in_flight)
    })
    .await;
    let mut clean = report(args, "raw-put", &put);

    let blobs: Arc<Vec<Option<BlobId>>> = Arc::new({
        let mut v = vec![None; args.count];
        for (i, _, blob) in &put.done {
            v[*i] = Some(*blob);
        }
        v
    });
    let written: Vec<usize> = put.done.iter().map(|d| d.0).collect();
    let (s, d) = (store.clone(), data.clone());
    let get = run_phase(written, args.concurrency, move |i| {
        let (s, d, blob) = (s.clone(), d.clone(), blobs[i]);
        async move {
            let blob = blob.ok_or("no blob")?;
            raw_get(s, blob, d, chunk_size, in_flight).await
        }
    })
    .await;
    clean &= report(args, "raw-get", &get);
    Ok(clean)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let Ok(size) = usize::try_from(args.size) else {
        eprintln!("s3bench: --size {} does not fit in memory", args.size);
        return ExitCode::from(2);
    };
    let data = pattern(size, args.seed);
    let run = match args.mode {
        Mode::Raw => run_raw(&args, data).await,
        _ => run_s3(&args, data).await,
    };
    match run {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("s3bench: {e}");
            ExitCode::from(2)
        }
    }
}
