//! The record-level storage contract shared by every backend.
//!
//! The contract is three traits, each implemented by every backend:
//! [`Storage`] (the data operations: buckets, blobs and chunks, objects,
//! listing, multipart uploads), [`Maintenance`] (fsck, repair, GC figures)
//! [`StatusStore`] (the dashboard's status documents and database
//! nodes) and [`KeyStore`] (access keys). [`Stores`] hands one backend out
//! as the four.
//!
//! Handlers in `s3/` talk only to [`Storage`]; they never see files or CQL.
//! Object data lives in immutable blobs split into chunks, addressed by
//! `(blob, index)`. An object becomes visible when its head (the manifest)
//! is written: that single write is the commit point.

pub mod cassandra;
pub mod embedded;
pub mod fsck;
pub mod gc_stats;
pub mod keys;
pub mod maintenance;
pub mod reader;
pub mod records;
pub mod statuses;
pub mod writer;

use std::ops::Bound;

use async_trait::async_trait;
use bytes::Bytes;

use crate::types::{ObjectKey, TagSet, UploadId};

pub use fsck::{FsckReport, RepairReport};
pub(crate) use gc_stats::{GcSnapshot, GcStats};
pub use keys::KeyStore;
pub use maintenance::{Lease, Maintenance};
pub use records::{
    chunk_count, BlobId, BlobOwner, BucketId, BucketRecord, ChunkAddr, Grant, InlineData,
    KeyRecord, ObjectHead, PartRecord, PartRef, UploadRecord,
};
pub(crate) use statuses::{NodeStatus, StatusStore};

/// Failures of a storage backend. The S3 layer maps each variant to an S3
/// error code with an exhaustive match (see `error.rs`).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("bucket already exists")]
    BucketExists(Box<BucketRecord>),
    #[error("bucket is not empty")]
    BucketNotEmpty,
    #[error("no such bucket")]
    NoSuchBucket,
    #[error("write precondition failed")]
    PreconditionFailed,
    #[error("no such multipart upload")]
    NoSuchUpload,
    #[error("a part changed while the upload was being completed")]
    PartChanged,
    #[error("chunk {index} of blob {blob} is missing")]
    ChunkMissing { blob: BlobId, index: u32 },
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    /// The upload ran past the backend's commit deadline: its blob may
    /// already be swept, so it is not committed.
    #[error("the upload took longer than the commit deadline")]
    TooLate,
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// Another request holds what this one needs (the claim on a multipart
    /// upload), or kept changing it; retrying later may succeed.
    #[error("busy: {0}")]
    Busy(&'static str),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A failure of the backend's own machinery (the embedded database, a
    /// task), with its cause.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StorageError {
    /// An [`StorageError::Internal`] from any error or message.
    pub(crate) fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StorageError::Internal(e.into())
    }
}

/// A stored record that does not decode.
pub(crate) fn corrupt(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(e.to_string())
}

/// The checksum every backend stores with each chunk and checks on every
/// read: CRC32C (Castagnoli), hardware-accelerated.
pub fn chunk_crc(data: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, data) as u32
}

/// The error for a chunk whose bytes do not match its checksum: it is
/// never served.
pub(crate) fn corrupt_chunk(addr: ChunkAddr, stored: u32, actual: u32) -> StorageError {
    StorageError::Corrupt(format!(
        "chunk {} of blob {}: checksum {actual:08x}, stored {stored:08x}",
        addr.index, addr.blob
    ))
}

/// The wall clock in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The wall clock in microseconds since the Unix epoch (versions' times).
pub(crate) fn now_us() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64
}

impl StorageError {
    /// Whether the failed write certainly stored nothing. A timeout or a
    /// lost connection may still have committed (on Cassandra a write that
    /// timed out can be applied later), so the blobs such a write named
    /// must not be discarded: the orphan sweep decides later.
    pub(crate) fn nothing_written(&self) -> bool {
        match self {
            StorageError::BucketExists(_)
            | StorageError::BucketNotEmpty
            | StorageError::NoSuchBucket
            | StorageError::PreconditionFailed
            | StorageError::NoSuchUpload
            | StorageError::PartChanged
            | StorageError::ChunkMissing { .. }
            | StorageError::Corrupt(_)
            | StorageError::TooLate => true,
            StorageError::Unavailable(_)
            | StorageError::Busy(_)
            | StorageError::Io(_)
            | StorageError::Internal(_) => false,
        }
    }
}

