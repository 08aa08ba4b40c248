//! Versioning through the AWS SDK for Rust and raw requests: the bucket's
//! status, version ids on every write, reads and deletes by version,
//! delete markers and their headers, ListObjectVersions' order, paging and
//! common prefixes, DeleteObjects by version, copies from a version and
//! Completes into a versioned bucket (docs/s3-compatibility.md
//! "Versioning"). Runs on the backend under test.

use crate::common;

use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier,
};
use aws_sdk_s3::Client;
use common::*;

/// Puts `body` at `key`; its version id.
async fn put_version(f: &Fixture, key: &str, body: &'static [u8]) -> String {
    let out = f.put(key, body.to_vec()).await;
    out.version_id().expect("a version id").to_owned()
}

async fn get_version(c: &Client, b: &str, key: &str, v: &str) -> Vec<u8> {
    let out = c
        .get_object()
        .bucket(b)
        .key(key)
        .version_id(v)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}@{v}: {e:?}"));
    out.body.collect().await.expect("body").to_vec()
}

/// (key, version id, is latest, is a marker) of every entry of one
/// ListObjectVersions page.
type Row = (String, String, bool, bool);

async fn list_page(
    c: &Client,
    b: &str,
    prefix: Option<&str>,
    delimiter: Option<&str>,
    max: Option<i32>,
    markers: Option<(String, String)>,
) -> (Vec<Row>, Vec<String>, Option<(String, String)>) {
    let mut req = c
        .list_object_versions()
        .bucket(b)
        .set_prefix(prefix.map(str::to_owned))
        .set_delimiter(delimiter.map(str::to_owned))
        .set_max_keys(max);
    if let Some((k, v)) = markers {
        req = req.key_marker(k).version_id_marker(v);
    }
    let out = req.send().await.expect("list versions");
    // The SDK splits versions and markers; put them back in listing order:
    // by key, then newest first (ids of one key sort newest first within
    // a millisecond).
    type Field<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<bool>,
        Option<&'a aws_smithy_types::DateTime>,
    );
    let fields = out
        .versions()
        .iter()
        .map(|v| {
            (
                (v.key(), v.version_id(), v.is_latest(), v.last_modified()),
                false,
            )
        })
        .chain(out.delete_markers().iter().map(|m| {
            (
                (m.key(), m.version_id(), m.is_latest(), m.last_modified()),
                true,
            )
        }));
    let mut rows: Vec<(Row, i64)> = fields
        .map(|((key, id, latest, t), marker): (Field<'_>, bool)| {
            let t = t.map_or(0, |t| t.to_millis().unwrap_or(0));
            let row = (
                key.unwrap_or_default().to_owned(),
                id.unwrap_or_default().to_owned(),
                latest.unwrap_or(false),
                marker,
            );
            (row, t)
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.0 .0.as_str(), b.1, a.0 .1.as_str()).cmp(&(b.0 .0.as_str(), a.1, b.0 .1.as_str()))
    });
    let prefixes = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix().map(str::to_owned))
        .collect();
    let next = if out.is_truncated() == Some(true) {
        Some((
            out.next_key_marker().unwrap_or_default().to_owned(),
            out.next_version_id_marker().unwrap_or_default().to_owned(),
        ))
    } else {
        None
    };
    (rows.into_iter().map(|r| r.0).collect(), prefixes, next)
}

