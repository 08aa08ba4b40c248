//! The admin listener (`--admin-listen`): the dashboard's own origin. It
//! serves the page, its API, the login and the probes and metrics, and
//! never a bucket or an object.
//!
//! - `GET /_s3gw/dashboard/` and its two files: public (they hold no data).
//! - `GET /_s3gw/api/cluster` ([`super::api`]) and `GET /_s3gw/api/access`
//!   ([`super::access_view`]): only with a valid session, else 401.
//! - `POST /_s3gw/login` (form fields `access_key`, `secret_key`: the root
//!   pair, or a stored key whose `admin` flag is set): 204 and the session
//!   cookie ([`super::session`]) for that key; 401 "wrong access key or
//!   secret" when the pair is wrong, the key unknown or not an admin (all
//!   alike, and all counted by the throttle); 429 with `Retry-After` while
//!   the client address is throttled ([`super::throttle`]); 403 for a
//!   cross-site request.
//! - `POST /_s3gw/logout`: 204 and a cookie that deletes the session one.
//! - `/_s3gw/health`, `/_s3gw/ready`, `/_s3gw/metrics` as on the S3 port.
//!
//! A session is valid while its token is genuine and unexpired and its key
//! is still the root pair's or a stored admin key in the key cache
//! (`state.keys`), checked on every API request: deleting or demoting a
//! key ends its sessions on every gateway within
//! `access::cache::CHANGE_BOUND`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use subtle::ConstantTimeEq;

use super::session::{self, Sessions, Viewer};
use super::throttle::Throttle;
use super::{access, asset, cluster, harden, metrics, reply, text};
use crate::http::router::{GatewayPath, DASHBOARD_DIR};
use crate::http::ResponseBody;
use crate::state::AppState;

/// Largest login form accepted.
pub(crate) const MAX_LOGIN_BYTES: usize = 4096;
/// How long a client may take to send its login form.
const LOGIN_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A request body the admin listener can read (hyper's, or a test's).
pub(crate) trait RequestBody:
    http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send
{
}

impl<B> RequestBody for B where
    B: http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send
{
}

/// What the admin listener shares between its requests.
pub(crate) struct Admin {
    state: Arc<AppState>,
    sessions: Sessions,
    throttle: Throttle,
}

impl Admin {
    pub(crate) fn new(state: Arc<AppState>) -> Arc<Self> {
        let sessions = Sessions::new(&state.root_secret_key);
        Arc::new(Admin {
            state,
            sessions,
            throttle: Throttle::default(),
        })
    }

    /// Who the request's session is for: its token genuine and fresh,
    /// and its key still the root pair's or a stored admin key.
    async fn session(&self, headers: &HeaderMap) -> Option<Viewer> {
        let token = session::read_cookie(headers, session::cookie_name(headers))?;
        let key_id = self.sessions.open(token, unix_now())?;
        if key_id == self.state.root_access_key {
            return Some(Viewer::Root);
        }
        let key = self.state.keys.lookup(&key_id).await?;
        key.admin.then_some(Viewer::Key(key))
    }

    /// Who may log in with `access_key` and `secret_key`: the root pair,
    /// or a stored admin key with its secret (compared in constant time).
    async fn login_as(&self, access_key: &[u8], secret_key: &[u8]) -> Option<Viewer> {
        let access_ok = access_key.ct_eq(self.state.root_access_key.as_bytes());
        let secret_ok = secret_key.ct_eq(self.state.root_secret_key.expose().as_bytes());
        if bool::from(access_ok & secret_ok) {
            return Some(Viewer::Root);
        }
        // Longer ids cannot be stored keys, nor held by a session: they
        // cost no lookup.
        if access_key.len() > session::MAX_KEY_ID_BYTES || bool::from(access_ok) {
            return None;
        }
        let key = self
            .state
            .keys
            .lookup(std::str::from_utf8(access_key).ok()?)
            .await?;
        let secret_ok = bool::from(secret_key.ct_eq(key.secret.expose().as_bytes()));
        (secret_ok && key.admin).then_some(Viewer::Key(key))
    }
}

