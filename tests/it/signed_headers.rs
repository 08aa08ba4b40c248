//! What a signature covers (issue: unsigned headers changed the
//! operation): every `x-amz-*` header must be signed, presigned `x-amz-*`
//! query parameters act as signed headers, the credential scope's region is
//! the gateway's, and the query is decoded once for the signature and the
//! handlers alike (`+` is a space).

use crate::common;

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use s3gw::auth::sigv4::{
    canonical_query, canonical_request, format_amz_date, scope, sign, signing_key, string_to_sign,
    uri_encode,
};
use s3gw::auth::SecretKey;

use common::*;

fn presign_cfg() -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg")
}

/// Sends `method path_and_query` with `headers` and `body` as raw HTTP.
async fn send(
    srv: &TestServer,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut raw = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        srv.addr,
        body.len()
    );
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    let (status, head, body) = raw_request(srv.addr, &bytes).await;
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

/// A presigned URL (path and query) signed by hand, with `extra` query
/// parameters (already encoded) and the given region.
fn presign_by_hand(
    srv: &TestServer,
    method: &str,
    path: &str,
    extra: &str,
    region: &str,
) -> String {
    let amz_date = format_amz_date(time::OffsetDateTime::now_utc());
    let day = &amz_date[..8];
    let credential = uri_encode(
        &format!("{ACCESS_KEY}/{day}/{region}/s3/aws4_request"),
        true,
    );
    let mut query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}&X-Amz-Date={amz_date}\
         &X-Amz-Expires=300&X-Amz-SignedHeaders=host"
    );
    if !extra.is_empty() {
        query.push('&');
        query.push_str(extra);
    }
    let creq = canonical_request(
        method,
        path,
        &canonical_query(&query),
        &format!("host:{}\n", srv.addr),
        "host",
        "UNSIGNED-PAYLOAD",
    );
    let key = signing_key(&SecretKey::new(SECRET_KEY.into()), day, region);
    let sig = sign(&key, &string_to_sign(&amz_date, &scope(day, region), &creq));
    format!("{path}?{query}&X-Amz-Signature={sig}")
}

#[tokio::test]
async fn presigned_put_cannot_be_turned_into_a_copy() {
    let srv = start().await;
    let c = srv.client();
    let secret_bucket = create_bucket(&c, "vault").await;
    let own = create_bucket(&c, "own").await;
    put(&c, &secret_bucket, "secret", b"top secret").await;

    // A presigned PUT signs only host; the copy source rides along unsigned.
    let req = c
        .put_object()
        .bucket(&own)
        .key("stolen")
        .presigned(presign_cfg())
        .await
        .expect("presign");
    let pq = &path_and_query(&req);
    let source = format!("/{secret_bucket}/secret");
    let (status, head, body) = send(&srv, "PUT", pq, &[("x-amz-copy-source", &source)], b"").await;
    assert_eq!(status, 403, "{head}\n{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(
        body.contains("<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>"),
        "{body}"
    );
    assert!(!exists(&c, &own, "stolen").await, "the secret was copied");

    // The same for a presigned UploadPart.
    let upload = c
        .create_multipart_upload()
        .bucket(&own)
        .key("mp")
        .send()
        .await
        .expect("create upload");
    let req = c
        .upload_part()
        .bucket(&own)
        .key("mp")
        .upload_id(upload.upload_id().expect("id"))
        .part_number(1)
        .presigned(presign_cfg())
        .await
        .expect("presign part");
    let pq = &path_and_query(&req);
    let (status, _, body) = send(&srv, "PUT", pq, &[("x-amz-copy-source", &source)], b"").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("HeadersNotSigned"), "{body}");
    let parts = c
        .list_parts()
        .bucket(&own)
        .key("mp")
        .upload_id(upload.upload_id().expect("id"))
        .send()
        .await
        .expect("list parts");
    assert!(parts.parts().is_empty(), "a part was copied in");

    // The presigned PUT itself still works, as sent by its holder.
    let (status, _, body) =
        send(&srv, "PUT", req_path(&c, &own).await.as_str(), &[], b"mine").await;
    assert_eq!(status, 200, "{body}");
}

async fn req_path(c: &aws_sdk_s3::Client, bucket: &str) -> String {
    let req = c
        .put_object()
        .bucket(bucket)
        .key("mine")
        .presigned(presign_cfg())
        .await
        .expect("presign");
    path_and_query(&req)
}

