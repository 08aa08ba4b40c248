//! SigV2 on the wire (the legacy mode, `--sigv2`): header-signed and
//! presigned requests built here, byte for byte, with a string to sign
//! written out by hand (not s3gw's own canonicalization), against the real
//! server; and the same requests refused when the setting is off.

use crate::common;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use common::*;
use hmac::Mac;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

fn sign(string_to_sign: &str, secret: &str) -> String {
    let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).expect("hmac");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn now_http() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

fn epoch(offset_secs: i64) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    i64::try_from(now).expect("epoch") + offset_secs
}

/// `%XX` for the characters a query value cannot carry as they are.
fn q(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// A request head with `headers` (in order), then the body.
fn raw(method: &str, target: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn auth(sig: &str) -> (&'static str, String) {
    ("authorization", format!("AWS {ACCESS_KEY}:{sig}"))
}

fn host(srv: &TestServer) -> (&'static str, String) {
    ("host", srv.addr.to_string())
}

fn code_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or_else(|| text.to_string(), |(code, _)| code.to_string())
}

async fn send(addr: SocketAddr, req: &[u8]) -> (u16, String, Vec<u8>) {
    raw_request(addr, req).await
}

#[tokio::test]
async fn header_signed_put_with_metadata_then_get() {
    let srv = start().await;
    let b = create_bucket(&srv.client(), "sigv2-put").await;
    let body = b"legacy signed body";
    let md5 =
        base64::engine::general_purpose::STANDARD.encode(<md5::Md5 as md5::Digest>::digest(body));
    let date = now_http();
    let path = format!("/{b}/key%20one");
    let sts = format!(
        "PUT\n{md5}\ntext/plain\n{date}\nx-amz-meta-color:blue\nx-amz-meta-size:big,bigger\n{path}"
    );
    let headers = [
        host(&srv),
        ("date", date.clone()),
        ("content-type", "text/plain".into()),
        ("content-md5", md5.clone()),
        ("x-amz-meta-color", "blue".into()),
        ("X-Amz-Meta-Size", "big".into()),
        ("x-amz-meta-size", "bigger".into()),
        auth(&sign(&sts, SECRET_KEY)),
    ];
    let (status, head, _) = send(srv.addr, &raw("PUT", &path, &headers, body)).await;
    assert_eq!(status, 200, "{head}");

    // Read back with SigV2, and with SigV4.
    let sts = format!("GET\n\n\n{date}\n{path}");
    let (status, head, got) = send(
        srv.addr,
        &raw(
            "GET",
            &path,
            &[
                host(&srv),
                ("date", date.clone()),
                auth(&sign(&sts, SECRET_KEY)),
            ],
            b"",
        ),
    )
    .await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(got, body);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("x-amz-meta-color: blue"), "{head}");
    let h = srv
        .client()
        .head_object()
        .bucket(&b)
        .key("key one")
        .send()
        .await
        .expect("head");
    assert_eq!(h.content_type(), Some("text/plain"));
    let meta = h.metadata().expect("metadata");
    assert_eq!(meta.get("color").map(String::as_str), Some("blue"));
    assert_eq!(meta.get("size").map(String::as_str), Some("big,bigger"));

    // x-amz-date instead of Date: an empty Date line.
    let sts = format!("GET\n\n\n\nx-amz-date:{date}\n{path}");
    let (status, head, _) = send(
        srv.addr,
        &raw(
            "GET",
            &path,
            &[
                host(&srv),
                ("x-amz-date", date.clone()),
                auth(&sign(&sts, SECRET_KEY)),
            ],
            b"",
        ),
    )
    .await;
    assert_eq!(status, 200, "{head}");

    // A virtual-hosted request signs /bucket first.
    let sts = format!("GET\n\n\n{date}\n/{b}/key%20one");
    let (status, head, got) = send(
        srv.addr,
        &raw(
            "GET",
            "/key%20one",
            &[
                ("host", format!("{b}.{DOMAIN}")),
                ("date", date.clone()),
                auth(&sign(&sts, SECRET_KEY)),
            ],
            b"",
        ),
    )
    .await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(got, body);
}

