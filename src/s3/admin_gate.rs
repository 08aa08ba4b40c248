//! The gate of the admin API (`crate::admin_api`) on the S3 listener:
//! SigV4 as for every S3 request, then only the root pair or an admin key,
//! with a signed body of at most [`MAX_ADMIN_BODY`] bytes.

use bytes::Bytes;
use http::Response;

use super::authenticate;
use crate::auth;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::{AdminPath, Query, ResponseBody};
use crate::state::AppState;

/// Largest admin API request body.
const MAX_ADMIN_BODY: usize = 64 * 1024;
/// How long a client may take to send an admin API request body.
const ADMIN_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the admin API: SigV4-authenticated as every S3 request, then
/// only for the root pair or an admin key, with a signed body.
pub(super) async fn admin<B>(
    state: &AppState,
    parts: http::request::Parts,
    path: &AdminPath,
    body: B,
) -> Result<Response<ResponseBody>, S3Error>
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: std::fmt::Display,
{
    let query = Query::parse(parts.uri.query()).ok_or(S3Error::code(S3ErrorCode::InvalidURI))?;
    let (principal, verified) = authenticate(state, &parts, &query, None).await?;
    refuse_query(&query)?;
    if !principal.is_admin() {
        return Err(S3Error::new(
            S3ErrorCode::AccessDenied,
            "The admin API answers only the root pair and admin keys.",
        ));
    }
    let auth::PayloadMode::Signed(sha256) = verified.payload else {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            "The admin API needs a signed payload: x-amz-content-sha256 set to the body's SHA-256.",
        ));
    };
    let body = tokio::time::timeout(ADMIN_BODY_TIMEOUT, read_capped(body, MAX_ADMIN_BODY))
        .await
        .map_err(|_| S3Error::code(S3ErrorCode::RequestTimeout))??;
    if <sha2::Sha256 as sha2::Digest>::digest(&body).as_slice() != sha256 {
        return Err(S3Error::code(S3ErrorCode::XAmzContentSHA256Mismatch));
    }
    Ok(crate::admin_api::serve(state, &principal, path, &parts.method, &body).await)
}

/// The admin API takes no query parameter but a presigned URL's own
/// (`X-Amz-*`): one it would not read is refused, never ignored.
fn refuse_query(query: &Query) -> Result<(), S3Error> {
    match query
        .iter()
        .find(|(name, _)| !name.to_ascii_lowercase().starts_with("x-amz-"))
    {
        None => Ok(()),
        Some((name, _)) => Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            format!("The admin API takes no query parameter {name:?}."),
        )),
    }
}

/// A whole small body, at most `cap` bytes.
async fn read_capped<B>(body: B, cap: usize) -> Result<Bytes, S3Error>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| S3Error::code(S3ErrorCode::IncompleteBody).with_source(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > cap {
                return Err(S3Error::code(S3ErrorCode::MaxMessageLengthExceeded));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_refused_but_a_presigned_urls() {
        let q = |raw: &str| Query::parse(Some(raw)).unwrap();
        assert!(refuse_query(&Query::parse(None).unwrap()).is_ok());
        assert!(refuse_query(&q("X-Amz-Date=20261203T000000Z&x-amz-expires=60")).is_ok());
        for raw in ["prefix=a", "X-Amz-Date=1&limit=5", "admin=true"] {
            let e = refuse_query(&q(raw)).expect_err(raw);
            assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{raw}");
        }
    }
}
