//! Pending blobs and the garbage collector.
//!
//! A blob is filed in `pending_blobs` (by the hour its v7 id was made)
//! before any chunk is written, and leaves it when a record references it
//! or it is discarded; what a crash leaves there is for the orphan sweep.
//! A blob that a commit replaces is filed in `gc_queue` under the minute
//! after which it may go (now + grace). The collector takes whole minutes
//! once they are past, deletes their blobs' chunk partitions, then drops
//! the minute's partition with one partition tombstone, so the queue never
//! piles up row tombstones.
//!
//! Every gateway runs a collector, and they take turns: a run starts only
//! while its gateway holds `gc_lease`, a row of `settings` with a TTL taken
//! and renewed by lightweight transactions. The lease only saves duplicate
//! work: every step is idempotent and only ever deletes released blobs, so
//! two collectors at once (a lease that expired mid-run) are still safe.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use uuid::Uuid;

use super::rows::QueueRow;
use super::{cql_index, now_ms, CassandraStorage, StorageError};
use crate::storage::{BlobId, GcStats, PartRef};

pub(super) const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;
/// Chunk deletes in flight for one collector.
const DELETES_IN_FLIGHT: usize = 16;
/// Queue rows read per query.
const QUEUE_PAGE: i32 = 500;
/// Minutes a collector run takes at most, so that a long outage is caught
/// up over several runs.
const MINUTES_PER_RUN: i64 = 120;
/// Minutes left alone after they pass, for writers whose clocks lag.
const CLOCK_MARGIN_MINUTES: i64 = 1;
/// Minutes between the collector's cursor and the earliest minute a
/// release files into: other gateways' collectors may be a little ahead.
const FLOOR_MARGIN_MINUTES: i64 = 2;
/// The last queue minute collected (a row of `settings`).
pub const CURSOR: &str = "gc_cursor";
/// The row of `settings` naming the gateway whose collector runs.
const LEASE: &str = "gc_lease";
/// How long a lease lasts unless renewed, in collector ticks.
const LEASE_TICKS: u32 = 3;
/// The collector's usual tick, and so a 90 s lease.
pub const GC_EVERY: Duration = Duration::from_secs(30);

/// A blob handed to the collector: how many chunks it has and how many
/// bytes they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Released {
    pub blob: BlobId,
    pub chunks: u32,
    pub bytes: u64,
}

impl Released {
    /// A blob of a head or part; `default_chunk` is the head's chunk size,
    /// for parts that do not record their own.
    pub fn part(p: &PartRef, default_chunk: u32) -> Released {
        Released {
            blob: p.blob,
            chunks: p.chunks(default_chunk),
            bytes: p.size,
        }
    }
}

/// The queue minute `ms` falls in.
pub fn minute(ms: i64) -> i64 {
    ms.div_euclid(MINUTE_MS)
}

pub fn pending_slot(blob: BlobId) -> i64 {
    blob.created_ms().div_euclid(HOUR_MS)
}

impl CassandraStorage {
    /// Removes a blob from the pending set (a record now refers to it, or
    /// it was discarded).
    pub(super) async fn unpend(&self, blob: BlobId) -> Result<(), StorageError> {
        self.exec(&self.inner.st.pending_delete, (pending_slot(blob), blob.0))
            .await
    }

    /// `unpend` for the blobs of a committed head; a failure only leaves
    /// work for the orphan sweep, so it is logged, not returned.
    pub(super) async fn unpend_all(&self, blobs: impl Iterator<Item = BlobId>) {
        for blob in blobs {
            if let Err(e) = self.unpend(blob).await {
                tracing::warn!(%blob, error = %e, "could not clear a pending blob");
            }
        }
    }

