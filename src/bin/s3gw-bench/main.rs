//! `s3gw-bench`: a load generator for S3 endpoints, and for the raw
//! Cassandra ceiling under the Cassandra backend.
//!
//! Against an S3 endpoint (`--endpoint`) it runs, in order:
//!
//! | scenario | what |
//! |---|---|
//! | `put-1x256MiB`, `get-1x256MiB` | one stream, one object of 256 MiB |
//! | `put-8x64MiB`, `get-8x64MiB` | 8 streams, one object of 64 MiB each |
//! | `put-1x256MiB-unsigned` | as `put-1x256MiB` with `UNSIGNED-PAYLOAD` |
//! | `mpu-1GiB` | a 1 GiB multipart upload, 16 MiB parts, 8 in flight |
//! | `put-4KiB`, `get-4KiB`, `head-4KiB` | 4000 requests each, 32 in flight |
//! | `list-10k` | a ListObjectsV2 walk of a bucket of 10 000 keys |
//! | `put-8x1GiB` | 8 concurrent 1 GiB PUTs (only with `--scenarios`), for the gateway's peak RSS |
//!
//! PUTs are signed (`x-amz-content-sha256` is the body's SHA-256, computed
//! before the clock starts) unless named `-unsigned`. Every GET compares
//! every byte with what was put, HEAD checks the length, the listing
//! checks every key and its order, the multipart upload its ETag and then
//! (untimed) its bytes. `--scale` shrinks every size for a smoke run.
//!
//! With `--raw-cassandra host:port` it runs the large and the 4 KiB
//! scenarios as chunk rows through the backend's statements instead
//! (`raw.rs`): a 4 KiB object is one row, so its PUT is one single-row
//! INSERT and its GET (and HEAD) one single-row SELECT. With
//! `--hash-only` it measures one core's MD5 + SHA-256 rate, the work a
//! signed PUT costs the gateway per byte.
//!
//! Output: a table on stdout, then one JSON object per scenario per line.
//! With `--pid` (repeatable) each row also gives the highest RSS of those
//! processes and their CPU seconds; `--backend-pid` adds Cassandra's CPU.
//! Exit status 1 if any request failed or any byte was wrong.

mod data;
mod drive;
mod measure;
mod raw;
mod s3;
mod scenarios;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use md5::{Digest, Md5};
use sha2::Sha256;

use data::Source;
use s3::{ensure_bucket, wait_up, Endpoint, Payload};
use scenarios::{bodies, Ctx, Outcome, Sizes, MIB, UP_WITHIN};

#[derive(Parser, Debug)]
#[command(
    name = "s3gw-bench",
    about = "Load generator for S3 endpoints and raw Cassandra"
)]
struct Args {
    /// S3 endpoint, `http://host:port`.
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    endpoint: String,
    #[arg(long, env = "AWS_ACCESS_KEY_ID", default_value = "")]
    access_key: String,
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        default_value = "",
        hide_env_values = true
    )]
    secret_key: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Bucket for the objects (created if missing); the listing uses
    /// `<bucket>-list`.
    #[arg(long, default_value = "s3gw-bench")]
    bucket: String,
    /// Name of the target in the output.
    #[arg(long, default_value = "target")]
    label: String,
    /// Comma-separated scenarios to run (default: all but `put-8x1GiB`).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Multiplies every size (1 = the published figures).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// The size of the small objects of `put-4KiB`, `get-4KiB` and
    /// `head-4KiB` (which keep their names), in bytes [default: 4096].
    #[arg(long)]
    small_size: Option<usize>,
    /// Server processes to watch (RSS, CPU).
    #[arg(long = "pid")]
    pids: Vec<u32>,
    /// Backend processes to watch (CPU).
    #[arg(long = "backend-pid")]
    backend_pids: Vec<u32>,
    /// Measure one core's MD5 + SHA-256 rate and exit.
    #[arg(long)]
    hash_only: bool,
    /// Run the large scenarios as raw chunk rows on this Cassandra node.
    #[arg(long)]
    raw_cassandra: Option<String>,
    /// Keyspace of the raw run.
    #[arg(long, default_value = "s3gw")]
    keyspace: String,
    /// Chunk size of the raw run (the gateway's default).
    #[arg(long, default_value_t = 1024 * 1024)]
    chunk_size: u32,
    /// Chunks of one object in flight in the raw run (the gateway's
    /// upload_chunks_in_flight and get_prefetch_chunks).
    #[arg(long, default_value_t = 4)]
    chunks_in_flight: usize,
}

