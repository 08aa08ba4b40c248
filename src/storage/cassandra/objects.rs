//! Object heads: reads, the commit write (plain or conditional), deletes.
//!
//! A head row stores the head without its part list (`head`, also read
//! by listings) and the part list apart (`parts`), as JSON, and an inline
//! object's bytes (`data`, read only by a GET, a copy and fsck). `version`
//! is fresh for every write, so a conditional write can tell "the row I
//! checked" from a later one with the same ETag.
//!
//! Plain writes are last-writer-wins by write timestamp, like S3.
//! `If-None-Match: *` and `If-Match` go through lightweight transactions
//! (Paxos), so two gateways racing on the same key cannot both succeed.
//!
//! After every head write or delete, [`CassandraStorage::settle`] reads the
//! key again and releases the blobs of the heads involved that the current
//! head does not reference; docs/storage-model.md ("Why no referenced blob
//! is ever deleted") gives the argument.

use std::collections::HashSet;

use bytes::Bytes;
use scylla::deserialize::row::DeserializeRow;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::MaybeUnset;
use uuid::Uuid;

use super::gc::Released;
use super::rows::{HeadDataRow, HeadRow};
use super::{corrupt, CassandraStorage, StorageError};
use crate::storage::{BlobId, BucketId, ObjectHead, PartRef, WriteCondition};
use crate::types::TagSet;

/// How often an `If-Match` write retries when the row changed under it
/// while keeping the expected ETag.
const IF_MATCH_ATTEMPTS: usize = 5;

/// The row form of a head: (head without parts, parts), both JSON.
pub(super) fn encode_head(head: &ObjectHead) -> Result<(String, String), StorageError> {
    let parts = serde_json::to_string(&head.parts).map_err(corrupt)?;
    let bare = ObjectHead {
        parts: Vec::new(),
        ..head.clone()
    };
    Ok((serde_json::to_string(&bare).map_err(corrupt)?, parts))
}

/// What releasing `head` hands to the collector: each part's blob.
pub(super) fn released(head: &ObjectHead) -> Vec<Released> {
    head.parts
        .iter()
        .map(|p| Released::part(p, head.chunk_size))
        .collect()
}

fn decode_bare(head: &str) -> Result<ObjectHead, StorageError> {
    serde_json::from_str(head).map_err(corrupt)
}

/// A head from its two stored columns (`head` without parts, `parts`).
pub(super) fn decode_stored(head: &str, parts: Option<&str>) -> Result<ObjectHead, StorageError> {
    let mut h = decode_bare(head)?;
    h.parts = match parts {
        Some(p) => decode_parts(p)?,
        None => Vec::new(),
    };
    Ok(h)
}

/// A `parts` column.
pub(super) fn decode_parts(parts: &str) -> Result<Vec<PartRef>, StorageError> {
    serde_json::from_str(parts).map_err(corrupt)
}

/// The head of a row. The tags of a tag change replace the head's own
/// while they are for the row's version; tags set for an earlier version
/// (which a later write replaced) are never read.
pub(super) fn decode_head_row(
    HeadRow {
        version,
        head,
        parts,
        tags,
        tags_for,
    }: HeadRow,
) -> Result<Option<(Uuid, ObjectHead)>, StorageError> {
    let (Some(version), Some(head)) = (version, head) else {
        return Ok(None);
    };
    let mut h = decode_stored(&head, parts.as_deref())?;
    if let (Some(tags), Some(true)) = (tags, tags_for.map(|v| v == version)) {
        h.tags = serde_json::from_str(&tags).map_err(corrupt)?;
    }
    Ok(Some((version, h)))
}

/// An inline head's bytes as read with its row: filled in if the head is
/// inline (still `None` if the row had none: `InlineData::checked` says so).
pub(super) fn with_data(mut head: ObjectHead, data: Option<Bytes>) -> ObjectHead {
    if let Some(inline) = &mut head.inline {
        inline.bytes = data;
    }
    head
}

/// The `data` value of a head write: an inline head's bytes; else null
/// when the row may hold bytes of an inline head it replaces
/// (`clear_data`), and otherwise left unset, so that the row of an object
/// that never was inline carries no cell tombstone. A concurrent writer
/// may still leave bytes beside a head that is not inline: they are never
/// read, since only an inline head's checksum vouches for them, and the
/// next inline write or delete of the key drops them.
pub(super) type DataValue = MaybeUnset<Option<Bytes>>;

