//! Lifecycle rules through the AWS SDK for Rust, on the backend under
//! test: the configuration's round trip and refusals, `x-amz-expiration`,
//! and the worker applying `Expiration`, `NoncurrentVersionExpiration`,
//! `ExpiredObjectDeleteMarker` and `AbortIncompleteMultipartUpload` with
//! a lifecycle day of 2 s (`--lifecycle-day-secs`). On Cassandra each test
//! has a keyspace of its own, so that its gateway holds the lifecycle
//! lease with its short day (a gateway of another test would judge the
//! shared keyspace's buckets by a day of 24 h).

use std::time::Duration;

use crate::common;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketVersioningStatus,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleAndOperator,
    LifecycleRuleFilter, NoncurrentVersionExpiration, Tag, Transition, TransitionStorageClass,
};
use aws_sdk_s3::Client;
use common::*;
use s3gw::config::Backend;

/// The lifecycle day of these tests, in seconds.
const DAY_SECS: u64 = 2;
/// How long a rule may take to apply: due at most two days after the
/// write (`types::due_ms`), then a tick of the worker, with room for a
/// loaded machine.
const APPLIES_WITHIN: Duration = Duration::from_secs(30);

/// A gateway with a 2 s lifecycle day and a fresh bucket; on Cassandra in
/// a keyspace of its own (dropped by `done`).
async fn fixture(tag: &str) -> (Fixture, Option<(String, String)>) {
    let mut own = None;
    let backend = match backend_under_test() {
        Backend::Cassandra(_) => {
            let o = own_keyspace("lc", Duration::from_secs(900)).expect("cassandra options");
            s3gw::storage::cassandra::CassandraStorage::migrate(&o)
                .await
                .expect("migrate");
            own = Some((o.contact_points[0].clone(), o.keyspace.clone()));
            Backend::Cassandra(Box::new(o))
        }
        Backend::Embedded => Backend::Embedded,
    };
    let f = Fixture::with(tag, move |c| {
        c.lifecycle_day_secs = DAY_SECS;
        c.backend = backend;
    })
    .await;
    (f, own)
}

async fn done(f: Fixture, own: Option<(String, String)>) {
    f.srv.stop().await;
    if let Some((contact, keyspace)) = own {
        drop_keyspace(&contact, &keyspace).await;
    }
}

fn rule(
    id: &str,
    filter: LifecycleRuleFilter,
) -> aws_sdk_s3::types::builders::LifecycleRuleBuilder {
    LifecycleRule::builder()
        .id(id)
        .status(ExpirationStatus::Enabled)
        .filter(filter)
}

fn prefix(p: &str) -> LifecycleRuleFilter {
    LifecycleRuleFilter::builder().prefix(p).build()
}

fn days(n: i32) -> LifecycleExpiration {
    LifecycleExpiration::builder().days(n).build()
}

async fn put_rules(c: &Client, b: &str, rules: Vec<LifecycleRule>) {
    c.put_bucket_lifecycle_configuration()
        .bucket(b)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .expect("configuration"),
        )
        .send()
        .await
        .expect("put lifecycle");
}

/// Polls `check` until it holds or `APPLIES_WITHIN` passes.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + APPLIES_WITHIN;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < until,
            "{what}: not within {APPLIES_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// (key, version id, is latest, is a marker) of every version in `b`.
