//! S3 semantics, once for every backend: the request pipeline and one
//! file per resource family.

mod bucket;
pub mod complete;
mod context;
mod copy;
mod delete;
mod list;
mod multipart;
mod multipart_list;
mod object;
mod promises;
mod response;
mod upload;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};

use crate::auth;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::router::RouteError;
use crate::http::{Endpoint, Query, ResponseBody, Route};
use crate::state::AppState;
use crate::telemetry::access::{BodyCounter, MeteredBody, RequestLog};
use crate::types::xml_safe;

pub use context::RequestCx;

/// Serves one request; never fails (errors become S3 error responses).
/// The request is logged and counted when its answer's body ends.
pub async fn handle<B>(state: Arc<AppState>, req: Request<B>) -> Response<MeteredBody>
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: std::fmt::Display,
{
    let request_id = response::new_request_id();
    let mut log = RequestLog::start(
        state.telemetry.clone(),
        request_id.clone(),
        req.method().clone(),
    );
    let response = respond(state, req, &request_id, &mut log).await;
    let status = response.status();
    response.map(|body| MeteredBody::new(body, log, status))
}

async fn respond<B>(
    state: Arc<AppState>,
    req: Request<B>,
    request_id: &str,
    log: &mut RequestLog,
) -> Response<ResponseBody>
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: std::fmt::Display,
{
    let (mut parts, body) = req.into_parts();
    let is_head = parts.method == http::Method::HEAD;
    let close_after = answers_without_continue(&parts.headers);
    let resource = parts.uri.path().to_owned();
    if crate::http::head::is_oversized(&parts) {
        log.error("RequestHeaderSectionTooLarge");
        return response::head_too_large();
    }
    crate::http::head::host_from_target(&mut parts);
    let route = match route(&state, &mut parts) {
        Ok(r) => r,
        Err(err) => {
            log.error(err.code.as_str());
            return response::error(&err, request_id, &resource, is_head);
        }
    };
    let op = route.endpoint.name().to_owned();
    log.route(&op, route.bucket.as_deref(), route.key.as_deref());
    let result = if route.endpoint == Endpoint::Health {
        Ok(response::text(http::StatusCode::OK, "ok"))
    } else if route.endpoint == Endpoint::Ready {
        Ok(readiness(&state).await)
    } else if route.endpoint == Endpoint::Admin {
        Ok(crate::dashboard::serve(&state, &parts))
    } else {
        let checked = authenticate(&state, &parts, &route).and_then(|verified| {
            promises::refuse_unkept_promises(&parts.headers, &state.owner_id())?;
            Ok(verified)
        });
        match checked {
            Ok(verified) => {
                let pace = state.config.body_pace();
                let body = counted(context::body_stream(body, pace), log.body_counter());
                let mut cx = RequestCx::new(state.clone(), parts, route, verified, body);
                let answer = dispatch(&mut cx).await;
                if answer.is_err() {
                    cx.drain_unread_body().await;
                }
                answer
            }
            Err(e) => Err(e),
        }
    };
    let response = match result {
        Ok(mut r) => {
            response::stamp(&mut r, request_id);
            r
        }
        Err(e) => {
            log.error(e.code.as_str());
            match e.code {
                S3ErrorCode::InternalError | S3ErrorCode::ServiceUnavailable => {
                    tracing::error!(%request_id, op, error = %e, source = e.source_chain(), "request failed")
                }
                S3ErrorCode::NotImplemented => {
                    tracing::info!(%request_id, op, "operation not implemented")
                }
                _ => {
                    tracing::debug!(%request_id, op, error = %e, source = e.source_chain(), "request rejected")
                }
            }
            response::error(&e, request_id, &resource, is_head)
        }
    };
    let mut response = response;
    if close_after(response.status()) {
        response.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Decodes the query once (the signature check and the handlers read the
/// same values), applies a presigned URL's `x-amz-*` parameters as headers,
/// and routes the request.
fn route(state: &AppState, parts: &mut http::request::Parts) -> Result<Route, S3Error> {
    let query = Query::parse(parts.uri.query()).ok_or(S3Error::code(S3ErrorCode::InvalidURI))?;
    auth::hoist_query_headers(parts, &query)?;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let copy_source = parts.headers.contains_key("x-amz-copy-source");
    let route = Route::from_request(
        &parts.method,
        parts.uri.path(),
        query,
        host,
        copy_source,
        state.config.domain.as_deref(),
    )
    .map_err(|e| match e {
        RouteError::InvalidUri => S3Error::code(S3ErrorCode::InvalidURI),
        RouteError::MethodNotAllowed => S3Error::code(S3ErrorCode::MethodNotAllowed),
    })?;
    let key_ok = route.key.as_deref().is_none_or(xml_safe);
    if !key_ok || !route.query.iter().all(|(k, v)| xml_safe(k) && xml_safe(v)) {
        return Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "Object keys and parameters may not contain characters that XML 1.0 cannot carry (such as U+0000)",
        ));
    }
    Ok(route)
}

/// The request body, its bytes counted as a handler reads them.
fn counted(body: context::RawBody, counter: BodyCounter) -> context::RawBody {
    use futures_util::StreamExt;
    body.inspect(move |piece| {
        if let Ok(data) = piece {
            counter.add(data.len());
        }
    })
    .boxed()
}

/// hyper sends `100 Continue` only when a handler reads the body. A request
/// that asked for it but is answered without it (empty body, or an early
/// error) leaves botocore's pooled connection holding a stale status line,
/// so such a connection is closed after the answer.
fn answers_without_continue(headers: &http::HeaderMap) -> impl Fn(http::StatusCode) -> bool {
    let expects = headers
        .get(http::header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let empty = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    move |status| expects && (empty || !status.is_success())
}

fn authenticate(
    state: &AppState,
    parts: &http::request::Parts,
    route: &Route,
) -> Result<auth::VerifiedAuth, S3Error> {
    let Some(request) = auth::parse_auth(parts, &route.query)? else {
        return Err(S3Error::code(S3ErrorCode::AccessDenied));
    };
    auth::check_region(
        &request,
        &state.config.region,
        route.endpoint == Endpoint::GetBucketLocation,
    )?;
    let secret = state
        .secret_for(&request.access_key)
        .ok_or(S3Error::code(S3ErrorCode::InvalidAccessKeyId))?;
    let verified = auth::verify(
        &request,
        parts,
        &route.query,
        secret,
        time::OffsetDateTime::now_utc(),
    )?;
    tracing::debug!(
        op = route.endpoint.name(),
        payload = payload_name(&verified.payload),
        "authenticated"
    );
    let streaming = matches!(
        verified.payload,
        auth::PayloadMode::StreamingSigned { .. } | auth::PayloadMode::StreamingUnsignedTrailer
    );
    if streaming && !route.endpoint.takes_streaming_body() {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            "The value of x-amz-content-sha256 header is invalid for this operation.",
        ));
    }
    Ok(verified)
}

