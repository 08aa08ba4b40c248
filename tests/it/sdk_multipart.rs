//! Multipart uploads through the AWS SDK for Rust: parallel parts of mixed
//! sizes, re-uploaded parts, abort, listings with paging, partNumber reads,
//! UploadPartCopy, idempotent Complete and the validation rules.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use common::*;
use md5::{Digest as _, Md5};
use sha2::Sha256;

/// Parts uploaded twice at once (issue 20's conformance list).
mod conformance;

const MIB: usize = 1024 * 1024;

async fn create(c: &Client, b: &str, k: &str) -> String {
    let out = c
        .create_multipart_upload()
        .bucket(b)
        .key(k)
        .send()
        .await
        .expect("create upload");
    out.upload_id().expect("upload id").to_owned()
}

async fn put_part(c: &Client, b: &str, k: &str, id: &str, n: i32, body: Vec<u8>) -> String {
    let out = c
        .upload_part()
        .bucket(b)
        .key(k)
        .upload_id(id)
        .part_number(n)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap_or_else(|e| panic!("part {n}: {e:?}"));
    out.e_tag().expect("etag").to_owned()
}

fn completed(parts: &[(i32, String)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(e).build())
                .collect(),
        ))
        .build()
}

/// CompleteMultipartUpload of `parts` (number, ETag).
async fn complete(
    c: &Client,
    b: &str,
    k: &str,
    id: &str,
    parts: &[(i32, String)],
) -> Result<
    aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput,
    CompleteError,
> {
    complete_if(c, b, k, id, parts, None, None).await
}

/// The de-facto multipart ETag, computed independently of the server.
fn expected_etag(parts: &[&[u8]]) -> String {
    let mut h = Md5::new();
    for p in parts {
        h.update(Md5::digest(p));
    }
    format!("\"{}-{}\"", hex::encode(h.finalize()), parts.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_parts_of_mixed_sizes() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "mpu").await;
    let id = create(&c, &b, "big").await;
    let bodies: Vec<Vec<u8>> = (0..21u64)
        .map(|i| {
            let size = if i == 20 {
                12_345
            } else {
                5 * MIB + (i as usize) * 7_001
            };
            data(size, i)
        })
        .collect();
    let mut tasks = Vec::new();
    // Upload in reverse order, all at once.
    for (i, body) in bodies.iter().enumerate().rev() {
        let (c, b, id, body) = (c.clone(), b.clone(), id.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            (
                i as i32 + 1,
                put_part(&c, &b, "big", &id, i as i32 + 1, body).await,
            )
        }));
    }
    let mut etags = Vec::new();
    for t in tasks {
        etags.push(t.await.expect("task"));
    }
    etags.sort();
    let out = complete(&c, &b, "big", &id, &etags)
        .await
        .expect("complete");
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    assert_eq!(out.e_tag(), Some(expected_etag(&refs).as_str()));
    let whole: Vec<u8> = bodies.concat();
    let got = get_bytes(&c, &b, "big").await;
    assert_eq!(Sha256::digest(&got), Sha256::digest(&whole));
    let head = c
        .head_object()
        .bucket(&b)
        .key("big")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_length(), Some(whole.len() as i64));
    assert_eq!(head.e_tag(), out.e_tag());

    // A range across a part boundary.
    let start = 5 * MIB - 10;
    let r = c
        .get_object()
        .bucket(&b)
        .key("big")
        .range(format!("bytes={}-{}", start, start + 100))
        .send()
        .await
        .expect("range");
    let bytes = r.body.collect().await.expect("body").into_bytes();
    assert_eq!(bytes.as_ref(), &whole[start..start + 101]);

    // partNumber reads return exactly that part and the part count.
    let mut offset = 0;
    for (i, body) in bodies.iter().enumerate() {
        let n = i as i32 + 1;
        if n == 3 || n == 21 {
            let r = c
                .get_object()
                .bucket(&b)
                .key("big")
                .part_number(n)
                .send()
                .await
                .expect("part get");
            assert_eq!(r.parts_count(), Some(21));
            assert_eq!(
                r.content_range(),
                Some(
                    format!(
                        "bytes {}-{}/{}",
                        offset,
                        offset + body.len() - 1,
                        whole.len()
                    )
                    .as_str()
                )
            );
            let bytes = r.body.collect().await.expect("body").into_bytes();
            assert_eq!(bytes.as_ref(), body.as_slice(), "part {n}");
            let h = c
                .head_object()
                .bucket(&b)
                .key("big")
                .part_number(n)
                .send()
                .await
                .expect("part head");
            assert_eq!(h.content_length(), Some(body.len() as i64));
        }
        offset += body.len();
    }
    let e = c
        .get_object()
        .bucket(&b)
        .key("big")
        .part_number(22)
        .send()
        .await
        .expect_err("no part 22");
    assert_eq!(code(&e.into_service_error()), "InvalidPartNumber");
}

