//! Bucket tagging (issue 19, item 2), end to end with the SDK: a tag set
//! is put, read back in its order, replaced whole and deleted; S3's rules
//! refuse a bad set with its error and change nothing; readers may read
//! the tags and only owners change them. Run on both backends (the
//! Cassandra suite sets `S3GW_TEST_BACKEND`).

use crate::common;

use crate::access_keys::{admin, new_key};
use aws_sdk_s3::types::{Tag, Tagging};
use aws_sdk_s3::Client;
use common::{bucket_name, code, code_and_message, raw_request, RawSigned};

/// A `Tagging` document of `pairs`, in their order.
pub(crate) fn tagging(pairs: &[(&str, &str)]) -> Tagging {
    let tags = pairs
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build().expect("tag"))
        .collect();
    Tagging::builder()
        .set_tag_set(Some(tags))
        .build()
        .expect("tagging")
}

async fn put_tags(c: &Client, b: &str, pairs: &[(&str, &str)]) -> Result<(), (String, String)> {
    c.put_bucket_tagging()
        .bucket(b)
        .tagging(tagging(pairs))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code_and_message(&e))
}

/// The bucket's tags in the order answered, or the error code.
async fn get_tags(c: &Client, b: &str) -> Result<Vec<(String, String)>, String> {
    c.get_bucket_tagging()
        .bucket(b)
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

/// A tag as the SDK's builders take it.
pub(crate) type Pair<'a> = (&'a str, &'a str);

pub(crate) fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn tags_are_put_read_replaced_and_deleted() {
    let srv = common::start().await;
    let c = srv.client();
    let b = bucket_name("tags");
    c.create_bucket().bucket(&b).send().await.expect("create");
    assert_eq!(get_tags(&c, &b).await, Err("NoSuchTagSet".into()));

    let first = [
        ("z-last", "1"),
        ("Größe", ""),
        ("team space", "a/b@c:d=e+f_g.h"),
    ];
    put_tags(&c, &b, &first).await.expect("put");
    assert_eq!(
        get_tags(&c, &b).await,
        Ok(owned(&first)),
        "kept in the order put"
    );

    // Fifty tags, the longest key and value: the most S3 allows.
    let long_key = "k".repeat(128);
    let long_value = "v".repeat(256);
    let names: Vec<String> = (0..49).map(|i| format!("t{i:02}")).collect();
    let mut fifty: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "x")).collect();
    fifty.push((long_key.as_str(), long_value.as_str()));
    put_tags(&c, &b, &fifty).await.expect("put 50");
    assert_eq!(get_tags(&c, &b).await, Ok(owned(&fifty)), "replaced whole");

    c.delete_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    assert_eq!(get_tags(&c, &b).await, Err("NoSuchTagSet".into()));
    // Deleting tags a bucket does not have is not an error, as in S3.
    c.delete_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect("delete again");

    // An empty tag set leaves the bucket without tags.
    put_tags(&c, &b, &first).await.expect("put");
    put_tags(&c, &b, &[]).await.expect("put empty");
    assert_eq!(get_tags(&c, &b).await, Err("NoSuchTagSet".into()));

    // Tags go with the bucket: a new bucket of the same name has none.
    put_tags(&c, &b, &first).await.expect("put");
    c.delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("delete bucket");
    assert_eq!(get_tags(&c, &b).await, Err("NoSuchBucket".into()));
    c.create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("re-create");
    assert_eq!(get_tags(&c, &b).await, Err("NoSuchTagSet".into()));
    let missing = bucket_name("no-such");
    assert_eq!(
        put_tags(&c, &missing, &first).await.map_err(|e| e.0),
        Err("NoSuchBucket".into())
    );
}