#[tokio::test]
async fn header_signed_refusals() {
    let srv = start().await;
    let b = create_bucket(&srv.client(), "sigv2-refused").await;
    let path = format!("/{b}/refused");
    let date = now_http();
    let put = |date: &str, extra: &[(&'static str, String)], sts_extra: &str, secret: &str| {
        let sts = format!("PUT\n\n\n{date}\n{sts_extra}{path}");
        let mut headers = vec![host(&srv), ("date", date.to_string())];
        headers.extend_from_slice(extra);
        headers.push(auth(&sign(&sts, secret)));
        raw("PUT", &path, &headers, b"data")
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("wrong secret", put(&date, &[], "", "not-the-secret"), 403, "SignatureDoesNotMatch"),
        (
            "unsigned x-amz-* header",
            put(&date, &[("x-amz-meta-a", "1".into())], "", SECRET_KEY),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "date 20 minutes ago",
            put(
                &httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(1200)),
                &[],
                "",
                SECRET_KEY,
            ),
            403,
            "RequestTimeTooSkewed",
        ),
        ("no date", {
            let sts = format!("PUT\n\n\n\n{path}");
            raw("PUT", &path, &[host(&srv), auth(&sign(&sts, SECRET_KEY))], b"data")
        }, 403, "AccessDenied"),
        (
            "unknown access key",
            raw(
                "PUT",
                &path,
                &[
                    host(&srv),
                    ("date", date.clone()),
                    ("authorization", "AWS AKIDUNKNOWN000000000:c2ln".into()),
                ],
                b"data",
            ),
            403,
            "InvalidAccessKeyId",
        ),
        (
            "no colon",
            raw(
                "PUT",
                &path,
                &[host(&srv), ("date", date.clone()), ("authorization", format!("AWS {ACCESS_KEY}"))],
                b"data",
            ),
            400,
            "InvalidArgument",
        ),
        (
            "V2 header and SigV4 query",
            raw(
                "PUT",
                &format!("{path}?X-Amz-Algorithm=AWS4-HMAC-SHA256"),
                &[host(&srv), ("date", date.clone()), auth("c2ln")],
                b"data",
            ),
            400,
            "InvalidArgument",
        ),
        (
            "aws-chunked body",
            put(
                &date,
                &[
                    ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER".into()),
                    ("x-amz-decoded-content-length", "4".into()),
                ],
                "x-amz-content-sha256:STREAMING-UNSIGNED-PAYLOAD-TRAILER\nx-amz-decoded-content-length:4\n",
                SECRET_KEY,
            ),
            400,
            "InvalidRequest",
        ),
        (
            "Content-MD5 of another body",
            {
                let md5 = "XUFAKrxLKna5cZ2REBfFkg==";
                let sts = format!("PUT\n{md5}\n\n{date}\n{path}");
                raw(
                    "PUT",
                    &path,
                    &[host(&srv), ("date", date.clone()), ("content-md5", md5.into()), auth(&sign(&sts, SECRET_KEY))],
                    b"data",
                )
            },
            400,
            "BadDigest",
        ),
        (
            "x-amz-content-sha256 of another body",
            {
                let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"other"));
                put(
                    &date,
                    &[("x-amz-content-sha256", sha.clone())],
                    &format!("x-amz-content-sha256:{sha}\n"),
                    SECRET_KEY,
                )
            },
            400,
            "XAmzContentSHA256Mismatch",
        ),
        (
            "the admin API",
            {
                let sts = format!("GET\n\n\n{date}\n/_s3gw/admin/v1/keys");
                raw(
                    "GET",
                    "/_s3gw/admin/v1/keys",
                    &[host(&srv), ("date", date.clone()), auth(&sign(&sts, SECRET_KEY))],
                    b"",
                )
            },
            400,
            "InvalidRequest",
        ),
    ];
    for (name, req, status, code) in cases {
        let (got, head, body) = send(srv.addr, &req).await;
        assert_eq!(
            (got, code_of(&body).as_str()),
            (status, code),
            "{name}: {head}"
        );
    }
    assert!(
        !exists(&srv.client(), &b, "refused").await,
        "a refused PUT stored its body"
    );
}

