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

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use uuid::Uuid;

use super::cql::Cql;
use super::rows::QueueRow;
use super::statements::GcStatements;
use super::{cql_index, now_ms, StorageError};
use crate::storage::{BlobId, GcStats, PartRef};

pub(super) const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;
/// Chunk deletes in flight for one collector.
const DELETES_IN_FLIGHT: usize = 16;
/// Queue inserts (or pending-row deletes) in flight for one release (or
/// one commit): all of a release go to one queue minute, and none depends
/// on another.
const WRITES_IN_FLIGHT: usize = 16;
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
pub(crate) const CURSOR: &str = "gc_cursor";
/// The row of `settings` naming the gateway whose collector runs.
const LEASE: &str = "gc_lease";
/// How long a lease lasts unless renewed, in collector ticks.
pub(crate) const LEASE_TICKS: u32 = 3;
/// The collector's usual tick, and so a 90 s lease.
pub(crate) const GC_EVERY: Duration = Duration::from_secs(30);

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
    pub(crate) fn part(p: &PartRef, default_chunk: u32) -> Released {
        Released {
            blob: p.blob,
            chunks: p.chunks(default_chunk),
            bytes: p.size,
        }
    }
}

/// The queue minute `ms` falls in.
pub(crate) fn minute(ms: i64) -> i64 {
    ms.div_euclid(MINUTE_MS)
}

pub(crate) fn pending_slot(blob: BlobId) -> i64 {
    blob.created_ms().div_euclid(HOUR_MS)
}

/// The collector: owns the queue's statements, the floor its releases
/// file after, its lease name and its figures.
pub(super) struct Gc {
    cql: Arc<Cql>,
    st: GcStatements,
    /// How long a released blob waits before the collector deletes it.
    grace: Duration,
    /// The earliest GC queue minute a release may file into.
    floor: AtomicI64,
    /// This gateway's name in the collector lease.
    collector_id: Uuid,
    stats: GcStats,
}

impl Gc {
    /// Prepares the collector's statements and learns where the
    /// collector is.
    pub(crate) async fn open(cql: Arc<Cql>, ks: &str, grace: Duration) -> Result<Gc, StorageError> {
        let gc = Gc {
            st: GcStatements::prepare(&cql.session, ks).await?,
            cql,
            grace,
            floor: AtomicI64::new(i64::MIN),
            collector_id: Uuid::new_v4(),
            stats: GcStats::default(),
        };
        gc.load_floor().await?;
        Ok(gc)
    }

    /// What this gateway's collector has done since start.
    pub(crate) fn stats(&self) -> &GcStats {
        &self.stats
    }

    /// Removes a blob from the pending set (a record now refers to it, or
    /// it was discarded).
    pub(crate) async fn unpend(&self, blob: BlobId) -> Result<(), StorageError> {
        self.cql
            .exec(&self.st.pending_delete, (pending_slot(blob), blob.0))
            .await
    }

    /// `unpend` for the blobs of a committed head, [`WRITES_IN_FLIGHT`]
    /// at once; a failure only leaves work for the orphan sweep, so it is
    /// logged, not returned.
    pub(crate) async fn unpend_all(&self, blobs: impl Iterator<Item = BlobId>) {
        stream::iter(blobs)
            .for_each_concurrent(WRITES_IN_FLIGHT, |blob| async move {
                if let Err(e) = self.unpend(blob).await {
                    tracing::warn!(%blob, error = %e, "could not clear a pending blob");
                }
            })
            .await
    }

    pub(crate) async fn delete_chunks(
        &self,
        blob: BlobId,
        chunks: u32,
    ) -> Result<(), StorageError> {
        let st = &self.st;
        stream::iter(0..chunks)
            .map(|i| async move {
                let idx = cql_index(i)?;
                self.cql.exec(&st.chunk_delete, (blob.0, idx)).await
            })
            .buffer_unordered(DELETES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }

    /// Files blobs for deletion after the grace period.
    pub(crate) async fn release(&self, blobs: Vec<Released>) -> Result<(), StorageError> {
        if blobs.is_empty() {
            return Ok(());
        }
        let due = now_ms() + self.grace.as_millis() as i64;
        // Never file behind the collector (a gateway whose clock lags).
        let floor = self.floor.load(Ordering::Relaxed);
        let slot = minute(due).max(floor);
        let st = &self.st;
        stream::iter(blobs)
            .map(|r| async move {
                let chunks = i32::try_from(r.chunks).unwrap_or(i32::MAX);
                let bytes = i64::try_from(r.bytes).unwrap_or(i64::MAX);
                self.cql
                    .exec(&st.gc_put, (slot, r.blob.0, chunks, bytes))
                    .await
            })
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }

    /// Learns where the collector is, so `release` files after it.
    pub(crate) async fn load_floor(&self) -> Result<(), StorageError> {
        if let Some(c) = self.cursor().await? {
            self.raise_floor(c + 1 + FLOOR_MARGIN_MINUTES);
        }
        Ok(())
    }

    fn raise_floor(&self, slot: i64) {
        self.floor.fetch_max(slot, Ordering::Relaxed);
    }

    async fn cursor(&self) -> Result<Option<i64>, StorageError> {
        self.cql.setting_i64(&self.st.setting_get, CURSOR).await
    }

    /// Deletes every blob of one queue minute, then the minute itself.
    async fn collect_slot(&self, slot: i64) -> Result<usize, StorageError> {
        let st = &self.st;
        let stats = &self.stats;
        let mut after = Uuid::nil();
        let mut done = 0;
        loop {
            let rows: Vec<QueueRow> = self
                .cql
                .rows(&st.gc_slot, (slot, after, QUEUE_PAGE))
                .await?;
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
            self.cql.exec(&st.gc_drop_slot, (slot,)).await?;
        }
        Ok(done)
    }

    /// Collects the queue minutes due by `now_ms` (`collect_garbage`), stopping between two minutes once `deadline`
    /// has passed.
    pub(crate) async fn collect_until(
        &self,
        now_ms: i64,
        deadline: Option<Instant>,
    ) -> Result<usize, StorageError> {
        self.stats.runs.fetch_add(1, Ordering::Relaxed);
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
        self.stats
            .backlog
            .store(u64::try_from(behind).unwrap_or(0), Ordering::Relaxed);
        if let Some(slot) = done {
            self.raise_floor(slot + 1 + FLOOR_MARGIN_MINUTES);
            self.cql
                .exec(&self.st.setting_put, (CURSOR, slot.to_string()))
                .await?;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(collected),
        }
    }

    /// `hold_lease` with a lease that lasts `ttl` unless renewed.
    pub(crate) async fn hold_lease_for(&self, ttl: Duration) -> Result<bool, StorageError> {
        self.hold_named_lease(LEASE, ttl).await
    }

    /// Whether this gateway holds the lease `name` (a row of `settings`
    /// with a TTL), taking it if free or renewing it if held.
    pub(crate) async fn hold_named_lease(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<bool, StorageError> {
        let st = &self.st;
        let me = self.collector_id.to_string();
        let ttl = i32::try_from(ttl.as_secs().max(1)).unwrap_or(i32::MAX);
        if self.cql.lwt(&st.lease_take, (name, &me, ttl)).await? {
            return Ok(true);
        }
        self.cql.lwt(&st.lease_renew, (ttl, &me, name, &me)).await
    }
}
