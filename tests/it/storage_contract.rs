//! The `Storage` contract, exercised directly on each backend: the rules
//! the S3 layer relies on, including races that requests cannot stage
//! deterministically. Every scenario is written against the trait and runs
//! on the embedded store and on Cassandra (`S3GW_TEST_CASSANDRA`).

use crate::common;

use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::records::ContentHeaders;
use s3gw::storage::{
    BlobId, BucketRecord, ChunkAddr, HeadStamp, Maintenance, ObjectHead, PartRecord, PartRef,
    Storage, StorageError, UploadRecord, WriteCondition,
};
use s3gw::types::{TagSet, MAX_OBJECT_TAGS};

// Each scenario runs on both backends (`on_both_backends!`, tests/it/main.rs).
on_both_backends!(
    complete_refuses_a_part_replaced_after_it_was_chosen,
    conditional_writes_and_listing_order,
    listing_pages_through_keys_in_byte_order,
    concurrent_if_none_match_has_one_winner,
    parts_keep_their_latest_version_and_abort_ends_the_upload,
    uploads_list_by_key_then_id,
    complete_racing_abort_has_one_winner,
    conditional_complete_writes_nothing_and_keeps_the_upload,
    concurrent_conditional_completes_have_one_winner,
    inline_objects_live_and_die_with_their_head,
    object_tags_change_nothing_else,
    tag_changes_racing_overwrites_leave_a_whole_head,
    conditional_deletes_spare_what_changed,
    lifecycle_rules_are_kept_with_the_bucket,
    cors_rules_are_kept_with_the_bucket,
    creating_an_existing_name_changes_nothing,
);

/// A name no other test run uses: bucket names and upload ids are global
/// in a shared keyspace.
/// A new upload id, of the one form the gateway hands out.
fn new_upload_id() -> String {
    s3gw::types::UploadId::generate().to_string()
}

fn unique(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4().simple())
}

async fn bucket(s: &dyn Storage, name: &str) -> BucketRecord {
    let b = BucketRecord::new(&unique(name), "us-east-1", "");
    s.create_bucket(&b).await.expect("create bucket");
    b
}

async fn blob(s: &dyn Storage, data: &'static [u8]) -> PartRef {
    let id = BlobId::new();
    s.begin_blob(id, &common::test_owner())
        .await
        .expect("begin");
    s.put_chunk(
        ChunkAddr {
            blob: id,
            index: 0,
            chunk_size: 1024,
        },
        Bytes::from_static(data),
    )
    .await
    .expect("chunk");
    s.seal_blob(id).await.expect("seal");
    PartRef {
        blob: id,
        size: data.len() as u64,
        etag: "e".into(),
        checksum: None,
        chunk_size: Some(1024),
    }
}

