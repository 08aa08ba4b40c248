//! The rows the backend reads, one named type per query shape. Columns are
//! taken in the order the statement selects them (`statements.rs`), as the
//! driver's `DeserializeRow` derive does with `enforce_order`.

use bytes::Bytes;
use scylla::DeserializeRow;
use uuid::Uuid;

/// A `buckets` row.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct BucketRow {
    pub name: String,
    pub id: Option<Uuid>,
    pub created_ms: Option<i64>,
    pub region: Option<String>,
    pub owner: Option<String>,
    /// Access key id → `Grant::letters`.
    pub grants: Option<std::collections::BTreeMap<String, String>>,
    pub policy: Option<String>,
    /// The tag set as JSON pairs (`TagSet`'s serde form).
    pub tags: Option<String>,
    /// `VersioningState::as_str` (schema 12); null while never versioned.
    pub versioning: Option<String>,
    /// The lifecycle configuration as JSON (`LifecycleConfig`'s serde
    /// form, schema 13); null without one.
    pub lifecycle: Option<String>,
    /// The CORS configuration as JSON (`CorsConfig`'s serde form, schema
    /// 14); null without one.
    pub cors: Option<String>,
}

/// An `access_keys` row: the key's record as JSON.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct KeyRow {
    pub doc: Option<String>,
}

/// A chunk: its data and the CRC32C stored with it (none before schema 3).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct ChunkRow {
    pub data: Option<Bytes>,
    pub crc: Option<i32>,
}

/// Whether a chunk exists: its index.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct ChunkProbe {
    pub _idx: i32,
}

/// A chunk's address, from the whole-table scan of `fsck`.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct ChunkKeyRow {
    pub blob: Uuid,
    pub _idx: i32,
}

/// A blob id (queue, pending set, part versions).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct BlobRow {
    pub blob: Uuid,
}

/// A `settings` value.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct SettingRow {
    pub value: Option<String>,
}

/// An object head row: its version, the head without parts, the parts
/// (both JSON), and the tags of the last tag change with the version
/// they were set for (`objects::set_object_tags`).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct HeadRow {
    pub version: Option<Uuid>,
    pub head: Option<String>,
    pub parts: Option<String>,
    pub tags: Option<String>,
    pub tags_for: Option<Uuid>,
}

/// A head row with an inline object's bytes (null for other heads).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct HeadDataRow {
    pub version: Option<Uuid>,
    pub head: Option<String>,
    pub parts: Option<String>,
    pub tags: Option<String>,
    pub tags_for: Option<Uuid>,
    pub data: Option<Bytes>,
}

impl HeadDataRow {
    /// The head row and the bytes.
    pub(crate) fn split(self) -> (HeadRow, Option<Bytes>) {
        let HeadDataRow {
            version,
            head,
            parts,
            tags,
            tags_for,
            data,
        } = self;
        (
            HeadRow {
                version,
                head,
                parts,
                tags,
                tags_for,
            },
            data,
        )
    }
}

/// A key index row with its head and inline bytes, for walks over a
/// whole bucket (which need no tags).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct HeadRowWithKey {
    pub key: String,
    pub version: Option<Uuid>,
    pub head: Option<String>,
    pub parts: Option<String>,
    pub data: Option<Bytes>,
}

impl HeadRowWithKey {
    /// The key, the head row and the inline bytes.
    pub(crate) fn split(self) -> (String, HeadRow, Option<Bytes>) {
        let HeadRowWithKey {
            key,
            version,
            head,
            parts,
            data,
        } = self;
        let row = HeadRow {
            version,
            head,
            parts,
            tags: None,
            tags_for: None,
        };
        (key, row, data)
    }
}

/// A head row with the write time (µs) of its cells, for the sweep's fence.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct StampedHeadRow {
    pub version: Option<Uuid>,
    pub etag: Option<String>,
    pub head: Option<String>,
    pub parts: Option<String>,
    pub data: Option<Bytes>,
    pub written: Option<i64>,
}

/// A listing row: a key, its head without parts, and the tags of a tag
/// change (as in `HeadRow`).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct ListRow {
    pub key: String,
    pub version: Option<Uuid>,
    pub head: Option<String>,
    pub tags: Option<String>,
    pub tags_for: Option<Uuid>,
}

impl ListRow {
    /// The key and its head row (without parts).
    pub(crate) fn split(self) -> (String, HeadRow) {
        let ListRow {
            key,
            version,
            head,
            tags,
            tags_for,
        } = self;
        let row = HeadRow {
            version,
            head,
            parts: None,
            tags,
            tags_for,
        };
        (key, row)
    }
}

/// A row holding one JSON record (an upload).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct RecordRow {
    pub record: Option<String>,
}

/// An upload of a bucket's upload index.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct UploadRow {
    pub key: String,
    pub upload_id: String,
    pub record: Option<String>,
}

/// One stored version of a part.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct PartVersionRow {
    pub part_number: i32,
    pub blob: Uuid,
    pub record: Option<String>,
}

/// An upload's claim: who holds it since when, what it committed to.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct ClaimRow {
    pub finisher: Option<Uuid>,
    pub claimed_ms: Option<i64>,
    pub committed: Option<String>,
    pub etag: Option<String>,
}

/// A queued blob: its chunk count and bytes (none before schema 4).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct QueueRow {
    pub blob: Uuid,
    pub chunks: Option<i32>,
    pub bytes: Option<i64>,
}

/// A pending blob and its owner (JSON; none before schema 4).
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct PendingRow {
    pub blob: Uuid,
    pub owner: Option<String>,
}

/// A deleted bucket waiting for its cleanup.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct DroppedRow {
    pub id: Uuid,
    pub dropped_ms: Option<i64>,
}

/// A noncurrent version (`object_versions`): its key, order (`inv`,
/// minus its time in µs) and id (`vid`: the id, or `null`), and its head
/// and parts as in `objects`.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct VersionRow {
    pub key: String,
    pub inv: i64,
    pub vid: String,
    pub head: Option<String>,
    pub parts: Option<String>,
}

/// A noncurrent version as a listing reads it: no parts.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct VersionListRow {
    pub key: String,
    pub inv: i64,
    pub vid: String,
    pub head: Option<String>,
}

/// One noncurrent version with an inline version's bytes.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct VersionDataRow {
    pub head: Option<String>,
    pub parts: Option<String>,
    pub data: Option<Bytes>,
}

/// A noncurrent version as walks over a whole bucket read it (fsck, the
/// cleanup of dropped buckets): with parts and inline bytes.
#[derive(DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
pub(super) struct VersionWalkRow {
    pub key: String,
    pub inv: i64,
    pub vid: String,
    pub head: Option<String>,
    pub parts: Option<String>,
    pub data: Option<Bytes>,
}
