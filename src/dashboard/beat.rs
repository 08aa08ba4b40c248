//! What each gateway publishes in the backend for the dashboard: a
//! heartbeat every [`BEAT_EVERY`] (its rates and throughput series) and,
//! now and then, the bucket usage it counted. Any gateway reads them all
//! and so answers for the whole cluster.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::state::AppState;
use crate::storage::{now_ms, StatusStore, Storage, StorageError};
use crate::telemetry::recent::{Point, Rates};
use crate::telemetry::unix_now_s;
use crate::types::StatusKind;

/// How long an announced count keeps others from counting.
const RUN_FOR: Duration = Duration::from_secs(600);
pub(crate) const BEAT_EVERY: Duration = Duration::from_secs(2);
/// A gateway whose last heartbeat is older than this is shown down.
pub(crate) const DOWN_AFTER_MS: i64 = 6_000;
/// Status documents outlive their gateway by a day, then expire.
const KEEP: Duration = Duration::from_secs(86_400);
/// Points of the throughput series in a heartbeat: ten minutes.
pub(crate) const SERIES_POINTS: usize = 120;
const LIST_PAGE: usize = 1000;

/// One gateway's heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Beat {
    pub id: String,
    pub address: String,
    pub version: String,
    pub started_ms: i64,
    pub beat_ms: i64,
    pub in_flight: u64,
    pub rates: Rates,
    pub series: Vec<Point>,
}

/// Objects and bytes of every bucket, as one gateway counted them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Usage {
    /// When the count finished.
    pub as_of_ms: i64,
    /// Bucket name → (objects, bytes).
    pub buckets: BTreeMap<String, (u64, u64)>,
}

fn beat_now(state: &AppState, address: &str) -> Beat {
    let t = &state.telemetry;
    let now_s = unix_now_s();
    Beat {
        id: t.gateway_id.clone(),
        address: address.to_owned(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_ms: t.started_ms,
        beat_ms: now_ms(),
        in_flight: t.in_flight.load(std::sync::atomic::Ordering::Relaxed),
        rates: t.recent.rates(now_s),
        series: t.recent.series(now_s, SERIES_POINTS),
    }
}

/// The background tasks of [`spawn`]; dropping it stops them.
pub(crate) struct Beating(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Beating {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Starts the heartbeat of this gateway (listening on `address`) and its
/// bucket usage count.
pub(crate) fn spawn(state: Arc<AppState>, address: String) -> Beating {
    let beats = state.clone();
    let beat_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(BEAT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let beat = beat_now(&beats, &address);
            match serde_json::to_string(&beat) {
                Ok(doc) => {
                    if let Err(e) = beats
                        .statuses
                        .put_status(StatusKind::Beat, &beat.id, &doc, KEEP)
                        .await
                    {
                        tracing::debug!(error = %e, "heartbeat not stored");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "heartbeat not encoded"),
            }
        }
    });
    let every = Duration::from_secs(state.config.usage_scan_secs.max(1));
    let usage_task = tokio::spawn(async move {
        // The first count waits a period too: a gateway that starts (or a
        // test server that lives a second) does not walk the store at once.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = count_usage_if_due(&state, every).await {
                tracing::warn!(error = %e, "bucket usage not counted");
            }
        }
    });
    Beating(vec![beat_task, usage_task])
}

/// The newest usage any gateway stored.
pub(crate) async fn latest_usage(
    statuses: &dyn StatusStore,
) -> Result<Option<Usage>, StorageError> {
    let docs = statuses.statuses(StatusKind::Usage).await?;
    Ok(docs
        .into_iter()
        .filter_map(|(_, doc)| serde_json::from_str::<Usage>(&doc).ok())
        .max_by_key(|u| u.as_of_ms))
}

/// Counts usage unless another gateway did within the last `every`, or
/// is counting now: a count in progress is announced (`usage-run`, its
/// start time) and is taken as running until it stores its result, its
/// gateway stops beating (it died or stopped mid-count) or [`RUN_FOR`] has
/// passed. Two gateways that check at the same moment may both count: that
/// only costs time.
async fn count_usage_if_due(state: &AppState, every: Duration) -> Result<(), StorageError> {
    let statuses = state.statuses.as_ref();
    let now = now_ms();
    let last_count = latest_usage(statuses).await?.map(|u| u.as_of_ms);
    if last_count.is_some_and(|at| now >= at && ((now - at) as u128) < every.as_millis() * 9 / 10) {
        return Ok(());
    }
    let me = &state.telemetry.gateway_id;
    let runs: Vec<(String, i64)> = statuses
        .statuses(StatusKind::UsageRun)
        .await?
        .into_iter()
        .filter(|(id, _)| id != me)
        .filter_map(|(id, doc)| Some((id, doc.parse::<i64>().ok()?)))
        .filter(|(_, started)| {
            *started > last_count.unwrap_or(i64::MIN) && now - started < RUN_FOR.as_millis() as i64
        })
        .collect();
    if !runs.is_empty() {
        let alive = live_gateways(statuses, now).await?;
        if runs.iter().any(|(id, _)| alive.contains(id)) {
            return Ok(());
        }
    }
    statuses
        .put_status(StatusKind::UsageRun, me, &now.to_string(), RUN_FOR)
        .await?;
    let usage = count_usage(state.storage.as_ref()).await?;
    let doc = serde_json::to_string(&usage).map_err(crate::storage::corrupt)?;
    statuses.put_status(StatusKind::Usage, me, &doc, KEEP).await
}

/// The ids of the gateways whose heartbeat is fresh.
async fn live_gateways(
    statuses: &dyn StatusStore,
    now: i64,
) -> Result<std::collections::HashSet<String>, StorageError> {
    Ok(statuses
        .statuses(StatusKind::Beat)
        .await?
        .into_iter()
        .filter_map(|(id, doc)| {
            let beat = serde_json::from_str::<Beat>(&doc).ok()?;
            (now - beat.beat_ms < DOWN_AFTER_MS).then_some(id)
        })
        .collect())
}

/// Walks every bucket's listing. The cost grows with the object count:
/// `--usage-scan-secs` sets how often (docs/operations.md).
pub(crate) async fn count_usage(storage: &dyn Storage) -> Result<Usage, StorageError> {
    let mut buckets = BTreeMap::new();
    for bucket in storage.list_buckets().await? {
        let (mut objects, mut bytes) = (0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let start = match &after {
                Some(k) => Bound::Excluded(k.as_str()),
                None => Bound::Unbounded,
            };
            let page = match storage.list_objects(bucket.id, "", start, LIST_PAGE).await {
                Err(StorageError::NoSuchBucket) => break, // deleted meanwhile
                page => page?,
            };
            objects += page.len() as u64;
            bytes += page.iter().map(|e| e.head.size).sum::<u64>();
            match page.last() {
                Some(last) if page.len() == LIST_PAGE => after = Some(last.key.clone()),
                _ => break,
            }
        }
        buckets.insert(bucket.name, (objects, bytes));
    }
    Ok(Usage {
        as_of_ms: now_ms(),
        buckets,
    })
}
