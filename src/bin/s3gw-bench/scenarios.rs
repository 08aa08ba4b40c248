//! The scenarios against an S3 endpoint. Each one verifies what it reads
//! back: a wrong byte is an error, and errors fail the run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use md5::{Digest, Md5};

use crate::data::Source;
use crate::drive::drive;
use crate::measure::{ProcFigures, ProcWatch, Progress, Tally};
use crate::s3::{body, ensure_bucket, object_path, Body, Conn, Endpoint, Payload};

pub const MIB: usize = 1024 * 1024;

/// The sizes of one run, scaled by `--scale` (1 = the published figures).
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub large_one: usize,
    pub large_one_count: usize,
    pub large_eight: usize,
    pub large_eight_rounds: usize,
    pub multipart: usize,
    pub part: usize,
    pub parts_in_flight: usize,
    pub small: usize,
    pub small_ops: usize,
    pub small_concurrency: usize,
    pub list_keys: usize,
    pub huge: usize,
}

impl Sizes {
    pub fn scaled(scale: f64) -> Sizes {
        let bytes = |full: usize, least: usize| ((full as f64 * scale) as usize).max(least);
        Sizes {
            large_one: bytes(256 * MIB, MIB),
            large_one_count: 1,
            large_eight: bytes(64 * MIB, MIB),
            large_eight_rounds: 1,
            multipart: bytes(1024 * MIB, 10 * MIB),
            part: if scale >= 1.0 { 16 * MIB } else { 5 * MIB },
            parts_in_flight: 8,
            small: 4096,
            small_ops: bytes(4000, 64),
            small_concurrency: 32,
            list_keys: bytes(10_000, 100),
            huge: bytes(1024 * MIB, 8 * MIB),
        }
    }
}

/// What one scenario measured.
pub struct Outcome {
    pub name: &'static str,
    pub secs: f64,
    pub tally: Arc<Tally>,
    /// Items per second when they are not requests (keys of a listing).
    pub items: Option<u64>,
    pub server: Option<ProcFigures>,
    pub backend: Option<ProcFigures>,
}

/// Everything a scenario needs.
pub struct Ctx {
    pub ep: Endpoint,
    pub bucket: String,
    pub src: Arc<Source>,
    pub pids: Vec<u32>,
    pub backend_pids: Vec<u32>,
}

/// Times `work`, watching the server and showing progress.
pub async fn timed<Fut>(
    ctx: &Ctx,
    name: &'static str,
    total: u64,
    work: impl FnOnce(Arc<Tally>) -> Fut,
) -> Outcome
where
    Fut: std::future::Future<Output = Option<u64>>,
{
    let tally = Arc::new(Tally::default());
    let server = ProcWatch::start(&ctx.pids);
    let backend = ProcWatch::start(&ctx.backend_pids);
    let progress = Progress::start(name, total, tally.clone());
    let started = Instant::now();
    let items = work(tally.clone()).await;
    let secs = started.elapsed().as_secs_f64();
    progress.finish().await;
    Outcome {
        name,
        secs,
        tally,
        items,
        server: server.finish().await,
        backend: backend.finish().await,
    }
}

fn conns(ep: &Endpoint, n: usize) -> Vec<Conn> {
    (0..n).map(|_| Conn::new(ep)).collect()
}

/// `(key, body)` pairs: object `first + i` of `size` bytes, hashed now
/// if signed (before anything is timed).
pub fn bodies(
    src: &Source,
    prefix: &str,
    first: usize,
    n: usize,
    size: usize,
    payload: Payload,
) -> Vec<(String, Body)> {
    (0..n)
        .map(|i| {
            let key = format!("{prefix}/{i:06}");
            (key, body(src.object(first + i, size), payload))
        })
        .collect()
}

/// PUTs every object, `workers` at a time.
pub async fn put_all(
    ctx: &Ctx,
    name: &'static str,
    objects: Vec<(String, Body)>,
    workers: usize,
) -> Outcome {
    let total = objects.iter().map(|(_, b)| b.data.len() as u64).sum();
    let bucket = ctx.bucket.clone();
    let ep = ctx.ep.clone();
    timed(ctx, name, total, |tally| async move {
        drive(
            conns(&ep, workers),
            objects,
            tally,
            move |mut c, (key, b)| {
                let path = object_path(&bucket, &key);
                async move {
                    let r = async {
                        let reply = c.call("PUT", Method::PUT, &path, "", Some(&b)).await?;
                        reply.drain().await.map(|_| b.data.len() as u64)
                    }
                    .await;
                    (c, r)
                }
            },
        )
        .await;
        None
    })
    .await
}