#[tokio::test]
async fn reuploaded_part_replaces_the_first_and_complete_is_idempotent() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "reup").await;
    let id = create(&c, &b, "k").await;
    let first = put_part(&c, &b, "k", &id, 1, data(5 * MIB, 1)).await;
    let second_body = data(5 * MIB, 2);
    let second = put_part(&c, &b, "k", &id, 1, second_body.clone()).await;
    assert_ne!(first, second);
    let tail = put_part(&c, &b, "k", &id, 2, b"tail".to_vec()).await;
    let e = complete(&c, &b, "k", &id, &[(1, first), (2, tail.clone())])
        .await
        .expect_err("stale etag");
    assert_eq!(code(&e.into_service_error()), "InvalidPart");
    let parts = [(1, second.clone()), (2, tail.clone())];
    let out = complete(&c, &b, "k", &id, &parts).await.expect("complete");
    let again = complete(&c, &b, "k", &id, &parts)
        .await
        .expect("retried complete");
    assert_eq!(out.e_tag(), again.e_tag());
    assert_eq!(
        get_bytes(&c, &b, "k").await,
        [second_body.as_slice(), b"tail"].concat()
    );
    // The upload is gone for everything else.
    let e = c
        .list_parts()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&e.into_service_error()), "NoSuchUpload");
}

#[tokio::test]
async fn validation_rules() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "rules").await;
    let id = create(&c, &b, "k").await;
    // Small parts are accepted at UploadPart and refused at Complete.
    let e1 = put_part(&c, &b, "k", &id, 1, b"one".to_vec()).await;
    let e2 = put_part(&c, &b, "k", &id, 2, b"two".to_vec()).await;
    let e = complete(&c, &b, "k", &id, &[(1, e1.clone()), (2, e2.clone())])
        .await
        .expect_err("too small");
    assert_eq!(code(&e.into_service_error()), "EntityTooSmall");
    let e = complete(&c, &b, "k", &id, &[(2, e2.clone()), (1, e1.clone())])
        .await
        .expect_err("order");
    assert_eq!(code(&e.into_service_error()), "InvalidPartOrder");
    let e = complete(&c, &b, "k", &id, &[(3, e1.clone())])
        .await
        .expect_err("unknown part");
    assert_eq!(code(&e.into_service_error()), "InvalidPart");
    // A single small part is a valid object; an unquoted ETag is accepted.
    let out = complete(&c, &b, "k", &id, &[(2, e2.trim_matches('"').to_owned())])
        .await
        .expect("one part");
    assert_eq!(out.e_tag(), Some(expected_etag(&[b"two"]).as_str()));
    assert_eq!(get_bytes(&c, &b, "k").await, b"two");
    for bad in [0, 10_001] {
        let e = c
            .upload_part()
            .bucket(&b)
            .key("k2")
            .upload_id(&id)
            .part_number(bad)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect_err("bad number");
        assert_eq!(code(&e.into_service_error()), "InvalidArgument", "{bad}");
    }
    let e = c
        .upload_part()
        .bucket(&b)
        .key("k")
        .upload_id("nonexistent")
        .part_number(1)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("unknown upload");
    assert_eq!(code(&e.into_service_error()), "NoSuchUpload");
}

