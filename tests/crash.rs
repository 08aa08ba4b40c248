//! kill -9 during uploads: every acknowledged object survives intact, no
//! partial object is ever visible, and no orphaned blob file remains.

mod common;

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use common::{client_for as client, data, spawn_gateway};
use sha2::{Digest, Sha256};

fn blob_files(data_dir: &std::path::Path) -> usize {
    std::fs::read_dir(data_dir.join("blobs"))
        .expect("blobs dir")
        .flatten()
        .map(|shard| {
            std::fs::read_dir(shard.path())
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_acknowledged_and_shows_nothing_partial() {
    let dir = tempfile::tempdir().expect("tmp");
    let data_dir = dir.path().join("data");
    let (mut child, endpoint) = spawn_gateway(&data_dir, &["--chunk-size", "65536"]);
    let c = client(&endpoint);
    c.create_bucket()
        .bucket("crash")
        .send()
        .await
        .expect("create");

    let acked: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("acked-{i}"), data(200_000 + i * 1000, i as u64)))
        .collect();
    for (k, body) in &acked {
        c.put_object()
            .bucket("crash")
            .key(k)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("put acked");
    }

    // Start many large uploads, then kill -9 while they are in flight.
    let inflight: Vec<(String, Vec<u8>)> = (0..8)
        .map(|i| {
            (
                format!("inflight-{i}"),
                data(4 * 1024 * 1024, 100 + i as u64),
            )
        })
        .collect();
    let mut tasks = Vec::new();
    for (k, body) in inflight.clone() {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.put_object()
                .bucket("crash")
                .key(&k)
                .body(ByteStream::from(body))
                .send()
                .await
                .is_ok()
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let mut ok = Vec::new();
    for t in tasks {
        ok.push(t.await.unwrap_or(false));
    }

    let (mut child, endpoint) = spawn_gateway(&data_dir, &["--chunk-size", "65536"]);
    let c = client(&endpoint);
    for (k, body) in &acked {
        let got = c
            .get_object()
            .bucket("crash")
            .key(k)
            .send()
            .await
            .expect("acked object survives");
        let bytes = got.body.collect().await.expect("body").into_bytes();
        assert_eq!(Sha256::digest(&bytes), Sha256::digest(body), "{k}");
    }
    let mut visible = 0;
    for ((k, body), acknowledged) in inflight.iter().zip(&ok) {
        match c.get_object().bucket("crash").key(k).send().await {
            Ok(got) => {
                visible += 1;
                let bytes = got.body.collect().await.expect("body").into_bytes();
                assert_eq!(
                    Sha256::digest(&bytes),
                    Sha256::digest(body),
                    "{k} is partial"
                );
            }
            Err(_) => assert!(!acknowledged, "{k} was acknowledged but is gone"),
        }
    }
    // The start-up sweep removed every blob no object references.
    assert_eq!(blob_files(&data_dir), acked.len() + visible);
    child.kill().expect("kill");
    child.wait().expect("reap");
}
