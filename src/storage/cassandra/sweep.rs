//! The sweep of pending blobs: the blobs of uploads that never committed.
//!
//! `begin_blob` files every blob in `pending_blobs` with its owner (the key
//! or the part it is for) before its first chunk is written; the blob
//! leaves when its owner's record references it or it is discarded. What
//! stays behind is the blob of an upload whose gateway died, or whose
//! commit failed in a way that may still have written (a timeout: the
//! write may be applied later, with the timestamp it was sent with).
//!
//! Every writer commits before its blob's deadline (`created +
//! commit_deadline`, less a slack covering the statement's own retries),
//! so no record naming the blob is stamped at or after the deadline. Once
//! the deadline is `sweep_margin` in the past, the sweep **fences** the
//! owner: it makes sure that no write stamped before the deadline can
//! become current, by writing the owner's current state again (or a
//! deletion, if it has none) at the deadline's timestamp plus one. Writes
//! made since are stamped later than that (the margin exceeds clock skew
//! plus a statement timeout), so the fence never hides them. Then it looks:
//! a blob that the owner's record references is committed and only leaves
//! the pending set; any other blob can never be referenced and is
//! released, to be collected after the grace period like any other.
//!
//! A part's owner is a live upload, whose Complete reads its parts: the
//! sweep holds the upload's claim (`claims.rs`) while it looks and fences,
//! so no Complete chooses the blob in between. For a finished upload the
//! claim says how it finished: an aborted upload's parts are never
//! referenced; a completed one's are referenced only by its head, which is
//! decided when that head is current. Anything the sweep cannot decide is
//! left pending (a leak, never a loss) and counted.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use uuid::Uuid;

use super::claims::{Claimed, Finish};
use super::cql::Cql;
use super::gc::{pending_slot, Released, HOUR_MS};
use super::rows::{BlobRow, ChunkProbe, ChunkRow, PendingRow, StampedHeadRow};
use super::statements::SweepStatements;
use super::{corrupt, cql_index, CassandraStorage, StorageError};
use crate::storage::{BlobId, BlobOwner, BucketId};

/// Pending rows read per query.
const SLOT_PAGE: i32 = 200;
/// Hours of pending slots looked at by one sweep, back from the newest
/// one that is due. Rows in older slots that could not be decided stay
/// where they are (`fsck` counts them).
const SLOTS_PER_SWEEP: i64 = 7 * 24;
/// Chunk existence probes in flight when sizing an unfinished blob.
const PROBE_BATCH: u32 = 16;
/// Consecutive absent chunks that end the probe: more than the chunks one
/// upload writes at once (`config::MAX_CHUNKS_IN_FLIGHT`), the only gaps an
/// unfinished blob can have.
const PROBE_GAP: u32 = 64;
/// The last pending slot whose rows were all decided (a row of `settings`).
pub(crate) const PENDING_CURSOR: &str = "pending_cursor";

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Blobs of uploads that never committed, released to the collector.
    pub released: u64,
    /// Blobs found committed after all (their pending row had stayed).
    pub committed: u64,
    /// Blobs past their deadline that could not be decided yet.
    pub undecided: u64,
}

/// The part a pending blob was written for.
#[derive(Clone, Copy)]
struct PartOwner<'a> {
    bucket: BucketId,
    key: &'a str,
    upload_id: &'a str,
    number: i32,
}

enum Verdict {
    Committed,
    Orphan,
    Undecided(&'static str),
}

/// The sweep: owns the pending set's statements and the deadlines that
/// bound a commit. It hands orphans to [`super::gc::Gc`] and holds upload
/// claims through [`super::claims::Claims`]; neither of them calls it.
pub(super) struct Sweep {
    cql: Arc<Cql>,
    st: SweepStatements,
    opts: SweepOptions,
}

/// The settings the sweep and the commit deadline follow.
pub(super) struct SweepOptions {
    pub commit_deadline: std::time::Duration,
    pub sweep_margin: std::time::Duration,
    pub request_timeout: std::time::Duration,
}

impl Sweep {
    pub(crate) async fn open(
        cql: Arc<Cql>,
        ks: &str,
        opts: SweepOptions,
    ) -> Result<Sweep, StorageError> {
        Ok(Sweep {
            st: SweepStatements::prepare(&cql.session, ks).await?,
            cql,
            opts,
        })
    }

    /// The moment (ms) after which no record may be written naming `blob`.
    fn commit_deadline_ms(&self, blob: BlobId) -> i64 {
        let deadline = self.opts.commit_deadline.as_millis() as i64;
        blob.created_ms().saturating_add(deadline)
    }

