//! Access keys and per-bucket grants (issue 17), end to end through the
//! admin API and the S3 API: two applications with their own buckets,
//! read-only and read-write grants on one bucket, copies across buckets,
//! presigned URLs, ListBuckets filtering, per-key owners, a key deleted
//! while in use; and, on Cassandra, changes seen by a second gateway
//! within the documented bound.

use crate::common;

use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use common::{bucket_name, code, raw_request, TestServer};
use s3gw::cli::client::AdminClient;
use serde_json::Value;

pub(crate) fn admin(srv: &TestServer) -> AdminClient {
    AdminClient::new(
        &srv.endpoint(),
        common::ACCESS_KEY,
        common::SECRET_KEY,
        "us-east-1",
    )
    .expect("admin client")
}

/// An admin API client signing as the key `made` (an answer of `POST keys`).
fn admin_as(srv: &TestServer, made: &Value) -> AdminClient {
    AdminClient::new(
        &srv.endpoint(),
        made["access_key_id"].as_str().expect("id"),
        made["secret_access_key"].as_str().expect("secret"),
        "us-east-1",
    )
    .expect("admin client")
}

/// A new key through the admin API: its id and an S3 client signing as it.
pub(crate) async fn new_key(
    srv: &TestServer,
    name: &str,
    create_bucket: bool,
    is_admin: bool,
) -> (String, Client) {
    let k = admin(srv)
        .create_key(name, create_bucket, is_admin)
        .await
        .expect("create key");
    let id = k["access_key_id"].as_str().expect("id").to_owned();
    let secret = k["secret_access_key"].as_str().expect("secret").to_owned();
    (id.clone(), srv.client_with_secret(&id, &secret))
}

async fn put(c: &Client, bucket: &str, key: &str, body: &'static [u8]) -> Result<(), String> {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code(&e))
}

async fn get(c: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let o = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| code(&e))?;
    Ok(o.body.collect().await.expect("body").into_bytes().to_vec())
}

