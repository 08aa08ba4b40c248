//! Races between versioned writes and deletes on Cassandra, staged with
//! two gateways on one keyspace, one of them pausing before its head
//! write (docs/storage-model.md "Versions"). Nothing spans the two tables
//! atomically, so each test checks what must hold whoever wins: every
//! acknowledged version is listed in order, exactly once; a deleted one is
//! gone; and after the collector ran, fsck finds every listed version's
//! chunks and nothing else.

use std::time::Duration;

use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::{
    BucketRecord, ChunkAddr, Maintenance, ObjectHead, Storage, VersionsFrom, WriteCondition,
};
use s3gw::types::VersioningState;

use crate::common;

/// How long the slow gateway pauses before each head write.
const PAUSE: Duration = Duration::from_millis(400);

/// A fast and a slow gateway on a keyspace of their own, whose collector
/// keeps nothing back (`gc_grace` zero).
struct Pair {
    fast: CassandraStorage,
    slow: CassandraStorage,
    keyspace: String,
    contact: String,
}

impl Pair {
    async fn open(tag: &str) -> Option<Pair> {
        let mut o = common::own_keyspace(tag, Duration::ZERO)?;
        let (keyspace, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
        let fast = CassandraStorage::open(o.clone()).await.expect("open");
        o.pause_before_head_write = PAUSE;
        let slow = CassandraStorage::open(o).await.expect("open slow");
        Some(Pair {
            fast,
            slow,
            keyspace,
            contact,
        })
    }

    async fn bucket(&self, tag: &str) -> BucketRecord {
        let b = common::new_bucket(&self.fast, tag).await;
        self.fast
            .set_bucket_versioning(&b, VersioningState::Enabled)
            .await
            .expect("versioning");
        self.fast
            .get_bucket(&b.name)
            .await
            .expect("get")
            .expect("bucket")
    }

    /// A one-chunk object holding `fill` bytes.
    async fn object(&self, fill: u8) -> ObjectHead {
        let part =
            common::stored_blob(&self.fast, &common::test_owner(), fill, 100, 1024, 0..1).await;
        // Made now, as a PUT's head is: an unversioned head's place among
        // its key's versions is its last-modified time.
        let mut head = common::head_of(part, 1024);
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        head.last_modified_ms = now as i64;
        head
    }

    async fn put(&self, b: &BucketRecord, head: &ObjectHead) -> ObjectHead {
        self.fast
            .put_version(
                b.id,
                &common::key("k"),
                head,
                VersioningState::Enabled,
                &WriteCondition::None,
            )
            .await
            .expect("put version")
    }

    /// (version id, is latest) of every version of the bucket.
    async fn versions(&self, b: &BucketRecord) -> Vec<(String, bool)> {
        let all = self
            .fast
            .list_versions(b.id, "", VersionsFrom::Start, 1000)
            .await
            .expect("list versions");
        all.iter()
            .map(|e| (e.head.version_ref().to_string(), e.is_latest))
            .collect()
    }

    /// Collects everything released, then checks the store: consistent,
    /// with exactly `blobs` stored, every one referenced, each of `live`
    /// readable with its bytes.
    async fn check(&self, blobs: u64, live: &[&ObjectHead]) {
        let later = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 5 * 60_000;
        self.fast.collect_garbage(later).await.expect("collect");
        let r = self.fast.fsck(Duration::ZERO).await.expect("fsck");
        assert!(r.consistent(), "{r}");
        assert_eq!(
            (r.stored_blobs, r.unreferenced_blobs, r.queued_blobs),
            (blobs, 0, 0),
            "{r}"
        );
        for h in live {
            let part = &h.parts[0];
            let addr = ChunkAddr {
                blob: part.blob,
                index: 0,
                chunk_size: 1024,
            };
            let got = self
                .fast
                .get_chunk(addr)
                .await
                .expect("chunk of a live version");
            assert_eq!(got.len(), 100);
        }
    }

    /// Two versions of `k` (V0 then V1, current), and a delete of V1 by
    /// the slow gateway under way: it read V1 and is pausing before it
    /// makes V0 current.
    async fn slow_delete_of_current(
        &self,
        b: &BucketRecord,
    ) -> (
        ObjectHead,
        ObjectHead,
        tokio::task::JoinHandle<Result<Option<ObjectHead>, s3gw::storage::StorageError>>,
    ) {
        let v0 = self.put(b, &self.object(0).await).await;
        let v1 = self.put(b, &self.object(1).await).await;
        let deleter = {
            let (slow, bid, v) = (self.slow.clone(), b.id, v1.version_ref());
            tokio::spawn(async move { slow.delete_version(bid, &common::key("k"), &v).await })
        };
        tokio::time::sleep(PAUSE / 4).await;
        (v0, v1, deleter)
    }

    async fn finish(self) {
        let Pair {
            fast,
            slow,
            keyspace,
            contact,
        } = self;
        drop((fast, slow));
        common::drop_keyspace(&contact, &keyspace).await;
    }
}

fn id(h: &ObjectHead) -> String {
    h.version_ref().to_string()
}

/// The slow gateway reads the current version and copies it, then pauses;
/// the fast one replaces that version meanwhile. The slow write's
/// transaction loses, it starts over from the new current version, and
/// every write stays: three versions in order, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_racing_versioned_writes_keep_every_version() {
    let Some(p) = Pair::open("vwrites").await else {
        return;
    };
    let b = p.bucket("vwrites").await;
    let v0 = p.put(&b, &p.object(0).await).await;
    let slow_head = p.object(2).await;
    let slow = {
        let (slow, bid) = (p.slow.clone(), b.id);
        tokio::spawn(async move {
            slow.put_version(
                bid,
                &common::key("k"),
                &slow_head,
                VersioningState::Enabled,
                &WriteCondition::None,
            )
            .await
        })
    };
    tokio::time::sleep(PAUSE / 4).await;
    let v1 = p.put(&b, &p.object(1).await).await;
    let v2 = slow.await.expect("join").expect("slow put");
    assert!(v0.version_us < v1.version_us && v1.version_us < v2.version_us);
    assert_eq!(
        p.versions(&b).await,
        vec![(id(&v2), true), (id(&v1), false), (id(&v0), false)]
    );
    let r = p.fast.fsck(Duration::ZERO).await.expect("fsck");
    assert_eq!((r.objects, r.noncurrent_versions), (1, 2), "{r}");
    p.check(3, &[&v0, &v1, &v2]).await;
    p.finish().await;
}

