//! The gateway's own pages besides the probes: the Prometheus metrics,
//! and the cluster dashboard with its JSON API (`api`: the cluster;
//! `access_view`: the access keys and grants, read-only).
//!
//! The metrics carry no bucket or key names and are open to scrapers on
//! both listeners. The dashboard names buckets and lives only on the
//! admin listener (`--admin-listen`, [`admin`]), an origin that never
//! serves user objects: an object is attacker-chosen bytes with an
//! attacker-chosen Content-Type, and an HTML object opened on the
//! dashboard's origin could read the dashboard's API. On the S3 listener
//! the dashboard's paths answer 404. Bucket names cannot start with `_`,
//! so no reserved path can shadow a bucket.

pub mod access_view;
pub mod admin;
pub mod api;
pub mod beat;
pub mod session;
mod throttle;

use http::{header, HeaderValue, Method, Response, StatusCode};

use crate::http::router::GatewayPath;
use crate::http::ResponseBody;
use crate::state::AppState;

/// The page and its assets, served by the gateway itself (no CDN).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_str!("assets/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
];

fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<bytes::Bytes>,
) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::full(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn text(status: StatusCode, body: &'static str) -> Response<ResponseBody> {
    reply(status, "text/plain; charset=utf-8", body)
}

/// The headers of every dashboard and metrics answer: the page may not be
/// framed, nor run anything but its own script, nor have a response
/// sniffed into another type, nor be cached.
fn harden(r: &mut Response<ResponseBody>) {
    let h = r.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The answer of the S3 listener to a gateway path other than the health
/// and readiness probes: the metrics, or 404 (the dashboard lives on the
/// admin listener only).
pub(crate) fn on_s3_listener(
    state: &AppState,
    path: &GatewayPath,
    method: &Method,
) -> Response<ResponseBody> {
    let mut r = if *path != GatewayPath::Metrics {
        text(
            StatusCode::NOT_FOUND,
            "not found (the dashboard is served on the admin listener, --admin-listen)\n",
        )
    } else if method != Method::GET && method != Method::HEAD {
        text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n")
    } else {
        metrics(state)
    };
    harden(&mut r);
    r
}

fn metrics(state: &AppState) -> Response<ResponseBody> {
    match crate::telemetry::prometheus() {
        Some(handle) => {
            let body =
                crate::telemetry::render(handle, &state.telemetry, state.maintenance.gc_stats());
            reply(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                body,
            )
        }
        None => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not recorded\n",
        ),
    }
}

/// The cluster document of the dashboard's API.
async fn cluster(state: &AppState) -> Response<ResponseBody> {
    document(api::cluster(state).await, "cluster status")
}

/// The access keys and grants, for the session of `who`.
async fn access(state: &AppState, who: &session::Viewer) -> Response<ResponseBody> {
    document(access_view::access(state, who).await, "access view")
}

/// A document of the API as JSON, or 503 when the backend did not answer.
fn document<T: serde::Serialize>(
    doc: Result<T, crate::storage::StorageError>,
    what: &'static str,
) -> Response<ResponseBody> {
    match doc {
        Ok(doc) => match serde_json::to_vec(&doc) {
            Ok(json) => reply(StatusCode::OK, "application/json", json),
            Err(e) => {
                tracing::error!(error = %e, "{what} not encoded");
                text(StatusCode::INTERNAL_SERVER_ERROR, "not encoded\n")
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "{what} unavailable");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the storage backend does not answer\n",
            )
        }
    }
}

/// One of the page's files, by its name under
/// [`DASHBOARD_DIR`](crate::http::router::DASHBOARD_DIR).
fn asset(name: &str) -> Response<ResponseBody> {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => reply(StatusCode::OK, content_type, *body),
        None => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}
