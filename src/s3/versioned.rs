//! Where S3 requests meet versions, once for every handler: which version
//! a request reads, how a write or a delete commits in a bucket whose
//! versioning is on, and the headers that name versions
//! (docs/s3-compatibility.md "Versioning").
//!
//! In a bucket that was never versioned every object is the null version:
//! writes replace heads (`Storage::put_object`), and a request naming
//! `versionId=null` reads or deletes the current object. Once versioning
//! was enabled, writes go through `Storage::put_version`, and a delete
//! without a version writes a delete marker.

use http::Response;

use super::response;
use super::RequestCx;
use crate::error::{ErrorDetail, S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::storage::{BucketRecord, ObjectHead, Storage, StorageError, WriteCondition};
use crate::types::{ObjectKey, UploadId, VersionRef};

/// The `x-amz-version-id` of `head` in `bucket`: its id, or `null` in a
/// bucket that is or was versioned; none in a bucket never versioned.
pub(crate) fn version_header(bucket: &BucketRecord, head: &ObjectHead) -> Option<String> {
    match &head.version_id {
        Some(id) => Some(id.to_string()),
        None if bucket.versioning.is_versioned() => Some(head.version_ref().to_string()),
        None => None,
    }
}

/// Sets `x-amz-version-id` as [`version_header`] says.
pub(crate) fn set_version_header(
    r: &mut Response<ResponseBody>,
    bucket: &BucketRecord,
    head: &ObjectHead,
) {
    if let Some(v) = version_header(bucket, head) {
        response::set(r, "x-amz-version-id", &v);
    }
}

/// The error S3 answers for a delete marker: 404 `NoSuchKey` when it is
/// the current version, 405 `MethodNotAllowed` when the request named it
/// by its id; either way with `x-amz-delete-marker: true` and its id.
fn marker_error(bucket: &BucketRecord, marker: &ObjectHead, named: bool) -> S3Error {
    let code = if named {
        S3ErrorCode::MethodNotAllowed
    } else {
        S3ErrorCode::NoSuchKey
    };
    S3Error {
        detail: Some(ErrorDetail::DeleteMarker {
            version_id: version_header(bucket, marker).unwrap_or_default(),
            last_modified_ms: marker.last_modified_ms,
        }),
        ..S3Error::code(code)
    }
}

/// The version of `key` that `version` names (`None`: the current one),
/// with an inline object's bytes if `data`. `NoSuchKey` without a current
/// version, `NoSuchVersion` without the one named, and a delete marker's
/// error (see [`marker_error`]) when it is one.
pub(crate) async fn read_version(
    cx: &RequestCx,
    bucket: &BucketRecord,
    key: &ObjectKey,
    version: Option<&VersionRef>,
    data: bool,
) -> Result<ObjectHead, S3Error> {
    let storage = cx.storage();
    let found = match version {
        None if data => storage.get_object_data(bucket.id, key).await?,
        None => storage.get_object(bucket.id, key).await?,
        // Never versioned: the current object is the null version, and
        // there is no other.
        Some(v) if !bucket.versioning.is_versioned() => match v {
            VersionRef::Null if data => storage.get_object_data(bucket.id, key).await?,
            VersionRef::Null => storage.get_object(bucket.id, key).await?,
            VersionRef::Id(_) => None,
        },
        Some(v) => storage.get_version(bucket.id, key, v, data).await?,
    };
    match found {
        Some(h) if h.delete_marker => Err(marker_error(bucket, &h, version.is_some())),
        Some(h) => Ok(h),
        None if version.is_some() => Err(S3Error::code(S3ErrorCode::NoSuchVersion)),
        None => Err(S3Error::code(S3ErrorCode::NoSuchKey)),
    }
}

/// The key's current object, a delete marker counting as none (what
/// conditions test).
pub(crate) async fn live_head(
    storage: &dyn Storage,
    bucket: &BucketRecord,
    key: &ObjectKey,
) -> Result<Option<ObjectHead>, StorageError> {
    let current = storage.get_object(bucket.id, key).await?;
    Ok(current.filter(|h| !h.delete_marker))
}

/// Commits `head` as the key's new current object if `cond` holds: a new
/// version in a versioned bucket. Returns the head as written (with its
/// version id and time).
pub(crate) async fn commit(
    storage: &dyn Storage,
    bucket: &BucketRecord,
    key: &ObjectKey,
    head: &ObjectHead,
    cond: &WriteCondition,
) -> Result<ObjectHead, StorageError> {
    if bucket.versioning.is_versioned() {
        storage
            .put_version(bucket.id, key, head, bucket.versioning, cond)
            .await
    } else {
        storage.put_object(bucket.id, key, head, cond).await?;
        Ok(head.clone())
    }
}

/// Completes a multipart upload with `head`, as [`commit`] writes a head.
pub(crate) async fn complete(
    storage: &dyn Storage,
    bucket: &BucketRecord,
    key: &ObjectKey,
    upload_id: &UploadId,
    head: &ObjectHead,
    cond: &WriteCondition,
) -> Result<ObjectHead, StorageError> {
    if bucket.versioning.is_versioned() {
        storage
            .complete_version(bucket.id, key, upload_id, head, bucket.versioning, cond)
            .await
    } else {
        storage
            .complete_upload(bucket.id, key, upload_id, head, cond)
            .await?;
        Ok(head.clone())
    }
}

/// What a DeleteObject did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Deleted {
    /// The version id to answer (`x-amz-version-id`): the one deleted, or
    /// the delete marker written.
    pub version_id: Option<String>,
    /// Whether a delete marker was written or deleted
    /// (`x-amz-delete-marker: true`).
    pub delete_marker: bool,
}

/// DeleteObject of `key` (`version`: of that version, for good). Without
/// a version, a versioned bucket gets a delete marker and an unversioned
/// one loses the object. Deleting what does not exist succeeds.
pub(crate) async fn delete(
    storage: &dyn Storage,
    bucket: &BucketRecord,
    key: &ObjectKey,
    version: Option<&VersionRef>,
) -> Result<Deleted, StorageError> {
    if !bucket.versioning.is_versioned() {
        return match version {
            None | Some(VersionRef::Null) => {
                storage
                    .delete_object(bucket.id, key, &WriteCondition::None)
                    .await?;
                Ok(Deleted {
                    version_id: version.map(ToString::to_string),
                    delete_marker: false,
                })
            }
            // An id in a bucket never versioned names nothing.
            Some(v) => Ok(Deleted {
                version_id: Some(v.to_string()),
                delete_marker: false,
            }),
        };
    }
    match version {
        None => {
            let marker = ObjectHead::delete_marker(None, 0);
            let cond = WriteCondition::None;
            let written = storage
                .put_version(bucket.id, key, &marker, bucket.versioning, &cond)
                .await?;
            Ok(Deleted {
                version_id: version_header(bucket, &written),
                delete_marker: true,
            })
        }
        Some(v) => {
            let gone = storage.delete_version(bucket.id, key, v).await?;
            Ok(Deleted {
                version_id: Some(v.to_string()),
                delete_marker: gone.is_some_and(|h| h.delete_marker),
            })
        }
    }
}
