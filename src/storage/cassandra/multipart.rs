//! Multipart uploads: upload rows per bucket, and every version of every
//! part until the upload ends.
//!
//! Re-uploading a part adds a version instead of replacing the row, and
//! nothing a part ever held is released before Complete or Abort. So a
//! Complete racing a re-upload can only commit a version that is still
//! whole; Complete then releases every version the object does not use.
//! Complete and Abort claim the upload first (`claims.rs`), so only one of
//! them ever writes a head from its parts or releases them.

use std::collections::HashSet;

use uuid::Uuid;

use super::claims::{Claimed, Finish};
use super::gc::Released;
use super::rows::{PartVersionRow, RecordRow, UploadRow};
use super::{corrupt, CassandraStorage, StorageError};
use crate::storage::{BlobId, BucketId, ObjectHead, PartRecord, UploadRecord, WriteCondition};
use crate::types::VersioningState;

/// Rows read per query when walking uploads or parts.
const PAGE: i32 = 1000;

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(corrupt)
}

/// A part that does not record its chunk size was written with at least
/// the smallest one the gateway accepts: counting with it over-counts, so
/// a release never misses a chunk.
const SMALLEST_CHUNK: u32 = 64 * 1024;

/// Whether `a` is a later version of a part than `b`.
fn newer(a: &PartRecord, b: &PartRecord) -> bool {
    (a.last_modified_ms, a.data.blob) > (b.last_modified_ms, b.data.blob)
}

/// The blobs of part versions that `head` does not use.
fn unused(versions: &[PartRecord], head: &ObjectHead) -> Vec<Released> {
    let kept: HashSet<BlobId> = head.blobs().collect();
    versions
        .iter()
        .filter(|p| !kept.contains(&p.data.blob))
        .map(|p| Released::part(&p.data, head.chunk_size))
        .collect()
}

/// The current version of each part, from versions in part number order.
fn current(versions: &[PartRecord]) -> Vec<&PartRecord> {
    let mut out: Vec<&PartRecord> = Vec::new();
    for v in versions {
        match out.last_mut() {
            Some(cur) if cur.part_number == v.part_number => {
                if newer(v, cur) {
                    *cur = v;
                }
            }
            _ => out.push(v),
        }
    }
    out
}

/// A Complete retried after its claim was committed (for the same ETag).
pub(super) struct Retry<'a> {
    head: &'a ObjectHead,
    /// When the claim was taken (ms).
    claimed_ms: i64,
    cond: &'a WriteCondition,
    mode: VersioningState,
}

impl CassandraStorage {
    /// Every stored version of the parts numbered above `after`, in part
    /// number order, until `stop` says enough (checked after each page).
    pub(super) async fn part_versions(
        &self,
        upload_id: &str,
        after: u32,
        mut stop: impl FnMut(&[PartRecord]) -> bool,
    ) -> Result<Vec<PartRecord>, StorageError> {
        let mut from = (i32::try_from(after).unwrap_or(i32::MAX), Uuid::max());
        let mut out = Vec::new();
        loop {
            let rows: Vec<PartVersionRow> = self
                .inner
                .cql
                .rows(
                    &self.inner.st.parts_after,
                    (upload_id, from.0, from.1, PAGE),
                )
                .await?;
            let n = rows.len();
            for PartVersionRow {
                part_number: number,
                blob,
                record,
            } in rows
            {
                from = (number, blob);
                if let Some(r) = record {
                    out.push(decode::<PartRecord>(&r)?);
                }
            }
            if n < PAGE as usize || stop(&out) {
                return Ok(out);
            }
        }
    }

    /// Every part version of a claimed upload, if `head` uses only current
    /// versions; `PartChanged` if a part was uploaded again since.
    async fn choose_versions(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
        head: &ObjectHead,
    ) -> Result<Vec<PartRecord>, StorageError> {
        if get_upload(self, bucket, key, upload_id).await?.is_none() {
            return Err(StorageError::NoSuchUpload);
        }
        let versions = self.part_versions(upload_id, 0, |_| false).await?;
        let current: HashSet<BlobId> = current(&versions).iter().map(|p| p.data.blob).collect();
        let kept: HashSet<BlobId> = head.blobs().collect();
        if !kept.is_subset(&current) {
            return Err(StorageError::PartChanged);
        }
        Ok(versions)
    }