fn head(parts: Vec<PartRef>, etag: &str, upload_id: Option<&str>) -> ObjectHead {
    ObjectHead {
        size: parts.iter().map(|p| p.size).sum(),
        etag: etag.into(),
        last_modified_ms: 0,
        chunk_size: 1024,
        parts,
        multipart: upload_id.is_some(),
        upload_id: upload_id.map(str::to_owned),
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

/// An inline object's bytes, as a read with them returns them.
async fn inline_bytes(s: &dyn Storage, b: &BucketRecord, key: &str) -> Option<Vec<u8>> {
    let h = s
        .get_object_data(b.id, &common::key(key))
        .await
        .expect("get");
    let inline = h.expect("the object").inline?;
    let data = inline.bytes.expect("a read with data carries the bytes");
    assert_eq!(s3gw::storage::chunk_crc(&data), inline.crc, "{key}");
    Some(data.to_vec())
}

/// Inline objects: read with their bytes only when asked (never in a
/// listing), replaced by and replacing blob heads and multipart heads
/// without a stale byte left, deleted with their head, and held to
/// conditions like any head.
async fn inline_objects_live_and_die_with_their_head(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = bucket(s, "inline").await;
    let k = common::key("small");
    let put = |h: ObjectHead, cond: WriteCondition| async move {
        s.put_object(b.id, &common::key("small"), &h, &cond).await
    };
    let small = common::inline_head(b"first bytes", "e1");
    put(small.clone(), WriteCondition::IfNoneMatch)
        .await
        .expect("put inline");
    let plain = s.get_object(b.id, &k).await.expect("get").expect("small");
    let inline = plain.inline.as_ref().expect("an inline head");
    assert!(inline.bytes.is_none(), "a head read carries no bytes");
    assert_eq!((plain.size, plain.etag.as_str()), (11, "e1"));
    assert_eq!(
        inline_bytes(s, &b, "small").await.as_deref(),
        Some(&b"first bytes"[..])
    );
    let listed = s
        .list_objects(b.id, "", Bound::Unbounded, 10)
        .await
        .expect("list");
    assert_eq!(keys(listed.clone()), vec!["small".to_owned()]);
    let listed = listed[0]
        .head
        .inline
        .as_ref()
        .expect("inline in the listing");
    assert!(listed.bytes.is_none(), "a listing carries no bytes");

    // Conditions hold over inline heads as over any.
    let r = put(common::inline_head(b"x", "e2"), WriteCondition::IfNoneMatch).await;
    assert!(matches!(r, Err(StorageError::PreconditionFailed)), "{r:?}");
    let r = put(
        common::inline_head(b"x", "e2"),
        WriteCondition::IfMatch("no".into()),
    )
    .await;
    assert!(matches!(r, Err(StorageError::PreconditionFailed)), "{r:?}");
    put(
        common::inline_head(b"second", "e2"),
        WriteCondition::IfMatch("e1".into()),
    )
    .await
    .expect("if-match");
    assert_eq!(
        inline_bytes(s, &b, "small").await.as_deref(),
        Some(&b"second"[..])
    );

    // A blob head over it, plain and conditional, then inline again.
    let p = blob(s, b"blob bytes").await;
    put(
        head(vec![p.clone()], "e3", None),
        WriteCondition::IfMatch("e2".into()),
    )
    .await
    .expect("blob over inline");
    assert_eq!(inline_bytes(s, &b, "small").await, None);
    put(common::inline_head(b"third", "e4"), WriteCondition::None)
        .await
        .expect("inline over blob");
    assert_eq!(
        inline_bytes(s, &b, "small").await.as_deref(),
        Some(&b"third"[..])
    );
    let p = blob(s, b"blob bytes").await;
    put(head(vec![p], "e5", None), WriteCondition::None)
        .await
        .expect("plain blob over inline");
    assert_eq!(inline_bytes(s, &b, "small").await, None);

    // A multipart head over an inline one.
    put(common::inline_head(b"fourth", "e6"), WriteCondition::None)
        .await
        .expect("inline again");
    let (id, mp) = two_part_upload(s, &b, "small").await;
    s.complete_upload(
        b.id,
        &k,
        &common::upload_id(&id),
        &mp,
        &WriteCondition::None,
    )
    .await
    .expect("complete over inline");
    assert_eq!(inline_bytes(s, &b, "small").await, None);
    assert_eq!(
        s.get_object(b.id, &k).await.expect("get").map(|h| h.etag),
        Some(mp.etag)
    );

    // Deleted with its head: a blob head written after has no bytes.
    put(common::inline_head(b"fifth", "e7"), WriteCondition::None)
        .await
        .expect("inline again");
    assert!(s
        .delete_object(b.id, &k, &WriteCondition::None)
        .await
        .expect("delete"));
    assert!(s.get_object_data(b.id, &k).await.expect("get").is_none());
    let p = blob(s, b"blob bytes").await;
    put(head(vec![p], "e8", None), WriteCondition::IfNoneMatch)
        .await
        .expect("blob after delete");
    assert_eq!(inline_bytes(s, &b, "small").await, None);
}

fn tags(pairs: &[(&str, &str)]) -> TagSet {
    let pairs = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    TagSet::new(pairs, MAX_OBJECT_TAGS).expect("valid tags")
}

/// `set_object_tags` changes the tags of the current head and nothing
/// else (its blobs, inline bytes, ETag, times), on blob and inline heads;
/// a missing key stays missing; conditions and listings see the tagged
/// head; the next write of the key brings its own tags.
async fn object_tags_change_nothing_else(s: Arc<dyn Storage>) {
    let s = s.as_ref();
    let b = bucket(s, "tags").await;
    let p = blob(s, b"blob bytes").await;
    let mut blobbed = head(vec![p], "e1", None);
    blobbed.last_modified_ms = 1_700_000_000_000;
    let heads = [
        ("blobbed", blobbed),
        ("inline", common::inline_head(b"inline bytes", "e2")),
    ];
    let set = tags(&[("a", "1"), ("b", "")]);
    for (name, h) in &heads {
        let k = common::key(name);
        s.put_object(b.id, &k, h, &WriteCondition::None)
            .await
            .expect("put");
        assert!(s.set_object_tags(b.id, &k, &set).await.expect("tags"));
        let got = s.get_object_data(b.id, &k).await.expect("get").expect(name);
        assert_eq!(got.tags, set, "{name}");
        let mut expected = h.clone();
        expected.tags = set.clone();
        assert_eq!(got, expected, "{name}: the head changed only in its tags");
    }
    let listed = s
        .list_objects(b.id, "", Bound::Unbounded, 10)
        .await
        .expect("list");
    assert!(
        listed.iter().all(|e| e.head.tags == set),
        "listed with tags"
    );

    let k = common::key("inline");
    assert!(s
        .set_object_tags(b.id, &k, &TagSet::default())
        .await
        .expect("clear"));
    let got = s.get_object(b.id, &k).await.expect("get").expect("inline");
    assert!(got.tags.is_empty());
    assert_eq!(
        inline_bytes(s, &b, "inline").await.as_deref(),
        Some(&b"inline bytes"[..])
    );

    // A missing key: nothing is made.
    let gone = common::key("gone");
    assert!(!s.set_object_tags(b.id, &gone, &set).await.expect("tags"));
    assert!(s.get_object(b.id, &gone).await.expect("get").is_none());

    // A conditional write over a tagged head (its ETag is the one
    // If-Match names), then a plain one: each new head has only its own
    // tags.
    let k = common::key("blobbed");
    s.set_object_tags(b.id, &k, &set).await.expect("tags");
    let mut next = common::inline_head(b"next", "e3");
    next.tags = tags(&[("next", "yes")]);
    s.put_object(b.id, &k, &next, &WriteCondition::IfMatch("e1".into()))
        .await
        .expect("if-match over a tagged head");
    let got = s.get_object(b.id, &k).await.expect("get").expect("head");
    assert_eq!(got.tags, next.tags);
    s.put_object(
        b.id,
        &k,
        &common::inline_head(b"last", "e4"),
        &WriteCondition::None,
    )
    .await
    .expect("plain");
    let got = s.get_object(b.id, &k).await.expect("get").expect("head");
    assert!(got.tags.is_empty(), "{got:?}");
}

/// Tag changes racing overwrites of the same key, inline and blob heads
/// in turn: whichever wins, the current head is one that was written
/// whole (never the parts or bytes of one under another's ETag), with the
/// round's tags or none, and an inline head's bytes match their checksum.
async fn tag_changes_racing_overwrites_leave_a_whole_head(s: Arc<dyn Storage>) {
    const BODIES: [&[u8]; 3] = [b"first", b"second body", b"third, longer body"];
    let b = bucket(s.as_ref(), "tagrace").await;
    let k = common::key("k");
    let first = common::inline_head(BODIES[0], "e0");
    s.put_object(b.id, &k, &first, &WriteCondition::None)
        .await
        .expect("put");
    let mut written = vec![first];
    for round in 1..=8usize {
        let etag = format!("e{round}");
        let next = if round % 2 == 0 {
            common::inline_head(BODIES[round % 3], &etag)
        } else {
            head(vec![blob(s.as_ref(), BODIES[round % 3]).await], &etag, None)
        };
        written.push(next.clone());
        let round_tags = tags(&[("round", &round.to_string())]);
        let (tagged, put) = tokio::join!(
            s.set_object_tags(b.id, &k, &round_tags),
            s.put_object(b.id, &k, &next, &WriteCondition::None),
        );
        assert!(tagged.expect("tags"), "round {round}: the key exists");
        put.expect("put");
        let mut current = s
            .get_object_data(b.id, &k)
            .await
            .expect("get")
            .expect("head");
        assert!(
            current.tags.is_empty() || current.tags == round_tags,
            "round {round}: {:?}",
            current.tags
        );
        if let Some(inline) = &current.inline {
            let data = inline.bytes.as_ref().expect("bytes");
            assert_eq!(s3gw::storage::chunk_crc(data), inline.crc, "round {round}");
        }
        current.tags = TagSet::default();
        assert!(
            written.contains(&current),
            "round {round}: a head nobody wrote: {current:?}"
        );
    }
}

fn upload(id: &str, key: &str) -> UploadRecord {
    UploadRecord {
        upload_id: id.into(),
        key: key.into(),
        initiated_ms: 0,
        content: ContentHeaders::default(),
        user_meta: Default::default(),
        tags: Default::default(),
        checksum_algorithm: None,
        checksum_type: None,
    }
}

async fn complete_refuses_a_part_replaced_after_it_was_chosen(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "race").await;
    let u1 = new_upload_id();
    let u1 = u1.as_str();
    s.create_upload(b.id, &upload(u1, "k"))
        .await
        .expect("upload");
    let first = blob(s.as_ref(), b"first").await;
    s.put_part(
        b.id,
        &common::key("k"),
        &common::upload_id(u1),
        &PartRecord {
            part_number: 1,
            last_modified_ms: 0,
            data: first.clone(),
        },
    )
    .await
    .expect("part");
    // Complete chose `first`; then part 1 is uploaded again before the commit.
    let chosen = head(vec![first.clone()], "x-1", Some(u1));
    let second = blob(s.as_ref(), b"second").await;
    s.put_part(
        b.id,
        &common::key("k"),
        &common::upload_id(u1),
        &PartRecord {
            part_number: 1,
            last_modified_ms: 0,
            data: second.clone(),
        },
    )
    .await
    .expect("part again");
    let e = s
        .complete_upload(
            b.id,
            &common::key("k"),
            &common::upload_id(u1),
            &chosen,
            &WriteCondition::None,
        )
        .await
        .expect_err("stale part");
    assert!(matches!(e, StorageError::PartChanged), "{e:?}");
    // Nothing was written and the upload is intact.
    assert!(s
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get")
        .is_none());
    assert!(s
        .get_upload(b.id, &common::key("k"), &common::upload_id(u1))
        .await
        .expect("get upload")
        .is_some());
    let parts = s
        .list_parts(&common::upload_id(u1), 0, 10)
        .await
        .expect("parts");
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].data.blob, second.blob);
    // Completing with the current part works.
    s.complete_upload(
        b.id,
        &common::key("k"),
        &common::upload_id(u1),
        &head(vec![second.clone()], "y-1", Some(u1)),
        &WriteCondition::None,
    )
    .await
    .expect("complete");
    let got = s
        .get_chunk(ChunkAddr {
            blob: second.blob,
            index: 0,
            chunk_size: 1024,
        })
        .await
        .expect("chunk");
    assert_eq!(got.as_ref(), b"second");
    let e = s
        .complete_upload(
            b.id,
            &common::key("k"),
            &common::upload_id(u1),
            &head(vec![second], "y-1", Some(u1)),
            &WriteCondition::None,
        )
        .await
        .expect_err("gone");
    assert!(matches!(e, StorageError::NoSuchUpload));
}

