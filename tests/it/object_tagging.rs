//! Object tagging (issue 19, item 2), end to end with the SDK: tags put,
//! read, replaced and deleted without touching the object; tags given with
//! PutObject, CopyObject (both directives) and multipart uploads; S3's
//! refusals, which change nothing; `x-amz-tagging-count`; and who may read
//! and change tags. Run on both backends (the Cassandra suite sets
//! `S3GW_TEST_BACKEND`).

use crate::common;

use crate::access_keys::{admin, new_key};
use crate::bucket_tagging::{owned, tagging, Pair};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, TaggingDirective};
use aws_sdk_s3::Client;
use common::{bucket_name, code, code_and_message, header_in, raw_request, RawSigned, TestServer};

async fn put_tags(
    c: &Client,
    b: &str,
    k: &str,
    pairs: &[(&str, &str)],
) -> Result<(), (String, String)> {
    c.put_object_tagging()
        .bucket(b)
        .key(k)
        .tagging(tagging(pairs))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code_and_message(&e))
}

/// The object's tags in the order answered, or the error code.
async fn get_tags(c: &Client, b: &str, k: &str) -> Result<Vec<(String, String)>, String> {
    c.get_object_tagging()
        .bucket(b)
        .key(k)
        .send()
        .await
        .map(|out| {
            out.tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()
        })
        .map_err(|e| code(&e))
}

async fn put(
    c: &Client,
    b: &str,
    k: &str,
    body: Vec<u8>,
    tags: Option<&str>,
) -> Result<(), String> {
    c.put_object()
        .bucket(b)
        .key(k)
        .set_tagging(tags.map(str::to_owned))
        .body(ByteStream::from(body))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code(&e))
}

/// `x-amz-tagging-count` of a signed HEAD, read from the raw answer.
async fn head_tag_count(srv: &TestServer, b: &str, k: &str) -> Option<String> {
    let path = format!("/{b}/{k}");
    let req = RawSigned::new("HEAD", &path).build(srv.addr);
    let (status, head, _) = raw_request(srv.addr, &req).await;
    assert_eq!(status, 200, "{head}");
    header_in(&head, "x-amz-tagging-count").map(str::to_owned)
}

#[tokio::test]
async fn tags_change_and_the_object_stays() {
    let srv = common::start().await;
    let c = srv.client();
    let b = bucket_name("otags");
    c.create_bucket().bucket(&b).send().await.expect("create");
    // A small object (inline where the backend keeps small ones) and one
    // in chunks.
    let small = b"small object".to_vec();
    let large: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for (k, body) in [("small", &small), ("dir/large", &large)] {
        put(&c, &b, k, body.clone(), None).await.expect("put");
        assert_eq!(get_tags(&c, &b, k).await, Ok(vec![]), "{k}: none yet");
        let before = c
            .head_object()
            .bucket(&b)
            .key(k)
            .send()
            .await
            .expect("head");
        assert_eq!(head_tag_count(&srv, &b, k).await, None);

        let set = [
            ("Project", "x-1"),
            ("größe", ""),
            ("a b", "c/d@e:f=g+h_i.j"),
        ];
        put_tags(&c, &b, k, &set).await.expect("put tags");
        assert_eq!(get_tags(&c, &b, k).await, Ok(owned(&set)), "{k}");
        assert_eq!(head_tag_count(&srv, &b, k).await.as_deref(), Some("3"));

        // Nothing else of the object changed.
        let after = c.get_object().bucket(&b).key(k).send().await.expect("get");
        assert_eq!(after.e_tag(), before.e_tag(), "{k}: ETag");
        assert_eq!(after.last_modified(), before.last_modified(), "{k}");
        assert_eq!(after.tag_count(), Some(3), "{k}: GET's count");
        let data = after.body.collect().await.expect("body").into_bytes();
        assert_eq!(&data[..], &body[..], "{k}: data");

        // Replaced whole; then deleted, twice.
        let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let ten: Vec<(&str, &str)> = ten.iter().map(|t| (t.as_str(), "v")).collect();
        put_tags(&c, &b, k, &ten).await.expect("put 10");
        assert_eq!(get_tags(&c, &b, k).await, Ok(owned(&ten)));
        for _ in 0..2 {
            c.delete_object_tagging()
                .bucket(&b)
                .key(k)
                .send()
                .await
                .expect("delete tags");
            assert_eq!(get_tags(&c, &b, k).await, Ok(vec![]));
        }
        assert_eq!(head_tag_count(&srv, &b, k).await, None);
        let data = c.get_object().bucket(&b).key(k).send().await.expect("get");
        let data = data.body.collect().await.expect("body").into_bytes();
        assert_eq!(&data[..], &body[..], "{k}: data after delete");

        // An overwrite brings its own tags (none here).
        put_tags(&c, &b, k, &set).await.expect("put tags");
        put(&c, &b, k, body.clone(), None).await.expect("overwrite");
        assert_eq!(get_tags(&c, &b, k).await, Ok(vec![]), "{k}: overwritten");
    }

    // The version every object of an unversioned bucket has: `null`.
    c.put_object_tagging()
        .bucket(&b)
        .key("small")
        .version_id("null")
        .tagging(tagging(&[("v", "null")]))
        .send()
        .await
        .expect("versionId=null");
    let e = c
        .get_object_tagging()
        .bucket(&b)
        .key("small")
        .version_id("3HL4kqtJlcpXroDTDmJ")
        .send()
        .await
        .expect_err("another version");
    assert_eq!(code(&e), "InvalidArgument");

    // No such key, for each operation.
    assert_eq!(get_tags(&c, &b, "nope").await, Err("NoSuchKey".into()));
    let e = put_tags(&c, &b, "nope", &[("a", "b")])
        .await
        .expect_err("put");
    assert_eq!(e.0, "NoSuchKey");
    let e = c
        .delete_object_tagging()
        .bucket(&b)
        .key("nope")
        .send()
        .await
        .expect_err("delete");
    assert_eq!(code(&e), "NoSuchKey");
    assert_eq!(get_tags(&c, &b, "nope").await, Err("NoSuchKey".into()));
}

