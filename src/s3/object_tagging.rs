//! Object tagging: GetObjectTagging, PutObjectTagging and
//! DeleteObjectTagging. A tag set is checked whole when it is put and
//! kept in the object's head; changing it changes nothing else of the
//! object (its ETag, data and last-modified time stay). With `versionId`,
//! the tags of that version, current or not (`Storage::set_version_tags`).

use http::{Response, StatusCode};

use super::input::ObjectTarget;
use super::response;
use super::tagging::{parse_tagging, tagging_answer, MAX_TAGGING_BODY};
use super::{versioned, RequestCx};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::{TagSet, MAX_OBJECT_TAGS};

type Res = Result<Response<ResponseBody>, S3Error>;

/// `GET /bucket/key?tagging`: the object's tags (an empty set when it has
/// none), or `NoSuchKey`.
pub(crate) async fn get_object_tagging(cx: &mut RequestCx, target: ObjectTarget) -> Res {
    let bucket = cx.bucket().await?;
    let version = target.version_id.as_ref();
    let head = versioned::read_version(cx, &bucket, &target.key, version, false).await?;
    let mut r = response::xml(&tagging_answer(&head.tags))?;
    versioned::set_version_header(&mut r, &bucket, &head);
    Ok(r)
}

/// `PUT /bucket/key?tagging`: 200 once the set replaced the object's;
/// `MalformedXML`, `InvalidTag` or `BadRequest` (more than 10 tags), and
/// nothing changed, otherwise.
pub(crate) async fn put_object_tagging(cx: &mut RequestCx, target: ObjectTarget) -> Res {
    let (body, _) = cx.read_small_body(MAX_TAGGING_BODY).await?;
    let tags = parse_tagging(&body, MAX_OBJECT_TAGS)?;
    set_tags(cx, &target, &tags, StatusCode::OK).await
}

/// `DELETE /bucket/key?tagging`: 204, also when the object had none.
pub(crate) async fn delete_object_tagging(cx: &mut RequestCx, target: ObjectTarget) -> Res {
    set_tags(cx, &target, &TagSet::default(), StatusCode::NO_CONTENT).await
}

/// Stores `tags` as the addressed version's (the current one without a
/// `versionId`): the errors of a GET of it if it is not there.
async fn set_tags(cx: &RequestCx, target: &ObjectTarget, tags: &TagSet, status: StatusCode) -> Res {
    let bucket = cx.bucket().await?;
    let version = target.version_id.as_ref();
    let head = versioned::read_version(cx, &bucket, &target.key, version, false).await?;
    let storage = cx.storage();
    let found = match version {
        Some(v) if bucket.versioning.is_versioned() => {
            storage
                .set_version_tags(bucket.id, &target.key, v, tags)
                .await?
        }
        _ => {
            storage
                .set_object_tags(bucket.id, &target.key, tags)
                .await?
        }
    };
    if !found {
        return Err(S3Error::code(S3ErrorCode::NoSuchKey));
    }
    let mut r = response::empty(status);
    versioned::set_version_header(&mut r, &bucket, &head);
    Ok(r)
}