    /// The cleanup of a request that committed to finishing the upload and
    /// may have died before the end of it. `retry` is a Complete for the
    /// ETag the claim was committed to, when the claim was taken: if the
    /// committed head never became current, the retry's head is written
    /// instead (if its condition holds: else `PreconditionFailed`, and the
    /// upload stays for a retry without it), and the answer is that head
    /// as written (the retry completed the upload).
    async fn finish_committed(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
        finish: Finish,
        retry: Option<Retry<'_>>,
    ) -> Result<Option<ObjectHead>, StorageError> {
        match finish {
            Finish::Abort => {
                self.abort_committed(bucket, key, upload_id).await?;
                Ok(None)
            }
            Finish::Complete => {
                let current = self.read_head(bucket, key, false).await?.map(|(_, h)| h);
                let mine = |h: &ObjectHead| h.upload_id.as_deref() == Some(upload_id);
                // A retry for the ETag the claim named, with no write since
                // the claim: the committed head never became current.
                let retry = retry.filter(|r| {
                    current
                        .as_ref()
                        .is_none_or(|c| c.last_modified_ms < r.claimed_ms)
                });
                let mut completed = None;
                if let Some(head) = current.as_ref().filter(|h| mine(h)) {
                    // Its head is the current one: release the versions it
                    // left out.
                    let versions = self.part_versions(upload_id, 0, |_| false).await?;
                    self.settle(bucket, key, None, None, unused(&versions, head))
                        .await?;
                } else if let Some(r) = retry {
                    // Write the retry's head. No part version is released:
                    // the dead request's head write may yet surface, with
                    // versions this head left out (a leak, never a loss).
                    // Its blobs are parts, committed by their part rows: no
                    // commit deadline applies, as for any Complete.
                    completed = Some(self.write_completed(bucket, key, &r).await?);
                } else if let Some(head) = self.noncurrent_of_upload(bucket, key, upload_id).await?
                {
                    // Its head became current and was kept as a noncurrent
                    // version since: the versions it left out go.
                    let versions = self.part_versions(upload_id, 0, |_| false).await?;
                    self.settle(bucket, key, None, None, unused(&versions, &head))
                        .await?;
                } else {
                    // Its head never became current, or did and was
                    // replaced, or was a write that timed out and may still
                    // surface: its parts may be referenced, so they are
                    // left alone (a leak, never a loss).
                    tracing::warn!(
                        upload_id,
                        "an interrupted Complete left parts that are not released"
                    );
                }
                self.forget_upload(bucket, key, upload_id).await?;
                Ok(completed)
            }
        }
    }

    /// Writes a retried Complete's head (`finish_committed`), as a version
    /// in a versioned bucket; returns it as written.
    async fn write_completed(
        &self,
        bucket: BucketId,
        key: &str,
        r: &Retry<'_>,
    ) -> Result<ObjectHead, StorageError> {
        if r.mode.is_versioned() {
            return self
                .write_version(bucket, key, r.head, r.mode, r.cond)
                .await;
        }
        let old = self.put_head_if(bucket, key, r.head, r.cond).await?;
        self.settle(bucket, key, old.as_ref(), Some(r.head), Vec::new())
            .await?;
        Ok(r.head.clone())
    }

    async fn forget_upload(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        // Both at once: with the head written, neither row is needed, and
        // an upload that lost its part rows first is still one whose claim
        // is committed (a retry or the janitor finishes it, finding no
        // part version to release).
        let (st, cql) = (&self.inner.st, &self.inner.cql);
        let (upload, parts) = tokio::join!(
            cql.exec(&st.upload_delete, (bucket.0, key, upload_id)),
            cql.exec(&st.parts_delete, (upload_id,)),
        );
        upload.and(parts)
    }

    /// Removes an upload committed to abort and releases all its parts.
    async fn abort_committed(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        // Remove the upload first, so that it no longer lists.
        self.inner
            .cql
            .exec(&self.inner.st.upload_delete, (bucket.0, key, upload_id))
            .await?;
        let versions = self.part_versions(upload_id, 0, |_| false).await?;
        self.inner
            .gc
            .release(
                versions
                    .iter()
                    .map(|p| Released::part(&p.data, SMALLEST_CHUNK))
                    .collect(),
            )
            .await?;
        self.inner
            .cql
            .exec(&self.inner.st.parts_delete, (upload_id,))
            .await
    }