/// `put_version`'s refusal of an unversioned bucket's writes, which go
/// through `put_object`.
pub(crate) fn versioned_only(mode: crate::types::VersioningState) -> Result<(), StorageError> {
    if mode.is_versioned() {
        Ok(())
    } else {
        Err(StorageError::internal(
            "put_version in an unversioned bucket",
        ))
    }
}

/// A condition checked atomically with an object head write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    /// Unconditional: last writer wins.
    None,
    /// `If-None-Match: *`: the key must not exist.
    IfNoneMatch,
    /// `If-Match: etag`: the key must exist with this ETag (unquoted).
    IfMatch(String),
    /// The key's head must still be the one read (the lifecycle worker's
    /// condition: an object written since is not what a rule chose).
    IfUnchanged(HeadStamp),
}

/// What tells one head of a key from another written later: its version
/// (id and time), ETag and last-modified time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadStamp {
    pub version_id: Option<crate::types::VersionId>,
    pub version_us: i64,
    pub etag: String,
    pub last_modified_ms: i64,
}

impl HeadStamp {
    pub fn of(head: &ObjectHead) -> HeadStamp {
        HeadStamp {
            version_id: head.version_id.clone(),
            version_us: head.version_us,
            etag: head.etag.clone(),
            last_modified_ms: head.last_modified_ms,
        }
    }
}

impl WriteCondition {
    /// Whether the condition holds over `current`, the key's head now. A
    /// current delete marker counts as no object, as in S3.
    pub(crate) fn holds(&self, current: Option<&ObjectHead>) -> bool {
        let current = current.filter(|h| !h.delete_marker);
        match (self, current) {
            (WriteCondition::None, _) => true,
            (WriteCondition::IfNoneMatch, current) => current.is_none(),
            (WriteCondition::IfMatch(etag), Some(c)) => c.etag == *etag,
            (WriteCondition::IfMatch(_), None) => false,
            (WriteCondition::IfUnchanged(stamp), Some(c)) => HeadStamp::of(c) == *stamp,
            (WriteCondition::IfUnchanged(_), None) => false,
        }
    }
}

/// One entry of a listing, in UTF-8 byte order of keys.
#[derive(Debug, Clone)]
pub struct ListEntry {
    pub key: String,
    pub head: ObjectHead,
}

/// One version of a ListObjectVersions page: keys in UTF-8 byte order,
/// each key's versions newest first. `head.delete_marker` tells a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    pub key: String,
    pub head: ObjectHead,
    /// Whether it is the key's current version.
    pub is_latest: bool,
}

