//! The access-key part of the storage contract (`KeyStore`, and grants on
//! bucket records), on the embedded store and on Cassandra.

use crate::common;

use std::time::Duration;

use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::embedded::EmbeddedStorage;
use s3gw::storage::{BucketRecord, Grant, KeyRecord, KeyStore, Storage, StorageError};
use s3gw::types::{TagSet, MAX_BUCKET_TAGS};

fn record(name: &str) -> KeyRecord {
    KeyRecord {
        id: format!("S3GWT{}", &uuid::Uuid::new_v4().simple().to_string()[..15]).to_uppercase(),
        name: name.into(),
        created_ms: 1_700_000_000_000,
        create_bucket: true,
        admin: false,
        sealed_secret: "v1:00000000:c2VhbGVk".into(),
    }
}

/// Keys are created once, read back whole, listed, deleted once; every
/// change moves the epoch.
async fn keys_round_trip<S: Storage + KeyStore>(s: &S) {
    let k = record("contract");
    let e0 = s.keys_epoch().await.expect("epoch");
    s.create_key(&k).await.expect("create");
    let e1 = s.keys_epoch().await.expect("epoch");
    assert_ne!(e0, e1, "a creation moves the epoch");
    assert!(matches!(
        s.create_key(&k).await,
        Err(StorageError::PreconditionFailed)
    ));
    assert_eq!(s.get_key(&k.id).await.expect("get"), Some(k.clone()));
    assert!(s.list_keys().await.expect("list").contains(&k));
    assert!(s.delete_key(&k.id).await.expect("delete"));
    let e2 = s.keys_epoch().await.expect("epoch");
    assert_ne!(e1, e2, "a deletion moves the epoch");
    assert!(!s.delete_key(&k.id).await.expect("delete again"));
    assert_eq!(s.get_key(&k.id).await.expect("get"), None);
    assert!(!s.list_keys().await.expect("list").contains(&k));
}

/// Grants are set, changed and dropped on the bucket incarnation they name,
/// and a new bucket of the same name starts with none but its creator's.
async fn grants_follow_the_bucket<S: Storage>(s: &S) {
    let name = common::bucket_name("grants");
    let b = BucketRecord::new(&name, "us-east-1", "OWNERKEY");
    s.create_bucket(&b).await.expect("create");
    let got = s.get_bucket(&name).await.expect("get").expect("bucket");
    assert_eq!(
        (got.owner.as_str(), got.grant_of("OWNERKEY")),
        ("OWNERKEY", Grant::ALL)
    );
    let read = Grant {
        read: true,
        ..Grant::default()
    };
    s.set_grant(&b, "READER", read).await.expect("grant");
    let got = s.get_bucket(&name).await.expect("get").expect("bucket");
    assert_eq!(got.grant_of("READER"), read);
    let rw = Grant {
        write: true,
        ..read
    };
    s.set_grant(&b, "READER", rw).await.expect("change");
    assert_eq!(
        s.get_bucket(&name)
            .await
            .expect("get")
            .expect("b")
            .grant_of("READER"),
        rw
    );
    s.set_grant(&b, "READER", Grant::default())
        .await
        .expect("drop");
    let got = s.get_bucket(&name).await.expect("get").expect("bucket");
    assert!(!got.grants.contains_key("READER"), "{got:?}");
    assert_eq!(
        s.list_buckets()
            .await
            .expect("list")
            .iter()
            .find(|x| x.name == name),
        Some(&got)
    );
    // A policy is stored as given, beside the grants, and removed.
    let doc = r#"{"Version": "2012-10-17", "Statement": []}"#;
    s.set_policy(&b, Some(doc)).await.expect("policy");
    let got = s.get_bucket(&name).await.expect("get").expect("bucket");
    assert_eq!(got.policy.as_deref(), Some(doc));
    assert_eq!(
        s.list_buckets()
            .await
            .expect("list")
            .iter()
            .find(|x| x.name == name)
            .and_then(|x| x.policy.as_deref()),
        Some(doc)
    );
    s.set_policy(&b, None).await.expect("remove policy");
    let got = s.get_bucket(&name).await.expect("get").expect("bucket");
    assert_eq!(got.policy, None);
    // A tag set likewise: stored in its order, replaced whole, removed by
    // an empty one; the policy and grants stay as they were.
    let tags = |pairs: &[(&str, &str)]| {
        TagSet::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            MAX_BUCKET_TAGS,
        )
        .expect("valid tags")
    };
    let plain = s.get_bucket(&name).await.expect("get").expect("bucket");
    let first = tags(&[("z", "1"), ("Größe", ""), ("a b", "x/y")]);
    s.set_bucket_tags(&b, &first).await.expect("tags");
    let got = s.get_bucket(&name).await.expect("get").expect("bucket");
    assert_eq!(got.tags, first);
    let untagged = BucketRecord {
        tags: TagSet::default(),
        ..got.clone()
    };
    assert_eq!(untagged, plain, "only the tags changed");
    let second = tags(&[("only", "one")]);
    s.set_bucket_tags(&b, &second).await.expect("replace tags");
    let listed = s.list_buckets().await.expect("list");
    let got = listed.iter().find(|x| x.name == name).expect("listed");
    assert_eq!(got.tags, second);
    s.set_bucket_tags(&b, &TagSet::default())
        .await
        .expect("remove tags");
    let got = s.get_bucket(&name).await.expect("get").expect("bucket");
    assert!(got.tags.is_empty());
    // Another incarnation of the name: the old record's grants and policy
    // go nowhere.
    s.set_grant(&b, "READER", read).await.expect("grant");
    s.set_policy(&b, Some(doc)).await.expect("policy");
    s.delete_bucket(&b).await.expect("delete");
    assert!(matches!(
        s.set_grant(&b, "READER", read).await,
        Err(StorageError::NoSuchBucket)
    ));
    assert!(matches!(
        s.set_policy(&b, Some(doc)).await,
        Err(StorageError::NoSuchBucket)
    ));
    assert!(matches!(
        s.set_bucket_tags(&b, &second).await,
        Err(StorageError::NoSuchBucket)
    ));
    let again = BucketRecord::new(&name, "us-east-1", "");
    s.create_bucket(&again).await.expect("re-create");
    assert!(matches!(
        s.set_grant(&b, "READER", read).await,
        Err(StorageError::NoSuchBucket)
    ));
    assert!(matches!(
        s.set_policy(&b, Some(doc)).await,
        Err(StorageError::NoSuchBucket)
    ));
    assert!(matches!(
        s.set_bucket_tags(&b, &second).await,
        Err(StorageError::NoSuchBucket)
    ));
    let got = s.get_bucket(&name).await.expect("get").expect("bucket");
    assert!(
        got.grants.is_empty()
            && got.owner.is_empty()
            && got.policy.is_none()
            && got.tags.is_empty(),
        "{got:?}"
    );
    s.delete_bucket(&again).await.expect("clean up");
}

#[tokio::test]
async fn embedded_keys_and_grants() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = EmbeddedStorage::open(dir.path(), Duration::from_secs(900)).expect("open");
    keys_round_trip(&s).await;
    grants_follow_the_bucket(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cassandra_keys_and_grants() {
    let Some(o) = common::cassandra_options(Duration::from_secs(900)) else {
        return;
    };
    let s: CassandraStorage = common::open_cassandra(o).await;
    keys_round_trip(&s).await;
    grants_follow_the_bucket(&s).await;
}