#[tokio::test]
async fn unsigned_amz_headers_on_a_presigned_put() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "presigned-extra").await;
    let pq = req_path(&c, &b).await;
    let refused: &[(&str, &str)] = &[
        ("x-amz-meta-owner", "mallory"),
        ("x-amz-checksum-crc32", "AAAAAA=="),
        ("x-amz-metadata-directive", "REPLACE"),
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("x-amz-storage-class", "STANDARD"),
    ];
    for (name, value) in refused {
        let mut headers = vec![(*name, *value)];
        if name.starts_with("x-amz-content") {
            headers.push(("x-amz-decoded-content-length", "4"));
        }
        let (status, _, body) = send(&srv, "PUT", &pq, &headers, b"data").await;
        assert_eq!(status, 403, "{name}: {body}");
        assert!(body.contains("<Code>AccessDenied</Code>"), "{name}: {body}");
        assert!(body.contains(name), "{name}: {body}");
        assert!(!exists(&c, &b, "mine").await, "{name}: stored");
    }
    // A payload hash added to a URL presigned without one only asks for
    // the body to be checked: accepted, and checked.
    let wrong = "0".repeat(64);
    let (status, _, body) = send(
        &srv,
        "PUT",
        &pq,
        &[("x-amz-content-sha256", &wrong)],
        b"data",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("XAmzContentSHA256Mismatch"), "{body}");
    for sha in [
        "UNSIGNED-PAYLOAD",
        "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7",
    ] {
        let (status, _, body) =
            send(&srv, "PUT", &pq, &[("x-amz-content-sha256", sha)], b"data").await;
        assert_eq!(status, 200, "{sha}: {body}");
    }
}

#[tokio::test]
async fn presigned_query_headers_are_applied_as_signed() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "hoist").await;
    let path = format!("/{b}/tagged");
    let pq = presign_by_hand(&srv, "PUT", &path, "x-amz-meta-color=blue", "us-east-1");
    let (status, _, body) = send(&srv, "PUT", &pq, &[], b"hello").await;
    assert_eq!(status, 200, "{body}");
    let head = c
        .head_object()
        .bucket(&b)
        .key("tagged")
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("color"))
            .map(String::as_str),
        Some("blue")
    );
    // The same header sent as well must agree with the signed parameter.
    let (status, _, body) = send(&srv, "PUT", &pq, &[("x-amz-meta-color", "blue")], b"hello").await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = send(&srv, "PUT", &pq, &[("x-amz-meta-color", "red")], b"hello").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("AuthorizationQueryParametersError"), "{body}");
    // A checksum in the query is not a header (S3 ignores it there), so it
    // covers no header of that name.
    let pq = presign_by_hand(
        &srv,
        "PUT",
        &path,
        "x-amz-checksum-crc32=AAAAAA%3D%3D",
        "us-east-1",
    );
    let (status, _, body) = send(&srv, "PUT", &pq, &[], b"hello").await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = send(
        &srv,
        "PUT",
        &pq,
        &[("x-amz-checksum-crc32", "AAAAAA==")],
        b"hello",
    )
    .await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn header_auth_needs_every_amz_header_signed_and_a_payload_hash() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "header-auth").await;
    let path = format!("/{b}/k");

    let mut req = RawSigned::new("PUT", &path).body(b"v1");
    req.signed.push(("x-amz-meta-a", "1".into()));
    let (status, head, _) = raw_request(srv.addr, &req.build(srv.addr)).await;
    assert_eq!(status, 200, "{head}");

    let mut req = RawSigned::new("PUT", &path).body(b"v2");
    req.unsigned.push(("x-amz-meta-b", "2".into()));
    req.unsigned.push(("x-amzn-trace-id", "Root=1".into()));
    let (status, _, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<HeadersNotSigned>x-amz-meta-b</HeadersNotSigned>"),
        "{body}"
    );

    // x-amz-content-sha256 is the canonical request's payload line: signed
    // even when SignedHeaders leaves it out; but it must be there.
    let mut req = RawSigned::new("PUT", &path).body(b"v3");
    req.content_sha256 = None;
    let (status, _, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("<Code>InvalidRequest</Code>") && body.contains("x-amz-content-sha256"),
        "{body}"
    );

    // An aws-chunked body must announce its decoded length.
    let mut req = RawSigned::new("PUT", &path);
    req.content_sha256 = Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER".into());
    req.signed.push(("content-encoding", "aws-chunked".into()));
    req.signed
        .push(("x-amz-trailer", "x-amz-checksum-crc32".into()));
    req.body = b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    let (status, _, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 411, "{body}");
    assert!(body.contains("MissingContentLength"), "{body}");

    assert_eq!(get_bytes(&c, &b, "k").await, b"v1");
}

