//! A second look at heads that won.
//!
//! After a write, `settle` releases what the current head does not use. If
//! our head was current at that moment, its blobs stay; whoever replaces
//! it later releases them, having read it just before writing. One race
//! escapes that: a writer that read the *previous* head before our write
//! and wrote after our check replaces our head without knowing it, and
//! nobody would release our blobs. So a head that was current at its check
//! is looked at once more, `recheck_after` later (longer than any writer
//! takes from its read to its write): if it is no longer current it lost
//! for good (last-writer-wins) and its blobs are released. A release that
//! the replacing writer also made is harmless: the collector's steps are
//! idempotent.
//!
//! The queue is bounded (entries and the blobs they name); when it is full
//! the second look is skipped and the blobs may leak (never be lost) until
//! the pending-blob sweep.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};

use super::gc::Released;
use super::{CassandraStorage, Inner};
use crate::storage::BucketId;

/// Second looks waiting at most, per gateway (about 30 s of writes at
/// 2 000 writes per second).
const QUEUE: usize = 65_536;
/// Blobs those may name at most, so that heads of many parts cannot make
/// the queue large (about 10 MB).
const MAX_BLOBS: usize = 262_144;
/// Second looks in flight at once.
const IN_FLIGHT: usize = 16;

pub(super) struct Recheck {
    due: tokio::time::Instant,
    bucket: BucketId,
    key: String,
    blobs: Vec<Released>,
}

/// The sending side, kept in `Inner`.
pub(super) struct Rechecks {
    tx: mpsc::Sender<Recheck>,
    after: Duration,
    /// Blobs named by queued second looks.
    blobs: Arc<AtomicUsize>,
}

impl Rechecks {
    /// A queue and its receiver, to hand to [`run`] once `Inner` exists.
    pub(super) fn new(after: Duration) -> (Rechecks, mpsc::Receiver<Recheck>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let blobs = Arc::new(AtomicUsize::new(0));
        (Rechecks { tx, after, blobs }, rx)
    }
}

/// Works through the queue until the store is dropped.
pub(super) fn run(inner: Weak<Inner>, mut rx: mpsc::Receiver<Recheck>) {
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(IN_FLIGHT));
        while let Some(r) = rx.recv().await {
            tokio::time::sleep_until(r.due).await;
            let Some(inner) = inner.upgrade() else { break };
            inner
                .rechecks
                .blobs
                .fetch_sub(r.blobs.len(), Ordering::Relaxed);
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            tokio::spawn(async move {
                CassandraStorage { inner }.second_look(r).await;
                drop(permit);
            });
        }
    });
}

impl CassandraStorage {
    /// Queues a second look at `blobs` of `key`: those its head does not
    /// reference then are released. After a write, they are the blobs of
    /// its head, which was current (or, when settling failed, of the heads
    /// it replaced and wrote).
    pub(super) fn recheck_later(&self, bucket: BucketId, key: &str, blobs: Vec<Released>) {
        let rechecks = &self.inner.rechecks;
        let r = Recheck {
            due: tokio::time::Instant::now() + rechecks.after,
            bucket,
            key: key.to_owned(),
            blobs,
        };
        let n = r.blobs.len();
        if n == 0 {
            return;
        }
        if rechecks.blobs.fetch_add(n, Ordering::Relaxed) + n > MAX_BLOBS {
            rechecks.blobs.fetch_sub(n, Ordering::Relaxed);
            tracing::debug!(key, "second-look queue full; skipped");
            return;
        }
        if rechecks.tx.try_send(r).is_err() {
            rechecks.blobs.fetch_sub(n, Ordering::Relaxed);
            tracing::debug!(key, "second-look queue full; skipped");
        }
    }

    async fn second_look(&self, r: Recheck) {
        // A head that lost its place may be kept as a noncurrent version.
        let kept = match self.kept_blobs(r.bucket, &r.key).await {
            Ok((_, kept)) => kept,
            Err(e) => {
                tracing::warn!(key = %r.key, error = %e, "second look at a head failed");
                return;
            }
        };
        let gone: Vec<Released> = r
            .blobs
            .into_iter()
            .filter(|g| !kept.contains(&g.blob))
            .collect();
        if gone.is_empty() {
            return;
        }
        if let Err(e) = self.inner.gc.release(gone).await {
            tracing::warn!(key = %r.key, error = %e, "could not release a replaced head's blobs");
        }
    }
}
