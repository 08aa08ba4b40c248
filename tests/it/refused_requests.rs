//! Requests the gateway must refuse rather than half-honour: headers that
//! promise what s3gw does not do (encryption, locks, public ACLs, other
//! storage classes, tags it would drop or cannot keep), a version id on an
//! unversioned delete, and upload ids that are not ids this gateway hands
//! out.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectCannedAcl, ObjectLockMode, ServerSideEncryption, StorageClass};

use common::*;

fn body() -> ByteStream {
    ByteStream::from_static(b"plaintext")
}

#[tokio::test]
async fn headers_that_promise_what_we_do_not_do_are_refused() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "promises").await;

    macro_rules! refused {
        ($what:literal, $req:expr, $code:literal) => {{
            let e = $req.send().await.expect_err($what);
            assert_eq!(code(&e.into_service_error()), $code, $what);
        }};
    }
    refused!(
        "SSE-S3",
        c.put_object()
            .bucket(&b)
            .key("k")
            .body(body())
            .server_side_encryption(ServerSideEncryption::Aes256),
        "NotImplemented"
    );
    refused!(
        "SSE-KMS",
        c.put_object()
            .bucket(&b)
            .key("k")
            .body(body())
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id("key"),
        "NotImplemented"
    );
    refused!(
        "SSE-C",
        c.put_object()
            .bucket(&b)
            .key("k")
            .body(body())
            .sse_customer_algorithm("AES256")
            .sse_customer_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
            .sse_customer_key_md5("3ZM2z0g0YyqTqPFnpW/UVw=="),
        "NotImplemented"
    );
    refused!(
        "tags beside a tagging directive of COPY",
        c.copy_object()
            .bucket(&b)
            .key("k")
            .copy_source(format!("{b}/source"))
            .tagging("team=red"),
        "InvalidArgument"
    );
    refused!(
        "object lock",
        c.put_object()
            .bucket(&b)
            .key("k")
            .body(body())
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(aws_sdk_s3::primitives::DateTime::from_secs(
                4_000_000_000
            )),
        "NotImplemented"
    );
    refused!(
        "public ACL",
        c.put_object()
            .bucket(&b)
            .key("k")
            .body(body())
            .acl(ObjectCannedAcl::PublicRead),
        "NotImplemented"
    );
    refused!(
        "grant",
        c.put_object()
            .bucket(&b)
            .key("k")
            .body(body())
            .grant_read("uri=\"http://acs.amazonaws.com/groups/global/AllUsers\""),
        "NotImplemented"
    );
    refused!(
        "storage class",
        c.put_object()
            .bucket(&b)
            .key("k")
            .body(body())
            .storage_class(StorageClass::Glacier),
        "NotImplemented"
    );
    refused!(
        "multipart with SSE",
        c.create_multipart_upload()
            .bucket(&b)
            .key("k")
            .server_side_encryption(ServerSideEncryption::Aes256),
        "NotImplemented"
    );
    refused!(
        "multipart with tags against S3's rules",
        c.create_multipart_upload()
            .bucket(&b)
            .key("k")
            .tagging("aws:reserved=b"),
        "InvalidTag"
    );
    refused!(
        "bucket with object lock",
        c.create_bucket()
            .bucket(bucket_name("locked"))
            .object_lock_enabled_for_bucket(true),
        "NotImplemented"
    );
    assert!(
        !exists(&c, &b, "k").await,
        "a refused request stored an object"
    );
    let uploads = c
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect("list");
    assert!(
        uploads.uploads().is_empty(),
        "a refused request started an upload"
    );

    // What changes nothing here stays accepted.
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(body())
        .acl(ObjectCannedAcl::Private)
        .storage_class(StorageClass::Standard)
        .send()
        .await
        .expect("private, STANDARD");
    c.put_object()
        .bucket(&b)
        .key("k2")
        .body(body())
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .send()
        .await
        .expect("bucket-owner-full-control");
    refused!(
        "copy with SSE",
        c.copy_object()
            .bucket(&b)
            .key("k3")
            .copy_source(format!("{b}/k"))
            .server_side_encryption(ServerSideEncryption::Aes256),
        "NotImplemented"
    );
    refused!(
        "GET with an SSE-C key",
        c.get_object()
            .bucket(&b)
            .key("k")
            .sse_customer_algorithm("AES256")
            .sse_customer_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
            .sse_customer_key_md5("3ZM2z0g0YyqTqPFnpW/UVw=="),
        "NotImplemented"
    );
    refused!(
        "another owner expected",
        c.get_object()
            .bucket(&b)
            .key("k")
            .expected_bucket_owner("111122223333"),
        "AccessDenied"
    );
}

