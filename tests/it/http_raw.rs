//! The wire edges: anonymous and malformed requests, auth failures,
//! presigned URLs, the health check. Built with raw HTTP where a client
//! library would correct the request.

use crate::common;

use std::time::{Duration, SystemTime};

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use common::*;

fn get(path: &str, extra: &str) -> Vec<u8> {
    get_at("127.0.0.1", path, extra)
}

/// A GET with the Host header a presigned URL was signed for.
fn get_at(host: &str, path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n").into_bytes()
}

#[tokio::test]
async fn health_needs_no_credentials() {
    let srv = start().await;
    let (status, head, body) = raw_request(srv.addr, &get("/_s3gw/health", "")).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, b"ok");
    let (status, head, body) = raw_request(srv.addr, &get("/_s3gw/ready", "")).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, b"ready");
}

#[tokio::test]
async fn anonymous_requests_are_denied_with_an_s3_error() {
    let srv = start().await;
    let (status, head, body) = raw_request(srv.addr, &get("/", "")).await;
    assert_eq!(status, 403);
    assert!(
        head.to_ascii_lowercase().contains("x-amz-request-id:"),
        "{head}"
    );
    let body = String::from_utf8(body).expect("utf8");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("<RequestId>"), "{body}");
    // HEAD errors carry no body.
    let req = b"HEAD /bucket/key HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let (status, _, body) = raw_request(srv.addr, req).await;
    assert_eq!(status, 403);
    assert!(body.is_empty());
}

#[tokio::test]
async fn malformed_requests_get_4xx_and_the_server_survives() {
    let srv = start().await;
    let cases: Vec<Vec<u8>> = vec![
        b"GARBAGE\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 nonsense\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET /b/%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        b"PATCH /b/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        get("/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=bad", ""),
        format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n", "a".repeat(100_000)).into_bytes(),
        b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n".to_vec(),
    ];
    for req in cases {
        let (status, head, _) = raw_request(srv.addr, &req).await;
        let shown = String::from_utf8_lossy(&req[..req.len().min(80)]).into_owned();
        assert!(
            (400..500).contains(&status),
            "{shown:?} gave {status}: {head}"
        );
    }
    let (status, _, _) = raw_request(srv.addr, &get("/_s3gw/health", "")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn wrong_secret_and_unknown_key() {
    let srv = start().await;
    let e = srv
        .client_with_secret(ACCESS_KEY, "wrong-secret")
        .list_buckets()
        .send()
        .await
        .expect_err("bad sig");
    assert_eq!(e.into_service_error().code(), Some("SignatureDoesNotMatch"));
    let e = srv
        .client_with_secret("NOSUCHKEY", SECRET_KEY)
        .list_buckets()
        .send()
        .await
        .expect_err("bad key");
    assert_eq!(e.into_service_error().code(), Some("InvalidAccessKeyId"));
}

#[tokio::test]
async fn presigned_get_and_put() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_name("presign");
    c.create_bucket().bucket(&b).send().await.expect("create");
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"secret data"))
        .send()
        .await
        .expect("put");

    let req = c
        .get_object()
        .bucket(&b)
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg"))
        .await
        .expect("presign");
    let host = srv.addr.to_string();
    let uri: http::Uri = req.uri().parse().expect("uri");
    let (status, head, body) = raw_request(
        srv.addr,
        &get_at(&host, uri.path_and_query().expect("pq").as_str(), ""),
    )
    .await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, b"secret data");

    // Tampering with the path breaks the signature.
    let tampered = uri
        .path_and_query()
        .expect("pq")
        .as_str()
        .replacen("/k?", "/k2?", 1);
    let (status, _, body) = raw_request(srv.addr, &get_at(&host, &tampered, "")).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("SignatureDoesNotMatch"));

    // Expired.
    let cfg = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .expect("cfg");
    let req = c
        .get_object()
        .bucket(&b)
        .key("k")
        .presigned(cfg)
        .await
        .expect("presign");
    let uri: http::Uri = req.uri().parse().expect("uri");
    let (status, _, body) = raw_request(
        srv.addr,
        &get_at(&host, uri.path_and_query().expect("pq").as_str(), ""),
    )
    .await;
    assert_eq!(status, 403);
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("AccessDenied") && body.contains("expired"),
        "{body}"
    );

    // Presigned PUT.
    let req = c
        .put_object()
        .bucket(&b)
        .key("up")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg"))
        .await
        .expect("presign put");
    let uri: http::Uri = req.uri().parse().expect("uri");
    let mut extra = String::new();
    for (name, value) in req.headers() {
        extra.push_str(&format!("{name}: {value}\r\n"));
    }
    let raw = format!(
        "PUT {} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nConnection: close\r\n{extra}\r\nhello",
        uri.path_and_query().expect("pq")
    );
    let (status, head, _) = raw_request(srv.addr, raw.as_bytes()).await;
    assert_eq!(status, 200, "{head}");
    let got = c
        .get_object()
        .bucket(&b)
        .key("up")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"hello"
    );
}

