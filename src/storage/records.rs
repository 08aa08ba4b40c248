//! Records stored by every backend: buckets, object heads (manifests) and
//! the addresses of chunks.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::types::{
    ChecksumAlgorithm, ChecksumType, CorsConfig, LifecycleConfig, TagSet, VersionId,
    VersioningState,
};
use uuid::Uuid;

/// Identity of a bucket incarnation: a re-created name gets a new id, so it
/// never sees the data of its predecessor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BucketId(pub Uuid);

impl BucketId {
    pub fn new() -> Self {
        BucketId(Uuid::new_v4())
    }
}

impl Default for BucketId {
    fn default() -> Self {
        Self::new()
    }
}

/// Identity of an immutable blob of object data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlobId(pub Uuid);

impl BlobId {
    /// A fresh id. Version 7: the first 48 bits are the creation time in
    /// milliseconds, so a backend can file a blob by when it was started.
    pub fn new() -> Self {
        BlobId(Uuid::now_v7())
    }

    /// Milliseconds since the Unix epoch when the id was made (0 for ids
    /// that carry no time).
    pub(crate) fn created_ms(&self) -> i64 {
        match self.0.get_timestamp() {
            Some(ts) => {
                let (secs, nanos) = ts.to_unix();
                (secs as i64) * 1000 + i64::from(nanos / 1_000_000)
            }
            None => 0,
        }
    }
}

/// The record that will reference a blob being written, if its upload
/// commits. A backend keeps it with the blob while it is pending, so that
/// the blob of an upload that never finished (a killed gateway, a write
/// that timed out) can be decided on later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "lowercase")]
pub enum BlobOwner {
    /// The head of `key` (PutObject, CopyObject).
    Object { bucket: BucketId, key: String },
    /// A part of a multipart upload (UploadPart, UploadPartCopy).
    Part {
        bucket: BucketId,
        key: String,
        upload_id: String,
        part_number: u32,
    },
}

/// How many chunks of `chunk_size` bytes hold `size` bytes.
pub fn chunk_count(size: u64, chunk_size: u32) -> u32 {
    let cs = u64::from(chunk_size.max(1));
    u32::try_from(size.div_ceil(cs)).unwrap_or(u32::MAX)
}

impl Default for BlobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

/// Where one chunk lives: chunk `index` of `blob`, whose chunks are
/// `chunk_size` bytes each except the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkAddr {
    pub blob: BlobId,
    pub index: u32,
    pub chunk_size: u32,
}

impl ChunkAddr {
    pub(crate) fn offset(&self) -> u64 {
        u64::from(self.index) * u64::from(self.chunk_size)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketRecord {
    pub name: String,
    pub id: BucketId,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub region: String,
    /// The access key id of the key that created it; empty when the root
    /// pair did (and for buckets made before keys existed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner: String,
    /// What each access key may do on it, by access key id. The root pair
    /// and admin keys need none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grants: BTreeMap<String, Grant>,
    /// Its bucket policy as the owner put it (`access::policy`, checked
    /// when put), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Its tags (PutBucketTagging); empty when it has none.
    #[serde(default, skip_serializing_if = "TagSet::is_empty")]
    pub tags: TagSet,
    /// Its versioning state (PutBucketVersioning).
    #[serde(default, skip_serializing_if = "is_unversioned")]
    pub versioning: VersioningState,
    /// Its lifecycle rules (PutBucketLifecycleConfiguration), if it has
    /// any; applied by `crate::lifecycle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecycleConfig>,
    /// Its CORS rules (PutBucketCors), if it has any; `s3::cors` answers
    /// browsers by them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsConfig>,
}

fn is_unversioned(state: &VersioningState) -> bool {
    !state.is_versioned()
}

impl BucketRecord {
    /// A new bucket named `name`, created now by `owner` (empty for the
    /// root pair), who is granted everything on it.
    pub fn new(name: &str, region: &str, owner: &str) -> BucketRecord {
        let mut grants = BTreeMap::new();
        if !owner.is_empty() {
            grants.insert(owner.to_owned(), Grant::ALL);
        }
        BucketRecord {
            name: name.to_owned(),
            id: BucketId::new(),
            created_ms: super::now_ms(),
            region: region.to_owned(),
            owner: owner.to_owned(),
            grants,
            policy: None,
            tags: TagSet::default(),
            versioning: VersioningState::Unversioned,
            lifecycle: None,
            cors: None,
        }
    }

    /// What `key` may do on the bucket.
    pub fn grant_of(&self, key: &str) -> Grant {
        self.grants.get(key).copied().unwrap_or_default()
    }
}

/// What one access key may do on one bucket (`s3::permission`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// GET, HEAD and the listings.
    #[serde(default)]
    pub read: bool,
    /// PUT, DELETE, multipart uploads, copies into the bucket.
    #[serde(default)]
    pub write: bool,
    /// Delete the bucket, read or change its configuration.
    #[serde(default)]
    pub owner: bool,
}

impl Grant {
    pub const ALL: Grant = Grant {
        read: true,
        write: true,
        owner: true,
    };

