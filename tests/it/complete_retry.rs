//! The client's retry of a CompleteMultipartUpload whose first request
//! committed its claim and then failed before its head write (its
//! Cassandra node died under it): the retry completes the upload when it
//! chose the same parts, and never replaces a write made since the claim.
//! The fault test on the cluster saw this retry answered `NoSuchUpload`.
//! A retry's own condition (`If-None-Match`, `If-Match`) still applies;
//! the commit of a conditional Complete is not one a retry finishes.

use crate::common;

use std::time::Duration;

use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::{
    now_ms, Maintenance, ObjectHead, PartRef, Storage, StorageError, VersionsFrom, WriteCondition,
};
use s3gw::types::VersioningState;

const CHUNK: u32 = 1024;

/// What a Complete that died after its commit leaves in `upload_claims`
/// (a conditional Complete names no ETag).
async fn dead_commit(
    contact: &str,
    keyspace: &str,
    upload_id: &str,
    etag: Option<&str>,
    claimed_ms: i64,
) {
    let session = common::cql_session(contact).await;
    session
        .query_unpaged(
            format!(
                "INSERT INTO {keyspace}.upload_claims \
                 (upload_id, finisher, claimed_ms, committed, etag) VALUES (?, ?, ?, ?, ?)"
            ),
            (
                upload_id,
                uuid::Uuid::new_v4(),
                claimed_ms,
                "complete",
                etag,
            ),
        )
        .await
        .expect("insert claim");
}

/// An upload of two parts in bucket `b`, and the head a Complete of both
/// would write.
async fn two_parts(s: &dyn Storage, b: &s3gw::storage::BucketRecord, key: &str) -> ObjectHead {
    let u = common::upload_record(key);
    s.create_upload(b.id, &u).await.expect("create");
    let mut parts: Vec<PartRef> = Vec::new();
    for n in 1..=2u32 {
        let owner = s3gw::storage::BlobOwner::Part {
            bucket: b.id,
            key: key.into(),
            upload_id: u.upload_id.clone(),
            part_number: n,
        };
        let p = common::stored_blob(s, &owner, n as u8, 2500, CHUNK, 0..3).await;
        s.put_part(
            b.id,
            &common::key(key),
            &common::upload_id(&u.upload_id),
            &common::part_record(n, p.clone()),
        )
        .await
        .expect("part");
        parts.push(p);
    }
    common::multipart_head(
        &u.upload_id,
        parts,
        CHUNK,
        "0123456789abcdef0123456789abcdef-2",
    )
}

