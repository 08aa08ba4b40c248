//! Credentials and TLS to Cassandra, against a node started with
//! `scripts/cassandra start --auth --tls` (its `client.env` exported): the
//! right ones work (every other Cassandra test uses them), and a wrong
//! password, an untrusted node certificate, a missing client certificate
//! and a plain connection each fail with a message that says which, without
//! the password in it. The gateway itself exits on a wrong password.
//!
//! Runs when `S3GW_CASSANDRA_USERNAME` and `S3GW_CASSANDRA_TLS_CA_FILE` are
//! set (with `S3GW_TEST_CASSANDRA`); `S3GW_REQUIRE_CASSANDRA_SECURITY=1`
//! (the README's test command) makes their absence a failure.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use s3gw::storage::cassandra::options::{Password, SecuritySettings};
use s3gw::storage::cassandra::{CassandraOptions, CassandraStorage};

use crate::common;

/// The node's settings from the environment, or `None` (skip).
fn secured() -> Option<(CassandraOptions, SecuritySettings)> {
    let env = SecuritySettings::from_env();
    let complete = env.username.is_some() && env.tls_ca_file.is_some();
    if !complete {
        if std::env::var("S3GW_REQUIRE_CASSANDRA_SECURITY").as_deref() == Ok("1") {
            panic!(
                "S3GW_REQUIRE_CASSANDRA_SECURITY=1 but S3GW_CASSANDRA_USERNAME or \
                 S3GW_CASSANDRA_TLS_CA_FILE is not set (scripts/cassandra start --auth --tls \
                 writes them to tmp/cassandra/client.env)"
            );
        }
        eprintln!("skipped: no Cassandra with authentication and TLS in the environment");
        return None;
    }
    let o = common::cassandra_options(Duration::from_secs(900))?;
    Some((o, env))
}

/// Opens the store with `settings`, giving up on retries after `for_`;
/// the error's text. Bounded by a minute whatever happens.
async fn open_error(o: &CassandraOptions, settings: SecuritySettings, for_: Option<u64>) -> String {
    let mut o = o.clone().with_security(settings).expect("settings");
    o.connect_for = for_.map(Duration::from_secs);
    match tokio::time::timeout(Duration::from_secs(60), CassandraStorage::open(o)).await {
        Ok(Ok(_)) => panic!("opened the store with settings that should fail"),
        Ok(Err(e)) => e.to_string(),
        Err(_) => panic!("still retrying after 60 s: the failure was not recognised as final"),
    }
}

#[tokio::test]
async fn a_wrong_password_is_final_and_named() {
    let Some((o, env)) = secured() else { return };
    let wrong = format!("not-the-password-{}", uuid::Uuid::new_v4().simple());
    let settings = SecuritySettings {
        password: Some(Password::new(wrong.clone())),
        password_file: None,
        ..env
    };
    // No retry limit: the wrong password must end the attempt by itself.
    let e = open_error(&o, settings, None).await;
    assert!(e.contains("refused the username or password"), "{e}");
    assert!(!e.contains(&wrong), "the password is in the message: {e}");
}

#[tokio::test]
async fn a_node_certificate_from_another_ca_is_final_and_named() {
    let Some((o, env)) = secured() else { return };
    let ca = env.tls_ca_file.clone().expect("ca");
    let untrusted = ca.with_file_name("untrusted-ca.pem");
    assert!(untrusted.exists(), "{} is missing", untrusted.display());
    let settings = SecuritySettings {
        tls_ca_file: Some(untrusted),
        ..env
    };
    let e = open_error(&o, settings, None).await;
    assert!(e.contains("did not verify against the CA"), "{e}");
}

#[tokio::test]
async fn a_node_that_requires_a_client_certificate_refuses_none() {
    let Some((o, env)) = secured() else { return };
    if env.tls_cert_file.is_none() {
        eprintln!("skipped: no client certificate in the environment");
        return;
    }
    let settings = SecuritySettings {
        tls_cert_file: None,
        tls_key_file: None,
        ..env
    };
    let e = open_error(&o, settings, None).await;
    assert!(e.contains("requires a client certificate"), "{e}");
}

#[tokio::test]
async fn a_plain_connection_to_a_tls_node_fails() {
    let Some((o, env)) = secured() else { return };
    let settings = SecuritySettings {
        tls: Some(false),
        tls_ca_file: None,
        tls_cert_file: None,
        tls_key_file: None,
        ..env
    };
    let e = open_error(&o, settings, Some(5)).await;
    assert!(e.contains("cannot"), "{e}");
}

/// The binary: a wrong password ends `s3gw serve` with the reason on
/// stderr, and the password appears nowhere in its output.
#[test]
fn the_gateway_exits_on_a_wrong_password() {
    let Some((o, _)) = secured() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let wrong = format!("wrong-{}", uuid::Uuid::new_v4().simple());
    let pw_file: PathBuf = dir.path().join("password");
    std::fs::write(&pw_file, format!("{wrong}\n")).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3gw"))
        .args(["serve", "--listen", "127.0.0.1:0", "--backend", "cassandra"])
        .arg("--cassandra-contact-points")
        .arg(&o.contact_points[0])
        .arg("--cassandra-password-file")
        .arg(&pw_file)
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("S3GW_CASSANDRA_PASSWORD")
        .env("S3GW_ROOT_ACCESS_KEY", common::ACCESS_KEY)
        .env("S3GW_ROOT_SECRET_KEY", common::SECRET_KEY)
        .env("S3GW_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn s3gw");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("s3gw still runs 60 s after a wrong password");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stderr.contains("refused the username or password"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&wrong) && !stdout.contains(&wrong),
        "the password was printed"
    );
}
