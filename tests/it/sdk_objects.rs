//! Object operations through the AWS SDK for Rust, with its default
//! checksum behaviour (header checksums for in-memory bodies, aws-chunked
//! trailers for streamed files).

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, MetadataDirective};
use common::*;
use sha2::{Digest, Sha256};

const CHUNK: usize = 64 * 1024; // the test server's chunk size

fn md5_hex(d: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(d))
}

#[tokio::test]
async fn round_trip_sizes_in_memory_and_streamed() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "sizes").await;
    let dir = tempfile::tempdir().expect("tmp");
    for (i, size) in [
        0,
        1,
        CHUNK - 1,
        CHUNK,
        CHUNK + 1,
        5 * CHUNK + 17,
        3 * 1024 * 1024,
    ]
    .into_iter()
    .enumerate()
    {
        let body = data(size, i as u64);
        let want = Sha256::digest(&body);
        // In memory: header checksum (CRC32 by default).
        let k = format!("mem-{size}");
        let put = c
            .put_object()
            .bucket(&b)
            .key(&k)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("put mem");
        assert_eq!(
            put.e_tag(),
            Some(format!("\"{}\"", md5_hex(&body)).as_str())
        );
        assert_eq!(
            Sha256::digest(get_bytes(&c, &b, &k).await),
            want,
            "mem {size}"
        );
        // From a file: aws-chunked body with a checksum trailer.
        let path = dir.path().join(format!("f{size}"));
        std::fs::write(&path, &body).expect("write");
        let k = format!("file-{size}");
        let stream = ByteStream::from_path(&path).await.expect("stream");
        let put = c
            .put_object()
            .bucket(&b)
            .key(&k)
            .body(stream)
            .send()
            .await
            .expect("put file");
        assert!(put.checksum_crc32().is_some(), "crc32 echoed for {size}");
        assert_eq!(
            Sha256::digest(get_bytes(&c, &b, &k).await),
            want,
            "file {size}"
        );
        let head = c
            .head_object()
            .bucket(&b)
            .key(&k)
            .send()
            .await
            .expect("head");
        assert_eq!(head.content_length(), Some(size as i64));
        assert_eq!(
            head.content_encoding(),
            None,
            "aws-chunked must not be stored"
        );
    }
}

#[tokio::test]
async fn every_checksum_algorithm_is_verified_stored_and_returned() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "checksums").await;
    let body = data(CHUNK * 2 + 5, 7);
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f");
    std::fs::write(&path, &body).expect("write");
    for alg in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ] {
        for streamed in [false, true] {
            let k = format!("{}-{streamed}", alg.as_str());
            let bs = if streamed {
                ByteStream::from_path(&path).await.expect("s")
            } else {
                ByteStream::from(body.clone())
            };
            let put = c
                .put_object()
                .bucket(&b)
                .key(&k)
                .checksum_algorithm(alg.clone())
                .body(bs)
                .send()
                .await
                .expect("put");
            let echoed = [
                put.checksum_crc32(),
                put.checksum_crc32_c(),
                put.checksum_crc64_nvme(),
                put.checksum_sha1(),
                put.checksum_sha256(),
            ]
            .into_iter()
            .flatten()
            .count();
            assert_eq!(echoed, 1, "{k}");
            let got = c
                .get_object()
                .bucket(&b)
                .key(&k)
                .checksum_mode(ChecksumMode::Enabled)
                .send()
                .await
                .expect("get");
            let returned = [
                got.checksum_crc32(),
                got.checksum_crc32_c(),
                got.checksum_crc64_nvme(),
                got.checksum_sha1(),
                got.checksum_sha256(),
            ]
            .into_iter()
            .flatten()
            .count();
            assert_eq!(returned, 1, "{k}");
            // The SDK validates the returned checksum while reading.
            let bytes = got
                .body
                .collect()
                .await
                .expect("body validated")
                .into_bytes();
            assert_eq!(bytes.as_ref(), body.as_slice());
        }
    }
}

#[tokio::test]
async fn wrong_checksum_or_md5_is_rejected_and_nothing_is_stored() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "baddigest").await;
    let e = c
        .put_object()
        .bucket(&b)
        .key("k")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect_err("bad crc");
    assert_eq!(code(&e.into_service_error()), "BadDigest");
    let e = c
        .put_object()
        .bucket(&b)
        .key("k")
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==") // MD5 of the empty string
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect_err("bad md5");
    assert_eq!(code(&e.into_service_error()), "BadDigest");
    let e = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("absent");
    assert!(e.into_service_error().is_not_found());
}

