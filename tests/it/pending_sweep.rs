//! The sweep of pending blobs on Cassandra: the blobs of uploads that never
//! committed (a killed gateway, a commit that timed out) are released once
//! their commit deadline has passed, committed ones are kept, and a write
//! stamped before the deadline that arrives after the sweep can no longer
//! make the released blob visible.

use crate::common;

use std::time::Duration;

use s3gw::storage::cassandra::{CassandraOptions, CassandraStorage, SweepOutcome};
use s3gw::storage::{
    now_ms, BlobOwner, BucketRecord, Maintenance, ObjectHead, PartRef, Storage, StorageError,
    UploadRecord, WriteCondition,
};

const CHUNK: u32 = 1024;
/// Three chunks: two whole, one of 452 bytes.
const SIZE: usize = 2500;
/// Short enough to wait for, long enough for the commits the test makes
/// inside it (a quarter of it is the commit slack).
const DEADLINE: Duration = Duration::from_secs(6);

fn options(tag: &str) -> Option<CassandraOptions> {
    let mut o = common::own_keyspace(tag, Duration::ZERO)?;
    o.commit_deadline = DEADLINE;
    o.sweep_margin = Duration::ZERO;
    Some(o)
}

/// A second gateway on the same keyspace whose clock is 20 s behind and
/// whose deadline is the default: its writes are stamped before the
/// deadline of every blob this test made, as a write that timed out and
/// was applied late would be.
async fn lagging_writer(o: &CassandraOptions) -> CassandraStorage {
    let mut late = o.clone();
    late.commit_deadline = Duration::from_secs(3600);
    late.clock_offset_us = -20_000_000;
    CassandraStorage::open(late).await.expect("open lagging")
}

fn object(b: &BucketRecord, key: &str) -> BlobOwner {
    BlobOwner::Object {
        bucket: b.id,
        key: key.into(),
    }
}

fn part_of(b: &BucketRecord, u: &UploadRecord, number: u32) -> BlobOwner {
    BlobOwner::Part {
        bucket: b.id,
        key: u.key.clone(),
        upload_id: u.upload_id.clone(),
        part_number: number,
    }
}

async fn blob(s: &dyn Storage, owner: &BlobOwner, fill: u8) -> PartRef {
    common::stored_blob(s, owner, fill, SIZE, CHUNK, 0..3).await
}

use common::{part_record as part, upload_record as upload};

fn multipart_head(u: &UploadRecord, parts: Vec<PartRef>) -> ObjectHead {
    let etag = format!("mp-{}", parts.len());
    common::multipart_head(&u.upload_id, parts, CHUNK, &etag)
}

async fn blobs_of(s: &dyn Storage, b: &BucketRecord, key: &str) -> Vec<s3gw::storage::BlobId> {
    s.get_object(b.id, &common::key(key))
        .await
        .expect("get")
        .map(|h| h.parts.iter().map(|p| p.blob).collect())
        .unwrap_or_default()
}

/// Waits until every blob made so far is past its deadline.
async fn past_deadline() {
    tokio::time::sleep(DEADLINE + Duration::from_millis(500)).await;
}