    /// How long before its deadline a commit must start: three statement
    /// timeouts (a statement and the driver's retries of it), at least
    /// 30 s, but never more than a quarter of the deadline.
    pub(crate) fn commit_slack_ms(&self) -> i64 {
        let o = &self.opts;
        let slack = (o.request_timeout.as_millis() as i64 * 3).max(30_000);
        slack.min(o.commit_deadline.as_millis() as i64 / 4)
    }

    /// Refuses (`TooLate`) to commit a record naming a blob whose deadline
    /// is near: the sweep may already be deciding on it.
    pub(crate) fn check_deadline(
        &self,
        blobs: impl Iterator<Item = BlobId>,
    ) -> Result<(), StorageError> {
        let latest = super::now_ms() + self.commit_slack_ms();
        for blob in blobs {
            if latest >= self.commit_deadline_ms(blob) {
                tracing::warn!(%blob, "an upload ran past its commit deadline");
                return Err(StorageError::TooLate);
            }
        }
        Ok(())
    }

    /// Decides on every pending blob whose commit deadline passed more
    /// than the sweep margin before `now_ms`, until `budget` runs out.
    pub(crate) async fn sweep_pending(
        &self,
        store: &CassandraStorage,
        now_ms: i64,
        budget: Option<Instant>,
    ) -> Result<SweepOutcome, StorageError> {
        let o = &self.opts;
        let wait = o.commit_deadline.saturating_add(o.sweep_margin);
        // Blobs made before this are due.
        let horizon = now_ms - wait.as_millis() as i64;
        let last = horizon.div_euclid(HOUR_MS);
        let cursor = self
            .cql
            .setting_i64(&self.st.setting_get, PENDING_CURSOR)
            .await?;
        let first = cursor.map_or(last - SLOTS_PER_SWEEP, |c| c + 1);
        let first = first.max(last - SLOTS_PER_SWEEP);
        let mut out = SweepOutcome::default();
        // The cursor moves over slots that are wholly due and emptied.
        let mut advance = cursor;
        let mut contiguous = true;
        for slot in first..=last {
            if budget.is_some_and(|b| Instant::now() >= b) {
                break;
            }
            let left = self.sweep_slot(store, slot, horizon, &mut out).await?;
            let wholly_due = (slot + 1) * HOUR_MS <= horizon;
            if contiguous && wholly_due && left == 0 {
                advance = Some(slot);
            } else {
                contiguous = false;
            }
        }
        if advance != cursor {
            if let Some(slot) = advance {
                self.cql
                    .exec(&self.st.setting_put, (PENDING_CURSOR, slot.to_string()))
                    .await?;
            }
        }
        let stats = store.inner.gc.stats();
        stats.swept_blobs.fetch_add(out.released, Ordering::Relaxed);
        stats
            .pending_undecided
            .store(out.undecided, Ordering::Relaxed);
        Ok(out)
    }

    /// Sweeps one hour of pending blobs; returns how many rows stay.
    async fn sweep_slot(
        &self,
        store: &CassandraStorage,
        slot: i64,
        horizon: i64,
        out: &mut SweepOutcome,
    ) -> Result<u64, StorageError> {
        let mut after = Uuid::nil();
        let mut left = 0;
        loop {
            let rows: Vec<PendingRow> = self
                .cql
                .rows(&self.st.pending_slot, (slot, after, SLOT_PAGE))
                .await?;
            let n = rows.len();
            for PendingRow { blob: id, owner } in rows {
                after = id;
                let blob = BlobId(id);
                if blob.created_ms() > horizon {
                    left += 1;
                    continue;
                }
                match self.decide(store, blob, owner.as_deref()).await? {
                    Verdict::Committed => {
                        store.inner.gc.unpend(blob).await?;
                        out.committed += 1;
                    }
                    Verdict::Orphan => {
                        let chunks = self.stored_chunks(blob).await?;
                        let bytes = self.stored_bytes(blob, chunks).await?;
                        let r = Released {
                            blob,
                            chunks,
                            bytes,
                        };
                        store.inner.gc.release(vec![r]).await?;
                        store.inner.gc.unpend(blob).await?;
                        out.released += 1;
                        tracing::info!(%blob, chunks, bytes, "swept the blob of an upload that never committed");
                    }
                    Verdict::Undecided(why) => {
                        left += 1;
                        out.undecided += 1;
                        tracing::warn!(%blob, why, "left a pending blob for a later sweep");
                    }
                }
            }
            if n < SLOT_PAGE as usize {
                return Ok(left);
            }
        }
    }

