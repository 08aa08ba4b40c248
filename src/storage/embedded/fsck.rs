//! `s3gw fsck` on the embedded store: reads every record in one read
//! transaction and checks the blob files against them.
//!
//! Read-only. The transaction begins before the blob files are listed, so
//! a blob written meanwhile shows up as a recent unreferenced file, never
//! as a missing one. It checks the length of each referenced blob file
//! and, when the blob has a row in `blob_crcs` and the right length, reads
//! every chunk and checks its CRC32C (blobs committed before checksums
//! existed have no row: only their lengths are checked). It keeps the ids
//! of the referenced blobs in memory, and one chunk at a time.

use std::collections::HashMap;
use std::time::Duration;

use redb::{ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata};
use uuid::Uuid;

use super::blobs::BlobFiles;
use super::crcs::{Row, BLOB_CRCS};
use super::multipart::{PARTS, UPLOADS};
use super::versions::{VERSIONS, VERSION_INLINE};
use super::{
    corrupt, db_err, decode_head, read_inline, Inner, BUCKETS, GC_QUEUE, INLINE, LIVE_BLOBS,
    OBJECTS,
};
use crate::storage::{
    chunk_count, chunk_crc, now_ms, BlobId, BucketRecord, ChunkAddr, FsckReport, PartRecord,
    PartRef, StorageError, UploadRecord,
};

/// For parts that do not record their chunk size, and to count the chunks
/// of blob files that nothing references.
const DEFAULT_CHUNK: u32 = 1024 * 1024;

/// The state of one check: the report so far, and what it is checked
/// against.
struct Check<'a> {
    report: FsckReport,
    /// Every blob file, with its length.
    stored: HashMap<BlobId, u64>,
    /// Every referenced blob, with its chunk count.
    referenced: HashMap<BlobId, u32>,
    live: ReadOnlyTable<u128, ()>,
    queue: ReadOnlyTable<u128, i64>,
    crcs: ReadOnlyTable<u128, &'static [u8]>,
    inline: ReadOnlyTable<&'static [u8], &'static [u8]>,
    files: &'a BlobFiles,
}

impl Inner {
    pub(super) fn fsck(&self, min_age: Duration) -> Result<FsckReport, StorageError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        // Listed after the snapshot: see the module comment.
        let stored = self.blob_lengths()?;
        let mut check = Check {
            report: FsckReport::default(),
            stored,
            referenced: HashMap::new(),
            live: txn.open_table(LIVE_BLOBS).map_err(db_err)?,
            queue: txn.open_table(GC_QUEUE).map_err(db_err)?,
            crcs: txn.open_table(BLOB_CRCS).map_err(db_err)?,
            inline: txn.open_table(INLINE).map_err(db_err)?,
            files: &self.files,
        };
        let buckets = bucket_names(&txn)?;
        check.heads(&txn, &buckets)?;
        check.uploads(&txn, &buckets)?;
        check.report.queued_blobs = check.queue.len().map_err(db_err)?;
        check.files(min_age)?;
        Ok(check.report)
    }

    /// The length of every blob file.
    fn blob_lengths(&self) -> Result<HashMap<BlobId, u64>, StorageError> {
        let mut out = HashMap::new();
        for blob in self.files.list()? {
            // None: collected since it was listed.
            if let Some(len) = self.files.len(blob)? {
                out.insert(blob, len);
            }
        }
        Ok(out)
    }
}