/// The lifecycle worker's delete: only the head that was read, never one
/// written or changed since; unconditional deletes as before.
async fn conditional_deletes_spare_what_changed(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "cond-delete").await;
    let k = common::key("k");
    let mut first = head(vec![blob(s.as_ref(), b"one").await], "e1", None);
    first.last_modified_ms = 1_000;
    s.put_object(b.id, &k, &first, &WriteCondition::None)
        .await
        .expect("first");
    let seen = s.get_object(b.id, &k).await.expect("get").expect("there");
    let stamp = WriteCondition::IfUnchanged(HeadStamp::of(&seen));
    // Overwritten with the same ETag at another time: not what was read.
    let mut second = head(vec![blob(s.as_ref(), b"two").await], "e1", None);
    second.last_modified_ms = 2_000;
    s.put_object(b.id, &k, &second, &WriteCondition::None)
        .await
        .expect("second");
    let e = s
        .delete_object(b.id, &k, &stamp)
        .await
        .expect_err("changed");
    assert!(matches!(e, StorageError::PreconditionFailed), "{e:?}");
    let now = s.get_object(b.id, &k).await.expect("get").expect("kept");
    assert_eq!(now.last_modified_ms, 2_000);
    // Unchanged: deleted.
    let current = WriteCondition::IfUnchanged(HeadStamp::of(&now));
    assert!(s.delete_object(b.id, &k, &current).await.expect("delete"));
    assert!(s.get_object(b.id, &k).await.expect("get").is_none());
    // Nothing there: nothing the condition could name.
    let e = s.delete_object(b.id, &k, &current).await.expect_err("gone");
    assert!(matches!(e, StorageError::PreconditionFailed), "{e:?}");
    assert!(!s
        .delete_object(b.id, &k, &WriteCondition::None)
        .await
        .expect("unconditional"));
}

/// A bucket's lifecycle rules are stored with it, replaced and removed.
async fn lifecycle_rules_are_kept_with_the_bucket(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "lc-record").await;
    let config = s3gw::s3::lifecycle_xml::parse_lifecycle(
        b"<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>logs/</Prefix></Filter>\
          <Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>\
          </LifecycleConfiguration>",
    )
    .expect("rules");
    s.set_bucket_lifecycle(&b, Some(&config))
        .await
        .expect("set");
    let read = s.get_bucket(&b.name).await.expect("get").expect("bucket");
    assert_eq!(read.lifecycle.as_ref(), Some(&config));
    let listed = s.list_buckets().await.expect("list");
    let mine = listed.iter().find(|r| r.name == b.name).expect("listed");
    assert_eq!(mine.lifecycle.as_ref(), Some(&config));
    s.set_bucket_lifecycle(&b, None).await.expect("remove");
    let read = s.get_bucket(&b.name).await.expect("get").expect("bucket");
    assert_eq!(read.lifecycle, None);
    // Another incarnation of the name is not this bucket.
    let mut other = b.clone();
    other.id = s3gw::storage::BucketId::new();
    let e = s
        .set_bucket_lifecycle(&other, Some(&config))
        .await
        .expect_err("another incarnation");
    assert!(matches!(e, StorageError::NoSuchBucket), "{e:?}");
}

/// A bucket's CORS rules are stored with it, beside its other
/// configurations, replaced and removed.
async fn cors_rules_are_kept_with_the_bucket(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "cors-record").await;
    let lifecycle = s3gw::s3::lifecycle_xml::parse_lifecycle(
        b"<LifecycleConfiguration><Rule><ID>r</ID><Filter/>\
          <Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>\
          </LifecycleConfiguration>",
    )
    .expect("rules");
    s.set_bucket_lifecycle(&b, Some(&lifecycle))
        .await
        .expect("set lifecycle");
    let cors = s3gw::s3::cors_xml::parse_cors(
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>\
          <AllowedOrigin>https://*.example.com</AllowedOrigin><ExposeHeader>ETag</ExposeHeader>\
          <MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>",
    )
    .expect("cors");
    s.set_bucket_cors(&b, Some(&cors)).await.expect("set");
    let read = s.get_bucket(&b.name).await.expect("get").expect("bucket");
    assert_eq!(read.cors.as_ref(), Some(&cors));
    assert_eq!(read.lifecycle.as_ref(), Some(&lifecycle));
    let listed = s.list_buckets().await.expect("list");
    let mine = listed.iter().find(|r| r.name == b.name).expect("listed");
    assert_eq!(mine.cors.as_ref(), Some(&cors));
    s.set_bucket_cors(&b, None).await.expect("remove");
    let read = s.get_bucket(&b.name).await.expect("get").expect("bucket");
    assert_eq!(read.cors, None);
    assert_eq!(read.lifecycle.as_ref(), Some(&lifecycle));
    let mut other = b.clone();
    other.id = s3gw::storage::BucketId::new();
    let e = s
        .set_bucket_cors(&other, Some(&cors))
        .await
        .expect_err("another incarnation");
    assert!(matches!(e, StorageError::NoSuchBucket), "{e:?}");
}

/// CreateBucket of a name that exists answers with the existing record and
/// writes nothing: S3's re-create of an owned bucket (200 in us-east-1)
/// must not reset it.
async fn creating_an_existing_name_changes_nothing(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "recreate").await;
    s.set_policy(&b, Some(r#"{"Version":"2012-10-17","Statement":[]}"#))
        .await
        .expect("policy");
    s.set_bucket_versioning(&b, s3gw::types::VersioningState::Enabled)
        .await
        .expect("versioning");
    let p = blob(s.as_ref(), b"kept").await;
    s.put_object(
        b.id,
        &common::key("k"),
        &head(vec![p], "e1", None),
        &WriteCondition::None,
    )
    .await
    .expect("put");
    let before = s.get_bucket(&b.name).await.expect("get").expect("bucket");
    // The same name, as a new CreateBucket builds it (new id, same owner).
    let again = BucketRecord::new(&b.name, "us-east-1", "");
    match s.create_bucket(&again).await {
        Err(StorageError::BucketExists(existing)) => {
            assert_eq!(existing.id, b.id);
            assert_eq!(existing.owner, b.owner);
        }
        other => panic!("re-create answered {other:?}"),
    }
    let after = s.get_bucket(&b.name).await.expect("get").expect("bucket");
    assert_eq!(after.id, before.id);
    assert_eq!(after.created_ms, before.created_ms);
    assert_eq!(after.policy, before.policy);
    assert_eq!(after.versioning, s3gw::types::VersioningState::Enabled);
    let listed = s
        .list_objects(b.id, "", Bound::Unbounded, 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "the object is still there");
}

async fn conditional_writes_and_listing_order(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "cond").await;
    let p = blob(s.as_ref(), b"data").await;
    s.put_object(
        b.id,
        &common::key("k"),
        &head(vec![p.clone()], "e1", None),
        &WriteCondition::IfNoneMatch,
    )
    .await
    .expect("first");
    let e = s
        .put_object(
            b.id,
            &common::key("k"),
            &head(vec![p.clone()], "e2", None),
            &WriteCondition::IfNoneMatch,
        )
        .await
        .expect_err("exists");
    assert!(matches!(e, StorageError::PreconditionFailed));
    let e = s
        .put_object(
            b.id,
            &common::key("k"),
            &head(vec![p.clone()], "e2", None),
            &WriteCondition::IfMatch("zz".into()),
        )
        .await
        .expect_err("wrong etag");
    assert!(matches!(e, StorageError::PreconditionFailed));
    s.put_object(
        b.id,
        &common::key("k"),
        &head(vec![p.clone()], "e2", None),
        &WriteCondition::IfMatch("e1".into()),
    )
    .await
    .expect("if-match");
    for k in ["b", "a/2", "a/1", "é", "z"] {
        s.put_object(
            b.id,
            &common::key(k),
            &head(vec![], "e", None),
            &WriteCondition::None,
        )
        .await
        .expect("put");
    }
    let all: Vec<String> = s
        .list_objects(b.id, "", Bound::Unbounded, 100)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(all, ["a/1", "a/2", "b", "k", "z", "é"]);
    let after: Vec<String> = s
        .list_objects(b.id, "a/", Bound::Excluded("a/1"), 100)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(after, ["a/2"]);
    let e = s.delete_bucket(&b).await.expect_err("not empty");
    assert!(matches!(e, StorageError::BucketNotEmpty));
}

