//! Object operations through the AWS SDK for Rust, with its default
//! checksum behaviour (header checksums for in-memory bodies, aws-chunked
//! trailers for streamed files).

use crate::common;

use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, MetadataDirective};
use aws_smithy_types::DateTime;
use common::*;
use sha2::{Digest, Sha256};

/// S3's answers to the edge cases of issue 20's conformance list.
mod conformance;

const CHUNK: usize = 64 * 1024; // the test server's chunk size

fn md5_hex(d: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(d))
}

/// The ETag of a single-part object holding `d`.
fn etag_of(d: &[u8]) -> String {
    format!("\"{}\"", md5_hex(d))
}

/// How many of an answer's five checksum fields hold a value.
fn checksums_present(fields: [Option<&str>; 5]) -> usize {
    fields.into_iter().flatten().count()
}

#[tokio::test]
async fn round_trip_sizes_in_memory_and_streamed() {
    let f = Fixture::new("sizes").await;
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
        let put = f.put(&k, body.clone()).await;
        assert_eq!(put.e_tag(), Some(etag_of(&body).as_str()));
        assert_eq!(Sha256::digest(f.get(&k).await), want, "mem {size}");
        // From a file: aws-chunked body with a checksum trailer.
        let path = dir.path().join(format!("f{size}"));
        std::fs::write(&path, &body).expect("write");
        let k = format!("file-{size}");
        let stream = ByteStream::from_path(&path).await.expect("stream");
        let put = f.put(&k, stream).await;
        assert!(put.checksum_crc32().is_some(), "crc32 echoed for {size}");
        assert_eq!(Sha256::digest(f.get(&k).await), want, "file {size}");
        let head = f.head(&k).await;
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
    let f = Fixture::new("checksums").await;
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
            let put =
                f.c.put_object()
                    .bucket(&f.b)
                    .key(&k)
                    .checksum_algorithm(alg.clone())
                    .body(bs)
                    .send()
                    .await
                    .expect("put");
            let echoed = checksums_present([
                put.checksum_crc32(),
                put.checksum_crc32_c(),
                put.checksum_crc64_nvme(),
                put.checksum_sha1(),
                put.checksum_sha256(),
            ]);
            assert_eq!(echoed, 1, "{k}");
            let got =
                f.c.get_object()
                    .bucket(&f.b)
                    .key(&k)
                    .checksum_mode(ChecksumMode::Enabled)
                    .send()
                    .await
                    .expect("get");
            let returned = checksums_present([
                got.checksum_crc32(),
                got.checksum_crc32_c(),
                got.checksum_crc64_nvme(),
                got.checksum_sha1(),
                got.checksum_sha256(),
            ]);
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
    let f = Fixture::new("baddigest").await;
    let put = || {
        f.c.put_object()
            .bucket(&f.b)
            .key("k")
            .body(ByteStream::from_static(b"hello"))
    };
    for (what, request) in [
        ("bad crc", put().checksum_crc32("AAAAAA==")),
        // MD5 of the empty string
        ("bad md5", put().content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")),
    ] {
        assert_eq!(refused(request.send().await, what), "BadDigest", "{what}");
    }
    assert_absent(&f.c, &f.b, "k").await;
}

#[tokio::test]
async fn ranges() {
    let f = Fixture::new("ranges").await;
    let body = data(3 * CHUNK + 100, 3);
    f.put("k", body.clone()).await;
    let get = || f.c.get_object().bucket(&f.b).key("k");
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
        let out = get().range(range).send().await.expect(range);
        assert_eq!(
            out.content_range(),
            Some(format!("bytes {}-{}/{}", s, e - 1, n).as_str()),
            "{range}"
        );
        assert_eq!(out.content_length(), Some((e - s) as i64));
        let got = out.body.collect().await.expect("body").into_bytes();
        assert_eq!(got.as_ref(), &body[s..e], "{range}");
    }
    let past_the_end = get().range(format!("bytes={n}-")).send().await;
    assert_eq!(refused(past_the_end, "416"), "InvalidRange");
    // partNumber=1 of a single-part object is the whole object.
    let out = get().part_number(1).send().await.expect("part 1");
    assert_eq!(out.content_length(), Some(n as i64));
}