impl Check<'_> {
    /// Every committed head.
    fn heads(
        &mut self,
        txn: &ReadTransaction,
        buckets: &HashMap<Uuid, String>,
    ) -> Result<(), StorageError> {
        let objects = txn.open_table(OBJECTS).map_err(db_err)?;
        for row in objects.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let head = decode_head(v.value())?;
            let (bucket, key) = split_object_key(k.value())?;
            self.report.objects += 1;
            if head.inline.is_some() {
                let mut head = head.clone();
                read_inline(&self.inline, k.value(), &mut head)?;
                let bucket = bucket_label(buckets, bucket);
                self.report.inline(&head, || format!("{bucket}/{key}"));
            }
            for part in &head.parts {
                self.blob(part, head.chunk_size, || {
                    format!("{}/{key}", bucket_label(buckets, bucket))
                })?;
            }
        }
        self.noncurrent(txn, buckets)
    }

    /// Every noncurrent version (`versions.rs`): its blobs are referenced
    /// as a current head's are.
    fn noncurrent(
        &mut self,
        txn: &ReadTransaction,
        buckets: &HashMap<Uuid, String>,
    ) -> Result<(), StorageError> {
        let versions = txn.open_table(VERSIONS).map_err(db_err)?;
        let inline = txn.open_table(VERSION_INLINE).map_err(db_err)?;
        for row in versions.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let head = decode_head(v.value())?;
            let (bucket, _) = split_object_key(&k.value()[..16])?;
            let key = super::versions::key_of(k.value())?;
            let name = || {
                format!(
                    "{}/{key} (version {})",
                    bucket_label(buckets, bucket),
                    head.version_ref()
                )
            };
            self.report.noncurrent_versions += 1;
            if head.inline.is_some() {
                let mut head = head.clone();
                read_inline(&inline, k.value(), &mut head)?;
                self.report.inline(&head, name);
            }
            for part in &head.parts {
                self.blob(part, head.chunk_size, name)?;
            }
        }
        Ok(())
    }

    /// Every upload in progress and every part row.
    fn uploads(
        &mut self,
        txn: &ReadTransaction,
        buckets: &HashMap<Uuid, String>,
    ) -> Result<(), StorageError> {
        // Upload id → "bucket/key", to name the owner of a part.
        let mut owners: HashMap<String, String> = HashMap::new();
        let uploads = txn.open_table(UPLOADS).map_err(db_err)?;
        for row in uploads.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let upload: UploadRecord = serde_json::from_slice(v.value()).map_err(corrupt)?;
            let (bucket, _) = split_object_key(k.value())?;
            self.report.uploads += 1;
            owners.insert(
                upload.upload_id,
                format!("{}/{}", bucket_label(buckets, bucket), upload.key),
            );
        }
        let parts = txn.open_table(PARTS).map_err(db_err)?;
        for row in parts.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let part: PartRecord = serde_json::from_slice(v.value()).map_err(corrupt)?;
            // The key is the upload id, then the part number (4 bytes).
            let k = k.value();
            let id = String::from_utf8_lossy(&k[..k.len().saturating_sub(4)]);
            let owner = owners.get(id.as_ref());
            let n = part.part_number;
            self.blob(&part.data, DEFAULT_CHUNK, || match owner {
                Some(o) => format!("{o} upload {id} part {n}"),
                None => format!("upload {id} part {n}"),
            })?;
        }
        Ok(())
    }

    /// One referenced blob; `chunk_size` applies unless the part records
    /// its own, and `owner` names the record for details.
    fn blob(
        &mut self,
        part: &PartRef,
        chunk_size: u32,
        owner: impl Fn() -> String,
    ) -> Result<(), StorageError> {
        let blob = part.blob;
        if self.referenced.contains_key(&blob) {
            return Ok(());
        }
        let chunks = part.chunks(chunk_size);
        self.referenced.insert(blob, chunks);
        let r = &mut self.report;
        r.referenced_blobs += 1;
        r.referenced_chunks += u64::from(chunks);
        match self.stored.get(&blob) {
            // A zero-byte blob may never have had a file.
            None if part.size == 0 => {}
            None => {
                r.missing_chunks += u64::from(chunks);
                r.note(|| format!("{}: blob {blob} has no file", owner()));
            }
            Some(&len) if len != part.size => {
                r.wrong_size_chunks += 1;
                r.note(|| {
                    format!(
                        "{}: blob {blob} has {len} bytes, not {}",
                        owner(),
                        part.size
                    )
                });
            }
            Some(_) => self.checksums(blob, &owner)?,
        }
        let r = &mut self.report;
        let id = blob.0.as_u128();
        if self.queue.get(id).map_err(db_err)?.is_some() {
            r.queued_but_referenced += 1;
            r.note(|| {
                format!(
                    "{}: blob {blob} is referenced but queued for deletion",
                    owner()
                )
            });
        } else if self.live.get(id).map_err(db_err)?.is_none() {
            // As good as queued: the start-up sweep would delete its file.
            r.queued_but_referenced += 1;
            r.note(|| {
                format!(
                    "{}: blob {blob} is referenced but not in live_blobs",
                    owner()
                )
            });
        }
        Ok(())
    }

    /// Reads every chunk of a referenced blob of the right length and
    /// checks it against the blob's checksum row, if it has one.
    fn checksums(&mut self, blob: BlobId, owner: impl Fn() -> String) -> Result<(), StorageError> {
        let Some(row) = self.crcs.get(blob.0.as_u128()).map_err(db_err)? else {
            return Ok(());
        };
        let row = Row::decode(row.value())?;
        for index in 0..row.chunks() {
            let addr = ChunkAddr {
                blob,
                index,
                chunk_size: row.chunk_size,
            };
            // None: collected since it was listed (not referenced then).
            let Some(data) = self.files.read_chunk(addr)? else {
                break;
            };
            let actual = chunk_crc(&data);
            if Some(actual) != row.crc(index) {
                self.report.bad_checksum_chunks += 1;
                self.report.note(|| {
                    format!(
                        "{}: chunk {index} of blob {blob} does not match its checksum",
                        owner()
                    )
                });
            }
        }
        Ok(())
    }

    /// Counts the blob files, and those that nothing references or queues.
    fn files(&mut self, min_age: Duration) -> Result<(), StorageError> {
        let min_age = i64::try_from(min_age.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now_ms().saturating_sub(min_age);
        let r = &mut self.report;
        for (blob, &len) in &self.stored {
            r.stored_blobs += 1;
            if let Some(&chunks) = self.referenced.get(blob) {
                r.stored_chunks += u64::from(chunks);
                continue;
            }
            let chunks = u64::from(chunk_count(len, DEFAULT_CHUNK).max(1));
            r.stored_chunks += chunks;
            if self.queue.get(blob.0.as_u128()).map_err(db_err)?.is_some() {
                continue;
            }
            if blob.created_ms() <= cutoff {
                r.unreferenced_blobs += 1;
                r.unreferenced_chunks += chunks;
            } else {
                r.recent_unreferenced_blobs += 1;
            }
        }
        Ok(())
    }
}