const ALL: &[&str] = &[
    "put-1x256MiB",
    "get-1x256MiB",
    "put-8x64MiB",
    "get-8x64MiB",
    "put-1x256MiB-unsigned",
    "mpu-1GiB",
    "put-4KiB",
    "get-4KiB",
    "head-4KiB",
    "list-10k",
];

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3gw-bench: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("s3gw-bench: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let wanted: Vec<String> = if args.scenarios.is_empty() {
        ALL.iter().map(|s| s.to_string()).collect()
    } else {
        args.scenarios.clone()
    };
    let wants = |s: &str| wanted.iter().any(|w| w == s);
    if args.hash_only {
        let mut outs = vec![hash_rate(&args), md5_scalar_rate(&args)];
        for streams in [1, 8] {
            outs.push(md5_lanes_rate(&args, streams));
        }
        return Ok(report(&args, &outs));
    }
    let mut sizes = Sizes::scaled(args.scale);
    if let Some(n) = args.small_size {
        sizes.small = n;
    }
    eprintln!("s3gw-bench: preparing data");
    let max = sizes
        .multipart
        .max(sizes.large_one)
        .max(if wants("put-8x1GiB") { sizes.huge } else { 0 });
    let src = Arc::new(Source::new(max, 64, 42));
    let ep = Endpoint {
        addr: args
            .endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned(),
        access_key: args.access_key.clone(),
        secret_key: args.secret_key.clone(),
        region: args.region.clone(),
    };
    let ctx = Ctx {
        ep: ep.clone(),
        bucket: args.bucket.clone(),
        src: src.clone(),
        pids: args.pids.clone(),
        backend_pids: args.backend_pids.clone(),
    };
    let outcomes = match &args.raw_cassandra {
        Some(contact) => raw_run(&args, &ctx, contact, &sizes, &wants).await?,
        None => {
            wait_up(&ep, UP_WITHIN).await?;
            ensure_bucket(&ep, &args.bucket).await?;
            s3_run(&ctx, &sizes, &wants).await?
        }
    };
    Ok(report(&args, &outcomes))
}

fn large_one(src: &Source, s: &Sizes) -> Vec<bytes::Bytes> {
    (0..s.large_one_count)
        .map(|i| src.object(i, s.large_one))
        .collect()
}

fn large_eight(src: &Source, s: &Sizes) -> Vec<bytes::Bytes> {
    (0..8 * s.large_eight_rounds)
        .map(|i| src.object(10 + i, s.large_eight))
        .collect()
}

async fn s3_run(
    ctx: &Ctx,
    s: &Sizes,
    wants: &dyn Fn(&str) -> bool,
) -> Result<Vec<Outcome>, String> {
    let src = &ctx.src;
    let mut out = Vec::new();
    let keyed = |prefix: &str, data: Vec<bytes::Bytes>| -> Vec<(String, bytes::Bytes)> {
        data.into_iter()
            .enumerate()
            .map(|(i, d)| (format!("{prefix}/{i:06}"), d))
            .collect()
    };
    let signed = |objs: &[(String, bytes::Bytes)], p: Payload| {
        objs.iter()
            .map(|(k, d)| (k.clone(), s3::body(d.clone(), p)))
            .collect::<Vec<_>>()
    };
    let one = keyed("large1", large_one(src, s));
    if wants("put-1x256MiB") {
        out.push(scenarios::put_all(ctx, "put-1x256MiB", signed(&one, Payload::Signed), 1).await);
    }
    if wants("get-1x256MiB") {
        out.push(scenarios::get_all(ctx, "get-1x256MiB", one.clone(), 1).await);
    }
    let eight = keyed("large8", large_eight(src, s));
    if wants("put-8x64MiB") {
        out.push(scenarios::put_all(ctx, "put-8x64MiB", signed(&eight, Payload::Signed), 8).await);
    }
    if wants("get-8x64MiB") {
        out.push(scenarios::get_all(ctx, "get-8x64MiB", eight.clone(), 8).await);
    }
    if wants("put-1x256MiB-unsigned") {
        let objs = signed(&one, Payload::Unsigned);
        out.push(scenarios::put_all(ctx, "put-1x256MiB-unsigned", objs, 1).await);
    }
    if wants("mpu-1GiB") {
        let data = src.object(30, s.multipart);
        out.push(
            scenarios::multipart(
                ctx,
                "mpu/1GiB",
                data,
                s.part,
                s.parts_in_flight,
                Payload::Signed,
            )
            .await,
        );
    }
    let small = bodies(src, "small", 100, s.small_ops, s.small, Payload::Signed);
    if wants("put-4KiB") {
        out.push(scenarios::put_all(ctx, "put-4KiB", small.clone(), s.small_concurrency).await);
    }
    if wants("get-4KiB") {
        let objs = small
            .iter()
            .map(|(k, b)| (k.clone(), b.data.clone()))
            .collect();
        out.push(scenarios::get_all(ctx, "get-4KiB", objs, s.small_concurrency).await);
    }
    if wants("head-4KiB") {
        let objs = small
            .iter()
            .map(|(k, b)| (k.clone(), b.data.len() as u64))
            .collect();
        out.push(scenarios::head_all(ctx, "head-4KiB", objs, s.small_concurrency).await);
    }
    if wants("list-10k") {
        let bucket = format!("{}-list", ctx.bucket);
        eprintln!(
            "s3gw-bench: filling {bucket} with {} keys (once)",
            s.list_keys
        );
        scenarios::fill_list_bucket(&ctx.ep, &bucket, s.list_keys).await?;
        out.push(scenarios::list_walk(ctx, &bucket, s.list_keys).await);
    }
    if wants("put-8x1GiB") {
        let huge: Vec<(String, s3::Body)> = (0..8)
            .map(|i| {
                (
                    format!("huge/{i}"),
                    s3::body(src.object(40 + i, s.huge), Payload::Signed),
                )
            })
            .collect();
        out.push(scenarios::put_all(ctx, "put-8x1GiB", huge, 8).await);
    }
    Ok(out)
}

