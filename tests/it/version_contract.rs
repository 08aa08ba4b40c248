//! The `Storage` contract for object versions (versioned buckets),
//! exercised directly on the backend: which version is current, what a
//! delete marker hides, what deleting a version brings back, the null
//! version of suspended buckets, and the order and paging of
//! `list_versions`. Runs on both backends; `cassandra_versions.rs` stages
//! the races only Cassandra has (docs/storage-model.md "Versions").

use crate::common;

use std::ops::Bound;
use std::sync::Arc;

use s3gw::storage::{
    BucketRecord, ObjectHead, Storage, StorageError, VersionEntry, VersionsFrom, WriteCondition,
};
use s3gw::types::{VersionRef, VersioningState};

// Each scenario runs on both backends (`on_both_backends!`, tests/it/main.rs).
on_both_backends!(
    enabled_writes_keep_every_version,
    a_delete_marker_hides_the_key_until_it_is_deleted,
    deleting_the_current_version_brings_back_the_one_before,
    suspended_writes_replace_only_the_null_version,
    conditions_see_the_current_version,
    versions_page_by_key_then_newest_first,
    long_listings_page_through_every_kept_version,
    a_bucket_with_versions_is_not_empty,
    completing_an_upload_writes_a_version,
    tags_of_any_version_change_alone,
);

const ENABLED: VersioningState = VersioningState::Enabled;
const SUSPENDED: VersioningState = VersioningState::Suspended;

async fn versioned_bucket(s: &dyn Storage, tag: &str, state: VersioningState) -> BucketRecord {
    let b = common::new_bucket(s, tag).await;
    s.set_bucket_versioning(&b, state)
        .await
        .expect("versioning");
    let got = s.get_bucket(&b.name).await.expect("get").expect("bucket");
    assert_eq!(got.versioning, state);
    got
}

/// An object of one blob holding `fill` bytes.
async fn blob_head(s: &dyn Storage, fill: u8) -> ObjectHead {
    let part = common::stored_blob(s, &common::test_owner(), fill, 100, 1024, 0..1).await;
    common::head_of(part, 1024)
}

async fn put(s: &dyn Storage, b: &BucketRecord, key: &str, head: &ObjectHead) -> ObjectHead {
    s.put_version(
        b.id,
        &common::key(key),
        head,
        b.versioning,
        &WriteCondition::None,
    )
    .await
    .expect("put version")
}

async fn all_versions(s: &dyn Storage, b: &BucketRecord, prefix: &str) -> Vec<VersionEntry> {
    s.list_versions(b.id, prefix, VersionsFrom::Start, 10_000)
        .await
        .expect("list versions")
}

/// Every version of the bucket, read `page` at a time, each page from
/// after the last version of the one before.
async fn paged_versions(s: &dyn Storage, b: &BucketRecord, page: usize) -> Vec<VersionEntry> {
    let mut got: Vec<VersionEntry> = Vec::new();
    loop {
        let last = got.last().map(|e| (e.key.clone(), e.head.version_ref()));
        let from = match &last {
            Some((k, v)) => VersionsFrom::AfterVersion(k, v),
            None => VersionsFrom::Start,
        };
        let next = s.list_versions(b.id, "", from, page).await.expect("page");
        assert!(next.len() <= page);
        let done = next.len() < page;
        got.extend(next);
        if done {
            return got;
        }
    }
}

/// (key, etag, is_latest, marker) of each entry.
fn summary(entries: &[VersionEntry]) -> Vec<(String, String, bool, bool)> {
    entries
        .iter()
        .map(|e| {
            (
                e.key.clone(),
                e.head.etag.clone(),
                e.is_latest,
                e.head.delete_marker,
            )
        })
        .collect()
}

fn entry(key: &str, etag: &str, latest: bool) -> (String, String, bool, bool) {
    (key.into(), etag.into(), latest, false)
}

fn marker(key: &str, latest: bool) -> (String, String, bool, bool) {
    (key.into(), String::new(), latest, true)
}

async fn listed_keys(s: &dyn Storage, b: &BucketRecord) -> Vec<String> {
    s.list_objects(b.id, "", Bound::Unbounded, 1000)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.key)
        .collect()
}

