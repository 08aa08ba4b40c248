//! A bucket of 30 000 keys on Cassandra lists completely, in order, with
//! and without a delimiter, before and after deleting half of them (the
//! deletes leave tombstones in the key index); and a prefix lists over
//! 50 000 tombstones in one partition.

use crate::common;

use std::ops::Bound;
use std::sync::Arc;

use aws_sdk_s3::Client;
use futures_util::stream::{self, StreamExt};
use s3gw::config::Backend;
use s3gw::storage::records::ContentHeaders;
use s3gw::storage::{BucketId, ObjectHead, Storage, WriteCondition};
use scylla::statement::batch::{Batch, BatchType};

const DIRS: usize = 100;
/// 30 000 keys, 1 875 per shard of the default 16: pages of 1000 keys
/// refill the shard cursors many times over. The test once wrote 100 000,
/// which took 200 to 400 s of CI through the store and tested nothing more.
const PER_DIR: usize = 300;

fn key(d: usize, k: usize) -> String {
    format!("d{d:02}/k{k:04}")
}

fn empty_head() -> ObjectHead {
    ObjectHead {
        size: 0,
        etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
        last_modified_ms: 0,
        chunk_size: 1024,
        parts: vec![],
        multipart: false,
        upload_id: None,
        checksum: None,
        content: ContentHeaders::default(),
        user_meta: Default::default(),
        tags: Default::default(),
        inline: None,
        version_id: None,
        version_us: 0,
        delete_marker: false,
    }
}

/// Every key of a ListObjectsV2 walk, following continuation tokens.
async fn walk(c: &Client, bucket: &str, prefix: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let r = c
            .list_objects_v2()
            .bucket(bucket)
            .set_prefix(prefix.map(str::to_owned))
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("list");
        out.extend(
            r.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned),
        );
        match r.next_continuation_token() {
            Some(t) if r.is_truncated() == Some(true) => token = Some(t.to_owned()),
            _ => return out,
        }
    }
}

/// Every common prefix of a delimited walk with `max_keys` per page.
async fn walk_prefixes(c: &Client, bucket: &str, max_keys: i32) -> Vec<String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let r = c
            .list_objects_v2()
            .bucket(bucket)
            .delimiter("/")
            .max_keys(max_keys)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("list");
        assert!(r.contents().is_empty());
        out.extend(
            r.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                .map(str::to_owned),
        );
        match r.next_continuation_token() {
            Some(t) if r.is_truncated() == Some(true) => token = Some(t.to_owned()),
            _ => return out,
        }
    }
}

