//! kill -9 during uploads, on both backends: every acknowledged object
//! survives intact, no partial object is ever visible, `fsck` finds the
//! blobs the killed uploads left, and they are removed (the embedded
//! store's start-up sweep or `fsck --repair`; the Cassandra collector's
//! sweep of pending blobs once their commit deadline is past).

use crate::common;

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use common::{client_for as client, data, spawn_gateway};
use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::{FsckReport, Maintenance};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Objects of at most this many bytes are stored inline (in their head);
/// every gateway here is started with it.
const INLINE_MAX: usize = 16 * 1024;

/// Sends the head and the first half of a presigned upload of `len`
/// bytes, and leaves it hanging: an upload in flight for certain.
pub(crate) async fn half_sent(endpoint: &str, uri: &str, len: usize, seed: u64) -> TcpStream {
    let uri: http::Uri = uri.parse().expect("uri");
    let addr = endpoint.trim_start_matches("http://").to_owned();
    let body = data(len, seed);
    let mut s = TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\n\r\n",
        uri.path_and_query().expect("pq"),
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(&body[..len / 2]).await.expect("half the body");
    s
}

pub(crate) fn presign() -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(300)).expect("presign config")
}

/// Half-sent uploads: a new key, an overwrite of `over`, part 2 of
/// `upload_id` (of key `mp`), and a new small key (`in-flight-small`, an
/// inline object if it were finished: it leaves nothing behind).
async fn uploads_in_flight(
    c: &Client,
    endpoint: &str,
    bucket: &str,
    over: &str,
    upload_id: &str,
) -> Vec<TcpStream> {
    let len = 3 * 1024 * 1024;
    let small = c.put_object().bucket(bucket).key("in-flight-small");
    let small = small.presigned(presign()).await.expect("presign");
    let new = c.put_object().bucket(bucket).key("in-flight-new");
    let new = new.presigned(presign()).await.expect("presign");
    let overwrite = c.put_object().bucket(bucket).key(over);
    let overwrite = overwrite.presigned(presign()).await.expect("presign");
    let part = c
        .upload_part()
        .bucket(bucket)
        .key("mp")
        .upload_id(upload_id);
    let part = part
        .part_number(2)
        .presigned(presign())
        .await
        .expect("presign");
    vec![
        half_sent(endpoint, new.uri(), len, 71).await,
        half_sent(endpoint, overwrite.uri(), len, 72).await,
        half_sent(endpoint, part.uri(), len, 73).await,
        half_sent(endpoint, small.uri(), 10_000, 74).await,
    ]
}

/// Starts a multipart upload of `mp` and uploads its part 1 (5 MiB).
async fn start_multipart(c: &Client, bucket: &str) -> (String, Vec<u8>, String) {
    let up = c.create_multipart_upload().bucket(bucket).key("mp");
    let upload_id = up.send().await.expect("create mpu").upload_id.expect("id");
    let part1 = data(5 * 1024 * 1024, 61);
    let done = c
        .upload_part()
        .bucket(bucket)
        .key("mp")
        .upload_id(&upload_id)
        .part_number(1)
        .body(ByteStream::from(part1.clone()))
        .send()
        .await
        .expect("part 1");
    (upload_id, part1, done.e_tag.expect("etag"))
}

/// Uploads part 2 again and completes `mp`; checks the object.
async fn finish_multipart(c: &Client, bucket: &str, upload_id: &str, part1: &[u8], etag1: String) {
    let parts = c.list_parts().bucket(bucket).key("mp").upload_id(upload_id);
    let listed = parts.send().await.expect("list parts");
    let numbers: Vec<i32> = listed
        .parts()
        .iter()
        .filter_map(|p| p.part_number)
        .collect();
    assert_eq!(numbers, vec![1], "the killed part 2 is not listed");
    let part2 = data(1024 * 1024, 62);
    let done = c
        .upload_part()
        .bucket(bucket)
        .key("mp")
        .upload_id(upload_id)
        .part_number(2)
        .body(ByteStream::from(part2.clone()))
        .send()
        .await
        .expect("part 2 again");
    let list = CompletedMultipartUpload::builder()
        .parts(CompletedPart::builder().part_number(1).e_tag(etag1).build())
        .parts(
            CompletedPart::builder()
                .part_number(2)
                .e_tag(done.e_tag.expect("etag"))
                .build(),
        )
        .build();
    c.complete_multipart_upload()
        .bucket(bucket)
        .key("mp")
        .upload_id(upload_id)
        .multipart_upload(list)
        .send()
        .await
        .expect("complete");
    let got = c
        .get_object()
        .bucket(bucket)
        .key("mp")
        .send()
        .await
        .expect("get mp");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    let whole: Vec<u8> = part1.iter().chain(&part2).copied().collect();
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(&whole), "mp");
}