/// Enabled: every write is a new version with a fresh id, later than the
/// one before; the newest is current, the others stay readable with
/// their bytes (blob or inline).
async fn enabled_writes_keep_every_version(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = versioned_bucket(s, "enabled", ENABLED).await;
    let first = put(s, &b, "k", &blob_head(s, 1).await).await;
    let second = put(s, &b, "k", &common::inline_head(b"second", "e2")).await;
    let third = put(s, &b, "k", &blob_head(s, 3).await).await;
    let ids: Vec<_> = [&first, &second, &third]
        .iter()
        .map(|h| h.version_id.clone().expect("an id"))
        .collect();
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    assert!(first.version_us < second.version_us && second.version_us < third.version_us);

    let current = s.get_object(b.id, &common::key("k")).await.expect("get");
    assert_eq!(current.map(|h| h.version_id), Some(Some(ids[2].clone())));
    let version = |n: usize, data: bool| {
        let id = VersionRef::Id(ids[n].clone());
        async move {
            s.get_version(b.id, &common::key("k"), &id, data)
                .await
                .expect("get version")
                .expect("the version")
        }
    };
    let older = version(1, true).await;
    let bytes = older.inline.as_ref().and_then(|i| i.bytes.clone());
    assert_eq!(bytes.as_deref(), Some(&b"second"[..]), "inline bytes kept");
    let oldest = version(0, false).await;
    assert_eq!(oldest.parts, first.parts, "its blob is kept");
    let data = s
        .get_chunk(s3gw::storage::ChunkAddr {
            blob: oldest.parts[0].blob,
            index: 0,
            chunk_size: 1024,
        })
        .await
        .expect("chunk of a noncurrent version");
    assert_eq!(data.as_ref(), &[1u8; 100][..]);

    assert_eq!(
        summary(&all_versions(s, &b, "").await),
        vec![
            entry("k", &third.etag, true),
            entry("k", "e2", false),
            entry("k", &first.etag, false),
        ]
    );
    assert_eq!(listed_keys(s, &b).await, vec!["k".to_owned()]);
    assert!(s
        .get_version(b.id, &common::key("k"), &VersionRef::Null, false)
        .await
        .expect("get null")
        .is_none());
}

/// A delete marker becomes current: the key is not listed and reads as a
/// marker; deleting the marker makes the version before it current again.
async fn a_delete_marker_hides_the_key_until_it_is_deleted(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = versioned_bucket(s, "marker", ENABLED).await;
    let v1 = put(s, &b, "k", &blob_head(s, 1).await).await;
    put(s, &b, "other", &blob_head(s, 2).await).await;
    let m = put(s, &b, "k", &ObjectHead::delete_marker(None, 0)).await;
    assert!(m.delete_marker && m.version_id.is_some());
    let current = s
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get")
        .expect("the marker is current");
    assert!(current.delete_marker);
    assert_eq!(listed_keys(s, &b).await, vec!["other".to_owned()]);
    assert_eq!(
        summary(&all_versions(s, &b, "k").await),
        vec![marker("k", true), entry("k", &v1.etag, false)]
    );
    // A second marker stacks on the first.
    let m2 = put(s, &b, "k", &ObjectHead::delete_marker(None, 0)).await;
    assert_eq!(
        summary(&all_versions(s, &b, "k").await),
        vec![
            marker("k", true),
            marker("k", false),
            entry("k", &v1.etag, false)
        ]
    );
    for gone in [m2, m] {
        let deleted = s
            .delete_version(b.id, &common::key("k"), &gone.version_ref())
            .await
            .expect("delete marker")
            .expect("it existed");
        assert!(deleted.delete_marker);
    }
    let back = s.get_object(b.id, &common::key("k")).await.expect("get");
    assert_eq!(back.map(|h| h.version_id), Some(v1.version_id.clone()));
    assert_eq!(
        listed_keys(s, &b).await,
        vec!["k".to_owned(), "other".to_owned()]
    );
}