    pub(super) async fn delete_chunks(
        &self,
        blob: BlobId,
        chunks: u32,
    ) -> Result<(), StorageError> {
        let st = &self.inner.st;
        stream::iter(0..chunks)
            .map(|i| async move {
                let idx = cql_index(i)?;
                self.exec(&st.chunk_delete, (blob.0, idx)).await
            })
            .buffer_unordered(DELETES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }

    /// Files blobs for deletion after the grace period.
    pub(super) async fn release(&self, blobs: Vec<Released>) -> Result<(), StorageError> {
        if blobs.is_empty() {
            return Ok(());
        }
        let due = now_ms() + self.inner.opts.gc_grace.as_millis() as i64;
        // Never file behind the collector (a gateway whose clock lags).
        let floor = self.inner.gc_floor.load(Ordering::Relaxed);
        let slot = minute(due).max(floor);
        for r in blobs {
            let chunks = i32::try_from(r.chunks).unwrap_or(i32::MAX);
            let bytes = i64::try_from(r.bytes).unwrap_or(i64::MAX);
            self.exec(&self.inner.st.gc_put, (slot, r.blob.0, chunks, bytes))
                .await?;
        }
        Ok(())
    }

    /// Learns where the collector is, so `release` files after it.
    pub(super) async fn load_floor(&self) -> Result<(), StorageError> {
        if let Some(c) = self.cursor().await? {
            self.raise_floor(c + 1 + FLOOR_MARGIN_MINUTES);
        }
        Ok(())
    }

    fn raise_floor(&self, slot: i64) {
        self.inner.gc_floor.fetch_max(slot, Ordering::Relaxed);
    }

    async fn cursor(&self) -> Result<Option<i64>, StorageError> {
        self.setting_i64(CURSOR).await
    }

    /// Deletes every blob of one queue minute, then the minute itself.
    async fn collect_slot(&self, slot: i64) -> Result<usize, StorageError> {
        let st = &self.inner.st;
        let stats = &self.inner.gc_stats;
        let mut after = Uuid::nil();
        let mut done = 0;
        loop {
            let rows: Vec<QueueRow> = self.rows(&st.gc_slot, (slot, after, QUEUE_PAGE)).await?;
            let n = rows.len();
            for QueueRow {
                blob,
                chunks,
                bytes,
            } in rows
            {
                let chunks = u32::try_from(chunks.unwrap_or(0)).unwrap_or(0);
                self.delete_chunks(BlobId(blob), chunks).await?;
                // Rows queued before version 4 have no byte count.
                let bytes = u64::try_from(bytes.unwrap_or(0)).unwrap_or(0);
                stats.deleted(u64::from(chunks), bytes);
                after = blob;
                done += 1;
            }
            if n < QUEUE_PAGE as usize {
                break;
            }
        }
        if done > 0 {
            self.exec(&st.gc_drop_slot, (slot,)).await?;
        }
        Ok(done)
    }

    /// Deletes the blobs whose grace period ended before `now_ms` (less a
    /// minute of margin for clock skew); returns how many.
    pub async fn collect_garbage(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.collect_until(now_ms, None).await
    }

    /// `collect_garbage`, stopping between two minutes once `deadline`
    /// has passed.
    async fn collect_until(
        &self,
        now_ms: i64,
        deadline: Option<Instant>,
    ) -> Result<usize, StorageError> {
        self.inner.gc_stats.runs.fetch_add(1, Ordering::Relaxed);
        let last = minute(now_ms) - 1 - CLOCK_MARGIN_MINUTES;
        // The schema sets the cursor when it creates the keyspace; without
        // one, look back a day.
        let first = match self.cursor().await? {
            Some(c) => c + 1,
            None => last - 24 * 60,
        };
        let end = last.min(first + MINUTES_PER_RUN - 1);
        // Before any minute is collected (and dropped), this gateway's own
        // releases move past it, with the margin other collectors get:
        // a release filed into a minute while it is being dropped would
        // lose its row and leak its chunks. This holds even when there is
        // nothing to collect (end < first).
        self.raise_floor(end.max(first - 1) + 1 + FLOOR_MARGIN_MINUTES);
        let mut collected = 0;
        let mut done = None;
        let mut failure = None;
        for slot in first..=end {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            match self.collect_slot(slot).await {
                Ok(n) => {
                    collected += n;
                    done = Some(slot);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let behind = last - done.unwrap_or(first - 1);
        self.inner
            .gc_stats
            .backlog
            .store(u64::try_from(behind).unwrap_or(0), Ordering::Relaxed);
        if let Some(slot) = done {
            self.raise_floor(slot + 1 + FLOOR_MARGIN_MINUTES);
            self.exec(&self.inner.st.setting_put, (CURSOR, slot.to_string()))
                .await?;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(collected),
        }
    }

    /// Whether this gateway holds the collector lease (taking it if it is
    /// free, renewing it if it is ours).
    pub async fn hold_lease(&self) -> Result<bool, StorageError> {
        self.hold_lease_for(GC_EVERY * LEASE_TICKS).await
    }

    /// `hold_lease` with a lease that lasts `ttl` unless renewed.
    async fn hold_lease_for(&self, ttl: Duration) -> Result<bool, StorageError> {
        let st = &self.inner.st;
        let me = self.inner.collector_id.to_string();
        let ttl = i32::try_from(ttl.as_secs().max(1)).unwrap_or(i32::MAX);
        if self.lwt(&st.lease_take, (LEASE, &me, ttl)).await? {
            return Ok(true);
        }
        self.lwt(&st.lease_renew, (ttl, &me, LEASE, &me)).await
    }

    /// One sweep of pending blobs in the collector's turn; its findings
    /// are logged.
    async fn sweep_run(&self, budget: Duration) {
        match self
            .sweep_pending(now_ms(), Some(Instant::now() + budget))
            .await
        {
            Ok(o) if o == super::sweep::SweepOutcome::default() => {}
            Ok(o) => tracing::info!(
                released = o.released,
                committed = o.committed,
                undecided = o.undecided,
                "swept pending blobs"
            ),
            Err(e) => tracing::warn!(error = %e, "the sweep of pending blobs failed"),
        }
        if let Err(e) = self.clean_dropped_buckets(now_ms()).await {
            tracing::warn!(error = %e, "the cleanup of deleted buckets failed");
        }
    }

    /// What this gateway's collector has done since start.
    pub fn gc_stats(&self) -> &GcStats {
        &self.inner.gc_stats
    }

    /// Runs the collector every `every` until the runtime stops, whenever
    /// this gateway holds the lease (which lasts three ticks; a run stops
    /// after a tick and a half, and the next tick renews the lease).
    pub fn spawn_collector(&self, every: Duration) {
        let store = self.clone();
        let budget = every * LEASE_TICKS / 2;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match store.hold_lease_for(every * LEASE_TICKS).await {
                    Ok(true) => {}
                    Ok(false) => {
                        // Another gateway collects: learn how far it got,
                        // so that this gateway's releases file after it
                        // even if this clock lags.
                        if let Err(e) = store.load_floor().await {
                            tracing::warn!(error = %e, "could not read the collector's cursor");
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not take the collector lease");
                        continue;
                    }
                }
                store.sweep_run(budget / 3).await;
                let stats = &store.inner.gc_stats;
                let before = stats.snapshot();
                let run = store.collect_until(now_ms(), Some(Instant::now() + budget));
                match run.await {
                    Ok(0) => {}
                    Ok(blobs) => {
                        let after = stats.snapshot();
                        tracing::info!(
                            blobs,
                            chunks = after.chunks - before.chunks,
                            bytes = after.bytes - before.bytes,
                            backlog_minutes = after.backlog,
                            "garbage collected"
                        )
                    }
                    Err(e) => tracing::warn!(error = %e, "garbage collection failed"),
                }
            }
        });
    }
}
