//! The collector's run in each gateway: whenever this gateway holds the
//! lease, a sweep of pending blobs, the cleanup of deleted buckets, then a
//! collection of the queue minutes that are due. It drives `Gc`, `Sweep`
//! and the dropped-bucket cleanup; none of them calls back here. Also the
//! public handles `s3gw fsck --repair`, the tests and the bench use to run
//! one step at once.

use std::time::{Duration, Instant};

use super::gc::{GC_EVERY, LEASE_TICKS};
use super::sweep::SweepOutcome;
use super::{now_ms, CassandraStorage, StorageError};

impl CassandraStorage {
    /// Deletes the blobs whose grace period ended before `now_ms` (less a
    /// minute of margin for clock skew); returns how many.
    pub async fn collect_garbage(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.inner.gc.collect_until(now_ms, None).await
    }

    /// Whether this gateway holds the collector lease (taking it if it is
    /// free, renewing it if it is ours).
    pub async fn hold_lease(&self) -> Result<bool, StorageError> {
        self.inner.gc.hold_lease_for(GC_EVERY * LEASE_TICKS).await
    }

    /// Decides on every pending blob whose commit deadline passed more
    /// than the sweep margin before `now_ms`, until `budget` runs out.
    pub async fn sweep_pending(
        &self,
        now_ms: i64,
        budget: Option<Instant>,
    ) -> Result<SweepOutcome, StorageError> {
        self.inner.sweep.sweep_pending(self, now_ms, budget).await
    }

    /// One sweep of pending blobs in the collector's turn; its findings
    /// are logged.
    async fn sweep_run(&self, budget: Duration) {
        match self
            .sweep_pending(now_ms(), Some(Instant::now() + budget))
            .await
        {
            Ok(o) if o == SweepOutcome::default() => {}
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

    /// Runs the collector every `every` until the runtime stops, whenever
    /// this gateway holds the lease (which lasts three ticks; a run stops
    /// after a tick and a half, and the next tick renews the lease).
    pub(crate) fn spawn_collector(&self, every: Duration) {
        let store = self.clone();
        let budget = every * LEASE_TICKS / 2;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match store.inner.gc.hold_lease_for(every * LEASE_TICKS).await {
                    Ok(true) => {}
                    Ok(false) => {
                        // Another gateway collects: learn how far it got,
                        // so that this gateway's releases file after it
                        // even if this clock lags.
                        if let Err(e) = store.inner.gc.load_floor().await {
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
                let stats = store.inner.gc.stats();
                let before = stats.snapshot();
                let run = store
                    .inner
                    .gc
                    .collect_until(now_ms(), Some(Instant::now() + budget));
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