#[tokio::test]
async fn a_versioned_bucket_keeps_every_write_and_hides_behind_markers() {
    let f = Fixture::new("versions").await;
    let (c, b) = (&f.c, f.b.as_str());
    let status = c
        .get_bucket_versioning()
        .bucket(b)
        .send()
        .await
        .expect("get");
    assert_eq!(status.status(), None, "never versioned");
    // Never versioned: no version id on writes.
    assert_eq!(f.put("plain", b"p".to_vec()).await.version_id(), None);
    set_versioning(c, b, BucketVersioningStatus::Enabled).await;
    let status = c
        .get_bucket_versioning()
        .bucket(b)
        .send()
        .await
        .expect("get");
    assert_eq!(status.status(), Some(&BucketVersioningStatus::Enabled));

    let v1 = put_version(&f, "k", b"one").await;
    let v2 = put_version(&f, "k", b"two").await;
    assert_ne!(v1, v2);
    assert_eq!(f.get("k").await, b"two");
    assert_eq!(get_version(c, b, "k", &v1).await, b"one");
    let head = c
        .head_object()
        .bucket(b)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .expect("head v1");
    assert_eq!(head.version_id(), Some(v1.as_str()));
    assert_eq!(head.content_length(), Some(3));
    // Tags of a noncurrent version change alone.
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key("old")
                .value("yes")
                .build()
                .expect("tag"),
        )
        .build()
        .expect("tagging");
    let put = c
        .put_object_tagging()
        .bucket(b)
        .key("k")
        .version_id(&v1)
        .tagging(tagging)
        .send()
        .await
        .expect("tag v1");
    assert_eq!(put.version_id(), Some(v1.as_str()));
    let tags_of = |v: Option<String>| async move {
        let out = c
            .get_object_tagging()
            .bucket(b)
            .key("k")
            .set_version_id(v)
            .send()
            .await
            .expect("get tags");
        out.tag_set()
            .iter()
            .map(|t| t.key().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(tags_of(Some(v1.clone())).await, ["old"]);
    assert!(
        tags_of(None).await.is_empty(),
        "the current version is untouched"
    );
    // The object written before versioning is the null version.
    let plain = c
        .head_object()
        .bucket(b)
        .key("plain")
        .send()
        .await
        .expect("head");
    assert_eq!(plain.version_id(), Some("null"));

    // A delete writes a marker: the key is gone for GET and listings.
    let del = c
        .delete_object()
        .bucket(b)
        .key("k")
        .send()
        .await
        .expect("delete");
    assert_eq!(del.delete_marker(), Some(true));
    let marker = del.version_id().expect("marker id").to_owned();
    let e = c
        .get_object()
        .bucket(b)
        .key("k")
        .send()
        .await
        .expect_err("404");
    assert_eq!(status_of(&e), Some(404));
    let listed = c.list_objects_v2().bucket(b).send().await.expect("list");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["plain"]);
    // Named by its id, a marker is 405.
    let e = c
        .get_object()
        .bucket(b)
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .expect_err("405");
    assert_eq!(status_of(&e), Some(405));
    let (rows, _, _) = list_page(c, b, Some("k"), None, None, None).await;
    assert_eq!(
        rows,
        vec![
            ("k".into(), marker.clone(), true, true),
            ("k".into(), v2.clone(), false, false),
            ("k".into(), v1.clone(), false, false),
        ]
    );
    // Deleting the marker brings v2 back.
    let del = c
        .delete_object()
        .bucket(b)
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .expect("delete marker");
    assert_eq!(del.delete_marker(), Some(true));
    assert_eq!(del.version_id(), Some(marker.as_str()));
    assert_eq!(f.get("k").await, b"two");
    // Deleting v2 for good brings v1 back.
    c.delete_object()
        .bucket(b)
        .key("k")
        .version_id(&v2)
        .send()
        .await
        .expect("delete v2");
    assert_eq!(f.get("k").await, b"one");
    let e = c
        .get_object()
        .bucket(b)
        .key("k")
        .version_id(&v2)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&e.into_service_error()), "NoSuchVersion");
    let e = c
        .get_object()
        .bucket(b)
        .key("k")
        .version_id("abc")
        .send()
        .await
        .expect_err("bad id");
    assert_eq!(code(&e.into_service_error()), "InvalidArgument");

    // Suspended: writes are the null version, which the next one replaces.
    set_versioning(c, b, BucketVersioningStatus::Suspended).await;
    let s1 = f.put("k", b"s1".to_vec()).await;
    assert_eq!(s1.version_id(), Some("null"));
    f.put("k", b"s2".to_vec()).await;
    let (rows, _, _) = list_page(c, b, Some("k"), None, None, None).await;
    assert_eq!(
        rows,
        vec![
            ("k".into(), "null".into(), true, false),
            ("k".into(), v1.clone(), false, false),
        ]
    );
    assert_eq!(get_version(c, b, "k", "null").await, b"s2");
    // A bucket with versions is not empty.
    let e = c
        .delete_bucket()
        .bucket(b)
        .send()
        .await
        .expect_err("not empty");
    assert_eq!(code(&e.into_service_error()), "BucketNotEmpty");
}

#[tokio::test]
async fn version_listings_page_and_fold_like_s3() {
    let f = Fixture::new("versions-list").await;
    let (c, b) = (&f.c, f.b.as_str());
    set_versioning(c, b, BucketVersioningStatus::Enabled).await;
    for key in ["a", "d/1", "d/2", "z"] {
        put_version(&f, key, b"x").await;
        put_version(&f, key, b"y").await;
    }
    c.delete_object()
        .bucket(b)
        .key("z")
        .send()
        .await
        .expect("marker");
    let (all, _, none) = list_page(c, b, None, None, None, None).await;
    assert_eq!(all.len(), 9);
    assert!(none.is_none());
    // One version a page: every version once, in the same order.
    let mut paged: Vec<Row> = Vec::new();
    let mut next = None;
    loop {
        let (rows, _, more) = list_page(c, b, None, None, Some(1), next).await;
        assert!(rows.len() <= 1);
        paged.extend(rows);
        match more {
            Some(m) => next = Some(m),
            None => break,
        }
    }
    assert_eq!(paged, all);
    // A delimiter folds d/'s four versions into one prefix.
    let (rows, prefixes, _) = list_page(c, b, None, Some("/"), None, None).await;
    assert_eq!(prefixes, ["d/"]);
    let keys: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(keys, ["a", "a", "z", "z", "z"]);
    // max-keys counts versions and prefixes: a, a, d/ then a marker.
    let (rows, prefixes, next) = list_page(c, b, None, Some("/"), Some(3), None).await;
    assert_eq!((rows.len(), prefixes.len()), (2, 1));
    let (rows, prefixes, _) = list_page(c, b, None, Some("/"), None, next).await;
    assert!(prefixes.is_empty(), "d/ is not named twice");
    assert_eq!(rows.len(), 3);
}

