//! Multipart uploads in the embedded store: upload and part records, and
//! the completion that turns parts into an object without copying data.

use std::collections::HashSet;
use std::ops::Bound;

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{
    corrupt, crcs, db_err, decode_head, object_key, scan_prefixed, write_inline, Inner, BUCKET_IDS,
    LIVE_BLOBS, OBJECTS,
};
use crate::storage::{
    BlobId, BucketId, ObjectHead, PartRecord, StorageError, UploadRecord, WriteCondition,
};
use crate::types::VersioningState;

/// Key: bucket id (16 bytes), object key, 0x00, upload id.
pub(super) const UPLOADS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("uploads");
/// Key: upload id bytes, then the part number (big-endian u32).
pub(super) const PARTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("parts");

fn upload_key(bucket: BucketId, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = object_key(bucket, key);
    k.push(0);
    k.extend_from_slice(upload_id.as_bytes());
    k
}

fn part_key(upload_id: &str, part: u32) -> Vec<u8> {
    let mut k = upload_id.as_bytes().to_vec();
    k.extend_from_slice(&part.to_be_bytes());
    k
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(bytes).map_err(corrupt)
}

/// Every part of an upload, removed from the table.
fn take_parts(txn: &WriteTransaction, upload_id: &str) -> Result<Vec<PartRecord>, StorageError> {
    let mut parts = txn.open_table(PARTS).map_err(db_err)?;
    let lo = part_key(upload_id, 0);
    let hi = part_key(upload_id, u32::MAX);
    let mut out = Vec::new();
    let mut keys = Vec::new();
    for row in parts
        .range::<&[u8]>(lo.as_slice()..=hi.as_slice())
        .map_err(db_err)?
    {
        let (k, v) = row.map_err(db_err)?;
        keys.push(k.value().to_vec());
        out.push(decode(v.value())?);
    }
    for k in keys {
        parts.remove(k.as_slice()).map_err(db_err)?;
    }
    Ok(out)
}

impl Inner {
    fn upload_exists(&self, txn: &WriteTransaction, k: &[u8]) -> Result<bool, StorageError> {
        let uploads = txn.open_table(UPLOADS).map_err(db_err)?;
        let found = uploads.get(k).map_err(db_err)?.is_some();
        Ok(found)
    }