async fn raw_run(
    args: &Args,
    ctx: &Ctx,
    contact: &str,
    s: &Sizes,
    wants: &dyn Fn(&str) -> bool,
) -> Result<Vec<Outcome>, String> {
    let r = raw::Raw::open(
        contact,
        &args.keyspace,
        args.chunk_size,
        args.chunks_in_flight,
    )
    .await?;
    let mut out = Vec::new();
    for (put, get, objects, streams) in [
        ("put-1x256MiB", "get-1x256MiB", large_one(&ctx.src, s), 1),
        ("put-8x64MiB", "get-8x64MiB", large_eight(&ctx.src, s), 8),
    ] {
        if !wants(put) && !wants(get) {
            continue;
        }
        let (o, written) = raw::put_all(ctx, &r, put, objects, streams).await;
        if wants(put) {
            out.push(o);
        }
        if wants(get) {
            out.push(raw::get_all(ctx, &r, get, written.clone(), streams).await);
        }
        raw::clean(&r, &written).await?;
    }
    // The small-object ceiling: each 4 KiB object is one chunk row, so a
    // PUT is one single-row INSERT and a GET one single-row SELECT, at the
    // gateway's consistency and concurrency. HEAD has no cheaper raw
    // counterpart than that SELECT: its ceiling is the same read.
    let small: Vec<bytes::Bytes> = (0..s.small_ops)
        .map(|i| ctx.src.object(100 + i, s.small))
        .collect();
    if ["put-4KiB", "get-4KiB", "head-4KiB"]
        .iter()
        .any(|n| wants(n))
    {
        let c = s.small_concurrency;
        let (o, written) = raw::put_all(ctx, &r, "put-4KiB", small, c).await;
        if wants("put-4KiB") {
            out.push(o);
        }
        for name in ["get-4KiB", "head-4KiB"] {
            if wants(name) {
                out.push(raw::get_all(ctx, &r, name, written.clone(), c).await);
            }
        }
        raw::clean(&r, &written).await?;
    }
    Ok(out)
}

/// One core's rate for MD5 and SHA-256 over the same bytes, 1 MiB at a
/// time, as a signed PUT costs the gateway.
fn hash_rate(args: &Args) -> Outcome {
    let data = hash_input(args);
    timed("hash-md5+sha256", data.len() as u64, || {
        let mut md5 = Md5::new();
        let mut sha = Sha256::new();
        for chunk in data.chunks(MIB) {
            md5.update(chunk);
            sha.update(chunk);
        }
        std::hint::black_box((md5.finalize(), sha.finalize()));
    })
}

/// The bytes the hash rates are measured over (256 MiB at scale 1).
fn hash_input(args: &Args) -> bytes::Bytes {
    let len = ((256 * MIB) as f64 * args.scale.min(1.0)) as usize;
    data::pattern(len.max(MIB), 9)
}