    pub fn is_empty(&self) -> bool {
        !(self.read || self.write || self.owner)
    }

    /// The grant as stored in a text column: a subset of `rwo`.
    pub fn letters(&self) -> String {
        [(self.read, 'r'), (self.write, 'w'), (self.owner, 'o')]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, c)| *c)
            .collect()
    }

    /// The grant of [`Grant::letters`]; unknown letters are ignored.
    pub fn from_letters(s: &str) -> Grant {
        Grant {
            read: s.contains('r'),
            write: s.contains('w'),
            owner: s.contains('o'),
        }
    }
}

/// An access key (issue 17): who may sign requests besides the root pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The access key id (`AWS_ACCESS_KEY_ID`).
    pub id: String,
    pub name: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Whether it may create buckets (and so own them).
    pub create_bucket: bool,
    /// Whether it may do everything the root pair may: every bucket, and
    /// the admin API.
    pub admin: bool,
    /// The secret, encrypted (`access::seal`); never the secret itself.
    pub sealed_secret: String,
}

/// An additional checksum as S3 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChecksum {
    /// Stored by its S3 name (`CRC32`, …, `SHA256`).
    pub algorithm: ChecksumAlgorithm,
    /// Base64 of the digest; a composite value ends in `-N`.
    pub value: String,
    /// Stored as `FULL_OBJECT` or `COMPOSITE`.
    pub kind: ChecksumType,
}

/// One blob of an object: the whole body of a single PUT, or one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRef {
    pub blob: BlobId,
    pub size: u64,
    /// Hex MD5 of this part's bytes.
    pub etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<StoredChecksum>,
    /// Chunk size of this blob when it differs from the head's (parts of
    /// one upload may be written under different configurations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<u32>,
}

/// Standard content headers stored with an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHeaders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// The manifest of an object. Writing it is the commit point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHead {
    pub size: u64,
    /// Unquoted ETag: hex MD5, or `hex-N` for multipart objects.
    pub etag: String,
    pub last_modified_ms: i64,
    pub chunk_size: u32,
    /// The blobs holding the data, in order. Empty for a zero-byte object.
    pub parts: Vec<PartRef>,
    /// Whether the object was assembled by CompleteMultipartUpload.
    #[serde(default)]
    pub multipart: bool,
    /// The multipart upload that produced this head, so that a retried
    /// CompleteMultipartUpload can answer with the same result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<StoredChecksum>,
    #[serde(default)]
    pub content: ContentHeaders,
    /// User metadata, names lower-cased without the `x-amz-meta-` prefix.
    #[serde(default)]
    pub user_meta: BTreeMap<String, String>,
    /// Its tags (`x-amz-tagging`, PutObjectTagging); empty when it has
    /// none. Changed in place by `Storage::set_object_tags`.
    #[serde(default, skip_serializing_if = "TagSet::is_empty")]
    pub tags: TagSet,
    /// A small object's bytes, kept with its head instead of in a blob
    /// (`parts` is then empty); docs/storage-model.md "Inline objects".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<InlineData>,
    /// Its version id; `None` is the null version (every object written
    /// while its bucket was unversioned or versioning was suspended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<VersionId>,
    /// When the version was made, µs since the epoch, which orders the
    /// versions of a key (`order_us`); 0 on heads written outside
    /// versioning.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version_us: i64,
    /// A delete marker: a version without data (no parts, no bytes).
    #[serde(default, skip_serializing_if = "is_false")]
    pub delete_marker: bool,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The bytes of an inline object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineData {
    /// CRC32C of the bytes (`crate::storage::chunk_crc`), checked on every
    /// read of them.
    pub crc: u32,
    /// The bytes, when a write carries them or a read asked for them
    /// (`Storage::get_object_data`). Never serialized with the head: each
    /// backend keeps them beside it, where a listing does not read them.
    #[serde(skip)]
    pub bytes: Option<Bytes>,
}

impl InlineData {
    /// `data` as the inline bytes of a head.
    pub fn of(data: Bytes) -> InlineData {
        InlineData {
            crc: super::chunk_crc(&data),
            bytes: Some(data),
        }
    }

