//! Chunk checksums on the embedded backend: a chunk whose bytes changed on
//! disk is an error, never served, through the `Storage` trait and through
//! the S3 API, and `fsck` counts it.

use crate::common;

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use s3gw::storage::embedded::EmbeddedStorage;
use s3gw::storage::{
    BlobId, BucketRecord, ChunkAddr, Maintenance, ObjectHead, PartRef, Storage, StorageError,
    WriteCondition,
};

const CHUNK: u32 = 1024;

/// `<data dir>/blobs/<first two chars of the id>/<id>`.
fn blob_path(data: &Path, blob: BlobId) -> PathBuf {
    let name = blob.to_string();
    data.join("blobs").join(&name[..2]).join(name)
}

/// Flips one byte of a file behind the store's back.
fn flip_byte(path: &Path, offset: u64) {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open blob file");
    let mut b = [0u8; 1];
    file.read_exact_at(&mut b, offset).expect("read");
    b[0] ^= 0x01;
    file.write_all_at(&b, offset).expect("write");
}

fn addr(blob: BlobId, index: u32) -> ChunkAddr {
    ChunkAddr {
        blob,
        index,
        chunk_size: CHUNK,
    }
}

/// Writes `data` as a sealed blob in `CHUNK`-byte chunks.
async fn write_blob(s: &dyn Storage, data: &[u8]) -> PartRef {
    let blob = BlobId::new();
    s.begin_blob(blob, &common::test_owner())
        .await
        .expect("begin");
    for (i, chunk) in data.chunks(CHUNK as usize).enumerate() {
        s.put_chunk(addr(blob, i as u32), Bytes::copy_from_slice(chunk))
            .await
            .expect("chunk");
    }
    s.seal_blob(blob).await.expect("seal");
    PartRef {
        blob,
        size: data.len() as u64,
        etag: "e".into(),
        checksum: None,
        chunk_size: Some(CHUNK),
    }
}

fn head(part: PartRef) -> ObjectHead {
    common::head_of(part, CHUNK)
}

/// Whether the store's `blob_crcs` table holds a row for `blob` (read with
/// the store closed: redb opens a database once).
fn has_crc_row(data: &Path, blob: BlobId) -> bool {
    const BLOB_CRCS: redb::TableDefinition<u128, &[u8]> = redb::TableDefinition::new("blob_crcs");
    let db = redb::Database::open(data.join("records.redb")).expect("open records");
    let txn = db.begin_read().expect("txn");
    let t = txn.open_table(BLOB_CRCS).expect("blob_crcs");
    t.get(blob.0.as_u128()).expect("get").is_some()
}

#[tokio::test]
async fn a_corrupt_chunk_is_an_error_and_fsck_counts_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let data_dir = dir.path().join("data");
    let store = EmbeddedStorage::open(&data_dir, Duration::ZERO).expect("open");
    let s: &dyn Storage = &store;
    let bucket = BucketRecord::new("crc", "us-east-1", "");
    s.create_bucket(&bucket).await.expect("bucket");

    let body = common::data(2500, 1);
    let part = write_blob(s, &body).await;
    let old = part.blob;
    s.put_object(
        bucket.id,
        &common::key("k"),
        &head(part),
        &WriteCondition::None,
    )
    .await
    .expect("commit");
    let mut read = Vec::new();
    for i in 0..3 {
        read.extend_from_slice(&s.get_chunk(addr(old, i)).await.expect("chunk"));
    }
    assert_eq!(read, body);
    assert!(store.fsck(Duration::ZERO).await.expect("fsck").consistent());

    flip_byte(&blob_path(&data_dir, old), u64::from(CHUNK) + 500);
    match s.get_chunk(addr(old, 1)).await {
        Err(StorageError::Corrupt(m)) => assert!(m.contains("chunk 1 of blob"), "{m}"),
        Ok(data) => panic!("a corrupt chunk was served ({} bytes)", data.len()),
        Err(e) => panic!("not a corruption error: {e}"),
    }
    let c0 = s.get_chunk(addr(old, 0)).await.expect("chunk 0");
    assert_eq!(&c0[..], &body[..1024]);
    let c2 = s.get_chunk(addr(old, 2)).await.expect("chunk 2");
    assert_eq!(&c2[..], &body[2048..]);

    let r = store.fsck(Duration::ZERO).await.expect("fsck");
    assert_eq!(r.bad_checksum_chunks, 1, "{r}");
    assert!(!r.consistent());
    assert!(
        r.details
            .iter()
            .any(|d| d.starts_with("crc/k: chunk 1 of blob ")),
        "{r}"
    );
    assert!(r.to_string().ends_with("INCONSISTENT"));

    // Overwritten and collected: the old blob's file and row go together.
    let part = write_blob(s, &common::data(100, 2)).await;
    let new = part.blob;
    s.put_object(
        bucket.id,
        &common::key("k"),
        &head(part),
        &WriteCondition::None,
    )
    .await
    .expect("overwrite");
    assert_eq!(store.collect_garbage().expect("gc"), 1);
    let r = store.fsck(Duration::ZERO).await.expect("fsck");
    assert!(r.consistent(), "{r}");
    assert_eq!((r.bad_checksum_chunks, r.stored_blobs), (0, 1));
    drop(store);
    assert!(!blob_path(&data_dir, old).exists());
    assert!(!has_crc_row(&data_dir, old), "row of the collected blob");
    assert!(has_crc_row(&data_dir, new), "row of the current blob");
}