/// Runs `work`, which hashes `bytes` bytes, as one timed operation.
fn timed(name: &'static str, bytes: u64, work: impl FnOnce()) -> Outcome {
    let tally = Arc::new(measure::Tally::default());
    let started = Instant::now();
    work();
    let took = started.elapsed();
    tally.done(bytes, took);
    Outcome {
        name,
        secs: took.as_secs_f64(),
        tally,
        items: None,
        server: None,
        backend: None,
    }
}

/// One core's rate of the gateway's own scalar MD5 (`s3gw::md5_lanes`),
/// beside the md-5 crate's in [`hash_rate`].
fn md5_scalar_rate(args: &Args) -> Outcome {
    let data = hash_input(args);
    timed("hash-md5-scalar", data.len() as u64, || {
        let mut md5 = s3gw::md5_lanes::Md5::new();
        for chunk in data.chunks(MIB) {
            md5.update(chunk);
        }
        std::hint::black_box(md5.finalize());
    })
}

/// The aggregate MD5 rate of `streams` threads hashing 1 MiB pieces at once
/// through the gateway's hashing lanes (`s3gw::md5_lanes`), for comparison
/// with the one-core rate of [`hash_rate`].
fn md5_lanes_rate(args: &Args, streams: usize) -> Outcome {
    let data = hash_input(args);
    let name = if streams == 1 {
        "hash-md5-lanes-x1"
    } else {
        "hash-md5-lanes-x8"
    };
    timed(name, (data.len() * streams) as u64, || {
        std::thread::scope(|scope| {
            for _ in 0..streams {
                let data = data.clone();
                scope.spawn(move || {
                    let mut md5 = s3gw::md5_lanes::Md5::new();
                    for at in (0..data.len()).step_by(MIB) {
                        md5.update_bytes(&data.slice(at..(at + MIB).min(data.len())));
                    }
                    std::hint::black_box(md5.finalize());
                });
            }
        });
    })
}

/// Prints the table and the JSON lines; whether every scenario was clean.
fn report(args: &Args, outcomes: &[Outcome]) -> bool {
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>6}",
        "scenario",
        "MB/s",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "p999 ms",
        "RSS MiB",
        "CPU s",
        "db CPU",
        "errors"
    );
    let mut clean = true;
    let mut lines = Vec::new();
    for o in outcomes {
        let t = &o.tally;
        let bytes = t.bytes.load(Ordering::Relaxed);
        let ops = t.ops.load(Ordering::Relaxed);
        let errors = t.errors.load(Ordering::Relaxed);
        let secs = o.secs.max(1e-9);
        let mb_s = bytes as f64 / secs / 1e6;
        let ops_s = o.items.unwrap_or(ops) as f64 / secs;
        let (p50, p99, p999) = (
            t.quantile_ms(0.5),
            t.quantile_ms(0.99),
            t.quantile_ms(0.999),
        );
        let fig = |f: Option<f64>| f.map_or("-".to_owned(), |v| format!("{v:.1}"));
        let rss = o.server.map(|f| f.peak_rss_mib);
        let cpu = o.server.map(|f| f.cpu_secs);
        let db_cpu = o.backend.map(|f| f.cpu_secs);
        println!(
            "{:<22} {:>9.1} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9} {:>8} {:>8} {:>6}",
            o.name,
            mb_s,
            ops_s,
            p50,
            p99,
            p999,
            fig(rss),
            fig(cpu),
            fig(db_cpu),
            errors
        );
        if let Some(e) = t.first_error() {
            println!("  first error: {e}");
        }
        clean &= errors == 0;
        let num = |v: Option<f64>| v.map_or(serde_json::Value::Null, |v| serde_json::json!(v));
        lines.push(serde_json::json!({
            "tool": "s3gw-bench",
            "target": args.label,
            "scenario": o.name,
            "bytes": bytes,
            "ops": ops,
            "items": o.items,
            "secs": o.secs,
            "mb_s": mb_s,
            "ops_s": ops_s,
            "p50_ms": p50,
            "p99_ms": p99,
            "p999_ms": p999,
            "server_peak_rss_mib": num(rss),
            "server_cpu_s": num(cpu),
            "backend_cpu_s": num(db_cpu),
            "errors": errors,
        }));
    }
    for l in lines {
        println!("{l}");
    }
    clean
}