#[tokio::test]
async fn ranges() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "ranges").await;
    let body = data(3 * CHUNK + 100, 3);
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put");
    let n = body.len();
    let cases = [
        ("bytes=0-0", 0, 1),
        ("bytes=5-", 5, n),
        ("bytes=-3", n - 3, n),
        (
            &*format!("bytes={}-{}", CHUNK - 2, 2 * CHUNK + 3),
            CHUNK - 2,
            2 * CHUNK + 4,
        ),
        ("bytes=10-99999999", 10, n),
    ];
    for (range, s, e) in cases {
        let out = c
            .get_object()
            .bucket(&b)
            .key("k")
            .range(range)
            .send()
            .await
            .expect(range);
        assert_eq!(
            out.content_range(),
            Some(format!("bytes {}-{}/{}", s, e - 1, n).as_str()),
            "{range}"
        );
        assert_eq!(out.content_length(), Some((e - s) as i64));
        let got = out.body.collect().await.expect("body").into_bytes();
        assert_eq!(got.as_ref(), &body[s..e], "{range}");
    }
    let err = c
        .get_object()
        .bucket(&b)
        .key("k")
        .range(format!("bytes={n}-"))
        .send()
        .await
        .expect_err("416");
    assert_eq!(code(&err.into_service_error()), "InvalidRange");
    // partNumber=1 of a single-part object is the whole object.
    let out = c
        .get_object()
        .bucket(&b)
        .key("k")
        .part_number(1)
        .send()
        .await
        .expect("part 1");
    assert_eq!(out.content_length(), Some(n as i64));
}

#[tokio::test]
async fn conditional_reads() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "cond").await;
    let put = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"abc"))
        .send()
        .await
        .expect("put");
    let etag = put.e_tag().expect("etag").to_owned();
    c.get_object()
        .bucket(&b)
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .expect("if-match ok");
    let e = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_match("\"nope\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(412));
    let e = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .expect_err("304");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(304));
    let e = c
        .head_object()
        .bucket(&b)
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .expect_err("304 head");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(304));
    let future = aws_smithy_types::DateTime::from_secs(4_000_000_000);
    let past = aws_smithy_types::DateTime::from_secs(1_000_000_000);
    let e = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_modified_since(future)
        .send()
        .await
        .expect_err("304 ims");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(304));
    c.get_object()
        .bucket(&b)
        .key("k")
        .if_modified_since(past)
        .send()
        .await
        .expect("modified");
    let e = c
        .get_object()
        .bucket(&b)
        .key("k")
        .if_unmodified_since(past)
        .send()
        .await
        .expect_err("412 ius");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(412));
}

#[tokio::test]
async fn conditional_writes() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "condput").await;
    c.put_object()
        .bucket(&b)
        .key("k")
        .if_none_match("*")
        .body(ByteStream::from_static(b"1"))
        .send()
        .await
        .expect("first");
    let e = c
        .put_object()
        .bucket(&b)
        .key("k")
        .if_none_match("*")
        .body(ByteStream::from_static(b"2"))
        .send()
        .await
        .expect_err("second");
    assert_eq!(code(&e.into_service_error()), "PreconditionFailed");
    assert_eq!(get_bytes(&c, &b, "k").await, b"1");
    let etag = format!("\"{}\"", md5_hex(b"1"));
    c.put_object()
        .bucket(&b)
        .key("k")
        .if_match(&etag)
        .body(ByteStream::from_static(b"3"))
        .send()
        .await
        .expect("if-match");
    let e = c
        .put_object()
        .bucket(&b)
        .key("k")
        .if_match(&etag)
        .body(ByteStream::from_static(b"4"))
        .send()
        .await
        .expect_err("stale");
    assert_eq!(code(&e.into_service_error()), "PreconditionFailed");
    assert_eq!(get_bytes(&c, &b, "k").await, b"3");
}

