//! Uploads framed as signed aws-chunked bodies
//! (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`), which the Java SDK
//! sends over plain HTTP. No common client library builds them for us, so
//! this test frames and signs them itself.

use crate::common;

use s3gw::auth::checksum::{checksum_of, encode_base64};
use s3gw::auth::sigv4::{
    canonical_request, format_amz_date, scope, sign, signing_key, string_to_sign, ChunkSigner,
};
use s3gw::auth::SecretKey;
use s3gw::types::ChecksumAlgorithm;
use sha2::{Digest, Sha256};

use common::*;

const CHUNK: usize = 64 * 1024;

/// Builds a signed streaming PUT of `body`; `corrupt` flips a byte of the
/// data after signing; `trailer` adds a signed CRC32 trailer.
fn build(host: &str, path: &str, body: &[u8], trailer: bool, corrupt: bool) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc();
    let amz_date = format_amz_date(now);
    let day = &amz_date[..8];
    let mode = if trailer {
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    } else {
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    };
    let key = signing_key(&SecretKey::new(SECRET_KEY.into()), day, "us-east-1");
    let scope = scope(day, "us-east-1");

    // The framed body's length must be known before signing the headers, so
    // frame with placeholder signatures of the right length first.
    let chunks: Vec<&[u8]> = body.chunks(CHUNK).collect();
    let sig_len = 64;
    let mut encoded_len = 0;
    for c in &chunks {
        encoded_len += format!("{:x};chunk-signature=", c.len()).len() + sig_len + 2 + c.len() + 2;
    }
    encoded_len += "0;chunk-signature=".len() + sig_len + 2;
    let crc = encode_base64(&checksum_of(ChecksumAlgorithm::Crc32, body));
    let trailer_line = format!("x-amz-checksum-crc32:{crc}\n");
    if trailer {
        encoded_len += trailer_line.len() + 1 + "x-amz-trailer-signature:".len() + sig_len + 2 + 2;
    } else {
        encoded_len += 2;
    }

    let mut headers = vec![
        ("content-encoding".to_string(), "aws-chunked".to_string()),
        ("content-length".into(), encoded_len.to_string()),
        ("host".into(), host.to_string()),
        ("x-amz-content-sha256".into(), mode.to_string()),
        ("x-amz-date".into(), amz_date.clone()),
        (
            "x-amz-decoded-content-length".into(),
            body.len().to_string(),
        ),
    ];
    if trailer {
        headers.push(("x-amz-trailer".into(), "x-amz-checksum-crc32".into()));
    }
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let canon_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let creq = canonical_request("PUT", path, "", &canon_headers, &signed, mode);
    let seed = sign(&key, &string_to_sign(&amz_date, &scope, &creq));
    let signer = ChunkSigner::new(key, amz_date.clone(), scope.clone(), seed.clone());

    let mut framed = Vec::new();
    let mut prev = seed.clone();
    for c in &chunks {
        let sig = signer.chunk_signature(&prev, &Sha256::digest(c).into());
        framed.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", c.len()).as_bytes());
        framed.extend_from_slice(c);
        framed.extend_from_slice(b"\r\n");
        prev = sig;
    }
    let sig = signer.chunk_signature(&prev, &Sha256::digest(b"").into());
    framed.extend_from_slice(format!("0;chunk-signature={sig}\r\n").as_bytes());
    if trailer {
        let tsig = signer.trailer_signature(&sig, trailer_line.as_bytes());
        framed.extend_from_slice(trailer_line.replace('\n', "\r\n").as_bytes());
        framed.extend_from_slice(format!("x-amz-trailer-signature:{tsig}\r\n\r\n").as_bytes());
    } else {
        framed.extend_from_slice(b"\r\n");
    }
    assert_eq!(framed.len(), encoded_len);
    if corrupt {
        let i = framed.len() / 2;
        framed[i] ^= 0x01;
    }

    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders={signed}, Signature={seed}"
    );
    let mut req = format!("PUT {path} HTTP/1.1\r\n");
    for (k, v) in &headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "authorization: {auth}\r\nconnection: close\r\n\r\n"
    ));
    let mut out = req.into_bytes();
    out.extend_from_slice(&framed);
    out
}

#[tokio::test]
async fn signed_chunks_with_and_without_trailer() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_name("signedchunks");
    c.create_bucket().bucket(&b).send().await.expect("create");
    let host = srv.addr.to_string();
    for trailer in [false, true] {
        for size in [0, 1, CHUNK + 3, 3 * CHUNK] {
            let body = data(size, size as u64 + 1);
            let path = format!("/{b}/obj-{trailer}-{size}");
            let (status, head, resp) =
                raw_request(srv.addr, &build(&host, &path, &body, trailer, false)).await;
            assert_eq!(
                status,
                200,
                "{path}: {head} {}",
                String::from_utf8_lossy(&resp)
            );
            let key = path.rsplit('/').next().expect("key");
            let got = c
                .get_object()
                .bucket(&b)
                .key(key)
                .send()
                .await
                .expect("get");
            let bytes = got.body.collect().await.expect("body").into_bytes();
            assert_eq!(bytes.as_ref(), body.as_slice(), "{path}");
        }
    }
}

#[tokio::test]
async fn a_tampered_chunk_is_rejected_and_nothing_is_stored() {
    let srv = start().await;
    let c = srv.client();
    let b = bucket_name("tampered");
    c.create_bucket().bucket(&b).send().await.expect("create");
    let host = srv.addr.to_string();
    for trailer in [false, true] {
        let body = data(2 * CHUNK + 10, 9);
        let path = format!("/{b}/obj-{trailer}");
        let (status, _, resp) =
            raw_request(srv.addr, &build(&host, &path, &body, trailer, true)).await;
        let resp = String::from_utf8_lossy(&resp);
        assert!(status == 403 || status == 400, "{status} {resp}");
        let key = path.rsplit('/').next().expect("key");
        let e = c
            .head_object()
            .bucket(&b)
            .key(key)
            .send()
            .await
            .expect_err("must not exist");
        assert!(e.into_service_error().is_not_found());
    }
}
