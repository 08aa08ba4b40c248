//! `s3gw fsck` on Cassandra: walks every bucket's key index and uploads,
//! reads every referenced chunk, and scans the chunk and queue tables.
//!
//! Read-only and meant for maintenance: it reads every referenced chunk
//! (that is the check), so it moves as many bytes as the store holds, and
//! it keeps the referenced and stored blob ids in memory.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::objects::{decode_head_row, with_data};
use super::rows::{BlobRow, ChunkKeyRow, ChunkRow, HeadRowWithKey};
use super::versions::{row_of, walked_version};
use super::{cql_index, crc_mismatch, now_ms, CassandraStorage, StorageError};
use crate::storage::fsck::{chunk_len, FsckReport};
use crate::storage::{BlobId, PartRef};

/// Chunk reads in flight.
const READS_IN_FLIGHT: usize = 16;
/// Key index rows read per query.
const PAGE: i32 = 500;
/// For parts that do not record their chunk size (see multipart.rs).
const DEFAULT_CHUNK: u32 = 1024 * 1024;

/// A referenced blob: its size, chunk size, and who references it.
struct Expected {
    size: u64,
    chunk_size: u32,
    owner: String,
}

impl CassandraStorage {
    /// Reads every chunk of every referenced blob and checks its size and,
    /// when it has one, its checksum.
    async fn check_chunks(
        &self,
        expected: &HashMap<BlobId, Expected>,
        report: &mut FsckReport,
    ) -> Result<(), StorageError> {
        // (blob, size, chunk size, index) of every referenced chunk.
        let addrs: Vec<(BlobId, u64, u32, u32)> = expected
            .iter()
            .flat_map(|(blob, e)| {
                let n = crate::storage::chunk_count(e.size, e.chunk_size);
                (0..n).map(move |i| (*blob, e.size, e.chunk_size, i))
            })
            .collect();
        let st = &self.inner.st;
        let mut results = stream::iter(addrs)
            .map(|(blob, size, chunk_size, i)| async move {
                let rows: Vec<ChunkRow> = self
                    .inner
                    .cql
                    .rows(&st.chunk_get, (blob.0, cql_index(i)?))
                    .await?;
                // Only the length and the verdict leave this future, so at
                // most READS_IN_FLIGHT chunks are held at once.
                let got = match rows.into_iter().next() {
                    Some(ChunkRow { data: Some(d), crc }) => {
                        Some((d.len() as u64, crc_mismatch(&d, crc)))
                    }
                    _ => None,
                };
                Ok::<_, StorageError>((blob, chunk_len(size, chunk_size, i), i, got))
            })
            .buffer_unordered(READS_IN_FLIGHT);
        while let Some((blob, want, i, got)) = results.try_next().await? {
            report.referenced_chunks += 1;
            let owner = || expected.get(&blob).map(|e| e.owner.as_str()).unwrap_or("?");
            match got {
                None => {
                    report.missing_chunks += 1;
                    report.note(|| format!("{}: chunk {i} of blob {blob} is missing", owner()));
                }
                // Damaged bytes explain any length, so a bad checksum is
                // reported first; a wrong size with a good checksum means
                // the record and the chunk disagree.
                Some((_, Some((stored, actual)))) => {
                    report.bad_checksum_chunks += 1;
                    report.note(|| {
                        let o = owner();
                        format!(
                            "{o}: chunk {i} of blob {blob}: crc {actual:08x}, stored {stored:08x}"
                        )
                    });
                }
                Some((len, None)) if len != want => {
                    report.wrong_size_chunks += 1;
                    report.note(|| {
                        format!(
                            "{}: chunk {i} of blob {blob} has {len} bytes, not {want}",
                            owner()
                        )
                    });
                }
                Some((_, None)) => {}
            }
        }
        Ok(())
    }
}

