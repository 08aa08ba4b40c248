//! The embedded store's files are the gateway user's alone: the data
//! directory, the records, the blob files and the stored root credentials
//! are created owner-only; a credentials file others can read is warned
//! about; a root secret shorter than 8 characters is refused.

use crate::common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;

use common::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .mode()
        & 0o777
}

/// Every file and directory under `dir`, recursively.
fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        out.push(path.clone());
        if path.is_dir() {
            walk(&path, out);
        }
    }
}

#[tokio::test]
async fn the_store_is_created_owner_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let (child, endpoint) = spawn_gateway(&data, &[]);
    let mut child = KillOnDrop(child);
    let c = client_for(&endpoint);
    c.create_bucket()
        .bucket("modes")
        .send()
        .await
        .expect("create");
    c.put_object()
        .bucket("modes")
        .key("k")
        .body(ByteStream::from(data_bytes()))
        .send()
        .await
        .expect("put");
    child.kill9();

    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(&data.join("records.redb")), 0o600, "records.redb");
    let mut all = Vec::new();
    walk(&data, &mut all);
    let files: Vec<_> = all.iter().filter(|p| p.is_file()).collect();
    assert!(files.len() >= 2, "{all:?}");
    for p in &all {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(p), want, "{}", p.display());
    }
}

fn data_bytes() -> Vec<u8> {
    data(200_000, 7)
}

/// The gateway's first line on stdout once it serves.
const SERVING: &str = "s3gw serving S3 at";

/// Runs `s3gw serve` on `data_dir` with `env` and returns its output lines
/// (stderr and stdout) until `stop` matches one or the process exits (at
/// most 20 s), plus a moment's more.
fn output_until(
    data_dir: &Path,
    env: &[(&str, &str)],
    stop: impl Fn(&str) -> bool,
) -> (Vec<String>, Option<std::process::ExitStatus>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_s3gw"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("S3GW_ROOT_ACCESS_KEY")
        .env_remove("S3GW_ROOT_SECRET_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn s3gw");
    let (tx, rx) = std::sync::mpsc::channel();
    let pipes: [Box<dyn std::io::Read + Send>; 2] = [
        Box::new(child.stderr.take().expect("stderr")),
        Box::new(child.stdout.take().expect("stdout")),
    ];
    for pipe in pipes {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    let mut status = None;
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let done = stop(&line);
            lines.push(line);
            if done {
                std::thread::sleep(Duration::from_millis(300));
                lines.extend(rx.try_iter());
                break;
            }
        }
        if let Some(s) = child.try_wait().expect("wait") {
            status = Some(s);
            lines.extend(rx.try_iter());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (lines, status)
}

#[test]
fn a_short_root_secret_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (lines, status) = output_until(
        tmp.path(),
        &[
            ("S3GW_ROOT_ACCESS_KEY", "AKSHORT"),
            ("S3GW_ROOT_SECRET_KEY", "1234567"),
        ],
        |_| false,
    );
    let status = status.expect("the gateway should exit");
    assert!(!status.success(), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("shorter than 8 characters")),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("1234567")),
        "secret echoed: {lines:?}"
    );
}

#[test]
fn stored_credentials_are_private_and_warned_about_when_not() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    // The first start generates and stores the credentials.
    let (lines, _) = output_until(&data, &[], |l| l.contains(SERVING));
    let creds = data.join("root-credentials.toml");
    assert_eq!(mode(&creds), 0o600, "{lines:?}");
    assert_eq!(mode(&data), 0o700);
    let (lines, status) = output_until(&data, &[], |l| l.contains(SERVING));
    assert!(status.is_none(), "exited: {lines:?}");
    assert!(
        !lines.iter().any(|l| l.contains("readable by other users")),
        "{lines:?}"
    );

    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (lines, _) = output_until(&data, &[], |l| l.contains(SERVING));
    assert!(
        lines.iter().any(|l| l.contains("readable by other users")),
        "{lines:?}"
    );
}