async fn versions(c: &Client, b: &str) -> Vec<(String, String, bool, bool)> {
    let out = c
        .list_object_versions()
        .bucket(b)
        .send()
        .await
        .expect("list versions");
    let mut rows: Vec<_> = out
        .versions()
        .iter()
        .map(|v| {
            let key = v.key().unwrap_or_default().to_owned();
            let id = v.version_id().unwrap_or_default().to_owned();
            (key, id, v.is_latest().unwrap_or(false), false)
        })
        .chain(out.delete_markers().iter().map(|m| {
            let key = m.key().unwrap_or_default().to_owned();
            let id = m.version_id().unwrap_or_default().to_owned();
            (key, id, m.is_latest().unwrap_or(false), true)
        }))
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_round_trips_and_what_cannot_be_honoured_is_refused() {
    let f = Fixture::new("lc-config").await;
    let (c, b) = (&f.c, f.b.as_str());
    let missing = c
        .get_bucket_lifecycle_configuration()
        .bucket(b)
        .send()
        .await;
    assert_eq!(
        refused(missing, "no rules yet"),
        "NoSuchLifecycleConfiguration"
    );

    let tag = Tag::builder()
        .key("class")
        .value("tmp")
        .build()
        .expect("tag");
    let and = LifecycleRuleAndOperator::builder()
        .prefix("logs/")
        .tags(tag.clone())
        .object_size_greater_than(10)
        .build();
    let rules = vec![
        rule("logs", LifecycleRuleFilter::builder().and(and).build())
            .expiration(days(30))
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(7)
                    .newer_noncurrent_versions(3)
                    .build(),
            )
            .build()
            .expect("rule"),
        rule("uploads", prefix(""))
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(2)
                    .build(),
            )
            .build()
            .expect("rule"),
        rule("tagged", LifecycleRuleFilter::builder().tag(tag).build())
            .status(ExpirationStatus::Disabled)
            .expiration(days(1))
            .build()
            .expect("rule"),
    ];
    put_rules(c, b, rules.clone()).await;
    let got = c
        .get_bucket_lifecycle_configuration()
        .bucket(b)
        .send()
        .await
        .expect("get lifecycle");
    assert_eq!(got.rules(), rules.as_slice());

    // x-amz-expiration names the rule and the midnight after 30 days;
    // objects no enabled rule selects have none.
    f.put("logs/big", vec![7u8; 11]).await;
    f.put("logs/small", vec![7u8; 5]).await;
    c.put_object_tagging()
        .bucket(b)
        .key("logs/big")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    Tag::builder()
                        .key("class")
                        .value("tmp")
                        .build()
                        .expect("tag"),
                )
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("tag");
    let head = f.head("logs/big").await;
    let expiration = head.expiration().expect("x-amz-expiration");
    assert!(expiration.starts_with("expiry-date=\""), "{expiration}");
    assert!(
        expiration.ends_with(" 00:00:00 GMT\", rule-id=\"logs\""),
        "{expiration}"
    );
    assert_eq!(f.head("logs/small").await.expiration(), None);

    // Transitions: one storage class here, so refused, never ignored.
    let transition = rule("cold", prefix("a/"))
        .transitions(
            Transition::builder()
                .days(30)
                .storage_class(TransitionStorageClass::Glacier)
                .build(),
        )
        .build()
        .expect("rule");
    let refused_put = c
        .put_bucket_lifecycle_configuration()
        .bucket(b)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(transition)
                .build()
                .expect("configuration"),
        )
        .send()
        .await;
    assert_eq!(refused(refused_put, "a transition"), "NotImplemented");
    // The configuration stored before is untouched.
    let again = c
        .get_bucket_lifecycle_configuration()
        .bucket(b)
        .send()
        .await
        .expect("get lifecycle");
    assert_eq!(again.rules().len(), 3);

    c.delete_bucket_lifecycle()
        .bucket(b)
        .send()
        .await
        .expect("delete lifecycle");
    let gone = c
        .get_bucket_lifecycle_configuration()
        .bucket(b)
        .send()
        .await;
    assert_eq!(
        refused(gone, "rules deleted"),
        "NoSuchLifecycleConfiguration"
    );
    assert_eq!(f.head("logs/big").await.expiration(), None);
    f.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiration_and_abandoned_uploads_apply_with_a_short_day() {
    let (f, own) = fixture("lc-expire").await;
    let (c, b) = (&f.c, f.b.as_str());
    put_rules(
        c,
        b,
        vec![
            rule("old", prefix("old/"))
                .expiration(days(1))
                .build()
                .expect("rule"),
            rule("tmp", prefix("tmp/"))
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(1)
                        .build(),
                )
                .build()
                .expect("rule"),
        ],
    )
    .await;
    for key in ["old/a", "old/b/c", "keep/a", "olden"] {
        f.put(key, b"data".to_vec()).await;
    }
    let mut uploads = Vec::new();
    for key in ["tmp/x", "keep/y"] {
        let u = c
            .create_multipart_upload()
            .bucket(b)
            .key(key)
            .send()
            .await
            .expect("create upload");
        uploads.push(u.upload_id().expect("id").to_owned());
    }

    eventually("old/ expired", || async {
        !exists(c, b, "old/a").await && !exists(c, b, "old/b/c").await
    })
    .await;
    eventually("tmp/ upload aborted", || async {
        let out = c.list_multipart_uploads().bucket(b).send().await;
        let out = out.expect("list uploads");
        out.uploads().iter().all(|u| u.key() != Some("tmp/x"))
    })
    .await;
    // What no rule selects stays.
    assert!(exists(c, b, "keep/a").await);
    assert!(exists(c, b, "olden").await);
    let listed = c
        .list_multipart_uploads()
        .bucket(b)
        .send()
        .await
        .expect("list uploads");
    let keys: Vec<_> = listed.uploads().iter().filter_map(|u| u.key()).collect();
    assert_eq!(keys, ["keep/y"]);
    done(f, own).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioned_rules_mark_expire_and_clean_up_with_a_short_day() {
    let (f, own) = fixture("lc-versions").await;
    let (c, b) = (&f.c, f.b.as_str());
    set_versioning(c, b, BucketVersioningStatus::Enabled).await;
    // Written before the rules, so that every one is due by the time the
    // rules are read.
    let cur = f.put("cur/a", b"current".to_vec()).await;
    let cur_id = cur.version_id().expect("id").to_owned();
    let mut nc_ids = Vec::new();
    for body in ["v1", "v2", "v3", "v4"] {
        let out = f.put("nc/k", body.as_bytes().to_vec()).await;
        nc_ids.push(out.version_id().expect("id").to_owned());
    }
    let lone = f.put("dm/k", b"gone".to_vec()).await;
    let del = c
        .delete_object()
        .bucket(b)
        .key("dm/k")
        .send()
        .await
        .expect("marker");
    assert_eq!(del.delete_marker(), Some(true));
    c.delete_object()
        .bucket(b)
        .key("dm/k")
        .version_id(lone.version_id().expect("id"))
        .send()
        .await
        .expect("delete the version behind the marker");
    f.put("keep/k", b"kept".to_vec()).await;
    put_rules(
        c,
        b,
        vec![
            rule("cur", prefix("cur/"))
                .expiration(days(1))
                .build()
                .expect("rule"),
            rule("nc", prefix("nc/"))
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(1)
                        .newer_noncurrent_versions(1)
                        .build(),
                )
                .build()
                .expect("rule"),
            rule("dm", prefix("dm/"))
                .expiration(
                    LifecycleExpiration::builder()
                        .expired_object_delete_marker(true)
                        .build(),
                )
                .build()
                .expect("rule"),
        ],
    )
    .await;

    let expected = |rows: &[(String, String, bool, bool)]| {
        // cur/a: a marker over the version, which stays readable by id.
        let cur: Vec<_> = rows.iter().filter(|r| r.0 == "cur/a").collect();
        let cur_ok = cur.len() == 2
            && cur.iter().any(|r| r.2 && r.3)
            && cur.iter().any(|r| r.1 == cur_id && !r.2 && !r.3);
        // nc/k: the current version and the newest noncurrent one.
        let nc: Vec<_> = rows
            .iter()
            .filter(|r| r.0 == "nc/k")
            .map(|r| &r.1)
            .collect();
        let mut nc_want = vec![&nc_ids[2], &nc_ids[3]];
        nc_want.sort();
        let nc_ok = nc == nc_want;
        // dm/k: the lone marker removed.
        let dm_ok = !rows.iter().any(|r| r.0 == "dm/k");
        cur_ok && nc_ok && dm_ok
    };
    eventually("versioned rules applied", || async {
        expected(&versions(c, b).await)
    })
    .await;
    assert!(!exists(c, b, "cur/a").await);
    let old = c
        .get_object()
        .bucket(b)
        .key("cur/a")
        .version_id(&cur_id)
        .send()
        .await
        .expect("the expired version by id");
    let body = old.body.collect().await.expect("body").to_vec();
    assert_eq!(body, b"current");
    assert_eq!(get_bytes(c, b, "nc/k").await, b"v4");
    assert_eq!(get_bytes(c, b, "keep/k").await, b"kept");
    let rows = versions(c, b).await;
    assert_eq!(
        rows.iter().filter(|r| r.0 == "keep/k").count(),
        1,
        "{rows:?}"
    );
    done(f, own).await;
}