pub(super) async fn fsck(
    s: &CassandraStorage,
    min_age: Duration,
) -> Result<FsckReport, StorageError> {
    let mut report = FsckReport::default();
    let mut expected: HashMap<BlobId, Expected> = HashMap::new();
    let mut add = |p: &PartRef, chunk_size: u32, owner: &dyn Fn() -> String| {
        expected.entry(p.blob).or_insert_with(|| Expected {
            size: p.size,
            chunk_size: p.chunk_size.unwrap_or(chunk_size),
            owner: owner(),
        });
    };
    for bucket in super::buckets::list_buckets(s).await? {
        for shard in 0..s.inner.index_shards {
            let shard = i16::try_from(shard).unwrap_or(i16::MAX);
            let mut after = String::new();
            // Each key's current version, to skip noncurrent copies of it.
            let mut current: HashMap<String, (i64, String)> = HashMap::new();
            loop {
                let rows: Vec<HeadRowWithKey> = s
                    .inner
                    .cql
                    .rows(
                        &s.inner.st.fsck_heads,
                        (bucket.id.0, shard, after.as_str(), PAGE),
                    )
                    .await?;
                let n = rows.len();
                for row in rows {
                    let (key, row, data) = row.split();
                    if let Some((_, h)) = decode_head_row(row)? {
                        report.objects += 1;
                        current.insert(key.clone(), row_of(&h));
                        let h = with_data(h, data);
                        report.inline(&h, || format!("{}/{key}", bucket.name));
                        for p in &h.parts {
                            add(p, h.chunk_size, &|| format!("{}/{key}", bucket.name));
                        }
                    }
                    after = key;
                }
                if n < PAGE as usize {
                    break;
                }
            }
            s.walk_versions(bucket.id, shard, |row| {
                if current.get(&row.key) == Some(&(row.inv, row.vid.clone())) {
                    return Ok(());
                }
                let (key, h) = walked_version(row)?;
                report.noncurrent_versions += 1;
                let name = || format!("{}/{key} version {}", bucket.name, h.version_ref());
                report.inline(&h, name);
                for p in &h.parts {
                    add(p, h.chunk_size, &name);
                }
                Ok(())
            })
            .await?;
        }
        let mut cursor: Option<(String, String)> = None;
        loop {
            let page = super::multipart::list_uploads(
                s,
                bucket.id,
                "",
                cursor.as_ref().map(|(k, u)| (k.as_str(), u.as_str())),
                1000,
            )
            .await?;
            let Some(last) = page.last() else { break };
            cursor = Some((last.key.clone(), last.upload_id.clone()));
            for u in &page {
                report.uploads += 1;
                for v in s.part_versions(&u.upload_id, 0, |_| false).await? {
                    add(&v.data, DEFAULT_CHUNK, &|| {
                        format!(
                            "{}/{} upload {} part {}",
                            bucket.name, u.key, u.upload_id, v.part_number
                        )
                    });
                }
            }
        }
    }
    report.referenced_blobs = expected.len() as u64;
    s.check_chunks(&expected, &mut report).await?;

    let queued: HashSet<BlobId> = s
        .inner
        .cql
        .scan::<BlobRow>(&s.inner.st.fsck_queue)
        .await?
        .into_iter()
        .map(|r| BlobId(r.blob))
        .collect();
    report.queued_blobs = queued.len() as u64;
    for blob in queued.iter().filter(|b| expected.contains_key(b)) {
        report.queued_but_referenced += 1;
        let owner = expected.get(blob).map(|e| e.owner.as_str()).unwrap_or("?");
        report.note(|| format!("{owner}: blob {blob} is referenced but queued for deletion"));
    }

    report.pending_blobs = s
        .inner
        .cql
        .scan::<BlobRow>(&s.inner.st.fsck_pending)
        .await?
        .len() as u64;

    let mut stored: HashMap<BlobId, u64> = HashMap::new();
    for ChunkKeyRow { blob, .. } in s
        .inner
        .cql
        .scan::<ChunkKeyRow>(&s.inner.st.fsck_chunks)
        .await?
    {
        *stored.entry(BlobId(blob)).or_default() += 1;
    }
    report.stored_blobs = stored.len() as u64;
    report.stored_chunks = stored.values().sum();
    let cutoff = now_ms() - i64::try_from(min_age.as_millis()).unwrap_or(i64::MAX);
    for (blob, chunks) in &stored {
        if expected.contains_key(blob) || queued.contains(blob) {
            continue;
        }
        if blob.created_ms() < cutoff {
            report.unreferenced_blobs += 1;
            report.unreferenced_chunks += chunks;
        } else {
            report.recent_unreferenced_blobs += 1;
        }
    }
    Ok(report)
}