#[tokio::test]
async fn metadata_and_content_headers_round_trip() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "meta").await;
    c.put_object()
        .bucket(&b)
        .key("k")
        .content_type("text/x-test")
        .content_encoding("identity")
        .cache_control("max-age=60")
        .content_disposition("attachment; filename=\"a.txt\"")
        .content_language("en")
        .metadata("color", "blue")
        .metadata("mtime", "1700000000.5")
        .body(ByteStream::from_static(b"hi"))
        .send()
        .await
        .expect("put");
    let h = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("head");
    assert_eq!(h.content_type(), Some("text/x-test"));
    assert_eq!(h.content_encoding(), Some("identity"));
    assert_eq!(h.cache_control(), Some("max-age=60"));
    assert_eq!(
        h.content_disposition(),
        Some("attachment; filename=\"a.txt\"")
    );
    assert_eq!(h.content_language(), Some("en"));
    let m = h.metadata().expect("meta");
    assert_eq!(m.get("color").map(String::as_str), Some("blue"));
    assert_eq!(m.get("mtime").map(String::as_str), Some("1700000000.5"));
    // response-* overrides
    let g = c
        .get_object()
        .bucket(&b)
        .key("k")
        .response_content_type("application/json")
        .send()
        .await
        .expect("get");
    assert_eq!(g.content_type(), Some("application/json"));
    // Too much metadata.
    let e = c
        .put_object()
        .bucket(&b)
        .key("big")
        .metadata("x", "y".repeat(2100))
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .expect_err("too big");
    assert_eq!(code(&e.into_service_error()), "MetadataTooLarge");
}

#[tokio::test]
async fn delete_is_idempotent_and_missing_keys_404() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "del").await;
    c.delete_object()
        .bucket(&b)
        .key("never")
        .send()
        .await
        .expect("delete missing");
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put");
    c.delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("delete");
    c.delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("delete again");
    let e = c
        .get_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&e.into_service_error()), "NoSuchKey");
    let e = c
        .get_object()
        .bucket("no-such-bucket-xyz")
        .key("k")
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(code(&e.into_service_error()), "NoSuchBucket");
    let long = "k".repeat(1025);
    let e = c
        .put_object()
        .bucket(&b)
        .key(&long)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("long key");
    assert_eq!(code(&e.into_service_error()), "KeyTooLongError");
}

#[tokio::test]
async fn delete_objects_with_sdk_checksum_and_quiet() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "multidel").await;
    for k in ["a", "b", "c/d", "e f"] {
        c.put_object()
            .bucket(&b)
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let ids = |keys: &[&str]| {
        Delete::builder().set_objects(Some(
            keys.iter()
                .map(|k| ObjectIdentifier::builder().key(*k).build().expect("id"))
                .collect(),
        ))
    };
    let out = c
        .delete_objects()
        .bucket(&b)
        .delete(ids(&["a", "c/d", "missing"]).build().expect("d"))
        .send()
        .await
        .expect("delete");
    let mut deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, ["a", "c/d", "missing"]);
    assert!(out.errors().is_empty());
    let out = c
        .delete_objects()
        .bucket(&b)
        .delete(ids(&["b", "e f"]).quiet(true).build().expect("d"))
        .send()
        .await
        .expect("quiet");
    assert!(out.deleted().is_empty());
    let list = c.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(list.key_count(), Some(0));
}

/// NEL (U+0085) and LINE SEPARATOR (U+2028) are characters in XML 1.0,
/// not line ends: DeleteObjects of a key holding one deletes that key and
/// not the one with a line feed in its place (the XML reader used XML
/// 1.1's line ends until the fuzzer found it).
#[tokio::test]
async fn delete_objects_keeps_nel_and_line_separator_in_keys() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "nel").await;
    let keys = ["a\u{85}b", "a\nb", "c\u{2028}d", "c\nd"];
    for k in keys {
        put(&c, &b, k, b"x").await;
    }
    // Raw, as botocore sends it: the SDK for Rust writes NEL as a
    // character reference, which never met the bug.
    let body = format!(
        "<Delete><Object><Key>{}</Key></Object><Object><Key>{}</Key></Object></Delete>",
        keys[0], keys[2]
    );
    use base64::Engine as _;
    use md5::{Digest as _, Md5};
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body.as_bytes()));
    let path = format!("/{b}");
    let mut req = RawSigned::new("POST", &path).body(body.as_bytes());
    req.query = "delete=";
    req.signed.push(("content-md5", md5));
    let (status, head, answer) = raw_request(srv.addr, &req.build(srv.addr)).await;
    assert_eq!(status, 200, "{head}");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.contains("<Key>a&#133;b</Key>"), "{answer}");
    assert!(answer.contains("<Key>c&#8232;d</Key>"), "{answer}");
    for (k, left) in [
        (keys[0], false),
        (keys[1], true),
        (keys[2], false),
        (keys[3], true),
    ] {
        assert_eq!(exists(&c, &b, k).await, left, "{k:?}");
    }
}

