//! Versions on Cassandra (docs/storage-model.md "Versions").
//!
//! `objects` holds each key's current version, a delete marker too: the
//! same row an unversioned bucket's head is, so reads, listings and
//! conditions of current versions cost what they cost before. The
//! noncurrent versions are rows of `object_versions` in the key's shard,
//! ordered by key, then newest first. No write spans both tables
//! atomically, so every step is ordered to stay safe when a gateway dies
//! between two writes, and when writers race:
//!
//! - A write reads the current version at `LOCAL_SERIAL`, copies it into
//!   `object_versions` if it is kept (the same row each time), then
//!   replaces it by a lightweight transaction `IF version = <the row
//!   read>`; a lost race starts over. A copy whose transaction then lost,
//!   or whose gateway died first, duplicates the current version: readers
//!   skip a noncurrent row that is the current version, and the write that
//!   replaces it later writes the same row again.
//! - A version removed for good (deleted, or the null version a write
//!   replaces while versioning is suspended) has its row deleted with a
//!   timestamp a day ahead, so a copy that a writer who read it earlier
//!   writes late stays hidden. Its blobs are released only if, read after
//!   that deletion, it is not current; if a concurrent delete made it
//!   current meanwhile, it is deleted as the current version instead.
//! - Deleting the current version makes the newest noncurrent one current
//!   by the same kind of transaction (its row stays, as a copy). If that
//!   version was removed meanwhile (its row is gone after the
//!   transaction), it is deleted in turn as the current version.
//!
//! Anything a failure leaves behind is a copy readers skip or a blob that
//! is never released (a leak fsck counts), never a version that points at
//! released blobs.

use std::collections::HashSet;

use super::objects::{
    data_value, decode_head_row, decode_parts, decode_stored, released, with_data,
};
use super::rows::{HeadDataRow, VersionDataRow, VersionRow, VersionWalkRow};
use super::{corrupt, CassandraStorage, StorageError};
use crate::storage::{now_us, BlobId, BucketId, ObjectHead, WriteCondition};
use crate::types::{TagSet, VersionId, VersionRef, VersioningState};

/// Attempts of a versioned write or delete that keeps losing its race.
const ATTEMPTS: usize = 8;
/// How far ahead of now a removed version's row deletion is stamped: far
/// beyond the life of any statement that could still write a copy of it.
const TOMBSTONE_AHEAD_US: i64 = 24 * 3600 * 1_000_000;
/// Rows of one key's versions read per query.
const KEY_PAGE: i32 = 200;

/// The clustering of a version's row: `inv` (minus its time in µs, so
/// ascending is newest first) and `vid` (its id, or `null`).
pub(super) fn row_of(h: &ObjectHead) -> (i64, String) {
    (h.order_us().saturating_neg(), h.version_ref().to_string())
}

/// The `inv` of the version an id names (its time is part of it).
fn inv_of(id: &VersionId) -> i64 {
    let us = u64::MAX - id.inverted_us();
    i64::try_from(us).unwrap_or(i64::MAX).saturating_neg()
}

/// Whether two heads are the same version of a key.
fn same_version(a: &ObjectHead, b: &ObjectHead) -> bool {
    a.version_id == b.version_id && a.order_us() == b.order_us()
}

/// Whether a noncurrent row is (a copy of) `current`.
pub(super) fn is_copy_of(current: Option<&ObjectHead>, inv: i64, vid: &str) -> bool {
    current.is_some_and(|c| row_of(c) == (inv, vid.to_owned()))
}

/// The first row of a key's versions: before every `(inv, vid)`.
const FIRST: (i64, &str) = (i64::MIN, "");

fn version_of(head: Option<String>, parts: Option<String>) -> Result<ObjectHead, StorageError> {
    let head =
        head.ok_or_else(|| StorageError::Corrupt("a version row without its head".into()))?;
    decode_stored(&head, parts.as_deref())
}

impl CassandraStorage {
    /// The current version with its inline bytes and its row version, at
    /// `LOCAL_SERIAL`.
    async fn current_serial(
        &self,
        bucket: BucketId,
        key: &str,
    ) -> Result<Option<(uuid::Uuid, ObjectHead)>, StorageError> {
        let rows: Vec<HeadDataRow> = self
            .inner
            .cql
            .rows(
                &self.inner.vst.head_get_data_serial,
                (bucket.0, self.shard_of(key), key),
            )
            .await?;
        let Some((row, data)) = rows.into_iter().next().map(HeadDataRow::split) else {
            return Ok(None);
        };
        Ok(decode_head_row(row)?.map(|(v, h)| (v, with_data(h, data))))
    }