fn keys(entries: Vec<s3gw::storage::ListEntry>) -> Vec<String> {
    entries.into_iter().map(|e| e.key).collect()
}

async fn listing_pages_through_keys_in_byte_order(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "pages").await;
    let mut all: Vec<String> = Vec::new();
    for d in ["a", "d1", "d2", "é", "z\u{10000}"] {
        for i in 0..40 {
            all.push(format!("{d}/{i:03}"));
        }
    }
    all.push("d1".into());
    all.push("d1.".into());
    for k in &all {
        s.put_object(
            b.id,
            &common::key(k),
            &head(vec![], "e", None),
            &WriteCondition::None,
        )
        .await
        .expect("put");
    }
    all.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    // Page through everything, 7 at a time, resuming after the last key.
    let mut seen: Vec<String> = Vec::new();
    loop {
        let after = seen.last().cloned();
        let bound = match &after {
            Some(k) => Bound::Excluded(k.as_str()),
            None => Bound::Unbounded,
        };
        let page = keys(s.list_objects(b.id, "", bound, 7).await.expect("list"));
        assert!(page.len() <= 7);
        if page.is_empty() {
            break;
        }
        seen.extend(page);
    }
    assert_eq!(seen, all);
    // A prefix, from an inclusive start inside it.
    let d1: Vec<String> = all
        .iter()
        .filter(|k| k.starts_with("d1/") && k.as_str() >= "d1/010")
        .cloned()
        .collect();
    let got = keys(
        s.list_objects(b.id, "d1/", Bound::Included("d1/010"), 1000)
            .await
            .expect("list"),
    );
    assert_eq!(got, d1);
    // A start before the prefix is the prefix itself; a limit cuts.
    let got = keys(
        s.list_objects(b.id, "d1", Bound::Excluded("a"), 3)
            .await
            .expect("list"),
    );
    assert_eq!(got, ["d1", "d1.", "d1/000"]);
    assert!(s
        .list_objects(b.id, "nothing", Bound::Unbounded, 10)
        .await
        .expect("list")
        .is_empty());
}

async fn concurrent_if_none_match_has_one_winner(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "race-create").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.put_object(
                b.id,
                &common::key("only-once"),
                &head(vec![], &format!("e{i}"), None),
                &WriteCondition::IfNoneMatch,
            )
            .await
            .map(|_| format!("e{i}"))
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(etag) => winners.push(etag),
            Err(StorageError::PreconditionFailed) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = s
        .get_object(b.id, &common::key("only-once"))
        .await
        .expect("get")
        .expect("head");
    assert_eq!(stored.etag, winners[0]);
    // If-Match against the winner's ETag succeeds once; the old ETag fails.
    s.put_object(
        b.id,
        &common::key("only-once"),
        &head(vec![], "next", None),
        &WriteCondition::IfMatch(winners[0].clone()),
    )
    .await
    .expect("if-match");
    let e = s
        .put_object(
            b.id,
            &common::key("only-once"),
            &head(vec![], "again", None),
            &WriteCondition::IfMatch(winners[0].clone()),
        )
        .await
        .expect_err("stale etag");
    assert!(matches!(e, StorageError::PreconditionFailed));
    assert!(s
        .delete_object(b.id, &common::key("only-once"), &WriteCondition::None)
        .await
        .expect("delete"));
    assert!(!s
        .delete_object(b.id, &common::key("only-once"), &WriteCondition::None)
        .await
        .expect("delete"));
    let e = s
        .put_object(
            b.id,
            &common::key("only-once"),
            &head(vec![], "x", None),
            &WriteCondition::IfMatch("next".into()),
        )
        .await
        .expect_err("gone");
    assert!(matches!(e, StorageError::PreconditionFailed));
}

fn part(n: u32, ms: i64, data: PartRef) -> PartRecord {
    PartRecord {
        part_number: n,
        last_modified_ms: ms,
        data,
    }
}

async fn parts_keep_their_latest_version_and_abort_ends_the_upload(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "parts").await;
    let id = new_upload_id();
    s.create_upload(b.id, &upload(&id, "obj"))
        .await
        .expect("create");
    let mut latest = Vec::new();
    for n in 1..=4u32 {
        let p = blob(s.as_ref(), b"part").await;
        s.put_part(
            b.id,
            &common::key("obj"),
            &common::upload_id(&id),
            &part(n, 10, p.clone()),
        )
        .await
        .expect("part");
        latest.push(p);
    }
    // Part 2 again, later: it replaces the first version.
    let again = blob(s.as_ref(), b"part two").await;
    s.put_part(
        b.id,
        &common::key("obj"),
        &common::upload_id(&id),
        &part(2, 20, again.clone()),
    )
    .await
    .expect("part again");
    latest[1] = again;
    let first = s
        .list_parts(&common::upload_id(&id), 0, 2)
        .await
        .expect("parts");
    let numbers: Vec<u32> = first.iter().map(|p| p.part_number).collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(first[1].data.blob, latest[1].blob);
    let rest = s
        .list_parts(&common::upload_id(&id), 2, 100)
        .await
        .expect("parts");
    let blobs: Vec<_> = rest.iter().map(|p| p.data.blob).collect();
    assert_eq!(blobs, [latest[2].blob, latest[3].blob]);
    // A part for an upload that does not exist.
    let stray = blob(s.as_ref(), b"x").await;
    let e = s
        .put_part(
            b.id,
            &common::key("obj"),
            &common::upload_id(&new_upload_id()),
            &part(1, 0, stray),
        )
        .await
        .expect_err("no upload");
    assert!(matches!(e, StorageError::NoSuchUpload));
    s.abort_upload(b.id, &common::key("obj"), &common::upload_id(&id))
        .await
        .expect("abort");
    assert!(s
        .get_upload(b.id, &common::key("obj"), &common::upload_id(&id))
        .await
        .expect("get")
        .is_none());
    assert!(s
        .list_parts(&common::upload_id(&id), 0, 100)
        .await
        .expect("parts")
        .is_empty());
    let e = s
        .abort_upload(b.id, &common::key("obj"), &common::upload_id(&id))
        .await
        .expect_err("gone");
    assert!(matches!(e, StorageError::NoSuchUpload));
    let late = blob(s.as_ref(), b"late").await;
    let e = s
        .put_part(
            b.id,
            &common::key("obj"),
            &common::upload_id(&id),
            &part(5, 30, late),
        )
        .await
        .expect_err("aborted");
    assert!(matches!(e, StorageError::NoSuchUpload));
}

/// Starts an upload of two parts on `key`; returns its id and the head a
/// Complete of both parts writes.
async fn two_part_upload(s: &dyn Storage, b: &BucketRecord, key: &str) -> (String, ObjectHead) {
    let id = new_upload_id();
    s.create_upload(b.id, &upload(&id, key))
        .await
        .expect("create");
    let mut parts = Vec::new();
    for n in 1..=2u32 {
        let p = blob(s, b"racing part").await;
        s.put_part(
            b.id,
            &common::key(key),
            &common::upload_id(&id),
            &part(n, 10, p.clone()),
        )
        .await
        .expect("part");
        parts.push(p);
    }
    let h = head(parts, "e-2", Some(&id));
    (id, h)
}