/// Deleting the current version for good makes the newest noncurrent one
/// current, with its inline bytes; deleting the last version leaves no
/// key. A version that is gone cannot be deleted twice.
async fn deleting_the_current_version_brings_back_the_one_before(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = versioned_bucket(s, "promote", ENABLED).await;
    let v1 = put(s, &b, "k", &common::inline_head(b"one", "e1")).await;
    let v2 = put(s, &b, "k", &blob_head(s, 2).await).await;
    let deleted = s
        .delete_version(b.id, &common::key("k"), &v2.version_ref())
        .await
        .expect("delete")
        .expect("existed");
    assert_eq!(deleted.version_id, v2.version_id);
    let current = s
        .get_object_data(b.id, &common::key("k"))
        .await
        .expect("get")
        .expect("v1 is current");
    assert_eq!(current.version_id, v1.version_id);
    let bytes = current.inline.as_ref().and_then(|i| i.bytes.clone());
    assert_eq!(
        bytes.as_deref(),
        Some(&b"one"[..]),
        "its bytes came with it"
    );
    assert!(s
        .delete_version(b.id, &common::key("k"), &v2.version_ref())
        .await
        .expect("delete again")
        .is_none());
    s.delete_version(b.id, &common::key("k"), &v1.version_ref())
        .await
        .expect("delete last")
        .expect("existed");
    assert!(s
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get")
        .is_none());
    assert!(all_versions(s, &b, "").await.is_empty());
    s.delete_bucket(&b).await.expect("empty bucket deletes");
}

/// Suspended: writes make the null version, which replaces the null
/// version (current or not) and keeps every other version.
async fn suspended_writes_replace_only_the_null_version(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = common::new_bucket(s, "suspended").await;
    // Written while the bucket was never versioned: the null version.
    let plain = blob_head(s, 0).await;
    s.put_object(b.id, &common::key("k"), &plain, &WriteCondition::None)
        .await
        .expect("plain put");
    s.set_bucket_versioning(&b, ENABLED).await.expect("enable");
    let b = BucketRecord {
        versioning: ENABLED,
        ..b
    };
    let v1 = put(s, &b, "k", &blob_head(s, 1).await).await;
    assert_eq!(
        summary(&all_versions(s, &b, "").await),
        vec![entry("k", &v1.etag, true), entry("k", &plain.etag, false)]
    );
    let null = s
        .get_version(b.id, &common::key("k"), &VersionRef::Null, false)
        .await
        .expect("get null")
        .expect("the plain write is the null version");
    assert_eq!(null.parts, plain.parts);

    s.set_bucket_versioning(&b, SUSPENDED)
        .await
        .expect("suspend");
    let b = BucketRecord {
        versioning: SUSPENDED,
        ..b
    };
    let s1 = put(s, &b, "k", &blob_head(s, 5).await).await;
    assert_eq!(s1.version_id, None, "a suspended write is the null version");
    assert_eq!(
        summary(&all_versions(s, &b, "").await),
        vec![entry("k", &s1.etag, true), entry("k", &v1.etag, false)],
        "the noncurrent null version is gone, v1 stays"
    );
    let s2 = put(s, &b, "k", &blob_head(s, 6).await).await;
    assert_eq!(
        summary(&all_versions(s, &b, "").await),
        vec![entry("k", &s2.etag, true), entry("k", &v1.etag, false)],
        "the current null version is replaced"
    );
    let null_marker = put(s, &b, "k", &ObjectHead::delete_marker(None, 0)).await;
    assert_eq!(null_marker.version_id, None);
    assert_eq!(
        summary(&all_versions(s, &b, "").await),
        vec![marker("k", true), entry("k", &v1.etag, false)],
        "a suspended delete is a null marker that replaces the null version"
    );
}