    /// Aborts every upload of a bucket (when the bucket is deleted).
    pub(super) async fn abort_all_uploads(&self, bucket: BucketId) -> Result<(), StorageError> {
        loop {
            let page = list_uploads(self, bucket, "", None, PAGE as usize).await?;
            if page.is_empty() {
                return Ok(());
            }
            for u in &page {
                match abort_upload(self, bucket, &u.key, &u.upload_id).await {
                    Ok(()) | Err(StorageError::NoSuchUpload) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

pub(super) async fn create_upload(
    s: &CassandraStorage,
    bucket: BucketId,
    upload: &UploadRecord,
) -> Result<(), StorageError> {
    let record = serde_json::to_string(upload).map_err(corrupt)?;
    s.inner
        .cql
        .exec(
            &s.inner.st.upload_put,
            (bucket.0, &upload.key, &upload.upload_id, record),
        )
        .await
}

pub(super) async fn get_upload(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    upload_id: &str,
) -> Result<Option<UploadRecord>, StorageError> {
    let rows: Vec<RecordRow> = s
        .inner
        .cql
        .rows(&s.inner.st.upload_get, (bucket.0, key, upload_id))
        .await?;
    match rows.into_iter().next() {
        Some(RecordRow { record: Some(r) }) => Ok(Some(decode(&r)?)),
        _ => Ok(None),
    }
}

pub(super) async fn put_part(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    upload_id: &str,
    part: &PartRecord,
) -> Result<(), StorageError> {
    if get_upload(s, bucket, key, upload_id).await?.is_none() {
        return Err(StorageError::NoSuchUpload);
    }
    s.inner
        .sweep
        .check_deadline(std::iter::once(part.data.blob))?;
    let number = i32::try_from(part.part_number)
        .map_err(|_| StorageError::Corrupt(format!("part number {}", part.part_number)))?;
    let record = serde_json::to_string(part).map_err(corrupt)?;
    s.inner
        .cql
        .exec(
            &s.inner.st.part_put,
            (upload_id, number, part.data.blob.0, record),
        )
        .await?;
    s.unpend_later(vec![part.data.blob]);
    Ok(())
}

/// The current version of each part numbered above `after`, at most
/// `limit` of them, ascending.
pub(super) async fn list_parts(
    s: &CassandraStorage,
    upload_id: &str,
    after: u32,
    limit: usize,
) -> Result<Vec<PartRecord>, StorageError> {
    // Enough rows once they cover more than `limit` part numbers: the
    // group of the last number read may still be incomplete.
    let versions = s
        .part_versions(upload_id, after, |rows| {
            let mut numbers: Vec<u32> = rows.iter().map(|p| p.part_number).collect();
            numbers.dedup();
            numbers.len() > limit
        })
        .await?;
    Ok(current(&versions)
        .into_iter()
        .take(limit)
        .cloned()
        .collect())
}

pub(super) async fn list_uploads(
    s: &CassandraStorage,
    bucket: BucketId,
    prefix: &str,
    after: Option<(&str, &str)>,
    limit: usize,
) -> Result<Vec<UploadRecord>, StorageError> {
    let st = &s.inner.st;
    let mut out = Vec::new();
    // The position after which to read, as (key, upload id): an empty
    // id skips every upload of that key.
    let mut pos: Option<(String, String)> = match after {
        Some((k, id)) if k >= prefix => Some((k.to_owned(), id.to_owned())),
        _ => None,
    };
    loop {
        let rows: Vec<UploadRow> = match &pos {
            None => {
                s.inner
                    .cql
                    .rows(&st.uploads_from_key, (bucket.0, prefix, PAGE))
                    .await?
            }
            Some((k, id)) if id.is_empty() => {
                s.inner
                    .cql
                    .rows(&st.uploads_after_key, (bucket.0, k, PAGE))
                    .await?
            }
            Some((k, id)) => {
                s.inner
                    .cql
                    .rows(&st.uploads_after_id, (bucket.0, k, id, PAGE))
                    .await?
            }
        };
        let n = rows.len();
        for UploadRow {
            key,
            upload_id: id,
            record,
        } in rows
        {
            if !key.starts_with(prefix) {
                return Ok(out);
            }
            if let Some(r) = record {
                out.push(decode::<UploadRecord>(&r)?);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
            pos = Some((key, id));
        }
        if n < PAGE as usize {
            return Ok(out);
        }
    }
}

/// Complete. A condition (`cond`) is checked twice: by a serial read
/// while the claim is not yet committed, so that a refusal leaves
/// nothing to undo, and atomically with the head write (a lightweight
/// transaction), which refuses only if the key changed in between. A
/// conditional Complete commits its claim naming no ETag, so no other
/// request ever writes a head from it, and it withdraws the commit when
/// its head write does not apply: either way a refused Complete leaves
/// the upload as it was.
pub(super) async fn complete_upload(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    upload_id: &str,
    head: &ObjectHead,
    mode: VersioningState,
    cond: &WriteCondition,
) -> Result<ObjectHead, StorageError> {
    if get_upload(s, bucket, key, upload_id).await?.is_none() {
        return Err(StorageError::NoSuchUpload);
    }
    let claim = match s.inner.claims.claim_upload(upload_id).await? {
        Claimed::Mine(claim) => claim,
        Claimed::Committed(done) => {
            // The client's retry of a Complete that committed and then
            // failed (its Cassandra node died, say) may finish it.
            let same =
                done.finish == Finish::Complete && done.etag.as_deref() == Some(head.etag.as_str());
            let retry = same.then_some(Retry {
                head,
                claimed_ms: done.claimed_ms,
                cond,
                mode,
            });
            let finished = s.finish_committed(bucket, key, upload_id, done.finish, retry);
            return finished.await?.ok_or(StorageError::NoSuchUpload);
        }
    };
    let versions = match s.choose_versions(bucket, key, upload_id, head).await {
        Ok(versions) => versions,
        Err(e) => {
            s.inner.claims.drop_claim(upload_id, claim).await;
            return Err(e);
        }
    };
    if let Err(e) = s.check_condition(bucket, key, cond).await {
        s.inner.claims.drop_claim(upload_id, claim).await;
        return Err(e);
    }
    let named = match cond {
        WriteCondition::None => Some(head.etag.as_str()),
        WriteCondition::IfNoneMatch
        | WriteCondition::IfMatch(_)
        | WriteCondition::IfUnchanged(_) => None,
    };
    let committed = s
        .inner
        .claims
        .commit_claim(upload_id, &claim, Finish::Complete, named);
    if let Err(e) = committed.await {
        // Uncommitted (or taken over): let the retry claim it at once.
        s.inner.claims.drop_claim(upload_id, claim).await;
        return Err(e);
    }
    // The commit point; everything after it is cleanup that a retried
    // Complete can redo (`finish_committed`).
    let written = if mode.is_versioned() {
        s.write_version(bucket, key, head, mode, cond)
            .await
            .map(|w| (None, w))
    } else {
        s.put_head_if(bucket, key, head, cond)
            .await
            .map(|old| (old, head.clone()))
    };
    let (old, written) = match written {
        Ok(w) => w,
        Err(StorageError::PreconditionFailed) => {
            // The key changed since the check; nothing was written.
            s.inner.claims.withdraw_claim(upload_id, claim).await;
            return Err(StorageError::PreconditionFailed);
        }
        Err(e) => return Err(e),
    };
    s.settle(
        bucket,
        key,
        old.as_ref(),
        Some(&written),
        unused(&versions, head),
    )
    .await?;
    s.forget_upload(bucket, key, upload_id).await?;
    Ok(written)
}

pub(super) async fn abort_upload(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    upload_id: &str,
) -> Result<(), StorageError> {
    if get_upload(s, bucket, key, upload_id).await?.is_none() {
        return Err(StorageError::NoSuchUpload);
    }
    match s.inner.claims.claim_upload(upload_id).await? {
        Claimed::Mine(claim) => {
            if let Err(e) = s
                .inner
                .claims
                .commit_claim(upload_id, &claim, Finish::Abort, None)
                .await
            {
                s.inner.claims.drop_claim(upload_id, claim).await;
                return Err(e);
            }
            s.abort_committed(bucket, key, upload_id).await
        }
        Claimed::Committed(done) => match done.finish {
            Finish::Abort => s.abort_committed(bucket, key, upload_id).await,
            Finish::Complete => {
                s.finish_committed(bucket, key, upload_id, Finish::Complete, None)
                    .await?;
                Err(StorageError::NoSuchUpload)
            }
        },
    }
}