async fn for_each_key<F, Fut>(keys: Vec<String>, f: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    stream::iter(keys)
        .map(f)
        .buffer_unordered(64)
        .collect::<Vec<()>>()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_thousand_keys_list_completely() {
    let Some(o) = common::cassandra_options(std::time::Duration::from_secs(900)) else {
        return;
    };
    let store: Arc<dyn Storage> = Arc::new(common::open_cassandra(o.clone()).await);
    let gw = common::start_with(|c| c.backend = Backend::Cassandra(Box::new(o))).await;
    let c = gw.client();
    let bucket = common::bucket_name("many-keys");
    c.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create");
    let id: BucketId = store
        .get_bucket(&bucket)
        .await
        .expect("get bucket")
        .expect("bucket")
        .id;

    // Heads straight through the backend: the test is about listing.
    let mut all: Vec<String> = (0..DIRS)
        .flat_map(|d| (0..PER_DIR).map(move |k| key(d, k)))
        .collect();
    let started = std::time::Instant::now();
    for_each_key(all.clone(), |k| {
        let store = store.clone();
        async move {
            store
                .put_object(id, &common::key(&k), &empty_head(), &WriteCondition::None)
                .await
                .expect("put head");
        }
    })
    .await;
    eprintln!("wrote {} heads in {:?}", all.len(), started.elapsed());
    all.sort();

    let started = std::time::Instant::now();
    assert_eq!(walk(&c, &bucket, None).await, all);
    eprintln!("listed {} keys in {:?}", all.len(), started.elapsed());

    let started = std::time::Instant::now();
    let dirs: Vec<String> = (0..DIRS).map(|d| format!("d{d:02}/")).collect();
    assert_eq!(walk_prefixes(&c, &bucket, 1000).await, dirs);
    assert_eq!(walk_prefixes(&c, &bucket, 7).await, dirs);
    eprintln!("listed the prefixes twice in {:?}", started.elapsed());
    let d42: Vec<String> = (0..PER_DIR).map(|k| key(42, k)).collect();
    assert_eq!(walk(&c, &bucket, Some("d42/")).await, d42);

    // Delete every other key: the index now holds 15 000 tombstones.
    let (gone, kept): (Vec<String>, Vec<String>) = all
        .iter()
        .cloned()
        .partition(|k| k.ends_with(['1', '3', '5', '7', '9']));
    let started = std::time::Instant::now();
    for_each_key(gone, |k| {
        let store = store.clone();
        async move {
            assert!(store
                .delete_object(id, &common::key(&k), &WriteCondition::None)
                .await
                .expect("delete"));
        }
    })
    .await;
    eprintln!("deleted half in {:?}", started.elapsed());
    let started = std::time::Instant::now();
    assert_eq!(walk(&c, &bucket, None).await, kept);
    assert_eq!(walk_prefixes(&c, &bucket, 1000).await, dirs);
    eprintln!("listed again in {:?}", started.elapsed());
    let first = store
        .list_objects(id, "d99/", Bound::Excluded("d99/k0290"), 10)
        .await
        .expect("list tail");
    let tail: Vec<&str> = first.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(tail, ["d99/k0292", "d99/k0294", "d99/k0296", "d99/k0298"]);
}

/// 50 000 row tombstones in one prefix, in a keyspace whose key index has a
/// single shard, so that every listing query of that prefix runs over all
/// 50 000 tombstones of one partition: listings stay complete and never hit
/// Cassandra's tombstone failure threshold (100 000 per query).
///
/// The tombstones are written with CQL, in unlogged batches of one
/// partition: a row deletion leaves the same tombstone whether or not the
/// row was there, and 100 000 puts and deletes through the store took most
/// of this test's 300 s in CI (the delete path is tested elsewhere; this
/// test is about listing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_over_fifty_thousand_deletes_in_one_prefix() {
    const DELETED: usize = 50_000;
    const PER_BATCH: usize = 100;
    let Some(mut o) = common::own_keyspace("tomb", std::time::Duration::from_secs(900)) else {
        return;
    };
    o.index_shards = 1;
    let (keyspace, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    let store: Arc<dyn Storage> = Arc::new(
        s3gw::storage::cassandra::CassandraStorage::open(o.clone())
            .await
            .expect("open"),
    );
    let gw = common::start_with(|c| c.backend = Backend::Cassandra(Box::new(o))).await;
    let c = gw.client();
    let bucket = common::bucket_name("tombstones");
    c.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create");
    let id = store
        .get_bucket(&bucket)
        .await
        .expect("get bucket")
        .expect("bucket")
        .id;
    let live: Vec<String> = (0..5)
        .map(|i| format!("gone/~live{i}"))
        .chain(["keep/a".to_owned()])
        .collect();
    for_each_key(live.clone(), |k| {
        let store = store.clone();
        async move {
            store
                .put_object(id, &common::key(&k), &empty_head(), &WriteCondition::None)
                .await
                .expect("put head");
        }
    })
    .await;
    let started = std::time::Instant::now();
    let session = Arc::new(common::cql_session(&contact).await);
    let delete = session
        .prepare(format!(
            "DELETE FROM {keyspace}.objects WHERE bucket = ? AND shard = 0 AND key = ?"
        ))
        .await
        .expect("prepare delete");
    let batches: Vec<Vec<String>> = (0..DELETED)
        .map(|i| format!("gone/{i:06}"))
        .collect::<Vec<_>>()
        .chunks(PER_BATCH)
        .map(<[String]>::to_vec)
        .collect();
    stream::iter(batches)
        .map(|keys| {
            let (session, delete) = (session.clone(), delete.clone());
            async move {
                let mut batch = Batch::new(BatchType::Unlogged);
                for _ in &keys {
                    batch.append_statement(delete.clone());
                }
                let values: Vec<(uuid::Uuid, &str)> =
                    keys.iter().map(|k| (id.0, k.as_str())).collect();
                session.batch(&batch, values).await.expect("delete batch");
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    eprintln!("wrote {DELETED} tombstones in {:?}", started.elapsed());

    let started = std::time::Instant::now();
    assert_eq!(walk(&c, &bucket, Some("gone/")).await, live[..5]);
    assert_eq!(walk(&c, &bucket, None).await, live);
    assert_eq!(walk_prefixes(&c, &bucket, 1000).await, ["gone/", "keep/"]);
    let first = c
        .list_objects_v2()
        .bucket(&bucket)
        .max_keys(1)
        .send()
        .await
        .expect("first page");
    let keys: Vec<&str> = first.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["gone/~live0"]);
    eprintln!("listed over the tombstones in {:?}", started.elapsed());
    drop((c, gw, store));
    common::drop_keyspace(&contact, &keyspace).await;
}