pub(super) fn data_value(head: &ObjectHead, clear_data: bool) -> DataValue {
    match &head.inline {
        Some(inline) => MaybeUnset::Set(inline.bytes.clone()),
        None if clear_data => MaybeUnset::Set(None),
        None => MaybeUnset::Unset,
    }
}

/// The values of an `objects` INSERT: bucket, shard, key, a fresh
/// version, ETag, head, parts and the inline bytes.
type HeadValues<'a> = (Uuid, i16, &'a str, Uuid, &'a str, String, String, DataValue);

impl CassandraStorage {
    fn head_row<'a>(
        &self,
        bucket: BucketId,
        key: &'a str,
        head: &'a ObjectHead,
        clear_data: bool,
    ) -> Result<HeadValues<'a>, StorageError> {
        let (bare, parts) = encode_head(head)?;
        Ok((
            bucket.0,
            self.shard_of(key),
            key,
            Uuid::new_v4(),
            &head.etag,
            bare,
            parts,
            data_value(head, clear_data),
        ))
    }

    /// The head of `key` with an inline object's bytes, in one read.
    pub(super) async fn read_head_data(
        &self,
        bucket: BucketId,
        key: &str,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let stmt = &self.inner.st.head_get_data;
        let row: Option<HeadDataRow> = self.key_row(stmt, bucket, key).await?;
        let Some((row, data)) = row.map(HeadDataRow::split) else {
            return Ok(None);
        };
        Ok(decode_head_row(row)?.map(|(_, h)| with_data(h, data)))
    }

    /// The row of `key` that `stmt` selects (one of the head reads), if any.
    async fn key_row<R>(
        &self,
        stmt: &PreparedStatement,
        bucket: BucketId,
        key: &str,
    ) -> Result<Option<R>, StorageError>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
    {
        let rows: Vec<R> = self
            .inner
            .cql
            .rows(stmt, (bucket.0, self.shard_of(key), key))
            .await?;
        Ok(rows.into_iter().next())
    }

    /// The head of `key` and its row version; `serial` reads at
    /// `LOCAL_SERIAL` (before a lightweight transaction).
    pub(super) async fn read_head(
        &self,
        bucket: BucketId,
        key: &str,
        serial: bool,
    ) -> Result<Option<(Uuid, ObjectHead)>, StorageError> {
        let st = &self.inner.st;
        let stmt = if serial {
            &st.head_get_serial
        } else {
            &st.head_get
        };
        match self.key_row::<HeadRow>(stmt, bucket, key).await? {
            Some(row) => decode_head_row(row),
            None => Ok(None),
        }
    }

    /// Writes a head unconditionally; returns the head it replaced.
    pub(super) async fn put_head(
        &self,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let old = self.read_head(bucket, key, false).await?.map(|(_, h)| h);
        let clear_data = old.as_ref().is_some_and(|o| o.inline.is_some());
        self.pause_before_head_write().await;
        self.inner
            .cql
            .exec(
                &self.inner.st.head_put,
                self.head_row(bucket, key, head, clear_data)?,
            )
            .await?;
        Ok(old)
    }

    /// Clears the pending rows of blobs a committed record now references,
    /// after the answer rather than before it: one write fewer in
    /// sequence. A pending row left behind (the task failed, or the
    /// gateway died first) is harmless: after the blob's commit deadline
    /// the sweep finds the record referencing it and drops the row.
    pub(super) fn unpend_later(&self, blobs: Vec<BlobId>) {
        if blobs.is_empty() {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move { store.inner.gc.unpend_all(blobs.into_iter()).await });
    }

    /// The pause tests use to stage a slow writer (zero otherwise).
    pub(super) async fn pause_before_head_write(&self) {
        let pause = self.inner.opts.pause_before_head_write;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }

    /// Writes a head if `cond` holds, checked atomically with the write
    /// (a lightweight transaction unless unconditional); returns the head
    /// it replaced. `PreconditionFailed` means that nothing was written.
    pub(super) async fn put_head_if(
        &self,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<Option<ObjectHead>, StorageError> {
        match cond {
            WriteCondition::None => self.put_head(bucket, key, head).await,
            WriteCondition::IfNoneMatch => {
                // No live row: nothing to clear.
                let row = self.head_row(bucket, key, head, false)?;
                self.pause_before_head_write().await;
                if self
                    .inner
                    .cql
                    .lwt(&self.inner.st.head_put_if_absent, row)
                    .await?
                {
                    Ok(None)
                } else {
                    Err(StorageError::PreconditionFailed)
                }
            }
            WriteCondition::IfMatch(_) | WriteCondition::IfUnchanged(_) => {
                Ok(Some(self.put_if_holds(bucket, key, head, cond).await?))
            }
        }
    }

    /// `PreconditionFailed` unless `cond` holds over the key's head as a
    /// serial read sees it now; a check ahead of a step that is costly to
    /// undo, never instead of the atomic one at the write.
    pub(super) async fn check_condition(
        &self,
        bucket: BucketId,
        key: &str,
        cond: &WriteCondition,
    ) -> Result<(), StorageError> {
        if *cond == WriteCondition::None {
            return Ok(());
        }
        let current = self.read_head(bucket, key, true).await?.map(|(_, h)| h);
        if cond.holds(current.as_ref()) {
            Ok(())
        } else {
            Err(StorageError::PreconditionFailed)
        }
    }

    /// The cleanup after this gateway wrote `written` (or deleted the key:
    /// `None`) over `replaced`: reads the key's current head and releases
    /// every blob of `replaced`, of `written` and of `also` that neither
    /// the current head nor a noncurrent version references.
    ///
    /// The read runs at a quorum consistency after a quorum write, so it
    /// returns our write or one with a later timestamp. Heads are
    /// last-writer-wins and no head shares a blob with another, so a blob
    /// the current head does not reference is referenced by a head that
    /// lost for good: a write that lost to a later one (even from a gateway
    /// whose clock runs ahead), or the head it replaced.
    pub(super) async fn settle(
        &self,
        bucket: BucketId,
        key: &str,
        replaced: Option<&ObjectHead>,
        written: Option<&ObjectHead>,
        also: Vec<Released>,
    ) -> Result<(), StorageError> {
        let blobless = |h: Option<&ObjectHead>| h.is_none_or(|h| h.parts.is_empty());
        if blobless(replaced) && blobless(written) && also.is_empty() {
            // Inline, empty or no heads: no blob to release, so no read.
            return Ok(());
        }
        // The key's noncurrent versions too: a versioned write may have
        // kept a head this write replaced (a bucket whose versioning was
        // enabled while the write was under way).
        let (current, kept) = self.kept_blobs(bucket, key).await?;
        let mut seen = HashSet::new();
        let mut gone = Vec::new();
        let candidates = replaced
            .into_iter()
            .chain(written)
            .flat_map(released)
            .chain(also);
        for r in candidates {
            if !kept.contains(&r.blob) && seen.insert(r.blob) {
                gone.push(r);
            }
        }
        if let (Some(w), Some(c)) = (written, &current) {
            if !w.parts.is_empty() && w.blobs().all(|b| c.blobs().any(|k| k == b)) {
                self.recheck_later(bucket, key, released(w));
            }
        }
        self.inner.gc.release(gone).await
    }

    /// [`settle`](Self::settle) after a PUT or DELETE whose head write
    /// took place. A failure no longer concerns the client: the write is
    /// done, and a 503 would make it retry a write that happened (a retried
    /// `If-None-Match: *` would hear 412). So it is logged, and the blobs
    /// involved go to the second look (`recheck.rs`), which releases those
    /// that the key's head does not reference then, by the same argument.
    async fn settle_committed(
        &self,
        bucket: BucketId,
        key: &str,
        replaced: Option<&ObjectHead>,
        written: Option<&ObjectHead>,
    ) {
        let settled = if self.inner.opts.fail_settle {
            Err(StorageError::Unavailable("settling is made to fail".into()))
        } else {
            self.settle(bucket, key, replaced, written, Vec::new())
                .await
        };
        if let Err(e) = settled {
            tracing::warn!(
                key,
                error = %e,
                "could not settle a committed write; its blobs go to the second look"
            );
            let blobs = replaced.into_iter().chain(written).flat_map(released);
            self.recheck_later(bucket, key, blobs.collect());
        }
    }

    /// `If-Match` (or the head unchanged): replaces the row only if it is
    /// still the version over which `cond` held; returns the replaced head.
    async fn put_if_holds(
        &self,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        for _ in 0..IF_MATCH_ATTEMPTS {
            let Some((version, old)) = self.read_head(bucket, key, true).await? else {
                return Err(StorageError::PreconditionFailed);
            };
            if !cond.holds(Some(&old)) {
                return Err(StorageError::PreconditionFailed);
            }
            self.pause_before_head_write().await;
            let data = data_value(head, old.inline.is_some());
            if self
                .replace_version(bucket, key, head, data, version)
                .await?
            {
                return Ok(old);
            }
        }
        Err(StorageError::Busy(
            "the object kept changing during a conditional write",
        ))
    }

    /// `UPDATE … IF version = <version>`: writes every column of `head`
    /// (`data` for the bytes) with a fresh version, only if the row is
    /// still `version`; whether it was.
    pub(super) async fn replace_version(
        &self,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
        data: DataValue,
        version: Uuid,
    ) -> Result<bool, StorageError> {
        let (bare, parts) = encode_head(head)?;
        self.inner
            .cql
            .lwt(
                &self.inner.st.head_put_if_version,
                (
                    Uuid::new_v4(),
                    &head.etag,
                    &bare,
                    &parts,
                    data,
                    bucket.0,
                    self.shard_of(key),
                    key,
                    version,
                ),
            )
            .await
    }
}