#[tokio::test]
async fn abort_releases_the_upload() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "abort").await;
    let id = create(&c, &b, "k").await;
    put_part(&c, &b, "k", &id, 1, data(100_000, 3)).await;
    c.abort_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect("abort");
    let e = c
        .upload_part()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("after abort");
    assert_eq!(code(&e.into_service_error()), "NoSuchUpload");
    let e = c
        .abort_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect_err("abort twice");
    assert_eq!(code(&e.into_service_error()), "NoSuchUpload");
    let list = c
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect("list");
    assert!(list.uploads().is_empty());
    let e = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("no object");
    assert!(e.into_service_error().is_not_found());
    // A bucket with an upload in progress can be deleted; its upload goes too.
    let id2 = create(&c, &b, "k2").await;
    put_part(&c, &b, "k2", &id2, 1, b"x".to_vec()).await;
    c.delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("delete bucket");
}

#[tokio::test]
async fn list_parts_and_uploads_with_paging() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "lists").await;
    let id = create(&c, &b, "k").await;
    for n in 1..=5 {
        put_part(&c, &b, "k", &id, n, data(1000 + n as usize, n as u64)).await;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = c
            .list_parts()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .max_parts(2)
            .set_part_number_marker(marker.clone())
            .send()
            .await
            .expect("list parts");
        for p in out.parts() {
            seen.push(p.part_number().expect("n"));
            assert_eq!(
                p.size(),
                Some(1000 + i64::from(p.part_number().expect("n")))
            );
        }
        if out.is_truncated() != Some(true) {
            break;
        }
        marker = out.next_part_number_marker().map(str::to_owned);
    }
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);

    let mut ids = vec![(String::from("k"), id.clone())];
    for k in ["a/1", "a/2", "b", "b"] {
        ids.push((k.to_owned(), create(&c, &b, k).await));
    }
    ids.sort();
    let mut listed = Vec::new();
    let (mut km, mut im): (Option<String>, Option<String>) = (None, None);
    loop {
        let out = c
            .list_multipart_uploads()
            .bucket(&b)
            .max_uploads(2)
            .set_key_marker(km.clone())
            .set_upload_id_marker(im.clone())
            .send()
            .await
            .expect("list uploads");
        for u in out.uploads() {
            listed.push((
                u.key().expect("key").to_owned(),
                u.upload_id().expect("id").to_owned(),
            ));
        }
        if out.is_truncated() != Some(true) {
            break;
        }
        km = out.next_key_marker().map(str::to_owned);
        im = out.next_upload_id_marker().map(str::to_owned);
    }
    assert_eq!(listed, ids);
    let out = c
        .list_multipart_uploads()
        .bucket(&b)
        .delimiter("/")
        .send()
        .await
        .expect("delimited");
    let keys: Vec<_> = out.uploads().iter().filter_map(|u| u.key()).collect();
    assert_eq!(keys, ["b", "b", "k"]);
    let prefixes: Vec<_> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["a/"]);
    let out = c
        .list_multipart_uploads()
        .bucket(&b)
        .prefix("a/")
        .send()
        .await
        .expect("prefix");
    assert_eq!(out.uploads().len(), 2);
}

#[tokio::test]
async fn upload_part_copy_from_a_large_source() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "partcopy").await;
    let src = data(12 * MIB + 777, 42);
    c.put_object()
        .bucket(&b)
        .key("src")
        .body(ByteStream::from(src.clone()))
        .send()
        .await
        .expect("put source");
    let id = create(&c, &b, "dst").await;
    let cut = 6 * MIB;
    let mut parts = Vec::new();
    for (n, range) in [
        (1, format!("bytes=0-{}", cut - 1)),
        (2, format!("bytes={}-{}", cut, src.len() - 1)),
    ] {
        let out = c
            .upload_part_copy()
            .bucket(&b)
            .key("dst")
            .upload_id(&id)
            .part_number(n)
            .copy_source(format!("{b}/src"))
            .copy_source_range(range)
            .send()
            .await
            .expect("part copy");
        parts.push((
            n,
            out.copy_part_result()
                .and_then(|r| r.e_tag())
                .expect("etag")
                .to_owned(),
        ));
    }
    let e = c
        .upload_part_copy()
        .bucket(&b)
        .key("dst")
        .upload_id(&id)
        .part_number(3)
        .copy_source(format!("{b}/src"))
        .copy_source_range(format!("bytes=0-{}", src.len()))
        .send()
        .await
        .expect_err("range past the end");
    assert_eq!(code(&e.into_service_error()), "InvalidRange");
    let out = complete(&c, &b, "dst", &id, &parts)
        .await
        .expect("complete");
    assert_eq!(
        out.e_tag(),
        Some(expected_etag(&[&src[..cut], &src[cut..]]).as_str())
    );
    assert_eq!(
        Sha256::digest(get_bytes(&c, &b, "dst").await),
        Sha256::digest(&src)
    );
}