/// Collects everything released and checks that the store holds exactly
/// the referenced chunks.
async fn collect_and_check(store: &CassandraStorage, referenced_blobs: u64) {
    store
        .collect_garbage(now_ms() + 5 * 60_000)
        .await
        .expect("collect");
    let report = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(report.consistent(), "{report:?}");
    assert_eq!(report.referenced_blobs, referenced_blobs, "{report:?}");
    assert_eq!(report.stored_blobs, referenced_blobs, "{report:?}");
    assert_eq!(report.stored_chunks, report.referenced_chunks, "{report:?}");
    assert_eq!(report.unreferenced_blobs, 0, "{report:?}");
    assert_eq!(report.queued_blobs, 0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_blobs_that_never_committed_are_swept_and_stay_unreachable() {
    let Some(o) = options("sweep_obj") else {
        return;
    };
    let (ks, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    let store = CassandraStorage::open(o.clone()).await.expect("open");
    let s: &dyn Storage = &store;
    let b = common::new_bucket(s, "sweep").await;

    // A committed head, then an upload over it that never committed.
    let kept = blob(s, &object(&b, "kept"), 1).await;
    let kept_head = common::head_of(kept.clone(), CHUNK);
    s.put_object(
        b.id,
        &common::key("kept"),
        &kept_head,
        &WriteCondition::None,
    )
    .await
    .expect("put kept");
    blob(s, &object(&b, "kept"), 2).await;
    // An upload to a new key that never committed, with a gap where a
    // chunk write was still in flight when its gateway died.
    common::stored_blob(s, &object(&b, "new"), 3, SIZE, CHUNK, [0, 2].into_iter()).await;
    // A committed blob whose pending row stayed (its removal failed).
    let stayed = blob(s, &object(&b, "stayed"), 4).await;
    let stayed_head = common::head_of(stayed.clone(), CHUNK);
    s.put_object(
        b.id,
        &common::key("stayed"),
        &stayed_head,
        &WriteCondition::None,
    )
    .await
    .expect("put stayed");
    s.begin_blob(stayed.blob, &object(&b, "stayed"))
        .await
        .expect("pend again");
    // An upload whose head write "timed out": it arrives after the sweep.
    let undead = blob(s, &object(&b, "undead"), 5).await;

    // Nothing is due before the deadline.
    let early = store.sweep_pending(now_ms(), None).await.expect("sweep");
    assert_eq!(early, SweepOutcome::default());

    past_deadline().await;
    // A commit after the deadline is refused, and stores nothing.
    let refused = s
        .put_object(
            b.id,
            &common::key("undead"),
            &common::head_of(undead.clone(), CHUNK),
            &WriteCondition::None,
        )
        .await;
    assert!(matches!(refused, Err(StorageError::TooLate)), "{refused:?}");

    let swept = store.sweep_pending(now_ms(), None).await.expect("sweep");
    assert_eq!(
        swept,
        SweepOutcome {
            released: 3,
            committed: 1,
            undecided: 0
        }
    );
    assert_eq!(blobs_of(s, &b, "kept").await, vec![kept.blob]);
    assert_eq!(blobs_of(s, &b, "stayed").await, vec![stayed.blob]);

    // The timed-out write lands now, stamped before the deadline: the
    // sweep's fence hides it, so the released blob is never referenced.
    let late = lagging_writer(&o).await;
    late.put_object(
        b.id,
        &common::key("undead"),
        &common::head_of(undead, CHUNK),
        &WriteCondition::None,
    )
    .await
    .expect("late write applies");
    assert!(s
        .get_object(b.id, &common::key("undead"))
        .await
        .expect("get")
        .is_none());

    // A second sweep finds nothing left.
    let again = store.sweep_pending(now_ms(), None).await.expect("sweep");
    assert_eq!(again, SweepOutcome::default());
    collect_and_check(&store, 2).await;
    drop((late, store));
    common::drop_keyspace(&contact, &ks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_blobs_are_swept_only_where_no_complete_can_use_them() {
    let Some(o) = options("sweep_part") else {
        return;
    };
    let (ks, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    let store = CassandraStorage::open(o.clone()).await.expect("open");
    let s: &dyn Storage = &store;
    let b = common::new_bucket(s, "sweep").await;

    // A live upload: part 1 recorded, part 2's gateway died mid-upload.
    let live = upload("live");
    s.create_upload(b.id, &live).await.expect("create");
    let p1 = blob(s, &part_of(&b, &live, 1), 1).await;
    s.put_part(
        b.id,
        &common::key("live"),
        &common::upload_id(&live.upload_id),
        &part(1, p1.clone()),
    )
    .await
    .expect("part 1");
    let p2 = blob(s, &part_of(&b, &live, 2), 2).await;

    // A completed upload: part 1 committed in its head (and its pending
    // row stayed), part 2 never recorded.
    let done = upload("done");
    s.create_upload(b.id, &done).await.expect("create");
    let d1 = blob(s, &part_of(&b, &done, 1), 3).await;
    s.put_part(
        b.id,
        &common::key("done"),
        &common::upload_id(&done.upload_id),
        &part(1, d1.clone()),
    )
    .await
    .expect("part 1");
    blob(s, &part_of(&b, &done, 2), 4).await;
    s.complete_upload(
        b.id,
        &common::key("done"),
        &common::upload_id(&done.upload_id),
        &multipart_head(&done, vec![d1.clone()]),
        &WriteCondition::None,
    )
    .await
    .expect("complete");
    s.begin_blob(d1.blob, &part_of(&b, &done, 1))
        .await
        .expect("pend again");

    // An aborted upload whose part never got recorded.
    let gone = upload("gone");
    s.create_upload(b.id, &gone).await.expect("create");
    blob(s, &part_of(&b, &gone, 1), 5).await;
    s.abort_upload(
        b.id,
        &common::key("gone"),
        &common::upload_id(&gone.upload_id),
    )
    .await
    .expect("abort");

    past_deadline().await;
    let swept = store.sweep_pending(now_ms(), None).await.expect("sweep");
    assert_eq!(
        swept,
        SweepOutcome {
            released: 3,
            committed: 1,
            undecided: 0
        }
    );

    // Part 2's record "timed out" and lands after the sweep: fenced off,
    // so no Complete can ever choose the released blob.
    let late = lagging_writer(&o).await;
    late.put_part(
        b.id,
        &common::key("live"),
        &common::upload_id(&live.upload_id),
        &part(2, p2),
    )
    .await
    .expect("late part record applies");
    let parts = s
        .list_parts(&common::upload_id(&live.upload_id), 0, 100)
        .await
        .expect("list");
    let numbers: Vec<u32> = parts.iter().map(|p| p.part_number).collect();
    assert_eq!(numbers, vec![1]);

    s.complete_upload(
        b.id,
        &common::key("live"),
        &common::upload_id(&live.upload_id),
        &multipart_head(&live, vec![p1.clone()]),
        &WriteCondition::None,
    )
    .await
    .expect("complete live");
    assert_eq!(blobs_of(s, &b, "live").await, vec![p1.blob]);
    assert_eq!(blobs_of(s, &b, "done").await, vec![d1.blob]);
    collect_and_check(&store, 2).await;
    drop((late, store));
    common::drop_keyspace(&contact, &ks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_committed_into_a_deleted_bucket_are_cleaned_up() {
    let Some(o) = options("sweep_drop") else {
        return;
    };
    let (ks, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    let store = CassandraStorage::open(o.clone()).await.expect("open");
    let s: &dyn Storage = &store;
    let b = common::new_bucket(s, "dropped").await;
    s.delete_bucket(&b).await.expect("delete the empty bucket");

    // A PUT that looked the bucket up just before it was deleted commits
    // afterwards; another one's head write "times out".
    let raced = blob(s, &object(&b, "raced"), 1).await;
    s.put_object(
        b.id,
        &common::key("raced"),
        &common::head_of(raced, CHUNK),
        &WriteCondition::None,
    )
    .await
    .expect("the raced PUT commits");
    let undead = blob(s, &object(&b, "undead"), 2).await;
    // No live bucket references either blob.
    let report = store.fsck(Duration::ZERO).await.expect("fsck");
    assert_eq!(report.referenced_blobs, 0, "{report}");
    assert_eq!(report.unreferenced_blobs, 2, "{report}");

    // Nothing is cleaned while an upload that started before the deletion
    // may still commit.
    assert_eq!(
        store.clean_dropped_buckets(now_ms()).await.expect("clean"),
        0
    );
    // The deadline, and the commit slack (a quarter of it).
    tokio::time::sleep(DEADLINE + DEADLINE / 4 + Duration::from_millis(500)).await;
    assert_eq!(
        store.clean_dropped_buckets(now_ms()).await.expect("clean"),
        1
    );
    assert_eq!(
        store.clean_dropped_buckets(now_ms()).await.expect("clean"),
        0
    );
    let swept = store.sweep_pending(now_ms(), None).await.expect("sweep");
    assert_eq!(swept.released, 1, "{swept:?}");

    // The timed-out head write lands now, stamped before the deadline:
    // hidden, like the raced head.
    let late = lagging_writer(&o).await;
    late.put_object(
        b.id,
        &common::key("undead"),
        &common::head_of(undead, CHUNK),
        &WriteCondition::None,
    )
    .await
    .expect("late write applies");
    assert!(s
        .get_object(b.id, &common::key("undead"))
        .await
        .expect("get")
        .is_none());
    assert!(s
        .get_object(b.id, &common::key("raced"))
        .await
        .expect("get")
        .is_none());
    collect_and_check(&store, 0).await;
    drop((late, store));
    common::drop_keyspace(&contact, &ks).await;
}
