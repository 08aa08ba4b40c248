//! Every statement the backend runs, prepared once at start.
//!
//! Statements that may safely run twice are marked idempotent, so the
//! driver's retry policy may retry them after a timeout. Plain head writes
//! and deletes are not: a late retry could undo a newer write.

use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::Consistency;

use super::connect::prepare_err;
use crate::storage::StorageError;

pub(crate) struct Statements {
    pub bucket_insert: PreparedStatement,
    pub bucket_get: PreparedStatement,
    pub bucket_all: PreparedStatement,
    pub bucket_delete: PreparedStatement,
    pub bucket_grant_set: PreparedStatement,
    pub bucket_grant_drop: PreparedStatement,
    pub bucket_policy_set: PreparedStatement,
    pub bucket_tags_set: PreparedStatement,
    pub bucket_lifecycle_set: PreparedStatement,
    pub bucket_cors_set: PreparedStatement,
    pub key_insert: PreparedStatement,
    pub key_get: PreparedStatement,
    pub key_all: PreparedStatement,
    pub key_delete: PreparedStatement,
    pub setting_put: PreparedStatement,
    pub chunk_put: PreparedStatement,
    pub chunk_get: PreparedStatement,
    pub setting_get: PreparedStatement,
    pub fsck_heads: PreparedStatement,
    pub fsck_chunks: PreparedStatement,
    pub fsck_queue: PreparedStatement,
    pub fsck_pending: PreparedStatement,
    pub status_put: PreparedStatement,
    pub status_get: PreparedStatement,
    pub head_get: PreparedStatement,
    /// The same read at `LOCAL_SERIAL`, before a conditional write.
    pub head_get_serial: PreparedStatement,
    /// The head with an inline object's bytes (GET, copy).
    pub head_get_data: PreparedStatement,
    pub head_put: PreparedStatement,
    pub head_put_if_absent: PreparedStatement,
    pub head_put_if_version: PreparedStatement,
    /// A tag change: the tags and the row version they are for, only
    /// while the row is still that version.
    pub head_tags_set: PreparedStatement,
    pub head_delete: PreparedStatement,
    /// A delete only while the row is still the version read.
    pub head_delete_if_version: PreparedStatement,
    /// Listing slices: `[key > ? | key >= ?]` × `[AND key < ?]`.
    pub list_gt: PreparedStatement,
    pub list_ge: PreparedStatement,
    pub list_gt_lt: PreparedStatement,
    pub list_ge_lt: PreparedStatement,
    pub upload_put: PreparedStatement,
    pub upload_get: PreparedStatement,
    pub upload_delete: PreparedStatement,
    pub uploads_from_key: PreparedStatement,
    pub uploads_after_key: PreparedStatement,
    pub uploads_after_id: PreparedStatement,
    pub part_put: PreparedStatement,
    pub parts_after: PreparedStatement,
    pub parts_delete: PreparedStatement,
    pub dropped_put: PreparedStatement,
    pub dropped_all: PreparedStatement,
    pub dropped_delete: PreparedStatement,
    /// A deletion of one shard of a key index, at an explicit timestamp.
    pub shard_delete_at: PreparedStatement,
}

async fn prep(
    session: &Session,
    ks: &str,
    cql: &str,
    idempotent: bool,
) -> Result<PreparedStatement, StorageError> {
    let mut p = session
        .prepare(cql.replace("{ks}", ks))
        .await
        .map_err(prepare_err)?;
    p.set_is_idempotent(idempotent);
    Ok(p)
}

/// A head and the tags a tag change set (`objects::set_object_tags`).
const HEAD_GET: &str = "SELECT version, head, parts, tags, tags_for FROM {ks}.objects \
     WHERE bucket = ? AND shard = ? AND key = ?";
/// A head with an inline object's bytes: what a GET reads.
const HEAD_GET_DATA: &str = "SELECT version, head, parts, tags, tags_for, data FROM {ks}.objects \
     WHERE bucket = ? AND shard = ? AND key = ?";