/// The payload mode as it appears in `x-amz-content-sha256`, for logs.
fn payload_name(mode: &auth::PayloadMode) -> &'static str {
    match mode {
        auth::PayloadMode::Signed(_) => "sha256",
        auth::PayloadMode::Unsigned => "UNSIGNED-PAYLOAD",
        auth::PayloadMode::StreamingSigned { trailer: false } => {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
        }
        auth::PayloadMode::StreamingSigned { trailer: true } => {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
        }
        auth::PayloadMode::StreamingUnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }
}

/// 200 while the backend answers a read at its configured consistency,
/// 503 otherwise: a load balancer or orchestrator routes away meanwhile.
async fn readiness(state: &AppState) -> Response<ResponseBody> {
    match state.storage.ready().await {
        Ok(()) => response::text(http::StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the storage backend does not answer");
            response::text(http::StatusCode::SERVICE_UNAVAILABLE, "not ready")
        }
    }
}

async fn dispatch(cx: &mut RequestCx) -> Result<Response<ResponseBody>, S3Error> {
    use Endpoint::*;
    match cx.route.endpoint.clone() {
        Health => Ok(response::text(http::StatusCode::OK, "ok")),
        Ready => Ok(readiness(&cx.state).await),
        Admin => Ok(crate::dashboard::serve(&cx.state, &cx.parts)),
        ListBuckets => bucket::list_buckets(cx).await,
        CreateBucket => bucket::create_bucket(cx).await,
        DeleteBucket => bucket::delete_bucket(cx).await,
        HeadBucket => bucket::head_bucket(cx).await,
        GetBucketLocation => bucket::get_bucket_location(cx).await,
        GetBucketVersioning => bucket::get_bucket_versioning(cx).await,
        GetBucketConfig(c) => bucket::get_bucket_config(cx, c).await,
        ListObjects => list::list_objects_v1(cx).await,
        ListObjectsV2 => list::list_objects_v2(cx).await,
        DeleteObjects => delete::delete_objects(cx).await,
        GetObject => object::get_object(cx, false).await,
        HeadObject => object::get_object(cx, true).await,
        PutObject => object::put_object(cx).await,
        CopyObject => copy::copy_object(cx).await,
        DeleteObject => object::delete_object(cx).await,
        GetObjectTagging => object::get_object_tagging(cx).await,
        GetObjectAcl => object::get_object_acl(cx).await,
        CreateMultipartUpload => multipart::create_multipart_upload(cx).await,
        UploadPart => multipart::upload_part(cx).await,
        UploadPartCopy => multipart::upload_part_copy(cx).await,
        CompleteMultipartUpload => complete::complete_multipart_upload(cx).await,
        AbortMultipartUpload => multipart::abort_multipart_upload(cx).await,
        ListParts => multipart_list::list_parts(cx).await,
        ListMultipartUploads => multipart_list::list_multipart_uploads(cx).await,
        NotImplemented(name) => Err(S3Error::not_implemented(&name)),
    }
}