/// Puts `n` objects of about 200 KB and `n` inline ones (1 to 13 KB),
/// and returns them.
async fn acked_objects(c: &Client, bucket: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    let small = (0..n).map(|i| {
        let len = 1000 + (i % 5) * 3000;
        (format!("acked-small-{i}"), data(len, 50 + i as u64))
    });
    let acked: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| (format!("acked-{i}"), data(200_000 + i * 1000, i as u64)))
        .chain(small)
        .collect();
    for (k, body) in &acked {
        c.put_object()
            .bucket(bucket)
            .key(k)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("put acked");
    }
    acked
}

async fn check_acked(c: &Client, bucket: &str, acked: &[(String, Vec<u8>)]) {
    for (k, body) in acked {
        let got = c.get_object().bucket(bucket).key(k).send().await;
        let bytes = got.expect("acked object survives").body.collect().await;
        let bytes = bytes.expect("body").into_bytes();
        assert_eq!(Sha256::digest(&bytes), Sha256::digest(body), "{k}");
    }
    let head = c
        .head_object()
        .bucket(bucket)
        .key("in-flight-new")
        .send()
        .await;
    assert!(head.is_err(), "a killed upload is visible");
    let head = c
        .head_object()
        .bucket(bucket)
        .key("in-flight-small")
        .send()
        .await;
    assert!(head.is_err(), "a killed small upload is visible");
}

/// How many of `objects` are stored in blobs (not inline).
fn in_blobs<'a>(objects: impl IntoIterator<Item = &'a Vec<u8>>) -> usize {
    objects
        .into_iter()
        .filter(|body| body.len() > INLINE_MAX)
        .count()
}

/// Runs `s3gw fsck` with `args`; returns the exit status and the last
/// report's `unreferenced (garbage)` blob count.
pub(crate) fn fsck_cli(args: &[&str]) -> (bool, u64, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3gw"))
        .arg("fsck")
        .args(args)
        .env_remove("S3GW_BACKEND")
        .output()
        .expect("run s3gw fsck");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let garbage = stdout
        .lines()
        .rev()
        .filter_map(|l| l.strip_prefix("unreferenced (garbage)"))
        .find_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no garbage line in {stdout}"));
    (out.status.success(), garbage, stdout)
}

