//! SIGTERM drains requests in flight: an upload that is half sent when the
//! signal arrives completes, new connections are refused, and the process
//! exits cleanly.

use crate::common;

use std::process::Command;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use common::{client_for as client, data, spawn_gateway};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_an_upload_in_flight() {
    let dir = tempfile::tempdir().expect("tmp");
    let data_dir = dir.path().join("data");
    let (mut child, endpoint) = spawn_gateway(&data_dir, &[]);
    let c = client(&endpoint);
    c.create_bucket()
        .bucket("drain")
        .send()
        .await
        .expect("create");
    let req = c
        .put_object()
        .bucket("drain")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg"))
        .await
        .expect("presign");
    let uri: http::Uri = req.uri().parse().expect("uri");
    let addr = endpoint.trim_start_matches("http://").to_owned();
    let body = data(1024 * 1024, 5);
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
        uri.path_and_query().expect("pq"),
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(&body[..body.len() / 2])
        .await
        .expect("first half");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // No new connections once draining.
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "still accepting"
    );

    s.write_all(&body[body.len() / 2..])
        .await
        .expect("second half");
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut reply))
        .await
        .expect("reply in time")
        .expect("read");
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.success(), "exit status {exit:?}");

    let (mut child, endpoint) = spawn_gateway(&data_dir, &[]);
    let got = client(&endpoint)
        .get_object()
        .bucket("drain")
        .key("k")
        .send()
        .await
        .expect("object survives");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(bytes.as_ref(), body.as_slice());
    child.kill().expect("kill");
    child.wait().expect("reap");
}
