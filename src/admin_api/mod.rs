//! The admin API (`/_s3gw/admin/v1/…` on the S3 listener): access keys and
//! their grants on buckets, as JSON, for `s3gw admin` (issue 17). The S3
//! pipeline authenticates each request (SigV4, signed body) and lets only
//! the root pair and admin keys through; this module does the rest.
//! The contract is in `docs/operations.md` (Admin API).

mod buckets;
mod keys;
mod request;

pub use request::{parse, AdminRequest};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::access::Principal;
use crate::http::{AdminPath, ResponseBody};
use crate::state::AppState;
use crate::storage::StorageError;

/// An answer that is not a success: status, code and a message that names
/// the fix.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Failure {
    /// The error code the answer carries.
    pub fn code(&self) -> &'static str {
        self.code
    }

    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Failure {
        match e {
            StorageError::Unavailable(_) | StorageError::Busy(_) => Failure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                format!("the storage backend did not answer ({e}); retry"),
            ),
            StorageError::NoSuchBucket => {
                Failure::new(StatusCode::NOT_FOUND, "NoSuchBucket", "no such bucket")
            }
            other => {
                tracing::error!(error = %other, "admin API request failed");
                Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "the gateway failed; its log says why",
                )
            }
        }
    }
}

type Answer = Result<Response<ResponseBody>, Failure>;

/// Serves one admin request from `principal` (already authenticated and
/// known to be an admin), with its verified `body`.
pub(crate) async fn serve(
    state: &AppState,
    principal: &Principal,
    path: &AdminPath,
    method: &Method,
    body: &[u8],
) -> Response<ResponseBody> {
    let answer = match parse(path, method, body) {
        Ok(request) => run(state, request).await,
        Err(f) => Err(f),
    };
    let who = principal.label();
    match answer {
        Ok(r) => {
            tracing::info!(by = who, ?path, %method, status = r.status().as_u16(), "admin API");
            r
        }
        Err(f) => {
            tracing::info!(by = who, ?path, %method, code = f.code, "admin API refused");
            json(f.status, &json!({"error": f.code, "message": f.message}))
        }
    }
}

async fn run(state: &AppState, request: AdminRequest) -> Answer {
    match request {
        AdminRequest::CreateKey {
            name,
            create_bucket,
            admin,
        } => keys::create(state, &name, create_bucket, admin).await,
        AdminRequest::ListKeys => keys::list(state).await,
        AdminRequest::KeyInfo(id) => keys::info(state, &id).await,
        AdminRequest::DeleteKey(id) => keys::delete(state, &id).await,
        AdminRequest::BucketInfo(b) => buckets::info(state, &b).await,
        AdminRequest::Grant {
            bucket,
            key,
            allow,
            grant,
        } => buckets::change(state, &bucket, &key, allow, grant).await,
    }
}

fn json(status: StatusCode, value: &Value) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::full(Bytes::from(value.to_string())));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn no_content() -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::Empty);
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

fn ok(value: &Value) -> Answer {
    Ok(json(StatusCode::OK, value))
}

/// RFC 3339 (UTC) of milliseconds since the Unix epoch.
fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.replace_nanosecond(0)
                .ok()?
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_292_000_123), "2026-12-03T10:00:00Z");
    }
}
