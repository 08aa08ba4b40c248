//! Buckets: names unique cluster-wide through a lightweight transaction,
//! each incarnation with its own id.

use std::collections::BTreeMap;

use std::ops::Bound;

use super::{CassandraStorage, StorageError};
use crate::storage::{BucketId, BucketRecord, Grant};
use crate::types::{TagSet, VersioningState};

use super::rows::BucketRow;

fn record(
    BucketRow {
        name,
        id,
        created_ms,
        region,
        owner,
        grants,
        policy,
        tags,
        versioning,
        lifecycle,
        cors,
    }: BucketRow,
) -> Result<BucketRecord, StorageError> {
    let tags = match tags.as_deref() {
        None | Some("") => TagSet::default(),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| StorageError::Corrupt(format!("bucket {name}: tags: {e}")))?,
    };
    let versioning = match versioning.as_deref() {
        None | Some("") => VersioningState::Unversioned,
        Some(v) => VersioningState::from_status(v)
            .ok_or_else(|| StorageError::Corrupt(format!("bucket {name}: versioning {v:?}")))?,
    };
    let lifecycle = json_column(&name, "lifecycle", lifecycle.as_deref())?;
    let cors = json_column(&name, "cors", cors.as_deref())?;
    Ok(BucketRecord {
        id: BucketId(id.ok_or_else(|| StorageError::Corrupt(format!("bucket {name} has no id")))?),
        name,
        created_ms: created_ms.unwrap_or(0),
        region: region.unwrap_or_default(),
        owner: owner.unwrap_or_default(),
        grants: grants
            .unwrap_or_default()
            .into_iter()
            .map(|(key, letters)| (key, Grant::from_letters(&letters)))
            .collect(),
        policy,
        tags,
        versioning,
        lifecycle,
        cors,
    })
}

/// A configuration stored as JSON in a bucket's column; null or empty
/// without one.
fn json_column<T: serde::de::DeserializeOwned>(
    bucket: &str,
    column: &str,
    json: Option<&str>,
) -> Result<Option<T>, StorageError> {
    match json {
        None | Some("") => Ok(None),
        Some(json) => serde_json::from_str(json)
            .map(Some)
            .map_err(|e| StorageError::Corrupt(format!("bucket {bucket}: {column}: {e}"))),
    }
}

pub(super) async fn create_bucket(
    s: &CassandraStorage,
    b: &BucketRecord,
) -> Result<(), StorageError> {
    let st = &s.inner.st;
    let applied = s
        .inner
        .cql
        .lwt(
            &st.bucket_insert,
            (
                &b.name,
                b.id.0,
                b.created_ms,
                &b.region,
                &b.owner,
                b.grants
                    .iter()
                    .map(|(k, g)| (k.as_str(), g.letters()))
                    .collect::<BTreeMap<_, _>>(),
            ),
        )
        .await?;
    if applied {
        return Ok(());
    }
    match get_bucket(s, &b.name).await? {
        Some(existing) => Err(StorageError::BucketExists(Box::new(existing))),
        // Deleted again in between: report it as taken, the client retries.
        None => Err(StorageError::BucketExists(Box::new(b.clone()))),
    }
}

pub(super) async fn get_bucket(
    s: &CassandraStorage,
    name: &str,
) -> Result<Option<BucketRecord>, StorageError> {
    let rows: Vec<BucketRow> = s.inner.cql.rows(&s.inner.st.bucket_get, (name,)).await?;
    rows.into_iter().next().map(record).transpose()
}

