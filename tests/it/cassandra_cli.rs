//! The binary with `--backend cassandra`: it waits for an unreachable
//! cluster with a clear message instead of failing or hanging silently,
//! and `s3gw migrate` creates a keyspace once and is a no-op the second
//! time.

use crate::common;

use s3gw::storage::cassandra::SCHEMA_VERSION;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn an_unreachable_cluster_is_reported_and_retried() {
    let dir = tempfile::tempdir().expect("tmp");
    // Port 1 on loopback: nothing listens there, connections are refused.
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3gw"))
        .args(["serve", "--listen", "127.0.0.1:0", "--backend", "cassandra"])
        .args(["--cassandra-contact-points", "127.0.0.1:1"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("S3GW_ROOT_ACCESS_KEY", common::ACCESS_KEY)
        .env("S3GW_ROOT_SECRET_KEY", common::SECRET_KEY)
        .env("S3GW_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn s3gw");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut retries = 0;
    while retries < 2 && started.elapsed() < Duration::from_secs(20) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            if line.contains("cannot reach Cassandra") && line.contains("127.0.0.1:1") {
                retries += 1;
            }
        }
    }
    let alive = child.try_wait().expect("wait").is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(retries, 2, "expected two retry messages");
    assert!(alive, "the gateway gave up instead of retrying");
}

#[test]
fn migrate_creates_a_keyspace_once() {
    let Some(o) = common::cassandra_options(Duration::from_secs(900)) else {
        return;
    };
    let keyspace = format!(
        "s3gw_test_migrate_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_s3gw"))
            .args(["migrate", "--backend", "cassandra"])
            .args(["--cassandra-contact-points", &o.contact_points[0]])
            .args(["--cassandra-keyspace", &keyspace])
            .args(["--cassandra-index-shards", "4"])
            .env("S3GW_LOG", "warn")
            .output()
            .expect("run migrate");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    assert!(
        first.contains(&format!(
            "keyspace {keyspace} is at schema version {SCHEMA_VERSION} (4 index shards)"
        )),
        "{first}"
    );
    // A second run finds everything in place, and keeps the shard count
    // the keyspace was created with even when asked for another.
    let out = Command::new(env!("CARGO_BIN_EXE_s3gw"))
        .args(["migrate", "--backend", "cassandra"])
        .args(["--cassandra-contact-points", &o.contact_points[0]])
        .args(["--cassandra-keyspace", &keyspace])
        .args(["--cassandra-index-shards", "32"])
        .env("S3GW_LOG", "warn")
        .output()
        .expect("run migrate");
    assert!(out.status.success(), "{out:?}");
    let second = String::from_utf8_lossy(&out.stdout);
    assert!(second.contains("(4 index shards)"), "{second}");
    assert!(run().contains(&format!("schema version {SCHEMA_VERSION}")));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(common::drop_keyspace(&o.contact_points[0], &keyspace));
}
