//! Bucket tagging: PutBucketTagging, GetBucketTagging and
//! DeleteBucketTagging. A tag set is checked whole when it is put
//! (`types::TagSet`: S3's counts, lengths and characters) and stored with
//! the bucket record; putting one replaces the last.

use http::{Response, StatusCode};

use super::response;
use super::tagging::{parse_tagging, tagging_answer, MAX_TAGGING_BODY};
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::{TagSet, MAX_BUCKET_TAGS};

type Res = Result<Response<ResponseBody>, S3Error>;

/// `PUT /bucket?tagging`: 204 once stored; `MalformedXML`, `InvalidTag`
/// or `BadRequest` (too many tags) otherwise, and nothing is changed.
pub(crate) async fn put_bucket_tagging(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    let (body, _) = cx.read_small_body(MAX_TAGGING_BODY).await?;
    let tags = parse_tagging(&body, MAX_BUCKET_TAGS)?;
    cx.storage().set_bucket_tags(&bucket, &tags).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `GET /bucket?tagging`: the tag set, `NoSuchTagSet` when it has none.
pub(crate) async fn get_bucket_tagging(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    if bucket.tags.is_empty() {
        return Err(S3Error::code(S3ErrorCode::NoSuchTagSet));
    }
    response::xml(&tagging_answer(&bucket.tags))
}

/// `DELETE /bucket?tagging`: 204, also when there was none (as S3 does).
pub(crate) async fn delete_bucket_tagging(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    if !bucket.tags.is_empty() {
        cx.storage()
            .set_bucket_tags(&bucket, &TagSet::default())
            .await?;
    }
    Ok(response::empty(StatusCode::NO_CONTENT))
}