#[tokio::test]
async fn delete_with_a_version_id_does_not_delete_the_current_object() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "delver").await;
    c.put_object()
        .bucket(&b)
        .key("k")
        .body(body())
        .send()
        .await
        .expect("put");
    let e = c
        .delete_object()
        .bucket(&b)
        .key("k")
        .version_id("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
        .send()
        .await
        .expect_err("a version that is not there");
    assert_eq!(code(&e.into_service_error()), "InvalidArgument");
    assert!(exists(&c, &b, "k").await, "the current object was deleted");
    // `null` is the current object of an unversioned bucket.
    c.delete_object()
        .bucket(&b)
        .key("k")
        .version_id("null")
        .send()
        .await
        .expect("delete null version");
    assert!(!exists(&c, &b, "k").await);
}

#[tokio::test]
async fn upload_ids_are_checked_before_any_lookup() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "upid").await;
    // The embedded store keys an upload by key‖0x00‖id: the upload of key
    // "x\0y" with id I was reached as key "x" with id "y\0I". A NUL can be
    // neither in a key nor in an upload id now.
    let e = c
        .create_multipart_upload()
        .bucket(&b)
        .key("x\u{0}y")
        .send()
        .await
        .expect_err("a key XML cannot carry");
    assert_eq!(code(&e.into_service_error()), "InvalidArgument");
    let up = c
        .create_multipart_upload()
        .bucket(&b)
        .key("x")
        .send()
        .await
        .expect("create upload");
    let id = up.upload_id().expect("id").to_owned();
    assert_eq!(id.len(), 32, "{id}");
    let e = c
        .list_parts()
        .bucket(&b)
        .key("x")
        .upload_id(format!("y\u{0}{id}"))
        .send()
        .await
        .expect_err("NUL in an upload id");
    assert_eq!(code(&e.into_service_error()), "InvalidArgument");
    // Anything but an id this gateway hands out names no upload.
    for bad in [
        id.to_uppercase(),
        format!("{id}0"),
        id[1..].to_owned(),
        format!("y/{}", &id[2..]),
        String::from(".."),
    ] {
        let e = c
            .upload_part()
            .bucket(&b)
            .key("x")
            .upload_id(&bad)
            .part_number(1)
            .body(body())
            .send()
            .await
            .expect_err("not an id");
        assert_eq!(code(&e.into_service_error()), "NoSuchUpload", "{bad}");
    }
    let parts = c
        .list_parts()
        .bucket(&b)
        .key("x")
        .upload_id(&id)
        .send()
        .await
        .expect("the real upload");
    assert!(parts.parts().is_empty());
}

#[tokio::test]
async fn objects_are_served_with_nosniff() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "nosniff").await;
    c.put_object()
        .bucket(&b)
        .key("page.html")
        .content_type("text/html")
        .body(ByteStream::from_static(
            b"<script>fetch('/_s3gw/api/cluster')</script>",
        ))
        .send()
        .await
        .expect("put");
    let req = c
        .get_object()
        .bucket(&b)
        .key("page.html")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
                60,
            ))
            .expect("cfg"),
        )
        .await
        .expect("presign");
    let raw = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        path_and_query(&req),
        srv.addr
    );
    let (status, head, _) = raw_request(srv.addr, raw.as_bytes()).await;
    assert_eq!(status, 200, "{head}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
}