/// Bucket id → name, to name the owners of blobs in details.
fn bucket_names(txn: &ReadTransaction) -> Result<HashMap<Uuid, String>, StorageError> {
    let t = txn.open_table(BUCKETS).map_err(db_err)?;
    let mut out = HashMap::new();
    for row in t.iter().map_err(db_err)? {
        let (_, v) = row.map_err(db_err)?;
        let rec: BucketRecord = serde_json::from_slice(v.value()).map_err(corrupt)?;
        out.insert(rec.id.0, rec.name);
    }
    Ok(out)
}

fn bucket_label(names: &HashMap<Uuid, String>, bucket: Uuid) -> String {
    match names.get(&bucket) {
        Some(name) => name.clone(),
        None => bucket.to_string(),
    }
}

/// A key of OBJECTS (or the start of one of UPLOADS): the bucket id, then
/// the object key.
fn split_object_key(k: &[u8]) -> Result<(Uuid, String), StorageError> {
    if k.len() < 16 {
        return Err(corrupt(format!("record key of {} bytes", k.len())));
    }
    let (bucket, key) = k.split_at(16);
    let bucket = Uuid::from_slice(bucket).map_err(corrupt)?;
    Ok((bucket, String::from_utf8_lossy(key).into_owned()))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use bytes::Bytes;

    use super::super::EmbeddedStorage;
    use super::*;
    use crate::storage::records::ContentHeaders;
    use crate::storage::{
        BlobOwner, BucketId, ChunkAddr, Maintenance, ObjectHead, Storage, WriteCondition,
    };

    const HOUR: Duration = Duration::from_secs(3600);
    /// The upload of these tests (ids have one fixed form).
    const UP1: &str = "0123456789abcdef0123456789abcdef";

    fn up1() -> crate::types::UploadId {
        crate::types::UploadId::parse(UP1).expect("an upload id")
    }

    fn k(key: &str) -> crate::types::ObjectKey {
        crate::types::ObjectKey::parse(key).expect("a key")
    }

    fn open(grace: Duration) -> (tempfile::TempDir, EmbeddedStorage) {
        let dir = tempfile::tempdir().expect("tmp");
        let s = EmbeddedStorage::open(dir.path(), grace).expect("open");
        (dir, s)
    }

    async fn bucket(s: &EmbeddedStorage, name: &str) -> BucketId {
        let rec = BucketRecord::new(name, "us-east-1", "");
        s.create_bucket(&rec).await.expect("bucket");
        rec.id
    }

    /// A sealed blob of `size` bytes written in `chunk_size` chunks.
    async fn blob(s: &EmbeddedStorage, size: usize, chunk_size: u32) -> BlobId {
        let id = BlobId::new();
        s.begin_blob(
            id,
            &BlobOwner::Object {
                bucket: BucketId(uuid::Uuid::nil()),
                key: String::new(),
            },
        )
        .await
        .expect("begin");
        let data = vec![7u8; size];
        for (i, chunk) in data.chunks(chunk_size as usize).enumerate() {
            let addr = ChunkAddr {
                blob: id,
                index: i as u32,
                chunk_size,
            };
            s.put_chunk(addr, Bytes::copy_from_slice(chunk))
                .await
                .expect("chunk");
        }
        s.seal_blob(id).await.expect("seal");
        id
    }

    fn part_ref(blob: BlobId, size: u64, chunk_size: Option<u32>) -> PartRef {
        PartRef {
            blob,
            size,
            etag: "e".into(),
            checksum: None,
            chunk_size,
        }
    }

    fn head(parts: Vec<PartRef>, chunk_size: u32) -> ObjectHead {
        ObjectHead {
            size: parts.iter().map(|p| p.size).sum(),
            etag: "e".into(),
            last_modified_ms: 0,
            chunk_size,
            parts,
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

    async fn put(s: &EmbeddedStorage, b: BucketId, key: &str, parts: Vec<PartRef>) {
        s.put_object(b, &k(key), &head(parts, 1024), &WriteCondition::None)
            .await
            .expect("put");
    }

    fn blob_file(dir: &Path, blob: BlobId) -> PathBuf {
        let name = blob.to_string();
        for shard in std::fs::read_dir(dir.join("blobs")).expect("blobs dir") {
            let path = shard.expect("shard").path().join(&name);
            if path.exists() {
                return path;
            }
        }
        panic!("no file for blob {blob}");
    }

    #[tokio::test]
    async fn a_clean_store_is_consistent_with_exact_counts() {
        let (_dir, s) = open(HOUR);
        let b = bucket(&s, "clean").await;
        // 2500 bytes in 1024-byte chunks: 3 chunks, by the head's size.
        let big = blob(&s, 2500, 1024).await;
        put(&s, b, "big", vec![part_ref(big, 2500, None)]).await;
        let small = blob(&s, 10, 1024).await;
        put(&s, b, "small", vec![part_ref(small, 10, None)]).await;
        // A zero-byte blob that never had a file.
        put(&s, b, "empty", vec![part_ref(BlobId::new(), 0, None)]).await;
        let upload = UploadRecord {
            upload_id: UP1.into(),
            key: "multi".into(),
            initiated_ms: 0,
            content: ContentHeaders::default(),
            user_meta: Default::default(),
            tags: Default::default(),
            checksum_algorithm: None,
            checksum_type: None,
        };
        s.create_upload(b, &upload).await.expect("upload");
        // Part 1 records its chunk size (2 chunks); part 2 does not, so
        // the default of 1 MiB applies (1 chunk).
        let p1 = blob(&s, 1500, 1024).await;
        let p2 = blob(&s, 100, 1024).await;
        for (n, data) in [
            (1, part_ref(p1, 1500, Some(1024))),
            (2, part_ref(p2, 100, None)),
        ] {
            let part = PartRecord {
                part_number: n,
                last_modified_ms: 0,
                data,
            };
            s.put_part(b, &k("multi"), &up1(), &part)
                .await
                .expect("part");
        }

        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(r.consistent(), "{r}");
        assert_eq!(
            r,
            FsckReport {
                objects: 3,
                uploads: 1,
                referenced_blobs: 5,
                referenced_chunks: 3 + 1 + 2 + 1,
                stored_blobs: 4,
                stored_chunks: 3 + 1 + 2 + 1,
                ..Default::default()
            }
        );
    }

    #[tokio::test]
    async fn a_replaced_blob_is_queued_until_collected() {
        let (_dir, s) = open(Duration::ZERO);
        let b = bucket(&s, "overwrite").await;
        let first = blob(&s, 100, 1024).await;
        put(&s, b, "k", vec![part_ref(first, 100, None)]).await;
        let second = blob(&s, 200, 1024).await;
        put(&s, b, "k", vec![part_ref(second, 200, None)]).await;

        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(r.consistent(), "{r}");
        assert_eq!(r.queued_blobs, 1);
        assert_eq!(r.unreferenced_blobs + r.recent_unreferenced_blobs, 0);
        assert_eq!((r.stored_blobs, r.stored_chunks), (2, 2));

        assert_eq!(s.collect_garbage().expect("gc"), 1);
        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(r.consistent(), "{r}");
        assert_eq!(r.queued_blobs, 0);
        assert_eq!(
            (r.referenced_blobs, r.stored_blobs, r.stored_chunks),
            (1, 1, 1)
        );
    }

    #[tokio::test]
    async fn an_uncommitted_blob_is_garbage_once_old_enough() {
        let (_dir, s) = open(HOUR);
        // 1 MiB + 1 byte: 2 chunks when counted by size.
        blob(&s, 1024 * 1024 + 1, 64 * 1024).await;

        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(r.consistent(), "{r}");
        assert_eq!((r.unreferenced_blobs, r.unreferenced_chunks), (1, 2));
        assert_eq!(r.recent_unreferenced_blobs, 0);
        assert_eq!((r.stored_blobs, r.stored_chunks), (1, 2));

        let r = s.fsck(HOUR).await.expect("fsck");
        assert!(r.consistent(), "{r}");
        assert_eq!((r.unreferenced_blobs, r.unreferenced_chunks), (0, 0));
        assert_eq!(r.recent_unreferenced_blobs, 1);
    }

    #[tokio::test]
    async fn a_truncated_or_deleted_blob_file_is_inconsistent() {
        let (dir, s) = open(HOUR);
        let b = bucket(&s, "damaged").await;
        let id = blob(&s, 2500, 1024).await;
        put(&s, b, "k", vec![part_ref(id, 2500, None)]).await;
        let path = blob_file(dir.path(), id);

        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open blob file")
            .set_len(1000)
            .expect("truncate");
        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(!r.consistent());
        assert_eq!((r.wrong_size_chunks, r.missing_chunks), (1, 0));
        assert!(r.details[0].starts_with("damaged/k: "), "{r}");

        std::fs::remove_file(&path).expect("remove");
        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(!r.consistent());
        assert_eq!((r.wrong_size_chunks, r.missing_chunks), (0, 3));
        assert_eq!((r.stored_blobs, r.stored_chunks), (0, 0));
    }

    #[tokio::test]
    async fn a_referenced_blob_missing_from_live_blobs_is_inconsistent() {
        let (_dir, s) = open(HOUR);
        let b = bucket(&s, "live").await;
        let id = blob(&s, 10, 1024).await;
        put(&s, b, "k", vec![part_ref(id, 10, None)]).await;
        let txn = s.inner.db.begin_write().expect("txn");
        txn.open_table(LIVE_BLOBS)
            .expect("table")
            .remove(id.0.as_u128())
            .expect("remove");
        txn.commit().expect("commit");

        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(!r.consistent());
        assert_eq!(r.queued_but_referenced, 1);
        assert!(r.details[0].ends_with("not in live_blobs"), "{r}");
    }

    /// The checksum row of a blob, read directly.
    fn crc_row(s: &EmbeddedStorage, blob: BlobId) -> Option<Vec<u8>> {
        let txn = s.inner.db.begin_read().expect("txn");
        let t = txn.open_table(BLOB_CRCS).expect("table");
        let row = t.get(blob.0.as_u128()).expect("get");
        row.map(|v| v.value().to_vec())
    }

    /// Flips one byte of a blob file behind the store's back.
    fn flip_byte(dir: &Path, blob: BlobId, offset: u64) {
        use std::os::unix::fs::FileExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(blob_file(dir, blob))
            .expect("open blob file");
        let mut b = [0u8; 1];
        file.read_exact_at(&mut b, offset).expect("read");
        b[0] ^= 0xff;
        file.write_all_at(&b, offset).expect("write");
    }

    fn addr(blob: BlobId, index: u32) -> ChunkAddr {
        ChunkAddr {
            blob,
            index,
            chunk_size: 1024,
        }
    }

    #[tokio::test]
    async fn a_corrupt_chunk_is_refused_and_reported() {
        let (dir, s) = open(HOUR);
        let b = bucket(&s, "rot").await;
        let id = blob(&s, 2500, 1024).await;
        put(&s, b, "k", vec![part_ref(id, 2500, None)]).await;
        for i in 0..3 {
            s.get_chunk(addr(id, i)).await.expect("clean chunk");
        }
        assert!(s.fsck(Duration::ZERO).await.expect("fsck").consistent());

        flip_byte(dir.path(), id, 1024 + 17);
        match s.get_chunk(addr(id, 1)).await {
            Err(StorageError::Corrupt(m)) => assert!(m.contains("chunk 1 of blob"), "{m}"),
            other => panic!("corrupt chunk served: {other:?}"),
        }
        assert_eq!(s.get_chunk(addr(id, 0)).await.expect("chunk 0").len(), 1024);
        assert_eq!(s.get_chunk(addr(id, 2)).await.expect("chunk 2").len(), 452);

        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(!r.consistent());
        assert_eq!(r.bad_checksum_chunks, 1, "{r}");
        assert_eq!((r.missing_chunks, r.wrong_size_chunks), (0, 0));
        assert_eq!(
            r.details,
            vec![format!(
                "rot/k: chunk 1 of blob {id} does not match its checksum"
            )]
        );
    }

    #[tokio::test]
    async fn a_corrupt_part_is_reported_with_its_upload() {
        let (dir, s) = open(HOUR);
        let b = bucket(&s, "parts").await;
        let upload = UploadRecord {
            upload_id: UP1.into(),
            key: "multi".into(),
            initiated_ms: 0,
            content: ContentHeaders::default(),
            user_meta: Default::default(),
            tags: Default::default(),
            checksum_algorithm: None,
            checksum_type: None,
        };
        s.create_upload(b, &upload).await.expect("upload");
        let id = blob(&s, 1500, 1024).await;
        let part = PartRecord {
            part_number: 3,
            last_modified_ms: 0,
            data: part_ref(id, 1500, Some(1024)),
        };
        s.put_part(b, &k("multi"), &up1(), &part)
            .await
            .expect("part");
        assert!(crc_row(&s, id).is_some(), "put_part stores the checksums");

        flip_byte(dir.path(), id, 3);
        assert!(matches!(
            s.get_chunk(addr(id, 0)).await,
            Err(StorageError::Corrupt(_))
        ));
        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert_eq!(r.bad_checksum_chunks, 1, "{r}");
        assert_eq!(
            r.details,
            vec![format!(
                "parts/multi upload {UP1} part 3: chunk 0 of blob {id} does not match its checksum"
            )]
        );
    }

    #[tokio::test]
    async fn checksum_rows_come_with_the_commit_and_go_with_the_file() {
        let (_dir, s) = open(Duration::ZERO);
        let b = bucket(&s, "rows").await;
        let first = blob(&s, 2500, 1024).await;
        assert!(crc_row(&s, first).is_none(), "nothing before the commit");
        assert_eq!(s.inner.pending_crcs.held(), (1, 3));
        put(&s, b, "k", vec![part_ref(first, 2500, None)]).await;
        assert_eq!(s.inner.pending_crcs.held(), (0, 0), "taken by the commit");
        let row = crc_row(&s, first).expect("row");
        assert_eq!(row.len(), 4 + 3 * 4);
        assert_eq!(&row[..4], &1024u32.to_le_bytes());
        let chunk = s.get_chunk(addr(first, 2)).await.expect("chunk");
        assert_eq!(&row[12..], &crate::storage::chunk_crc(&chunk).to_le_bytes());

        let second = blob(&s, 100, 1024).await;
        put(&s, b, "k", vec![part_ref(second, 100, None)]).await;
        assert!(crc_row(&s, first).is_some(), "kept while queued");
        assert_eq!(s.collect_garbage().expect("gc"), 1);
        assert!(crc_row(&s, first).is_none(), "gone with the file");
        assert!(crc_row(&s, second).is_some());
        assert!(s.fsck(Duration::ZERO).await.expect("fsck").consistent());

        // A discarded blob leaves nothing behind.
        let dropped = blob(&s, 2500, 1024).await;
        s.discard_blob(dropped, 3).await.expect("discard");
        assert_eq!(s.inner.pending_crcs.held(), (0, 0));

        // A commit that fails takes the checksums out of memory all the same.
        let failed = blob(&s, 10, 1024).await;
        let err = s
            .put_object(
                b,
                &k("k"),
                &head(vec![part_ref(failed, 10, None)], 1024),
                &WriteCondition::IfNoneMatch,
            )
            .await;
        assert!(matches!(err, Err(StorageError::PreconditionFailed)));
        assert_eq!(s.inner.pending_crcs.held(), (0, 0));
        assert!(crc_row(&s, failed).is_none());
    }

    #[tokio::test]
    async fn a_blob_committed_without_checksums_is_read_unchecked() {
        let (dir, s) = open(HOUR);
        let b = bucket(&s, "legacy").await;
        let id = blob(&s, 2500, 1024).await;
        // As if written before checksums existed.
        s.inner.pending_crcs.forget(id);
        put(&s, b, "k", vec![part_ref(id, 2500, None)]).await;
        assert!(crc_row(&s, id).is_none());
        flip_byte(dir.path(), id, 1024);
        s.get_chunk(addr(id, 1)).await.expect("served unchecked");
        let r = s.fsck(Duration::ZERO).await.expect("fsck");
        assert!(r.consistent(), "{r}");
    }

    #[tokio::test]
    async fn the_start_up_sweep_drops_rows_of_unknown_blobs() {
        let dir = tempfile::tempdir().expect("tmp");
        let stale = BlobId::new();
        let kept = {
            let s = EmbeddedStorage::open(dir.path(), HOUR).expect("open");
            let b = bucket(&s, "sweep").await;
            let kept = blob(&s, 10, 1024).await;
            put(&s, b, "k", vec![part_ref(kept, 10, None)]).await;
            let txn = s.inner.db.begin_write().expect("txn");
            txn.open_table(BLOB_CRCS)
                .expect("table")
                .insert(stale.0.as_u128(), [0u8; 8].as_slice())
                .expect("insert");
            txn.commit().expect("commit");
            assert!(crc_row(&s, stale).is_some());
            kept
        };
        let s = EmbeddedStorage::open(dir.path(), HOUR).expect("reopen");
        assert!(crc_row(&s, stale).is_none());
        assert!(crc_row(&s, kept).is_some());
    }
}