/// The slow gateway deletes the current version V1 and pauses before
/// making V0 current; the fast one writes V2 meanwhile, keeping V1. The
/// delete's transaction loses, and it deletes V1 where it now is, among
/// the noncurrent versions: V2 and V0 stay, V1's chunks are collected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_deleting_the_current_version_while_a_write_replaces_it() {
    let Some(p) = Pair::open("vdelwrite").await else {
        return;
    };
    let b = p.bucket("vdelwrite").await;
    let (v0, v1, deleter) = p.slow_delete_of_current(&b).await;
    let v2 = p.put(&b, &p.object(2).await).await;
    let deleted = deleter.await.expect("join").expect("delete");
    assert_eq!(deleted.as_ref().map(id), Some(id(&v1)));
    assert_eq!(
        p.versions(&b).await,
        vec![(id(&v2), true), (id(&v0), false)]
    );
    p.check(2, &[&v0, &v2]).await;
    p.finish().await;
}

/// The slow gateway deletes the current version V1 and pauses before
/// making V0 current; the fast one deletes V0 meanwhile (then noncurrent:
/// its chunks are released). Made current after all, V0 has lost its row,
/// so the slow delete deletes it as the current version too: the key ends
/// with no version, and no version is left pointing at released chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_a_version_deleted_while_it_is_made_current_is_deleted() {
    let Some(p) = Pair::open("vpromote").await else {
        return;
    };
    let b = p.bucket("vpromote").await;
    let (v0, v1, deleter) = p.slow_delete_of_current(&b).await;
    let gone = p
        .fast
        .delete_version(b.id, &common::key("k"), &v0.version_ref())
        .await
        .expect("delete v0");
    assert_eq!(gone.as_ref().map(id), Some(id(&v0)));
    let deleted = deleter.await.expect("join").expect("delete v1");
    assert_eq!(deleted.as_ref().map(id), Some(id(&v1)));
    assert_eq!(p.versions(&b).await, vec![]);
    let current = p
        .fast
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get");
    assert!(current.is_none(), "{current:?}");
    p.check(0, &[]).await;
    p.slow.delete_bucket(&b).await.expect("empty");
    p.finish().await;
}

/// Versioning is enabled while an unversioned PUT is under way: the slow
/// gateway read R (unversioned) and pauses; the fast one enables
/// versioning and writes V, keeping R as a noncurrent version; then the
/// slow PUT writes W over V as the state its request read says. V is lost
/// (the limit docs/storage-model.md names: a write uses the versioning
/// state its request read) and its blob leaks, but the slow PUT's settling
/// must not release R, which a noncurrent version now holds: after the
/// collector ran, R's chunks are still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_settling_never_releases_a_kept_version() {
    let Some(p) = Pair::open("vkept").await else {
        return;
    };
    let b = common::new_bucket(&p.fast, "vkept").await;
    let key = common::key("k");
    let r = p.object(0).await;
    p.fast
        .put_object(b.id, &key, &r, &WriteCondition::None)
        .await
        .expect("put R");
    let writer = {
        let (slow, bid, w, key) = (p.slow.clone(), b.id, p.object(9).await, key.clone());
        tokio::spawn(async move { slow.put_object(bid, &key, &w, &WriteCondition::None).await })
    };
    tokio::time::sleep(PAUSE / 4).await;
    p.fast
        .set_bucket_versioning(&b, VersioningState::Enabled)
        .await
        .expect("versioning");
    p.put(&b, &p.object(1).await).await;
    writer.await.expect("join").expect("put W");
    let versions = p
        .fast
        .list_versions(b.id, "", VersionsFrom::Start, 10)
        .await
        .expect("list");
    let etags: Vec<(&str, bool)> = versions
        .iter()
        .map(|e| (e.head.etag.as_str(), e.is_latest))
        .collect();
    assert_eq!(
        etags,
        vec![("09", true), ("00", false)],
        "W current, R kept"
    );
    let later = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 5 * 60_000;
    p.fast.collect_garbage(later).await.expect("collect");
    let rep = p.fast.fsck(Duration::ZERO).await.expect("fsck");
    assert!(rep.consistent(), "R's chunks must stay: {rep}");
    assert_eq!(
        (
            rep.noncurrent_versions,
            rep.referenced_blobs,
            rep.unreferenced_blobs
        ),
        (1, 2, 1),
        "R and W referenced; V's blob the one leak: {rep}"
    );
    p.finish().await;
}
