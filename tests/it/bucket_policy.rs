//! Bucket policies (issue 17, item 3), end to end: the owner puts a
//! public-read policy with the SDK, anonymous requests get exactly what it
//! grants and `AccessDenied` otherwise; policies outside the subset are
//! refused with `MalformedPolicy` naming what; only owners manage them.
//! Run on both backends (the Cassandra suite sets `S3GW_TEST_BACKEND`).

use crate::common;

use crate::access_keys::{admin, new_key};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use common::{bucket_name, code, code_and_message, raw_request, TestServer};
use serde_json::json;

/// An anonymous request: status and body.
async fn anonymous(srv: &TestServer, method: &str, path: &str) -> (u16, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        srv.addr
    );
    let (status, _, body) = raw_request(srv.addr, request.as_bytes()).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The status of an anonymous request, and that a 403 says `AccessDenied`.
async fn anonymous_status(srv: &TestServer, method: &str, path: &str) -> u16 {
    let (status, body) = anonymous(srv, method, path).await;
    if status == 403 {
        assert!(
            body.contains("<Code>AccessDenied</Code>"),
            "{method} {path}: {body}"
        );
    }
    status
}

async fn put_policy(c: &Client, bucket: &str, policy: &str) -> Result<(), (String, String)> {
    c.put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code_and_message(&e))
}

fn statement(action: serde_json::Value, resource: serde_json::Value) -> serde_json::Value {
    json!({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource})
}

fn policy(statements: Vec<serde_json::Value>) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// A new application key's client and the bucket it created (and owns).
async fn owned_bucket(srv: &TestServer, name: &str) -> (Client, String) {
    let (_, owner) = new_key(srv, name, true, false).await;
    let b = bucket_name(name);
    owner
        .create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("create");
    (owner, b)
}

#[tokio::test]
async fn anonymous_callers_get_what_the_policy_grants_and_nothing_else() {
    let srv = common::start().await;
    let (owner, b) = owned_bucket(&srv, "public").await;
    let (writer_id, writer) = new_key(&srv, "writer", true, false).await;
    for key in ["pub/a.txt", "private.txt"] {
        owner
            .put_object()
            .bucket(&b)
            .key(key)
            .body(ByteStream::from_static(b"hello"))
            .send()
            .await
            .expect("put");
    }
    let admin = admin(&srv);
    admin
        .allow(&b, &writer_id, true, true, false)
        .await
        .expect("grant read-write");

    // Without a policy: nothing anonymous, whatever is asked; not even
    // which headers the gateway would refuse.
    let pub_a = format!("/{b}/pub/a.txt");
    assert_eq!(anonymous_status(&srv, "GET", &pub_a).await, 403);
    let kms = format!(
        "PUT {pub_a} HTTP/1.1\r\nHost: {}\r\nx-amz-server-side-encryption: aws:kms\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n",
        srv.addr
    );
    let (status, _, body) = raw_request(srv.addr, kms.as_bytes()).await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert_eq!(anonymous_status(&srv, "GET", &format!("/{b}")).await, 403);
    assert_eq!(anonymous_status(&srv, "GET", "/").await, 403);
    let e = owner
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect_err("no policy yet");
    assert_eq!(code(&e), "NoSuchBucketPolicy");
    let e = owner
        .get_bucket_policy_status()
        .bucket(&b)
        .send()
        .await
        .expect_err("no policy yet");
    assert_eq!(code(&e), "NoSuchBucketPolicy");

    // Only an owner manages the policy.
    let read_pub = policy(vec![statement(
        json!("s3:GetObject"),
        json!(format!("arn:aws:s3:::{b}/pub/*")),
    )]);
    assert_eq!(
        put_policy(&writer, &b, &read_pub).await.map_err(|e| e.0),
        Err("AccessDenied".into())
    );
    put_policy(&owner, &b, &read_pub).await.expect("owner puts");
    let got = owner
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect("get policy");
    assert_eq!(got.policy(), Some(read_pub.as_str()), "returned as put");
    let status = owner
        .get_bucket_policy_status()
        .bucket(&b)
        .send()
        .await
        .expect("status");
    assert_eq!(
        status.policy_status().and_then(|s| s.is_public()),
        Some(true)
    );
    let e = writer
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect_err("not an owner");
    assert_eq!(code(&e), "AccessDenied");

    // GetObject under pub/ only; a missing key there is AccessDenied, as
    // S3 answers without s3:ListBucket.
    let (status, body) = anonymous(&srv, "GET", &pub_a).await;
    assert_eq!((status, body.as_str()), (200, "hello"));
    assert_eq!(anonymous_status(&srv, "HEAD", &pub_a).await, 200);
    for path in [
        format!("/{b}/private.txt"),
        format!("/{b}/pub/missing"),
        format!("/{b}"),
        format!("/{b}?list-type=2"),
        format!("/{b}?policy"),
        "/".to_owned(),
        format!("/{}/pub/a.txt", bucket_name("absent")),
    ] {
        assert_eq!(
            anonymous_status(&srv, "GET", &path).await,
            403,
            "GET {path}"
        );
    }
    for (method, path) in [
        ("PUT", pub_a.clone()),
        ("DELETE", pub_a.clone()),
        ("PUT", format!("/{b}?policy")),
        ("DELETE", format!("/{b}?policy")),
        ("DELETE", format!("/{b}")),
        ("POST", format!("/{b}/pub/x?uploads")),
    ] {
        assert_eq!(
            anonymous_status(&srv, method, &path).await,
            403,
            "{method} {path}"
        );
    }
    owner
        .get_object()
        .bucket(&b)
        .key("private.txt")
        .send()
        .await
        .expect("the owner still reads everything");

    // s3:ListBucket on the bucket lets anyone list it, and a missing key
    // becomes NoSuchKey.
    let read_and_list = policy(vec![
        statement(
            json!("s3:GetObject"),
            json!(format!("arn:aws:s3:::{b}/pub/*")),
        ),
        statement(
            json!(["s3:ListBucket"]),
            json!([format!("arn:aws:s3:::{b}")]),
        ),
    ]);
    put_policy(&owner, &b, &read_and_list)
        .await
        .expect("replace");
    let (status, body) = anonymous(&srv, "GET", &format!("/{b}?list-type=2")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Key>private.txt</Key>") && body.contains("<Key>pub/a.txt</Key>"));
    assert_eq!(anonymous_status(&srv, "HEAD", &format!("/{b}")).await, 200);
    let (status, body) = anonymous(&srv, "GET", &format!("/{b}/pub/missing")).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("NoSuchKey"), "{body}");
    assert_eq!(
        anonymous_status(&srv, "GET", &format!("/{b}/private.txt")).await,
        403
    );

    // Deleted: anonymous reads stop at once.
    owner
        .delete_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect("delete policy");
    assert_eq!(anonymous_status(&srv, "GET", &pub_a).await, 403);
    let e = owner
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&e), "NoSuchBucketPolicy");
    owner
        .delete_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect("deleting no policy is fine, as on S3");
}