pub(super) async fn list_buckets(s: &CassandraStorage) -> Result<Vec<BucketRecord>, StorageError> {
    let rows: Vec<BucketRow> = s.inner.cql.rows(&s.inner.st.bucket_all, ()).await?;
    let mut out = rows
        .into_iter()
        .map(record)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Whether the bucket holds an object or a version: the first entry of a
/// listing of current versions (delete markers included), so a row of the
/// key index that holds no head (the tag cells a tag change left beside a
/// DELETE it beat by timestamp, docs/storage-model.md "Changing an
/// object's tags") does not count; then any noncurrent version. One read
/// of one row per shard of each table.
pub(super) async fn has_objects(
    s: &CassandraStorage,
    bucket: BucketId,
) -> Result<bool, StorageError> {
    let first = super::list::list_heads(s, bucket, "", Bound::Unbounded, 1, true).await?;
    if !first.is_empty() {
        return Ok(true);
    }
    s.has_noncurrent(bucket).await
}

pub(super) async fn delete_bucket(
    s: &CassandraStorage,
    b: &BucketRecord,
) -> Result<(), StorageError> {
    if has_objects(s, b.id).await? {
        return Err(StorageError::BucketNotEmpty);
    }
    let applied = s
        .inner
        .cql
        .lwt(&s.inner.st.bucket_delete, (&b.name, b.id.0))
        .await?;
    if !applied {
        return Err(StorageError::NoSuchBucket);
    }
    // A PUT that looked the bucket up just before may still commit a
    // head into it: the collector cleans up after the commit deadline.
    s.file_dropped(b.id).await?;
    s.abort_all_uploads(b.id).await
}

/// Sets or (for an empty grant) drops `key`'s grant, if the bucket is still
/// the incarnation `b` names.
pub(super) async fn set_grant(
    s: &CassandraStorage,
    b: &BucketRecord,
    key: &str,
    grant: Grant,
) -> Result<(), StorageError> {
    let (cql, st) = (&s.inner.cql, &s.inner.st);
    let applied = if grant.is_empty() {
        cql.lwt(&st.bucket_grant_drop, (key, &b.name, b.id.0))
            .await?
    } else {
        cql.lwt(
            &st.bucket_grant_set,
            (key, grant.letters(), &b.name, b.id.0),
        )
        .await?
    };
    still_there(applied)
}

/// Sets or (with `None`) removes the bucket's policy, if the bucket is
/// still the incarnation `b` names.
pub(super) async fn set_policy(
    s: &CassandraStorage,
    b: &BucketRecord,
    policy: Option<&str>,
) -> Result<(), StorageError> {
    let applied = s
        .inner
        .cql
        .lwt(&s.inner.st.bucket_policy_set, (policy, &b.name, b.id.0))
        .await?;
    still_there(applied)
}

/// Sets the bucket's tag set (an empty one removes it), if the bucket is
/// still the incarnation `b` names.
pub(super) async fn set_tags(
    s: &CassandraStorage,
    b: &BucketRecord,
    tags: &TagSet,
) -> Result<(), StorageError> {
    let json = if tags.is_empty() {
        None
    } else {
        Some(serde_json::to_string(tags).map_err(StorageError::internal)?)
    };
    let applied = s
        .inner
        .cql
        .lwt(&s.inner.st.bucket_tags_set, (json, &b.name, b.id.0))
        .await?;
    still_there(applied)
}

/// Sets (or with `None` removes) one of the bucket's configurations
/// (lifecycle, CORS), stored as JSON by `statement`, if the bucket is
/// still the incarnation `b` names.
pub(super) async fn set_config<T: serde::Serialize>(
    s: &CassandraStorage,
    statement: &scylla::statement::prepared::PreparedStatement,
    b: &BucketRecord,
    config: Option<&T>,
) -> Result<(), StorageError> {
    let json = config
        .map(serde_json::to_string)
        .transpose()
        .map_err(StorageError::internal)?;
    let applied = s.inner.cql.lwt(statement, (json, &b.name, b.id.0)).await?;
    still_there(applied)
}

/// Sets the bucket's versioning state, if the bucket is still the
/// incarnation `b` names.
pub(super) async fn set_versioning(
    s: &CassandraStorage,
    b: &BucketRecord,
    state: VersioningState,
) -> Result<(), StorageError> {
    let applied = s
        .inner
        .cql
        .lwt(
            &s.inner.vst.bucket_versioning_set,
            (state.as_str(), &b.name, b.id.0),
        )
        .await?;
    still_there(applied)
}

/// A bucket row's conditional update (`IF id = ?`) applied, or the bucket
/// is gone or is another incarnation of its name.
fn still_there(applied: bool) -> Result<(), StorageError> {
    if applied {
        Ok(())
    } else {
        Err(StorageError::NoSuchBucket)
    }
}