/// GETs every object and checks every byte against what was put.
pub async fn get_all(
    ctx: &Ctx,
    name: &'static str,
    objects: Vec<(String, Bytes)>,
    workers: usize,
) -> Outcome {
    let total = objects.iter().map(|(_, b)| b.len() as u64).sum();
    let bucket = ctx.bucket.clone();
    let ep = ctx.ep.clone();
    timed(ctx, name, total, |tally| async move {
        drive(
            conns(&ep, workers),
            objects,
            tally,
            move |mut c, (key, want)| {
                let path = object_path(&bucket, &key);
                async move {
                    let r = async {
                        let reply = c.call("GET", Method::GET, &path, "", None).await?;
                        reply.expect_body(&want).await
                    }
                    .await;
                    (c, r)
                }
            },
        )
        .await;
        None
    })
    .await
}

/// HEADs every object and checks its length.
pub async fn head_all(
    ctx: &Ctx,
    name: &'static str,
    objects: Vec<(String, u64)>,
    workers: usize,
) -> Outcome {
    let bucket = ctx.bucket.clone();
    let ep = ctx.ep.clone();
    timed(ctx, name, 0, |tally| async move {
        drive(
            conns(&ep, workers),
            objects,
            tally,
            move |mut c, (key, len)| {
                let path = object_path(&bucket, &key);
                async move {
                    let r = c.call("HEAD", Method::HEAD, &path, "", None).await;
                    let r = r.and_then(|r| match r.header("content-length") {
                        Some(v) if v == len.to_string() => Ok(0),
                        other => Err(format!("HEAD {key}: content-length {other:?}, want {len}")),
                    });
                    (c, r)
                }
            },
        )
        .await;
        None
    })
    .await
}

/// The text between `<tag>` and `</tag>`, from `from` on.
fn element<'a>(xml: &'a str, tag: &str, from: usize) -> Option<(&'a str, usize)> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml[from..].find(&open)? + from + open.len();
    let end = xml[start..].find(&close)? + start;
    Some((&xml[start..end], end + close.len()))
}

fn query_encode(v: &str) -> String {
    s3gw::auth::sigv4::uri_encode(v, true)
}

/// Makes sure `bucket` holds `n` keys `k/000000…`; returns an error text.
pub async fn fill_list_bucket(ep: &Endpoint, bucket: &str, n: usize) -> Result<(), String> {
    ensure_bucket(ep, bucket).await?;
    let mut c = Conn::new(ep);
    let last = format!("k/{:06}", n - 1);
    let r = c
        .send(Method::HEAD, &object_path(bucket, &last), "", None, &[])
        .await?;
    if r.status.is_success() {
        return Ok(());
    }
    let empty = body(Bytes::new(), Payload::Signed);
    let keys: Vec<String> = (0..n).map(|i| format!("k/{i:06}")).collect();
    let tally = Arc::new(Tally::default());
    let bucket = bucket.to_owned();
    drive(conns(ep, 32), keys, tally.clone(), move |mut c, key| {
        let path = object_path(&bucket, &key);
        let b = empty.clone();
        async move {
            let r = c.call("PUT", Method::PUT, &path, "", Some(&b)).await;
            (c, r.map(|_| 0))
        }
    })
    .await;
    match tally.first_error() {
        Some(e) => Err(format!("filling the list bucket: {e}")),
        None => Ok(()),
    }
}

/// Walks a bucket of `n` keys with ListObjectsV2, 1000 keys a page,
/// checking that the keys come complete and in order.
pub async fn list_walk(ctx: &Ctx, bucket: &str, n: usize) -> Outcome {
    let ep = ctx.ep.clone();
    let bucket = bucket.to_owned();
    timed(ctx, "list-10k", 0, |tally| async move {
        let mut c = Conn::new(&ep);
        let mut token: Option<String> = None;
        let mut seen = 0usize;
        loop {
            let mut query = String::from("list-type=2&max-keys=1000");
            if let Some(t) = &token {
                query.push_str(&format!("&continuation-token={}", query_encode(t)));
            }
            let started = Instant::now();
            let path = format!("/{bucket}");
            let page = c
                .call_text("ListObjectsV2", Method::GET, &path, &query, None)
                .await;
            let xml = match page {
                Ok(x) => x,
                Err(e) => {
                    tally.failed(e);
                    return Some(seen as u64);
                }
            };
            let mut at = 0;
            while let Some((key, next)) = element(&xml, "Key", at) {
                let want = format!("k/{seen:06}");
                if key != want {
                    tally.failed(format!("listing gave {key} where {want} belongs"));
                    return Some(seen as u64);
                }
                seen += 1;
                at = next;
            }
            tally.done(0, started.elapsed());
            token = element(&xml, "NextContinuationToken", 0).map(|(t, _)| t.to_owned());
            let truncated = element(&xml, "IsTruncated", 0).is_some_and(|(t, _)| t == "true");
            if !truncated || token.is_none() {
                break;
            }
        }
        if seen != n {
            tally.failed(format!("listing gave {seen} keys, want {n}"));
        }
        Some(seen as u64)
    })
    .await
}

