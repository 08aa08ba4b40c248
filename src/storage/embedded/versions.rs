//! Versions on the embedded store (docs/storage-model.md "Versions").
//!
//! `OBJECTS` holds each key's current version, a delete marker included;
//! `VERSIONS` holds the noncurrent ones, keyed so that a range scan reads
//! keys in byte order and each key's versions newest first: the bucket id,
//! the object key escaped (0x00 → 0x00 0xFF) and ended by 0x00 0x00, the
//! version's inverted time (8 bytes, big-endian) and its id (`null` or 32
//! hex digits). The inline bytes of a noncurrent inline version sit in
//! `VERSION_INLINE` under the same key. Every operation is one write
//! transaction, so a version is always in exactly one place.

use std::ops::Bound;

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{
    as_slice, db_err, decode_head, first_row, object_key, read_inline, write_inline, Inner,
    BUCKET_IDS, INLINE, LIVE_BLOBS, OBJECTS,
};
use crate::storage::{
    corrupt, now_us, BucketId, ObjectHead, StorageError, VersionEntry, VersionsFrom, WriteCondition,
};
use crate::types::{inverted, TagSet, VersionRef, VersioningState, NULL_VERSION};

/// Noncurrent versions: see the module comment for the key.
pub(super) const VERSIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("versions");
/// The bytes of noncurrent inline versions, keyed as in `VERSIONS`.
pub(super) const VERSION_INLINE: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("version_inline");

/// The bucket id and the escaped, terminated key: every version of `key`
/// and nothing else starts with it.
fn key_prefix(bucket: BucketId, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(16 + key.len() + 2);
    k.extend_from_slice(bucket.0.as_bytes());
    for &b in key.as_bytes() {
        k.push(b);
        if b == 0 {
            k.push(0xFF);
        }
    }
    k.extend_from_slice(&[0, 0]);
    k
}

/// The `VERSIONS` key of a version.
fn version_key(bucket: BucketId, key: &str, head: &ObjectHead) -> Vec<u8> {
    let mut k = key_prefix(bucket, key);
    k.extend_from_slice(&inverted(head.order_us()).to_be_bytes());
    match &head.version_id {
        Some(id) => k.extend_from_slice(id.as_str().as_bytes()),
        None => k.extend_from_slice(NULL_VERSION.as_bytes()),
    }
    k
}