/// A condition added to a GET, given the object's ETag.
type GetIf = fn(GetObjectFluentBuilder, &str) -> GetObjectFluentBuilder;

#[tokio::test]
async fn conditional_reads() {
    let f = Fixture::new("cond").await;
    let put = f.put("k", ByteStream::from_static(b"abc")).await;
    let etag = put.e_tag().expect("etag").to_owned();
    const FUTURE: i64 = 4_000_000_000;
    const PAST: i64 = 1_000_000_000;
    // (what, the condition, the status of the answer; 200: the object)
    let cases: [(&str, GetIf, u16); 6] = [
        ("if-match", |r, etag| r.if_match(etag), 200),
        ("if-match another", |r, _| r.if_match("\"nope\""), 412),
        ("if-none-match", |r, etag| r.if_none_match(etag), 304),
        (
            "if-modified-since the future",
            |r, _| r.if_modified_since(DateTime::from_secs(FUTURE)),
            304,
        ),
        (
            "if-modified-since the past",
            |r, _| r.if_modified_since(DateTime::from_secs(PAST)),
            200,
        ),
        (
            "if-unmodified-since the past",
            |r, _| r.if_unmodified_since(DateTime::from_secs(PAST)),
            412,
        ),
    ];
    for (what, condition, want) in cases {
        let get = f.c.get_object().bucket(&f.b).key("k");
        match condition(get, &etag).send().await {
            Ok(_) => assert_eq!(want, 200, "{what}: answered with the object"),
            Err(e) => assert_eq!(status_of(&e), Some(want), "{what}: {e:?}"),
        }
    }
    let e =
        f.c.head_object()
            .bucket(&f.b)
            .key("k")
            .if_none_match(&etag)
            .send()
            .await
            .expect_err("304 head");
    assert_eq!(status_of(&e), Some(304));
}

/// A conditional PUT: If-None-Match, If-Match, the body, the error code if
/// it is refused, and what the key then holds.
type PutIf<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    &'static [u8],
    Option<&'a str>,
    &'a [u8],
);

#[tokio::test]
async fn conditional_writes() {
    let f = Fixture::new("condput").await;
    let etag_1 = etag_of(b"1");
    let steps: [PutIf; 4] = [
        (Some("*"), None, b"1", None, b"1"),
        (Some("*"), None, b"2", Some("PreconditionFailed"), b"1"),
        (None, Some(&etag_1), b"3", None, b"3"),
        (None, Some(&etag_1), b"4", Some("PreconditionFailed"), b"3"),
    ];
    for (if_none_match, if_match, body, refusal, stored) in steps {
        let what = format!("put {}", String::from_utf8_lossy(body));
        let answer =
            f.c.put_object()
                .bucket(&f.b)
                .key("k")
                .set_if_none_match(if_none_match.map(str::to_owned))
                .set_if_match(if_match.map(str::to_owned))
                .body(ByteStream::from_static(body))
                .send()
                .await;
        match refusal {
            None => {
                answer.unwrap_or_else(|e| panic!("{what}: {e:?}"));
            }
            Some(want) => assert_eq!(refused(answer, &what), want, "{what}"),
        }
        assert_eq!(f.get("k").await, stored, "after {what}");
    }
}

#[tokio::test]
async fn metadata_and_content_headers_round_trip() {
    let f = Fixture::new("meta").await;
    f.c.put_object()
        .bucket(&f.b)
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
    let h = f.head("k").await;
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
    let g =
        f.c.get_object()
            .bucket(&f.b)
            .key("k")
            .response_content_type("application/json")
            .send()
            .await
            .expect("get");
    assert_eq!(g.content_type(), Some("application/json"));
    // Too much metadata.
    let too_big =
        f.c.put_object()
            .bucket(&f.b)
            .key("big")
            .metadata("x", "y".repeat(2100))
            .body(ByteStream::from_static(b""))
            .send()
            .await;
    assert_eq!(refused(too_big, "too big"), "MetadataTooLarge");
}

