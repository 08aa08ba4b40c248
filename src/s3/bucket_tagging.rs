//! Bucket tagging: PutBucketTagging, GetBucketTagging and
//! DeleteBucketTagging. A tag set is checked whole when it is put
//! (`types::TagSet`: S3's counts, lengths and characters) and stored with
//! the bucket record; putting one replaces the last.

use http::{Response, StatusCode};

use super::response;
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::{TagError, TagSet, MAX_BUCKET_TAGS};
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

/// The largest PutBucketTagging body read: 50 tags of the longest keys
/// and values of 3-byte characters with their markup come to about
/// 60 KiB.
pub(crate) const MAX_TAGGING_BODY: usize = 128 * 1024;

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
    response::xml(&xml::Tagging {
        xmlns: (),
        tag_set: tag_list(&bucket.tags),
    })
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

/// A `<Tagging>` request body as a valid tag set of at most `max` tags.
pub fn parse_tagging(body: &[u8], max: usize) -> Result<TagSet, S3Error> {
    let malformed = || S3Error::code(S3ErrorCode::MalformedXML);
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let request: xml::TaggingRequest =
        xml::from_xml(text).map_err(|e| malformed().with_source(e))?;
    let pairs = request
        .tag_set
        .tags
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    TagSet::new(pairs, max).map_err(|e| tag_error(&e))
}

/// The S3 error for a refused tag set.
pub(crate) fn tag_error(e: &TagError) -> S3Error {
    let code = match e {
        TagError::TooMany { .. } => S3ErrorCode::BadRequest,
        _ => S3ErrorCode::InvalidTag,
    };
    S3Error::new(code, e.message())
}

fn tag_list(tags: &TagSet) -> xml::TagList {
    xml::TagList {
        tags: tags
            .iter()
            .map(|(key, value)| xml::Tag {
                key: key.to_owned(),
                value: value.to_owned(),
            })
            .collect(),
    }
}
