//! One HTTP/1.1 request to the gateway, over TCP or TLS, one connection per
//! request, within [`REQUEST_TIMEOUT`].
//!
//! Owns the endpoint URL ([`Endpoint`]), connecting, the TLS client setup
//! (rustls with ring and the system's root certificates, which
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` replace) and reading the answer with a
//! size cap. Knows nothing of signing or of the admin API's paths.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::handshake;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::cli::error::{
    AdminError, CONNECTION_REFUSED, INVALID_ENDPOINT, INVALID_RESPONSE, TIMEOUT, TLS_ERROR,
    UNREACHABLE,
};

/// How long one request may take, connecting included.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest answer we read (a key list of many thousands of keys fits).
const MAX_ANSWER: usize = 16 << 20;

/// A parsed `--endpoint`: `http(s)://host[:port]`, nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The URL as given, without a trailing slash, for messages.
    pub(crate) url: String,
    /// `https://`.
    pub(crate) https: bool,
    /// Host name or IP address to connect to (IPv6 without brackets).
    pub(crate) host: String,
    /// Port, 80 or 443 unless given.
    pub(crate) port: u16,
    /// `host[:port]` as given: the `Host` header, which is signed.
    pub(crate) authority: String,
}

impl Endpoint {
    /// Parses an endpoint URL; the error names the form expected.
    pub(crate) fn parse(raw: &str) -> Result<Self, AdminError> {
        let bad = |why: &str| {
            AdminError::local(
                INVALID_ENDPOINT,
                format!(
                    "endpoint {raw:?} {why}: write it as http://HOST:PORT or https://HOST[:PORT]"
                ),
            )
        };
        let uri: http::Uri = raw.trim().parse().map_err(|_| bad("is not a URL"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            Some(_) => return Err(bad("has a scheme other than http and https")),
            None => return Err(bad("has no scheme")),
        };
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("holds user information"));
        }
        if !matches!(
            uri.path_and_query().map(|p| p.as_str()),
            None | Some("" | "/")
        ) {
            return Err(bad("has a path"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        Ok(Self {
            url: raw.trim().trim_end_matches('/').to_owned(),
            https,
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            authority: authority.as_str().to_owned(),
        })
    }
}

/// An answer: its status and its whole body.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The body, at most [`MAX_ANSWER`] bytes.
    pub(crate) body: Bytes,
}

/// Sends requests to one endpoint.
#[derive(Clone)]
pub(crate) struct Transport {
    endpoint: Endpoint,
    /// Present for `https://` endpoints.
    tls: Option<TlsConnector>,
}

impl Transport {
    /// A transport for `endpoint`; for https, loads the root certificates.
    pub(crate) fn new(endpoint: Endpoint) -> Result<Self, AdminError> {
        let tls = if endpoint.https {
            Some(tls_connector()?)
        } else {
            None
        };
        Ok(Self { endpoint, tls })
    }

    /// The endpoint requests go to.
    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends `req` on a new connection and reads the whole answer.
    pub(crate) async fn send(&self, req: Request<Full<Bytes>>) -> Result<Reply, AdminError> {
        let url = &self.endpoint.url;
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(req)).await {
            Ok(reply) => reply,
            Err(_) => Err(AdminError::local(
                TIMEOUT,
                format!(
                    "no answer from {url} within {} s: is the gateway overloaded, or the address wrong?",
                    REQUEST_TIMEOUT.as_secs()
                ),
            )),
        }
    }

    async fn exchange(&self, req: Request<Full<Bytes>>) -> Result<Reply, AdminError> {
        let ep = &self.endpoint;
        let tcp = TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .map_err(|e| connect_error(&ep.url, &e))?;
        // Latency only; a socket that refuses the option still works.
        let _ = tcp.set_nodelay(true);
        let Some(tls) = &self.tls else {
            return roundtrip(TokioIo::new(tcp), req, &ep.url).await;
        };
        let name = ServerName::try_from(ep.host.clone()).map_err(|e| {
            AdminError::local(
                INVALID_ENDPOINT,
                format!("{}: not a TLS server name: {e}", ep.url),
            )
        })?;
        let stream = tls.connect(name, tcp).await.map_err(|e| {
            AdminError::local(
                TLS_ERROR,
                format!(
                    "TLS with {} failed ({e}): if the gateway serves plain http, use http://; \
                     if its certificate is self-signed, set SSL_CERT_FILE to its CA",
                    ep.url
                ),
            )
        })?;
        roundtrip(TokioIo::new(stream), req, &ep.url).await
    }
}

/// The connect failure, worded for the user.
fn connect_error(url: &str, e: &std::io::Error) -> AdminError {
    if e.kind() == std::io::ErrorKind::ConnectionRefused {
        return AdminError::local(
            CONNECTION_REFUSED,
            format!("cannot reach {url}: is the gateway running?"),
        );
    }
    AdminError::local(
        UNREACHABLE,
        format!("cannot reach {url} ({e}): is the gateway running, and is the address right?"),
    )
}

/// One request and its whole answer on a fresh connection `io`.
async fn roundtrip<I>(io: I, req: Request<Full<Bytes>>, url: &str) -> Result<Reply, AdminError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let broken = |e: &dyn std::fmt::Display| {
        AdminError::local(
            INVALID_RESPONSE,
            format!("the connection to {url} failed ({e}): is it the gateway's S3 listener?"),
        )
    };
    let (mut sender, conn) = handshake(io).await.map_err(|e| broken(&e))?;
    // Drives the connection; it ends when the answer is read and the
    // sender dropped.
    let driver = tokio::spawn(conn);
    let answer = sender.send_request(req).await.map_err(|e| broken(&e))?;
    let status = answer.status();
    let body = Limited::new(answer.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| broken(&e))?
        .to_bytes();
    drop(sender);
    driver.abort();
    Ok(Reply { status, body })
}

/// The TLS client: TLS 1.2 and 1.3 with ring, trusting the system's roots.
fn tls_connector() -> Result<TlsConnector, AdminError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(AdminError::local(
            TLS_ERROR,
            "no trusted root certificates on this machine: install the ca-certificates \
             package, or set SSL_CERT_FILE to a PEM file holding the gateway's CA"
                .to_owned(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AdminError::local(TLS_ERROR, format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
#[path = "transport_tests.rs"]
mod tests;
