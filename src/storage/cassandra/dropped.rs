//! Heads left in deleted buckets.
//!
//! DeleteBucket removes the bucket row only when every shard of its key
//! index is empty, but a PUT that looked the bucket up just before can
//! still write its head afterwards: the head is committed, unreachable
//! (the name now leads nowhere, or to a new bucket id), and its blobs are
//! referenced by nothing anyone can see. So a deleted bucket's id is filed
//! in `dropped_buckets`. Once no upload that started before the deletion
//! can still commit (the deletion time plus the commit deadline and the
//! sweep margin, as for pending blobs, `sweep.rs`), the collector releases
//! the blobs of every head left in the bucket's index, removes the index
//! partitions with deletions stamped at that moment (so a head write that
//! timed out and lands later is hidden too; its blobs are still pending
//! and go through the sweep), aborts uploads created in the race, and
//! forgets the bucket.

use super::gc::Released;
use super::objects::decode_head_row;
use super::rows::{DroppedRow, HeadRowWithKey};
use super::versions::walked_version;
use super::{CassandraStorage, StorageError};
use crate::storage::{now_ms, BucketId, PartRef};

/// Key index rows read per query.
const PAGE: i32 = 500;

impl CassandraStorage {
    /// Files a bucket that was just deleted for the cleanup.
    pub(super) async fn file_dropped(&self, bucket: BucketId) -> Result<(), StorageError> {
        self.inner
            .cql
            .exec(&self.inner.st.dropped_put, (bucket.0, now_ms()))
            .await
    }

    /// Cleans every dropped bucket whose uploads can no longer commit;
    /// returns the blobs released.
    pub async fn clean_dropped_buckets(&self, now_ms: i64) -> Result<u64, StorageError> {
        let o = &self.inner.opts;
        let wait = o.commit_deadline.saturating_add(o.sweep_margin).as_millis() as i64;
        let dropped: Vec<DroppedRow> = self.inner.cql.rows(&self.inner.st.dropped_all, ()).await?;
        let mut released = 0;
        for DroppedRow { id, dropped_ms } in dropped {
            let dropped_ms = dropped_ms.unwrap_or(0);
            if now_ms < dropped_ms + wait + self.inner.sweep.commit_slack_ms() {
                continue;
            }
            // Every head written into the bucket is stamped before this.
            let fence_ms = dropped_ms + o.commit_deadline.as_millis() as i64;
            let fence_us = (fence_ms + self.inner.sweep.commit_slack_ms()).saturating_mul(1000);
            released += self.clean_bucket(BucketId(id), fence_us).await?;
            self.inner
                .cql
                .exec(&self.inner.st.dropped_delete, (id,))
                .await?;
            tracing::info!(bucket = %id, released, "cleaned up a deleted bucket");
        }
        Ok(released)
    }

    async fn clean_bucket(&self, bucket: BucketId, fence_us: i64) -> Result<u64, StorageError> {
        let st = &self.inner.st;
        let mut released = 0;
        for shard in 0..self.inner.index_shards {
            let shard = i16::try_from(shard).unwrap_or(i16::MAX);
            let mut after = String::new();
            loop {
                let rows: Vec<HeadRowWithKey> = self
                    .inner
                    .cql
                    .rows(&st.fsck_heads, (bucket.0, shard, after.as_str(), PAGE))
                    .await?;
                let n = rows.len();
                let mut blobs: Vec<Released> = Vec::new();
                for row in rows {
                    let (key, row, _) = row.split();
                    if let Some((_, h)) = decode_head_row(row)? {
                        let part = |p: &PartRef| Released::part(p, h.chunk_size);
                        blobs.extend(h.parts.iter().map(part));
                    }
                    after = key;
                }
                released += blobs.len() as u64;
                self.inner.gc.release(blobs).await?;
                if n < PAGE as usize {
                    break;
                }
            }
            self.inner
                .cql
                .exec(&st.shard_delete_at, (fence_us + 1, bucket.0, shard))
                .await?;
            // Noncurrent versions (a bucket is deleted only without any,
            // so these too were written in the race): their blobs, then
            // the shard's partition, as for heads. A copy of a head
            // released above names the same blobs: a second release of a
            // blob is harmless.
            let mut blobs: Vec<Released> = Vec::new();
            self.walk_versions(bucket, shard, |row| {
                let (_, h) = walked_version(row)?;
                blobs.extend(super::objects::released(&h));
                Ok(())
            })
            .await?;
            released += blobs.len() as u64;
            self.inner.gc.release(blobs).await?;
            self.inner
                .cql
                .exec(
                    &self.inner.vst.versions_shard_delete_at,
                    (fence_us + 1, bucket.0, shard),
                )
                .await?;
        }
        self.abort_all_uploads(bucket).await?;
        Ok(released)
    }
}