/// `If-None-Match: *` and `If-Match` test the current version; a current
/// delete marker is no object. A failed condition writes nothing.
async fn conditions_see_the_current_version(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = versioned_bucket(s, "cond", ENABLED).await;
    let k = common::key("k");
    let v1 = put(s, &b, "k", &blob_head(s, 1).await).await;
    for cond in [
        WriteCondition::IfNoneMatch,
        WriteCondition::IfMatch("nope".into()),
    ] {
        let refused = s
            .put_version(b.id, &k, &blob_head(s, 2).await, ENABLED, &cond)
            .await;
        assert!(
            matches!(refused, Err(StorageError::PreconditionFailed)),
            "{cond:?}"
        );
    }
    assert_eq!(all_versions(s, &b, "").await.len(), 1, "nothing written");
    s.put_version(
        b.id,
        &k,
        &blob_head(s, 3).await,
        ENABLED,
        &WriteCondition::IfMatch(v1.etag.clone()),
    )
    .await
    .expect("if-match on the current version");
    put(s, &b, "k", &ObjectHead::delete_marker(None, 0)).await;
    s.put_version(
        b.id,
        &k,
        &blob_head(s, 4).await,
        ENABLED,
        &WriteCondition::IfNoneMatch,
    )
    .await
    .expect("if-none-match over a delete marker");
    assert_eq!(all_versions(s, &b, "").await.len(), 4);
}

/// Keys in byte order (a key that is a prefix of another first), each
/// key's versions newest first; pages from any version marker continue
/// exactly where the last page ended; a prefix bounds the keys.
async fn versions_page_by_key_then_newest_first(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = versioned_bucket(s, "paging", ENABLED).await;
    let keys = ["a", "a/b", "a\t", "b", "ab"];
    for (i, key) in keys.iter().enumerate() {
        for n in 0..=i {
            put(
                s,
                &b,
                key,
                &common::inline_head(&[n as u8], &format!("{key}#{n}")),
            )
            .await;
        }
    }
    // Only some keys have a current version that is an object.
    put(s, &b, "b", &ObjectHead::delete_marker(None, 0)).await;
    let all = all_versions(s, &b, "").await;
    let mut sorted_keys: Vec<&str> = keys.to_vec();
    sorted_keys.sort_unstable();
    let mut expected = Vec::new();
    for key in &sorted_keys {
        let i = keys.iter().position(|k| k == key).unwrap_or(0);
        if *key == "b" {
            expected.push(marker("b", true));
        }
        for n in (0..=i).rev() {
            let latest = n == i && *key != "b";
            expected.push(entry(key, &format!("{key}#{n}"), latest));
        }
    }
    assert_eq!(summary(&all), expected);

    for page in 1..=4 {
        let got = paged_versions(s, &b, page).await;
        assert_eq!(summary(&got), expected, "pages of {page}");
    }

    let after_a = s
        .list_versions(b.id, "", VersionsFrom::AfterKey("a"), 10_000)
        .await
        .expect("after key");
    assert_eq!(summary(&after_a), expected[1..].to_vec());
    // From a key, present or not: its versions (if any) and those after.
    let from = |k: &'static str| async move {
        let got = s.list_versions(b.id, "", VersionsFrom::FromKey(k), 10_000);
        summary(&got.await.expect("from key"))
    };
    let at = |k: &str| {
        expected
            .iter()
            .position(|e| e.0.as_str() >= k)
            .unwrap_or(expected.len())
    };
    assert_eq!(from("a/b").await, expected[at("a/b")..].to_vec());
    assert_eq!(from("a0").await, expected[at("a0")..].to_vec());
    assert_eq!(from("").await, expected);
    let within = s
        .list_versions(b.id, "a", VersionsFrom::FromKey("a\t"), 10_000)
        .await
        .expect("from a key within the prefix");
    let want: Vec<_> = expected[at("a\t")..]
        .iter()
        .filter(|e| e.0.starts_with('a'))
        .cloned()
        .collect();
    assert_eq!(summary(&within), want);
    let under_a = all_versions(s, &b, "a").await;
    assert_eq!(
        summary(&under_a),
        expected
            .iter()
            .filter(|e| e.0.starts_with('a'))
            .cloned()
            .collect::<Vec<_>>()
    );
    // A marker outside the prefix: nothing of its key, and only keys
    // after it within the prefix.
    let b_version = all
        .iter()
        .find(|e| e.key == "b" && !e.is_latest)
        .map(|e| e.head.version_ref())
        .expect("a noncurrent version of b");
    let outside = s
        .list_versions(b.id, "a", VersionsFrom::AfterVersion("b", &b_version), 100)
        .await
        .expect("after a version outside the prefix");
    assert!(outside.is_empty(), "{:?}", summary(&outside));
    let under_slash = all_versions(s, &b, "a/").await;
    assert_eq!(under_slash.len(), 2);
    assert!(under_slash.iter().all(|e| e.key == "a/b"));
}

