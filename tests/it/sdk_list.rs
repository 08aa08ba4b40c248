//! Listings through the AWS SDK for Rust: v1 and v2, paging, delimiters,
//! awkward key names.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use common::*;

async fn bucket_with(c: &Client, tag: &str, keys: &[&str]) -> String {
    let b = bucket_name(tag);
    c.create_bucket().bucket(&b).send().await.expect("create");
    for k in keys {
        c.put_object()
            .bucket(&b)
            .key(*k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    b
}

#[tokio::test]
async fn v2_paging_visits_every_key_once() {
    let srv = start().await;
    let c = srv.client();
    let keys: Vec<String> = (0..23).map(|i| format!("k{i:03}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let b = bucket_with(&c, "pagev2", &refs).await;
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = c
            .list_objects_v2()
            .bucket(&b)
            .max_keys(5)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("list");
        pages += 1;
        assert_eq!(out.key_count(), Some(out.contents().len() as i32));
        seen.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        if out.is_truncated() == Some(true) {
            token = out.next_continuation_token().map(str::to_owned);
            assert!(token.is_some());
        } else {
            assert!(out.next_continuation_token().is_none());
            break;
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, keys);
    // The paginator agrees.
    let mut p = c
        .list_objects_v2()
        .bucket(&b)
        .max_keys(7)
        .into_paginator()
        .send();
    let mut n = 0;
    while let Some(page) = p.next().await {
        n += page.expect("page").contents().len();
    }
    assert_eq!(n, 23);
    // start-after
    let out = c
        .list_objects_v2()
        .bucket(&b)
        .start_after("k020")
        .send()
        .await
        .expect("start-after");
    let ks: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(ks, ["k021", "k022"]);
    assert_eq!(out.start_after(), Some("k020"));
    // max-keys 0
    let out = c
        .list_objects_v2()
        .bucket(&b)
        .max_keys(0)
        .send()
        .await
        .expect("zero");
    assert_eq!(out.key_count(), Some(0));
}

#[tokio::test]
async fn delimiter_and_common_prefixes() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_with(
        &c,
        "delim",
        &["a", "d1/x", "d1/y", "d1/z/w", "d2/x", "e", "f/"],
    )
    .await;
    let out = c
        .list_objects_v2()
        .bucket(&b)
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<_> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(keys, ["a", "e"]);
    assert_eq!(prefixes, ["d1/", "d2/", "f/"]);
    assert_eq!(out.key_count(), Some(5));
    let out = c
        .list_objects_v2()
        .bucket(&b)
        .delimiter("/")
        .prefix("d1/")
        .send()
        .await
        .expect("sub");
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<_> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(keys, ["d1/x", "d1/y"]);
    assert_eq!(prefixes, ["d1/z/"]);
    // Paging one entry at a time across prefixes never repeats one.
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .list_objects_v2()
            .bucket(&b)
            .delimiter("/")
            .max_keys(1)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("page");
        all.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        all.extend(
            out.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        if out.is_truncated() != Some(true) {
            break;
        }
        token = out.next_continuation_token().map(str::to_owned);
    }
    assert_eq!(all, ["a", "d1/", "d2/", "e", "f/"]);
}

#[tokio::test]
async fn v1_marker_paging_with_and_without_delimiter() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_with(&c, "pagev1", &["a", "b/1", "b/2", "c", "d/1", "e"]).await;
    let out = c.list_objects().bucket(&b).send().await.expect("list");
    assert_eq!(out.marker(), Some(""));
    assert_eq!(out.contents().len(), 6);
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = c
            .list_objects()
            .bucket(&b)
            .delimiter("/")
            .max_keys(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("page");
        all.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        all.extend(
            out.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        if out.is_truncated() != Some(true) {
            break;
        }
        marker = out.next_marker().map(str::to_owned);
        assert!(marker.is_some(), "NextMarker when truncated");
    }
    all.sort();
    assert_eq!(all, ["a", "b/", "c", "d/", "e"]);
}

#[tokio::test]
async fn awkward_keys_survive_listing_with_url_encoding() {
    let srv = start().await;
    let c = srv.client();
    let keys = [
        "plus+sign",
        "space key",
        "percent%25",
        "ünïcødé/ключ",
        "amp&lt",
        "tab\tkey",
        "q?x=1#h",
    ];
    let b = bucket_with(&c, "awkward", &keys).await;
    for k in keys {
        let out = c
            .get_object()
            .bucket(&b)
            .key(k)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{k}: {e:?}"));
        assert_eq!(out.content_length(), Some(1), "{k}");
    }
    // The SDK asks for encoding-type=url and decodes; keys must come back intact.
    let out = c
        .list_objects_v2()
        .bucket(&b)
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .expect("list");
    let mut got: Vec<_> = out
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .map(|k| {
            percent_encoding::percent_decode_str(k)
                .decode_utf8()
                .expect("utf8")
                .into_owned()
        })
        .collect();
    got.sort();
    let mut want: Vec<_> = keys.iter().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    let raw = c
        .list_objects_v2()
        .bucket(&b)
        .send()
        .await
        .expect("list raw");
    let mut got: Vec<_> = raw
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .map(str::to_owned)
        .collect();
    got.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn fetch_owner_and_v1_owner() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_with(&c, "owner", &["k"]).await;
    let out = c.list_objects_v2().bucket(&b).send().await.expect("list");
    assert!(out.contents()[0].owner().is_none());
    let out = c
        .list_objects_v2()
        .bucket(&b)
        .fetch_owner(true)
        .send()
        .await
        .expect("list");
    assert!(out.contents()[0].owner().is_some());
    let bad = c
        .list_objects_v2()
        .bucket(&b)
        .continuation_token("!!")
        .send()
        .await
        .expect_err("bad token");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&bad.into_service_error()),
        Some("InvalidArgument")
    );
}

#[tokio::test]
async fn max_keys_zero_lists_nothing_and_is_not_truncated() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_with(&c, "maxzero", &["a", "b/c", "d"]).await;
    let v2 = c
        .list_objects_v2()
        .bucket(&b)
        .max_keys(0)
        .send()
        .await
        .expect("v2");
    assert_eq!(v2.is_truncated(), Some(false));
    assert_eq!(v2.key_count(), Some(0));
    assert_eq!(v2.max_keys(), Some(0));
    assert!(v2.contents().is_empty() && v2.next_continuation_token().is_none());
    let v1 = c
        .list_objects()
        .bucket(&b)
        .max_keys(0)
        .delimiter("/")
        .send()
        .await
        .expect("v1");
    assert_eq!(v1.is_truncated(), Some(false));
    assert!(v1.contents().is_empty() && v1.common_prefixes().is_empty());
    assert!(v1.next_marker().is_none());
    let versions = c
        .list_object_versions()
        .bucket(&b)
        .max_keys(0)
        .send()
        .await
        .expect("versions");
    assert_eq!(versions.is_truncated(), Some(false));
    assert!(versions.versions().is_empty() && versions.next_key_marker().is_none());
}

