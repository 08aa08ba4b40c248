//! Object tagging: GetObjectTagging, PutObjectTagging and
//! DeleteObjectTagging on the current object (the only version an
//! unversioned bucket has). A tag set is checked whole when it is put and
//! kept in the object's head; changing it changes nothing else of the
//! object (its ETag, data and last-modified time stay).

use http::{Response, StatusCode};

use super::input::ObjectTarget;
use super::object::current_head;
use super::response;
use super::tagging::{parse_tagging, tagging_answer, MAX_TAGGING_BODY};
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::{TagSet, MAX_OBJECT_TAGS};

type Res = Result<Response<ResponseBody>, S3Error>;

/// `GET /bucket/key?tagging`: the object's tags (an empty set when it has
/// none), or `NoSuchKey`.
pub(crate) async fn get_object_tagging(cx: &mut RequestCx, target: ObjectTarget) -> Res {
    let head = current_head(cx, &target).await?;
    response::xml(&tagging_answer(&head.tags))
}

/// `PUT /bucket/key?tagging`: 200 once the set replaced the object's;
/// `MalformedXML`, `InvalidTag` or `BadRequest` (more than 10 tags), and
/// nothing changed, otherwise.
pub(crate) async fn put_object_tagging(cx: &mut RequestCx, target: ObjectTarget) -> Res {
    let (body, _) = cx.read_small_body(MAX_TAGGING_BODY).await?;
    let tags = parse_tagging(&body, MAX_OBJECT_TAGS)?;
    set_tags(cx, &target, &tags).await?;
    Ok(response::empty(StatusCode::OK))
}

/// `DELETE /bucket/key?tagging`: 204, also when the object had none.
pub(crate) async fn delete_object_tagging(cx: &mut RequestCx, target: ObjectTarget) -> Res {
    set_tags(cx, &target, &TagSet::default()).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// Stores `tags` as the addressed object's; `NoSuchKey` if it is gone.
async fn set_tags(cx: &RequestCx, target: &ObjectTarget, tags: &TagSet) -> Result<(), S3Error> {
    let bucket = cx.bucket().await?;
    if cx
        .storage()
        .set_object_tags(bucket.id, &target.key, tags)
        .await?
    {
        Ok(())
    } else {
        Err(S3Error::code(S3ErrorCode::NoSuchKey))
    }
}