/// Many keys with many versions, some deleted and some keys ending in a
/// delete marker: pages of any size give exactly the versions kept, in
/// order. Sized so that an index shard holds more rows than a small page
/// asks of it: Cassandra's per-shard cursors run dry and refill.
async fn long_listings_page_through_every_kept_version(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = versioned_bucket(s, "longlist", ENABLED).await;
    // Each key's version ids, newest first.
    let mut model: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for k in 0..40u8 {
        let key = format!("k{k:02}");
        let count = 3 + k % 6;
        for n in 0..count {
            let h = if k % 7 == 3 && n + 1 == count {
                ObjectHead::delete_marker(None, 0)
            } else {
                common::inline_head(&[n], "e")
            };
            let v = put(s, &b, &key, &h).await;
            let ids = model.entry(key.clone()).or_default();
            ids.insert(0, v.version_ref().to_string());
        }
        if k % 5 == 0 {
            let ids = model.get_mut(&key).expect("written");
            let gone = ids.remove(1);
            let gone = s3gw::types::VersionRef::parse(&gone).expect("an id");
            let deleted = s
                .delete_version(b.id, &common::key(&key), &gone)
                .await
                .expect("delete");
            assert!(deleted.is_some());
        }
    }
    let expected: Vec<(String, String, bool)> = model
        .iter()
        .flat_map(|(k, ids)| {
            ids.iter()
                .enumerate()
                .map(move |(i, id)| (k.clone(), id.clone(), i == 0))
        })
        .collect();
    for page in [7, 50, 1000] {
        let got: Vec<(String, String, bool)> = paged_versions(s, &b, page)
            .await
            .iter()
            .map(|e| (e.key.clone(), e.head.version_ref().to_string(), e.is_latest))
            .collect();
        assert_eq!(got.len(), expected.len(), "pages of {page}");
        assert_eq!(got, expected, "pages of {page}");
    }
}

/// A bucket holding only noncurrent versions, or only a delete marker, is
/// not empty.
async fn a_bucket_with_versions_is_not_empty(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = versioned_bucket(s, "notempty", ENABLED).await;
    let v = put(s, &b, "k", &blob_head(s, 1).await).await;
    let m = put(s, &b, "k", &ObjectHead::delete_marker(None, 0)).await;
    assert!(listed_keys(s, &b).await.is_empty());
    assert!(matches!(
        s.delete_bucket(&b).await,
        Err(StorageError::BucketNotEmpty)
    ));
    s.delete_version(b.id, &common::key("k"), &m.version_ref())
        .await
        .expect("delete marker");
    s.delete_version(b.id, &common::key("k"), &v.version_ref())
        .await
        .expect("delete version");
    s.delete_bucket(&b).await.expect("now empty");
}

/// fsck checks noncurrent versions (blobs and inline bytes) as it checks
/// current heads; the collector never takes their blobs; deleting a
/// version for good releases its blob, and the store stays consistent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_fsck_and_gc_know_noncurrent_versions() {
    use s3gw::storage::embedded::EmbeddedStorage;
    use s3gw::storage::Maintenance;
    use std::time::Duration;

    let dir = tempfile::tempdir().expect("tmp");
    let e = EmbeddedStorage::open(&dir.path().join("data"), Duration::ZERO).expect("open");
    let s: &dyn Storage = &e;
    let b = versioned_bucket(s, "fsck", ENABLED).await;
    let v1 = put(s, &b, "k", &blob_head(s, 1).await).await;
    put(s, &b, "k", &common::inline_head(b"two", "e2")).await;
    put(s, &b, "k", &ObjectHead::delete_marker(None, 0)).await;
    assert_eq!(e.collect_garbage().expect("collect"), 0, "nothing released");
    let r = e.fsck(Duration::ZERO).await.expect("fsck");
    assert!(r.consistent(), "{r}");
    assert_eq!(
        (
            r.objects,
            r.noncurrent_versions,
            r.referenced_blobs,
            r.inline_objects,
            r.unreferenced_blobs,
        ),
        (1, 2, 1, 1, 0),
        "{r}"
    );
    s.delete_version(b.id, &common::key("k"), &v1.version_ref())
        .await
        .expect("delete")
        .expect("existed");
    assert_eq!(e.collect_garbage().expect("collect"), 1, "v1's blob");
    let r = e.fsck(Duration::ZERO).await.expect("fsck");
    assert!(r.consistent(), "{r}");
    assert_eq!(
        (r.noncurrent_versions, r.referenced_blobs, r.stored_blobs),
        (1, 0, 0),
        "{r}"
    );
}