fn unix_now() -> u64 {
    u64::try_from(crate::storage::now_ms().div_euclid(1000)).unwrap_or(0)
}

/// Serves one request of the admin listener from the client at `peer`.
pub(crate) async fn handle<B: RequestBody>(
    admin: Arc<Admin>,
    req: Request<B>,
    peer: SocketAddr,
) -> Response<ResponseBody> {
    let (mut parts, body) = req.into_parts();
    crate::http::head::host_from_target(&mut parts);
    let mut r = if crate::http::head::is_oversized(&parts) {
        text(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "")
    } else {
        answer(&admin, &parts, body, peer).await
    };
    harden(&mut r);
    r
}

async fn answer<B: RequestBody>(
    admin: &Admin,
    parts: &http::request::Parts,
    body: B,
    peer: SocketAddr,
) -> Response<ResponseBody> {
    let path = match parts.uri.path() {
        "/" => None,
        p => Some(GatewayPath::parse(p).unwrap_or(GatewayPath::Unknown)),
    };
    if let Some(GatewayPath::Login | GatewayPath::Logout) = path {
        if parts.method != Method::POST {
            return text(StatusCode::METHOD_NOT_ALLOWED, "only POST\n");
        }
        if is_cross_site(&parts.headers) {
            return json(StatusCode::FORBIDDEN, "cross-site request refused");
        }
        return if path == Some(GatewayPath::Login) {
            login(admin, &parts.headers, body, peer).await
        } else {
            session_cookie(StatusCode::NO_CONTENT, &parts.headers, None)
        };
    }
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n");
    }
    match path {
        None => redirect(StatusCode::SEE_OTHER),
        Some(GatewayPath::Dashboard) => redirect(StatusCode::PERMANENT_REDIRECT),
        Some(GatewayPath::Health) => text(StatusCode::OK, "ok"),
        Some(GatewayPath::Ready) => match admin.state.storage.ready().await {
            Ok(()) => text(StatusCode::OK, "ready"),
            Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "not ready"),
        },
        Some(GatewayPath::Metrics) => metrics(&admin.state),
        Some(api @ (GatewayPath::ClusterApi | GatewayPath::AccessApi)) => {
            match admin.session(&parts.headers).await {
                None => json(StatusCode::UNAUTHORIZED, "login needed"),
                Some(_) if api == GatewayPath::ClusterApi => cluster(&admin.state).await,
                Some(who) => access(&admin.state, &who).await,
            }
        }
        Some(GatewayPath::Asset(name)) => asset(&name),
        Some(
            GatewayPath::Login | GatewayPath::Logout | GatewayPath::Admin(_) | GatewayPath::Unknown,
        ) => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn redirect(status: StatusCode) -> Response<ResponseBody> {
    let mut r = text(status, "");
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(DASHBOARD_DIR));
    r
}

/// `{"error": message}`.
fn json(status: StatusCode, message: &str) -> Response<ResponseBody> {
    let body = serde_json::json!({ "error": message }).to_string();
    reply(status, "application/json", body)
}

/// Whether a browser says the request comes from another origin. Browsers
/// send `Origin` on every POST and `Sec-Fetch-Site` on every request;
/// other clients send neither and are not cross-site. The session cookie
/// is `SameSite=Strict` already; this also refuses a login forced on the
/// browser by another site (login CSRF) and a same-site sibling (a bucket
/// host under the same domain).
fn is_cross_site(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).map(|v| v.to_str().unwrap_or(""));
    if let Some(site) = header("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return true;
        }
    }
    match header(header::ORIGIN.as_str()) {
        None => false,
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, host)| host);
            let host = header(header::HOST.as_str());
            match (origin_host, host) {
                (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
                _ => true,
            }
        }
    }
}