#[tokio::test]
async fn bad_tag_sets_are_refused_and_change_nothing() {
    let srv = common::start().await;
    let c = srv.client();
    let b = bucket_name("badtags");
    c.create_bucket().bucket(&b).send().await.expect("create");
    let kept = [("keep", "me")];
    put_tags(&c, &b, &kept).await.expect("put");

    let names: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    let too_many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let cases: Vec<(&str, Vec<Pair>, &str, &str)> = vec![
        (
            "51 tags",
            too_many,
            "BadRequest",
            "Bucket tags cannot be greater than 50",
        ),
        (
            "a key of 129 characters",
            vec![(long_key.as_str(), "")],
            "InvalidTag",
            "The TagKey you have provided is invalid",
        ),
        (
            "a value of 257 characters",
            vec![("k", long_value.as_str())],
            "InvalidTag",
            "The TagValue you have provided is invalid",
        ),
        (
            "an empty key",
            vec![("", "v")],
            "InvalidTag",
            "The TagKey you have provided is invalid",
        ),
        (
            "a key with '*'",
            vec![("a*b", "v")],
            "InvalidTag",
            "The TagKey you have provided is invalid",
        ),
        (
            "a value with ';'",
            vec![("k", "a;b")],
            "InvalidTag",
            "The TagValue you have provided is invalid",
        ),
        (
            "the same key twice",
            vec![("k", "1"), ("k", "2")],
            "InvalidTag",
            "Cannot provide multiple Tags with the same key",
        ),
        (
            "a key starting with aws:",
            vec![("aws:createdBy", "me")],
            "InvalidTag",
            "Your TagKey cannot be prefixed with aws:",
        ),
    ];
    for (what, pairs, want_code, want_message) in cases {
        let (got_code, got_message) = put_tags(&c, &b, &pairs).await.expect_err(what);
        assert_eq!(
            (got_code.as_str(), got_message.as_str()),
            (want_code, want_message),
            "{what}"
        );
        assert_eq!(
            get_tags(&c, &b).await,
            Ok(owned(&kept)),
            "{what} changed the tags"
        );
    }

    // Bodies that are not a Tagging document.
    let path = format!("/{b}");
    for (what, body) in [
        ("not XML", &b"tags please"[..]),
        ("no TagSet", b"<Tagging></Tagging>"),
        (
            "a Tag without a Value",
            b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
        ),
        (
            "not UTF-8",
            b"<Tagging><TagSet><Tag><Key>\xff</Key><Value/></Tag></TagSet></Tagging>",
        ),
    ] {
        let mut req = RawSigned::new("PUT", &path).body(body);
        req.query = "tagging";
        let (status, _, answer) = raw_request(srv.addr, &req.build(srv.addr)).await;
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(status, 400, "{what}: {answer}");
        assert!(
            answer.contains("<Code>MalformedXML</Code>"),
            "{what}: {answer}"
        );
    }
    // Over the body limit: refused before it is parsed.
    let huge = vec![b' '; 128 * 1024 + 1];
    let mut req = RawSigned::new("PUT", &path).body(&huge);
    req.query = "tagging";
    let (status, _, answer) = raw_request(srv.addr, &req.build(srv.addr)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("<Code>MaxMessageLengthExceeded</Code>"),
        "{answer}"
    );
    assert_eq!(get_tags(&c, &b).await, Ok(owned(&kept)));
}

#[tokio::test]
async fn readers_read_tags_and_only_owners_change_them() {
    let srv = common::start().await;
    let (_, owner) = new_key(&srv, "tag-owner", true, false).await;
    let (reader_id, reader) = new_key(&srv, "tag-reader", false, false).await;
    let (_, stranger) = new_key(&srv, "tag-stranger", false, false).await;
    let b = bucket_name("tagperm");
    owner
        .create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("create");
    admin(&srv)
        .allow(&b, &reader_id, true, false, false)
        .await
        .expect("grant read");
    let set = [("env", "prod")];
    put_tags(&owner, &b, &set).await.expect("owner puts");

    assert_eq!(get_tags(&reader, &b).await, Ok(owned(&set)));
    assert_eq!(
        put_tags(&reader, &b, &[("env", "dev")])
            .await
            .map_err(|e| e.0),
        Err("AccessDenied".into())
    );
    let e = reader
        .delete_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect_err("reader deletes");
    assert_eq!(code(&e), "AccessDenied");
    assert_eq!(get_tags(&stranger, &b).await, Err("AccessDenied".into()));
    assert_eq!(get_tags(&owner, &b).await, Ok(owned(&set)), "unchanged");
}