#[tokio::test]
async fn prefixes_with_control_characters_are_echoed() {
    use aws_sdk_s3::types::EncodingType;
    let srv = start().await;
    let c = srv.client();
    let keys = ["ctl\ta", "ctl\nb", "ctl\rc/x", "ctl\rc/y", "ctl\r\nd"];
    let b = bucket_with(&c, "ctlprefix", &keys).await;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .expect("utf8")
            .into_owned()
    };
    // (prefix, keys listed, common prefixes with delimiter "/")
    let cases: [(&str, &[&str], &[&str]); 4] = [
        ("ctl\t", &["ctl\ta"], &[]),
        ("ctl\n", &["ctl\nb"], &[]),
        ("ctl\r", &["ctl\r\nd"], &["ctl\rc/"]),
        ("ctl\r\n", &["ctl\r\nd"], &[]),
    ];
    for (prefix, want_keys, want_prefixes) in cases {
        for url in [false, true] {
            let out = c
                .list_objects_v2()
                .bucket(&b)
                .prefix(prefix)
                .delimiter("/")
                .set_encoding_type(url.then_some(EncodingType::Url))
                .send()
                .await
                .expect("list");
            let d = |s: &str| if url { decode(s) } else { s.to_owned() };
            let what = format!("{prefix:?} url={url}");
            assert_eq!(out.prefix().map(d).as_deref(), Some(prefix), "{what}");
            let got: Vec<String> = out
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .map(d)
                .collect();
            assert_eq!(got, want_keys, "{what}");
            let got: Vec<String> = out
                .common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                .map(d)
                .collect();
            assert_eq!(got, want_prefixes, "{what}");
            let v1 = c
                .list_objects()
                .bucket(&b)
                .prefix(prefix)
                .set_encoding_type(url.then_some(EncodingType::Url))
                .send()
                .await
                .expect("list v1");
            assert_eq!(v1.prefix().map(d).as_deref(), Some(prefix), "v1 {what}");
        }
    }
    // A control character XML 1.0 cannot carry raw: `%01` with
    // encoding-type=url, a character reference without (as S3 writes it).
    let out = c
        .list_objects_v2()
        .bucket(&b)
        .prefix("ctl\u{1}")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .expect("list \\x01");
    assert_eq!(out.prefix(), Some("ctl%01"));
    assert_eq!(out.key_count(), Some(0));
    let path = format!("/{b}");
    let mut req = RawSigned::new("GET", &path);
    req.query = "list-type=2&prefix=ctl%01&delimiter=%02";
    let (status, head, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{head}{body}");
    assert!(body.contains("<Prefix>ctl&#1;</Prefix>"), "{body}");
    assert!(body.contains("<Delimiter>&#2;</Delimiter>"), "{body}");
    // U+0000 stays refused.
    req.query = "list-type=2&prefix=ctl%00";
    let (status, _, body) = raw_request(srv.addr, &req.build(srv.addr)).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
}