fn blob_files(data_dir: &std::path::Path) -> usize {
    std::fs::read_dir(data_dir.join("blobs"))
        .expect("blobs dir")
        .flatten()
        .map(|shard| {
            std::fs::read_dir(shard.path())
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_acknowledged_and_shows_nothing_partial() {
    let dir = tempfile::tempdir().expect("tmp");
    let data_dir = dir.path().join("data");
    let args = ["--chunk-size", "65536", "--inline-max-size", "16384"];
    let (child, endpoint) = spawn_gateway(&data_dir, &args);
    let mut child = common::KillOnDrop(child);
    let c = client(&endpoint);
    c.create_bucket()
        .bucket("crash")
        .send()
        .await
        .expect("create");
    let acked = acked_objects(&c, "crash", 5).await;
    let (upload_id, part1, etag1) = start_multipart(&c, "crash").await;

    // Uploads certainly in flight (half sent), and many large and small
    // ones that may or may not finish, then kill -9.
    let hanging = uploads_in_flight(&c, &endpoint, "crash", "acked-0", &upload_id).await;
    let inflight: Vec<(String, Vec<u8>)> = (0..16)
        .map(|i| {
            let len = if i < 8 { 4 * 1024 * 1024 } else { 4096 + i };
            (format!("inflight-{i}"), data(len, 100 + i as u64))
        })
        .collect();
    let mut tasks = Vec::new();
    for (k, body) in inflight.clone() {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.put_object()
                .bucket("crash")
                .key(&k)
                .body(ByteStream::from(body))
                .send()
                .await
                .is_ok()
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    child.kill9();
    drop(hanging);
    let mut ok = Vec::new();
    for t in tasks {
        ok.push(t.await.unwrap_or(false));
    }

    // fsck finds what the killed uploads left (at least the three that
    // were half sent), and --repair removes it.
    let dir_arg = data_dir.to_str().expect("utf-8 path");
    let (consistent, garbage, report) = fsck_cli(&["--data-dir", dir_arg, "--min-age-secs", "0"]);
    assert!(consistent, "{report}");
    assert!(garbage >= 3, "{report}");
    let (consistent, garbage, report) =
        fsck_cli(&["--data-dir", dir_arg, "--min-age-secs", "0", "--repair"]);
    assert!(consistent, "{report}");
    assert_eq!(garbage, 0, "{report}");

    let (child, endpoint) = spawn_gateway(&data_dir, &args);
    let mut child = common::KillOnDrop(child);
    let c = client(&endpoint);
    check_acked(&c, "crash", &acked).await;
    let mut visible = Vec::new();
    for ((k, body), acknowledged) in inflight.iter().zip(&ok) {
        match c.get_object().bucket("crash").key(k).send().await {
            Ok(got) => {
                visible.push(body);
                let bytes = got.body.collect().await.expect("body").into_bytes();
                assert_eq!(
                    Sha256::digest(&bytes),
                    Sha256::digest(body),
                    "{k} is partial"
                );
            }
            Err(_) => assert!(!acknowledged, "{k} was acknowledged but is gone"),
        }
    }
    // Nothing but referenced blobs is left: the objects not inline, and
    // part 1.
    let in_files = in_blobs(acked.iter().map(|(_, b)| b)) + in_blobs(visible);
    assert_eq!(blob_files(&data_dir), in_files + 1);
    finish_multipart(&c, "crash", &upload_id, &part1, etag1).await;
    child.kill9();
}

/// Checks the whole keyspace until `done` holds (at most `within`).
pub(crate) async fn fsck_until(
    store: &CassandraStorage,
    within: Duration,
    done: impl Fn(&FsckReport) -> bool,
) -> FsckReport {
    let until = std::time::Instant::now() + within;
    loop {
        let report = store.fsck(Duration::ZERO).await.expect("fsck");
        assert!(report.consistent(), "{report}");
        if done(&report) || std::time::Instant::now() > until {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A gateway on Cassandra keyspace `ks` whose sweep acts within seconds:
/// a 6 s commit deadline (uploads here take well under a second), a 1 s
/// sweep margin and collector tick, no grace period.
pub(crate) fn cassandra_args(contact: &str, ks: &str) -> Vec<String> {
    [
        "--backend",
        "cassandra",
        "--cassandra-contact-points",
        contact,
        "--cassandra-keyspace",
        ks,
        "--cassandra-commit-deadline-secs",
        "6",
        "--cassandra-sweep-margin-secs",
        "1",
        "--gc-interval-secs",
        "1",
        "--gc-grace-secs",
        "0",
        "--chunk-size",
        "65536",
        "--inline-max-size",
        "16384",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_kill_9_leaves_pending_blobs_that_the_sweep_removes() {
    let Some(o) = common::own_keyspace("crash", Duration::ZERO) else {
        return;
    };
    let (ks, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    CassandraStorage::migrate(&o).await.expect("migrate");
    let dir = tempfile::tempdir().expect("tmp");
    let data_dir = dir.path().join("data");
    let args = cassandra_args(&contact, &ks);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (child, endpoint) = spawn_gateway(&data_dir, &args);
    let mut child = common::KillOnDrop(child);
    let c = client(&endpoint);
    c.create_bucket()
        .bucket("crash")
        .send()
        .await
        .expect("create");
    let acked = acked_objects(&c, "crash", 3).await;
    let (upload_id, part1, etag1) = start_multipart(&c, "crash").await;
    let hanging = uploads_in_flight(&c, &endpoint, "crash", "acked-0", &upload_id).await;
    // Let the gateway store the halves it has.
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.kill9();
    drop(hanging);

    // fsck sees three uncommitted blobs with chunks, all still pending;
    // the half-sent small upload left nothing at all.
    let store = CassandraStorage::open(o).await.expect("open");
    let report = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(report.consistent(), "{report}");
    assert_eq!(report.unreferenced_blobs, 3, "{report}");
    assert_eq!(report.pending_blobs, 3, "{report}");
    assert_eq!(report.referenced_blobs, 4, "{report}");
    assert_eq!(report.inline_objects, 3, "{report}");

    // A new gateway: nothing partial is visible, and once the deadline is
    // past its collector's sweep releases the three blobs.
    let (child, endpoint) = spawn_gateway(&data_dir, &args);
    let mut child = common::KillOnDrop(child);
    let c = client(&endpoint);
    check_acked(&c, "crash", &acked).await;
    let report = fsck_until(&store, Duration::from_secs(40), |r| {
        r.pending_blobs == 0 && r.queued_blobs == 3
    })
    .await;
    assert_eq!(report.pending_blobs, 0, "{report}");
    assert_eq!(report.queued_blobs, 3, "{report}");
    assert_eq!(report.unreferenced_blobs, 0, "{report}");

    // The collector deletes them after the grace period, in whole queue
    // minutes, with margins of a few minutes for clock skew: collect as a
    // clock five minutes ahead would.
    let ahead = s3gw::storage::now_ms() + 5 * 60_000;
    store.collect_garbage(ahead).await.expect("collect");
    let report = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(report.consistent(), "{report}");
    assert_eq!(report.stored_blobs, report.referenced_blobs, "{report}");
    assert_eq!(report.stored_chunks, report.referenced_chunks, "{report}");
    assert_eq!(report.queued_blobs, 0, "{report}");

    finish_multipart(&c, "crash", &upload_id, &part1, etag1).await;
    child.kill9();
    drop(store);
    common::drop_keyspace(&contact, &ks).await;
}