/// A listing reads no parts and no bytes.
const LIST_COLUMNS: &str = "SELECT key, version, head, tags, tags_for FROM {ks}.objects \
     WHERE bucket = ? AND shard = ?";

impl Statements {
    pub(crate) async fn prepare(session: &Session, ks: &str) -> Result<Statements, StorageError> {
        let p = |cql: &'static str, idem: bool| prep(session, ks, cql, idem);
        let list = |cmp: &str, upper: bool| {
            let mut cql = format!("{LIST_COLUMNS} AND key {cmp} ?");
            if upper {
                cql.push_str(" AND key < ?");
            }
            cql.push_str(" LIMIT ?");
            async move { prep(session, ks, &cql, true).await }
        };
        let mut head_get_serial = p(HEAD_GET, true).await?;
        head_get_serial.set_consistency(Consistency::LocalSerial);
        Ok(Statements {
            bucket_insert: p(
                "INSERT INTO {ks}.buckets (name, id, created_ms, region, owner, grants) \
                 VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS",
                false,
            )
            .await?,
            bucket_get: p(
                "SELECT name, id, created_ms, region, owner, grants, policy, tags, versioning, \
                 lifecycle, cors \
                 FROM {ks}.buckets WHERE name = ?",
                true,
            )
            .await?,
            bucket_all: p(
                "SELECT name, id, created_ms, region, owner, grants, policy, tags, versioning, \
                 lifecycle, cors \
                 FROM {ks}.buckets",
                true,
            )
            .await?,
            bucket_delete: p("DELETE FROM {ks}.buckets WHERE name = ? IF id = ?", false).await?,
            bucket_grant_set: p(
                "UPDATE {ks}.buckets SET grants[?] = ? WHERE name = ? IF id = ?",
                false,
            )
            .await?,
            bucket_grant_drop: p(
                "DELETE grants[?] FROM {ks}.buckets WHERE name = ? IF id = ?",
                false,
            )
            .await?,
            bucket_policy_set: p(
                "UPDATE {ks}.buckets SET policy = ? WHERE name = ? IF id = ?",
                false,
            )
            .await?,
            bucket_lifecycle_set: p(
                "UPDATE {ks}.buckets SET lifecycle = ? WHERE name = ? IF id = ?",
                false,
            )
            .await?,
            bucket_cors_set: p(
                "UPDATE {ks}.buckets SET cors = ? WHERE name = ? IF id = ?",
                false,
            )
            .await?,
            bucket_tags_set: p(
                "UPDATE {ks}.buckets SET tags = ? WHERE name = ? IF id = ?",
                false,
            )
            .await?,
            key_insert: p(
                "INSERT INTO {ks}.access_keys (id, doc) VALUES (?, ?) IF NOT EXISTS",
                false,
            )
            .await?,
            key_get: p("SELECT doc FROM {ks}.access_keys WHERE id = ?", true).await?,
            key_all: p("SELECT doc FROM {ks}.access_keys", true).await?,
            key_delete: p("DELETE FROM {ks}.access_keys WHERE id = ? IF EXISTS", false).await?,
            setting_put: p(
                "INSERT INTO {ks}.settings (name, value) VALUES (?, ?)",
                true,
            )
            .await?,
            chunk_put: p(
                "INSERT INTO {ks}.chunks (blob, idx, data, crc) VALUES (?, ?, ?, ?)",
                true,
            )
            .await?,
            chunk_get: p(
                "SELECT data, crc FROM {ks}.chunks WHERE blob = ? AND idx = ?",
                true,
            )
            .await?,
            setting_get: p("SELECT value FROM {ks}.settings WHERE name = ?", true).await?,
            fsck_heads: p(
                "SELECT key, version, head, parts, data FROM {ks}.objects \
                 WHERE bucket = ? AND shard = ? AND key > ? LIMIT ?",
                true,
            )
            .await?,
            fsck_chunks: p("SELECT DISTINCT blob, idx FROM {ks}.chunks", true).await?,
            fsck_queue: p("SELECT blob FROM {ks}.gc_queue", true).await?,
            fsck_pending: p("SELECT blob FROM {ks}.pending_blobs", true).await?,
            status_put: p(
                "INSERT INTO {ks}.gateway_status (kind, id, doc) VALUES (?, ?, ?) USING TTL ?",
                true,
            )
            .await?,
            status_get: p(
                "SELECT id, doc FROM {ks}.gateway_status WHERE kind = ?",
                true,
            )
            .await?,
            head_get: p(HEAD_GET, true).await?,
            head_get_serial,
            head_get_data: p(HEAD_GET_DATA, true).await?,
            head_put: p(
                "INSERT INTO {ks}.objects (bucket, shard, key, version, etag, head, parts, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                false,
            )
            .await?,
            head_put_if_absent: p(
                "INSERT INTO {ks}.objects (bucket, shard, key, version, etag, head, parts, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
                false,
            )
            .await?,
            head_put_if_version: p(
                "UPDATE {ks}.objects SET version = ?, etag = ?, head = ?, parts = ?, data = ? \
                 WHERE bucket = ? AND shard = ? AND key = ? IF version = ?",
                false,
            )
            .await?,
            head_tags_set: p(
                "UPDATE {ks}.objects SET tags = ?, tags_for = ? \
                 WHERE bucket = ? AND shard = ? AND key = ? IF version = ?",
                false,
            )
            .await?,
            head_delete: p(
                "DELETE FROM {ks}.objects WHERE bucket = ? AND shard = ? AND key = ?",
                false,
            )
            .await?,
            head_delete_if_version: p(
                "DELETE FROM {ks}.objects WHERE bucket = ? AND shard = ? AND key = ? \
                 IF version = ?",
                false,
            )
            .await?,
            list_gt: list(">", false).await?,
            list_ge: list(">=", false).await?,
            list_gt_lt: list(">", true).await?,
            list_ge_lt: list(">=", true).await?,
            upload_put: p(
                "INSERT INTO {ks}.uploads (bucket, key, upload_id, record) VALUES (?, ?, ?, ?)",
                true,
            )
            .await?,
            upload_get: p(
                "SELECT record FROM {ks}.uploads WHERE bucket = ? AND key = ? AND upload_id = ?",
                true,
            )
            .await?,
            upload_delete: p(
                "DELETE FROM {ks}.uploads WHERE bucket = ? AND key = ? AND upload_id = ?",
                true,
            )
            .await?,
            uploads_from_key: p(
                "SELECT key, upload_id, record FROM {ks}.uploads WHERE bucket = ? AND key >= ? LIMIT ?",
                true,
            )
            .await?,
            uploads_after_key: p(
                "SELECT key, upload_id, record FROM {ks}.uploads WHERE bucket = ? AND key > ? LIMIT ?",
                true,
            )
            .await?,
            uploads_after_id: p(
                "SELECT key, upload_id, record FROM {ks}.uploads \
                 WHERE bucket = ? AND (key, upload_id) > (?, ?) LIMIT ?",
                true,
            )
            .await?,
            part_put: p(
                "INSERT INTO {ks}.parts (upload_id, part_number, blob, record) VALUES (?, ?, ?, ?)",
                true,
            )
            .await?,
            parts_after: p(
                "SELECT part_number, blob, record FROM {ks}.parts \
                 WHERE upload_id = ? AND (part_number, blob) > (?, ?) LIMIT ?",
                true,
            )
            .await?,
            parts_delete: p("DELETE FROM {ks}.parts WHERE upload_id = ?", true).await?,
            dropped_put: p(
                "INSERT INTO {ks}.dropped_buckets (id, dropped_ms) VALUES (?, ?)",
                true,
            )
            .await?,
            dropped_all: p("SELECT id, dropped_ms FROM {ks}.dropped_buckets", true).await?,
            dropped_delete: p("DELETE FROM {ks}.dropped_buckets WHERE id = ?", true).await?,
            shard_delete_at: p(
                "DELETE FROM {ks}.objects USING TIMESTAMP ? WHERE bucket = ? AND shard = ?",
                true,
            )
            .await?,
        })
    }
}