async fn login<B: RequestBody>(
    admin: &Admin,
    headers: &HeaderMap,
    body: B,
    peer: SocketAddr,
) -> Response<ResponseBody> {
    if let Some(wait) = admin.throttle.wait(peer.ip(), Instant::now()) {
        let mut r = json(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins; retry later",
        );
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return json(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send application/x-www-form-urlencoded",
        );
    }
    let body = match read_form(body).await {
        Ok(body) => body,
        Err(r) => return r,
    };
    let field = |name: &[u8]| {
        crate::http::query::decode_pairs(&body)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_default()
    };
    let Some(who) = admin
        .login_as(&field(b"access_key"), &field(b"secret_key"))
        .await
    else {
        admin.throttle.failed(peer.ip(), Instant::now());
        // Never the access key sent: it may be a secret typed in the
        // wrong field.
        tracing::warn!(client = %peer.ip(), "dashboard login failed");
        return json(StatusCode::UNAUTHORIZED, "wrong access key or secret");
    };
    admin.throttle.succeeded(peer.ip());
    let key_id = match &who {
        Viewer::Root => admin.state.root_access_key.as_str(),
        Viewer::Key(k) => k.id.as_str(),
    };
    let Some(token) = admin.sessions.mint(key_id, unix_now()) else {
        return json(
            StatusCode::BAD_REQUEST,
            "this access key id is too long for a dashboard session",
        );
    };
    match &who {
        Viewer::Root => tracing::info!(client = %peer.ip(), by = "root", "dashboard login"),
        Viewer::Key(k) => tracing::info!(client = %peer.ip(), by = %k.id, "dashboard login"),
    }
    session_cookie(StatusCode::NO_CONTENT, headers, Some(&token))
}

/// The login form's body as text: at most [`MAX_LOGIN_BYTES`], within
/// [`LOGIN_BODY_TIMEOUT`].
async fn read_form<B: RequestBody>(body: B) -> Result<String, Response<ResponseBody>> {
    let limited = http_body_util::Limited::new(body, MAX_LOGIN_BYTES);
    let collected = tokio::time::timeout(LOGIN_BODY_TIMEOUT, limited.collect()).await;
    let bytes = match collected {
        Err(_) => {
            return Err(json(
                StatusCode::REQUEST_TIMEOUT,
                "the form came too slowly",
            ))
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(json(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large"))
        }
        Ok(Err(_)) => return Err(json(StatusCode::BAD_REQUEST, "the form was cut off")),
        Ok(Ok(c)) => c.to_bytes(),
    };
    String::from_utf8(bytes.to_vec())
        .map_err(|_| json(StatusCode::BAD_REQUEST, "the form is not UTF-8"))
}

/// An empty answer that sets the session cookie to `token`, or deletes it.
fn session_cookie(
    status: StatusCode,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::Empty);
    *r.status_mut() = status;
    let cookie = session::set_cookie(session::cookie_name(headers), token);
    match HeaderValue::from_str(&cookie) {
        Ok(v) => {
            r.headers_mut().insert(header::SET_COOKIE, v);
            r
        }
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "cookie not encoded\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.insert(*n, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_requests_are_told_apart() {
        let same = [
            headers(&[]),
            headers(&[
                ("host", "admin.example:8081"),
                ("origin", "http://admin.example:8081"),
            ]),
            headers(&[
                ("host", "admin.example"),
                ("origin", "https://ADMIN.example"),
            ]),
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[("sec-fetch-site", "none")]),
        ];
        for h in &same {
            assert!(!is_cross_site(h), "{h:?}");
        }
        let cross = [
            headers(&[
                ("host", "admin.example"),
                ("origin", "http://bucket.example"),
            ]),
            headers(&[
                ("host", "admin.example:8081"),
                ("origin", "http://admin.example:8080"),
            ]),
            headers(&[("host", "admin.example"), ("origin", "null")]),
            headers(&[("origin", "http://admin.example")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("sec-fetch-site", "cross-site")]),
        ];
        for h in &cross {
            assert!(is_cross_site(h), "{h:?}");
        }
    }
}
