//! Aborts multipart uploads abandoned for longer than a configured age.
//!
//! Backend-agnostic: it walks buckets and uploads through the [`Storage`]
//! trait and ends each expired upload with `abort_upload`, the same call as
//! AbortMultipartUpload, so its parts go to GC like any aborted upload's.
//! Every gateway runs it: an abort racing another abort or a Complete is
//! settled by the backend (on Cassandra the upload is claimed with a
//! lightweight transaction), and the loser sees `NoSuchUpload` or
//! `Unavailable`.

use std::sync::Arc;
use std::time::Duration;

use crate::storage::{now_ms, BucketRecord, Storage, StorageError, UploadRecord};
use crate::types::{ObjectKey, UploadId};

/// Time between runs.
const EVERY: Duration = Duration::from_secs(10 * 60);
/// Wait after start before the first run, so start-up is not slowed.
const FIRST_RUN_AFTER: Duration = Duration::from_secs(60);
/// Uploads listed per query.
const PAGE: usize = 100;
/// Aborts tried per run at most; the next run continues where the aborted
/// uploads left off (they no longer list).
const MAX_ATTEMPTS_PER_RUN: usize = 1000;
/// `Unavailable` answers in a row after which the run stops: by then the
/// backend, not one contended upload, is the likelier cause.
const MAX_BUSY_IN_A_ROW: usize = 16;

/// What one run did.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub aborted: usize,
    /// Uploads another request was finishing (`Unavailable`), left for
    /// the next run.
    pub skipped: usize,
    attempts: usize,
    busy_in_a_row: usize,
}

/// Aborts the uploads of every bucket initiated before `now_ms -
/// older_than`, at most [`MAX_ATTEMPTS_PER_RUN`] of them; returns how many
/// this run aborted. An upload finished meanwhile (`NoSuchUpload`) is done
/// and not counted; one another request is finishing (`Unavailable`) is
/// skipped until the next run; any other error ends the run.
pub async fn abort_expired_uploads(
    storage: &dyn Storage,
    older_than: Duration,
    now_ms: i64,
) -> Result<usize, StorageError> {
    let age_ms = i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now_ms.saturating_sub(age_ms);
    let mut tally = Tally::default();
    let result = walk(storage, cutoff, &mut tally).await;
    if tally.aborted > 0 || tally.skipped > 0 {
        tracing::info!(
            aborted = tally.aborted,
            skipped = tally.skipped,
            older_than_secs = older_than.as_secs(),
            "aborted abandoned multipart uploads"
        );
    }
    result.map(|()| tally.aborted)
}

async fn walk(storage: &dyn Storage, cutoff: i64, tally: &mut Tally) -> Result<(), StorageError> {
    let due = |upload: &UploadRecord| upload.initiated_ms < cutoff;
    for bucket in storage.list_buckets().await? {
        match abort_uploads(storage, &bucket, "", &due, tally).await {
            Ok(()) => {}
            // Deleted meanwhile; deleting a bucket aborts its uploads.
            Err(StorageError::NoSuchBucket) => {}
            Err(e) => return Err(e),
        }
        if tally.attempts >= MAX_ATTEMPTS_PER_RUN {
            break;
        }
    }
    Ok(())
}

/// Aborts the uploads of `bucket` whose keys start with `prefix` and that
/// are `due`, until the run's [`MAX_ATTEMPTS_PER_RUN`] is spent (also by
/// the lifecycle worker's `AbortIncompleteMultipartUpload`).
pub(crate) async fn abort_uploads(
    storage: &dyn Storage,
    bucket: &BucketRecord,
    prefix: &str,
    due: &(dyn Fn(&UploadRecord) -> bool + Sync),
    tally: &mut Tally,
) -> Result<(), StorageError> {
    let mut after: Option<(String, String)> = None;
    loop {
        let page = storage
            .list_uploads(
                bucket.id,
                prefix,
                after.as_ref().map(|(k, id)| (k.as_str(), id.as_str())),
                PAGE,
            )
            .await?;
        let full = page.len() >= PAGE;
        for upload in &page {
            if !due(upload) {
                continue;
            }
            if tally.attempts >= MAX_ATTEMPTS_PER_RUN {
                return Ok(());
            }
            let (Ok(key), Some(id)) = (
                ObjectKey::parse(upload.key.as_str()),
                UploadId::parse(&upload.upload_id),
            ) else {
                tracing::warn!(key = %upload.key, upload_id = %upload.upload_id, "an upload record names no valid key or id: left");
                continue;
            };
            tally.attempts += 1;
            match storage.abort_upload(bucket.id, &key, &id).await {
                Ok(()) => {
                    tally.aborted += 1;
                    tally.busy_in_a_row = 0;
                }
                // Completed or aborted by another request meanwhile.
                Err(StorageError::NoSuchUpload) => tally.busy_in_a_row = 0,
                Err(e @ (StorageError::Busy(_) | StorageError::Unavailable(_))) => {
                    tally.skipped += 1;
                    tally.busy_in_a_row += 1;
                    tracing::debug!(
                        bucket = %bucket.name,
                        upload_id = %upload.upload_id,
                        reason = %e,
                        "abandoned upload skipped for now"
                    );
                    if tally.busy_in_a_row >= MAX_BUSY_IN_A_ROW {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        match page.last() {
            Some(last) if full => after = Some((last.key.clone(), last.upload_id.clone())),
            _ => return Ok(()),
        }
    }
}

/// Runs [`abort_expired_uploads`] every ten minutes, the first time a
/// minute after start, until the runtime stops. Errors and even a panic
/// of a run are logged; the next run tries again.
pub(crate) fn spawn(storage: Arc<dyn Storage>, older_than: Duration) {
    if older_than.is_zero() {
        // 0 means never; the configuration maps it to no janitor at all.
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no async runtime: abandoned uploads will not be aborted");
        return;
    };
    runtime.spawn(async move {
        let start = tokio::time::Instant::now() + FIRST_RUN_AFTER;
        let mut tick = tokio::time::interval_at(start, EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let s = storage.clone();
            let run =
                tokio::spawn(async move { abort_expired_uploads(&*s, older_than, now_ms()).await });
            match run.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "aborting abandoned uploads failed"),
                Err(e) => tracing::warn!(error = %e, "the abandoned-upload task failed"),
            }
        }
    });
}