/// Versions (`versions.rs`, `version_list.rs`): the noncurrent versions
/// in `object_versions`, and the writes of `objects` only versions make.
pub(crate) struct VersionStatements {
    pub bucket_versioning_set: PreparedStatement,
    /// The current head with its inline bytes, at `LOCAL_SERIAL`: what a
    /// versioned write reads before its lightweight transaction (it copies
    /// that version when it keeps it).
    pub head_get_data_serial: PreparedStatement,
    /// A key's first version, only if it still has none (a row of tag
    /// cells alone holds no version).
    pub head_put_if_none: PreparedStatement,
    pub head_delete_if_version: PreparedStatement,
    pub version_put: PreparedStatement,
    pub version_get_data: PreparedStatement,
    /// A key's versions after `(inv, vid)`, oldest last.
    pub key_versions: PreparedStatement,
    /// A key's null versions (at most one, but for a copy a lost race left).
    pub key_null_versions: PreparedStatement,
    /// A version's deletion at an explicit timestamp (in the future, so
    /// that a copy of it written late is hidden too).
    pub version_delete_at: PreparedStatement,
    /// A noncurrent version's head (its tags changed). A row deleted for
    /// good shadows it (its tombstone is stamped a day ahead).
    pub version_head_set: PreparedStatement,
    /// A shard's versions after `(key, inv, vid)`: `list` without parts,
    /// `list_below` also below an upper bound; `walk` (fsck, dropped
    /// buckets) with parts and inline bytes.
    pub versions_list: PreparedStatement,
    pub versions_list_below: PreparedStatement,
    pub versions_walk: PreparedStatement,
    pub versions_shard_delete_at: PreparedStatement,
}