#[tokio::test]
async fn deletes_copies_and_completes_by_version() {
    let f = Fixture::new("versions-ops").await;
    let (c, b) = (&f.c, f.b.as_str());
    set_versioning(c, b, BucketVersioningStatus::Enabled).await;
    let v1 = put_version(&f, "k", b"old").await;
    let v2 = put_version(&f, "k", b"new").await;

    // Restoring v1 is a copy of it onto its own key (no REPLACE needed).
    let copied = c
        .copy_object()
        .bucket(b)
        .key("k")
        .copy_source(format!("{b}/k?versionId={v1}"))
        .send()
        .await
        .expect("copy v1");
    assert_eq!(copied.copy_source_version_id(), Some(v1.as_str()));
    let v3 = copied.version_id().expect("new version").to_owned();
    assert!(v3 != v1 && v3 != v2);
    assert_eq!(f.get("k").await, b"old");

    // A Complete into the bucket is a version too.
    let up = c
        .create_multipart_upload()
        .bucket(b)
        .key("k")
        .send()
        .await
        .expect("create");
    let id = up.upload_id().expect("id");
    let part = c
        .upload_part()
        .bucket(b)
        .key("k")
        .upload_id(id)
        .part_number(1)
        .body(b"multi".to_vec().into())
        .send()
        .await
        .expect("part");
    let done = c
        .complete_multipart_upload()
        .bucket(b)
        .key("k")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap_or_default())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let v4 = done.version_id().expect("complete's version").to_owned();
    assert_eq!(f.get("k").await, b"multi");

    // DeleteObjects: two versions by id, and a key without one (a marker).
    let ids = [
        ObjectIdentifier::builder().key("k").version_id(&v4).build(),
        ObjectIdentifier::builder().key("k").version_id(&v2).build(),
        ObjectIdentifier::builder().key("other").build(),
        ObjectIdentifier::builder()
            .key("k")
            .version_id("nope")
            .build(),
    ];
    let out = c
        .delete_objects()
        .bucket(b)
        .delete(
            Delete::builder()
                .set_objects(Some(ids.into_iter().map(|i| i.expect("id")).collect()))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("delete objects");
    let deleted: Vec<(Option<&str>, Option<&str>, Option<bool>)> = out
        .deleted()
        .iter()
        .map(|d| (d.key(), d.version_id(), d.delete_marker()))
        .collect();
    assert!(
        deleted.contains(&(Some("k"), Some(v4.as_str()), None)),
        "{deleted:?}"
    );
    assert!(
        deleted.contains(&(Some("k"), Some(v2.as_str()), None)),
        "{deleted:?}"
    );
    let other = out.deleted().iter().find(|d| d.key() == Some("other"));
    let other = other.expect("the key without a version");
    assert_eq!(other.delete_marker(), Some(true));
    assert!(other.delete_marker_version_id().is_some());
    let errors: Vec<_> = out.errors().iter().map(|e| e.code()).collect();
    assert_eq!(errors, [Some("NoSuchVersion")]);
    // v3 (the restored copy) is current again; v1 stays.
    let (rows, _, _) = list_page(c, b, Some("k"), None, None, None).await;
    let ids: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(ids, [v3.as_str(), v1.as_str()]);
}

/// The marker headers S3 sends on a 404 and a 405, read off the wire.
#[tokio::test]
async fn marker_answers_carry_their_headers() {
    let f = Fixture::new("versions-raw").await;
    let (c, b) = (&f.c, f.b.as_str());
    set_versioning(c, b, BucketVersioningStatus::Enabled).await;
    put_version(&f, "k", b"x").await;
    let del = c
        .delete_object()
        .bucket(b)
        .key("k")
        .send()
        .await
        .expect("delete");
    let marker = del.version_id().expect("marker").to_owned();
    let addr = f.srv.addr;
    let (status, head, _) = raw_request(
        addr,
        &RawSigned::new("HEAD", &format!("/{b}/k")).build(addr),
    )
    .await;
    assert_eq!(status, 404);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("x-amz-delete-marker: true"), "{head}");
    assert!(
        head.contains(&format!("x-amz-version-id: {marker}")),
        "{head}"
    );
    let path = format!("/{b}/k");
    let query = format!("versionId={marker}");
    let req = RawSigned {
        query: &query,
        ..RawSigned::new("GET", &path)
    };
    let (status, head, _) = raw_request(addr, &req.build(addr)).await;
    assert_eq!(status, 405);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("x-amz-delete-marker: true"), "{head}");
    assert!(head.contains("last-modified: "), "{head}");
}
