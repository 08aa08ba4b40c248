//! The lifecycle worker: applies the buckets' lifecycle rules
//! (PutBucketLifecycleConfiguration) in the background.
//!
//! Every gateway runs it; the one that holds the backend's lifecycle lease
//! (`Maintenance::hold_lease`) works, the others wait for the lease. Rules
//! fall due at midnights UTC (`types::due_ms`), so one pass a day finds
//! everything due: the holder runs a pass when a new day has begun since
//! its last one (and once when it takes the lease), over every bucket
//! that has rules, one walk per kind of record per bucket (`walk.rs`).
//! It looks for a new day every fifth of a day, at least every minute and
//! at most every second, so with `--lifecycle-day-secs 10` (a test
//! setting) a rule applies within a few seconds of falling due.
//!
//! Backend-agnostic: it reads and acts through the `Storage` trait only.

mod decide;
mod walk;

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::storage::{now_ms, Lease, Maintenance, Storage, StorageError};
use decide::Clock;
use walk::{BucketPass, Stop, Tally};

/// The lease held, renewed as the work goes on.
pub(crate) struct Held {
    leases: Arc<dyn Maintenance>,
    /// How long a renewal lasts.
    ttl: Duration,
    /// Renewed after this long.
    every: Duration,
    renewed: Instant,
}

impl Held {
    /// Whether this gateway still holds the lease, renewing it when due.
    pub(crate) async fn still(&mut self) -> Result<bool, StorageError> {
        if self.renewed.elapsed() < self.every {
            return Ok(true);
        }
        let held = self.leases.hold_lease(Lease::Lifecycle, self.ttl).await?;
        self.renewed = Instant::now();
        Ok(held)
    }
}

/// How often a gateway looks for a new day (and renews the lease).
fn tick_of(day_ms: i64) -> Duration {
    let ms = u64::try_from(day_ms / 5).unwrap_or(0);
    Duration::from_millis(ms).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// How many records a pass read, and how many buckets it could not finish.
struct Outcome {
    walked: u64,
    failed: usize,
}

/// One pass: every bucket's rules, judged at `clock`. A bucket deleted
/// meanwhile is passed over; a bucket that fails is logged and counted,
/// and the pass goes on with the others. A lost lease ends it.
async fn pass(storage: &dyn Storage, held: &mut Held, clock: Clock) -> Result<Outcome, Stop> {
    let mut walked = 0;
    let mut failed = 0;
    for bucket in storage.list_buckets().await? {
        let Some(config) = &bucket.lifecycle else {
            continue;
        };
        let mut one = BucketPass {
            storage,
            bucket: &bucket,
            config,
            clock,
            held: &mut *held,
            tally: Tally::default(),
        };
        let result = one.run().await;
        let t = one.tally;
        if t.acted() || t.changed > 0 {
            tracing::info!(
                bucket = %bucket.name,
                expired = t.expired,
                versions_deleted = t.versions_deleted,
                markers_removed = t.markers_removed,
                uploads_aborted = t.uploads_aborted,
                changed_since_read = t.changed,
                "lifecycle rules applied"
            );
        }
        walked += t.walked;
        match result {
            Ok(()) | Err(Stop::Store(StorageError::NoSuchBucket)) => {}
            Err(Stop::LeaseLost) => return Err(Stop::LeaseLost),
            Err(Stop::Store(e)) => {
                failed += 1;
                tracing::warn!(bucket = %bucket.name, error = %e, "lifecycle rules not applied");
            }
        }
    }
    Ok(Outcome { walked, failed })
}

/// How long after a pass that failed somewhere the next one starts: a
/// quarter of a day, at most 15 minutes, at least a tick, so that a
/// bucket that keeps failing does not keep the others walked all day.
fn retry_after(day_ms: i64, every: Duration) -> Duration {
    let quarter = Duration::from_millis(u64::try_from(day_ms / 4).unwrap_or(0));
    quarter.min(Duration::from_secs(15 * 60)).max(every)
}

/// Runs the worker until the runtime stops. `day_ms` is the length of a
/// lifecycle day (`Config::lifecycle_day_ms`).
pub(crate) fn spawn(storage: Arc<dyn Storage>, leases: Arc<dyn Maintenance>, day_ms: i64) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no async runtime: lifecycle rules will not be applied");
        return;
    };
    let day_ms = day_ms.max(1);
    let every = tick_of(day_ms);
    let ttl = (every * 3).max(Duration::from_secs(5));
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The day of the last pass this gateway finished while holding the
        // lease; forgotten when the lease is lost, as another gateway may
        // have left the day half done.
        let mut done: Option<i64> = None;
        // After a pass that failed somewhere: no new pass before this.
        let mut not_before: Option<Instant> = None;
        loop {
            tick.tick().await;
            match leases.hold_lease(Lease::Lifecycle, ttl).await {
                Ok(true) => {}
                Ok(false) => {
                    done = None;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not take the lifecycle lease");
                    continue;
                }
            }
            let now = now_ms();
            let day = now.div_euclid(day_ms);
            if done == Some(day) || not_before.is_some_and(|t| Instant::now() < t) {
                continue;
            }
            let mut held = Held {
                leases: leases.clone(),
                ttl,
                every,
                renewed: Instant::now(),
            };
            let clock = Clock {
                now_ms: now,
                day_ms,
            };
            let s = storage.clone();
            let started = Instant::now();
            let run = tokio::spawn(async move { pass(&*s, &mut held, clock).await });
            match run.await {
                Ok(Ok(Outcome { walked, failed })) => {
                    if failed == 0 {
                        done = Some(day);
                        not_before = None;
                    } else {
                        not_before = Some(Instant::now() + retry_after(day_ms, every));
                    }
                    if walked > 0 {
                        tracing::info!(
                            walked,
                            secs = started.elapsed().as_secs_f64(),
                            "lifecycle pass done"
                        );
                    }
                }
                Ok(Err(Stop::LeaseLost)) => {
                    tracing::info!("lifecycle lease lost mid-pass; its holder goes on");
                    done = None;
                }
                Ok(Err(Stop::Store(e))) => {
                    not_before = Some(Instant::now() + retry_after(day_ms, every));
                    tracing::warn!(error = %e, "a lifecycle pass failed; it is tried again")
                }
                Err(e) => tracing::warn!(error = %e, "the lifecycle task failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_is_a_fifth_of_a_day_within_a_second_and_a_minute() {
        assert_eq!(tick_of(10_000), Duration::from_secs(2));
        assert_eq!(tick_of(1_000), Duration::from_secs(1));
        assert_eq!(tick_of(86_400_000), Duration::from_secs(60));
        assert_eq!(tick_of(0), Duration::from_secs(1));
    }

    #[test]
    fn a_failed_pass_waits_a_quarter_day_within_a_tick_and_15_minutes() {
        let tick = Duration::from_secs(2);
        assert_eq!(retry_after(10_000, tick), Duration::from_millis(2_500));
        assert_eq!(retry_after(2_000, tick), tick);
        assert_eq!(retry_after(86_400_000, tick), Duration::from_secs(900));
    }
}