impl VersionStatements {
    pub(crate) async fn prepare(
        session: &Session,
        ks: &str,
    ) -> Result<VersionStatements, StorageError> {
        let p = |cql: &'static str, idem: bool| prep(session, ks, cql, idem);
        let mut head_get_data_serial = p(HEAD_GET_DATA, true).await?;
        head_get_data_serial.set_consistency(Consistency::LocalSerial);
        Ok(VersionStatements {
            bucket_versioning_set: p(
                "UPDATE {ks}.buckets SET versioning = ? WHERE name = ? IF id = ?",
                false,
            )
            .await?,
            head_get_data_serial,
            head_put_if_none: p(
                "UPDATE {ks}.objects SET version = ?, etag = ?, head = ?, parts = ?, data = ? \
                 WHERE bucket = ? AND shard = ? AND key = ? IF version = null",
                false,
            )
            .await?,
            head_delete_if_version: p(
                "DELETE FROM {ks}.objects WHERE bucket = ? AND shard = ? AND key = ? IF version = ?",
                false,
            )
            .await?,
            // The same copy every time: a retry writes what the first did.
            version_put: p(
                "INSERT INTO {ks}.object_versions \
                 (bucket, shard, key, inv, vid, head, parts, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                true,
            )
            .await?,
            version_get_data: p(
                "SELECT head, parts, data FROM {ks}.object_versions \
                 WHERE bucket = ? AND shard = ? AND key = ? AND inv = ? AND vid = ?",
                true,
            )
            .await?,
            key_versions: p(
                "SELECT key, inv, vid, head, parts FROM {ks}.object_versions \
                 WHERE bucket = ? AND shard = ? AND key = ? AND (inv, vid) > (?, ?) LIMIT ?",
                true,
            )
            .await?,
            key_null_versions: p(
                "SELECT key, inv, vid, head, parts FROM {ks}.object_versions \
                 WHERE bucket = ? AND shard = ? AND key = ? AND vid = 'null' ALLOW FILTERING",
                true,
            )
            .await?,
            version_delete_at: p(
                "DELETE FROM {ks}.object_versions USING TIMESTAMP ? \
                 WHERE bucket = ? AND shard = ? AND key = ? AND inv = ? AND vid = ?",
                true,
            )
            .await?,
            version_head_set: p(
                "UPDATE {ks}.object_versions SET head = ? \
                 WHERE bucket = ? AND shard = ? AND key = ? AND inv = ? AND vid = ?",
                true,
            )
            .await?,
            versions_list: p(
                "SELECT key, inv, vid, head FROM {ks}.object_versions \
                 WHERE bucket = ? AND shard = ? AND (key, inv, vid) > (?, ?, ?) LIMIT ?",
                true,
            )
            .await?,
            versions_list_below: p(
                "SELECT key, inv, vid, head FROM {ks}.object_versions \
                 WHERE bucket = ? AND shard = ? AND (key, inv, vid) > (?, ?, ?) \
                 AND (key, inv, vid) < (?, ?, ?) LIMIT ?",
                true,
            )
            .await?,
            versions_walk: p(
                "SELECT key, inv, vid, head, parts, data FROM {ks}.object_versions \
                 WHERE bucket = ? AND shard = ? AND (key, inv, vid) > (?, ?, ?) LIMIT ?",
                true,
            )
            .await?,
            versions_shard_delete_at: p(
                "DELETE FROM {ks}.object_versions USING TIMESTAMP ? WHERE bucket = ? AND shard = ?",
                true,
            )
            .await?,
        })
    }
}