async fn bucket_names(c: &Client) -> Vec<String> {
    let out = c.list_buckets().send().await.expect("list buckets");
    out.buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn two_applications_and_grants_on_one_bucket() {
    let srv = common::start().await;
    let (a_id, a) = new_key(&srv, "app-a", true, false).await;
    let (_b_id, b) = new_key(&srv, "app-b", true, false).await;
    let (r_id, reader) = new_key(&srv, "reader", false, false).await;
    let (ba, bb) = (bucket_name("app-a"), bucket_name("app-b"));
    a.create_bucket()
        .bucket(&ba)
        .send()
        .await
        .expect("a creates");
    b.create_bucket()
        .bucket(&bb)
        .send()
        .await
        .expect("b creates");
    put(&a, &ba, "a.txt", b"from a")
        .await
        .expect("a writes its own");
    put(&b, &bb, "b.txt", b"from b")
        .await
        .expect("b writes its own");

    // Each sees and uses only its own bucket.
    let seen = bucket_names(&a).await;
    assert!(seen.contains(&ba) && !seen.contains(&bb), "{seen:?}");
    let seen = bucket_names(&b).await;
    assert!(seen.contains(&bb) && !seen.contains(&ba), "{seen:?}");
    assert_eq!(get(&a, &bb, "b.txt").await, Err("AccessDenied".into()));
    assert_eq!(put(&a, &bb, "x", b"x").await, Err("AccessDenied".into()));
    let e = a
        .delete_bucket()
        .bucket(&bb)
        .send()
        .await
        .expect_err("not a's");
    assert_eq!(code(&e), "AccessDenied");
    let e = a
        .list_objects_v2()
        .bucket(&bb)
        .send()
        .await
        .expect_err("not a's");
    assert_eq!(code(&e), "AccessDenied");
    // A bucket that does not exist is NoSuchBucket whoever asks.
    assert_eq!(
        get(&a, &bucket_name("none"), "k").await,
        Err("NoSuchBucket".into())
    );
    // Creating a taken name says so without revealing more.
    let e = b
        .create_bucket()
        .bucket(&ba)
        .send()
        .await
        .expect_err("taken");
    assert_eq!(code(&e), "BucketAlreadyExists");
    // The root pair still sees everything.
    let seen = bucket_names(&srv.client()).await;
    assert!(seen.contains(&ba) && seen.contains(&bb));

    // A key without --create-bucket cannot create buckets, and has nothing.
    let e = reader
        .create_bucket()
        .bucket(bucket_name("reader"))
        .send()
        .await
        .expect_err("no create");
    assert_eq!(code(&e), "AccessDenied");
    assert!(bucket_names(&reader).await.is_empty());

    // Read-only on a's bucket: reads and lists, never writes.
    let ad = admin(&srv);
    ad.allow(&ba, &r_id, true, false, false)
        .await
        .expect("allow read");
    assert_eq!(get(&reader, &ba, "a.txt").await.expect("read"), b"from a");
    assert_eq!(bucket_names(&reader).await, vec![ba.clone()]);
    reader
        .list_objects_v2()
        .bucket(&ba)
        .send()
        .await
        .expect("list");
    assert_eq!(
        put(&reader, &ba, "r", b"r").await,
        Err("AccessDenied".into())
    );
    let e = reader
        .delete_object()
        .bucket(&ba)
        .key("a.txt")
        .send()
        .await
        .expect_err("no delete");
    assert_eq!(code(&e), "AccessDenied");
    let e = reader
        .get_bucket_acl()
        .bucket(&ba)
        .send()
        .await
        .expect_err("owner only");
    assert_eq!(code(&e), "AccessDenied");
    // Read-write: now it writes; then read is taken away again.
    ad.allow(&ba, &r_id, false, true, false)
        .await
        .expect("allow write");
    put(&reader, &ba, "r", b"by reader").await.expect("write");
    let info = ad
        .deny(&ba, &r_id, true, false, false)
        .await
        .expect("deny read");
    let grant = info["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .find(|g| g["access_key_id"] == r_id.as_str())
        .expect("reader's grant")
        .clone();
    assert_eq!(
        (
            grant["read"].clone(),
            grant["write"].clone(),
            grant["name"].clone()
        ),
        (Value::Bool(false), Value::Bool(true), Value::from("reader"))
    );
    assert_eq!(get(&reader, &ba, "r").await, Err("AccessDenied".into()));
    put(&reader, &ba, "r2", b"still writes")
        .await
        .expect("write only");

    // Copies need read on the source and write on the destination.
    let copy = |c: &Client, from: String, to: &str| {
        c.copy_object()
            .bucket(to)
            .key("copied")
            .copy_source(from)
            .send()
    };
    let e = copy(&a, format!("{bb}/b.txt"), &ba)
        .await
        .expect_err("no read on source");
    assert_eq!(code(&e), "AccessDenied");
    ad.allow(&bb, &a_id, true, false, false)
        .await
        .expect("allow a read on b");
    copy(&a, format!("{bb}/b.txt"), &ba)
        .await
        .expect("copy with read on source");
    assert_eq!(get(&a, &ba, "copied").await.expect("copied"), b"from b");
    let e = copy(&a, format!("{ba}/a.txt"), &bb)
        .await
        .expect_err("no write on b");
    assert_eq!(code(&e), "AccessDenied");

    // Owners are per key.
    let listed = a
        .list_objects_v2()
        .bucket(&ba)
        .fetch_owner(true)
        .send()
        .await
        .expect("list");
    let owner = listed.contents()[0].owner().expect("owner");
    assert_eq!(owner.id(), Some(a_id.to_ascii_lowercase().as_str()));
    assert_eq!(owner.display_name(), Some("app-a"));
    let acl = a.get_bucket_acl().bucket(&ba).send().await.expect("acl");
    assert_eq!(
        acl.owner().and_then(|o| o.id()),
        Some(a_id.to_ascii_lowercase().as_str())
    );
    let mine = a.list_buckets().send().await.expect("list");
    assert_eq!(mine.owner().and_then(|o| o.display_name()), Some("app-a"));
    // x-amz-expected-bucket-owner is checked against the bucket's owner.
    a.head_bucket()
        .bucket(&ba)
        .expected_bucket_owner(a_id.to_ascii_lowercase())
        .send()
        .await
        .expect("expected owner");
    a.head_bucket()
        .bucket(&ba)
        .expected_bucket_owner("someone-else")
        .send()
        .await
        .expect_err("another owner");

    // The admin API describes both sides, and refuses non-admin keys.
    let info = ad.bucket_info(&ba).await.expect("bucket info");
    assert_eq!(info["owner"], a_id.as_str());
    assert_eq!(info["objects"], 4, "{info}");
    let key = ad.key_info(&r_id).await.expect("key info");
    assert_eq!(key["buckets"][0]["bucket"], ba.as_str(), "{key}");
    assert!(key.get("secret_access_key").is_none());
    let listed = ad.list_keys().await.expect("list keys");
    assert!(!listed.to_string().contains("secret"), "{listed}");
    let a_secret_client =
        AdminClient::new(&srv.endpoint(), &a_id, "wrong", "us-east-1").expect("client");
    let e = a_secret_client.list_keys().await.expect_err("wrong secret");
    assert_eq!(e.code, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn presigned_urls_carry_their_keys_permissions() {
    let srv = common::start().await;
    let (_, a) = new_key(&srv, "presigner", true, false).await;
    let own = bucket_name("presign-own");
    a.create_bucket().bucket(&own).send().await.expect("create");
    put(&a, &own, "k", b"mine").await.expect("put");
    let other = bucket_name("presign-other");
    let root = srv.client();
    root.create_bucket()
        .bucket(&other)
        .send()
        .await
        .expect("create");
    put(&root, &other, "k", b"root's").await.expect("put");
    let host = srv.addr.to_string();
    for (bucket, want) in [(&own, 200), (&other, 403)] {
        let req = a
            .get_object()
            .bucket(bucket)
            .key("k")
            .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg"))
            .await
            .expect("presign");
        let uri: http::Uri = req.uri().parse().expect("uri");
        let pq = uri.path_and_query().expect("pq").as_str().to_owned();
        let request = format!("GET {pq} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let (status, head, body) = raw_request(srv.addr, request.as_bytes()).await;
        assert_eq!(status, want, "{bucket}: {head}");
        if want == 403 {
            assert!(String::from_utf8_lossy(&body).contains("AccessDenied"));
        }
    }
}

#[tokio::test]
async fn a_key_deleted_while_in_use_stops_at_once_here() {
    let srv = common::start().await;
    let (id, k) = new_key(&srv, "short-lived", true, false).await;
    let b = bucket_name("deleted-key");
    k.create_bucket().bucket(&b).send().await.expect("create");
    // An upload in flight when the key goes still completes (it was
    // authorized when it started); the next request is refused.
    let upload = k
        .create_multipart_upload()
        .bucket(&b)
        .key("big")
        .send()
        .await
        .expect("start upload");
    admin(&srv).delete_key(&id).await.expect("delete");
    let e = k
        .upload_part()
        .bucket(&b)
        .key("big")
        .upload_id(upload.upload_id().expect("id"))
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(code(&e), "InvalidAccessKeyId");
    assert_eq!(
        put(&k, &b, "k", b"x").await,
        Err("InvalidAccessKeyId".into())
    );
    // Its grants went with it; the root pair still reaches the bucket.
    let info = admin(&srv).bucket_info(&b).await.expect("info");
    assert_eq!(info["grants"], Value::Array(vec![]), "{info}");
    let e = admin(&srv).delete_key(&id).await.expect_err("gone");
    assert_eq!(e.code, "NoSuchAccessKey");
}

#[tokio::test]
async fn only_admin_keys_reach_the_admin_api() {
    let srv = common::start().await;
    let made = admin(&srv)
        .create_key("plain", true, false)
        .await
        .expect("create");
    let plain = admin_as(&srv, &made);
    let e = plain.list_keys().await.expect_err("not an admin");
    assert_eq!(e.code, "AccessDenied");
    let made = admin(&srv)
        .create_key("ops", false, true)
        .await
        .expect("create admin");
    let ops = admin_as(&srv, &made);
    let keys = ops.list_keys().await.expect("an admin key lists keys");
    let ids: Vec<&str> = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["access_key_id"].as_str())
        .collect();
    assert!(
        ids.contains(&made["access_key_id"].as_str().expect("id")),
        "{keys}"
    );
    // An admin key may do what the root pair may on S3 too.
    let (_, admin_s3) = new_key(&srv, "ops2", false, true).await;
    let b = bucket_name("by-admin");
    admin_s3
        .create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("admin creates");
    let e = admin(&srv)
        .create_key("bad name!", false, false)
        .await
        .expect_err("bad name");
    assert_eq!(e.code, "InvalidRequest");
}

/// Two gateways on one keyspace: a key created on one works on the other
/// at once; a grant or a bucket policy changed on one holds on the other
/// at once (both live in the bucket record each request reads); a key deleted on one is
/// refused by the other within `CHANGE_BOUND` (measured, and checked
/// against the 5 seconds the issue allows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_changes_reach_another_gateway_within_the_bound() {
    let Some(o) = common::cassandra_options(Duration::from_secs(900)) else {
        return;
    };
    use s3gw::config::Backend;
    let gw_a = common::start_with(|c| c.backend = Backend::Cassandra(Box::new(o.clone()))).await;
    let gw_b = common::start_with(|c| c.backend = Backend::Cassandra(Box::new(o))).await;
    let made = admin(&gw_a)
        .create_key("roaming", true, false)
        .await
        .expect("create");
    let id = made["access_key_id"].as_str().expect("id").to_owned();
    let secret = made["secret_access_key"]
        .as_str()
        .expect("secret")
        .to_owned();
    let on_b = gw_b.client_with_secret(&id, &secret);
    let bucket = bucket_name("roaming");
    on_b.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("new key works on b at once");
    // Another key, made on a and used on b, gets read on the bucket.
    let made = admin(&gw_a)
        .create_key("other", false, false)
        .await
        .expect("create");
    let other_id = made["access_key_id"].as_str().expect("id").to_owned();
    let other_on_b = gw_b.client_with_secret(
        &other_id,
        made["secret_access_key"].as_str().expect("secret"),
    );
    put(&on_b, &bucket, "k", b"v").await.expect("put");
    assert_eq!(
        get(&other_on_b, &bucket, "k").await,
        Err("AccessDenied".into())
    );
    admin(&gw_a)
        .allow(&bucket, &other_id, true, false, false)
        .await
        .expect("allow on a");
    assert_eq!(
        get(&other_on_b, &bucket, "k")
            .await
            .expect("granted on b at once"),
        b"v"
    );
    admin(&gw_a)
        .deny(&bucket, &other_id, true, false, false)
        .await
        .expect("deny on a");
    assert_eq!(
        get(&other_on_b, &bucket, "k").await,
        Err("AccessDenied".into())
    );
    // A bucket policy put on a lets anonymous callers read on b at once,
    // and its deletion stops them at once (it lives in the bucket record).
    let on_a = gw_a.client_with_secret(&id, &secret);
    let public = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    on_a.put_bucket_policy()
        .bucket(&bucket)
        .policy(public.to_string())
        .send()
        .await
        .expect("policy on a");
    let anonymous_get = format!(
        "GET /{bucket}/k HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        gw_b.addr
    );
    let (status, _, body) = raw_request(gw_b.addr, anonymous_get.as_bytes()).await;
    assert_eq!((status, body.as_slice()), (200, b"v".as_slice()));
    on_a.delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .expect("delete policy on a");
    let (status, _, _) = raw_request(gw_b.addr, anonymous_get.as_bytes()).await;
    assert_eq!(status, 403);

    admin(&gw_a).delete_key(&id).await.expect("delete on a");
    let deleted = Instant::now();
    let took = loop {
        match put(&on_b, &bucket, "k2", b"x").await {
            Err(code) if code == "InvalidAccessKeyId" => break deleted.elapsed(),
            Ok(()) | Err(_) if deleted.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => panic!("the deleted key still works on b after 10 s: {other:?}"),
        }
    };
    eprintln!("a key deleted on one gateway was refused by the other after {took:?}");
    assert!(
        took <= s3gw::access::cache::CHANGE_BOUND + Duration::from_millis(500),
        "took {took:?}, more than the documented bound"
    );
    assert!(took <= Duration::from_secs(5));
}