#[tokio::test]
async fn delete_is_idempotent_and_missing_keys_404() {
    let f = Fixture::new("del").await;
    let delete = |key: &str| f.c.delete_object().bucket(&f.b).key(key).send();
    delete("never").await.expect("delete missing");
    f.put("k", ByteStream::from_static(b"x")).await;
    delete("k").await.expect("delete");
    delete("k").await.expect("delete again");
    let gone = f.c.get_object().bucket(&f.b).key("k").send().await;
    assert_eq!(refused(gone, "gone"), "NoSuchKey");
    let no_bucket = f.c.get_object().bucket("no-such-bucket-xyz").key("k");
    assert_eq!(refused(no_bucket.send().await, "no bucket"), "NoSuchBucket");
    let long = "k".repeat(1025);
    let long_key =
        f.c.put_object()
            .bucket(&f.b)
            .key(&long)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await;
    assert_eq!(refused(long_key, "long key"), "KeyTooLongError");
}

#[tokio::test]
async fn delete_objects_with_sdk_checksum_and_quiet() {
    let f = Fixture::new("multidel").await;
    for k in ["a", "b", "c/d", "e f"] {
        f.put(k, ByteStream::from_static(b"x")).await;
    }
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let ids = |keys: &[&str]| {
        Delete::builder().set_objects(Some(
            keys.iter()
                .map(|k| ObjectIdentifier::builder().key(*k).build().expect("id"))
                .collect(),
        ))
    };
    let out =
        f.c.delete_objects()
            .bucket(&f.b)
            .delete(ids(&["a", "c/d", "missing"]).build().expect("d"))
            .send()
            .await
            .expect("delete");
    let mut deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, ["a", "c/d", "missing"]);
    assert!(out.errors().is_empty());
    let out =
        f.c.delete_objects()
            .bucket(&f.b)
            .delete(ids(&["b", "e f"]).quiet(true).build().expect("d"))
            .send()
            .await
            .expect("quiet");
    assert!(out.deleted().is_empty());
    let list = f.c.list_objects_v2().bucket(&f.b).send().await;
    assert_eq!(list.expect("list").key_count(), Some(0));
}

/// Many keys at once (deleted concurrently): each answered in request
/// order, a key named twice answered twice and deleted, an entry with a
/// malformed version id refused without deleting its key.
#[tokio::test]
async fn delete_objects_of_many_keys_answers_each_in_order() {
    let f = Fixture::new("manydel").await;
    let keys: Vec<String> = (0..120).map(|i| format!("k{i:03}")).collect();
    for k in keys.iter().chain(std::iter::once(&"keep".to_owned())) {
        f.put(k, ByteStream::from_static(b"x")).await;
    }
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let id = |k: &str| ObjectIdentifier::builder().key(k).build().expect("id");
    let mut ids: Vec<ObjectIdentifier> = keys.iter().map(|k| id(k)).collect();
    ids.insert(7, id("k000"));
    ids.push(
        ObjectIdentifier::builder()
            .key("keep")
            .version_id("3HL4kqtJlcpXroDTDmJ")
            .build()
            .expect("id"),
    );
    let out =
        f.c.delete_objects()
            .bucket(&f.b)
            .delete(Delete::builder().set_objects(Some(ids)).build().expect("d"))
            .send()
            .await
            .expect("delete");
    let deleted: Vec<&str> = out.deleted().iter().filter_map(|d| d.key()).collect();
    let mut want: Vec<&str> = keys.iter().map(String::as_str).collect();
    want.insert(7, "k000");
    assert_eq!(deleted, want);
    let errors: Vec<(Option<&str>, Option<&str>)> =
        out.errors().iter().map(|e| (e.key(), e.code())).collect();
    // S3's answer for an id that names nothing it could hold.
    assert_eq!(errors, [(Some("keep"), Some("NoSuchVersion"))]);
    let list =
        f.c.list_objects_v2()
            .bucket(&f.b)
            .send()
            .await
            .expect("list");
    let left: Vec<&str> = list.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(left, ["keep"]);
}

