//! Two gateways on one Cassandra keyspace, as behind a load balancer: what
//! one writes, the other reads, lists and deletes at once, and a multipart
//! upload can be split across both.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use common::{bucket_name, data, get_bytes, status_of};
use s3gw::config::Backend;

/// Two gateways on the test keyspace, or `None` (skipped) without Cassandra.
async fn pair() -> Option<(common::TestServer, common::TestServer)> {
    let o = common::cassandra_options(std::time::Duration::from_secs(900))?;
    let a = common::start_with(|c| c.backend = Backend::Cassandra(Box::new(o.clone()))).await;
    let b = common::start_with(|c| c.backend = Backend::Cassandra(Box::new(o))).await;
    Some((a, b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_one_are_read_listed_and_deleted_through_the_other() {
    let Some((gw_a, gw_b)) = pair().await else {
        return;
    };
    let (a, b) = (gw_a.client(), gw_b.client());
    let bucket = bucket_name("two-gw");
    a.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create");
    let buckets = b.list_buckets().send().await.expect("list buckets");
    assert!(buckets.buckets().iter().any(|x| x.name() == Some(&bucket)));
    // A second create through the other gateway sees the first: the
    // owner's re-create in us-east-1 answers 200 and keeps the bucket.
    b.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("re-create");

    let body = data(300 * 1024, 7);
    a.put_object()
        .bucket(&bucket)
        .key("dir/obj")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put");
    let got = get_bytes(&b, &bucket, "dir/obj").await;
    assert_eq!(got, body);
    let listed = b
        .list_objects_v2()
        .bucket(&bucket)
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let prefixes: Vec<_> = listed
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["dir/"]);
    // Overwrite through B, read the new bytes through A.
    let body2 = data(10, 8);
    b.put_object()
        .bucket(&bucket)
        .key("dir/obj")
        .body(ByteStream::from(body2.clone()))
        .send()
        .await
        .expect("overwrite");
    let got = get_bytes(&a, &bucket, "dir/obj").await;
    assert_eq!(got, body2);
    b.delete_object()
        .bucket(&bucket)
        .key("dir/obj")
        .send()
        .await
        .expect("delete");
    let e = a
        .head_object()
        .bucket(&bucket)
        .key("dir/obj")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(status_of(&e), Some(404));
    b.delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("delete bucket");
    let e = a
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect_err("bucket gone");
    assert_eq!(status_of(&e), Some(404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_upload_split_across_gateways() {
    let Some((gw_a, gw_b)) = pair().await else {
        return;
    };
    let (a, b) = (gw_a.client(), gw_b.client());
    let bucket = bucket_name("two-gw-mpu");
    a.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create");
    let id = a
        .create_multipart_upload()
        .bucket(&bucket)
        .key("big")
        .send()
        .await
        .expect("create upload")
        .upload_id()
        .expect("id")
        .to_owned();
    let p1 = data(5 * 1024 * 1024, 1);
    let p2 = data(1024 * 1024 + 17, 2);
    let mut etags = Vec::new();
    for (n, (client, body)) in [(&a, &p1), (&b, &p2)].into_iter().enumerate() {
        let r = client
            .upload_part()
            .bucket(&bucket)
            .key("big")
            .upload_id(&id)
            .part_number(n as i32 + 1)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("part");
        etags.push(r.e_tag().expect("etag").to_owned());
    }
    let parts = a
        .list_parts()
        .bucket(&bucket)
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .expect("list parts");
    assert_eq!(parts.parts().len(), 2);
    let uploads = b
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .expect("list uploads");
    assert_eq!(uploads.uploads().len(), 1);
    let done = CompletedMultipartUpload::builder()
        .set_parts(Some(
            etags
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    CompletedPart::builder()
                        .part_number(i as i32 + 1)
                        .e_tag(e)
                        .build()
                })
                .collect(),
        ))
        .build();
    b.complete_multipart_upload()
        .bucket(&bucket)
        .key("big")
        .upload_id(&id)
        .multipart_upload(done)
        .send()
        .await
        .expect("complete");
    let got = get_bytes(&a, &bucket, "big").await;
    let mut want = p1.clone();
    want.extend_from_slice(&p2);
    assert_eq!(got.len(), want.len());
    assert!(got == want, "content differs");
}

/// `If-None-Match: *` through both gateways at once: exactly one PUT
/// creates the object, every other gets 412, and the stored bytes are the
/// winner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_creates_through_both_gateways_have_one_winner() {
    let Some((gw_a, gw_b)) = pair().await else {
        return;
    };
    let clients = [gw_a.client(), gw_b.client()];
    let bucket = bucket_name("two-gw-cond");
    clients[0]
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create");
    let mut tasks = Vec::new();
    for i in 0..8u64 {
        let c = clients[i as usize % 2].clone();
        let bucket = bucket.clone();
        tasks.push(tokio::spawn(async move {
            let body = data(1000 + i as usize, i);
            let r = c
                .put_object()
                .bucket(&bucket)
                .key("once")
                .if_none_match("*")
                .body(ByteStream::from(body.clone()))
                .send()
                .await;
            (r.map_err(|e| status_of(&e)), body)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (result, body) = t.await.expect("task");
        match result {
            Ok(_) => winners.push(body),
            Err(Some(412)) => {}
            Err(other) => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "one conditional create must win");
    for c in &clients {
        assert_eq!(get_bytes(c, &bucket, "once").await, winners[0]);
    }
}