    async fn decide(
        &self,
        store: &CassandraStorage,
        blob: BlobId,
        owner: Option<&str>,
    ) -> Result<Verdict, StorageError> {
        let Some(owner) = owner else {
            return Ok(Verdict::Undecided(
                "no owner recorded (written before schema 4)",
            ));
        };
        let owner: BlobOwner = serde_json::from_str(owner).map_err(corrupt)?;
        // Every write naming the blob is stamped before this (µs).
        let fence_us = self.commit_deadline_ms(blob).saturating_mul(1000);
        match owner {
            BlobOwner::Object { bucket, key } => {
                self.fence_head(store, bucket, &key, fence_us).await?;
                self.head_verdict(store, blob, bucket, &key).await
            }
            BlobOwner::Part {
                bucket,
                key,
                upload_id,
                part_number,
            } => {
                let number = i32::try_from(part_number).map_err(corrupt)?;
                let part = PartOwner {
                    bucket,
                    key: &key,
                    upload_id: &upload_id,
                    number,
                };
                self.decide_part(store, blob, &part, fence_us).await
            }
        }
    }

    /// Makes sure no head of `key` stamped at or before `fence_us` can
    /// become current: the current row, if stamped no later, is written
    /// again just after it; no row at all becomes a deletion just after it.
    async fn fence_head(
        &self,
        store: &CassandraStorage,
        bucket: BucketId,
        key: &str,
        fence_us: i64,
    ) -> Result<(), StorageError> {
        let st = &self.st;
        let shard = store.shard_of(key);
        let rows: Vec<StampedHeadRow> = self
            .cql
            .rows(&st.head_get_stamped, (bucket.0, shard, key))
            .await?;
        let stamp = fence_us + 1;
        match rows.into_iter().next() {
            Some(StampedHeadRow {
                written: Some(written),
                ..
            }) if written > fence_us => Ok(()),
            Some(StampedHeadRow {
                version,
                etag,
                head,
                parts,
                data,
                ..
            }) => {
                // Every column, the inline bytes too: no cell of a write
                // stamped before the fence may outlive it.
                let row = (
                    bucket.0, shard, key, version, etag, head, parts, data, stamp,
                );
                self.cql.exec(&st.head_put_at, row).await
            }
            None => {
                self.cql
                    .exec(&st.head_delete_at, (stamp, bucket.0, shard, key))
                    .await
            }
        }
    }

    /// Committed if the current head of `key` or one of its noncurrent
    /// versions references `blob`, else an orphan (call after fencing the
    /// key).
    async fn head_verdict(
        &self,
        store: &CassandraStorage,
        blob: BlobId,
        bucket: BucketId,
        key: &str,
    ) -> Result<Verdict, StorageError> {
        // Referenced by a noncurrent version: it was current before (only
        // a current version is ever kept), so committed too.
        let (_, kept) = store.kept_blobs(bucket, key).await?;
        Ok(if kept.contains(&blob) {
            Verdict::Committed
        } else {
            Verdict::Orphan
        })
    }

    async fn part_recorded(
        &self,
        blob: BlobId,
        upload_id: &str,
        number: i32,
    ) -> Result<bool, StorageError> {
        let rows: Vec<BlobRow> = self
            .cql
            .rows(&self.st.part_get, (upload_id, number, blob.0))
            .await?;
        Ok(!rows.is_empty())
    }

    async fn decide_part(
        &self,
        store: &CassandraStorage,
        blob: BlobId,
        part: &PartOwner<'_>,
        fence_us: i64,
    ) -> Result<Verdict, StorageError> {
        let PartOwner {
            bucket,
            key,
            upload_id,
            number,
        } = *part;
        if self.part_recorded(blob, upload_id, number).await? {
            // The upload owns it: its Complete or Abort releases it.
            return Ok(Verdict::Committed);
        }
        let claim = match store.inner.claims.claim_upload(upload_id).await {
            Ok(Claimed::Mine(claim)) => claim,
            Ok(Claimed::Committed(done)) => {
                return self
                    .finished_part(store, blob, bucket, key, upload_id, Some(done.finish))
                    .await
            }
            Err(StorageError::Busy(_) | StorageError::Unavailable(_)) => {
                return Ok(Verdict::Undecided("the upload is being finished"))
            }
            Err(e) => return Err(e),
        };
        // While the claim is ours no Complete reads the parts.
        let looked = self.fence_part(store, blob, part, fence_us);
        let verdict = match looked.await {
            Ok(v) => v,
            Err(e) => {
                store.inner.claims.drop_claim(upload_id, claim).await;
                return Err(e);
            }
        };
        let still_ours = store.inner.claims.give_up_claim(upload_id, claim).await?;
        Ok(match verdict {
            // A Complete that took the claim over may have chosen the blob
            // before the fence: decide again next time.
            Verdict::Orphan if !still_ours => {
                Verdict::Undecided("the upload's claim was taken over")
            }
            v => v,
        })
    }