/// Starts an upload of `key` with two parts; the head that completes it.
async fn upload_of_two_parts(s: &dyn Storage, b: &BucketRecord, key: &str) -> (String, ObjectHead) {
    let rec = common::upload_record(key);
    s.create_upload(b.id, &rec).await.expect("create upload");
    let mut parts = Vec::new();
    for n in 1..=2u32 {
        let p = common::stored_blob(s, &common::test_owner(), n as u8, 100, 1024, 0..1).await;
        let id = common::upload_id(&rec.upload_id);
        s.put_part(
            b.id,
            &common::key(key),
            &id,
            &common::part_record(n, p.clone()),
        )
        .await
        .expect("part");
        parts.push(p);
    }
    let head = common::multipart_head(&rec.upload_id, parts, 1024, "mp-2");
    (rec.upload_id, head)
}

/// A Complete in a versioned bucket writes a new version as a PUT does:
/// a fresh id (enabled) or the null version (suspended), the version it
/// replaces kept; conditions see the current version (a delete marker is
/// no object), and a refused Complete leaves the upload for a retry.
async fn completing_an_upload_writes_a_version(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = versioned_bucket(s, "complete", ENABLED).await;
    let k = common::key("k");
    let v1 = put(s, &b, "k", &blob_head(s, 1).await).await;
    let (id, head) = upload_of_two_parts(s, &b, "k").await;
    let uid = common::upload_id(&id);
    let refused = s
        .complete_version(b.id, &k, &uid, &head, ENABLED, &WriteCondition::IfNoneMatch)
        .await;
    assert!(matches!(refused, Err(StorageError::PreconditionFailed)));
    assert!(s.get_upload(b.id, &k, &uid).await.expect("get").is_some());
    let unversioned = s
        .complete_version(
            b.id,
            &k,
            &uid,
            &head,
            VersioningState::Unversioned,
            &WriteCondition::None,
        )
        .await;
    assert!(
        unversioned.is_err(),
        "an unversioned Complete is complete_upload's"
    );

    let mp = s
        .complete_version(
            b.id,
            &k,
            &uid,
            &head,
            ENABLED,
            &WriteCondition::IfMatch(v1.etag.clone()),
        )
        .await
        .expect("complete over v1");
    assert!(mp.version_id.is_some() && mp.version_id != v1.version_id);
    assert!(mp.version_us > v1.version_us);
    assert_eq!(mp.parts, head.parts);
    assert!(s.get_upload(b.id, &k, &uid).await.expect("get").is_none());
    assert_eq!(
        summary(&all_versions(s, &b, "").await),
        vec![entry("k", &mp.etag, true), entry("k", &v1.etag, false)]
    );
    let current = s.get_object(b.id, &k).await.expect("get").expect("current");
    assert_eq!(current.version_id, mp.version_id);

    // Over a delete marker, If-None-Match holds.
    put(s, &b, "k", &ObjectHead::delete_marker(None, 0)).await;
    let (id2, head2) = upload_of_two_parts(s, &b, "k").await;
    let mp2 = s
        .complete_version(
            b.id,
            &k,
            &common::upload_id(&id2),
            &head2,
            ENABLED,
            &WriteCondition::IfNoneMatch,
        )
        .await
        .expect("complete over a delete marker");
    assert_eq!(all_versions(s, &b, "").await.len(), 4);

    // Suspended: the null version, which a later Complete replaces.
    s.set_bucket_versioning(&b, SUSPENDED)
        .await
        .expect("suspend");
    let mut nulls = Vec::new();
    for _ in 0..2 {
        let (id, head) = upload_of_two_parts(s, &b, "k").await;
        let written = s
            .complete_version(
                b.id,
                &k,
                &common::upload_id(&id),
                &head,
                SUSPENDED,
                &WriteCondition::None,
            )
            .await
            .expect("suspended complete");
        assert_eq!(written.version_id, None);
        nulls.push(written);
    }
    let summary_now = summary(&all_versions(s, &b, "").await);
    assert_eq!(
        summary_now,
        vec![
            entry("k", &nulls[1].etag, true),
            entry("k", &mp2.etag, false),
            marker("k", false),
            entry("k", &mp.etag, false),
            entry("k", &v1.etag, false),
        ]
    );
    let null = s
        .get_version(b.id, &k, &VersionRef::Null, false)
        .await
        .expect("get null")
        .expect("the null version");
    assert_eq!(
        null.parts, nulls[1].parts,
        "the second null replaced the first"
    );
}