/// NEL (U+0085) and LINE SEPARATOR (U+2028) are characters in XML 1.0,
/// not line ends: DeleteObjects of a key holding one deletes that key and
/// not the one with a line feed in its place (the XML reader used XML
/// 1.1's line ends until the fuzzer found it).
#[tokio::test]
async fn delete_objects_keeps_nel_and_line_separator_in_keys() {
    let f = Fixture::new("nel").await;
    let keys = ["a\u{85}b", "a\nb", "c\u{2028}d", "c\nd"];
    for k in keys {
        put(&f.c, &f.b, k, b"x").await;
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
    let path = format!("/{}", f.b);
    let mut req = RawSigned::new("POST", &path).body(body.as_bytes());
    req.query = "delete=";
    req.signed.push(("content-md5", md5));
    let (status, head, answer) = raw_request(f.srv.addr, &req.build(f.srv.addr)).await;
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
        assert_eq!(exists(&f.c, &f.b, k).await, left, "{k:?}");
    }
}

#[tokio::test]
async fn copy_object_directives_and_self_copy() {
    let f = Fixture::new("copy").await;
    let b = &f.b;
    let body = data(2 * CHUNK + 9, 11);
    f.c.put_object()
        .bucket(b)
        .key("src")
        .content_type("text/a")
        .metadata("m", "1")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put");
    let copy = |key: &str, source: &str| f.c.copy_object().bucket(b).key(key).copy_source(source);
    let meta = |h: &aws_sdk_s3::operation::head_object::HeadObjectOutput, name: &str| {
        h.metadata().and_then(|m| m.get(name)).cloned()
    };
    // COPY keeps metadata.
    let out = copy("dst", &format!("{b}/src")).send().await.expect("copy");
    assert_eq!(
        out.copy_object_result().and_then(|r| r.e_tag()),
        Some(etag_of(&body).as_str())
    );
    let h = f.head("dst").await;
    assert_eq!(h.content_type(), Some("text/a"));
    assert_eq!(meta(&h, "m").as_deref(), Some("1"));
    assert_eq!(f.get("dst").await, body);
    // REPLACE takes the request's metadata.
    copy("dst2", &format!("/{b}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/b")
        .metadata("n", "2")
        .send()
        .await
        .expect("replace");
    let h = f.head("dst2").await;
    assert_eq!(h.content_type(), Some("text/b"));
    assert!(h.metadata().is_some(), "meta");
    assert!(meta(&h, "m").is_none());
    assert_eq!(meta(&h, "n").as_deref(), Some("2"));
    // Onto itself: COPY is refused, REPLACE rewrites the metadata (rclone's mtime update).
    let self_copy = copy("src", &format!("{b}/src")).send().await;
    assert_eq!(refused(self_copy, "self copy"), "InvalidRequest");
    copy("src", &format!("{b}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .metadata("mtime", "42")
        .send()
        .await
        .expect("self replace");
    assert_eq!(meta(&f.head("src").await, "mtime").as_deref(), Some("42"));
    assert_eq!(f.get("src").await, body);
    // Copy-source conditionals.
    let not_matched = copy("x", &format!("{b}/src"))
        .copy_source_if_match("\"nope\"")
        .send()
        .await;
    assert_eq!(refused(not_matched, "412"), "PreconditionFailed");
    let missing = copy("x", &format!("{b}/missing")).send().await;
    assert_eq!(refused(missing, "404"), "NoSuchKey");
    // Deleting the source leaves the copy intact.
    f.c.delete_object()
        .bucket(b)
        .key("src")
        .send()
        .await
        .expect("delete src");
    assert_eq!(f.get("dst").await, body);
}

#[tokio::test]
async fn tagging_and_acl_answers() {
    let f = Fixture::new("tags").await;
    f.put("k", ByteStream::from_static(b"x")).await;
    let tagging = |key: &str| f.c.get_object_tagging().bucket(&f.b).key(key).send();
    let t = tagging("k").await.expect("tagging");
    assert!(t.tag_set().is_empty());
    let a = f.c.get_object_acl().bucket(&f.b).key("k").send().await;
    assert_eq!(a.expect("acl").grants().len(), 1);
    assert_eq!(refused(tagging("nope").await, "404"), "NoSuchKey");
}

#[tokio::test]
async fn uploads_share_a_tiny_buffer_budget_without_deadlock() {
    let f = Fixture::with("budget", |c| c.max_buffered_chunks = 1).await;
    let (c, b) = (&f.c, &f.b);
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
        assert_eq!(get_bytes(c, b, &format!("k{i}")).await, body);
    }
}
