//! Objects at the edges where S3's answers are exact: `partNumber` of a
//! missing key or part, an expired presigned PUT, a key that is not UTF-8,
//! Content-Encoding lists, checksums that do not match or do not parse.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use common::*;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn part_number_of_a_missing_key_or_part() {
    let f = Fixture::new("partno").await;
    f.put("one", ByteStream::from_static(b"abc")).await;
    let get = |key: &str, n: i32| f.c.get_object().bucket(&f.b).key(key).part_number(n);
    // A missing key is 404 NoSuchKey, whatever the part.
    for n in [1, 2, 10_000] {
        let e = get("missing", n).send().await.expect_err("missing key");
        assert_eq!(status_of(&e), Some(404), "part {n}");
        assert_eq!(code(&e.into_service_error()), "NoSuchKey", "part {n}");
        let e =
            f.c.head_object()
                .bucket(&f.b)
                .key("missing")
                .part_number(n)
                .send()
                .await
                .expect_err("head of a missing key");
        assert_eq!(status_of(&e), Some(404), "head part {n}");
    }
    // A part beyond the object's parts: 416 InvalidPartNumber.
    let e = get("one", 2).send().await.expect_err("no part 2");
    assert_eq!(status_of(&e), Some(416));
    assert_eq!(
        code_and_message(&e),
        (
            "InvalidPartNumber".to_owned(),
            "The requested partnumber is not satisfiable".to_owned()
        )
    );
    let e =
        f.c.head_object()
            .bucket(&f.b)
            .key("one")
            .part_number(3)
            .send()
            .await
            .expect_err("head of no part 3");
    assert_eq!(status_of(&e), Some(416));
}

#[tokio::test]
async fn expired_presigned_put_is_refused_and_stores_nothing() {
    use aws_sdk_s3::presigning::PresigningConfig;
    use std::time::{Duration, SystemTime};
    let f = Fixture::new("preexp").await;
    f.put("kept", ByteStream::from_static(b"old")).await;
    let expired = || {
        PresigningConfig::builder()
            .start_time(SystemTime::now() - Duration::from_secs(3600))
            .expires_in(Duration::from_secs(60))
            .build()
            .expect("cfg")
    };
    for key in ["kept", "new"] {
        let req =
            f.c.put_object()
                .bucket(&f.b)
                .key(key)
                .presigned(expired())
                .await
                .expect("presign put");
        let mut extra = String::new();
        for (name, value) in req.headers() {
            extra.push_str(&format!("{name}: {value}\r\n"));
        }
        let raw = format!(
            "PUT {} HTTP/1.1\r\nHost: {}\r\nContent-Length: 5\r\nConnection: close\r\n{extra}\r\nhello",
            path_and_query(&req),
            f.srv.addr
        );
        let (status, head, body) = raw_request(f.srv.addr, raw.as_bytes()).await;
        assert_eq!(status, 403, "{key}: {head}");
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("<Code>AccessDenied</Code>")
                && body.contains("<Message>Request has expired</Message>"),
            "{key}: {body}"
        );
    }
    assert_eq!(f.get("kept").await, b"old");
    assert_absent(&f.c, &f.b, "new").await;
}

#[tokio::test]
async fn key_that_is_not_utf8_is_invalid_uri() {
    let f = Fixture::new("notutf8").await;
    for key in ["a%FFb", "%C3%28", "%C0%AF", "ok/%ED%A0%80"] {
        let path = format!("/{}/{key}", f.b);
        for (method, body) in [("PUT", &b"x"[..]), ("GET", b""), ("DELETE", b"")] {
            let req = RawSigned::new(method, &path).body(body).build(f.srv.addr);
            let (status, head, body) = raw_request(f.srv.addr, &req).await;
            let body = String::from_utf8_lossy(&body);
            assert_eq!(status, 400, "{method} {key}: {head}");
            assert!(
                body.contains("<Code>InvalidURI</Code>")
                    && (body.contains("<Message>Couldn&apos;t parse the specified URI.</Message>")
                        || body.contains("<Message>Couldn't parse the specified URI.</Message>")),
                "{method} {key}: {body}"
            );
        }
    }
    let list =
        f.c.list_objects_v2()
            .bucket(&f.b)
            .send()
            .await
            .expect("list");
    assert_eq!(list.key_count(), Some(0));
}

#[tokio::test]
async fn content_encoding_keeps_the_clients_spelling() {
    let f = Fixture::new("encoding").await;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("body");
    std::fs::write(&path, b"compressed, say").expect("write");
    for spelling in ["deflate, gzip", "gzip,br", "Identity"] {
        // In memory: the header as given.
        let k = format!("mem {spelling}");
        f.c.put_object()
            .bucket(&f.b)
            .key(&k)
            .content_encoding(spelling)
            .body(ByteStream::from_static(b"compressed, say"))
            .send()
            .await
            .expect("put");
        assert_eq!(f.head(&k).await.content_encoding(), Some(spelling), "{k}");
        // From a file: an aws-chunked body, whose Content-Encoding carries
        // the `aws-chunked` token too; only that token goes.
        let k = format!("file {spelling}");
        f.c.put_object()
            .bucket(&f.b)
            .key(&k)
            .content_encoding(spelling)
            .body(ByteStream::from_path(&path).await.expect("stream"))
            .send()
            .await
            .expect("put");
        assert_eq!(f.head(&k).await.content_encoding(), Some(spelling), "{k}");
    }
    // A raw request that spells the list its own way.
    let path = format!("/{}/raw", f.b);
    let mut req = RawSigned::new("PUT", &path).body(b"abc");
    req.signed
        .push(("content-encoding", "br,deflate".to_owned()));
    let (status, head, _) = raw_request(f.srv.addr, &req.build(f.srv.addr)).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(f.head("raw").await.content_encoding(), Some("br,deflate"));
}

