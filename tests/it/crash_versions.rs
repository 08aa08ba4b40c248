//! Version churn, then kill -9 while versioned writes are under way, on
//! both backends: every acknowledged version survives intact and readable
//! by its id, a version deleted for good stays gone, no partial version is
//! ever listed, and fsck is exact afterwards: after `fsck --repair`
//! (embedded) or the collector's sweep and collection (Cassandra) the
//! store holds exactly the chunks the listed versions reference.

use crate::common;
use crate::crash::{cassandra_args, fsck_cli, fsck_until, half_sent, presign};

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::BucketVersioningStatus;
use aws_sdk_s3::Client;
use common::{client_for as client, data, spawn_gateway};
use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::Maintenance;
use sha2::{Digest, Sha256};

const BUCKET: &str = "vcrash";
const KEYS: usize = 4;

/// An acknowledged version: key, id, bytes.
type Acked = (String, String, Vec<u8>);
/// A write that raced the kill: its id if it was acknowledged, key, bytes.
type Raced = (Option<String>, String, Vec<u8>);

async fn versioned_bucket(c: &Client) {
    c.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("create");
    common::set_versioning(c, BUCKET, BucketVersioningStatus::Enabled).await;
}

async fn put(c: &Client, key: &str, body: Vec<u8>) -> Option<String> {
    let out = c
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .ok()?;
    out.version_id().map(str::to_owned)
}

/// Three versions of each key (blobs and inline bytes), one version
/// deleted for good, one key ending in a delete marker. Returns the
/// versions kept and the one deleted.
async fn churn(c: &Client) -> (Vec<Acked>, Acked) {
    let mut acked = Vec::new();
    for k in 0..KEYS {
        for n in 0..3 {
            let key = format!("v{k}");
            let len = if n == 1 { 3000 + k } else { 150_000 + 1000 * k };
            let body = data(len, (k * 10 + n) as u64);
            let id = put(c, &key, body.clone()).await.expect("acked version");
            acked.push((key, id, body));
        }
    }
    let deleted = acked.remove(1);
    c.delete_object()
        .bucket(BUCKET)
        .key(&deleted.0)
        .version_id(&deleted.1)
        .send()
        .await
        .expect("delete a version");
    c.delete_object()
        .bucket(BUCKET)
        .key("v1")
        .send()
        .await
        .expect("a delete marker");
    (acked, deleted)
}

/// Versioned overwrites under way: some half sent for certain, others
/// racing the kill. Returns the racing tasks (whether each was
/// acknowledged, with its key and bytes) and the half-sent connections.
async fn versions_in_flight(
    c: &Client,
    endpoint: &str,
) -> (
    Vec<tokio::task::JoinHandle<Raced>>,
    Vec<tokio::net::TcpStream>,
) {
    let mut hanging = Vec::new();
    for k in 0..2 {
        let req = c.put_object().bucket(BUCKET).key(format!("v{k}"));
        let req = req.presigned(presign()).await.expect("presign");
        hanging.push(half_sent(endpoint, req.uri(), 2 * 1024 * 1024, 90 + k as u64).await);
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let c = c.clone();
        let key = format!("v{}", i % KEYS);
        let body = data(if i % 2 == 0 { 1024 * 1024 } else { 2000 }, 200 + i as u64);
        tasks.push(tokio::spawn(async move {
            let id = put(&c, &key, body.clone()).await;
            (id, key, body)
        }));
    }
    (tasks, hanging)
}

/// Every acknowledged version reads back whole by its id, the deleted one
/// is gone, and every listed version reads back whole: one the kill
/// interrupted is either listed and whole, or not listed.
async fn check_versions(c: &Client, acked: &[Acked], deleted: &Acked, raced: &[Raced]) {
    let mut all: Vec<Acked> = acked.to_vec();
    all.extend(
        raced
            .iter()
            .filter_map(|(id, k, b)| id.clone().map(|id| (k.clone(), id, b.clone()))),
    );
    for (key, id, body) in &all {
        let got = c
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .version_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("acknowledged {key}@{id}: {e:?}"));
        let bytes = got.body.collect().await.expect("body").into_bytes();
        assert_eq!(Sha256::digest(&bytes), Sha256::digest(body), "{key}@{id}");
    }
    let gone = c
        .get_object()
        .bucket(BUCKET)
        .key(&deleted.0)
        .version_id(&deleted.1)
        .send()
        .await;
    assert!(gone.is_err(), "a version deleted for good came back");
    let listed = c
        .list_object_versions()
        .bucket(BUCKET)
        .send()
        .await
        .expect("list versions");
    let bodies: Vec<_> = raced.iter().map(|(_, _, b)| Sha256::digest(b)).collect();
    for v in listed.versions() {
        let (key, id) = (
            v.key().unwrap_or_default(),
            v.version_id().unwrap_or_default(),
        );
        let got = c
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .version_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("listed {key}@{id}: {e:?}"));
        let bytes = got.body.collect().await.expect("body").into_bytes();
        let digest = Sha256::digest(&bytes);
        let known = acked
            .iter()
            .any(|(k, i, b)| k == key && i == id && Sha256::digest(b) == digest)
            || bodies.contains(&digest);
        assert!(known, "{key}@{id} is partial or unknown");
    }
    assert_eq!(listed.delete_markers().len(), 1, "v1's marker");
}