    pub(super) fn create_upload(
        &self,
        bucket: BucketId,
        upload: &UploadRecord,
    ) -> Result<(), StorageError> {
        let k = upload_key(bucket, &upload.key, &upload.upload_id);
        let bytes = serde_json::to_vec(upload).map_err(corrupt)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let ids = txn.open_table(BUCKET_IDS).map_err(db_err)?;
            if ids.get(bucket.0.as_u128()).map_err(db_err)?.is_none() {
                return Err(StorageError::NoSuchBucket);
            }
            let mut uploads = txn.open_table(UPLOADS).map_err(db_err)?;
            uploads
                .insert(k.as_slice(), bytes.as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    pub(super) fn get_upload(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<UploadRecord>, StorageError> {
        let k = upload_key(bucket, key, upload_id);
        let txn = self.db.begin_read().map_err(db_err)?;
        let uploads = txn.open_table(UPLOADS).map_err(db_err)?;
        let found = match uploads.get(k.as_slice()).map_err(db_err)? {
            Some(v) => Some(decode(v.value())?),
            None => None,
        };
        Ok(found)
    }

    pub(super) fn put_part(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
        part: &PartRecord,
    ) -> Result<(), StorageError> {
        let uk = upload_key(bucket, key, upload_id);
        let pk = part_key(upload_id, part.part_number);
        let bytes = serde_json::to_vec(part).map_err(corrupt)?;
        let rows = self
            .pending_crcs
            .take_rows(std::iter::once((part.data.blob, part.data.size)));
        let txn = self.db.begin_write().map_err(db_err)?;
        if !self.upload_exists(&txn, &uk)? {
            return Err(StorageError::NoSuchUpload);
        }
        crcs::insert(&txn, &rows)?;
        let replaced = {
            let mut parts = txn.open_table(PARTS).map_err(db_err)?;
            let old = parts
                .insert(pk.as_slice(), bytes.as_slice())
                .map_err(db_err)?;
            match old {
                Some(v) => Some(decode::<PartRecord>(v.value())?.data.blob),
                None => None,
            }
        };
        if let Some(old) = replaced.filter(|b| *b != part.data.blob) {
            self.release(&txn, std::iter::once(old))?;
        }
        {
            let mut live = txn.open_table(LIVE_BLOBS).map_err(db_err)?;
            live.insert(part.data.blob.0.as_u128(), ())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    pub(super) fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> Result<Vec<PartRecord>, StorageError> {
        let lo = part_key(upload_id, after);
        let hi = part_key(upload_id, u32::MAX);
        let txn = self.db.begin_read().map_err(db_err)?;
        let parts = txn.open_table(PARTS).map_err(db_err)?;
        let mut out = Vec::new();
        let range = (
            Bound::Excluded(lo.as_slice()),
            Bound::Included(hi.as_slice()),
        );
        for row in parts.range::<&[u8]>(range).map_err(db_err)? {
            if out.len() >= limit {
                break;
            }
            out.push(decode(row.map_err(db_err)?.1.value())?);
        }
        Ok(out)
    }

    pub(super) fn list_uploads(
        &self,
        bucket: BucketId,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<UploadRecord>, StorageError> {
        let full_prefix = object_key(bucket, prefix);
        let lower = match after {
            // An empty upload id skips every upload of that key: 0x01 sorts
            // after the 0x00 separator of all of them.
            Some((key, "")) if key >= prefix => {
                let mut k = object_key(bucket, key);
                k.push(1);
                Bound::Included(k)
            }
            Some((key, id)) if key >= prefix => Bound::Excluded(upload_key(bucket, key, id)),
            _ => Bound::Included(full_prefix.clone()),
        };
        let txn = self.db.begin_read().map_err(db_err)?;
        let uploads = txn.open_table(UPLOADS).map_err(db_err)?;
        scan_prefixed(&uploads, &lower, &full_prefix, limit, |_, v| {
            decode(v).map(Some)
        })
    }

    /// One write transaction: the condition is checked against the head
    /// it replaces, and any refusal drops the transaction, which undoes
    /// every removal before it (the upload stays as it was). In a
    /// versioned bucket (`mode`) the head is written as a new version
    /// (`write_version`); returns the head as written.
    pub(super) fn complete_upload(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
        head: &ObjectHead,
        mode: VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        let uk = upload_key(bucket, key, upload_id);
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut uploads = txn.open_table(UPLOADS).map_err(db_err)?;
            if uploads.remove(uk.as_slice()).map_err(db_err)?.is_none() {
                return Err(StorageError::NoSuchUpload);
            }
        }
        let kept: HashSet<BlobId> = head.blobs().collect();
        let parts = take_parts(&txn, upload_id)?;
        let current: HashSet<BlobId> = parts.iter().map(|p| p.data.blob).collect();
        if !kept.is_subset(&current) {
            // Dropping the transaction undoes the removals above.
            return Err(StorageError::PartChanged);
        }
        let mut released: Vec<BlobId> = parts
            .iter()
            .map(|p| p.data.blob)
            .filter(|b| !kept.contains(b))
            .collect();
        let written = if mode.is_versioned() {
            self.write_version(&txn, bucket, key, head, mode, cond)?
        } else {
            let old = self.replace_head(&txn, bucket, key, head, cond)?;
            if let Some(old) = &old {
                released.extend(old.blobs().filter(|b| !kept.contains(b)));
            }
            head.clone()
        };
        self.release(&txn, released.into_iter())?;
        txn.commit().map_err(db_err)?;
        Ok(written)
    }

    /// Writes `head` over the key's head in an unversioned bucket if
    /// `cond` holds; returns the head it replaced.
    fn replace_head(
        &self,
        txn: &WriteTransaction,
        bucket: BucketId,
        key: &str,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let ok = object_key(bucket, key);
        let bytes = serde_json::to_vec(head).map_err(corrupt)?;
        let old = {
            let mut objects = txn.open_table(OBJECTS).map_err(db_err)?;
            let old = match objects.get(ok.as_slice()).map_err(db_err)? {
                Some(v) => Some(decode_head(v.value())?),
                None => None,
            };
            if !cond.holds(old.as_ref()) {
                return Err(StorageError::PreconditionFailed);
            }
            objects
                .insert(ok.as_slice(), bytes.as_slice())
                .map_err(db_err)?;
            old
        };
        write_inline(txn, &ok, Some(head), old.as_ref())?;
        Ok(old)
    }

    pub(super) fn abort_upload(
        &self,
        bucket: BucketId,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        let uk = upload_key(bucket, key, upload_id);
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut uploads = txn.open_table(UPLOADS).map_err(db_err)?;
            if uploads.remove(uk.as_slice()).map_err(db_err)?.is_none() {
                return Err(StorageError::NoSuchUpload);
            }
        }
        let parts = take_parts(&txn, upload_id)?;
        self.release(&txn, parts.into_iter().map(|p| p.data.blob))?;
        txn.commit().map_err(db_err)
    }

    /// Aborts every upload of a bucket (when the bucket is deleted).
    pub(super) fn abort_all_uploads(
        &self,
        txn: &WriteTransaction,
        bucket: BucketId,
    ) -> Result<(), StorageError> {
        let prefix = bucket.0.as_bytes().to_vec();
        let mut doomed = Vec::new();
        {
            let uploads = txn.open_table(UPLOADS).map_err(db_err)?;
            for row in uploads
                .range::<&[u8]>(prefix.as_slice()..)
                .map_err(db_err)?
            {
                let (k, v) = row.map_err(db_err)?;
                if !k.value().starts_with(&prefix) {
                    break;
                }
                let rec: UploadRecord = decode(v.value())?;
                doomed.push((k.value().to_vec(), rec.upload_id));
            }
        }
        for (k, id) in doomed {
            txn.open_table(UPLOADS)
                .map_err(db_err)?
                .remove(k.as_slice())
                .map_err(db_err)?;
            let parts = take_parts(txn, &id)?;
            self.release(txn, parts.into_iter().map(|p| p.data.blob))?;
        }
        Ok(())
    }
}