/// The code of a raw signed PUT to `path_query` with `headers`.
async fn put_with(
    f: &Fixture,
    path_query: &str,
    headers: &[(&'static str, String)],
) -> (u16, String) {
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let mut req = RawSigned::new("PUT", path).body(b"the body");
    req.query = query;
    req.signed = headers.to_vec();
    let (status, head, body) = raw_request(f.srv.addr, &req.build(f.srv.addr)).await;
    let body = String::from_utf8_lossy(&body).into_owned();
    let code = body
        .split_once("<Code>")
        .and_then(|(_, r)| r.split_once("</Code>"))
        .map(|(c, _)| c.to_owned())
        .unwrap_or(head);
    (status, code)
}

#[tokio::test]
async fn checksums_that_do_not_match_or_do_not_parse() {
    use base64::Engine;
    let b64 = |raw: &[u8]| base64::engine::general_purpose::STANDARD.encode(raw);
    let f = Fixture::new("badsum").await;
    let upload =
        f.c.create_multipart_upload()
            .bucket(&f.b)
            .key("mp")
            .send()
            .await
            .expect("create upload");
    let upload_id = upload.upload_id().expect("upload id").to_owned();
    let part = format!("/{}/mp?partNumber=1&uploadId={upload_id}", f.b);
    let object = format!("/{}/obj", f.b);
    let sha_of_other = b64(&Sha256::digest(b"another body"));
    // (header, value, status, code)
    let cases: Vec<(&'static str, String, u16, &str)> = vec![
        ("x-amz-checksum-sha256", sha_of_other, 400, "BadDigest"),
        (
            "x-amz-checksum-sha256",
            "not base64!".into(),
            400,
            "InvalidRequest",
        ),
        (
            "x-amz-checksum-sha256",
            b64(&[7; 16]),
            400,
            "InvalidRequest",
        ),
        ("x-amz-checksum-crc64nvme", b64(&[1; 8]), 400, "BadDigest"),
        (
            "x-amz-checksum-crc64nvme",
            "%%%%".into(),
            400,
            "InvalidRequest",
        ),
        (
            "x-amz-checksum-crc64nvme",
            b64(&[1; 4]),
            400,
            "InvalidRequest",
        ),
    ];
    for target in [&object, &part] {
        for (header, value, status, code) in &cases {
            let got = put_with(&f, target, &[(header, value.clone())]).await;
            assert_eq!(
                got,
                (*status, code.to_string()),
                "{target} {header}: {value}"
            );
        }
    }
    assert_absent(&f.c, &f.b, "obj").await;
    let parts =
        f.c.list_parts()
            .bucket(&f.b)
            .key("mp")
            .upload_id(&upload_id)
            .send()
            .await
            .expect("list parts");
    assert!(parts.parts().is_empty(), "no part was stored");
    // The right value is accepted, on both.
    let right = b64(&Sha256::digest(b"the body"));
    for target in [&object, &part] {
        let got = put_with(&f, target, &[("x-amz-checksum-sha256", right.clone())]).await;
        assert_eq!(got.0, 200, "{target}: {got:?}");
    }
}

#[tokio::test]
async fn non_ascii_metadata_travels_as_rfc2047_words() {
    let f = Fixture::new("rfc2047").await;
    // "é" as a B word and "café" as a Q word: both stored as text, both
    // answered as the B word of that text.
    f.c.put_object()
        .bucket(&f.b)
        .key("k")
        .metadata("b", "=?UTF-8?B?w6k=?=")
        .metadata("q", "=?UTF-8?Q?caf=C3=A9?=")
        .metadata("plain", "as is")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put");
    let head = f.head("k").await;
    let meta = head.metadata().expect("metadata");
    assert_eq!(meta.get("b").map(String::as_str), Some("=?UTF-8?B?w6k=?="));
    assert_eq!(
        meta.get("q").map(String::as_str),
        Some("=?UTF-8?B?Y2Fmw6k=?=")
    );
    assert_eq!(meta.get("plain").map(String::as_str), Some("as is"));
    // A copy carries the text on.
    f.c.copy_object()
        .bucket(&f.b)
        .key("copy")
        .copy_source(format!("{}/k", f.b))
        .send()
        .await
        .expect("copy");
    let meta = f.head("copy").await.metadata().cloned().expect("metadata");
    assert_eq!(
        meta.get("q").map(String::as_str),
        Some("=?UTF-8?B?Y2Fmw6k=?=")
    );
}