/// The garbage collector's statements (`gc.rs`): the queue, chunk
/// deletes, the pending set's removals, the cursor and the lease.
pub(crate) struct GcStatements {
    pub pending_delete: PreparedStatement,
    pub chunk_delete: PreparedStatement,
    pub gc_put: PreparedStatement,
    pub gc_slot: PreparedStatement,
    pub gc_drop_slot: PreparedStatement,
    pub setting_get: PreparedStatement,
    pub setting_put: PreparedStatement,
    pub lease_take: PreparedStatement,
    pub lease_renew: PreparedStatement,
}

impl GcStatements {
    pub(crate) async fn prepare(session: &Session, ks: &str) -> Result<GcStatements, StorageError> {
        let p = |cql: &'static str, idem: bool| prep(session, ks, cql, idem);
        Ok(GcStatements {
            pending_delete: p(
                "DELETE FROM {ks}.pending_blobs WHERE slot = ? AND blob = ?",
                true,
            )
            .await?,
            chunk_delete: p("DELETE FROM {ks}.chunks WHERE blob = ? AND idx = ?", true).await?,
            gc_put: p(
                "INSERT INTO {ks}.gc_queue (slot, blob, chunks, bytes) VALUES (?, ?, ?, ?)",
                true,
            )
            .await?,
            gc_slot: p(
                "SELECT blob, chunks, bytes FROM {ks}.gc_queue WHERE slot = ? AND blob > ? LIMIT ?",
                true,
            )
            .await?,
            gc_drop_slot: p("DELETE FROM {ks}.gc_queue WHERE slot = ?", true).await?,
            setting_get: p("SELECT value FROM {ks}.settings WHERE name = ?", true).await?,
            setting_put: p(
                "INSERT INTO {ks}.settings (name, value) VALUES (?, ?)",
                true,
            )
            .await?,
            lease_take: p(
                "INSERT INTO {ks}.settings (name, value) VALUES (?, ?) IF NOT EXISTS USING TTL ?",
                false,
            )
            .await?,
            lease_renew: p(
                "UPDATE {ks}.settings USING TTL ? SET value = ? WHERE name = ? IF value = ?",
                false,
            )
            .await?,
        })
    }
}

/// The claims on multipart uploads (`claims.rs`).
pub(crate) struct ClaimStatements {
    pub claim_insert: PreparedStatement,
    /// Read at `LOCAL_SERIAL`, after a claim did not apply.
    pub claim_get_serial: PreparedStatement,
    pub claim_takeover: PreparedStatement,
    pub claim_commit: PreparedStatement,
    pub claim_drop: PreparedStatement,
}

