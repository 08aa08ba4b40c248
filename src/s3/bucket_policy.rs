//! Bucket policies over S3 (issue 17): PutBucketPolicy, GetBucketPolicy,
//! DeleteBucketPolicy and GetBucketPolicyStatus, for the bucket's owners.
//! A policy is checked whole when it is put (`access::policy`: the
//! public-read subset, anything else `MalformedPolicy` naming it) and
//! stored as sent; the permission check applies it to anonymous requests
//! (`super::permission`).

use http::{HeaderValue, Response, StatusCode};

use super::response;
use super::RequestCx;
use crate::access::policy::{self, MAX_POLICY_BYTES};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

/// `PUT /bucket?policy`: 204 once stored, `MalformedPolicy` with what is
/// not supported, `PolicyTooLarge` over [`MAX_POLICY_BYTES`].
pub(crate) async fn put_bucket_policy(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    let (body, _) = cx
        .read_small_body(MAX_POLICY_BYTES)
        .await
        .map_err(|e| match e.code {
            S3ErrorCode::MaxMessageLengthExceeded => S3Error::new(
                S3ErrorCode::PolicyTooLarge,
                format!(
                    "Policy exceeds the maximum allowed document size of {MAX_POLICY_BYTES} bytes."
                ),
            ),
            _ => e,
        })?;
    let document = std::str::from_utf8(&body)
        .map_err(|_| S3Error::new(S3ErrorCode::MalformedPolicy, "The policy is not UTF-8."))?;
    policy::parse(document, &bucket.name)
        .map_err(|e| S3Error::new(S3ErrorCode::MalformedPolicy, e.0))?;
    cx.storage().set_policy(&bucket, Some(document)).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `GET /bucket?policy`: the document as it was put.
pub(crate) async fn get_bucket_policy(cx: &mut RequestCx) -> Res {
    let document = cx
        .bucket()
        .await?
        .policy
        .ok_or(S3Error::code(S3ErrorCode::NoSuchBucketPolicy))?;
    let mut r = Response::new(ResponseBody::full(document));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// `DELETE /bucket?policy`: 204, also when there was none (as S3 does).
pub(crate) async fn delete_bucket_policy(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    if bucket.policy.is_some() {
        cx.storage().set_policy(&bucket, None).await?;
    }
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `GET /bucket?policyStatus`: `IsPublic`, true for any stored policy of
/// the subset (each statement grants to anyone); `NoSuchBucketPolicy`
/// without one, as S3 answers.
pub(crate) async fn get_bucket_policy_status(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    let document = bucket
        .policy
        .as_deref()
        .ok_or(S3Error::code(S3ErrorCode::NoSuchBucketPolicy))?;
    let is_public = policy::parse(document, &bucket.name).is_ok_and(|p| p.is_public());
    response::xml(&xml::PolicyStatus {
        xmlns: (),
        is_public,
    })
}