/// The only blob file of a fresh gateway's store.
fn only_blob_file(data: &Path) -> PathBuf {
    let mut found = Vec::new();
    for shard in std::fs::read_dir(data.join("blobs")).expect("blobs dir") {
        for f in std::fs::read_dir(shard.expect("shard").path()).expect("shard dir") {
            found.push(f.expect("entry").path());
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

/// A raw GET: (status, Content-Length, body bytes received before the
/// server closed the connection or went quiet).
async fn raw_get(
    addr: std::net::SocketAddr,
    path_and_query: &str,
) -> (u16, Option<usize>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(!head.contains("transfer-encoding"), "{head}");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok());
    (status, length, buf[end + 4..].to_vec())
}

#[tokio::test]
async fn s3_get_never_serves_a_corrupt_chunk_as_a_complete_body() {
    if !matches!(
        common::backend_under_test(),
        s3gw::config::Backend::Embedded
    ) {
        eprintln!("skipped: this test corrupts the embedded store's blob files");
        return;
    }
    let srv = common::start().await; // 64 KiB chunks
    let c = srv.client();
    let b = common::bucket_name("crc");
    c.create_bucket().bucket(&b).send().await.expect("create");
    let body = common::data(3 * 1024 * 1024, 7);
    c.put_object()
        .bucket(&b)
        .key("big")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put");
    let got = c.get_object().bucket(&b).key("big").send().await;
    let got = got.expect("get").body.collect().await.expect("body");
    assert_eq!(got.into_bytes().as_ref(), body.as_slice());

    // A byte of chunk 1 (the second 64 KiB) rots on disk.
    let file = only_blob_file(&srv.dir.path().join("data"));
    flip_byte(&file, 64 * 1024 + 123);

    // Through the SDK: an error status, or a body that fails to read.
    match c.get_object().bucket(&b).key("big").send().await {
        Err(_) => {}
        Ok(out) => {
            if let Ok(data) = out.body.collect().await {
                let data = data.into_bytes();
                panic!(
                    "a corrupt object was served whole ({} bytes, intact: {})",
                    data.len(),
                    data.as_ref() == body.as_slice()
                );
            }
        }
    }

    // On the wire: never a 200 with all the bytes it announced.
    let req = c
        .get_object()
        .bucket(&b)
        .key("big")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg"))
        .await
        .expect("presign");
    let uri: http::Uri = req.uri().parse().expect("uri");
    let (status, length, received) =
        raw_get(srv.addr, uri.path_and_query().expect("pq").as_str()).await;
    if status == 200 {
        let length = length.expect("content-length");
        assert_eq!(length, body.len());
        assert!(
            received.len() < length,
            "all {length} bytes served with a corrupt chunk"
        );
        // What did arrive is the intact prefix (chunk 0), never the rot.
        assert!(received.len() <= 64 * 1024, "{} bytes", received.len());
        assert_eq!(received, body[..received.len()]);
    } else {
        assert!(status >= 500, "status {status}");
    }

    // A copy refuses to spread the rot.
    let copied = c
        .copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{b}/big"))
        .send()
        .await;
    assert!(copied.is_err(), "a corrupt source was copied");
    let listed = c.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(listed.key_count(), Some(1), "{listed:?}");

    // A range that avoids the bad chunk still reads.
    let ranged = c
        .get_object()
        .bucket(&b)
        .key("big")
        .range("bytes=0-65535")
        .send()
        .await
        .expect("range get")
        .body
        .collect()
        .await
        .expect("range body");
    assert_eq!(ranged.into_bytes().as_ref(), &body[..64 * 1024]);
}