/// A multipart upload of `size` bytes in `part`-byte parts, `in_flight`
/// parts at once; checks the ETag, then (untimed) reads the object back.
pub async fn multipart(
    ctx: &Ctx,
    key: &str,
    data: Bytes,
    part: usize,
    in_flight: usize,
    payload: Payload,
) -> Outcome {
    let parts: Vec<(usize, Body)> = (0..data.len().div_ceil(part))
        .map(|i| {
            let end = ((i + 1) * part).min(data.len());
            (i + 1, body(data.slice(i * part..end), payload))
        })
        .collect();
    let mut md5s = Vec::new();
    for (_, b) in &parts {
        md5s.extend_from_slice(&Md5::digest(&b.data));
    }
    let want_etag = format!("\"{}-{}\"", hex::encode(Md5::digest(&md5s)), parts.len());
    let total = data.len() as u64;
    let ep = ctx.ep.clone();
    let path = object_path(&ctx.bucket, key);
    let etags = Arc::new(std::sync::Mutex::new(vec![String::new(); parts.len()]));
    let out = timed(ctx, "mpu-1GiB", total, |tally| {
        let etags = etags.clone();
        async move {
            let mut c = Conn::new(&ep);
            let created = c
                .call_text(
                    "CreateMultipartUpload",
                    Method::POST,
                    &path,
                    "uploads=",
                    None,
                )
                .await;
            let upload_id =
                match created.map(|x| element(&x, "UploadId", 0).map(|(u, _)| u.to_owned())) {
                    Ok(Some(u)) => u,
                    Ok(None) => {
                        tally.failed("no UploadId".into());
                        return None;
                    }
                    Err(e) => {
                        tally.failed(e);
                        return None;
                    }
                };
            let id = query_encode(&upload_id);
            let p = path.clone();
            let e2 = etags.clone();
            drive(
                conns(&ep, in_flight),
                parts,
                tally.clone(),
                move |mut c, (n, b)| {
                    let query = format!("partNumber={n}&uploadId={id}");
                    let path = p.clone();
                    let etags = e2.clone();
                    async move {
                        let r = async {
                            let reply = c
                                .call("UploadPart", Method::PUT, &path, &query, Some(&b))
                                .await?;
                            let etag = reply.header("etag").unwrap_or_default().to_owned();
                            etags.lock().unwrap_or_else(|e| e.into_inner())[n - 1] = etag;
                            reply.drain().await.map(|_| b.data.len() as u64)
                        }
                        .await;
                        (c, r)
                    }
                },
            )
            .await;
            let list: String = etags
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    format!(
                        "<Part><PartNumber>{}</PartNumber><ETag>{e}</ETag></Part>",
                        i + 1
                    )
                })
                .collect();
            let xml = format!("<CompleteMultipartUpload>{list}</CompleteMultipartUpload>");
            let complete = body(Bytes::from(xml), Payload::Signed);
            let query = format!("uploadId={}", query_encode(&upload_id));
            let done = c
                .call_text(
                    "CompleteMultipartUpload",
                    Method::POST,
                    &path,
                    &query,
                    Some(&complete),
                )
                .await;
            // Servers escape the ETag's quotes in XML differently.
            let unescaped = |x: &str| x.replace("&quot;", "\"").replace("&#34;", "\"");
            match done {
                Ok(x) if unescaped(&x).contains(&want_etag) => {}
                Ok(x) => tally.failed(format!("Complete answered {x}, want ETag {want_etag}")),
                Err(e) => tally.failed(e),
            }
            None
        }
    })
    .await;
    // Read it back (not timed).
    let mut c = Conn::new(&ctx.ep);
    let path = object_path(&ctx.bucket, key);
    let back = match c.call("GET", Method::GET, &path, "", None).await {
        Ok(reply) => reply.expect_body(&data).await,
        Err(e) => Err(e),
    };
    if let Err(e) = back {
        out.tally.failed(format!("multipart object read back: {e}"));
    }
    out
}

/// How long to wait for an endpoint to come up.
pub const UP_WITHIN: Duration = Duration::from_secs(30);
