//! The reserved `/_s3gw/` paths besides the probes: the Prometheus
//! metrics, and the cluster dashboard with its JSON API. Bucket names
//! cannot start with `_`, so none of these can shadow a bucket. The
//! dashboard and its API name buckets, so they need the admin credentials
//! (HTTP Basic: access key and secret key); the metrics carry no bucket or
//! key names and are open to scrapers.

pub mod api;
pub mod beat;

use base64::Engine;
use http::{header, HeaderValue, Method, Response, StatusCode};
use subtle::ConstantTimeEq;

use crate::http::ResponseBody;
use crate::s3::AppState;

pub const METRICS_PATH: &str = "/_s3gw/metrics";
const DASHBOARD_DIR: &str = "/_s3gw/dashboard/";
const API_PATH: &str = "/_s3gw/api/cluster";

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

/// Whether the request carries the admin credentials as HTTP Basic.
fn is_admin(state: &AppState, headers: &http::HeaderMap) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Some((user, password)) = std::str::from_utf8(&decoded)
        .ok()
        .and_then(|s| s.split_once(':'))
    else {
        return false;
    };
    let user_ok = user.as_bytes().ct_eq(state.root_access_key.as_bytes());
    let password_ok = password
        .as_bytes()
        .ct_eq(state.root_secret_key.expose().as_bytes());
    bool::from(user_ok & password_ok)
}

/// Answers a request for a reserved path, with headers that keep the page
/// from being framed, from running anything but its own script and from
/// having a response sniffed into another type.
pub async fn serve(state: &AppState, parts: &http::request::Parts) -> Response<ResponseBody> {
    let mut r = answer(state, parts).await;
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
    r
}

async fn answer(state: &AppState, parts: &http::request::Parts) -> Response<ResponseBody> {
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n");
    }
    let path = parts.uri.path();
    if path == METRICS_PATH {
        return match crate::telemetry::prometheus() {
            Some(handle) => {
                let body =
                    crate::telemetry::render(handle, &state.telemetry, state.storage.gc_stats());
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
        };
    }
    if path != API_PATH && !path.starts_with(DASHBOARD_DIR) && path != "/_s3gw/dashboard" {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    if !is_admin(state, &parts.headers) {
        let mut r = text(StatusCode::UNAUTHORIZED, "admin credentials needed\n");
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"s3gw\", charset=\"UTF-8\""),
        );
        return r;
    }
    if path == "/_s3gw/dashboard" {
        let mut r = text(StatusCode::PERMANENT_REDIRECT, "");
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static(DASHBOARD_DIR));
        return r;
    }
    if path == API_PATH {
        return match api::cluster(state).await {
            Ok(cluster) => match serde_json::to_vec(&cluster) {
                Ok(json) => reply(StatusCode::OK, "application/json", json),
                Err(e) => {
                    tracing::error!(error = %e, "cluster status not encoded");
                    text(StatusCode::INTERNAL_SERVER_ERROR, "not encoded\n")
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cluster status unavailable");
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the storage backend does not answer\n",
                )
            }
        };
    }
    let name = &path[DASHBOARD_DIR.len()..];
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => reply(StatusCode::OK, content_type, *body),
        None => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}