/// Complete and Abort of one upload, at the same moment, several times:
/// exactly one wins each time, and the object exists exactly when Complete
/// won. Returns the keys of the completed objects.
async fn race_complete_and_abort(s: &Arc<dyn Storage>, b: &BucketRecord) -> Vec<String> {
    let mut completed = Vec::new();
    for i in 0..6 {
        let key = format!("race-{i}");
        let (id, h) = two_part_upload(s.as_ref(), b, &key).await;
        let bid = b.id;
        let (c, a) = tokio::join!(
            {
                let (s, key, id, h) = (s.clone(), key.clone(), id.clone(), h.clone());
                tokio::spawn(async move {
                    s.complete_upload(
                        bid,
                        &common::key(&key),
                        &common::upload_id(&id),
                        &h,
                        &WriteCondition::None,
                    )
                    .await
                })
            },
            {
                let (s, key, id) = (s.clone(), key.clone(), id.clone());
                tokio::spawn(async move {
                    s.abort_upload(bid, &common::key(&key), &common::upload_id(&id))
                        .await
                })
            }
        );
        let (c, a) = (c.expect("join"), a.expect("join"));
        let lost = |r: &Result<(), StorageError>| {
            matches!(r, Err(StorageError::NoSuchUpload | StorageError::Busy(_)))
        };
        assert!(
            (c.is_ok() && lost(&a)) || (a.is_ok() && lost(&c)),
            "round {i}: complete {c:?}, abort {a:?}"
        );
        let obj = s.get_object(b.id, &common::key(&key)).await.expect("get");
        assert_eq!(obj.is_some(), c.is_ok(), "round {i}");
        assert!(s
            .get_upload(b.id, &common::key(&key), &common::upload_id(&id))
            .await
            .expect("get")
            .is_none());
        if c.is_ok() {
            completed.push(key);
        }
    }
    completed
}

async fn complete_racing_abort_has_one_winner(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "race").await;
    race_complete_and_abort(&s, &b).await;
}

/// An upload of one part on `key`; returns its id and the head its
/// Complete writes, with ETag `etag`.
async fn one_part_upload(
    s: &dyn Storage,
    b: &BucketRecord,
    key: &str,
    etag: &str,
) -> (String, ObjectHead) {
    let id = new_upload_id();
    s.create_upload(b.id, &upload(&id, key))
        .await
        .expect("create");
    let p = blob(s, b"conditional part").await;
    s.put_part(
        b.id,
        &common::key(key),
        &common::upload_id(&id),
        &part(1, 10, p.clone()),
    )
    .await
    .expect("part");
    let h = head(vec![p], etag, Some(&id));
    (id, h)
}

/// The upload is still there with its one part, ready for another try.
async fn assert_intact(s: &dyn Storage, b: &BucketRecord, key: &str, id: &str, h: &ObjectHead) {
    assert!(
        s.get_upload(b.id, &common::key(key), &common::upload_id(id))
            .await
            .expect("get")
            .is_some(),
        "the upload of {key} is gone"
    );
    let parts = s
        .list_parts(&common::upload_id(id), 0, 10)
        .await
        .expect("parts");
    let blobs: Vec<BlobId> = parts.iter().map(|p| p.data.blob).collect();
    assert_eq!(blobs, h.blobs().collect::<Vec<_>>());
}

async fn etag_of(s: &dyn Storage, b: &BucketRecord, key: &str) -> Option<String> {
    s.get_object(b.id, &common::key(key))
        .await
        .expect("get")
        .map(|h| h.etag)
}

/// A Complete whose condition fails writes nothing and leaves its upload,
/// which completes afterwards under a condition that holds (or none).
async fn conditional_complete_writes_nothing_and_keeps_the_upload(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "cond-complete").await;
    let old = blob(s.as_ref(), b"old").await;
    s.put_object(
        b.id,
        &common::key("k"),
        &head(vec![old], "old", None),
        &WriteCondition::None,
    )
    .await
    .expect("put");
    let (id, h) = one_part_upload(s.as_ref(), &b, "k", "m-1").await;
    for cond in [
        WriteCondition::IfNoneMatch,
        WriteCondition::IfMatch("other".into()),
    ] {
        let e = s
            .complete_upload(b.id, &common::key("k"), &common::upload_id(&id), &h, &cond)
            .await
            .expect_err("refused");
        assert!(
            matches!(e, StorageError::PreconditionFailed),
            "{cond:?}: {e:?}"
        );
        assert_eq!(etag_of(s.as_ref(), &b, "k").await.as_deref(), Some("old"));
        assert_intact(s.as_ref(), &b, "k", &id, &h).await;
    }
    s.complete_upload(
        b.id,
        &common::key("k"),
        &common::upload_id(&id),
        &h,
        &WriteCondition::IfMatch("old".into()),
    )
    .await
    .expect("if-match holds");
    assert_eq!(etag_of(s.as_ref(), &b, "k").await.as_deref(), Some("m-1"));
    assert!(s
        .get_upload(b.id, &common::key("k"), &common::upload_id(&id))
        .await
        .expect("get")
        .is_none());
    // A repeated Complete of a completed upload is NoSuchUpload here, as
    // without a condition (the S3 layer answers it from the object).
    let e = s
        .complete_upload(
            b.id,
            &common::key("k"),
            &common::upload_id(&id),
            &h,
            &WriteCondition::IfNoneMatch,
        )
        .await
        .expect_err("completed");
    assert!(matches!(e, StorageError::NoSuchUpload), "{e:?}");

    // If-Match on a key without an object fails; If-None-Match holds.
    let (id, h) = one_part_upload(s.as_ref(), &b, "fresh", "f-1").await;
    let e = s
        .complete_upload(
            b.id,
            &common::key("fresh"),
            &common::upload_id(&id),
            &h,
            &WriteCondition::IfMatch("old".into()),
        )
        .await
        .expect_err("no object");
    assert!(matches!(e, StorageError::PreconditionFailed), "{e:?}");
    assert_eq!(etag_of(s.as_ref(), &b, "fresh").await, None);
    assert_intact(s.as_ref(), &b, "fresh", &id, &h).await;
    s.complete_upload(
        b.id,
        &common::key("fresh"),
        &common::upload_id(&id),
        &h,
        &WriteCondition::IfNoneMatch,
    )
    .await
    .expect("if-none-match holds");
    assert_eq!(
        etag_of(s.as_ref(), &b, "fresh").await.as_deref(),
        Some("f-1")
    );

    // A refused Complete followed by an unconditional one: the refusal
    // left nothing that blocks it.
    let (id, h) = one_part_upload(s.as_ref(), &b, "fresh", "g-1").await;
    let e = s
        .complete_upload(
            b.id,
            &common::key("fresh"),
            &common::upload_id(&id),
            &h,
            &WriteCondition::IfNoneMatch,
        )
        .await
        .expect_err("exists");
    assert!(matches!(e, StorageError::PreconditionFailed), "{e:?}");
    s.complete_upload(
        b.id,
        &common::key("fresh"),
        &common::upload_id(&id),
        &h,
        &WriteCondition::None,
    )
    .await
    .expect("unconditional");
    assert_eq!(
        etag_of(s.as_ref(), &b, "fresh").await.as_deref(),
        Some("g-1")
    );
}