fn upload_of(head: &ObjectHead) -> &str {
    head.upload_id.as_deref().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_complete_finishes_what_a_dead_request_committed() {
    let Some(o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    let (contact, ks) = (o.contact_points[0].clone(), o.keyspace.clone());
    let s = common::open_cassandra(o).await;
    let b = common::new_bucket(&s, "complete-retry").await;

    // Same parts, same ETag: the retry writes the head and ends the upload.
    let head = two_parts(&s, &b, "same").await;
    dead_commit(&contact, &ks, upload_of(&head), Some(&head.etag), now_ms()).await;
    s.complete_upload(
        b.id,
        &common::key("same"),
        &common::upload_id(upload_of(&head)),
        &head,
        &WriteCondition::None,
    )
    .await
    .expect("the retry completes the upload");
    let got = s
        .get_object(b.id, &common::key("same"))
        .await
        .expect("get")
        .expect("head");
    assert_eq!(got.upload_id, head.upload_id);
    assert_eq!(got.parts, head.parts);
    assert!(s
        .get_upload(
            b.id,
            &common::key("same"),
            &common::upload_id(upload_of(&head))
        )
        .await
        .expect("get upload")
        .is_none());
    // Every chunk the head names is there.
    for p in &got.parts {
        for i in 0..3 {
            let addr = s3gw::storage::ChunkAddr {
                blob: p.blob,
                index: i,
                chunk_size: CHUNK,
            };
            s.get_chunk(addr)
                .await
                .expect("chunk of the completed object");
        }
    }

    // Other parts (another ETag) than the dead request committed to: not
    // this retry's to finish.
    let head = two_parts(&s, &b, "other").await;
    dead_commit(
        &contact,
        &ks,
        upload_of(&head),
        Some("ffffffffffffffffffffffffffffffff-1"),
        now_ms(),
    )
    .await;
    let r = s
        .complete_upload(
            b.id,
            &common::key("other"),
            &common::upload_id(upload_of(&head)),
            &head,
            &WriteCondition::None,
        )
        .await;
    assert!(matches!(r, Err(StorageError::NoSuchUpload)), "{r:?}");
    assert!(s
        .get_object(b.id, &common::key("other"))
        .await
        .expect("get")
        .is_none());

    // A PUT of the key after the claim: the retry must not replace it.
    let head = two_parts(&s, &b, "later").await;
    dead_commit(
        &contact,
        &ks,
        upload_of(&head),
        Some(&head.etag),
        now_ms() - 60_000,
    )
    .await;
    let owner = s3gw::storage::BlobOwner::Object {
        bucket: b.id,
        key: "later".into(),
    };
    let newer = common::head_of(
        common::stored_blob(&s, &owner, 9, 100, CHUNK, 0..1).await,
        CHUNK,
    );
    let newer = ObjectHead {
        last_modified_ms: now_ms(),
        ..newer
    };
    s.put_object(b.id, &common::key("later"), &newer, &WriteCondition::None)
        .await
        .expect("put");
    let r = s
        .complete_upload(
            b.id,
            &common::key("later"),
            &common::upload_id(upload_of(&head)),
            &head,
            &WriteCondition::None,
        )
        .await;
    assert!(matches!(r, Err(StorageError::NoSuchUpload)), "{r:?}");
    let got = s
        .get_object(b.id, &common::key("later"))
        .await
        .expect("get")
        .expect("head");
    assert_eq!(got.parts, newer.parts);
}

/// An old object at the key. `If-None-Match: *` on the retry of a
/// Complete that committed and died: the retry's condition fails, nothing
/// is written, and the upload stays for a retry without the condition,
/// which completes it. A Complete that died with a conditional commit
/// (no ETag named) is not finished by a retry: its head write may have
/// been refused, or may yet apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_keeps_its_condition_and_a_conditional_commit_is_not_redone() {
    let Some(o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    let (contact, ks) = (o.contact_points[0].clone(), o.keyspace.clone());
    let s = common::open_cassandra(o).await;
    let b = common::new_bucket(&s, "complete-retry-cond").await;
    let owner = s3gw::storage::BlobOwner::Object {
        bucket: b.id,
        key: "k".into(),
    };
    let old = common::head_of(
        common::stored_blob(&s, &owner, 7, 100, CHUNK, 0..1).await,
        CHUNK,
    );
    s.put_object(b.id, &common::key("k"), &old, &WriteCondition::None)
        .await
        .expect("put");

    let head = two_parts(&s, &b, "k").await;
    dead_commit(&contact, &ks, upload_of(&head), Some(&head.etag), now_ms()).await;
    let r = s
        .complete_upload(
            b.id,
            &common::key("k"),
            &common::upload_id(upload_of(&head)),
            &head,
            &WriteCondition::IfNoneMatch,
        )
        .await;
    assert!(matches!(r, Err(StorageError::PreconditionFailed)), "{r:?}");
    let got = s
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get")
        .expect("head");
    assert_eq!(got.parts, old.parts);
    assert!(s
        .get_upload(
            b.id,
            &common::key("k"),
            &common::upload_id(upload_of(&head))
        )
        .await
        .expect("get upload")
        .is_some());
    s.complete_upload(
        b.id,
        &common::key("k"),
        &common::upload_id(upload_of(&head)),
        &head,
        &WriteCondition::None,
    )
    .await
    .expect("the retry without the condition completes the upload");
    let got = s
        .get_object(b.id, &common::key("k"))
        .await
        .expect("get")
        .expect("head");
    assert_eq!(got.upload_id, head.upload_id);

    let head = two_parts(&s, &b, "conditional").await;
    dead_commit(&contact, &ks, upload_of(&head), None, now_ms()).await;
    let r = s
        .complete_upload(
            b.id,
            &common::key("conditional"),
            &common::upload_id(upload_of(&head)),
            &head,
            &WriteCondition::IfNoneMatch,
        )
        .await;
    assert!(matches!(r, Err(StorageError::NoSuchUpload)), "{r:?}");
    assert!(s
        .get_object(b.id, &common::key("conditional"))
        .await
        .expect("get")
        .is_none());
}

/// In a versioned bucket, the retry of a Complete that committed and died
/// writes its head as a new version, keeping the one it replaces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_in_a_versioned_bucket_writes_a_version() {
    let Some(o) = common::cassandra_options(Duration::ZERO) else {
        return;
    };
    let (contact, ks) = (o.contact_points[0].clone(), o.keyspace.clone());
    let s = common::open_cassandra(o).await;
    let b = versioned_bucket(&s, "complete-retry-versioned").await;
    let k = common::key("k");
    let before = s
        .put_version(
            b.id,
            &k,
            &object(&s, &b, 7).await,
            ENABLED,
            &WriteCondition::None,
        )
        .await
        .expect("put");
    let head = two_parts(&s, &b, "k").await;
    dead_commit(&contact, &ks, upload_of(&head), Some(&head.etag), now_ms()).await;
    let written = s
        .complete_version(
            b.id,
            &k,
            &common::upload_id(upload_of(&head)),
            &head,
            ENABLED,
            &WriteCondition::None,
        )
        .await
        .expect("the retry completes the upload");
    assert!(written.version_id.is_some() && written.version_id != before.version_id);
    let versions = s
        .list_versions(b.id, "", VersionsFrom::Start, 10)
        .await
        .expect("versions");
    let listed: Vec<_> = versions
        .iter()
        .map(|v| (v.head.version_id.clone(), v.is_latest))
        .collect();
    assert_eq!(
        listed,
        vec![
            (written.version_id.clone(), true),
            (before.version_id, false)
        ]
    );
}

/// A Complete that committed, wrote its version and died before its
/// cleanup; another version replaced it since. Whoever finishes the upload
/// (here an Abort) finds the version among the noncurrent ones and
/// releases the part versions it left out, not only the upload's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_complete_whose_version_was_replaced_releases_what_it_left_out() {
    let Some(o) = common::own_keyspace("complete_noncurrent", Duration::ZERO) else {
        return;
    };
    let (contact, ks) = (o.contact_points[0].clone(), o.keyspace.clone());
    let s = CassandraStorage::open(o).await.expect("open");
    let b = versioned_bucket(&s, "complete-noncurrent").await;
    let k = common::key("k");
    let mut head = two_parts(&s, &b, "k").await;
    // Part 1 again: the first version of it is left out.
    let owner = s3gw::storage::BlobOwner::Part {
        bucket: b.id,
        key: "k".into(),
        upload_id: upload_of(&head).into(),
        part_number: 1,
    };
    let again = common::stored_blob(&s, &owner, 3, 2500, CHUNK, 0..3).await;
    let uid = common::upload_id(upload_of(&head));
    s.put_part(b.id, &k, &uid, &common::part_record(1, again.clone()))
        .await
        .expect("part again");
    head.parts[0] = again;
    dead_commit(&contact, &ks, upload_of(&head), Some(&head.etag), now_ms()).await;
    // The dead request's head write, then a later PUT.
    s.put_version(b.id, &k, &head, ENABLED, &WriteCondition::None)
        .await
        .expect("the dead request's version");
    s.put_version(
        b.id,
        &k,
        &object(&s, &b, 9).await,
        ENABLED,
        &WriteCondition::None,
    )
    .await
    .expect("a later version");

    let r = s.abort_upload(b.id, &k, &uid).await;
    assert!(matches!(r, Err(StorageError::NoSuchUpload)), "{r:?}");
    assert!(s.get_upload(b.id, &k, &uid).await.expect("get").is_none());
    let report = s.fsck(Duration::ZERO).await.expect("fsck");
    eprintln!("{report}");
    assert_eq!(report.noncurrent_versions, 1);
    assert_eq!(report.queued_blobs, 1, "the part version left out");
    assert_eq!(report.missing_chunks, 0);
    drop(s);
    common::drop_keyspace(&contact, &ks).await;
}

const ENABLED: VersioningState = VersioningState::Enabled;

async fn versioned_bucket(s: &dyn Storage, tag: &str) -> s3gw::storage::BucketRecord {
    let b = common::new_bucket(s, tag).await;
    s.set_bucket_versioning(&b, ENABLED)
        .await
        .expect("versioning");
    s.get_bucket(&b.name).await.expect("get").expect("bucket")
}

/// A one-chunk object filled with `fill`.
async fn object(s: &dyn Storage, b: &s3gw::storage::BucketRecord, fill: u8) -> ObjectHead {
    let owner = s3gw::storage::BlobOwner::Object {
        bucket: b.id,
        key: "k".into(),
    };
    common::head_of(
        common::stored_blob(s, &owner, fill, 100, CHUNK, 0..1).await,
        CHUNK,
    )
}
