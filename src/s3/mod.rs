//! S3 semantics, once for every backend: the request pipeline and one
//! file per resource family.

mod admin_gate;
mod bucket;
mod bucket_cors;
mod bucket_lifecycle;
mod bucket_policy;
mod bucket_tagging;
pub mod bucket_versioning;
pub mod complete;
mod context;
mod copy;
mod cors;
pub mod cors_xml;
mod delete;
pub mod input;
pub mod lifecycle_xml;
mod list;
mod multipart;
mod multipart_list;
mod object;
mod object_tagging;
mod owners;
mod permission;
mod post_object;
pub mod post_policy;
mod promises;
mod response;
pub mod tagging;
mod upload;
mod version_list;
mod versioned;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};

use crate::auth;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::router::RouteError;
use crate::http::{Endpoint, GatewayPath, Query, ResponseBody, Route, Routed};
use crate::state::AppState;
use crate::telemetry::access::{BodyCounter, MeteredBody, RequestLog};
use crate::types::xml_safe;

use crate::access::Principal;
pub(crate) use context::RequestCx;
use input::Input;
use permission::Checked;

/// Serves one request; never fails (errors become S3 error responses).
/// The request is logged and counted when its answer's body ends.
pub(crate) async fn handle<B>(state: Arc<AppState>, req: Request<B>) -> Response<MeteredBody>
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
    let origin = cors::origin_of(&parts.headers);
    let method = parts.method.clone();
    let routed = match route(&state, &mut parts) {
        Ok(r) => r,
        Err(err) => {
            log.error(err.code.as_str());
            return response::error(&err, request_id, &resource, is_head);
        }
    };
    // The bucket an S3 answer is about, and its CORS rules if the request
    // read them.
    let mut cors_bucket = None;
    let (op, result) = match routed {
        Routed::Gateway(GatewayPath::Admin(path)) => {
            let op = GatewayPath::Admin(path.clone()).name();
            log.route(op, None, None);
            (
                op.to_owned(),
                admin_gate::admin(&state, parts, &path, body).await,
            )
        }
        Routed::Gateway(path) => {
            log.route(path.name(), None, None);
            let answer = gateway(&state, &path, &parts.method).await;
            (path.name().to_owned(), Ok(answer))
        }
        Routed::S3(route) => {
            let op = route.endpoint.name().to_owned();
            log.route(&op, route.bucket.as_deref(), route.key.as_deref());
            match (&route.endpoint, route.bucket.clone()) {
                (Endpoint::CorsPreflight, Some(bucket)) => {
                    (op, cors::preflight(&state, &parts.headers, &bucket).await)
                }
                (_, bucket) => {
                    let (answer, rules) = serve(&state, parts, route, body, log).await;
                    cors_bucket = bucket.map(|b| (b, rules));
                    (op, answer)
                }
            }
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
    if let Some((bucket, rules)) = cors_bucket {
        cors::decorate(
            &state,
            &bucket,
            rules,
            origin.as_deref(),
            &method,
            &mut response,
        )
        .await;
    }
    if close_after(response.status()) {
        response.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Authenticates an S3 request, parses its operation's input and runs its
/// handler; with the answer, the CORS rules of the bucket, if the
/// permission check read its record.
async fn serve<B>(
    state: &Arc<AppState>,
    parts: http::request::Parts,
    route: Route,
    body: B,
    log: &mut RequestLog,
) -> (Result<Response<ResponseBody>, S3Error>, cors::BucketRules)
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: std::fmt::Display,
{
    let pace = state.config.body_pace();
    let body = counted(context::body_stream(body, pace), log.body_counter());
    // A form upload is signed by its form, which is read up to its file
    // first; every other request by its head.
    let arrived = if route.endpoint == Endpoint::PostObject {
        post_object::accept(state, &parts, &route, body)
            .await
            .map(|a| (a.principal, a.verified, Some(a.input), a.file))
    } else {
        authenticate(state, &parts, &route.query, Some(&route.endpoint))
            .await
            .map(|(principal, verified)| (principal, verified, None, body))
    };
    let (principal, verified, input, body) = match arrived {
        Ok(a) => a,
        Err(e) => return (Err(e), cors::BucketRules::Unread),
    };
    // An anonymous request hears only AccessDenied until the policy lets
    // it through; then its headers are judged as any request's.
    let anonymous = matches!(principal, Principal::Anonymous);
    if !anonymous {
        if let Err(e) = promises::refuse_unkept_promises(&parts.headers, &route.endpoint) {
            return (Err(e), cors::BucketRules::Unread);
        }
    }
    let checked = match check(state, &principal, &parts.headers, &route, input).await {
        Ok(c) if anonymous => {
            promises::refuse_unkept_promises(&parts.headers, &route.endpoint).map(|()| c)
        }
        other => other,
    };
    let mut cx = RequestCx::new(state.clone(), parts, route, verified, principal, body);
    let answer = match checked {
        Ok((input, checked)) => {
            let hide_missing = permission::hides_missing_keys(&cx.principal, &checked);
            cx.set_checked(checked);
            match dispatch(&mut cx, input).await {
                Err(e) if hide_missing && e.code == S3ErrorCode::NoSuchKey => {
                    Err(S3Error::code(S3ErrorCode::AccessDenied))
                }
                answer => answer,
            }
        }
        Err(e) => Err(e),
    };
    if answer.is_err() {
        cx.drain_unread_body().await;
    }
    let rules = match cx.checked_bucket() {
        Some(b) => cors::BucketRules::Read(b.cors.clone()),
        None => cors::BucketRules::Unread,
    };
    (answer, rules)
}

/// The request's typed input, once the principal proved it may run it:
/// the one permission check, between authentication and the handler.
async fn check(
    state: &AppState,
    principal: &Principal,
    headers: &http::HeaderMap,
    route: &Route,
    parsed: Option<Input>,
) -> Result<(Input, Checked), S3Error> {
    // An unsigned request learns nothing but that it is refused: not that
    // a bucket exists, nor what is wrong with its parameters.
    let anonymous = matches!(principal, Principal::Anonymous);
    let hide = |e: S3Error| match e.code {
        S3ErrorCode::InternalError | S3ErrorCode::ServiceUnavailable => e,
        _ if anonymous => S3Error::code(S3ErrorCode::AccessDenied),
        _ => e,
    };
    let input = match parsed {
        Some(input) => input,
        None => Input::parse(route, headers).map_err(hide)?,
    };
    let needs = permission::needs(&input);
    let checked = permission::load(state.storage.as_ref(), &needs, route.bucket.as_deref())
        .await
        .map_err(hide)?;
    permission::authorize(principal, &input, &needs, &checked)?;
    let owner_of = |b: &Option<crate::storage::BucketRecord>| match b {
        Some(b) => owners::bucket_owner(state, b).id,
        None => owners::principal_owner(state, principal).id,
    };
    promises::check_expected_owner(
        headers,
        "x-amz-expected-bucket-owner",
        &owner_of(&checked.bucket),
    )?;
    if checked.source.is_some() {
        promises::check_expected_owner(
            headers,
            "x-amz-source-expected-bucket-owner",
            &owner_of(&checked.source),
        )?;
    }
    Ok((input, checked))
}

/// The S3 listener's answer to one of the gateway's own paths.
async fn gateway(
    state: &AppState,
    path: &GatewayPath,
    method: &http::Method,
) -> Response<ResponseBody> {
    match path {
        GatewayPath::Health => response::text(http::StatusCode::OK, "ok"),
        GatewayPath::Ready => readiness(state).await,
        other => crate::dashboard::on_s3_listener(state, other, method),
    }
}

/// Decodes the query once (the signature check and the handlers read the
/// same values), applies a presigned URL's `x-amz-*` parameters as headers,
/// and routes the request.
fn route(state: &AppState, parts: &mut http::request::Parts) -> Result<Routed, S3Error> {
    let query = Query::parse(parts.uri.query()).ok_or(S3Error::code(S3ErrorCode::InvalidURI))?;
    auth::hoist_query_headers(parts, &query)?;
    if state.config.sigv2 {
        auth::sigv2::hoist_query_headers(parts, &query)?;
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let copy_source = parts.headers.contains_key("x-amz-copy-source");
    let routed = Route::from_request(
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
    if let Routed::S3(route) = &routed {
        let key_ok = route.key.as_deref().is_none_or(xml_safe);
        let query_ok = |(k, v): (&str, &str)| xml_safe(k) && (xml_safe(v) || echoed_raw(k, v));
        if !key_ok || !route.query.iter().all(query_ok) {
            return Err(input::key_error(crate::types::KeyError::NotXml));
        }
    }
    Ok(routed)
}

/// A listing parameter that S3 takes with any character but U+0000 and
/// echoes (as a character reference, or `%XX` with `encoding-type=url`);
/// no key holds such a character, so it only lists nothing.
fn echoed_raw(name: &str, value: &str) -> bool {
    matches!(
        name,
        "prefix" | "delimiter" | "marker" | "start-after" | "key-marker"
    ) && !value.contains('\0')
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

/// Who signed the request, with the verified signature: the root pair or
/// a stored key (`principal_of`). SigV2 only when the gateway allows it,
/// and never for the admin API (`endpoint` `None`), whose own client
/// signs SigV4.
pub(super) async fn authenticate(
    state: &AppState,
    parts: &http::request::Parts,
    query: &Query,
    endpoint: Option<&Endpoint>,
) -> Result<(Principal, auth::VerifiedAuth), S3Error> {
    let sigv2 = state.config.sigv2 && endpoint.is_some();
    let now = time::OffsetDateTime::now_utc();
    let (principal, verified) = match auth::parse_claims(parts, query, sigv2)? {
        None => {
            // No signature: what bucket policies grant anyone, and no body.
            let anonymous = auth::VerifiedAuth {
                access_key: String::new(),
                payload: auth::PayloadMode::Unsigned,
                chunk_signer: None,
            };
            return Ok((Principal::Anonymous, anonymous));
        }
        Some(auth::Claims::V4(request)) => {
            auth::check_region(
                &request,
                &state.config.region,
                endpoint == Some(&Endpoint::GetBucketLocation),
            )?;
            let principal = principal_of(state, &request.access_key).await?;
            let verified = auth::verify(&request, parts, query, secret_of(state, &principal), now)?;
            (principal, verified)
        }
        Some(auth::Claims::V2(request)) => {
            let principal = principal_of(state, &request.access_key).await?;
            let host = parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok());
            let vhost =
                crate::http::router::virtual_host_bucket(host, state.config.domain.as_deref());
            let secret = secret_of(state, &principal);
            let verified = auth::sigv2::verify(&request, parts, vhost.as_deref(), secret, now)?;
            tracing::debug!("SigV2 (legacy) signature");
            (principal, verified)
        }
    };
    tracing::debug!(
        op = endpoint.map_or("AdminApi", Endpoint::name),
        payload = payload_name(&verified.payload),
        "authenticated"
    );
    let streaming = matches!(
        verified.payload,
        auth::PayloadMode::StreamingSigned { .. } | auth::PayloadMode::StreamingUnsignedTrailer
    );
    if streaming && !endpoint.is_some_and(Endpoint::takes_streaming_body) {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            "The value of x-amz-content-sha256 header is invalid for this operation.",
        ));
    }
    Ok((principal, verified))
}

/// Who an access key id names: the root pair, or a stored key (from this
/// gateway's cache, `access::cache`); `InvalidAccessKeyId` otherwise.
pub(super) async fn principal_of(state: &AppState, access_key: &str) -> Result<Principal, S3Error> {
    if access_key == state.root_access_key {
        return Ok(Principal::Root);
    }
    state
        .keys
        .lookup(access_key)
        .await
        .map(Principal::Key)
        .ok_or(S3Error::code(S3ErrorCode::InvalidAccessKeyId))
}

/// The secret a principal signs with.
fn secret_of<'a>(state: &'a AppState, principal: &'a Principal) -> &'a auth::SecretKey {
    match principal {
        Principal::Key(k) => &k.secret,
        _ => &state.root_secret_key,
    }
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

async fn dispatch(cx: &mut RequestCx, input: Input) -> Result<Response<ResponseBody>, S3Error> {
    use Input::*;
    match input {
        ListBuckets(i) => bucket::list_buckets(cx, i).await,
        CreateBucket => bucket::create_bucket(cx).await,
        DeleteBucket => bucket::delete_bucket(cx).await,
        HeadBucket => bucket::head_bucket(cx).await,
        GetBucketLocation => bucket::get_bucket_location(cx).await,
        GetBucketVersioning => bucket_versioning::get_bucket_versioning(cx).await,
        PutBucketVersioning => bucket_versioning::put_bucket_versioning(cx).await,
        ListObjectVersions(i) => version_list::list_object_versions(cx, i).await,
        GetBucketConfig(c) => bucket::get_bucket_config(cx, c).await,
        GetBucketPolicy => bucket_policy::get_bucket_policy(cx).await,
        PutBucketPolicy => bucket_policy::put_bucket_policy(cx).await,
        DeleteBucketPolicy => bucket_policy::delete_bucket_policy(cx).await,
        GetBucketPolicyStatus => bucket_policy::get_bucket_policy_status(cx).await,
        GetBucketTagging => bucket_tagging::get_bucket_tagging(cx).await,
        PutBucketTagging => bucket_tagging::put_bucket_tagging(cx).await,
        DeleteBucketTagging => bucket_tagging::delete_bucket_tagging(cx).await,
        GetBucketLifecycleConfiguration => bucket_lifecycle::get_bucket_lifecycle(cx).await,
        PutBucketLifecycleConfiguration => bucket_lifecycle::put_bucket_lifecycle(cx).await,
        DeleteBucketLifecycle => bucket_lifecycle::delete_bucket_lifecycle(cx).await,
        GetBucketCors => bucket_cors::get_bucket_cors(cx).await,
        PutBucketCors => bucket_cors::put_bucket_cors(cx).await,
        DeleteBucketCors => bucket_cors::delete_bucket_cors(cx).await,
        ListObjects(i) => list::list_objects_v1(cx, i).await,
        ListObjectsV2(i) => list::list_objects_v2(cx, i).await,
        DeleteObjects => delete::delete_objects(cx).await,
        GetObject(i) => object::get_object(cx, i, false).await,
        HeadObject(i) => object::get_object(cx, i, true).await,
        PutObject(i) => object::put_object(cx, i).await,
        PostObject(i) => post_object::post_object(cx, i).await,
        CopyObject(i) => copy::copy_object(cx, i).await,
        DeleteObject(i) => object::delete_object(cx, i).await,
        GetObjectTagging(i) => object_tagging::get_object_tagging(cx, i).await,
        PutObjectTagging(i) => object_tagging::put_object_tagging(cx, i).await,
        DeleteObjectTagging(i) => object_tagging::delete_object_tagging(cx, i).await,
        GetObjectAcl(i) => object::get_object_acl(cx, i).await,
        CreateMultipartUpload(i) => multipart::create_multipart_upload(cx, i).await,
        UploadPart(i) => multipart::upload_part(cx, i).await,
        UploadPartCopy(i) => multipart::upload_part_copy(cx, i).await,
        CompleteMultipartUpload(i) => complete::complete_multipart_upload(cx, i).await,
        AbortMultipartUpload(i) => multipart::abort_multipart_upload(cx, i).await,
        ListParts(i) => multipart_list::list_parts(cx, i).await,
        ListMultipartUploads(i) => multipart_list::list_multipart_uploads(cx, i).await,
        NotImplemented(name) => Err(S3Error::not_implemented(&name)),
    }
}
