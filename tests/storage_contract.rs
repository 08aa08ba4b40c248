//! The `Storage` contract, exercised directly on a backend: the rules the
//! S3 layer relies on, including races that requests cannot stage
//! deterministically. Written against the trait so that every backend can
//! run it.

use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use s3gw::storage::embedded::EmbeddedStorage;
use s3gw::storage::records::ContentHeaders;
use s3gw::storage::{
    BlobId, BucketId, BucketRecord, ChunkAddr, ObjectHead, PartRecord, PartRef, Storage,
    StorageError, UploadRecord, WriteCondition,
};

fn embedded() -> (tempfile::TempDir, Arc<dyn Storage>) {
    let dir = tempfile::tempdir().expect("tmp");
    let s =
        EmbeddedStorage::open(&dir.path().join("data"), Duration::from_secs(900)).expect("open");
    (dir, Arc::new(s))
}

async fn bucket(s: &dyn Storage, name: &str) -> BucketRecord {
    let b = BucketRecord {
        name: name.into(),
        id: BucketId::new(),
        created_ms: 0,
        region: "us-east-1".into(),
    };
    s.create_bucket(&b).await.expect("create bucket");
    b
}

async fn blob(s: &dyn Storage, data: &'static [u8]) -> PartRef {
    let id = BlobId::new();
    s.begin_blob(id).await.expect("begin");
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
    }
}

fn upload(id: &str, key: &str) -> UploadRecord {
    UploadRecord {
        upload_id: id.into(),
        key: key.into(),
        initiated_ms: 0,
        content: ContentHeaders::default(),
        user_meta: Default::default(),
        checksum_algorithm: None,
        checksum_type: None,
    }
}

#[tokio::test]
async fn complete_refuses_a_part_replaced_after_it_was_chosen() {
    let (_d, s) = embedded();
    let b = bucket(s.as_ref(), "race").await;
    s.create_upload(b.id, &upload("u1", "k"))
        .await
        .expect("upload");
    let first = blob(s.as_ref(), b"first").await;
    s.put_part(
        b.id,
        "k",
        "u1",
        &PartRecord {
            part_number: 1,
            last_modified_ms: 0,
            data: first.clone(),
        },
    )
    .await
    .expect("part");
    // Complete chose `first`; then part 1 is uploaded again before the commit.
    let chosen = head(vec![first.clone()], "x-1", Some("u1"));
    let second = blob(s.as_ref(), b"second").await;
    s.put_part(
        b.id,
        "k",
        "u1",
        &PartRecord {
            part_number: 1,
            last_modified_ms: 0,
            data: second.clone(),
        },
    )
    .await
    .expect("part again");
    let e = s
        .complete_upload(b.id, "k", "u1", &chosen)
        .await
        .expect_err("stale part");
    assert!(matches!(e, StorageError::PartChanged), "{e:?}");
    // Nothing was written and the upload is intact.
    assert!(s.get_object(b.id, "k").await.expect("get").is_none());
    assert!(s
        .get_upload(b.id, "k", "u1")
        .await
        .expect("get upload")
        .is_some());
    let parts = s.list_parts("u1", 0, 10).await.expect("parts");
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].data.blob, second.blob);
    // Completing with the current part works.
    s.complete_upload(
        b.id,
        "k",
        "u1",
        &head(vec![second.clone()], "y-1", Some("u1")),
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
        .complete_upload(b.id, "k", "u1", &head(vec![second], "y-1", Some("u1")))
        .await
        .expect_err("gone");
    assert!(matches!(e, StorageError::NoSuchUpload));
}

#[tokio::test]
async fn conditional_writes_and_listing_order() {
    let (_d, s) = embedded();
    let b = bucket(s.as_ref(), "cond").await;
    let p = blob(s.as_ref(), b"data").await;
    s.put_object(
        b.id,
        "k",
        &head(vec![p.clone()], "e1", None),
        &WriteCondition::IfNoneMatch,
    )
    .await
    .expect("first");
    let e = s
        .put_object(
            b.id,
            "k",
            &head(vec![p.clone()], "e2", None),
            &WriteCondition::IfNoneMatch,
        )
        .await
        .expect_err("exists");
    assert!(matches!(e, StorageError::PreconditionFailed));
    let e = s
        .put_object(
            b.id,
            "k",
            &head(vec![p.clone()], "e2", None),
            &WriteCondition::IfMatch("zz".into()),
        )
        .await
        .expect_err("wrong etag");
    assert!(matches!(e, StorageError::PreconditionFailed));
    s.put_object(
        b.id,
        "k",
        &head(vec![p.clone()], "e2", None),
        &WriteCondition::IfMatch("e1".into()),
    )
    .await
    .expect("if-match");
    for k in ["b", "a/2", "a/1", "é", "z"] {
        s.put_object(b.id, k, &head(vec![], "e", None), &WriteCondition::None)
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