/// Uploads of one key completed at the same moment with `If-None-Match:
/// *`: exactly one commits; every other is refused and keeps its upload,
/// which it can still abort. Then the same with `If-Match` on the
/// winner's ETag.
async fn concurrent_conditional_completes_have_one_winner(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "cond-race").await;
    let race = |cond: WriteCondition, round: &'static str| {
        let (s, b) = (s.clone(), b.clone());
        async move {
            let mut uploads = Vec::new();
            for i in 0..4 {
                let etag = format!("{round}{i}-1");
                uploads.push(one_part_upload(s.as_ref(), &b, "once", &etag).await);
            }
            let tasks: Vec<_> = uploads
                .iter()
                .map(|(id, h)| {
                    let (s, id, h, cond) = (s.clone(), id.clone(), h.clone(), cond.clone());
                    tokio::spawn(async move {
                        s.complete_upload(
                            b.id,
                            &common::key("once"),
                            &common::upload_id(&id),
                            &h,
                            &cond,
                        )
                        .await
                    })
                })
                .collect();
            let mut winners = Vec::new();
            for (t, (id, h)) in tasks.into_iter().zip(&uploads) {
                match t.await.expect("task") {
                    Ok(()) => winners.push(h.etag.clone()),
                    Err(StorageError::PreconditionFailed) => {
                        assert_intact(s.as_ref(), &b, "once", id, h).await;
                        s.abort_upload(b.id, &common::key("once"), &common::upload_id(id))
                            .await
                            .expect("abort");
                    }
                    Err(e) => panic!("{round}: unexpected {e:?}"),
                }
            }
            assert_eq!(winners.len(), 1, "{round}: {winners:?}");
            assert_eq!(
                etag_of(s.as_ref(), &b, "once").await.as_ref(),
                Some(&winners[0])
            );
            winners.remove(0)
        }
    };
    let first = race(WriteCondition::IfNoneMatch, "a").await;
    race(WriteCondition::IfMatch(first), "b").await;
}

async fn uploads_list_by_key_then_id(s: Arc<dyn Storage>) {
    let b = bucket(s.as_ref(), "uploads").await;
    let mut made = Vec::new();
    for key in ["b/1", "a/2", "a/1", "b/1", "c"] {
        let id = new_upload_id();
        s.create_upload(b.id, &upload(&id, key))
            .await
            .expect("create");
        made.push((key.to_owned(), id));
    }
    made.sort();
    let ids = |v: Vec<UploadRecord>| -> Vec<(String, String)> {
        v.into_iter().map(|u| (u.key, u.upload_id)).collect()
    };
    let all = ids(s.list_uploads(b.id, "", None, 100).await.expect("list"));
    assert_eq!(all, made);
    let a = ids(s.list_uploads(b.id, "a/", None, 100).await.expect("list"));
    assert_eq!(a, made[..2].to_vec());
    // After the first upload of b/1: the second one and c.
    let (k, id) = &made[2];
    let after = ids(s
        .list_uploads(b.id, "", Some((k.as_str(), id.as_str())), 100)
        .await
        .expect("list"));
    assert_eq!(after, made[3..].to_vec());
    // An empty id skips every upload of the key.
    let after = ids(s
        .list_uploads(b.id, "", Some(("b/1", "")), 100)
        .await
        .expect("list"));
    assert_eq!(after, made[4..].to_vec());
    let two = ids(s.list_uploads(b.id, "", None, 2).await.expect("list"));
    assert_eq!(two, made[..2].to_vec());
    // Deleting the bucket aborts them all.
    s.delete_bucket(&b).await.expect("delete bucket");
    assert!(s.get_bucket(&b.name).await.expect("get").is_none());
    for (k, id) in &made {
        assert!(s
            .get_upload(b.id, &common::key(k), &common::upload_id(id))
            .await
            .expect("get")
            .is_none());
    }
}

fn chunk0(p: &PartRef) -> ChunkAddr {
    ChunkAddr {
        blob: p.blob,
        index: 0,
        chunk_size: 1024,
    }
}

/// A gateway whose clock runs 30 s behind overwrites and deletes a key that
/// another gateway wrote just before. Cassandra keeps the newer write
/// (last-writer-wins by timestamp), so neither the overwrite nor the delete
/// takes effect; the lagging gateway must then not release the blob of the
/// head that is still current, and must release its own losing blob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_never_releases_the_blob_of_the_current_head_under_clock_skew() {
    let Some(mut o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    o.keyspace = format!(
        "s3gw_test_skew_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let keyspace = o.keyspace.clone();
    let contact = o.contact_points[0].clone();
    let ahead = CassandraStorage::open(o.clone()).await.expect("open");
    o.clock_offset_us = -30_000_000;
    let behind = CassandraStorage::open(o).await.expect("open lagging");
    let (a, z): (Arc<dyn Storage>, Arc<dyn Storage>) =
        (Arc::new(ahead.clone()), Arc::new(behind.clone()));
    let b = bucket(a.as_ref(), "skew").await;
    let current = blob(a.as_ref(), b"current").await;
    let late = blob(z.as_ref(), b"late").await;
    let current_head = head(vec![current.clone()], "c", None);
    a.put_object(
        b.id,
        &common::key("k"),
        &current_head,
        &WriteCondition::None,
    )
    .await
    .expect("put");
    z.put_object(
        b.id,
        &common::key("k"),
        &head(vec![late.clone()], "l", None),
        &WriteCondition::None,
    )
    .await
    .expect("lagging put");
    assert!(z
        .delete_object(b.id, &common::key("k"), &WriteCondition::None)
        .await
        .expect("lagging delete"));
    let got = a
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get")
        .expect("head");
    assert_eq!(got.etag, "c", "the newer write stays current");
    let later = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 5 * 60_000;
    ahead.collect_garbage(later).await.expect("collect");
    assert_eq!(
        a.get_chunk(chunk0(&current))
            .await
            .expect("current")
            .as_ref(),
        b"current",
        "the current head's chunks survive collection"
    );
    assert!(
        matches!(
            a.get_chunk(chunk0(&late)).await,
            Err(StorageError::ChunkMissing { .. })
        ),
        "the losing write's blob is collected"
    );
    drop((a, z, ahead, behind));
    common::drop_keyspace(&contact, &keyspace).await;
}

/// Three gateways on one fresh keyspace: one on time, one whose clock is
/// 30 s behind and one 60 s behind, to stage writes that reach Cassandra
/// in one order with timestamps in another.
struct Skewed {
    now: Arc<dyn Storage>,
    behind: Arc<dyn Storage>,
    further: Arc<dyn Storage>,
    keyspace: String,
    contact: String,
}

impl Skewed {
    async fn open(tag: &str) -> Option<Skewed> {
        let mut o = common::cassandra_options(Duration::ZERO)?;
        o.keyspace = format!(
            "s3gw_test_{tag}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let keyspace = o.keyspace.clone();
        let contact = o.contact_points[0].clone();
        let now = CassandraStorage::open(o.clone()).await.expect("open");
        o.clock_offset_us = -30_000_000;
        let behind = CassandraStorage::open(o.clone())
            .await
            .expect("open lagging");
        o.clock_offset_us = -60_000_000;
        let further = CassandraStorage::open(o).await.expect("open lagging more");
        Some(Skewed {
            now: Arc::new(now),
            behind: Arc::new(behind),
            further: Arc::new(further),
            keyspace,
            contact,
        })
    }

    /// A bucket and key `k` in it, written by the gateway 60 s behind and
    /// then tagged by the one on time: the tag cells are newer than the
    /// head's by more than the middle gateway's lag.
    async fn tagged_object(&self, tag: &str) -> (BucketRecord, s3gw::types::ObjectKey) {
        let (a, f) = (self.now.as_ref(), self.further.as_ref());
        let b = bucket(a, tag).await;
        let k = common::key("k");
        let first = blob(f, b"first").await;
        f.put_object(
            b.id,
            &k,
            &head(vec![first], "first", None),
            &WriteCondition::None,
        )
        .await
        .expect("first put");
        assert!(a
            .set_object_tags(b.id, &k, &tags(&[("stage", "first")]))
            .await
            .expect("tags"));
        (b, k)
    }

    async fn drop_keyspace(self) {
        let Skewed {
            keyspace, contact, ..
        } = self;
        common::drop_keyspace(&contact, &keyspace).await;
    }
}

/// A tag change must never undo a PUT that it beats by timestamp. The
/// PUT here comes after the tag change, from a gateway whose clock is 30 s
/// behind, so its write carries an earlier timestamp than the tag change
/// (as a PUT that lands between the tag change's read and its write does),
/// but a later one than the head it replaces (written by a gateway 60 s
/// behind). The PUT must stay current, whole and without the tags set for
/// the head it replaced. When the tag change rewrote the head (before
/// schema 11), the old head came back with the new tags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_a_tag_change_never_undoes_a_put_it_beats_by_timestamp() {
    let Some(g) = Skewed::open("tagskew").await else {
        return;
    };
    let (a, z) = (g.now.as_ref(), g.behind.as_ref());
    let (b, k) = g.tagged_object("tagskew").await;
    let second = blob(z, b"second").await;
    let mut second_head = head(vec![second.clone()], "second", None);
    second_head.tags = tags(&[("own", "yes")]);
    z.put_object(b.id, &k, &second_head, &WriteCondition::None)
        .await
        .expect("second put");
    let got = a.get_object(b.id, &k).await.expect("get").expect("head");
    assert_eq!(got.etag, "second", "the acknowledged PUT stays current");
    assert_eq!(got.parts, vec![second.clone()], "with its own parts");
    assert_eq!(got.tags, tags(&[("own", "yes")]), "and its own tags");
    assert_eq!(
        a.get_chunk(chunk0(&second)).await.expect("chunk").as_ref(),
        b"second"
    );
    g.drop_keyspace().await;
}

/// A DELETE that a tag change beats by timestamp removes the head but not
/// the tag cells written after it: the key must read and list as deleted,
/// and the bucket must count as empty (its row holds no head). With the
/// old emptiness probe (any row of the key index), DeleteBucket answered
/// BucketNotEmpty for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_a_delete_beaten_by_a_tag_change_leaves_the_bucket_empty() {
    let Some(g) = Skewed::open("tagdel").await else {
        return;
    };
    let (a, z) = (g.now.as_ref(), g.behind.as_ref());
    let (b, k) = g.tagged_object("tagdel").await;
    assert!(z
        .delete_object(b.id, &k, &WriteCondition::None)
        .await
        .expect("delete"));
    assert!(a.get_object(b.id, &k).await.expect("get").is_none());
    let listed = a
        .list_objects(b.id, "", Bound::Unbounded, 10)
        .await
        .expect("list");
    assert!(listed.is_empty(), "{listed:?}");
    a.delete_bucket(&b)
        .await
        .expect("a bucket whose only row holds no head is empty");
    g.drop_keyspace().await;
}