fn tag_set(pairs: &[(&str, &str)]) -> s3gw::types::TagSet {
    let pairs = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    s3gw::types::TagSet::new(pairs, s3gw::types::MAX_OBJECT_TAGS).expect("valid tags")
}

/// `set_version_tags` changes the tags of the version named, current or
/// noncurrent, null or not, and nothing else of it or of the others.
async fn tags_of_any_version_change_alone(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = common::new_bucket(s, "version-tags").await;
    let k = common::key("k");
    // The null version, written before versioning was enabled.
    let plain = blob_head(s, 0).await;
    s.put_object(b.id, &k, &plain, &WriteCondition::None)
        .await
        .expect("plain put");
    s.set_bucket_versioning(&b, ENABLED).await.expect("enable");
    let b = BucketRecord {
        versioning: ENABLED,
        ..b
    };
    let v1 = put(s, &b, "k", &common::inline_head(b"one", "e1")).await;
    let v2 = put(s, &b, "k", &blob_head(s, 2).await).await;
    let read = |v: VersionRef| async move {
        s.get_version(b.id, &common::key("k"), &v, true)
            .await
            .expect("get")
            .expect("version")
    };
    let (null_ref, v1_ref, v2_ref) = (VersionRef::Null, v1.version_ref(), v2.version_ref());
    for (v, tag) in [(&v1_ref, "one"), (&null_ref, "null"), (&v2_ref, "current")] {
        let set = s
            .set_version_tags(b.id, &k, v, &tag_set(&[("t", tag)]))
            .await;
        assert!(set.expect("set tags"), "{v:?}");
    }
    let got_v1 = read(v1_ref.clone()).await;
    assert_eq!(got_v1.tags, tag_set(&[("t", "one")]));
    assert_eq!(
        got_v1.inline.and_then(|i| i.bytes),
        Some(bytes::Bytes::from_static(b"one"))
    );
    assert_eq!(got_v1.version_us, v1.version_us);
    let got_null = read(null_ref.clone()).await;
    assert_eq!(got_null.tags, tag_set(&[("t", "null")]));
    assert_eq!(got_null.parts, plain.parts);
    let current = s.get_object(b.id, &k).await.expect("get").expect("current");
    assert_eq!(current.tags, tag_set(&[("t", "current")]));
    assert_eq!(
        (current.version_id, current.parts),
        (v2.version_id.clone(), v2.parts.clone())
    );
    let gone = VersionRef::Id(s3gw::types::VersionId::new(1));
    assert!(!s
        .set_version_tags(b.id, &k, &gone, &tag_set(&[]))
        .await
        .expect("set"));
    // The tags travel with the version: deleting v2 makes v1 current,
    // tags and all.
    s.delete_version(b.id, &k, &v2_ref)
        .await
        .expect("delete v2");
    let current = s.get_object(b.id, &k).await.expect("get").expect("current");
    assert_eq!(current.version_id, v1.version_id);
    assert_eq!(current.tags, tag_set(&[("t", "one")]));
    assert_eq!(all_versions(s, &b, "").await.len(), 2);
}