/// The object key of a `VERSIONS` key (after the bucket id).
pub(super) fn key_of(k: &[u8]) -> Result<String, StorageError> {
    let mut out = Vec::new();
    let mut i = 16;
    while i < k.len() {
        match (k[i], k.get(i + 1)) {
            (0, Some(0)) => return String::from_utf8(out).map_err(corrupt),
            (0, Some(0xFF)) => {
                out.push(0);
                i += 2;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Err(StorageError::Corrupt(
        "a version key without its end".into(),
    ))
}

/// A `VersionsFrom` that owns its key and version, to cross into a
/// blocking task.
pub(super) enum OwnedFrom {
    Start,
    FromKey(String),
    AfterKey(String),
    AfterVersion(String, VersionRef),
}

impl OwnedFrom {
    pub(super) fn of(from: VersionsFrom<'_>) -> OwnedFrom {
        match from {
            VersionsFrom::Start => OwnedFrom::Start,
            VersionsFrom::FromKey(k) => OwnedFrom::FromKey(k.to_owned()),
            VersionsFrom::AfterKey(k) => OwnedFrom::AfterKey(k.to_owned()),
            VersionsFrom::AfterVersion(k, v) => OwnedFrom::AfterVersion(k.to_owned(), v.clone()),
        }
    }

    pub(super) fn as_ref(&self) -> VersionsFrom<'_> {
        match self {
            OwnedFrom::Start => VersionsFrom::Start,
            OwnedFrom::FromKey(k) => VersionsFrom::FromKey(k),
            OwnedFrom::AfterKey(k) => VersionsFrom::AfterKey(k),
            OwnedFrom::AfterVersion(k, v) => VersionsFrom::AfterVersion(k, v),
        }
    }
}

impl Inner {
    /// `Storage::put_version`, in one write transaction.
    pub(super) fn put_version(
        &self,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
        mode: VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        crate::storage::versioned_only(mode)?;
        let rows = self
            .pending_crcs
            .take_rows(head.parts.iter().map(|p| (p.blob, p.size)));
        let txn = self.db.begin_write().map_err(db_err)?;
        super::crcs::insert(&txn, &rows)?;
        {
            let ids = txn.open_table(BUCKET_IDS).map_err(db_err)?;
            if ids.get(bucket.0.as_u128()).map_err(db_err)?.is_none() {
                return Err(StorageError::NoSuchBucket);
            }
        }
        let head = self.write_version(&txn, bucket, key, head, mode, cond)?;
        txn.commit().map_err(db_err)?;
        Ok(head)
    }

    /// Writes `head` as the new current version of `key` within `txn`
    /// (the version it replaces kept or, suspended and null, released), if
    /// `cond` holds over the current version; returns the head as written.
    /// Shared by `put_version` and `complete_version`.
    pub(super) fn write_version(
        &self,
        txn: &WriteTransaction,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
        mode: VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        let k = object_key(bucket, key);
        let mut head = head.clone();
        let current = current_head(txn, &k)?;
        if !cond.holds(current.as_ref()) {
            return Err(StorageError::PreconditionFailed);
        }
        head.stamp_version(current.as_ref(), mode, now_us());
        if mode == VersioningState::Suspended {
            self.remove_noncurrent_null(txn, bucket, key)?;
        }
        match current {
            Some(c) if mode == VersioningState::Suspended && c.version_id.is_none() => {
                // The null version is replaced, not kept.
                write_inline(txn, &k, Some(&head), Some(&c))?;
                self.release(txn, c.blobs())?;
            }
            Some(c) => {
                self.keep_noncurrent(txn, bucket, key, &k, c)?;
                write_inline(txn, &k, Some(&head), None)?;
            }
            None => write_inline(txn, &k, Some(&head), None)?,
        }
        {
            let bytes = serde_json::to_vec(&head).map_err(corrupt)?;
            let mut objects = txn.open_table(OBJECTS).map_err(db_err)?;
            objects
                .insert(k.as_slice(), bytes.as_slice())
                .map_err(db_err)?;
            let mut live = txn.open_table(LIVE_BLOBS).map_err(db_err)?;
            for blob in head.blobs() {
                live.insert(blob.0.as_u128(), ()).map_err(db_err)?;
            }
        }
        Ok(head)
    }

    /// Moves the current version `c` of `key` (row `k` of `OBJECTS`) to
    /// `VERSIONS`, with its inline bytes; its blobs stay live.
    fn keep_noncurrent(
        &self,
        txn: &WriteTransaction,
        bucket: BucketId,
        key: &str,
        k: &[u8],
        c: ObjectHead,
    ) -> Result<(), StorageError> {
        let vk = version_key(bucket, key, &c);
        if c.inline.is_some() {
            let bytes = {
                let t = txn.open_table(INLINE).map_err(db_err)?;
                let v = t.get(k).map_err(db_err)?;
                v.map(|v| v.value().to_vec())
            };
            if let Some(bytes) = bytes {
                let mut t = txn.open_table(VERSION_INLINE).map_err(db_err)?;
                t.insert(vk.as_slice(), bytes.as_slice()).map_err(db_err)?;
            }
            txn.open_table(INLINE)
                .map_err(db_err)?
                .remove(k)
                .map_err(db_err)?;
        }
        let bytes = serde_json::to_vec(&c).map_err(corrupt)?;
        let mut t = txn.open_table(VERSIONS).map_err(db_err)?;
        t.insert(vk.as_slice(), bytes.as_slice()).map_err(db_err)?;
        Ok(())
    }

    /// Removes the noncurrent null version of `key`, if there is one.
    fn remove_noncurrent_null(
        &self,
        txn: &WriteTransaction,
        bucket: BucketId,
        key: &str,
    ) -> Result<(), StorageError> {
        let found = {
            let t = txn.open_table(VERSIONS).map_err(db_err)?;
            find_version(&t, bucket, key, &VersionRef::Null)?
        };
        if let Some((vk, head)) = found {
            self.remove_noncurrent(txn, &vk, &head)?;
        }
        Ok(())
    }

    /// Removes a noncurrent version (row `vk`) and releases its blobs.
    fn remove_noncurrent(
        &self,
        txn: &WriteTransaction,
        vk: &[u8],
        head: &ObjectHead,
    ) -> Result<(), StorageError> {
        txn.open_table(VERSIONS)
            .map_err(db_err)?
            .remove(vk)
            .map_err(db_err)?;
        if head.inline.is_some() {
            txn.open_table(VERSION_INLINE)
                .map_err(db_err)?
                .remove(vk)
                .map_err(db_err)?;
        }
        self.release(txn, head.blobs())
    }

    /// `Storage::get_version`.
    pub(super) fn get_version(
        &self,
        bucket: BucketId,
        key: &str,
        version: &VersionRef,
        data: bool,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let k = object_key(bucket, key);
        let txn = self.db.begin_read().map_err(db_err)?;
        let objects = txn.open_table(OBJECTS).map_err(db_err)?;
        if let Some(v) = objects.get(k.as_slice()).map_err(db_err)? {
            let mut head = decode_head(v.value())?;
            if version.names(head.version_id.as_ref()) {
                if data {
                    read_inline(&txn.open_table(INLINE).map_err(db_err)?, &k, &mut head)?;
                }
                return Ok(Some(head));
            }
        }
        let versions = txn.open_table(VERSIONS).map_err(db_err)?;
        let Some((vk, mut head)) = find_version(&versions, bucket, key, version)? else {
            return Ok(None);
        };
        if data {
            let t = txn.open_table(VERSION_INLINE).map_err(db_err)?;
            read_inline(&t, &vk, &mut head)?;
        }
        Ok(Some(head))
    }

    /// `Storage::set_version_tags`, in one write transaction.
    pub(super) fn set_version_tags(
        &self,
        bucket: BucketId,
        key: &str,
        version: &VersionRef,
        tags: &TagSet,
    ) -> Result<bool, StorageError> {
        let k = object_key(bucket, key);
        let txn = self.db.begin_write().map_err(db_err)?;
        let current = current_head(&txn, &k)?;
        let (table, row, mut head) = match current {
            Some(c) if version.names(c.version_id.as_ref()) => (OBJECTS, k, c),
            _ => {
                let found = {
                    let t = txn.open_table(VERSIONS).map_err(db_err)?;
                    find_version(&t, bucket, key, version)?
                };
                match found {
                    Some((vk, head)) => (VERSIONS, vk, head),
                    None => return Ok(false),
                }
            }
        };
        head.tags = tags.clone();
        let bytes = serde_json::to_vec(&head).map_err(corrupt)?;
        txn.open_table(table)
            .map_err(db_err)?
            .insert(row.as_slice(), bytes.as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(true)
    }

    /// `Storage::delete_version`, in one write transaction.
    pub(super) fn delete_version(
        &self,
        bucket: BucketId,
        key: &str,
        version: &VersionRef,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let k = object_key(bucket, key);
        let txn = self.db.begin_write().map_err(db_err)?;
        let current = current_head(&txn, &k)?;
        let deleted = match current {
            Some(c) if version.names(c.version_id.as_ref()) => {
                txn.open_table(OBJECTS)
                    .map_err(db_err)?
                    .remove(k.as_slice())
                    .map_err(db_err)?;
                write_inline(&txn, &k, None, Some(&c))?;
                self.release(&txn, c.blobs())?;
                self.promote_newest(&txn, bucket, key, &k)?;
                Some(c)
            }
            _ => {
                let found = {
                    let t = txn.open_table(VERSIONS).map_err(db_err)?;
                    find_version(&t, bucket, key, version)?
                };
                match found {
                    Some((vk, head)) => {
                        self.remove_noncurrent(&txn, &vk, &head)?;
                        Some(head)
                    }
                    None => None,
                }
            }
        };
        if deleted.is_some() {
            txn.commit().map_err(db_err)?;
        }
        Ok(deleted)
    }

    /// Makes the newest noncurrent version of `key` current (row `k` of
    /// `OBJECTS`, which is empty), if it has one.
    fn promote_newest(
        &self,
        txn: &WriteTransaction,
        bucket: BucketId,
        key: &str,
        k: &[u8],
    ) -> Result<(), StorageError> {
        let prefix = key_prefix(bucket, key);
        let newest = {
            let t = txn.open_table(VERSIONS).map_err(db_err)?;
            first_row(&t, &Bound::Included(prefix.clone()), &prefix)?
        };
        let Some((vk, head)) = newest else {
            return Ok(());
        };
        let head = decode_head(&head)?;
        txn.open_table(VERSIONS)
            .map_err(db_err)?
            .remove(vk.as_slice())
            .map_err(db_err)?;
        if head.inline.is_some() {
            let bytes = txn
                .open_table(VERSION_INLINE)
                .map_err(db_err)?
                .remove(vk.as_slice())
                .map_err(db_err)?
                .map(|v| v.value().to_vec());
            if let Some(bytes) = bytes {
                let mut t = txn.open_table(INLINE).map_err(db_err)?;
                t.insert(k, bytes.as_slice()).map_err(db_err)?;
            }
        }
        let bytes = serde_json::to_vec(&head).map_err(corrupt)?;
        let mut objects = txn.open_table(OBJECTS).map_err(db_err)?;
        objects.insert(k, bytes.as_slice()).map_err(db_err)?;
        Ok(())
    }

    /// `Storage::list_versions`: the current versions (from `OBJECTS`) and
    /// the noncurrent ones (from `VERSIONS`), merged by key.
    pub(super) fn list_versions(
        &self,
        bucket: BucketId,
        prefix: &str,
        from: VersionsFrom<'_>,
        limit: usize,
    ) -> Result<Vec<VersionEntry>, StorageError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let objects = txn.open_table(OBJECTS).map_err(db_err)?;
        let versions = txn.open_table(VERSIONS).map_err(db_err)?;
        let mut out: Vec<VersionEntry> = Vec::new();
        // The first key to list in full (after the rest of the marker's
        // key, when the page starts after one of its versions).
        let mut next_key: Bound<String> = match from {
            VersionsFrom::Start => Bound::Included(prefix.to_owned()),
            VersionsFrom::FromKey(k) => Bound::Included(k.to_owned()),
            VersionsFrom::AfterKey(k) => Bound::Excluded(k.to_owned()),
            VersionsFrom::AfterVersion(k, v) => {
                let cur = match objects
                    .get(object_key(bucket, k).as_slice())
                    .map_err(db_err)?
                {
                    Some(row) => Some(decode_head(row.value())?),
                    None => None,
                };
                let after = if cur.is_some_and(|c| v.names(c.version_id.as_ref())) {
                    // After the current version: every noncurrent one.
                    Some(Bound::Excluded(key_prefix(bucket, k)))
                } else {
                    find_version(&versions, bucket, k, v)?.map(|(vk, _)| Bound::Excluded(vk))
                };
                // A version that is gone, or a key outside the prefix: go
                // on with the next key.
                if let (Some(after), true) = (after, k.starts_with(prefix)) {
                    let pre = key_prefix(bucket, k);
                    noncurrent(&versions, after, &pre, k, limit, &mut out)?;
                }
                Bound::Excluded(k.to_owned())
            }
        };
        while out.len() < limit {
            // The next key of either table at or after `next_key`.
            let from_objects = next_current_key(&objects, bucket, prefix, &next_key)?;
            let from_versions = next_version_key(&versions, bucket, prefix, &next_key)?;
            let key = match (from_objects, from_versions) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            if let Some(row) = objects
                .get(object_key(bucket, &key).as_slice())
                .map_err(db_err)?
            {
                out.push(VersionEntry {
                    key: key.clone(),
                    head: decode_head(row.value())?,
                    is_latest: true,
                });
            }
            let pre = key_prefix(bucket, &key);
            noncurrent(
                &versions,
                Bound::Included(pre.clone()),
                &pre,
                &key,
                limit,
                &mut out,
            )?;
            next_key = Bound::Excluded(key);
        }
        out.truncate(limit);
        Ok(out)
    }
}

/// The current head in `OBJECTS` row `k`.
fn current_head(txn: &WriteTransaction, k: &[u8]) -> Result<Option<ObjectHead>, StorageError> {
    let objects = txn.open_table(OBJECTS).map_err(db_err)?;
    let row = objects.get(k).map_err(db_err)?;
    row.map(|v| decode_head(v.value())).transpose()
}

/// The noncurrent version of `key` that `version` names, with its row key.
fn find_version(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    bucket: BucketId,
    key: &str,
    version: &VersionRef,
) -> Result<Option<(Vec<u8>, ObjectHead)>, StorageError> {
    match version {
        VersionRef::Id(id) => {
            let mut vk = key_prefix(bucket, key);
            vk.extend_from_slice(&id.inverted_us().to_be_bytes());
            vk.extend_from_slice(id.as_str().as_bytes());
            let row = t.get(vk.as_slice()).map_err(db_err)?;
            match row {
                Some(v) => Ok(Some((vk, decode_head(v.value())?))),
                None => Ok(None),
            }
        }
        // The null version's time is not in its name: look through the
        // key's versions (a key has at most one null version).
        VersionRef::Null => {
            let prefix = key_prefix(bucket, key);
            for row in t.range::<&[u8]>(prefix.as_slice()..).map_err(db_err)? {
                let (vk, v) = row.map_err(db_err)?;
                let vk = vk.value();
                if !vk.starts_with(&prefix) {
                    break;
                }
                if vk.ends_with(NULL_VERSION.as_bytes()) && vk.len() == prefix.len() + 8 + 4 {
                    return Ok(Some((vk.to_vec(), decode_head(v.value())?)));
                }
            }
            Ok(None)
        }
    }
}

/// Appends `key`'s noncurrent versions from `lower` (within `prefix`, its
/// rows) to `out`, up to `limit` entries in all.
fn noncurrent(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    lower: Bound<Vec<u8>>,
    prefix: &[u8],
    key: &str,
    limit: usize,
    out: &mut Vec<VersionEntry>,
) -> Result<(), StorageError> {
    for row in t
        .range::<&[u8]>((as_slice(&lower), Bound::Unbounded))
        .map_err(db_err)?
    {
        if out.len() >= limit {
            break;
        }
        let (vk, v) = row.map_err(db_err)?;
        if !vk.value().starts_with(prefix) {
            break;
        }
        out.push(VersionEntry {
            key: key.to_owned(),
            head: decode_head(v.value())?,
            is_latest: false,
        });
    }
    Ok(())
}

/// The first key of `OBJECTS` in `bucket` within `prefix` from `from`.
fn next_current_key(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    bucket: BucketId,
    prefix: &str,
    from: &Bound<String>,
) -> Result<Option<String>, StorageError> {
    let lower = match from {
        Bound::Included(k) if k.as_str() >= prefix => Bound::Included(object_key(bucket, k)),
        Bound::Excluded(k) if k.as_str() >= prefix => Bound::Excluded(object_key(bucket, k)),
        _ => Bound::Included(object_key(bucket, prefix)),
    };
    let full = object_key(bucket, prefix);
    match first_row(t, &lower, &full)? {
        Some((k, _)) => Ok(Some(String::from_utf8(k[16..].to_vec()).map_err(corrupt)?)),
        None => Ok(None),
    }
}

/// The first key with a noncurrent version in `bucket` within `prefix`
/// from `from`.
fn next_version_key(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    bucket: BucketId,
    prefix: &str,
    from: &Bound<String>,
) -> Result<Option<String>, StorageError> {
    // After every version of key k: the prefix of k with its end
    // (0x00 0x00) raised to 0x00 0x01, which no version of k reaches and
    // every longer key passes.
    let lower = match from {
        Bound::Included(k) if k.as_str() >= prefix => key_prefix(bucket, k),
        Bound::Excluded(k) if k.as_str() >= prefix => {
            let mut p = key_prefix(bucket, k);
            if let Some(last) = p.last_mut() {
                *last = 1;
            }
            p
        }
        _ => key_prefix(bucket, prefix),
    };
    // The escaped prefix without its end: every key that starts with
    // `prefix` starts with it.
    let mut within = key_prefix(bucket, prefix);
    within.truncate(within.len() - 2);
    match first_row(t, &Bound::Included(lower), &within)? {
        Some((k, _)) => key_of(&k).map(Some),
        None => Ok(None),
    }
}