pub(super) async fn put_object(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    head: &ObjectHead,
    cond: &WriteCondition,
) -> Result<(), StorageError> {
    // Every blob of a new head was written for it (no two heads share
    // a blob), so each is still pending.
    s.inner.sweep.check_deadline(head.blobs())?;
    let old = s.put_head_if(bucket, key, head, cond).await?;
    // The commit point.
    s.unpend_later(head.blobs().collect());
    s.settle_committed(bucket, key, old.as_ref(), Some(head))
        .await;
    Ok(())
}

/// PutObjectTagging and DeleteObjectTagging: sets the tags of the current
/// head in cells of their own (`tags`, and `tags_for`, the row version they
/// are for), only if the row is still the version that was read (a
/// lightweight transaction, retried when the row changed meanwhile).
///
/// The head's own cells are not written. A plain write of the key that
/// loses to this one by timestamp (one that landed between the
/// transaction's read and its write, or one from a gateway whose clock is
/// behind) therefore keeps all of its head, and since its row version is
/// not `tags_for`, the tags set here are not read beside it
/// (`decode_head_row`). Rewriting the whole head here would make such an
/// acknowledged write disappear. The blobs do not change, so nothing is
/// released and nothing needs settling.
pub(super) async fn set_object_tags(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    tags: &TagSet,
) -> Result<bool, StorageError> {
    let json = serde_json::to_string(tags).map_err(corrupt)?;
    for _ in 0..IF_MATCH_ATTEMPTS {
        let Some((version, _)) = s.read_head(bucket, key, true).await? else {
            return Ok(false);
        };
        let values = (&json, version, bucket.0, s.shard_of(key), key, version);
        if s.inner.cql.lwt(&s.inner.st.head_tags_set, values).await? {
            return Ok(true);
        }
    }
    Err(StorageError::Busy(
        "the object kept changing while its tags were set",
    ))
}