impl ClaimStatements {
    pub(crate) async fn prepare(
        session: &Session,
        ks: &str,
    ) -> Result<ClaimStatements, StorageError> {
        let p = |cql: &'static str, idem: bool| prep(session, ks, cql, idem);
        let mut claim_get_serial = p(
            "SELECT finisher, claimed_ms, committed, etag FROM {ks}.upload_claims WHERE upload_id = ?",
            true,
        )
        .await?;
        claim_get_serial.set_consistency(Consistency::LocalSerial);
        Ok(ClaimStatements {
            claim_insert: p(
                "INSERT INTO {ks}.upload_claims (upload_id, finisher, claimed_ms) \
                 VALUES (?, ?, ?) IF NOT EXISTS",
                false,
            )
            .await?,
            claim_get_serial,
            claim_takeover: p(
                "UPDATE {ks}.upload_claims SET finisher = ?, claimed_ms = ? \
                 WHERE upload_id = ? IF finisher = ? AND committed = null",
                false,
            )
            .await?,
            claim_commit: p(
                "UPDATE {ks}.upload_claims SET committed = ?, etag = ? WHERE upload_id = ? IF finisher = ?",
                false,
            )
            .await?,
            claim_drop: p(
                "DELETE FROM {ks}.upload_claims WHERE upload_id = ? \
                 IF finisher = ? AND committed = null",
                false,
            )
            .await?,
        })
    }
}

/// The sweep of pending blobs (`sweep.rs`): filing and reading the
/// pending set, probing chunks, the fences.
pub(crate) struct SweepStatements {
    pub pending_put: PreparedStatement,
    pub pending_slot: PreparedStatement,
    pub chunk_exists: PreparedStatement,
    pub chunk_get: PreparedStatement,
    /// The head row with the write time of its cells, for the sweep.
    pub head_get_stamped: PreparedStatement,
    /// A head row or a key deletion at an explicit timestamp: the sweep's
    /// fence against writes stamped before a blob's deadline.
    pub head_put_at: PreparedStatement,
    pub head_delete_at: PreparedStatement,
    pub part_get: PreparedStatement,
    pub part_delete_at: PreparedStatement,
    pub setting_get: PreparedStatement,
    pub setting_put: PreparedStatement,
}

impl SweepStatements {
    pub(crate) async fn prepare(
        session: &Session,
        ks: &str,
    ) -> Result<SweepStatements, StorageError> {
        let p = |cql: &'static str, idem: bool| prep(session, ks, cql, idem);
        Ok(SweepStatements {
            pending_put: p(
                "INSERT INTO {ks}.pending_blobs (slot, blob, owner) VALUES (?, ?, ?)",
                true,
            )
            .await?,
            pending_slot: p(
                "SELECT blob, owner FROM {ks}.pending_blobs WHERE slot = ? AND blob > ? LIMIT ?",
                true,
            )
            .await?,
            chunk_exists: p(
                "SELECT idx FROM {ks}.chunks WHERE blob = ? AND idx = ?",
                true,
            )
            .await?,
            chunk_get: p(
                "SELECT data, crc FROM {ks}.chunks WHERE blob = ? AND idx = ?",
                true,
            )
            .await?,
            head_get_stamped: p(
                "SELECT version, etag, head, parts, data, writetime(version) FROM {ks}.objects \
                 WHERE bucket = ? AND shard = ? AND key = ?",
                true,
            )
            .await?,
            head_put_at: p(
                "INSERT INTO {ks}.objects (bucket, shard, key, version, etag, head, parts, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?",
                true,
            )
            .await?,
            head_delete_at: p(
                "DELETE FROM {ks}.objects USING TIMESTAMP ? \
                 WHERE bucket = ? AND shard = ? AND key = ?",
                true,
            )
            .await?,
            part_get: p(
                "SELECT blob FROM {ks}.parts WHERE upload_id = ? AND part_number = ? AND blob = ?",
                true,
            )
            .await?,
            part_delete_at: p(
                "DELETE FROM {ks}.parts USING TIMESTAMP ? \
                 WHERE upload_id = ? AND part_number = ? AND blob = ?",
                true,
            )
            .await?,
            setting_get: p("SELECT value FROM {ks}.settings WHERE name = ?", true).await?,
            setting_put: p(
                "INSERT INTO {ks}.settings (name, value) VALUES (?, ?)",
                true,
            )
            .await?,
        })
    }
}
