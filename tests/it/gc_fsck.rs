//! Garbage collection proven by `fsck` on both backends: after overwrites
//! and deletes and one collection, the store holds exactly the chunks that
//! committed heads reference; a lost chunk makes `fsck` fail.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::embedded::EmbeddedStorage;
use s3gw::storage::{
    BucketRecord, ChunkAddr, Maintenance, ObjectHead, PartRef, Storage, WriteCondition,
};

const CHUNK: u32 = 1024;
/// Three chunks: two whole, one of 452 bytes.
const SIZE: usize = 2500;
const OVERWRITES: usize = 200;
const KEYS: usize = 20;

async fn blob(s: &dyn Storage, fill: u8) -> PartRef {
    common::stored_blob(s, &common::test_owner(), fill, SIZE, CHUNK, 0..3).await
}

fn head(part: PartRef) -> ObjectHead {
    common::head_of(part, CHUNK)
}

/// Overwrites one key 200 times, writes 20 keys and deletes half of them,
/// collects, and checks the counts with fsck. Returns the bucket.
async fn overwrite_delete_collect<S, F, Fut>(s: &S, collect: F) -> BucketRecord
where
    S: Storage + Maintenance,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let b = common::new_bucket(s, "gc-fsck").await;
    for i in 0..OVERWRITES {
        let p = blob(s, i as u8).await;
        s.put_object(b.id, &common::key("hot"), &head(p), &WriteCondition::None)
            .await
            .expect("overwrite");
    }
    for k in 0..KEYS {
        let p = blob(s, k as u8).await;
        s.put_object(
            b.id,
            &common::key(&format!("k{k:02}")),
            &head(p),
            &WriteCondition::None,
        )
        .await
        .expect("put");
    }
    for k in (0..KEYS).step_by(2) {
        assert!(s
            .delete_object(
                b.id,
                &common::key(&format!("k{k:02}")),
                &WriteCondition::None
            )
            .await
            .expect("delete"));
    }
    let live = 1 + KEYS / 2;
    let before = s.fsck(Duration::ZERO).await.expect("fsck");
    assert!(before.consistent(), "{before}");
    assert_eq!(before.objects, live as u64, "{before}");
    assert_eq!(
        before.queued_blobs,
        (OVERWRITES - 1 + KEYS / 2) as u64,
        "{before}"
    );
    collect().await;
    // The collector's figures count exactly what it deleted.
    let released = (OVERWRITES - 1 + KEYS / 2) as u64;
    let stats = s.gc_stats();
    assert_eq!(
        (stats.blobs, stats.chunks, stats.bytes),
        (released, 3 * released, SIZE as u64 * released),
        "{stats:?}"
    );
    let after = s.fsck(Duration::ZERO).await.expect("fsck");
    eprintln!("after collection:\n{after}");
    assert!(after.consistent(), "{after}");
    assert_eq!(after.referenced_blobs, live as u64, "{after}");
    assert_eq!(after.referenced_chunks, 3 * live as u64, "{after}");
    assert_eq!(after.stored_blobs, after.referenced_blobs, "{after}");
    assert_eq!(after.stored_chunks, after.referenced_chunks, "{after}");
    assert_eq!(after.queued_blobs, 0, "{after}");
    assert_eq!(after.unreferenced_blobs, 0, "{after}");
    b
}

/// Inline objects after the collection: one over a blob-backed key
/// (whose blob is released), one new. fsck checks their bytes, and a head
/// whose bytes do not match their checksum makes the store inconsistent
/// until it is deleted.
async fn inline_objects_are_checked<S: Storage + Maintenance>(s: &S, b: &BucketRecord) {
    let live = (1 + KEYS / 2) as u64;
    for (key, data) in [("k01", &b"over a blob"[..]), ("tiny", b"new")] {
        let h = common::inline_head(data, "e");
        s.put_object(b.id, &common::key(key), &h, &WriteCondition::None)
            .await
            .expect("put inline");
    }
    let r = s.fsck(Duration::ZERO).await.expect("fsck");
    assert!(r.consistent(), "{r}");
    assert_eq!((r.objects, r.inline_objects), (live + 1, 2), "{r}");
    assert_eq!(r.referenced_blobs, live - 1, "{r}");
    assert_eq!(r.queued_blobs, 1, "{r}");

    let mut bad = common::inline_head(b"bytes that do not match", "e");
    if let Some(inline) = &mut bad.inline {
        inline.crc ^= 1;
    }
    let bad_key = common::key("bad");
    s.put_object(b.id, &bad_key, &bad, &WriteCondition::None)
        .await
        .expect("put");
    let r = s.fsck(Duration::ZERO).await.expect("fsck");
    assert!(!r.consistent(), "{r}");
    assert_eq!((r.inline_objects, r.bad_inline_objects), (3, 1), "{r}");
    assert!(r.details.iter().any(|d| d.contains("/bad")), "{r}");
    assert!(s
        .delete_object(b.id, &bad_key, &WriteCondition::None)
        .await
        .expect("delete"));
    let r = s.fsck(Duration::ZERO).await.expect("fsck");
    assert!(r.consistent(), "{r}");
}

