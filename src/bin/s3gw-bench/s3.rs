//! A lean S3 client for load: one HTTP/1.1 connection per worker, SigV4
//! signed with the gateway's own signing primitives (a peer server that
//! verifies independently cross-checks them), bodies streamed from shared
//! buffers, responses checked as they stream in (never buffered whole).

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http1::{handshake, SendRequest};
use hyper_util::rt::TokioIo;
use s3gw::auth::sigv4::{
    canonical_query, canonical_request, format_amz_date, scope, sign, signing_key, string_to_sign,
    uri_encode,
};
use s3gw::auth::SecretKey;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

/// How a PUT's payload is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// `x-amz-content-sha256` carries the body's SHA-256 (the server
    /// hashes every byte to check it).
    Signed,
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
}

/// Where and as whom requests go.
#[derive(Clone)]
pub struct Endpoint {
    /// `host:port`.
    pub addr: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

/// A body to send: a slice of a shared buffer, with its SHA-256 when the
/// payload is signed.
#[derive(Clone)]
pub struct Body {
    pub data: Bytes,
    pub sha256: Option<String>,
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Frames a body is sent in.
const FRAME: usize = 256 * 1024;

pub type Error = String;

/// One keep-alive connection, re-opened after an error.
pub struct Conn {
    ep: Endpoint,
    sender: Option<SendRequest<BoxBody<Bytes, Infallible>>>,
}

/// What a response told.
pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Incoming,
}

impl Conn {
    pub fn new(ep: &Endpoint) -> Conn {
        Conn {
            ep: ep.clone(),
            sender: None,
        }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<BoxBody<Bytes, Infallible>>, Error> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let tcp = TcpStream::connect(&self.ep.addr)
                .await
                .map_err(|e| format!("connect {}: {e}", self.ep.addr))?;
            tcp.set_nodelay(true).map_err(|e| e.to_string())?;
            let (sender, conn) = handshake(TokioIo::new(tcp))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| "no connection".to_string())
    }

    /// Sends one signed request; `path` is already URI-encoded, `query`
    /// raw (`k=v&…`, values encoded).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Body>,
        extra: &[(&str, String)],
    ) -> Result<Reply, Error> {
        let payload_hash = match body {
            None => EMPTY_SHA256.to_owned(),
            Some(b) => b
                .sha256
                .clone()
                .unwrap_or_else(|| "UNSIGNED-PAYLOAD".to_owned()),
        };
        let now = time::OffsetDateTime::now_utc();
        let amz_date = format_amz_date(now);
        let date = &amz_date[..8];
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.ep.addr.clone()),
            ("x-amz-content-sha256".into(), payload_hash.clone()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        for (k, v) in extra {
            headers.push((k.to_ascii_lowercase(), v.clone()));
        }
        headers.sort();
        let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        let signed = signed.join(";");
        let canonical_headers: String = headers
            .iter()
            .map(|(k, v)| format!("{k}:{}\n", v.trim()))
            .collect();
        let creq = canonical_request(
            method.as_str(),
            path,
            &canonical_query(query),
            &canonical_headers,
            &signed,
            &payload_hash,
        );
        let scope = scope(date, &self.ep.region);
        let secret = SecretKey::new(self.ep.secret_key.clone());
        let key = signing_key(&secret, date, &self.ep.region);
        let signature = sign(&key, &string_to_sign(&amz_date, &scope, &creq));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            self.ep.access_key
        );
        let uri = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req = req.header("authorization", auth);
        let body = match body {
            None => Empty::<Bytes>::new().boxed(),
            Some(b) => {
                req = req.header("content-length", b.data.len());
                let data = b.data.clone();
                let frames = (0..data.len().div_ceil(FRAME)).map(move |i| {
                    let end = ((i + 1) * FRAME).min(data.len());
                    Ok::<_, Infallible>(Frame::data(data.slice(i * FRAME..end)))
                });
                StreamBody::new(futures_util::stream::iter(frames)).boxed()
            }
        };
        let req = req.body(body).map_err(|e| e.to_string())?;
        let sender = self.sender().await?;
        sender.ready().await.map_err(|e| e.to_string())?;
        match sender.send_request(req).await {
            Ok(resp) => {
                let (parts, body) = resp.into_parts();
                Ok(Reply {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                })
            }
            Err(e) => {
                self.sender = None;
                Err(format!("request: {e}"))
            }
        }
    }
}