#[tokio::test]
async fn presigned_get_expired_and_tampered() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "sigv2-presign").await;
    put(&c, &b, "k", b"presigned data").await;
    let path = format!("/{b}/k");
    let url = |expires: i64, resource: &str, secret: &str| {
        let sts = format!("GET\n\n\n{expires}\n{path}{resource}");
        format!(
            "{path}?AWSAccessKeyId={ACCESS_KEY}&Expires={expires}&Signature={}",
            q(&sign(&sts, secret))
        )
    };
    let get = |target: &str, extra: &[(&'static str, String)]| {
        let mut headers = vec![host(&srv)];
        headers.extend_from_slice(extra);
        raw("GET", target, &headers, b"")
    };

    let (status, head, body) = send(srv.addr, &get(&url(epoch(300), "", SECRET_KEY), &[])).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, b"presigned data");

    // A signed response override.
    let target = format!(
        "{}&response-content-type=text%2Fcsv",
        url(epoch(300), "?response-content-type=text/csv", SECRET_KEY)
    );
    let (status, head, _) = send(srv.addr, &get(&target, &[])).await;
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("content-type: text/csv"),
        "{head}"
    );

    let refusals: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "expired",
            get(&url(epoch(-1), "", SECRET_KEY), &[]),
            403,
            "AccessDenied",
        ),
        (
            "wrong secret",
            get(&url(epoch(300), "", "nope"), &[]),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "added response override",
            get(
                &format!(
                    "{}&response-content-type=text%2Fhtml",
                    url(epoch(300), "", SECRET_KEY)
                ),
                &[],
            ),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "added x-amz-* header",
            get(
                &url(epoch(300), "", SECRET_KEY),
                &[("x-amz-meta-a", "1".into())],
            ),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "added x-amz-* parameter",
            get(
                &format!("{}&x-amz-meta-a=1", url(epoch(300), "", SECRET_KEY)),
                &[],
            ),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "no Expires",
            get(
                &format!("{path}?AWSAccessKeyId={ACCESS_KEY}&Signature=c2ln"),
                &[],
            ),
            403,
            "AccessDenied",
        ),
        (
            "Expires not a number",
            get(
                &format!("{path}?AWSAccessKeyId={ACCESS_KEY}&Expires=soon&Signature=c2ln"),
                &[],
            ),
            403,
            "AccessDenied",
        ),
        (
            "V2 and SigV4 parameters",
            get(
                &format!(
                    "{}&X-Amz-Algorithm=AWS4-HMAC-SHA256",
                    url(epoch(300), "", SECRET_KEY)
                ),
                &[],
            ),
            400,
            "InvalidArgument",
        ),
    ];
    for (name, req, status, code) in refusals {
        let (got, head, body) = send(srv.addr, &req).await;
        assert_eq!(
            (got, code_of(&body).as_str()),
            (status, code),
            "{name}: {head}"
        );
        if name == "expired" {
            assert!(String::from_utf8_lossy(&body).contains("Request has expired"));
        }
    }
}

#[tokio::test]
async fn switched_off_answers_as_an_unsupported_version() {
    let srv = start_with(|c| c.sigv2 = false).await;
    let b = create_bucket(&srv.client(), "sigv2-off").await;
    put(&srv.client(), &b, "k", b"data").await;
    let path = format!("/{b}/k");
    let date = now_http();
    let header = raw(
        "GET",
        &path,
        &[
            host(&srv),
            ("date", date.clone()),
            auth(&sign(&format!("GET\n\n\n{date}\n{path}"), SECRET_KEY)),
        ],
        b"",
    );
    let expires = epoch(300);
    let sig = sign(&format!("GET\n\n\n{expires}\n{path}"), SECRET_KEY);
    let presigned = raw(
        "GET",
        &format!(
            "{path}?AWSAccessKeyId={ACCESS_KEY}&Expires={expires}&Signature={}",
            q(&sig)
        ),
        &[host(&srv)],
        b"",
    );
    for req in [header, presigned] {
        let (status, head, body) = send(srv.addr, &req).await;
        assert_eq!(
            (status, code_of(&body).as_str()),
            (400, "InvalidRequest"),
            "{head}"
        );
        assert!(String::from_utf8_lossy(&body).contains("Signature Version 4"));
    }
}