async fn join(tasks: Vec<tokio::task::JoinHandle<Raced>>) -> Vec<Raced> {
    let mut out = Vec::new();
    for t in tasks {
        if let Ok(r) = t.await {
            out.push(r);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_kill_9_amid_version_churn_keeps_every_acknowledged_version() {
    let dir = tempfile::tempdir().expect("tmp");
    let data_dir = dir.path().join("data");
    let args = ["--chunk-size", "65536", "--inline-max-size", "16384"];
    let (child, endpoint) = spawn_gateway(&data_dir, &args);
    let mut child = common::KillOnDrop(child);
    let c = client(&endpoint);
    versioned_bucket(&c).await;
    let (acked, deleted) = churn(&c).await;
    let (tasks, hanging) = versions_in_flight(&c, &endpoint).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    child.kill9();
    drop(hanging);
    let raced = join(tasks).await;

    let dir_arg = data_dir.to_str().expect("utf-8 path");
    let (consistent, garbage, report) = fsck_cli(&["--data-dir", dir_arg, "--min-age-secs", "0"]);
    assert!(consistent, "{report}");
    assert!(garbage >= 2, "the half-sent versions' blobs: {report}");
    let (consistent, garbage, report) =
        fsck_cli(&["--data-dir", dir_arg, "--min-age-secs", "0", "--repair"]);
    assert!(consistent, "{report}");
    assert_eq!(garbage, 0, "{report}");
    assert!(report.contains("noncurrent versions"), "{report}");

    let (child, endpoint) = spawn_gateway(&data_dir, &args);
    let mut child = common::KillOnDrop(child);
    let c = client(&endpoint);
    check_versions(&c, &acked, &deleted, &raced).await;
    child.kill9();
    let (consistent, garbage, report) = fsck_cli(&["--data-dir", dir_arg, "--min-age-secs", "0"]);
    assert!(consistent && garbage == 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_kill_9_amid_version_churn_keeps_every_acknowledged_version() {
    let Some(o) = common::own_keyspace("vcrash", Duration::ZERO) else {
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
    versioned_bucket(&c).await;
    let (acked, deleted) = churn(&c).await;
    let (tasks, hanging) = versions_in_flight(&c, &endpoint).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.kill9();
    drop(hanging);
    let raced = join(tasks).await;

    let store = CassandraStorage::open(o).await.expect("open");
    let report = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(report.consistent(), "{report}");
    assert!(
        report.pending_blobs >= 2,
        "the half-sent versions: {report}"
    );

    // A new gateway: every acknowledged version is there, and once the
    // deadline is past its collector's sweep releases what the kill left.
    let (child, endpoint) = spawn_gateway(&data_dir, &args);
    let mut child = common::KillOnDrop(child);
    let c = client(&endpoint);
    check_versions(&c, &acked, &deleted, &raced).await;
    let report = fsck_until(&store, Duration::from_secs(40), |r| {
        r.pending_blobs == 0 && r.unreferenced_blobs == 0
    })
    .await;
    assert_eq!(report.pending_blobs, 0, "{report}");
    assert_eq!(report.unreferenced_blobs, 0, "{report}");
    // Collect as a clock five minutes ahead would (the queue's margins),
    // then the store holds exactly what the versions reference.
    let ahead = s3gw::storage::now_ms() + 5 * 60_000;
    store.collect_garbage(ahead).await.expect("collect");
    let report = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(report.consistent(), "{report}");
    assert_eq!(report.stored_blobs, report.referenced_blobs, "{report}");
    assert_eq!(report.stored_chunks, report.referenced_chunks, "{report}");
    // 12 versions written, one deleted for good, three current objects
    // (v1 ends in its marker); the raced writes only add to them.
    assert!(report.noncurrent_versions >= 8, "{report}");
    child.kill9();
    drop(store);
    common::drop_keyspace(&contact, &ks).await;
}
