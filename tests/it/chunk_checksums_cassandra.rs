//! Chunk checksums on Cassandra: every chunk is stored with its CRC32C, a
//! chunk damaged behind the store's back is an error on GET (never served)
//! and an inconsistency for `fsck`, and chunks written before checksums
//! existed (a NULL `crc`) stay readable.

use crate::common;

use std::time::Duration;

use bytes::Bytes;
use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::{
    chunk_crc, BlobId, BucketRecord, ChunkAddr, Maintenance, ObjectHead, PartRef, Storage,
    StorageError, WriteCondition,
};
use scylla::client::session::Session;

const CHUNK: u32 = 1024;
/// Three chunks: two whole, one of 452 bytes.
const SIZE: usize = 2500;

/// A driver session of the test's own, to reach behind the store's back.
async fn raw_session(contact_point: &str) -> Session {
    common::cql_session(contact_point).await
}

fn addr(blob: BlobId, index: u32) -> ChunkAddr {
    ChunkAddr {
        blob,
        index,
        chunk_size: CHUNK,
    }
}

/// Bytes that differ from chunk to chunk and within each chunk.
fn body() -> Vec<u8> {
    (0..SIZE).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn part(blob: BlobId) -> PartRef {
    PartRef {
        blob,
        size: SIZE as u64,
        etag: "e".into(),
        checksum: None,
        chunk_size: Some(CHUNK),
    }
}

fn head(part: PartRef) -> ObjectHead {
    common::head_of(part, CHUNK)
}

async fn bucket(s: &CassandraStorage) -> BucketRecord {
    common::new_bucket(s, "crc").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_chunk_is_an_error_and_fsck_reports_it() {
    let Some(o) = common::own_keyspace("crc", Duration::ZERO) else {
        return;
    };
    let (ks, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    let store = CassandraStorage::open(o).await.expect("open");
    let b = bucket(&store).await;
    let data = body();
    let blob = BlobId::new();
    store
        .begin_blob(blob, &common::test_owner())
        .await
        .expect("begin");
    for (i, chunk) in data.chunks(CHUNK as usize).enumerate() {
        store
            .put_chunk(addr(blob, i as u32), Bytes::copy_from_slice(chunk))
            .await
            .expect("chunk");
    }
    store.seal_blob(blob).await.expect("seal");
    store
        .put_object(
            b.id,
            &common::key("k"),
            &head(part(blob)),
            &WriteCondition::None,
        )
        .await
        .expect("head");

    for (i, want) in data.chunks(CHUNK as usize).enumerate() {
        let got = store.get_chunk(addr(blob, i as u32)).await.expect("read");
        assert_eq!(&got[..], want, "chunk {i}");
    }
    let clean = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(clean.consistent(), "{clean}");
    assert_eq!(clean.bad_checksum_chunks, 0, "{clean}");

    // The checksum is the CRC32C of the data, bit-cast to a CQL int.
    let raw = raw_session(&contact).await;
    let (stored,): (Option<i32>,) = raw
        .query_unpaged(
            format!("SELECT crc FROM {ks}.chunks WHERE blob = ? AND idx = 1"),
            (blob.0,),
        )
        .await
        .expect("select crc")
        .into_rows_result()
        .expect("rows")
        .first_row()
        .expect("row");
    let second = &data[CHUNK as usize..2 * CHUNK as usize];
    assert_eq!(stored, Some(chunk_crc(second) as i32));

    // Same length, other bytes, old checksum kept.
    let damaged: Vec<u8> = second.iter().map(|b| b ^ 0x20).collect();
    raw.query_unpaged(
        format!("UPDATE {ks}.chunks SET data = ? WHERE blob = ? AND idx = 1"),
        (damaged, blob.0),
    )
    .await
    .expect("corrupt chunk 1");

    match store.get_chunk(addr(blob, 1)).await {
        Err(StorageError::Corrupt(msg)) => assert!(msg.contains(&blob.to_string()), "{msg}"),
        other => panic!("a corrupt chunk was not refused: {other:?}"),
    }
    for i in [0, 2] {
        let got = store.get_chunk(addr(blob, i)).await.expect("intact chunk");
        let start = (i * CHUNK) as usize;
        let end = (start + CHUNK as usize).min(SIZE);
        assert_eq!(&got[..], &data[start..end], "chunk {i}");
    }

    let r = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(!r.consistent(), "{r}");
    assert_eq!(r.bad_checksum_chunks, 1, "{r}");
    assert_eq!(r.missing_chunks, 0, "{r}");
    assert_eq!(r.wrong_size_chunks, 0, "{r}");
    assert!(
        r.details.iter().any(|d| d.contains(&blob.to_string())
            && d.contains(&format!("{}/k", b.name))
            && d.contains("chunk 1 ")),
        "{r}"
    );
    assert!(r.to_string().ends_with("INCONSISTENT"), "{r}");

    drop((store, raw));
    common::drop_keyspace(&contact, &ks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_without_a_checksum_are_still_served() {
    let Some(o) = common::own_keyspace("nocrc", Duration::ZERO) else {
        return;
    };
    let (ks, contact) = (o.keyspace.clone(), o.contact_points[0].clone());
    let store = CassandraStorage::open(o.clone()).await.expect("open");
    let b = bucket(&store).await;
    let raw = raw_session(&contact).await;

    // A blob as a build before schema version 3 wrote it: no crc.
    let data = body();
    let blob = BlobId::new();
    for (i, chunk) in data.chunks(CHUNK as usize).enumerate() {
        raw.query_unpaged(
            format!("INSERT INTO {ks}.chunks (blob, idx, data) VALUES (?, ?, ?)"),
            (blob.0, i as i32, chunk.to_vec()),
        )
        .await
        .expect("insert without crc");
    }
    store
        .put_object(
            b.id,
            &common::key("old"),
            &head(part(blob)),
            &WriteCondition::None,
        )
        .await
        .expect("head");
    for (i, want) in data.chunks(CHUNK as usize).enumerate() {
        let got = store.get_chunk(addr(blob, i as u32)).await.expect("read");
        assert_eq!(&got[..], want, "chunk {i}");
    }
    let r = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(r.consistent(), "{r}");
    assert_eq!(r.referenced_chunks, 3, "{r}");
    assert_eq!(r.bad_checksum_chunks, 0, "{r}");

    // A step recorded as not done is re-run: adding `crc` again is a no-op.
    raw.query_unpaged(
        format!("UPDATE {ks}.settings SET value = '2' WHERE name = 'schema_version'"),
        &[],
    )
    .await
    .expect("rewind schema version");
    CassandraStorage::migrate(&o).await.expect("re-run step 3");
    let (version,): (Option<String>,) = raw
        .query_unpaged(
            format!("SELECT value FROM {ks}.settings WHERE name = 'schema_version'"),
            &[],
        )
        .await
        .expect("select version")
        .into_rows_result()
        .expect("rows")
        .first_row()
        .expect("row");
    assert_eq!(
        version.as_deref(),
        Some(
            s3gw::storage::cassandra::SCHEMA_VERSION
                .to_string()
                .as_str()
        )
    );

    drop((store, raw));
    common::drop_keyspace(&contact, &ks).await;
}