/// Loses the chunks of a committed object behind the store's back: fsck
/// must report it and call the store inconsistent.
async fn lost_chunks_are_reported<S: Storage + Maintenance>(s: &S, b: &BucketRecord) {
    let h = s
        .get_object(b.id, &common::key("hot"))
        .await
        .expect("get")
        .expect("hot");
    s.discard_blob(h.parts[0].blob, 3).await.expect("discard");
    let r = s.fsck(Duration::ZERO).await.expect("fsck");
    assert!(!r.consistent(), "{r}");
    assert!(r.missing_chunks > 0, "{r}");
    assert!(
        r.details
            .iter()
            .any(|d| d.contains(&h.parts[0].blob.to_string())),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_holds_exactly_the_referenced_chunks_after_collection() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = EmbeddedStorage::open(&dir.path().join("data"), Duration::ZERO).expect("open");
    let b = overwrite_delete_collect(&store, || async {
        store.collect_garbage().expect("collect");
    })
    .await;
    inline_objects_are_checked(&store, &b).await;
    lost_chunks_are_reported(&store, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_holds_exactly_the_referenced_chunks_after_collection() {
    let Some(mut o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    // Its own keyspace: the counts cover the whole store.
    o.keyspace = format!(
        "s3gw_test_fsck_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    // No second look at a head (`recheck.rs`) fires within the test: one
    // that fired after the collection would queue again, harmlessly, blobs
    // already deleted, and the exact counts below would not hold (seen on
    // a loaded machine, where the writes outlasted the default delay).
    o.recheck_after = Duration::from_secs(3600);
    let (keyspace, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    let store = CassandraStorage::open(o).await.expect("open");
    let b = overwrite_delete_collect(&store, || async {
        let later = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 5 * 60_000;
        store.collect_garbage(later).await.expect("collect");
    })
    .await;
    inline_objects_are_checked(&store, &b).await;
    lost_chunks_are_reported(&store, &b).await;
    drop(store);
    common::drop_keyspace(&contact, &keyspace).await;
}

/// `s3gw fsck` exits 0 on a consistent store and prints its report.
#[test]
fn fsck_command_reports_a_consistent_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3gw"))
        .args(["fsck", "--data-dir"])
        .arg(dir.path())
        .env_remove("S3GW_BACKEND")
        .output()
        .expect("run s3gw fsck");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("objects checked"), "{stdout}");
    assert!(stdout.trim_end().ends_with("consistent"), "{stdout}");
}

/// Two gateways overwrite one key at once, one of them with a clock 2 s
/// behind (so some of its writes lose to earlier ones), while both collect
/// as fast as they can (a grace period of three collection rounds) and a
/// reader keeps GETting the key: no GET loses a chunk unless it outlived
/// the grace period, and never one of the current head. At the end the current object is intact
/// and the store holds its chunks and nothing else: every losing write's
/// blobs were released, including those of heads that were current for a
/// moment and were replaced by a writer that never saw them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cassandra_concurrent_overwrites_never_lose_the_current_object() {
    const WRITES: usize = 40;
    let Some(mut o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    o.keyspace = format!(
        "s3gw_test_overwrite_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let (keyspace, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    // The writers here take milliseconds from read to write.
    o.recheck_after = Duration::from_millis(300);
    let first = CassandraStorage::open(o.clone()).await.expect("open");
    o.clock_offset_us = -2_000_000;
    let second = CassandraStorage::open(o).await.expect("open lagging");
    let s: Arc<dyn Storage> = Arc::new(first.clone());
    let b = common::new_bucket(s.as_ref(), "overwrite").await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The collectors' clock runs ahead, one more minute at each round, so
    // that a blob released in one round is collected three rounds later.
    // Both gateways collect in each round with the same clock, so both
    // file their releases after the cursor (a collector never drops a
    // minute that a gateway may still file into).
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(
        time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 5 * 60_000,
    ));
    // Collection rounds so far: the grace period of this test is counted
    // in rounds (a release is collected three rounds later).
    let rounds = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let round = {
        let (first, second, clock) = (first.clone(), second.clone(), clock.clone());
        let rounds = rounds.clone();
        move || {
            let (first, second, clock) = (first.clone(), second.clone(), clock.clone());
            let rounds = rounds.clone();
            async move {
                let later = clock.fetch_add(60_000, std::sync::atomic::Ordering::Relaxed) + 60_000;
                let n = first.collect_garbage(later).await.expect("collect")
                    + second.collect_garbage(later).await.expect("collect");
                rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                n
            }
        }
    };
    // One round before any write, so that both gateways start filing after
    // the cursor that the collectors' clock moves on.
    round().await;
    let writers: Vec<_> = [first.clone(), second.clone()]
        .into_iter()
        .enumerate()
        .map(|(w, store)| {
            tokio::spawn(async move {
                for i in 0..WRITES {
                    let p = blob(&store, (w * WRITES + i) as u8).await;
                    store
                        .put_object(b.id, &common::key("k"), &head(p), &WriteCondition::None)
                        .await
                        .expect("overwrite");
                }
            })
        })
        .collect();
    let collector = {
        let (done, round) = (done.clone(), round.clone());
        tokio::spawn(async move {
            let mut collected = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                collected += round().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            collected
        })
    };
    // GETs (the head, then its chunks, as the gateway streams them) all
    // through the writing: a GET may only lose a chunk if it outlived the
    // grace period (two full rounds began and ended during it), and never
    // a chunk of the current head.
    let reader = {
        let (s, done, rounds) = (s.clone(), done.clone(), rounds.clone());
        tokio::spawn(async move {
            let mut checked = 0u32;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let began = rounds.load(std::sync::atomic::Ordering::Relaxed);
                let Some(h) = s.get_object(b.id, &common::key("k")).await.expect("get") else {
                    continue;
                };
                for i in 0..3 {
                    let addr = ChunkAddr {
                        blob: h.parts[0].blob,
                        index: i,
                        chunk_size: CHUNK,
                    };
                    if s.get_chunk(addr).await.is_err() {
                        let after = rounds.load(std::sync::atomic::Ordering::Relaxed);
                        assert!(
                            after >= began + 2,
                            "a GET lost chunk {i} within its grace period \
                             (rounds {began}..{after})"
                        );
                        let now = s
                            .get_object(b.id, &common::key("k"))
                            .await
                            .expect("get")
                            .expect("head");
                        assert_ne!(
                            now.parts[0].blob, h.parts[0].blob,
                            "chunk {i} of the current head is gone"
                        );
                    }
                }
                checked += 1;
            }
            checked
        })
    };
    for w in writers {
        w.await.expect("writer");
    }
    // Let the last second looks happen.
    tokio::time::sleep(Duration::from_secs(1)).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let collected = collector.await.expect("collector");
    let checked = reader.await.expect("reader");
    for _ in 0..4 {
        round().await;
    }
    let h = s
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get")
        .expect("head");
    for i in 0..3 {
        let addr = ChunkAddr {
            blob: h.parts[0].blob,
            index: i,
            chunk_size: CHUNK,
        };
        s.get_chunk(addr).await.expect("the final object is intact");
    }
    let r = first.fsck(Duration::ZERO).await.expect("fsck");
    eprintln!(
        "{checked} reads checked, {collected} blobs collected while writing; \
         after the last collection:\n{r}"
    );
    assert!(collected > 0, "the collector ran while the writers wrote");
    assert!(r.consistent(), "{r}");
    assert_eq!((r.stored_blobs, r.stored_chunks), (1, 3), "{r}");
    assert_eq!((r.queued_blobs, r.unreferenced_blobs), (0, 0), "{r}");
    drop((s, first, second));
    common::drop_keyspace(&contact, &keyspace).await;
}