#[tokio::test]
async fn expect_continue_answered_without_reading_a_body_closes_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = start().await;
    // Unauthenticated, so the answer (403) comes before any body is read.
    let req = b"PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n";
    let mut s = tokio::net::TcpStream::connect(srv.addr)
        .await
        .expect("connect");
    s.write_all(req).await.expect("write");
    let mut buf = Vec::new();
    // Without `Connection: close` the server would keep the socket open and
    // this read would only end at the timeout.
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "connection left open");
    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 403"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
}

#[tokio::test]
async fn a_body_that_stalls_gets_request_timeout_and_stores_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = start_with(|c| c.body_idle_timeout_secs = 1).await;
    let c = srv.client();
    let b = bucket_name("stall");
    c.create_bucket().bucket(&b).send().await.expect("create");
    let req = c
        .put_object()
        .bucket(&b)
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg"))
        .await
        .expect("presign");
    let uri: http::Uri = req.uri().parse().expect("uri");
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nContent-Length: 100\r\n\r\n0123456789",
        uri.path_and_query().expect("pq"),
        srv.addr
    );
    let mut s = tokio::net::TcpStream::connect(srv.addr)
        .await
        .expect("connect");
    s.write_all(head.as_bytes()).await.expect("write");
    // Send nothing more; the gateway must answer on its own.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "no answer to a stalled body");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("<Code>RequestTimeout</Code>"), "{text}");
    let e = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("nothing stored");
    assert!(e.into_service_error().is_not_found());
}

/// Reads from `s` until `until` appears (or 5 s pass); what was read.
async fn read_until(s: &mut tokio::net::TcpStream, until: &str) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&got).contains(until) {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// An UploadPart to an upload that does not exist is answered before its
/// body arrives; the gateway reads the small rest of the body and keeps
/// the connection, so the client's next request on it is served. (Without
/// the drain the connection closed after the answer, and a client behind
/// Nginx, which had kept its own connection open, saw its next request
/// fail: the real-client suite's test_abort_then_upload_part over HTTPS.)
#[tokio::test]
async fn an_early_answer_keeps_the_connection_for_the_next_request() {
    use tokio::io::AsyncWriteExt;
    let srv = start().await;
    let b = create_bucket(&srv.client(), "early").await;
    let path = format!("/{b}/k");
    let query = format!("partNumber=1&uploadId={}", "0".repeat(32));
    let body = [b'x'; 100];
    let mut req = RawSigned::new("PUT", &path).body(&body);
    req.query = &query;
    // build() asks the server to close; this test needs keep-alive.
    let built = req.build(srv.addr);
    let text = String::from_utf8_lossy(&built).replacen("connection: close\r\n", "", 1);
    let bytes = text.into_bytes();
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let mut s = tokio::net::TcpStream::connect(srv.addr)
        .await
        .expect("connect");
    s.write_all(&bytes[..split]).await.expect("head");
    // The body follows a little later, as through a proxy that streams it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.write_all(&bytes[split..]).await.expect("body");
    let answer = read_until(&mut s, "</Error>").await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("<Code>NoSuchUpload</Code>"), "{answer}");
    let next = format!("GET /_s3gw/health HTTP/1.1\r\nHost: {}\r\n\r\n", srv.addr);
    s.write_all(next.as_bytes()).await.expect("next request");
    let answer = read_until(&mut s, "ok").await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "next request: {answer:?}"
    );
}