    /// Writes `h`, the current version of `key` with its inline bytes, as
    /// a noncurrent version (the same row every time).
    async fn keep_version(
        &self,
        bucket: BucketId,
        key: &str,
        h: &ObjectHead,
    ) -> Result<(), StorageError> {
        let (bare, parts) = super::objects::encode_head(h)?;
        let (inv, vid) = row_of(h);
        let data = h.inline.as_ref().and_then(|i| i.bytes.clone());
        let values = (
            bucket.0,
            self.shard_of(key),
            key,
            inv,
            vid,
            bare,
            parts,
            data,
        );
        self.inner
            .cql
            .exec(&self.inner.vst.version_put, values)
            .await
    }

    /// The noncurrent version at `(inv, vid)`, with its inline bytes.
    async fn version_at(
        &self,
        bucket: BucketId,
        key: &str,
        inv: i64,
        vid: &str,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let values = (bucket.0, self.shard_of(key), key, inv, vid);
        let rows: Vec<VersionDataRow> = self
            .inner
            .cql
            .rows(&self.inner.vst.version_get_data, values)
            .await?;
        let Some(VersionDataRow { head, parts, data }) = rows.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(with_data(version_of(head, parts)?, data)))
    }

    /// Up to `KEY_PAGE` rows of `key`'s noncurrent versions after
    /// `(inv, vid)`, newest first.
    pub(super) async fn key_versions(
        &self,
        bucket: BucketId,
        key: &str,
        after: (i64, &str),
    ) -> Result<Vec<VersionRow>, StorageError> {
        let values = (
            bucket.0,
            self.shard_of(key),
            key,
            after.0,
            after.1,
            KEY_PAGE,
        );
        self.inner
            .cql
            .rows(&self.inner.vst.key_versions, values)
            .await
    }

    /// The noncurrent rows of `key` named `null` (one, but for a copy a
    /// lost race left of a null version that is current).
    async fn null_versions(
        &self,
        bucket: BucketId,
        key: &str,
    ) -> Result<Vec<VersionRow>, StorageError> {
        let values = (bucket.0, self.shard_of(key), key);
        self.inner
            .cql
            .rows(&self.inner.vst.key_null_versions, values)
            .await
    }

    /// The noncurrent version of `key` that `version` names (not a copy of
    /// `current`), with its inline bytes.
    async fn find_noncurrent(
        &self,
        bucket: BucketId,
        key: &str,
        version: &VersionRef,
        current: Option<&ObjectHead>,
    ) -> Result<Option<ObjectHead>, StorageError> {
        match version {
            VersionRef::Id(id) => {
                let inv = inv_of(id);
                if is_copy_of(current, inv, id.as_str()) {
                    return Ok(None);
                }
                self.version_at(bucket, key, inv, id.as_str()).await
            }
            VersionRef::Null => {
                for row in self.null_versions(bucket, key).await? {
                    if !is_copy_of(current, row.inv, &row.vid) {
                        return self.version_at(bucket, key, row.inv, &row.vid).await;
                    }
                }
                Ok(None)
            }
        }
    }

    /// Every blob the key's versions reference, current and noncurrent,
    /// and its current version: what a release must keep.
    pub(super) async fn kept_blobs(
        &self,
        bucket: BucketId,
        key: &str,
    ) -> Result<(Option<ObjectHead>, HashSet<BlobId>), StorageError> {
        let (current, mut kept) = tokio::try_join!(
            self.read_head(bucket, key, false),
            self.noncurrent_blobs(bucket, key)
        )?;
        let current = current.map(|(_, h)| h);
        kept.extend(current.iter().flat_map(|h| h.blobs()));
        Ok((current, kept))
    }

    /// The blobs of every noncurrent version of `key` (none in a bucket
    /// that was never versioned: one read of an empty slice).
    async fn noncurrent_blobs(
        &self,
        bucket: BucketId,
        key: &str,
    ) -> Result<HashSet<BlobId>, StorageError> {
        let mut blobs = HashSet::new();
        let mut after = (FIRST.0, FIRST.1.to_owned());
        loop {
            let rows = self.key_versions(bucket, key, (after.0, &after.1)).await?;
            let n = rows.len();
            for row in rows {
                if let Some(p) = row.parts.as_deref() {
                    blobs.extend(decode_parts(p)?.iter().map(|p| p.blob));
                }
                after = (row.inv, row.vid);
            }
            if n < KEY_PAGE as usize {
                return Ok(blobs);
            }
        }
    }

    /// Deletes a version's row, stamped a day ahead (see the module
    /// comment).
    async fn delete_version_row(
        &self,
        bucket: BucketId,
        key: &str,
        h: &ObjectHead,
    ) -> Result<(), StorageError> {
        let (inv, vid) = row_of(h);
        let at = now_us().saturating_add(TOMBSTONE_AHEAD_US);
        let values = (at, bucket.0, self.shard_of(key), key, inv, vid);
        self.inner
            .cql
            .exec(&self.inner.vst.version_delete_at, values)
            .await
    }

    /// `Storage::put_version`.
    pub(super) async fn put_version(
        &self,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
        mode: VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        crate::storage::versioned_only(mode)?;
        self.inner.sweep.check_deadline(head.blobs())?;
        self.write_version(bucket, key, head, mode, cond).await
    }

    /// Writes `head` as the new current version of `key` if `cond` holds
    /// over the current version (the commit point of `put_version` and of
    /// a versioned Complete); returns the head as written.
    pub(super) async fn write_version(
        &self,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
        mode: VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        for _ in 0..ATTEMPTS {
            let current = self.current_serial(bucket, key).await?;
            let cur = current.as_ref().map(|(_, h)| h);
            if !cond.holds(cur) {
                return Err(StorageError::PreconditionFailed);
            }
            let mut new = head.clone();
            new.stamp_version(cur, mode, now_us());
            // Suspended: the null version is replaced; any other is kept.
            let replaced =
                cur.filter(|c| mode == VersioningState::Suspended && c.version_id.is_none());
            if let (Some(c), None) = (cur, replaced) {
                self.keep_version(bucket, key, c).await?;
            }
            self.pause_before_head_write().await;
            let data = data_value(&new, cur.is_some_and(|c| c.inline.is_some()));
            let applied = match &current {
                Some((row, _)) => self.replace_version(bucket, key, &new, data, *row).await?,
                None => self.put_first_version(bucket, key, &new).await?,
            };
            if !applied {
                continue;
            }
            // The commit point. What follows only tidies up: a failure
            // there leaks blobs (logged), it never undoes the write.
            self.unpend_later(new.blobs().collect());
            if let Some(old) = replaced {
                self.forget_logged(bucket, key, old).await;
            }
            if mode == VersioningState::Suspended {
                self.forget_noncurrent_nulls(bucket, key, &new).await;
            }
            return Ok(new);
        }
        Err(StorageError::Busy(
            "the key kept changing while a version was written",
        ))
    }

    /// The first version of a key: only while the row holds none (a row
    /// may hold tag cells alone, see `objects::set_object_tags`).
    async fn put_first_version(
        &self,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
    ) -> Result<bool, StorageError> {
        let (bare, parts) = super::objects::encode_head(head)?;
        let values = (
            uuid::Uuid::new_v4(),
            &head.etag,
            bare,
            parts,
            data_value(head, false),
            bucket.0,
            self.shard_of(key),
            key,
        );
        self.inner
            .cql
            .lwt(&self.inner.vst.head_put_if_none, values)
            .await
    }

    /// [`forget`](Self::forget), after a write that committed: a failure
    /// is logged (the blobs leak; fsck counts them), not answered.
    async fn forget_logged(&self, bucket: BucketId, key: &str, v: &ObjectHead) {
        if let Err(e) = self.forget(bucket, key, v).await {
            tracing::warn!(key, error = %e, "could not remove a replaced version; its blobs may leak");
        }
    }

    /// After a write while versioning is suspended (`new`, the null
    /// version now current): removes every noncurrent null version.
    async fn forget_noncurrent_nulls(&self, bucket: BucketId, key: &str, new: &ObjectHead) {
        let rows = match self.null_versions(bucket, key).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(key, error = %e, "could not look for a noncurrent null version");
                return;
            }
        };
        for row in rows {
            if is_copy_of(Some(new), row.inv, &row.vid) {
                continue;
            }
            match version_of(row.head, row.parts) {
                Ok(v) => self.forget_logged(bucket, key, &v).await,
                Err(e) => {
                    tracing::warn!(key, error = %e, "a noncurrent null version does not decode")
                }
            }
        }
    }

    /// Removes `v`, a version of `key` that was not current when it was
    /// read, for good: deletes its row, then releases its blobs unless it
    /// is current by now (a concurrent delete made it current), in which
    /// case it is deleted as the current version.
    async fn forget(
        &self,
        bucket: BucketId,
        key: &str,
        v: &ObjectHead,
    ) -> Result<(), StorageError> {
        self.delete_version_row(bucket, key, v).await?;
        let current = self.read_head(bucket, key, true).await?;
        match current {
            Some((_, c)) if same_version(&c, v) => {
                self.delete_current(bucket, key, &v.version_ref(), Some(v.order_us()))
                    .await?;
                Ok(())
            }
            _ => self.inner.gc.release(released(v)).await,
        }
    }

    /// Deletes the current version of `key` if `target` (and, if given,
    /// `order_us`) names it; the newest noncurrent version becomes
    /// current. Returns the deleted version, or `None` if `target` is not
    /// current.
    async fn delete_current(
        &self,
        bucket: BucketId,
        key: &str,
        target: &VersionRef,
        order_us: Option<i64>,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let (mut target, mut order_us) = (target.clone(), order_us);
        let mut deleted = None;
        for _ in 0..ATTEMPTS {
            let Some((row, cur)) = self.read_head(bucket, key, true).await? else {
                return Ok(deleted);
            };
            let named = target.names(cur.version_id.as_ref())
                && order_us.is_none_or(|o| o == cur.order_us());
            if !named {
                return Ok(deleted);
            }
            let next = self.newest_noncurrent(bucket, key, &cur).await?;
            self.pause_before_head_write().await;
            let applied = match &next {
                Some(n) => {
                    let data = data_value(n, cur.inline.is_some());
                    self.replace_version(bucket, key, n, data, row).await?
                }
                None => {
                    let values = (bucket.0, self.shard_of(key), key, row);
                    self.inner
                        .cql
                        .lwt(&self.inner.vst.head_delete_if_version, values)
                        .await?
                }
            };
            if !applied {
                continue;
            }
            // The commit point: what follows tidies up, and a failure
            // there leaks the blobs (logged) rather than answer an error
            // for a deletion that took place. The row goes first: released
            // blobs must never stay named by a copy of the version.
            let retired = async {
                self.delete_version_row(bucket, key, &cur).await?;
                self.inner.gc.release(released(&cur)).await
            };
            if let Err(e) = retired.await {
                tracing::warn!(key, error = %e, "could not retire a deleted version; its blobs may leak");
            }
            if deleted.is_none() {
                deleted = Some(cur);
            }
            match next {
                // Removed while it was being made current: delete it too.
                Some(n) if !self.row_exists(bucket, key, &n).await? => {
                    target = n.version_ref();
                    order_us = Some(n.order_us());
                }
                _ => return Ok(deleted),
            }
        }
        Err(StorageError::Busy(
            "the key kept changing while a version was deleted",
        ))
    }

    /// Whether `h`'s row is in `object_versions`.
    async fn row_exists(
        &self,
        bucket: BucketId,
        key: &str,
        h: &ObjectHead,
    ) -> Result<bool, StorageError> {
        let (inv, vid) = row_of(h);
        Ok(self.version_at(bucket, key, inv, &vid).await?.is_some())
    }

    /// The newest noncurrent version of `key` other than (a copy of)
    /// `current`, with its inline bytes.
    async fn newest_noncurrent(
        &self,
        bucket: BucketId,
        key: &str,
        current: &ObjectHead,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let mut after = (FIRST.0, FIRST.1.to_owned());
        loop {
            let rows = self.key_versions(bucket, key, (after.0, &after.1)).await?;
            let n = rows.len();
            for row in rows {
                if !is_copy_of(Some(current), row.inv, &row.vid) {
                    // Read again with its bytes; gone meanwhile: the next.
                    if let Some(v) = self.version_at(bucket, key, row.inv, &row.vid).await? {
                        return Ok(Some(v));
                    }
                }
                after = (row.inv, row.vid);
            }
            if n < KEY_PAGE as usize {
                return Ok(None);
            }
        }
    }

    /// `Storage::get_version`.
    pub(super) async fn get_version(
        &self,
        bucket: BucketId,
        key: &str,
        version: &VersionRef,
        data: bool,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let current = if data {
            self.read_head_data(bucket, key).await?
        } else {
            self.read_head(bucket, key, false).await?.map(|(_, h)| h)
        };
        if current
            .as_ref()
            .is_some_and(|c| version.names(c.version_id.as_ref()))
        {
            return Ok(current);
        }
        let found = self
            .find_noncurrent(bucket, key, version, current.as_ref())
            .await?;
        Ok(found.map(|mut h| {
            if !data {
                if let Some(inline) = &mut h.inline {
                    inline.bytes = None;
                }
            }
            h
        }))
    }

    /// `Storage::set_version_tags`: the current version's tag cells by a
    /// lightweight transaction on its row version (as
    /// `objects::set_object_tags`), a noncurrent version's head rewritten
    /// in place.
    pub(super) async fn set_version_tags(
        &self,
        bucket: BucketId,
        key: &str,
        version: &VersionRef,
        tags: &TagSet,
    ) -> Result<bool, StorageError> {
        let json = serde_json::to_string(tags).map_err(corrupt)?;
        for _ in 0..ATTEMPTS {
            let current = self.read_head(bucket, key, true).await?;
            if let Some((row, c)) = &current {
                if version.names(c.version_id.as_ref()) {
                    let values = (&json, *row, bucket.0, self.shard_of(key), key, *row);
                    if self
                        .inner
                        .cql
                        .lwt(&self.inner.st.head_tags_set, values)
                        .await?
                    {
                        return Ok(true);
                    }
                    continue;
                }
            }
            let cur = current.as_ref().map(|(_, h)| h);
            let Some(mut v) = self.find_noncurrent(bucket, key, version, cur).await? else {
                return Ok(false);
            };
            v.tags = tags.clone();
            let (bare, _) = super::objects::encode_head(&v)?;
            let (inv, vid) = row_of(&v);
            let values = (bare, bucket.0, self.shard_of(key), key, inv, vid);
            self.inner
                .cql
                .exec(&self.inner.vst.version_head_set, values)
                .await?;
            return Ok(true);
        }
        Err(StorageError::Busy(
            "the key kept changing while a version's tags were set",
        ))
    }

    /// `Storage::delete_version`.
    pub(super) async fn delete_version(
        &self,
        bucket: BucketId,
        key: &str,
        version: &VersionRef,
    ) -> Result<Option<ObjectHead>, StorageError> {
        if let Some(deleted) = self.delete_current(bucket, key, version, None).await? {
            return Ok(Some(deleted));
        }
        let current = self.read_head(bucket, key, false).await?.map(|(_, h)| h);
        let Some(v) = self
            .find_noncurrent(bucket, key, version, current.as_ref())
            .await?
        else {
            return Ok(None);
        };
        self.forget(bucket, key, &v).await?;
        Ok(Some(v))
    }

    /// The noncurrent version of `key` that the multipart upload
    /// `upload_id` wrote, if any (an interrupted Complete whose version was
    /// replaced since).
    pub(super) async fn noncurrent_of_upload(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let mut after = (FIRST.0, FIRST.1.to_owned());
        loop {
            let rows = self.key_versions(bucket, key, (after.0, &after.1)).await?;
            let n = rows.len();
            for row in rows {
                after = (row.inv, row.vid.clone());
                let v = version_of(row.head, row.parts)?;
                if v.upload_id.as_deref() == Some(upload_id) {
                    return Ok(Some(v));
                }
            }
            if n < KEY_PAGE as usize {
                return Ok(None);
            }
        }
    }

    /// Whether any shard of the bucket holds a noncurrent version.
    pub(super) async fn has_noncurrent(&self, bucket: BucketId) -> Result<bool, StorageError> {
        let probes = (0..self.inner.index_shards).map(|shard| async move {
            let shard = i16::try_from(shard).unwrap_or(i16::MAX);
            let values = (bucket.0, shard, "", i64::MIN, "", 1i32);
            let rows: Vec<VersionWalkRow> = self
                .inner
                .cql
                .rows(&self.inner.vst.versions_walk, values)
                .await?;
            Ok::<bool, StorageError>(!rows.is_empty())
        });
        let found = futures_util::future::try_join_all(probes).await?;
        Ok(found.into_iter().any(|f| f))
    }

    /// Hands every noncurrent row of one shard of a bucket to `each`, a
    /// page at a time (fsck, the cleanup of a dropped bucket).
    pub(super) async fn walk_versions(
        &self,
        bucket: BucketId,
        shard: i16,
        mut each: impl FnMut(VersionWalkRow) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        let mut after = (String::new(), i64::MIN, String::new());
        loop {
            let values = (bucket.0, shard, &after.0, after.1, &after.2, KEY_PAGE);
            let rows: Vec<VersionWalkRow> = self
                .inner
                .cql
                .rows(&self.inner.vst.versions_walk, values)
                .await?;
            let n = rows.len();
            for row in rows {
                after = (row.key.clone(), row.inv, row.vid.clone());
                each(row)?;
            }
            if n < KEY_PAGE as usize {
                return Ok(());
            }
        }
    }
}

/// A walked noncurrent row as a head with its inline bytes.
pub(super) fn walked_version(row: VersionWalkRow) -> Result<(String, ObjectHead), StorageError> {
    let VersionWalkRow {
        key,
        head,
        parts,
        data,
        ..
    } = row;
    Ok((key, with_data(version_of(head, parts)?, data)))
}