impl Conn {
    /// `send`, then an error unless the status is 2xx (`what` names the
    /// request in the error).
    pub async fn call(
        &mut self,
        what: &str,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Body>,
    ) -> Result<Reply, Error> {
        self.send(method, path, query, body, &[])
            .await?
            .ok(what)
            .await
    }

    /// `call`, reading the (small) body as text.
    pub async fn call_text(
        &mut self,
        what: &str,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Body>,
    ) -> Result<String, Error> {
        self.call(what, method, path, query, body)
            .await?
            .text()
            .await
    }
}

impl Reply {
    /// Reads the whole (small) body.
    pub async fn text(self) -> Result<String, Error> {
        let bytes = self
            .body
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// An error unless the status is 2xx (with the body's text).
    pub async fn ok(self, what: &str) -> Result<Reply, Error> {
        if self.status.is_success() {
            return Ok(self);
        }
        let status = self.status;
        let text = self.text().await.unwrap_or_default();
        Err(format!("{what}: {status}: {}", text.trim()))
    }

    /// Streams the body and checks it equals `want`, without keeping it.
    pub async fn expect_body(mut self, want: &[u8]) -> Result<u64, Error> {
        let mut at = 0usize;
        while let Some(frame) = self.body.frame().await {
            let frame = frame.map_err(|e| format!("body: {e}"))?;
            if let Ok(data) = frame.into_data() {
                let end = at + data.len();
                if end > want.len() || want[at..end] != data[..] {
                    return Err(format!("body differs from what was put, at byte {at}"));
                }
                at = end;
            }
        }
        if at != want.len() {
            return Err(format!("body has {at} bytes, want {}", want.len()));
        }
        Ok(at as u64)
    }

    /// Reads and drops the body.
    pub async fn drain(mut self) -> Result<(), Error> {
        while let Some(frame) = self.body.frame().await {
            frame.map_err(|e| format!("body: {e}"))?;
        }
        Ok(())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `/bucket/key`, encoded for the request line and the canonical request.
pub fn object_path(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", uri_encode(key, false))
}

/// A body over `data`, hashed now when the payload is signed.
pub fn body(data: Bytes, payload: Payload) -> Body {
    let sha256 = match payload {
        Payload::Signed => Some(hex::encode(Sha256::digest(&data))),
        Payload::Unsigned => None,
    };
    Body { data, sha256 }
}

/// Creates `bucket` if it is missing.
pub async fn ensure_bucket(ep: &Endpoint, bucket: &str) -> Result<(), Error> {
    let mut c = Conn::new(ep);
    let r = c
        .send(Method::PUT, &format!("/{bucket}"), "", None, &[])
        .await?;
    let status = r.status;
    let text = r.text().await?;
    if status.is_success() || text.contains("BucketAlreadyOwnedByYou") {
        Ok(())
    } else {
        Err(format!("create bucket {bucket}: {status}: {}", text.trim()))
    }
}

/// Waits until the endpoint accepts TCP connections.
pub async fn wait_up(ep: &Endpoint, within: Duration) -> Result<(), Error> {
    let until = std::time::Instant::now() + within;
    loop {
        match TcpStream::connect(&ep.addr).await {
            Ok(_) => return Ok(()),
            Err(e) if std::time::Instant::now() > until => {
                return Err(format!("{} does not answer: {e}", ep.addr))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