    /// With the upload claimed: fences the part row of a live upload.
    async fn fence_part(
        &self,
        store: &CassandraStorage,
        blob: BlobId,
        part: &PartOwner<'_>,
        fence_us: i64,
    ) -> Result<Verdict, StorageError> {
        let PartOwner {
            bucket,
            key,
            upload_id,
            number,
        } = *part;
        if super::multipart::get_upload(store, bucket, key, upload_id)
            .await?
            .is_none()
        {
            // Finished long ago (its claim expired), or never created.
            return self
                .finished_part(store, blob, bucket, key, upload_id, None)
                .await;
        }
        if self.part_recorded(blob, upload_id, number).await? {
            return Ok(Verdict::Committed);
        }
        self.cql
            .exec(
                &self.st.part_delete_at,
                (fence_us + 1, upload_id, number, blob.0),
            )
            .await?;
        Ok(Verdict::Orphan)
    }

    /// A part blob whose upload is finished (`finish`: how, if its claim
    /// is still there).
    async fn finished_part(
        &self,
        store: &CassandraStorage,
        blob: BlobId,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
        finish: Option<Finish>,
    ) -> Result<Verdict, StorageError> {
        let (current, kept) = store.kept_blobs(bucket, key).await?;
        if kept.contains(&blob) {
            return Ok(Verdict::Committed);
        }
        let its_head_is_current =
            current.is_some_and(|h| h.upload_id.as_deref() == Some(upload_id));
        Ok(match finish {
            // No head is ever written from an aborted upload's parts.
            Some(Finish::Abort) => Verdict::Orphan,
            // The one head made from the upload's parts is current and
            // does not use the blob.
            _ if its_head_is_current => Verdict::Orphan,
            // Its head may be a write that timed out and may yet surface.
            _ => Verdict::Undecided("the upload's head is not current"),
        })
    }

    /// One past the highest chunk index stored for `blob`, probing until
    /// `PROBE_GAP` indexes in a row are absent.
    async fn stored_chunks(&self, blob: BlobId) -> Result<u32, StorageError> {
        let st = &self.st;
        let mut end = 0u32;
        let mut next = 0u32;
        while next - end < PROBE_GAP {
            let found: Vec<Result<Option<u32>, StorageError>> =
                stream::iter(next..next + PROBE_BATCH)
                    .map(|i| async move {
                        let rows: Vec<ChunkProbe> = self
                            .cql
                            .rows(&st.chunk_exists, (blob.0, cql_index(i)?))
                            .await?;
                        Ok((!rows.is_empty()).then_some(i))
                    })
                    .buffer_unordered(PROBE_BATCH as usize)
                    .collect()
                    .await;
            for f in found {
                if let Some(i) = f? {
                    end = end.max(i + 1);
                }
            }
            next += PROBE_BATCH;
        }
        Ok(end)
    }

    /// The bytes of an unfinished blob of `chunks` chunks: all but the
    /// last chunk are whole (a gap counts as whole), so two reads tell.
    async fn stored_bytes(&self, blob: BlobId, chunks: u32) -> Result<u64, StorageError> {
        let len = |i: u32| async move {
            let rows: Vec<ChunkRow> = self
                .cql
                .rows(&self.st.chunk_get, (blob.0, cql_index(i)?))
                .await?;
            let data = rows.into_iter().next().and_then(|r| r.data);
            Ok::<u64, StorageError>(data.map_or(0, |d| d.len() as u64))
        };
        let Some(whole) = chunks.checked_sub(1) else {
            return Ok(0);
        };
        let first = if whole > 0 { len(0).await? } else { 0 };
        Ok(u64::from(whole) * first + len(whole).await?)
    }

    /// Files a blob about to be written in `pending_blobs`, with its owner.
    pub(crate) async fn begin_blob(
        &self,
        blob: BlobId,
        owner: &BlobOwner,
    ) -> Result<(), StorageError> {
        let owner = serde_json::to_string(owner).map_err(corrupt)?;
        self.cql
            .exec(&self.st.pending_put, (pending_slot(blob), blob.0, owner))
            .await
    }
}
