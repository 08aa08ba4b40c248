//! Bucket operations through the AWS SDK for Rust.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use common::*;

#[tokio::test]
async fn create_list_head_delete() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_name("buckets");
    c.create_bucket().bucket(&b).send().await.expect("create");
    let list = c.list_buckets().send().await.expect("list");
    let names: Vec<_> = list.buckets().iter().filter_map(|b| b.name()).collect();
    assert!(names.contains(&b.as_str()), "{names:?}");
    assert!(list.buckets().iter().all(|b| b.creation_date().is_some()));
    let head = c.head_bucket().bucket(&b).send().await.expect("head");
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    let loc = c
        .get_bucket_location()
        .bucket(&b)
        .send()
        .await
        .expect("location");
    // us-east-1 is an empty constraint, which the SDK reads as "".
    assert_eq!(
        loc.location_constraint().map(|c| c.as_str()).unwrap_or(""),
        ""
    );
    let v = c
        .get_bucket_versioning()
        .bucket(&b)
        .send()
        .await
        .expect("versioning");
    assert!(v.status().is_none());

    // us-east-1: the owner's re-create answers 200 (S3's legacy behaviour).
    c.create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("re-create");

    c.put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put");
    let not_empty = c
        .delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect_err("not empty");
    assert_eq!(code(&not_empty.into_service_error()), "BucketNotEmpty");
    c.delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("delete object");
    c.delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("delete bucket");
    let gone = c.head_bucket().bucket(&b).send().await.expect_err("gone");
    assert!(gone.into_service_error().is_not_found());
    let missing = c
        .delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(code(&missing.into_service_error()), "NoSuchBucket");
}

#[tokio::test]
async fn recreated_bucket_does_not_see_old_data() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_name("recreate");
    c.create_bucket().bucket(&b).send().await.expect("create");
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
    c.delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("delete bucket");
    c.create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("create again");
    let list = c.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(list.key_count(), Some(0));
}

#[tokio::test]
async fn location_constraint_rules() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_name("loc");
    let conf = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    let e = c
        .create_bucket()
        .bucket(&b)
        .create_bucket_configuration(conf)
        .send()
        .await
        .expect_err("wrong region");
    assert_eq!(
        code(&e.into_service_error()),
        "IllegalLocationConstraintException"
    );

    let srv2 = start_with(|c| c.region = "eu-west-1".into()).await;
    // A client that signs for another region is told the gateway's.
    let e = srv2
        .client()
        .list_buckets()
        .send()
        .await
        .expect_err("signed for us-east-1");
    assert_eq!(
        code(&e.into_service_error()),
        "AuthorizationHeaderMalformed"
    );
    let c2 = srv2.client_in_region("eu-west-1");
    let conf = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    c2.create_bucket()
        .bucket(&b)
        .create_bucket_configuration(conf)
        .send()
        .await
        .expect("same region");
    let loc = c2
        .get_bucket_location()
        .bucket(&b)
        .send()
        .await
        .expect("location");
    assert_eq!(
        loc.location_constraint(),
        Some(&BucketLocationConstraint::EuWest1)
    );
    // Outside us-east-1 the owner's re-create is a 409.
    let conf = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    let e = c2
        .create_bucket()
        .bucket(&b)
        .create_bucket_configuration(conf)
        .send()
        .await
        .expect_err("re-create in eu-west-1");
    assert_eq!(status_of(&e), Some(409));
    assert_eq!(code(&e.into_service_error()), "BucketAlreadyOwnedByYou");
    let e = c2
        .create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect_err("re-create without a constraint");
    assert_eq!(code(&e.into_service_error()), "BucketAlreadyOwnedByYou");
    // The constraint answered is the one the bucket was created with.
    let loc = c2
        .get_bucket_location()
        .bucket(&b)
        .send()
        .await
        .expect("location");
    assert_eq!(
        loc.location_constraint(),
        Some(&BucketLocationConstraint::EuWest1)
    );
}

