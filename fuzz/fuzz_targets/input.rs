//! Typed requests: `Input::parse` on every routed S3 operation, from a
//! method, a path and query, a Host and headers, as the pipeline parses
//! them after authentication.
//!
//! Input: line 1 method, line 2 path and query, line 3 Host, the other
//! lines `name:value` headers.
//!
//! Invariants:
//! * parsing never panics, and is deterministic;
//! * an accepted object operation's key is the routed key, 1 to 1024
//!   bytes; a part number is within 1..=10000; an upload id has the one
//!   form the gateway hands out; a page size is at most 1000;
//! * GetObject never holds both a part number and a range;
//! * ListObjectVersions never holds a version-id marker without a key
//!   marker;
//! * the tags of an accepted PutObject, CopyObject (`REPLACE`) or
//!   CreateMultipartUpload are at most 10 and keep S3's tag rules.

#![no_main]

use libfuzzer_sys::fuzz_target;
use s3gw::http::{Query, Route, Routed};
use s3gw::s3::input::{Input, PartTarget, UploadTarget};
use s3gw::types::{TagSet, UploadId, MAX_KEY_BYTES, MAX_OBJECT_TAGS};
use s3gw_fuzz::{header_pairs, lines, request_parts};

fn check_upload(route: &Route, t: &UploadTarget) {
    assert_eq!(Some(&*t.key), route.key.as_deref());
    assert_eq!(UploadId::parse(&t.upload_id), Some(t.upload_id.clone()));
}

fn check_part(route: &Route, t: &PartTarget) {
    check_upload(route, &t.upload);
    assert!((1..=10_000).contains(&t.part_number.get()));
}

/// An accepted `x-amz-tagging` keeps S3's rules for an object's tags:
/// checking it again as a tag set accepts it unchanged.
fn tags_ok(tags: &TagSet) {
    assert!(tags.len() <= MAX_OBJECT_TAGS);
    let pairs: Vec<(String, String)> = tags
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let again = TagSet::new(pairs, MAX_OBJECT_TAGS).expect("an accepted tag set stays valid");
    assert_eq!(&again, tags);
}

fuzz_target!(|data: &[u8]| {
    let l = lines(data);
    if l.len() < 3 {
        return;
    }
    let Some(parts) = request_parts(l[0], l[1], &header_pairs(&l[3..])) else {
        return;
    };
    let host = std::str::from_utf8(l[2]).ok();
    let Some(query) = Query::parse(parts.uri.query()) else {
        return;
    };
    let copy = parts.headers.contains_key("x-amz-copy-source");
    let Ok(Routed::S3(route)) = Route::from_request(
        &parts.method,
        parts.uri.path(),
        query,
        host,
        copy,
        Some("s3.local"),
    ) else {
        return;
    };
    let first = Input::parse(&route, &parts.headers);
    let again = Input::parse(&route, &parts.headers);
    assert_eq!(format!("{first:?}"), format!("{again:?}"));
    let Ok(input) = first else {
        return;
    };
    let key_ok = |k: &str| {
        assert_eq!(Some(k), route.key.as_deref());
        assert!(!k.is_empty() && k.len() <= MAX_KEY_BYTES);
    };
    match &input {
        Input::GetObject(i) | Input::HeadObject(i) => {
            key_ok(&i.target.key);
            assert!(i.part_number.is_none() || i.range.is_none());
            if let Some(n) = i.part_number {
                assert!((1..=10_000).contains(&n.get()));
            }
        }
        Input::PutObject(i) => {
            key_ok(&i.key);
            tags_ok(&i.tags);
        }
        Input::CopyObject(i) => {
            key_ok(&i.key);
            if let Some(tags) = &i.tags {
                tags_ok(tags);
            }
        }
        Input::DeleteObject(t)
        | Input::GetObjectTagging(t)
        | Input::PutObjectTagging(t)
        | Input::DeleteObjectTagging(t)
        | Input::GetObjectAcl(t) => key_ok(&t.key),
        Input::CreateMultipartUpload(i) => {
            key_ok(&i.key);
            tags_ok(&i.tags);
        }
        Input::UploadPart(t) => check_part(&route, t),
        Input::UploadPartCopy(i) => {
            check_part(&route, &i.part);
            if let Some((first, last)) = i.source_range {
                assert!(first <= last);
            }
        }
        Input::CompleteMultipartUpload(i) => check_upload(&route, &i.upload),
        Input::AbortMultipartUpload(t) => check_upload(&route, t),
        Input::ListParts(i) => {
            check_upload(&route, &i.upload);
            assert!(i.max_parts <= 1000);
        }
        Input::ListObjects(i) => assert!(i.params.max <= 1000),
        Input::ListObjectsV2(i) => assert!(i.params.max <= 1000),
        Input::ListMultipartUploads(i) => assert!(i.params.max <= 1000),
        Input::ListObjectVersions(i) => {
            assert!(i.params.max <= 1000);
            assert!(i.version_id_marker.is_none() || i.key_marker.is_some());
        }
        _ => {}
    }
});