#[tokio::test]
async fn checksums_full_object_and_composite() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "mpuck").await;
    let bodies = [data(5 * MIB, 7), data(300_000, 8)];
    let whole = bodies.concat();
    for (alg, key) in [
        (ChecksumAlgorithm::Crc64Nvme, "full"),
        (ChecksumAlgorithm::Crc32, "composite"),
    ] {
        let id = c
            .create_multipart_upload()
            .bucket(&b)
            .key(key)
            .checksum_algorithm(alg.clone())
            .send()
            .await
            .expect("create")
            .upload_id()
            .expect("id")
            .to_owned();
        let mut parts = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let n = i as i32 + 1;
            let out = c
                .upload_part()
                .bucket(&b)
                .key(key)
                .upload_id(&id)
                .part_number(n)
                .checksum_algorithm(alg.clone())
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .expect("part");
            let mut p = CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().expect("etag"));
            p = match alg {
                ChecksumAlgorithm::Crc64Nvme => {
                    p.checksum_crc64_nvme(out.checksum_crc64_nvme().expect("part crc64 echoed"))
                }
                _ => p.checksum_crc32(out.checksum_crc32().expect("part crc32 echoed")),
            };
            parts.push(p.build());
        }
        let done = c
            .complete_multipart_upload()
            .bucket(&b)
            .key(key)
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .expect("complete");
        let got = c
            .get_object()
            .bucket(&b)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("get");
        match alg {
            ChecksumAlgorithm::Crc64Nvme => {
                // A full-object CRC64NVME the SDK validates while reading.
                let value = got.checksum_crc64_nvme().expect("crc64").to_owned();
                assert_eq!(done.checksum_crc64_nvme(), Some(value.as_str()));
                assert!(!value.contains('-'));
            }
            _ => {
                let value = got.checksum_crc32().expect("crc32").to_owned();
                assert!(value.ends_with("-2"), "composite value {value}");
            }
        }
        let bytes = got
            .body
            .collect()
            .await
            .expect("validated body")
            .into_bytes();
        assert_eq!(Sha256::digest(&bytes), Sha256::digest(&whole));
    }
}

#[tokio::test]
async fn complete_checks_an_announced_full_object_checksum() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "announced").await;
    let body = data(1000, 5);
    let mut parts = Vec::new();
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .checksum_type(aws_sdk_s3::types::ChecksumType::FullObject)
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_owned();
    let out = c
        .upload_part()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("part");
    parts.push((1, out.e_tag().expect("etag").to_owned()));
    // The whole-object CRC32 of a single part is that part's CRC32.
    let right = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(
            &crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &body).to_be_bytes()[4..],
        )
    };
    let e = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .checksum_crc32("AAAAAA==")
        .multipart_upload(completed(&parts))
        .send()
        .await
        .expect_err("wrong whole-object crc");
    assert_eq!(code(&e.into_service_error()), "BadDigest");
    let done = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .checksum_crc32(&right)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .expect("right crc");
    assert_eq!(done.checksum_crc32(), Some(right.as_str()));
}

type CompleteError = aws_sdk_s3::error::SdkError<
    aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadError,
>;

/// CompleteMultipartUpload with `If-Match` and/or `If-None-Match`.
async fn complete_if(
    c: &Client,
    b: &str,
    k: &str,
    id: &str,
    parts: &[(i32, String)],
    if_match: Option<&str>,
    if_none_match: Option<&str>,
) -> Result<
    aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput,
    CompleteError,
