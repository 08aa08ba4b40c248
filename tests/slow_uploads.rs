//! Slow and stalled clients (issue 15, item 4): uploads that stall hold no
//! shared buffer slot, a body slower than the minimum rate is cut with
//! `400 RequestTimeout`, and connections beyond `max_connections` wait.
//! Raw HTTP with presigned URLs, so a test controls every byte.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The test server's chunk size (tests/common).
const CHUNK: usize = 64 * 1024;
/// The generous bound within which a flowing upload must be answered.
const PROMPTLY: Duration = Duration::from_secs(10);

/// Raises this process's soft limit on open files to at least `want`
/// (within the hard limit): every stalled upload costs two descriptors
/// here, the client's and the gateway's.
#[allow(unsafe_code)]
fn raise_nofile(want: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write `lim`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        if lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// The request head of a presigned PUT of `key` announcing `len` bytes.
async fn put_head(c: &Client, addr: SocketAddr, bucket: &str, key: &str, len: usize) -> String {
    let cfg = PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg");
    let req = c
        .put_object()
        .bucket(bucket)
        .key(key)
        .presigned(cfg)
        .await
        .expect("presign");
    let uri: http::Uri = req.uri().parse().expect("uri");
    let mut head = format!(
        "PUT {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\n",
        uri.path_and_query().expect("pq")
    );
    for (name, value) in req.headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Opens a connection, sends `head` and `first` bytes of the body, and
/// leaves the rest unsent.
async fn stalled(addr: SocketAddr, head: &str, first: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(first).await.expect("first bytes");
    s
}

async fn put(c: &Client, bucket: &str, key: &str, body: Vec<u8>) {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .expect("put");
}

/// A normal small PUT and a normal 3 MiB PUT, each answered within
/// `PROMPTLY`, and both read back.
async fn flowing_puts_succeed(c: &Client, b: &str, while_: &str) {
    let small = b"tiny".to_vec();
    let large = data(3 * 1024 * 1024, 7);
    for (key, body) in [("small", small), ("large", large)] {
        let t = Instant::now();
        let done = tokio::time::timeout(PROMPTLY, put(c, b, key, body.clone())).await;
        assert!(
            done.is_ok(),
            "{key} PUT ({} bytes) not answered within {PROMPTLY:?} {while_}",
            body.len()
        );
        println!(
            "{key} PUT ({} bytes) answered in {:?} {while_}",
            body.len(),
            t.elapsed()
        );
        assert_eq!(get_bytes(c, b, key).await, body, "{key}");
    }
}

/// Reads what the gateway answers on `s` until it closes the connection.
async fn answer(mut s: TcpStream) -> String {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(PROMPTLY, s.read_to_end(&mut buf)).await;
    match read {
        Ok(_) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => "no answer".into(),
    }
}

fn is_request_timeout(answer: &str) -> bool {
    answer.starts_with("HTTP/1.1 400") && answer.contains("<Code>RequestTimeout</Code>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_do_not_starve_flowing_ones() {
    const STALLED: usize = 300; // more than the 256 buffer slots
    raise_nofile(4 * STALLED as u64 + 256);
    // The default buffer slots; a short grace, so the gateway cuts the
    // stalled uploads itself once the flowing ones are done.
    let grace = Duration::from_secs(6);
    let srv = start_with(|c| c.body_grace_secs = grace.as_secs()).await;
    let c = srv.client();
    let b = create_bucket(&c, "stall").await;
    let mut held = Vec::with_capacity(STALLED);
    let first_stalled = Instant::now();
    for i in 0..STALLED {
        let head = put_head(&c, srv.addr, &b, &format!("stalled-{i}"), 1024 * 1024).await;
        held.push(stalled(srv.addr, &head, b"x").await);
    }
    // Let the gateway read every first byte.
    tokio::time::sleep(Duration::from_millis(500)).await;
    flowing_puts_succeed(&c, &b, &format!("while {STALLED} uploads stall")).await;
    assert!(
        first_stalled.elapsed() < grace,
        "the flowing PUTs ended after the stalled uploads' grace: inconclusive"
    );
    let answers = futures_util::future::join_all(held.into_iter().map(answer)).await;
    let cut = answers.iter().filter(|a| is_request_timeout(a)).count();
    println!(
        "{cut} of {STALLED} stalled uploads cut with RequestTimeout {:?} after the first stalled",
        first_stalled.elapsed()
    );
    let other = answers.iter().find(|a| !is_request_timeout(a));
    assert_eq!(cut, STALLED, "e.g. {other:?}");
    for i in [0, STALLED / 2, STALLED - 1] {
        assert_absent(&c, &b, &format!("stalled-{i}")).await;
    }
}

/// Uploads that stall after a whole chunk (their first chunk handed to
/// storage) hold no slot either: with 4 slots, 8 of them leave room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_stalled_past_their_first_chunk_hold_no_slot() {
    let srv = start_with(|c| c.max_buffered_chunks = 4).await;
    let c = srv.client();
    let b = create_bucket(&c, "stall-chunk").await;
    let mut held = Vec::new();
    for i in 0..8 {
        let head = put_head(&c, srv.addr, &b, &format!("stalled-{i}"), 4 * CHUNK).await;
        held.push(stalled(srv.addr, &head, &data(CHUNK + 1, i)).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    flowing_puts_succeed(&c, &b, "while 8 uploads stall past a chunk").await;
    drop(held);
    assert_absent(&c, &b, "stalled-0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drip_fed_body_is_cut_with_request_timeout() {
    // The rate applies after 2 s; 100 B/s buys 10 ms a byte: a byte a
    // second (well inside the 3 s idle timeout) is cut at about 2 s.
    let srv = start_with(|c| {
        c.body_idle_timeout_secs = 3;
        c.body_grace_secs = 2;
        c.body_min_bytes_per_sec = 100;
    })
    .await;
    let bound = Duration::from_secs(2 + 3); // grace + one idle wait, at most
    let c = srv.client();
    let b = create_bucket(&c, "drip").await;
    let head = put_head(&c, srv.addr, &b, "k", 1000).await;
    let t = Instant::now();
    let (mut rx, mut tx) = stalled(srv.addr, &head, b"x").await.into_split();
    let drip = tokio::spawn(async move {
        while tx.write_all(b"x").await.is_ok() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(bound + Duration::from_secs(3), rx.read_to_end(&mut answer));
    let read = read.await;
    let took = t.elapsed();
    drip.abort();
    let text = String::from_utf8_lossy(&answer);
    println!(
        "drip-fed body answered after {took:?}: {}",
        text.lines().next().unwrap_or("")
    );
    assert!(
        read.is_ok(),
        "a drip-fed body still accepted after {took:?}"
    );
    assert!(
        took <= bound,
        "cut after {took:?}, documented bound {bound:?}"
    );
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("<Code>RequestTimeout</Code>"), "{text}");
    assert!(
        text.contains("Your socket connection to the server was not read from or written to within the timeout period."),
        "{text}"
    );
    assert_absent(&c, &b, "k").await;
}

/// Reads one response (head and a Content-Length body) from a kept-alive
/// connection; its status.
async fn read_response(s: &mut TcpStream) -> u16 {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).await.expect("read");
        assert!(n == 1, "connection closed mid-head: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().expect("length"));
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.expect("body");
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status")
}

const HEALTH: &[u8] = b"GET /_s3gw/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// A health check on a new connection that stays open; answered.
async fn served(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(HEALTH).await.expect("write");
    let status = tokio::time::timeout(PROMPTLY, read_response(&mut s)).await;
    assert_eq!(status.expect("answered"), 200);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let srv = start_with(|c| c.max_connections = 2).await;
    let first = served(srv.addr).await;
    let mut second = served(srv.addr).await;
    // The kernel completes the third handshake; the gateway does not
    // accept it while two connections are open.
    let mut third = TcpStream::connect(srv.addr).await.expect("connect");
    third.write_all(HEALTH).await.expect("write");
    let early = tokio::time::timeout(Duration::from_millis(1500), read_response(&mut third)).await;
    assert!(
        early.is_err(),
        "a third connection was served beyond the cap of 2"
    );
    let t = Instant::now();
    drop(first);
    let status = tokio::time::timeout(PROMPTLY, read_response(&mut third)).await;
    println!(
        "third connection served {:?} after the first closed",
        t.elapsed()
    );
    assert_eq!(status.expect("served once the first closed"), 200);
    // The open ones keep working; closing another lets the next one in.
    second.write_all(HEALTH).await.expect("write");
    assert_eq!(read_response(&mut second).await, 200);
    drop(third);
    let _fourth = served(srv.addr).await;
}