/// The race that `settle` alone cannot see: B reads the head R, stalls;
/// A replaces R with W_A and finds W_A current; B then replaces W_A with
/// W_B without ever having seen it. Only A knows W_A, and its second look
/// must release it: afterwards the store holds W_B's chunks and nothing
/// else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_releases_a_head_replaced_by_a_writer_that_never_saw_it() {
    let Some(mut o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    o.keyspace = format!(
        "s3gw_test_unseen_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let (keyspace, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    o.recheck_after = Duration::from_millis(600);
    let a = CassandraStorage::open(o.clone()).await.expect("open");
    o.pause_before_head_write = Duration::from_millis(400);
    let slow = CassandraStorage::open(o).await.expect("open slow");
    let s: Arc<dyn Storage> = Arc::new(a.clone());
    let b = bucket(s.as_ref(), "unseen").await;
    let r = blob(s.as_ref(), b"R").await;
    s.put_object(
        b.id,
        &common::key("k"),
        &head(vec![r], "r", None),
        &WriteCondition::None,
    )
    .await
    .expect("put R");
    let w_b = blob(&slow, b"W_B").await;
    let bid = b.id;
    let writer_b = {
        let slow = slow.clone();
        let h = head(vec![w_b.clone()], "b", None);
        tokio::spawn(async move {
            slow.put_object(bid, &common::key("k"), &h, &WriteCondition::None)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let w_a = blob(s.as_ref(), b"W_A").await;
    s.put_object(
        b.id,
        &common::key("k"),
        &head(vec![w_a], "a", None),
        &WriteCondition::None,
    )
    .await
    .expect("put W_A");
    writer_b.await.expect("join").expect("put W_B");
    let got = s
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get")
        .expect("head");
    assert_eq!(got.etag, "b", "the later write is current");
    // A's second look comes 600 ms after its write.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let later = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 5 * 60_000;
    a.collect_garbage(later).await.expect("collect");
    let report = a.fsck(Duration::ZERO).await.expect("fsck");
    assert!(report.consistent(), "{report}");
    assert_eq!(
        (
            report.stored_blobs,
            report.unreferenced_blobs,
            report.queued_blobs
        ),
        (1, 0, 0),
        "{report}"
    );
    assert_eq!(
        a.get_chunk(chunk0(&w_b)).await.expect("W_B").as_ref(),
        b"W_B"
    );
    drop((s, a, slow));
    common::drop_keyspace(&contact, &keyspace).await;
}

/// Settling after a head write fails (staged): the PUT and the DELETE
/// still succeed, since their heads were written, and the second look
/// releases what settling would have: R once W replaced it, then W once
/// the key was deleted. Afterwards no blob is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_answers_a_write_whose_settling_failed_and_releases_later() {
    let Some(mut o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    o.keyspace = format!(
        "s3gw_test_settle_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let (keyspace, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    o.recheck_after = Duration::from_millis(300);
    o.fail_settle = true;
    let store = CassandraStorage::open(o).await.expect("open");
    let s: Arc<dyn Storage> = Arc::new(store.clone());
    let b = bucket(s.as_ref(), "settle").await;
    let k = common::key("k");
    let r = blob(s.as_ref(), b"R").await;
    s.put_object(b.id, &k, &head(vec![r], "r", None), &WriteCondition::None)
        .await
        .expect("put R, though settling failed");
    let w = blob(s.as_ref(), b"W").await;
    s.put_object(
        b.id,
        &k,
        &head(vec![w.clone()], "w", None),
        &WriteCondition::None,
    )
    .await
    .expect("put W over R, though settling failed");
    // The collector runs as if `minutes` had passed; a release files no
    // earlier than the minutes it already collected.
    let later =
        |minutes: i64| time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + minutes * 60_000;
    // Each second look comes 300 ms after its write.
    tokio::time::sleep(Duration::from_millis(800)).await;
    store.collect_garbage(later(5)).await.expect("collect");
    let report = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(report.consistent(), "{report}");
    assert_eq!(
        (report.stored_blobs, report.unreferenced_blobs),
        (1, 0),
        "R released, W kept: {report}"
    );
    assert_eq!(store.get_chunk(chunk0(&w)).await.expect("W").as_ref(), b"W");
    assert!(s
        .delete_object(b.id, &k, &WriteCondition::None)
        .await
        .expect("delete, though settling failed"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    store.collect_garbage(later(15)).await.expect("collect");
    let report = store.fsck(Duration::ZERO).await.expect("fsck");
    assert_eq!(
        (
            report.stored_blobs,
            report.unreferenced_blobs,
            report.queued_blobs
        ),
        (0, 0, 0),
        "W released after the delete: {report}"
    );
    drop((s, store));
    common::drop_keyspace(&contact, &keyspace).await;
}

/// After Complete/Abort races, collection with a zero grace period leaves
/// every chunk of every completed object in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_keeps_every_chunk_of_objects_completed_in_a_race_with_abort() {
    let Some(mut o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    o.keyspace = format!(
        "s3gw_test_race_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let keyspace = o.keyspace.clone();
    let contact = o.contact_points[0].clone();
    let store = CassandraStorage::open(o).await.expect("open");
    let s: Arc<dyn Storage> = Arc::new(store.clone());
    let b = bucket(s.as_ref(), "race-gc").await;
    let completed = race_complete_and_abort(&s, &b).await;
    let later = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 5 * 60_000;
    store.collect_garbage(later).await.expect("collect");
    for key in &completed {
        let h = s
            .get_object(b.id, &common::key(key))
            .await
            .expect("get")
            .expect("head");
        for p in &h.parts {
            assert_eq!(
                s.get_chunk(chunk0(p)).await.expect("chunk").as_ref(),
                b"racing part",
                "{key}"
            );
        }
    }
    drop((s, store));
    common::drop_keyspace(&contact, &keyspace).await;
}

/// One gateway's collector runs at a time: the lease goes to the first
/// gateway that asks, is renewed by it, and is refused to the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_collectors_take_turns_by_lease() {
    let Some(mut o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    o.keyspace = format!(
        "s3gw_test_lease_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let keyspace = o.keyspace.clone();
    let contact = o.contact_points[0].clone();
    let first = CassandraStorage::open(o.clone()).await.expect("open");
    let second = CassandraStorage::open(o).await.expect("open");
    assert!(first.hold_lease().await.expect("take"));
    assert!(!second.hold_lease().await.expect("refused"));
    assert!(first.hold_lease().await.expect("renew"));
    assert!(!second.hold_lease().await.expect("still refused"));
    drop((first, second));
    common::drop_keyspace(&contact, &keyspace).await;
}

/// Blobs released by an overwrite, a delete or a discard lose their chunks
/// once the collector passes their grace period; live blobs keep theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_collects_released_blobs_after_their_grace() {
    let Some(mut o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    // Its own keyspace: collecting "five minutes from now" moves the
    // collector's cursor ahead, which would hide later releases of other
    // tests sharing a keyspace.
    o.keyspace = format!(
        "s3gw_test_gc_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let keyspace = o.keyspace.clone();
    let contact = o.contact_points[0].clone();
    let store = CassandraStorage::open(o).await.expect("open");
    let s: Arc<dyn Storage> = Arc::new(store.clone());
    let b = bucket(s.as_ref(), "gc").await;
    let old = blob(s.as_ref(), b"old").await;
    let new = blob(s.as_ref(), b"new").await;
    let gone = blob(s.as_ref(), b"deleted").await;
    let dropped = blob(s.as_ref(), b"dropped").await;
    for (key, p) in [("k", &old), ("k", &new), ("d", &gone)] {
        s.put_object(
            b.id,
            &common::key(key),
            &head(vec![p.clone()], "e", None),
            &WriteCondition::None,
        )
        .await
        .expect("put");
    }
    assert!(s
        .delete_object(b.id, &common::key("d"), &WriteCondition::None)
        .await
        .expect("delete"));
    s.discard_blob(dropped.blob, 1).await.expect("discard");
    assert!(matches!(
        s.get_chunk(chunk0(&dropped)).await,
        Err(StorageError::ChunkMissing { .. })
    ));
    // Still readable before the collector runs.
    assert_eq!(
        s.get_chunk(chunk0(&old)).await.expect("old").as_ref(),
        b"old"
    );
    let later = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 5 * 60_000;
    let n = store.collect_garbage(later).await.expect("collect");
    assert!(n >= 2, "collected {n}");
    for p in [&old, &gone] {
        assert!(matches!(
            s.get_chunk(chunk0(p)).await,
            Err(StorageError::ChunkMissing { .. })
        ));
    }
    assert_eq!(
        s.get_chunk(chunk0(&new)).await.expect("new").as_ref(),
        b"new"
    );
    drop((s, store));
    common::drop_keyspace(&contact, &keyspace).await;
}

/// Waits until `upload_id`'s claim is committed: the Complete holding it
/// has passed its condition check and is about to write its head.
async fn until_committed(session: &scylla::client::session::Session, keyspace: &str, id: &str) {
    let query = format!("SELECT committed FROM {keyspace}.upload_claims WHERE upload_id = ?");
    for _ in 0..500 {
        let rows = session
            .query_unpaged(query.as_str(), (id,))
            .await
            .expect("read claim")
            .into_rows_result()
            .expect("rows");
        let committed = rows
            .rows::<(Option<String>,)>()
            .expect("typed rows")
            .filter_map(Result::ok)
            .any(|(c,)| c.is_some());
        if committed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the claim of {id} was never committed");
}

/// Another gateway writes the key after a conditional Complete checked its
/// condition and committed its claim, before its head write: the
/// lightweight transaction refuses, the Complete withdraws its commit, and
/// the upload is left as it was, ready to complete at once (no claim to
/// wait out) without the condition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_conditional_complete_that_loses_a_race_keeps_its_upload() {
    let Some(mut o) = common::cassandra_options(Duration::from_secs(900)) else {
        return;
    };
    let (contact, keyspace) = (o.contact_points[0].clone(), o.keyspace.clone());
    let fast: Arc<dyn Storage> = Arc::new(common::open_cassandra(o.clone()).await);
    let pause = Duration::from_millis(600);
    o.pause_before_head_write = pause;
    let slow: Arc<dyn Storage> = Arc::new(common::open_cassandra(o).await);
    let session = common::cql_session(&contact).await;
    let b = bucket(fast.as_ref(), "cond-lost").await;
    for (i, cond) in [
        WriteCondition::IfNoneMatch,
        WriteCondition::IfMatch("old".into()),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("k{i}");
        if let WriteCondition::IfMatch(_) = cond {
            let old = blob(fast.as_ref(), b"old").await;
            fast.put_object(
                b.id,
                &common::key(&key),
                &head(vec![old], "old", None),
                &WriteCondition::None,
            )
            .await
            .expect("put");
        }
        let (id, h) = one_part_upload(fast.as_ref(), &b, &key, "m-1").await;
        let started = std::time::Instant::now();
        let task = {
            let (slow, key, id, h, cond) = (
                slow.clone(),
                key.clone(),
                id.clone(),
                h.clone(),
                cond.clone(),
            );
            tokio::spawn(async move {
                slow.complete_upload(b.id, &common::key(&key), &common::upload_id(&id), &h, &cond)
                    .await
            })
        };
        until_committed(&session, &keyspace, &id).await;
        let racer = blob(fast.as_ref(), b"racer").await;
        fast.put_object(
            b.id,
            &common::key(&key),
            &head(vec![racer], "racer", None),
            &WriteCondition::None,
        )
        .await
        .expect("racing put");
        let r = task.await.expect("join");
        assert!(
            matches!(r, Err(StorageError::PreconditionFailed)),
            "{cond:?}: {r:?}"
        );
        assert!(
            started.elapsed() >= pause,
            "{cond:?}: refused before its head write"
        );
        assert_eq!(
            etag_of(fast.as_ref(), &b, &key).await.as_deref(),
            Some("racer")
        );
        assert_intact(fast.as_ref(), &b, &key, &id, &h).await;
        fast.complete_upload(
            b.id,
            &common::key(&key),
            &common::upload_id(&id),
            &h,
            &WriteCondition::None,
        )
        .await
        .expect("complete after the refusal");
        assert_eq!(
            etag_of(fast.as_ref(), &b, &key).await.as_deref(),
            Some("m-1")
        );
    }
}
