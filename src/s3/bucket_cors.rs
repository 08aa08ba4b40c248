//! Bucket CORS configuration over S3: PutBucketCors and DeleteBucketCors
//! for the bucket's owners, GetBucketCors for its readers. The document
//! and its checks are in `cors_xml.rs`; browsers are answered by them in
//! `cors.rs`.

use http::{Response, StatusCode};

use super::cors_xml::{cors_answer, parse_cors, MAX_CORS_BODY};
use super::response;
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;

type Res = Result<Response<ResponseBody>, S3Error>;

/// `PUT /bucket?cors`: 200 once the rules are stored, replacing any the
/// bucket had.
pub(crate) async fn put_bucket_cors(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    let (body, _) = cx.read_small_body(MAX_CORS_BODY).await?;
    let config = parse_cors(&body)?;
    cx.storage().set_bucket_cors(&bucket, Some(&config)).await?;
    Ok(response::empty(StatusCode::OK))
}

/// `GET /bucket?cors`: the rules as stored, `NoSuchCORSConfiguration`
/// without any.
pub(crate) async fn get_bucket_cors(cx: &mut RequestCx) -> Res {
    let config = cx
        .bucket()
        .await?
        .cors
        .ok_or(S3Error::code(S3ErrorCode::NoSuchCORSConfiguration))?;
    Ok(response::xml_text(cors_answer(&config)))
}

/// `DELETE /bucket?cors`: 204, also when there were none (as S3 does).
pub(crate) async fn delete_bucket_cors(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    if bucket.cors.is_some() {
        cx.storage().set_bucket_cors(&bucket, None).await?;
    }
    Ok(response::empty(StatusCode::NO_CONTENT))
}
