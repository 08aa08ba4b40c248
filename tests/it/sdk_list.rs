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