#[tokio::test]
async fn the_scope_region_must_be_the_gateways() {
    let srv = start_with(|c| c.region = "eu-central-1".into()).await;
    let b = bucket_name("region");
    let path = format!("/{b}");
    for (region, status) in [
        ("eu-central-1", 200),
        ("us-east-1", 400),
        ("us-west-2", 400),
    ] {
        let mut req = RawSigned::new("PUT", &path);
        req.region = region;
        let (got, _, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(got, status, "{region}: {body}");
        if status == 400 {
            assert!(
                body.contains("<Code>AuthorizationHeaderMalformed</Code>"),
                "{body}"
            );
            assert!(body.contains("<Region>eu-central-1</Region>"), "{body}");
            assert!(
                body.contains(&format!("the region '{region}' is wrong")),
                "{body}"
            );
        }
    }
    // s3cmd asks for a bucket's location signed for us-east-1 before it
    // knows the region; the answer tells it.
    let mut req = RawSigned::new("GET", &path);
    req.query = "location";
    let (status, _, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("eu-central-1"), "{body}");

    let pq = presign_by_hand(&srv, "GET", &path, "", "us-west-2");
    let (status, _, body) = send(&srv, "GET", &pq, &[], b"").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("<Code>AuthorizationQueryParametersError</Code>"),
        "{body}"
    );
    assert!(body.contains("<Region>eu-central-1</Region>"), "{body}");
    let pq = presign_by_hand(&srv, "GET", &path, "", "eu-central-1");
    let (status, _, body) = send(&srv, "GET", &pq, &[], b"").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn plus_in_the_query_is_one_value_for_signature_and_listing() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "plus").await;
    for key in ["a b/x", "a+b/y"] {
        put(&c, &b, key, b".").await;
    }
    let path = format!("/{b}");
    let list = |query: &'static str, canonical: Option<&str>| {
        let mut req = RawSigned::new("GET", &path);
        req.query = query;
        req.canonical_query = canonical.map(str::to_owned);
        req.build(srv.addr)
    };
    // `+` is a space, `%2B` a plus, for the signature and the listing.
    let (status, _, body) = raw_request(srv.addr, &list("prefix=a+b", None)).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<Key>a b/x</Key>") && !body.contains("a+b/y"),
        "{body}"
    );
    let (status, _, body) = raw_request(srv.addr, &list("prefix=a%2Bb", None)).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<Key>a+b/y</Key>") && !body.contains("a b/x"),
        "{body}"
    );
    // A signature over `prefix=a%2Bb` does not serve `prefix=a+b`.
    let (status, _, body) = raw_request(srv.addr, &list("prefix=a+b", Some("prefix=a%2Bb"))).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
}

/// `x-amz-date` wins over `Date`: a `Date` that is stale, empty, or not a
/// date at all, signed or not, does not matter when `x-amz-date` is there.
#[tokio::test]
async fn x_amz_date_wins_over_date() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "amzdate").await;
    let path = format!("/{b}/k");
    let stale = "Fri, 24 May 2013 00:00:00 GMT".to_owned();
    // (what, headers signed, headers sent unsigned)
    type Headers = Vec<(&'static str, String)>;
    let cases: Vec<(&str, Headers, Headers)> = vec![
        ("stale Date, signed", vec![("date", stale.clone())], vec![]),
        ("stale Date, unsigned", vec![], vec![("date", stale)]),
        ("empty Date, signed", vec![("date", String::new())], vec![]),
        (
            "empty Date, unsigned",
            vec![],
            vec![("date", String::new())],
        ),
        ("garbage Date", vec![("date", "not a date".into())], vec![]),
    ];
    for (what, signed, unsigned) in cases {
        let mut req = RawSigned::new("PUT", &path).body(b"abc");
        req.signed = signed;
        req.unsigned = unsigned;
        let (status, head, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
        assert_eq!(
            status,
            200,
            "{what}: {head}{}",
            String::from_utf8_lossy(&body)
        );
        let mut req = RawSigned::new("GET", &path);
        req.signed = vec![("date", String::new())];
        let (status, _, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
        assert_eq!((status, body.as_slice()), (200, &b"abc"[..]), "{what}");
    }
}
