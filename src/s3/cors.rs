//! Browsers' cross-origin requests, answered from the bucket's CORS rules
//! (`types::CorsConfig`, set by PutBucketCors):
//! - the preflight (`OPTIONS` on a bucket or an object) is answered here,
//!   before and without authentication, as S3 does: 200 with the
//!   `Access-Control-*` headers when a rule allows the origin, the method
//!   and every requested header; 403 `AccessForbidden` otherwise; 400
//!   when `Origin` or `Access-Control-Request-Method` is missing;
//! - an actual request that carries `Origin` gets the same headers on its
//!   answer, an error's included, when a rule allows the origin and the
//!   request's method. Every answer about a bucket with rules says
//!   `Vary: Origin`, since it depends on it.
//!
//! A bucket that does not exist answers a preflight as one without rules
//! does: a request that is not signed learns nothing of which buckets
//! exist.

use http::header::{ORIGIN, VARY};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::response;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::state::AppState;
use crate::types::{CorsConfig, CorsMatch};

const REQUEST_METHOD: &str = "access-control-request-method";
const REQUEST_HEADERS: &str = "access-control-request-headers";
const ALLOW_ORIGIN: &str = "access-control-allow-origin";
const ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
const ALLOW_METHODS: &str = "access-control-allow-methods";
const ALLOW_HEADERS: &str = "access-control-allow-headers";
const EXPOSE_HEADERS: &str = "access-control-expose-headers";
const MAX_AGE: &str = "access-control-max-age";
/// The most headers a preflight may name (each is matched against every
/// allowed-header pattern of a rule, so the work stays bounded).
const MAX_REQUESTED_HEADERS: usize = 100;

/// The CORS rules of the bucket an answer is about, as far as they are
/// known when it is written.
pub(crate) enum BucketRules {
    /// The request read the bucket's record: these are its rules.
    Read(Option<CorsConfig>),
    /// It did not (it failed first, or names no bucket).
    Unread,
}

/// The origin of a cross-origin request: its non-empty `Origin` header.
pub(crate) fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
}

/// Answers a preflight for `bucket`.
pub(crate) async fn preflight(
    state: &AppState,
    headers: &HeaderMap,
    bucket: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let origin = origin_of(headers).ok_or_else(|| {
        S3Error::new(
            S3ErrorCode::BadRequest,
            "Insufficient information. Origin request header needed.",
        )
    })?;
    let method = headers
        .get(REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::BadRequest,
                "Invalid Access-Control-Request-Method: null",
            )
        })?;
    let requested: Vec<&str> = headers
        .get_all(REQUEST_HEADERS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .take(MAX_REQUESTED_HEADERS + 1)
        .collect();
    if requested.len() > MAX_REQUESTED_HEADERS {
        return Err(forbidden());
    }
    let rules = match state.storage.get_bucket(bucket).await? {
        Some(b) => b.cors,
        None => None,
    };
    let rules = rules.ok_or_else(|| {
        S3Error::new(
            S3ErrorCode::AccessForbidden,
            "CORSResponse: CORS is not enabled for this bucket.",
        )
    })?;
    let found = rules
        .find(&origin, method, &requested)
        .ok_or_else(forbidden)?;
    let mut r = response::empty(StatusCode::OK);
    allow(&mut r, &origin, found);
    if !requested.is_empty() {
        let names: Vec<String> = requested.iter().map(|h| h.to_ascii_lowercase()).collect();
        response::set(&mut r, ALLOW_HEADERS, &names.join(", "));
    }
    r.headers_mut().insert(
        VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        ),
    );
    Ok(r)
}

fn forbidden() -> S3Error {
    S3Error::new(
        S3ErrorCode::AccessForbidden,
        "CORSResponse: This CORS request is not allowed. This is usually because the \
         evalution of Origin, request method / Access-Control-Request-Method or \
         Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
    )
}

/// Adds the CORS headers to the answer to an actual request on `bucket`
/// with `method`, from `origin` (if it sent one). Rules the request did
/// not read are read here, only when the request has an origin.
pub(crate) async fn decorate(
    state: &AppState,
    bucket: &str,
    rules: BucketRules,
    origin: Option<&str>,
    method: &Method,
    r: &mut Response<ResponseBody>,
) {
    let rules = match rules {
        BucketRules::Read(rules) => rules,
        BucketRules::Unread if origin.is_some() => match state.storage.get_bucket(bucket).await {
            Ok(b) => b.and_then(|b| b.cors),
            // The answer stands; it only lacks the headers.
            Err(e) => {
                tracing::debug!(error = %e, "CORS rules unread");
                None
            }
        },
        BucketRules::Unread => None,
    };
    let Some(rules) = rules else { return };
    r.headers_mut()
        .append(VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        if let Some(found) = rules.find(origin, method.as_str(), &[]) {
            allow(r, origin, found);
        }
    }
}

/// The headers that let a page from `origin` use the answer.
fn allow(r: &mut Response<ResponseBody>, origin: &str, found: CorsMatch<'_>) {
    let rule = found.rule;
    if found.any_origin {
        response::set(r, ALLOW_ORIGIN, "*");
    } else {
        response::set(r, ALLOW_ORIGIN, origin);
        response::set(r, ALLOW_CREDENTIALS, "true");
    }
    response::set(r, ALLOW_METHODS, &rule.methods.join(", "));
    if !rule.expose_headers.is_empty() {
        response::set(r, EXPOSE_HEADERS, &rule.expose_headers.join(", "));
    }
    if let Some(secs) = rule.max_age_secs {
        response::set(r, MAX_AGE, &secs.to_string());
    }
}