#[tokio::test]
async fn copy_object_directives_and_self_copy() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "copy").await;
    let body = data(2 * CHUNK + 9, 11);
    c.put_object()
        .bucket(&b)
        .key("src")
        .content_type("text/a")
        .metadata("m", "1")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put");
    // COPY keeps metadata.
    let out = c
        .copy_object()
        .bucket(&b)
        .key("dst")
        .copy_source(format!("{b}/src"))
        .send()
        .await
        .expect("copy");
    assert_eq!(
        out.copy_object_result().and_then(|r| r.e_tag()),
        Some(format!("\"{}\"", md5_hex(&body)).as_str())
    );
    let h = c
        .head_object()
        .bucket(&b)
        .key("dst")
        .send()
        .await
        .expect("head");
    assert_eq!(h.content_type(), Some("text/a"));
    assert_eq!(
        h.metadata().and_then(|m| m.get("m")).map(String::as_str),
        Some("1")
    );
    assert_eq!(get_bytes(&c, &b, "dst").await, body);
    // REPLACE takes the request's metadata.
    c.copy_object()
        .bucket(&b)
        .key("dst2")
        .copy_source(format!("/{b}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/b")
        .metadata("n", "2")
        .send()
        .await
        .expect("replace");
    let h = c
        .head_object()
        .bucket(&b)
        .key("dst2")
        .send()
        .await
        .expect("head2");
    assert_eq!(h.content_type(), Some("text/b"));
    let m = h.metadata().expect("meta");
    assert!(m.get("m").is_none());
    assert_eq!(m.get("n").map(String::as_str), Some("2"));
    // Onto itself: COPY is refused, REPLACE rewrites the metadata (rclone's mtime update).
    let e = c
        .copy_object()
        .bucket(&b)
        .key("src")
        .copy_source(format!("{b}/src"))
        .send()
        .await
        .expect_err("self copy");
    assert_eq!(code(&e.into_service_error()), "InvalidRequest");
    c.copy_object()
        .bucket(&b)
        .key("src")
        .copy_source(format!("{b}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .metadata("mtime", "42")
        .send()
        .await
        .expect("self replace");
    let h = c
        .head_object()
        .bucket(&b)
        .key("src")
        .send()
        .await
        .expect("head src");
    assert_eq!(
        h.metadata()
            .and_then(|m| m.get("mtime"))
            .map(String::as_str),
        Some("42")
    );
    assert_eq!(get_bytes(&c, &b, "src").await, body);
    // Copy-source conditionals.
    let e = c
        .copy_object()
        .bucket(&b)
        .key("x")
        .copy_source(format!("{b}/src"))
        .copy_source_if_match("\"nope\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(code(&e.into_service_error()), "PreconditionFailed");
    let e = c
        .copy_object()
        .bucket(&b)
        .key("x")
        .copy_source(format!("{b}/missing"))
        .send()
        .await
        .expect_err("404");
    assert_eq!(code(&e.into_service_error()), "NoSuchKey");
    // Deleting the source leaves the copy intact.
    c.delete_object()
        .bucket(&b)
        .key("src")
        .send()
        .await
        .expect("delete src");
    assert_eq!(get_bytes(&c, &b, "dst").await, body);
}

#[tokio::test]
async fn tagging_and_acl_answers() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "tags").await;
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put");
    let t = c
        .get_object_tagging()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("tagging");
    assert!(t.tag_set().is_empty());
    let a = c
        .get_object_acl()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("acl");
    assert_eq!(a.grants().len(), 1);
    let e = c
        .get_object_tagging()
        .bucket(&b)
        .key("nope")
        .send()
        .await
        .expect_err("404");
    assert_eq!(code(&e.into_service_error()), "NoSuchKey");
}

#[tokio::test]
async fn uploads_share_a_tiny_buffer_budget_without_deadlock() {
    let srv = start_with(|c| c.max_buffered_chunks = 1).await;
    let c = srv.client();
    let b = create_bucket(&c, "budget").await;
    let mut tasks = Vec::new();
    for i in 0..6u64 {
        let c = c.clone();
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            let body = data(5 * CHUNK + 123, i);
            c.put_object()
                .bucket(&b)
                .key(format!("k{i}"))
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .expect("put");
            (i, body)
        }));
    }
    for t in tasks {
        let (i, body) = tokio::time::timeout(std::time::Duration::from_secs(60), t)
            .await
            .expect("no deadlock")
            .expect("task");
        assert_eq!(get_bytes(&c, &b, &format!("k{i}")).await, body);
    }
}