/// Where a page of versions starts (`key-marker`, `version-id-marker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionsFrom<'a> {
    /// From the first key of the prefix.
    Start,
    /// From this key's first version (it need not exist): what skips a
    /// common prefix.
    FromKey(&'a str),
    /// After every version of this key.
    AfterKey(&'a str),
    /// After this version of this key (the key's older versions next).
    AfterVersion(&'a str, &'a crate::types::VersionRef),
}

/// The backend contract. Every method is a small record-level operation;
/// S3 semantics (delimiters, ranges, conditionals, ETags) live in `s3/`.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Whether the backend can serve requests now (a cheap read).
    async fn ready(&self) -> Result<(), StorageError>;

    /// Creates a bucket; `BucketExists` carries the existing record.
    async fn create_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError>;
    async fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>, StorageError>;
    async fn list_buckets(&self) -> Result<Vec<BucketRecord>, StorageError>;
    /// Deletes an empty bucket; `BucketNotEmpty` otherwise.
    async fn delete_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError>;
    /// Sets what `key` may do on the bucket (an empty grant removes the
    /// key's entry); `NoSuchBucket` if the bucket is gone or is another
    /// incarnation of its name.
    async fn set_grant(
        &self,
        bucket: &BucketRecord,
        key: &str,
        grant: Grant,
    ) -> Result<(), StorageError>;
    /// Sets (or with `None` removes) the bucket's policy, a document
    /// `access::policy` accepted; `NoSuchBucket` as for `set_grant`.
    async fn set_policy(
        &self,
        bucket: &BucketRecord,
        policy: Option<&str>,
    ) -> Result<(), StorageError>;
    /// Sets the bucket's tag set, a valid `TagSet` (an empty one removes
    /// it); `NoSuchBucket` as for `set_grant`.
    async fn set_bucket_tags(
        &self,
        bucket: &BucketRecord,
        tags: &TagSet,
    ) -> Result<(), StorageError>;
    /// Sets (or with `None` removes) the bucket's lifecycle configuration,
    /// one the S3 layer checked; `NoSuchBucket` as for `set_grant`.
    async fn set_bucket_lifecycle(
        &self,
        bucket: &BucketRecord,
        config: Option<&crate::types::LifecycleConfig>,
    ) -> Result<(), StorageError>;
    /// Sets (or with `None` removes) the bucket's CORS configuration, one
    /// the S3 layer checked; `NoSuchBucket` as for `set_grant`.
    async fn set_bucket_cors(
        &self,
        bucket: &BucketRecord,
        config: Option<&crate::types::CorsConfig>,
    ) -> Result<(), StorageError>;

    /// Announces a blob about to be written, and the record that will
    /// reference it, so a crash mid-write leaves something the collector
    /// can find and decide on.
    async fn begin_blob(&self, blob: BlobId, owner: &BlobOwner) -> Result<(), StorageError>;
    /// Stores one chunk. Chunks of a blob may be written concurrently.
    async fn put_chunk(&self, addr: ChunkAddr, data: Bytes) -> Result<(), StorageError>;
    /// Makes every chunk of the blob durable before the head refers to it.
    async fn seal_blob(&self, blob: BlobId) -> Result<(), StorageError>;
    /// Reads one whole chunk, checked against the checksum stored with it
    /// (`Corrupt` if it does not match; chunks written before checksums
    /// existed have none).
    async fn get_chunk(&self, addr: ChunkAddr) -> Result<Bytes, StorageError>;
    /// Drops a blob that was never committed (failed or rejected upload);
    /// `chunks` bounds the chunk indexes that may hold data.
    async fn discard_blob(&self, blob: BlobId, chunks: u32) -> Result<(), StorageError>;

    /// The head of `key`. An inline object's head comes without its bytes
    /// (`InlineData::bytes` is `None`): what HEAD, conditionals and
    /// listings need.
    async fn get_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
    ) -> Result<Option<ObjectHead>, StorageError>;
    /// The head of `key` with an inline object's bytes, read at once with
    /// it (what GET and copy read). The bytes are checked by whoever serves
    /// them (`InlineData::checked`).
    async fn get_object_data(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
    ) -> Result<Option<ObjectHead>, StorageError>;
    /// The commit point: writes the head if `cond` holds, with an inline
    /// object's bytes (a head with `inline` must carry them). Blobs of a
    /// replaced head are handed to garbage collection by the backend.
    async fn put_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<(), StorageError>;
    /// Replaces the tags of `key`'s current head, and nothing else of it
    /// (its ETag, data and last-modified time stay); returns whether the
    /// key existed. The change applies to the head that is current when it
    /// is written: a head written meanwhile is never given back the blobs
    /// of the one this read.
    async fn set_object_tags(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        tags: &TagSet,
    ) -> Result<bool, StorageError>;
    /// Removes a head if `cond` holds over it (`PreconditionFailed` and
    /// nothing removed if not); returns whether one existed. Its blobs go
    /// to GC.
    async fn delete_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        cond: &WriteCondition,
    ) -> Result<bool, StorageError>;
    /// Writes `head` (an object or a delete marker) as the new current
    /// version of `key` in a bucket whose versioning is `mode` (Enabled or
    /// Suspended), if `cond` holds over the current version (a current
    /// delete marker counts as no object). The backend gives the version
    /// its time (later than the current version's) and its id (enabled: a
    /// fresh one; suspended: the null version) and returns the head as
    /// written. Enabled: the version it replaces is kept, noncurrent.
    /// Suspended: so is it, unless it is the null version, which is
    /// replaced; a noncurrent null version is removed. Removed versions'
    /// blobs go to GC.
    async fn put_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        head: &ObjectHead,
        mode: crate::types::VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError>;
    /// The version of `key` that `version` names, current or not, a delete
    /// marker included; with an inline object's bytes if `data`.
    async fn get_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &crate::types::VersionRef,
        data: bool,
    ) -> Result<Option<ObjectHead>, StorageError>;
    /// Replaces the tags of the version of `key` that `version` names,
    /// current or not, and nothing else of it; returns whether it
    /// existed.
    async fn set_version_tags(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &crate::types::VersionRef,
        tags: &TagSet,
    ) -> Result<bool, StorageError>;
    /// Deletes a version for good; returns it, if it existed. When it was
    /// the current one, the newest noncurrent version (if any) becomes
    /// current. Its blobs go to GC.
    async fn delete_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &crate::types::VersionRef,
    ) -> Result<Option<ObjectHead>, StorageError>;
    /// Up to `limit` versions of keys that start with `prefix`, from
    /// `from`, keys in UTF-8 byte order and each key's versions newest
    /// first (ListObjectVersions).
    async fn list_versions(
        &self,
        bucket: BucketId,
        prefix: &str,
        from: VersionsFrom<'_>,
        limit: usize,
    ) -> Result<Vec<VersionEntry>, StorageError>;
    /// Sets the bucket's versioning state (`NoSuchBucket` if it is gone
    /// or another incarnation).
    async fn set_bucket_versioning(
        &self,
        bucket: &BucketRecord,
        state: crate::types::VersioningState,
    ) -> Result<(), StorageError>;

    /// Up to `limit` entries whose keys start with `prefix` and lie after
    /// `start`, in UTF-8 byte order. Keys whose current version is a
    /// delete marker are not listed.
    async fn list_objects(
        &self,
        bucket: BucketId,
        prefix: &str,
        start: Bound<&str>,
        limit: usize,
    ) -> Result<Vec<ListEntry>, StorageError>;

    /// Records a new multipart upload.
    async fn create_upload(
        &self,
        bucket: BucketId,
        upload: &UploadRecord,
    ) -> Result<(), StorageError>;
    async fn get_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<Option<UploadRecord>, StorageError>;
    /// Records an uploaded part (its blob sealed); a part with the same
    /// number is replaced and its blob handed to GC. `NoSuchUpload` if the
    /// upload is gone.
    async fn put_part(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        part: &PartRecord,
    ) -> Result<(), StorageError>;
    /// Parts with numbers above `after`, ascending.
    async fn list_parts(
        &self,
        upload_id: &UploadId,
        after: u32,
        limit: usize,
    ) -> Result<Vec<PartRecord>, StorageError>;
    /// Uploads whose keys start with `prefix`, ordered by key then upload
    /// id (ids sort by creation time), after `(key, upload id)`; an empty
    /// upload id skips every upload of that key.
    async fn list_uploads(
        &self,
        bucket: BucketId,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<UploadRecord>, StorageError>;
    /// The commit point of a multipart upload: writes `head` if `cond`
    /// holds, removes the upload and its parts, and hands to GC every blob
    /// of a part the head does not use and of the head it replaces.
    /// `NoSuchUpload` if gone; `PartChanged` (and nothing written) if a
    /// blob of `head` is no longer the current blob of a part, because a
    /// part was uploaded again; `PreconditionFailed` (nothing written, the
    /// upload left as it was) if `cond` does not hold, checked atomically
    /// with the write as for `put_object`.
    async fn complete_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<(), StorageError>;
    /// [`complete_upload`](Storage::complete_upload) in a bucket whose
    /// versioning is `mode` (Enabled or Suspended): the head is written as
    /// [`put_version`](Storage::put_version) writes one, and returned as
    /// written (its version id and time).
    async fn complete_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        head: &ObjectHead,
        mode: crate::types::VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError>;
    /// Removes the upload and hands all its parts' blobs to GC.
    async fn abort_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<(), StorageError>;
}

/// One backend handed out as its three contracts: the same object behind
/// each `Arc`, so the data path, the maintenance commands and the
/// dashboard each see only the part they use.
#[derive(Clone)]
pub(crate) struct Stores {
    pub data: std::sync::Arc<dyn Storage>,
    pub maintenance: std::sync::Arc<dyn Maintenance>,
    pub statuses: std::sync::Arc<dyn StatusStore>,
    pub keys: std::sync::Arc<dyn KeyStore>,
}

impl Stores {
    /// The three handles of one backend.
    pub(crate) fn of<B: Storage + Maintenance + StatusStore + KeyStore>(
        backend: std::sync::Arc<B>,
    ) -> Stores {
        Stores {
            data: backend.clone(),
            maintenance: backend.clone(),
            statuses: backend.clone(),
            keys: backend,
        }
    }
}