#[tokio::test]
async fn policies_outside_the_subset_are_refused_naming_what() {
    let srv = common::start().await;
    let (owner, b) = owned_bucket(&srv, "strict").await;
    let objects = json!(format!("arn:aws:s3:::{b}/*"));
    let mut deny = statement(json!("s3:GetObject"), objects.clone());
    deny["Effect"] = json!("Deny");
    let mut condition = statement(json!("s3:GetObject"), objects.clone());
    condition["Condition"] = json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}});
    let mut someone = statement(json!("s3:GetObject"), objects.clone());
    someone["Principal"] = json!({"AWS": "arn:aws:iam::123456789012:root"});
    let cases = [
        (policy(vec![deny]), "Deny"),
        (policy(vec![condition]), "Condition"),
        (policy(vec![someone]), "Principal"),
        (
            policy(vec![statement(json!("s3:PutObject"), objects.clone())]),
            "s3:PutObject",
        ),
        (
            policy(vec![statement(
                json!("s3:GetObject"),
                json!("arn:aws:s3:::another-bucket/*"),
            )]),
            "another-bucket",
        ),
        ("not json".to_owned(), "JSON"),
    ];
    for (document, named) in cases {
        let (code, message) = put_policy(&owner, &b, &document)
            .await
            .expect_err("refused");
        assert_eq!(code, "MalformedPolicy", "{document}");
        assert!(
            message.contains(named),
            "{document}: {message:?} names no {named}"
        );
    }
    let huge = policy(
        (0..400)
            .map(|i| {
                statement(
                    json!("s3:GetObject"),
                    json!(format!("arn:aws:s3:::{b}/some/long/prefix/number/{i}/*")),
                )
            })
            .collect(),
    );
    assert!(huge.len() > s3gw::access::policy::MAX_POLICY_BYTES);
    let (code, _) = put_policy(&owner, &b, &huge).await.expect_err("too large");
    assert_eq!(code, "PolicyTooLarge");
    let e = owner
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect_err("nothing was stored");
    assert_eq!(common::code(&e), "NoSuchBucketPolicy");
}
