//! A bucket of 100 000 versions over 10 000 keys on Cassandra, whose
//! version index is sharded like the key index (docs/storage-model.md
//! "Versions"): ListObjectVersions' storage call, a page of 1000 at a
//! time, gives every version exactly once, keys in order, each key's
//! versions newest first and its current one first; ListObjects' call
//! still gives exactly the current objects. The time of each listing is
//! printed, not judged.
//!
//! Written through `put_version` (a serial read and a lightweight
//! transaction each, behind a 15 ms commit-log group window) the versions
//! take about ten minutes here, so the test writes them as the backend
//! stores them: the current versions through `put_object` with their
//! version fields stamped, the noncurrent ones as rows of
//! `object_versions` in the key's shard (the shard hash and the row
//! encoding of `storage/cassandra`; a drift from them fails the listing).
//! The version contract (`version_contract.rs`) covers the write path.

use crate::common;

use std::ops::Bound;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::{ObjectHead, Storage, VersionEntry, VersionsFrom, WriteCondition};
use s3gw::types::{VersionId, VersioningState};

const KEYS: usize = 10_000;
const VERSIONS: usize = 10;
/// Every this many keys, the current version is a delete marker.
const MARKED: usize = 7;
const PAGE: usize = 1000;
/// Statements in flight while seeding.
const SEEDERS: usize = 256;

fn key_name(i: usize) -> String {
    format!("k/{i:05}")
}

/// Version `n` of key `i` (the last is current), made at a time that
/// orders them: later versions of a key are newer.
fn version(i: usize, n: usize, base_us: i64) -> ObjectHead {
    let us = base_us + (i * VERSIONS + n) as i64;
    let mut head = if n == VERSIONS - 1 && i.is_multiple_of(MARKED) {
        ObjectHead::delete_marker(None, 0)
    } else {
        common::inline_head(&[n as u8], &format!("e{n}"))
    };
    head.version_us = us;
    head.last_modified_ms = us / 1000;
    head.version_id = Some(VersionId::new(us));
    head
}

/// `key`'s shard of the key index, as `CassandraStorage::shard_of` has it.
fn shard_of(key: &str, shards: u16) -> i16 {
    (xxhash_rust::xxh3::xxh3_64(key.as_bytes()) % u64::from(shards.max(1))) as i16
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_versions_list_in_order_on_cassandra() {
    let Some(o) = common::own_keyspace("scale", Duration::from_secs(900)) else {
        return;
    };
    let (keyspace, contact, shards) = (
        o.keyspace.clone(),
        o.contact_points[0].clone(),
        o.index_shards,
    );
    let s = CassandraStorage::open(o).await.expect("open");
    let b = common::new_bucket(&s, "scale").await;
    s.set_bucket_versioning(&b, VersioningState::Enabled)
        .await
        .expect("versioning");
    let session = common::cql_session(&contact).await;
    let insert = session
        .prepare(format!(
            "INSERT INTO {keyspace}.object_versions \
             (bucket, shard, key, inv, vid, head, parts, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .await
        .expect("prepare");
    let base_us = s3gw::storage::now_ms() * 1000 - 3_600_000_000;

    let began = Instant::now();
    let (s_ref, session_ref, insert_ref) = (&s, &session, &insert);
    let rows = (0..KEYS).flat_map(|i| (0..VERSIONS).map(move |n| (i, n)));
    stream::iter(rows)
        .map(|(i, n)| async move {
            let key = key_name(i);
            let head = version(i, n, base_us);
            if n == VERSIONS - 1 {
                let k = common::key(&key);
                s_ref
                    .put_object(b.id, &k, &head, &WriteCondition::None)
                    .await
                    .expect("current version");
                return;
            }
            let bare = ObjectHead {
                inline: None,
                ..head.clone()
            };
            let values = (
                b.id.0,
                shard_of(&key, shards),
                key.as_str(),
                -head.version_us,
                head.version_ref().to_string(),
                serde_json::to_string(&bare).expect("head"),
                "[]",
                None::<Vec<u8>>,
            );
            session_ref
                .execute_unpaged(insert_ref, values)
                .await
                .expect("noncurrent version");
        })
        .buffer_unordered(SEEDERS)
        .collect::<Vec<()>>()
        .await;
    eprintln!(
        "seeded {} versions over {KEYS} keys in {:.1} s",
        KEYS * VERSIONS,
        began.elapsed().as_secs_f64()
    );

    let began = Instant::now();
    let mut all: Vec<VersionEntry> = Vec::with_capacity(KEYS * VERSIONS);
    let mut pages = 0;
    loop {
        let last = all.last().map(|e| (e.key.clone(), e.head.version_ref()));
        let from = match &last {
            Some((k, v)) => VersionsFrom::AfterVersion(k, v),
            None => VersionsFrom::Start,
        };
        let page = s.list_versions(b.id, "", from, PAGE).await.expect("page");
        pages += 1;
        let done = page.len() < PAGE;
        all.extend(page);
        if done {
            break;
        }
    }
    eprintln!(
        "listed {} versions in {pages} pages of {PAGE} in {:.2} s",
        all.len(),
        began.elapsed().as_secs_f64()
    );
    assert_eq!(all.len(), KEYS * VERSIONS);
    for (i, versions) in all.chunks(VERSIONS).enumerate() {
        let key = key_name(i);
        assert!(versions.iter().all(|e| e.key == key), "key {key}");
        assert!(versions[0].is_latest && versions[1..].iter().all(|e| !e.is_latest));
        let want: Vec<i64> = (0..VERSIONS)
            .rev()
            .map(|n| version(i, n, base_us).version_us)
            .collect();
        let got: Vec<i64> = versions.iter().map(|e| e.head.version_us).collect();
        assert_eq!(got, want, "{key}: newest first");
        assert_eq!(
            versions[0].head.delete_marker,
            i.is_multiple_of(MARKED),
            "{key}"
        );
    }

    let began = Instant::now();
    let mut current = 0;
    let mut after: Option<String> = None;
    loop {
        let start = match &after {
            Some(k) => Bound::Excluded(k.as_str()),
            None => Bound::Unbounded,
        };
        let page = s.list_objects(b.id, "", start, PAGE).await.expect("list");
        current += page.len();
        assert!(page.iter().all(|e| !e.head.delete_marker));
        after = page.last().map(|e| e.key.clone());
        if page.len() < PAGE {
            break;
        }
    }
    eprintln!(
        "listed {current} current objects in {:.2} s",
        began.elapsed().as_secs_f64()
    );
    assert_eq!(current, KEYS - KEYS.div_ceil(MARKED));
    drop(s);
    common::drop_keyspace(&contact, &keyspace).await;
}
