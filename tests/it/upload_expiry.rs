//! Abandoned multipart uploads are aborted by the janitor
//! (`s3gw::janitor`), on the embedded store and on Cassandra
//! (`S3GW_TEST_CASSANDRA`).

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use s3gw::janitor::abort_expired_uploads;
use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::records::ContentHeaders;
use s3gw::storage::{
    now_ms, BlobId, BucketRecord, ChunkAddr, PartRecord, PartRef, Storage, UploadRecord,
};

const DAY_MS: i64 = 86_400_000;
const WEEK: Duration = Duration::from_secs(7 * 86_400);

/// A Cassandra store on a keyspace of its own, with its contact point and
/// keyspace name: the janitor walks every bucket, and the shared test
/// keyspace holds old uploads that other tests left.
async fn cassandra() -> Option<(Arc<dyn Storage>, String, String)> {
    let mut o = common::cassandra_options(Duration::from_secs(900))?;
    o.keyspace = format!(
        "s3gw_test_expiry_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let keyspace = o.keyspace.clone();
    let contact = o.contact_points[0].clone();
    let store = CassandraStorage::open(o).await.expect("open");
    Some((Arc::new(store), contact, keyspace))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_aborts_uploads_older_than_the_age() {
    let (_dir, s) = common::embedded_store();
    aborts_uploads_older_than_the_age(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_aborts_uploads_older_than_the_age() {
    let Some((s, contact, keyspace)) = cassandra().await else {
        return;
    };
    aborts_uploads_older_than_the_age(s).await;
    common::drop_keyspace(&contact, &keyspace).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_pages_through_many_uploads_and_buckets() {
    let (_dir, s) = common::embedded_store();
    pages_through_many_uploads_and_buckets(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_pages_through_many_uploads_and_buckets() {
    let Some((s, contact, keyspace)) = cassandra().await else {
        return;
    };
    pages_through_many_uploads_and_buckets(s).await;
    common::drop_keyspace(&contact, &keyspace).await;
}

async fn bucket(s: &dyn Storage) -> BucketRecord {
    let b = BucketRecord::new(&common::bucket_name("expiry"), "us-east-1", "");
    s.create_bucket(&b).await.expect("create bucket");
    b
}

async fn aborts_uploads_older_than_the_age(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref()).await;
    let now = now_ms();
    let mut old = Vec::new();
    let mut fresh = Vec::new();
    for (i, initiated_ms) in [
        now - 8 * DAY_MS,
        now - 30 * DAY_MS,
        now - 7 * DAY_MS - 1,
        now,
        now - 7 * DAY_MS + 60_000,
    ]
    .into_iter()
    .enumerate()
    {
        // Two of the keys are shared, so one key holds old and fresh uploads.
        let key = format!("dir/key-{}", i % 3);
        let id = uuid::Uuid::now_v7().simple().to_string();
        s.create_upload(b.id, &upload(&id, &key, initiated_ms))
            .await
            .expect("create upload");
        let part = blob(s.as_ref(), format!("part of upload {i}").into_bytes()).await;
        s.put_part(
            b.id,
            &common::key(&key),
            &common::upload_id(&id),
            &PartRecord {
                part_number: 1,
                last_modified_ms: initiated_ms,
                data: part.clone(),
            },
        )
        .await
        .expect("put part");
        if i < 3 {
            old.push((key, id));
        } else {
            fresh.push((key, id, part));
        }
    }

    let n = abort_expired_uploads(s.as_ref(), WEEK, now)
        .await
        .expect("first run");
    assert_eq!(n, 3, "the three uploads older than 7 days");
    for (key, id) in &old {
        assert!(
            s.get_upload(b.id, &common::key(key), &common::upload_id(id))
                .await
                .expect("get")
                .is_none(),
            "{key} {id} aborted"
        );
        assert!(s
            .list_parts(&common::upload_id(id), 0, 10)
            .await
            .expect("parts")
            .is_empty());
    }
    for (key, id, part) in &fresh {
        let u = s
            .get_upload(b.id, &common::key(key), &common::upload_id(id))
            .await
            .expect("get");
        assert!(u.is_some(), "{key} {id} kept");
        let parts = s
            .list_parts(&common::upload_id(id), 0, 10)
            .await
            .expect("parts");
        assert_eq!(parts.len(), 1, "{key} {id} keeps its part");
        assert_eq!(parts[0].data.blob, part.blob);
        let chunk = s
            .get_chunk(ChunkAddr {
                blob: part.blob,
                index: 0,
                chunk_size: 1024,
            })
            .await
            .expect("chunk");
        assert_eq!(chunk.len() as u64, part.size);
    }
    let listed = s
        .list_uploads(b.id, "", None, 100)
        .await
        .expect("list uploads");
    assert_eq!(listed.len(), 2);

    let n = abort_expired_uploads(s.as_ref(), WEEK, now)
        .await
        .expect("second run");
    assert_eq!(n, 0, "nothing left to abort");
    assert_eq!(
        s.list_uploads(b.id, "", None, 100)
            .await
            .expect("list uploads")
            .len(),
        2
    );
}

/// More uploads than one listing page, old and fresh interleaved on the
/// same keys, in two buckets: every old one is aborted and no fresh one.
async fn pages_through_many_uploads_and_buckets(s: Arc<dyn Storage>) {
    let now = now_ms();
    let mut fresh = Vec::new();
    for b in [bucket(s.as_ref()).await, bucket(s.as_ref()).await] {
        for i in 0..130 {
            let key = format!("k{:02}", i % 40);
            let id = uuid::Uuid::now_v7().simple().to_string();
            let initiated_ms = if i % 2 == 0 { now - 10 * DAY_MS } else { now };
            s.create_upload(b.id, &upload(&id, &key, initiated_ms))
                .await
                .expect("create upload");
        }
        fresh.push(b);
    }
    let n = abort_expired_uploads(s.as_ref(), WEEK, now)
        .await
        .expect("run");
    assert_eq!(n, 130, "65 old uploads in each bucket");
    for b in &fresh {
        let left = s
            .list_uploads(b.id, "", None, 1000)
            .await
            .expect("list uploads");
        assert_eq!(left.len(), 65);
        assert!(left.iter().all(|u| u.initiated_ms == now));
    }
    assert_eq!(
        abort_expired_uploads(s.as_ref(), WEEK, now)
            .await
            .expect("second run"),
        0
    );
}

fn upload(id: &str, key: &str, initiated_ms: i64) -> UploadRecord {
    UploadRecord {
        upload_id: id.into(),
        key: key.into(),
        initiated_ms,
        content: ContentHeaders::default(),
        user_meta: Default::default(),
        tags: Default::default(),
        checksum_algorithm: None,
        checksum_type: None,
    }
}

/// A sealed one-chunk blob holding `data`.
async fn blob(s: &dyn Storage, data: Vec<u8>) -> PartRef {
    let id = BlobId::new();
    let size = data.len() as u64;
    s.begin_blob(id, &common::test_owner())
        .await
        .expect("begin");
    s.put_chunk(
        ChunkAddr {
            blob: id,
            index: 0,
            chunk_size: 1024,
        },
        Bytes::from(data),
    )
    .await
    .expect("chunk");
    s.seal_blob(id).await.expect("seal");
    PartRef {
        blob: id,
        size,
        etag: "e".into(),
        checksum: None,
        chunk_size: Some(1024),
    }
}