#[tokio::test]
async fn tags_come_with_puts_copies_and_uploads() {
    let srv = common::start().await;
    let c = srv.client();
    let b = bucket_name("otagput");
    c.create_bucket().bucket(&b).send().await.expect("create");

    put(
        &c,
        &b,
        "src",
        b"source".to_vec(),
        Some("a=1&b=x%20y&c=p+q&e="),
    )
    .await
    .expect("put with tags");
    let src_tags = owned(&[("a", "1"), ("b", "x y"), ("c", "p q"), ("e", "")]);
    assert_eq!(get_tags(&c, &b, "src").await, Ok(src_tags.clone()));

    let copy = |dest: &'static str| {
        c.copy_object()
            .bucket(&b)
            .key(dest)
            .copy_source(format!("{b}/src"))
    };
    copy("copied").send().await.expect("copy");
    assert_eq!(
        get_tags(&c, &b, "copied").await,
        Ok(src_tags.clone()),
        "COPY, the default"
    );
    copy("replaced")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("new=tag")
        .send()
        .await
        .expect("copy REPLACE");
    assert_eq!(
        get_tags(&c, &b, "replaced").await,
        Ok(owned(&[("new", "tag")]))
    );
    copy("cleared")
        .tagging_directive(TaggingDirective::Replace)
        .send()
        .await
        .expect("copy REPLACE without tags");
    assert_eq!(get_tags(&c, &b, "cleared").await, Ok(vec![]));
    // Tags beside COPY would be dropped, so they are refused.
    let e = copy("refused")
        .tagging("new=tag")
        .send()
        .await
        .expect_err("tags with COPY");
    assert_eq!(code(&e), "InvalidArgument");
    assert_eq!(get_tags(&c, &b, "refused").await, Err("NoSuchKey".into()));

    // A multipart upload's tags are the completed object's.
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .tagging("stage=upload")
        .send()
        .await
        .expect("create upload");
    let id = up.upload_id().expect("id");
    let part = c
        .upload_part()
        .bucket(&b)
        .key("mpu")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"one part"))
        .send()
        .await
        .expect("part");
    c.complete_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().expect("etag"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(
        get_tags(&c, &b, "mpu").await,
        Ok(owned(&[("stage", "upload")]))
    );
}