#[tokio::test]
async fn recreate_of_an_owned_bucket_keeps_everything() {
    use aws_sdk_s3::types::BucketVersioningStatus;
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "recreate").await;
    set_versioning(&c, &b, BucketVersioningStatus::Enabled).await;
    put(&c, &b, "k", b"v1").await;
    put(&c, &b, "k", b"v2").await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{b}/*"}}]}}"#
    );
    c.put_bucket_policy()
        .bucket(&b)
        .policy(&policy)
        .send()
        .await
        .expect("policy");
    let before = c
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .iter()
        .find(|x| x.name() == Some(b.as_str()))
        .and_then(|x| x.creation_date().cloned());

    let out = c
        .create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("re-create");
    assert_eq!(out.location(), Some(format!("/{b}").as_str()));

    assert_eq!(get_bytes(&c, &b, "k").await, b"v2");
    let versions = c
        .list_object_versions()
        .bucket(&b)
        .send()
        .await
        .expect("versions");
    assert_eq!(versions.versions().len(), 2);
    let v = c
        .get_bucket_versioning()
        .bucket(&b)
        .send()
        .await
        .expect("versioning");
    assert_eq!(v.status(), Some(&BucketVersioningStatus::Enabled));
    let got = c
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect("policy kept");
    assert!(got.policy().is_some_and(|p| p.contains("s3:GetObject")));
    let after = c
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .iter()
        .find(|x| x.name() == Some(b.as_str()))
        .and_then(|x| x.creation_date().cloned());
    assert_eq!(before, after, "the creation date is kept");
}

#[tokio::test]
async fn invalid_bucket_names_are_rejected() {
    let srv = start().await;
    let c = srv.client();
    for bad in ["ab", "Upper-Case", "under_score", "192.168.1.1", "a..b"] {
        let e = c.create_bucket().bucket(bad).send().await.expect_err(bad);
        assert_eq!(code(&e.into_service_error()), "InvalidBucketName", "{bad}");
    }
}

#[tokio::test]
async fn virtual_hosted_style() {
    let srv = start().await;
    let c = srv.vhost_client();
    let b = bucket_name("vhost");
    c.create_bucket().bucket(&b).send().await.expect("create");
    c.put_object()
        .bucket(&b)
        .key("dir/a b")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("put");
    let got = c
        .get_object()
        .bucket(&b)
        .key("dir/a b")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"hello"
    );
    let list = c.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(list.contents().len(), 1);
    assert_eq!(list.contents()[0].key(), Some("dir/a b"));
    // The same object through a path-style client.
    let p = srv.client();
    let got = p
        .get_object()
        .bucket(&b)
        .key("dir/a b")
        .send()
        .await
        .expect("get path-style");
    assert_eq!(got.content_length(), Some(5));
}

#[tokio::test]
async fn fixed_bucket_subresources() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_name("subres");
    c.create_bucket().bucket(&b).send().await.expect("create");
    let acl = c.get_bucket_acl().bucket(&b).send().await.expect("acl");
    assert_eq!(acl.grants().len(), 1);
    let e = c
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect_err("policy");
    assert_eq!(code(&e.into_service_error()), "NoSuchBucketPolicy");
    let e = c
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect_err("cors");
    assert_eq!(code(&e.into_service_error()), "NoSuchCORSConfiguration");
    let e = c
        .get_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect_err("tagging");
    assert_eq!(code(&e.into_service_error()), "NoSuchTagSet");
}

/// The S3 error code of a failed SDK call.
fn service_code<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    e: aws_sdk_s3::error::SdkError<E>,
) -> String {
    code(&e)
}

/// What S3 answers for configurations never set, as the Terraform AWS
/// provider reads them on every bucket refresh: an empty document, an
/// empty listing, or the "not found" error of each (issue 20 item 5).
#[tokio::test]
async fn unset_configurations_answer_as_s3_does() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_name("unset");
    c.create_bucket().bucket(&b).send().await.expect("create");

    let logging = c.get_bucket_logging().bucket(&b).send().await;
    assert!(logging.expect("logging").logging_enabled().is_none());
    let notification = c
        .get_bucket_notification_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("notification");
    assert!(notification.topic_configurations().is_empty());
    assert!(notification.queue_configurations().is_empty());
    assert!(notification.lambda_function_configurations().is_empty());
    assert!(notification.event_bridge_configuration().is_none());
    let accelerate = c
        .get_bucket_accelerate_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("accelerate");
    assert_eq!(accelerate.status(), None);

    let analytics = c
        .list_bucket_analytics_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("analytics");
    assert!(analytics.analytics_configuration_list().is_empty());
    assert_eq!(analytics.is_truncated(), Some(false));
    let inventory = c
        .list_bucket_inventory_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("inventory");
    assert!(inventory.inventory_configuration_list().is_empty());
    assert_eq!(inventory.is_truncated(), Some(false));
    let metrics = c
        .list_bucket_metrics_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("metrics");
    assert!(metrics.metrics_configuration_list().is_empty());
    assert_eq!(metrics.is_truncated(), Some(false));
    let tiering = c
        .list_bucket_intelligent_tiering_configurations()
        .bucket(&b)
        .send()
        .await
        .expect("intelligent tiering");
    assert!(tiering.intelligent_tiering_configuration_list().is_empty());
    assert_eq!(tiering.is_truncated(), Some(false));

    let missing = [
        (
            "replication",
            c.get_bucket_replication()
                .bucket(&b)
                .send()
                .await
                .err()
                .map(service_code),
        ),
        (
            "object lock",
            c.get_object_lock_configuration()
                .bucket(&b)
                .send()
                .await
                .err()
                .map(service_code),
        ),
        (
            "one analytics configuration",
            c.get_bucket_analytics_configuration()
                .bucket(&b)
                .id("a")
                .send()
                .await
                .err()
                .map(service_code),
        ),
        (
            "one inventory configuration",
            c.get_bucket_inventory_configuration()
                .bucket(&b)
                .id("i")
                .send()
                .await
                .err()
                .map(service_code),
        ),
        (
            "website",
            c.get_bucket_website()
                .bucket(&b)
                .send()
                .await
                .err()
                .map(service_code),
        ),
        (
            "ownership controls",
            c.get_bucket_ownership_controls()
                .bucket(&b)
                .send()
                .await
                .err()
                .map(service_code),
        ),
        (
            "public access block",
            c.get_public_access_block()
                .bucket(&b)
                .send()
                .await
                .err()
                .map(service_code),
        ),
    ];
    let codes: Vec<(&str, Option<String>)> = missing.into_iter().collect();
    let want = [
        ("replication", "ReplicationConfigurationNotFoundError"),
        ("object lock", "ObjectLockConfigurationNotFoundError"),
        ("one analytics configuration", "NoSuchConfiguration"),
        ("one inventory configuration", "NoSuchConfiguration"),
        ("website", "NoSuchWebsiteConfiguration"),
        ("ownership controls", "OwnershipControlsNotFoundError"),
        (
            "public access block",
            "NoSuchPublicAccessBlockConfiguration",
        ),
    ];
    for ((what, got), (_, expected)) in codes.iter().zip(want) {
        assert_eq!(got.as_deref(), Some(expected), "{what}");
    }
    // A bucket that does not exist is still NoSuchBucket.
    let e = c
        .get_bucket_logging()
        .bucket("no-such-bucket-here")
        .send()
        .await;
    assert_eq!(
        code(&e.expect_err("no bucket").into_service_error()),
        "NoSuchBucket"
    );
}

#[tokio::test]
async fn list_buckets_pages_by_prefix_and_region() {
    let srv = start().await;
    let c = srv.client();
    // A prefix of this test's own, so other buckets do not count.
    let stem = bucket_name("lbpage");
    let names: Vec<String> = (0..5).map(|i| format!("{stem}-{i}")).collect();
    for n in &names {
        c.create_bucket().bucket(n).send().await.expect("create");
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .list_buckets()
            .prefix(&stem)
            .max_buckets(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("page");
        pages += 1;
        assert_eq!(out.prefix(), Some(stem.as_str()));
        assert!(out.buckets().len() <= 2);
        seen.extend(
            out.buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_owned)),
        );
        token = out.continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, names);
    // A page that holds the rest carries no token.
    let out = c
        .list_buckets()
        .prefix(&stem)
        .max_buckets(5)
        .send()
        .await
        .expect("one page");
    assert_eq!(out.buckets().len(), 5);
    assert!(out.continuation_token().is_none());
    // The paginator agrees.
    let mut p = c
        .list_buckets()
        .prefix(&stem)
        .max_buckets(3)
        .into_paginator()
        .send();
    let mut n = 0;
    while let Some(page) = p.next().await {
        n += page.expect("page").buckets().len();
    }
    assert_eq!(n, 5);
    // bucket-region filters: every bucket here is in us-east-1.
    let here = c
        .list_buckets()
        .prefix(&stem)
        .bucket_region("us-east-1")
        .send()
        .await
        .expect("region");
    assert_eq!(here.buckets().len(), 5);
    assert!(here
        .buckets()
        .iter()
        .all(|b| b.bucket_region() == Some("us-east-1")));
    let elsewhere = c
        .list_buckets()
        .prefix(&stem)
        .bucket_region("eu-west-1")
        .send()
        .await
        .expect("other region");
    assert!(elsewhere.buckets().is_empty());
    // Without a prefix the answer has no Prefix element.
    let all = c.list_buckets().send().await.expect("all");
    assert!(all.prefix().is_none());
    for (bad, what) in [(0, "max-buckets=0"), (10_001, "max-buckets above 10000")] {
        let e = c
            .list_buckets()
            .max_buckets(bad)
            .send()
            .await
            .expect_err(what);
        assert_eq!(code(&e.into_service_error()), "InvalidArgument", "{what}");
    }
    let e = c
        .list_buckets()
        .continuation_token("!!")
        .send()
        .await
        .expect_err("bad token");
    assert_eq!(code(&e.into_service_error()), "InvalidArgument");
}