    /// The bytes, checked against the stored checksum; `Corrupt` if they
    /// do not match or are missing.
    pub(crate) fn checked(&self, size: u64) -> Result<&Bytes, super::StorageError> {
        let bytes = self.bytes.as_ref().ok_or_else(|| {
            super::StorageError::Corrupt("an inline object's bytes are missing".into())
        })?;
        let actual = super::chunk_crc(bytes);
        if actual != self.crc || bytes.len() as u64 != size {
            return Err(super::StorageError::Corrupt(format!(
                "inline object of {} bytes (head says {size}): checksum {actual:08x}, stored {:08x}",
                bytes.len(),
                self.crc
            )));
        }
        Ok(bytes)
    }
}

impl PartRef {
    /// The number of chunks of this blob; `default_chunk_size` is the
    /// head's, used when the part does not record its own.
    pub(crate) fn chunks(&self, default_chunk_size: u32) -> u32 {
        chunk_count(self.size, self.chunk_size.unwrap_or(default_chunk_size))
    }
}

impl ObjectHead {
    /// Every blob this head references.
    pub fn blobs(&self) -> impl Iterator<Item = BlobId> + '_ {
        self.parts.iter().map(|p| p.blob)
    }

    /// The version's place among its key's versions: its time in µs
    /// (for a head written outside versioning, its last-modified time).
    pub fn order_us(&self) -> i64 {
        if self.version_us != 0 {
            self.version_us
        } else {
            self.last_modified_ms.saturating_mul(1000)
        }
    }

    /// Gives a version about to replace `current` in a bucket whose
    /// versioning is `mode` its time and id: later than `current` (so the
    /// current version is always the newest) and not before `now_us`;
    /// enabled → a fresh id, suspended → the null version. Every backend
    /// stamps versions this way (docs/storage-model.md "Versions").
    pub fn stamp_version(
        &mut self,
        current: Option<&ObjectHead>,
        mode: crate::types::VersioningState,
        now_us: i64,
    ) {
        let floor = current.map_or(0, |c| c.order_us() + 1);
        let us = now_us.max(floor);
        self.version_us = us;
        self.last_modified_ms = us / 1000;
        self.version_id = match mode {
            crate::types::VersioningState::Enabled => Some(VersionId::new(us)),
            _ => None,
        };
    }

    /// How requests name this version (`versionId`, `x-amz-version-id`).
    pub fn version_ref(&self) -> crate::types::VersionRef {
        crate::types::VersionRef::of(self.version_id.as_ref())
    }

    /// A delete marker made at `version_us` (µs), with `id` (`None`: the
    /// null version).
    pub fn delete_marker(version_id: Option<VersionId>, version_us: i64) -> ObjectHead {
        ObjectHead {
            size: 0,
            etag: String::new(),
            last_modified_ms: version_us / 1000,
            chunk_size: 0,
            parts: Vec::new(),
            multipart: false,
            upload_id: None,
            checksum: None,
            content: ContentHeaders::default(),
            user_meta: BTreeMap::new(),
            tags: TagSet::default(),
            inline: None,
            version_id,
            version_us,
            delete_marker: true,
        }
    }
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub upload_id: String,
    pub key: String,
    pub initiated_ms: i64,
    #[serde(default)]
    pub content: ContentHeaders,
    #[serde(default)]
    pub user_meta: BTreeMap<String, String>,
    /// The tags the final object gets (`x-amz-tagging`).
    #[serde(default, skip_serializing_if = "TagSet::is_empty")]
    pub tags: TagSet,
    /// The additional checksum the final object carries, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// With `checksum_algorithm`: how the final checksum is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<ChecksumType>,
}

/// One uploaded part: its own blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    pub part_number: u32,
    pub last_modified_ms: i64,
    /// The blob, its size, MD5, checksum and chunk size.
    pub data: PartRef,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StorageError;

    /// Inline bytes are served only when they match their checksum and
    /// the head's size.
    #[test]
    fn inline_bytes_are_checked() {
        let good = InlineData::of(Bytes::from_static(b"small object"));
        assert_eq!(good.checked(12).map(|b| b.len()).ok(), Some(12));
        let corrupt = |r: Result<&Bytes, StorageError>| matches!(r, Err(StorageError::Corrupt(_)));
        assert!(corrupt(good.checked(11)), "wrong size");
        let flipped = InlineData {
            crc: good.crc ^ 1,
            ..good.clone()
        };
        assert!(corrupt(flipped.checked(12)), "wrong checksum");
        let missing = InlineData {
            bytes: None,
            ..good
        };
        assert!(corrupt(missing.checked(12)), "no bytes");
    }
}