pub(super) async fn delete_object(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    cond: &WriteCondition,
) -> Result<bool, StorageError> {
    if *cond != WriteCondition::None {
        return delete_if_holds(s, bucket, key, cond).await;
    }
    let Some((_, old)) = s.read_head(bucket, key, false).await? else {
        return Ok(false);
    };
    s.inner
        .cql
        .exec(&s.inner.st.head_delete, (bucket.0, s.shard_of(key), key))
        .await?;
    s.settle_committed(bucket, key, Some(&old), None).await;
    Ok(true)
}

/// A conditional delete: removes the row only if it is still the version
/// over which `cond` held (a lightweight transaction, retried when the row
/// changed meanwhile and `cond` still holds over the new one).
async fn delete_if_holds(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    cond: &WriteCondition,
) -> Result<bool, StorageError> {
    for _ in 0..IF_MATCH_ATTEMPTS {
        let current = s.read_head(bucket, key, true).await?;
        if !cond.holds(current.as_ref().map(|(_, h)| h)) {
            return Err(StorageError::PreconditionFailed);
        }
        let Some((version, old)) = current else {
            return Ok(false);
        };
        let values = (bucket.0, s.shard_of(key), key, version);
        if s.inner
            .cql
            .lwt(&s.inner.st.head_delete_if_version, values)
            .await?
        {
            s.settle_committed(bucket, key, Some(&old), None).await;
            return Ok(true);
        }
    }
    Err(StorageError::Busy(
        "the object kept changing during a conditional delete",
    ))
}