> {
    c.complete_multipart_upload()
        .bucket(b)
        .key(k)
        .upload_id(id)
        .multipart_upload(completed(parts))
        .set_if_match(if_match.map(str::to_owned))
        .set_if_none_match(if_none_match.map(str::to_owned))
        .send()
        .await
}

/// Conditional Complete, as AWS answers it: `If-None-Match: *` fails with
/// 412 when the key exists, `If-Match` with 412 when the ETag differs and
/// 404 `NoSuchKey` when there is no object; a failed condition writes
/// nothing and leaves the upload, so the client may retry; any other
/// `If-None-Match`, or both headers, is 501. A retry after the upload
/// completed answers with the object it made, whatever its condition.
#[tokio::test]
async fn conditional_complete() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "cond-complete").await;
    let old = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"old"))
        .send()
        .await
        .expect("put");
    let old_etag = old.e_tag().expect("etag").to_owned();
    let id = create(&c, &b, "k").await;
    let body = data(1000, 7);
    let parts = [(1, put_part(&c, &b, "k", &id, 1, body.clone()).await)];

    let e = complete_if(&c, &b, "k", &id, &parts, None, Some("*"))
        .await
        .expect_err("the key exists");
    assert_eq!(status_of(&e), Some(412));
    assert_eq!(code(&e.into_service_error()), "PreconditionFailed");
    assert_eq!(get_bytes(&c, &b, "k").await, b"old");

    let e = complete_if(&c, &b, "k", &id, &parts, Some("\"0123\""), None)
        .await
        .expect_err("another ETag");
    assert_eq!(status_of(&e), Some(412));
    assert_eq!(code(&e.into_service_error()), "PreconditionFailed");
    assert_eq!(get_bytes(&c, &b, "k").await, b"old");

    for (if_match, if_none_match) in [
        (None, Some(old_etag.as_str())),
        (Some(old_etag.as_str()), Some("*")),
    ] {
        let e = complete_if(&c, &b, "k", &id, &parts, if_match, if_none_match)
            .await
            .expect_err("not implemented");
        assert_eq!(status_of(&e), Some(501), "{if_match:?} {if_none_match:?}");
        assert_eq!(code(&e.into_service_error()), "NotImplemented");
    }
    assert_eq!(get_bytes(&c, &b, "k").await, b"old");

    // The upload is intact: If-Match with the current ETag (unquoted)
    // completes it.
    let out = complete_if(
        &c,
        &b,
        "k",
        &id,
        &parts,
        Some(old_etag.trim_matches('"')),
        None,
    )
    .await
    .expect("if-match holds");
    assert_eq!(out.e_tag(), Some(expected_etag(&[&body]).as_str()));
    assert_eq!(get_bytes(&c, &b, "k").await, body);
    // A retry of the completed upload answers as the first request did,
    // though the key now exists.
    let again = complete_if(&c, &b, "k", &id, &parts, None, Some("*"))
        .await
        .expect("retried complete");
    assert_eq!(again.e_tag(), out.e_tag());

    // If-Match on a key without an object: 404 NoSuchKey, and the upload
    // stays for a retry with If-None-Match.
    let id = create(&c, &b, "fresh").await;
    let parts = [(1, put_part(&c, &b, "fresh", &id, 1, body.clone()).await)];
    let e = complete_if(&c, &b, "fresh", &id, &parts, Some(&old_etag), None)
        .await
        .expect_err("no object");
    assert_eq!(status_of(&e), Some(404));
    assert_eq!(code(&e.into_service_error()), "NoSuchKey");
    let e = c
        .head_object()
        .bucket(&b)
        .key("fresh")
        .send()
        .await
        .expect_err("nothing written");
    assert!(e.into_service_error().is_not_found());
    complete_if(&c, &b, "fresh", &id, &parts, None, Some("*"))
        .await
        .expect("if-none-match holds");
    assert_eq!(get_bytes(&c, &b, "fresh").await, body);
}