#[tokio::test]
async fn bad_tags_are_refused_and_change_nothing() {
    let srv = common::start().await;
    let c = srv.client();
    let b = bucket_name("obadtags");
    c.create_bucket().bucket(&b).send().await.expect("create");
    put(&c, &b, "k", b"data".to_vec(), Some("keep=me"))
        .await
        .expect("put");
    let kept = owned(&[("keep", "me")]);

    let names: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let eleven: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
    let long_value = "v".repeat(257);
    let cases: Vec<(&str, Vec<Pair>, &str, &str)> = vec![
        (
            "11 tags",
            eleven,
            "BadRequest",
            "Object tags cannot be greater than 10",
        ),
        (
            "a value of 257 characters",
            vec![("k", long_value.as_str())],
            "InvalidTag",
            "The TagValue you have provided is invalid",
        ),
        (
            "a key with '*'",
            vec![("a*b", "v")],
            "InvalidTag",
            "The TagKey you have provided is invalid",
        ),
        (
            "the same key twice",
            vec![("k", "1"), ("k", "2")],
            "InvalidTag",
            "Cannot provide multiple Tags with the same key",
        ),
        (
            "a key starting with aws:",
            vec![("aws:x", "1")],
            "InvalidTag",
            "Your TagKey cannot be prefixed with aws:",
        ),
    ];
    for (what, pairs, want_code, want_message) in cases {
        let (got_code, got_message) = put_tags(&c, &b, "k", &pairs).await.expect_err(what);
        assert_eq!(
            (got_code.as_str(), got_message.as_str()),
            (want_code, want_message),
            "{what}"
        );
        assert_eq!(get_tags(&c, &b, "k").await, Ok(kept.clone()), "{what}");
    }

    // The header form: each refusal stores nothing.
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}=v")).collect();
    for (what, header, want) in [
        ("a key twice", "a=1&a=2".to_owned(), "InvalidArgument"),
        ("an empty key", "=v".to_owned(), "InvalidArgument"),
        ("not UTF-8", "a=%ff".to_owned(), "InvalidArgument"),
        ("a key with '<'", "a%3Cb=1".to_owned(), "InvalidTag"),
        ("11 tags", eleven.join("&"), "BadRequest"),
    ] {
        let got = put(&c, &b, "new", b"x".to_vec(), Some(&header)).await;
        assert_eq!(got, Err(want.to_owned()), "{what}");
        let e = c
            .create_multipart_upload()
            .bucket(&b)
            .key("new")
            .tagging(header.clone())
            .send()
            .await
            .expect_err(what);
        assert_eq!(code(&e), want, "{what}: CreateMultipartUpload");
    }
    assert_eq!(get_tags(&c, &b, "new").await, Err("NoSuchKey".into()));
    let uploads = c
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect("list uploads");
    assert!(uploads.uploads().is_empty(), "no upload was made");

    // Tags sent where no tags are kept.
    let path = format!("/{b}/k");
    let mut req = RawSigned::new("PUT", &path).body(b"<Tagging><TagSet/></Tagging>");
    req.query = "tagging";
    req.signed.push(("x-amz-tagging", "a=b".to_owned()));
    let (status, _, answer) = raw_request(srv.addr, &req.build(srv.addr)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("<Code>InvalidArgument</Code>"), "{answer}");
    assert_eq!(get_tags(&c, &b, "k").await, Ok(kept.clone()));

    // A body that is no Tagging document.
    let mut req = RawSigned::new("PUT", &path).body(b"<Tagging><TagSet><Tag><Key>k</Key>");
    req.query = "tagging";
    let (status, _, answer) = raw_request(srv.addr, &req.build(srv.addr)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("<Code>MalformedXML</Code>"), "{answer}");
    assert_eq!(get_tags(&c, &b, "k").await, Ok(kept));
}

#[tokio::test]
async fn readers_read_tags_and_writers_change_them() {
    let srv = common::start().await;
    let (_, owner) = new_key(&srv, "otag-owner", true, false).await;
    let (reader_id, reader) = new_key(&srv, "otag-reader", false, false).await;
    let (writer_id, writer) = new_key(&srv, "otag-writer", false, false).await;
    let b = bucket_name("otagperm");
    owner
        .create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("create");
    let a = admin(&srv);
    a.allow(&b, &reader_id, true, false, false)
        .await
        .expect("grant read");
    a.allow(&b, &writer_id, false, true, false)
        .await
        .expect("grant write");
    put(&owner, &b, "k", b"data".to_vec(), Some("env=prod"))
        .await
        .expect("put");
    let set = owned(&[("env", "prod")]);

    assert_eq!(get_tags(&reader, &b, "k").await, Ok(set.clone()));
    let e = put_tags(&reader, &b, "k", &[("env", "dev")]).await;
    assert_eq!(e.map_err(|e| e.0), Err("AccessDenied".into()));
    let e = reader
        .delete_object_tagging()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect_err("reader deletes");
    assert_eq!(code(&e), "AccessDenied");
    assert_eq!(get_tags(&writer, &b, "k").await, Err("AccessDenied".into()));
    put_tags(&writer, &b, "k", &[("env", "dev")])
        .await
        .expect("writer puts");
    assert_eq!(
        get_tags(&owner, &b, "k").await,
        Ok(owned(&[("env", "dev")]))
    );

    // An anonymous reader the bucket's policy lets in gets the object,
    // but not the count of its tags (S3 asks s3:GetObjectTagging for it).
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": format!("arn:aws:s3:::{b}/*")}],
    });
    owner
        .put_bucket_policy()
        .bucket(&b)
        .policy(policy.to_string())
        .send()
        .await
        .expect("policy");
    let request = format!(
        "GET /{b}/k HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        srv.addr
    );
    let (status, head, body) = raw_request(srv.addr, request.as_bytes()).await;
    assert_eq!((status, &body[..]), (200, &b"data"[..]), "{head}");
    assert_eq!(header_in(&head, "x-amz-tagging-count"), None, "{head}");
    let anonymous_tags = format!(
        "GET /{b}/k?tagging HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        srv.addr
    );
    let (status, _, _) = raw_request(srv.addr, anonymous_tags.as_bytes()).await;
    assert_eq!(status, 403, "the policy grants no tagging");
    assert_eq!(head_tag_count(&srv, &b, "k").await.as_deref(), Some("1"));
}
