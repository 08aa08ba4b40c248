//! Two uploads of one part number in flight at once: the one that finishes
//! last is the part, and Complete takes its ETag and refuses the other's.

use crate::common;

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The quoted MD5 of `body`, as S3 names a part.
fn etag(body: &[u8]) -> String {
    use md5::{Digest as _, Md5};
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

async fn complete_with(f: &Fixture, id: &str, etag: &str) -> Result<(), String> {
    let parts = CompletedMultipartUpload::builder()
        .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
        .build();
    f.c.complete_multipart_upload()
        .bucket(&f.b)
        .key("k")
        .upload_id(id)
        .multipart_upload(parts)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code(&e))
}

#[tokio::test]
async fn the_part_upload_that_finishes_last_wins() {
    let f = Fixture::new("inflight").await;
    let id =
        f.c.create_multipart_upload()
            .bucket(&f.b)
            .key("k")
            .send()
            .await
            .expect("create upload")
            .upload_id()
            .expect("upload id")
            .to_owned();
    let slow_body = data(64 * 1024, 1);
    let fast_body = data(32 * 1024, 2);

    // The slow upload starts first and holds back its last bytes.
    let path = format!("/{}/k", f.b);
    let query = format!("partNumber=1&uploadId={id}");
    let mut req = RawSigned::new("PUT", &path).body(&slow_body);
    req.query = &query;
    let bytes = req.build(f.srv.addr);
    let (head, tail) = bytes.split_at(bytes.len() - 100);
    let mut slow = tokio::net::TcpStream::connect(f.srv.addr)
        .await
        .expect("connect");
    slow.write_all(head).await.expect("write head");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The fast one starts later and finishes while the slow one waits.
    let fast =
        f.c.upload_part()
            .bucket(&f.b)
            .key("k")
            .upload_id(&id)
            .part_number(1)
            .body(ByteStream::from(fast_body.clone()))
            .send()
            .await
            .expect("fast part");
    assert_eq!(fast.e_tag(), Some(etag(&fast_body).as_str()));
    let listed =
        f.c.list_parts()
            .bucket(&f.b)
            .key("k")
            .upload_id(&id)
            .send()
            .await
            .expect("list parts");
    assert_eq!(
        listed.parts()[0].e_tag(),
        fast.e_tag(),
        "the fast one, meanwhile"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;

    // The slow one finishes last: it is the part.
    slow.write_all(tail).await.expect("write tail");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let slow_etag = etag(&slow_body);
    assert!(
        answer
            .to_ascii_lowercase()
            .contains(&format!("etag: {slow_etag}")),
        "{answer}"
    );
    let listed =
        f.c.list_parts()
            .bucket(&f.b)
            .key("k")
            .upload_id(&id)
            .send()
            .await
            .expect("list parts");
    assert_eq!(listed.parts().len(), 1);
    assert_eq!(listed.parts()[0].e_tag(), Some(slow_etag.as_str()));

    // Complete takes the last one's ETag, and not the other's.
    let fast_etag = etag(&fast_body);
    assert_eq!(
        complete_with(&f, &id, &fast_etag).await,
        Err("InvalidPart".to_owned())
    );
    complete_with(&f, &id, &slow_etag)
        .await
        .expect("complete with the last part's ETag");
    assert_eq!(f.get("k").await, slow_body);
}
