//! The aws-chunked decoder (`DecodedBody`) in every payload mode, fed the
//! body in pieces cut at input-chosen points.
//!
//! Input: a control byte (payload mode in bits 0-2; bit 7 chooses the
//! round-trip form), a flags byte (bit 0: a decoded length is declared;
//! bit 1: add a CRC32 trailer in the round trip), the decoded length (u16),
//! a cut count and the cut points, then the body.
//!
//! Invariants, for any body:
//! * it never yields more bytes than the declared decoded length, and a
//!   body that ends without error yields exactly that many;
//! * `decoded_bytes()` counts what was yielded, no frame is empty, nothing
//!   follows an error;
//! * the outcome does not depend on how the body was cut: the same bytes
//!   and the same verdict (error kind) as the body in one piece;
//! * a trailer checksum, if accepted, has its algorithm's length;
//! * pass-through modes yield the body unchanged.
//!
//! Round trip: the body is cut into chunks, framed correctly (signed with
//! the fixed key, or unsigned with a trailer) and decoded again; it must
//! come back unchanged, with the trailer checksum we sent.

#![no_main]

use std::io;
use std::mem::discriminant;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::{stream, Stream, StreamExt};
use libfuzzer_sys::fuzz_target;
use s3gw::auth::sigv4::ChunkSigner;
use s3gw::auth::{
    checksum_of, encode_base64, signing_key, AuthError, DecodedBody, PayloadMode, SecretKey,
};
use s3gw::types::ChecksumAlgorithm;
use s3gw_fuzz::Cursor;
use sha2::{Digest, Sha256};

const MODES: [PayloadMode; 5] = [
    PayloadMode::Unsigned,
    PayloadMode::Signed([0; 32]),
    PayloadMode::StreamingSigned { trailer: false },
    PayloadMode::StreamingSigned { trailer: true },
    PayloadMode::StreamingUnsignedTrailer,
];

fn signer() -> ChunkSigner {
    let key = signing_key(&SecretKey::new("secret".into()), "20130524", "us-east-1");
    ChunkSigner::new(
        key,
        "20130524T000000Z".into(),
        "20130524/us-east-1/s3/aws4_request".into(),
        "0".repeat(64),
    )
}

type Outcome = (
    Vec<u8>,
    Result<Option<(ChecksumAlgorithm, Vec<u8>)>, AuthError>,
);

/// Decodes `wire` delivered as `pieces` (cut at `cuts`), checking the
/// per-run invariants; returns everything yielded and the verdict.
fn decode(wire: &[u8], cuts: &[usize], mode: PayloadMode, len: Option<u64>) -> Outcome {
    let mut frames: Vec<Result<Bytes, io::Error>> = Vec::new();
    let mut at = 0;
    for &c in cuts {
        frames.push(Ok(Bytes::copy_from_slice(&wire[at..c])));
        at = c;
    }
    frames.push(Ok(Bytes::copy_from_slice(&wire[at..])));
    let signer = matches!(mode, PayloadMode::StreamingSigned { .. }).then(signer);
    let mut body = DecodedBody::new(stream::iter(frames).boxed(), &mode, signer, len);
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match Pin::new(&mut body).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(b))) => {
                assert!(!b.is_empty(), "empty frame");
                out.extend_from_slice(&b);
                assert_eq!(body.decoded_bytes(), out.len() as u64);
                if let Some(len) = len {
                    assert!(out.len() as u64 <= len, "more bytes than declared");
                }
            }
            Poll::Ready(Some(Err(e))) => {
                assert!(matches!(
                    Pin::new(&mut body).poll_next(&mut cx),
                    Poll::Ready(None)
                ));
                return (out, Err(e));
            }
            Poll::Ready(None) => break,
            Poll::Pending => panic!("the source is never pending"),
        }
    }
    if let Some(len) = len {
        assert_eq!(out.len() as u64, len, "ended short of the declared length");
    }
    let trailer = body.trailer_checksum();
    if let Some((alg, value)) = &trailer {
        assert_eq!(value.len(), alg.digest_len());
    }
    (out, Ok(trailer))
}

fn same(a: &Outcome, b: &Outcome) -> bool {
    match (&a.1, &b.1) {
        (Ok(x), Ok(y)) => a.0 == b.0 && x == y,
        (Err(x), Err(y)) => discriminant(x) == discriminant(y),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    let control = c.byte();
    let flags = c.byte();
    let declared = u64::from(c.u16());
    let ncuts = usize::from(c.byte() % 8);
    let mut cuts: Vec<usize> = (0..ncuts).map(|_| usize::from(c.u16())).collect();
    let body = c.rest();
    let mode = MODES[usize::from(control & 7) % MODES.len()];
    let len = (flags & 1 == 1).then_some(declared);

    if control & 0x80 == 0 {
        for cut in &mut cuts {
            *cut %= body.len() + 1;
        }
        cuts.sort_unstable();
        let whole = decode(body, &[], mode, len);
        let split = decode(body, &cuts, mode, len);
        assert!(
            same(&whole, &split),
            "cutting changed the outcome: {:?} vs {:?}",
            whole.1,
            split.1
        );
        if !mode.is_streaming() && whole.1.is_ok() {
            assert_eq!(whole.0, body);
        }
        return;
    }

    // Round trip.
    let mut chunk_cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    chunk_cuts.sort_unstable();
    chunk_cuts.dedup();
    let mut chunks = Vec::new();
    let mut at = 0;
    for c in chunk_cuts {
        if c > at {
            chunks.push(&body[at..c]);
            at = c;
        }
    }
    if at < body.len() {
        chunks.push(&body[at..]);
    }
    let (mode, trailer) = match mode {
        PayloadMode::StreamingSigned { trailer } => (mode, trailer && flags & 2 == 2),
        _ => (PayloadMode::StreamingUnsignedTrailer, flags & 2 == 2),
    };
    let crc = checksum_of(ChecksumAlgorithm::Crc32, body);
    let wire = frame(&chunks, mode, trailer.then(|| encode_base64(&crc)));
    let wire_cuts: Vec<usize> = {
        let mut v: Vec<usize> = cuts.iter().map(|c| (c * 7) % (wire.len() + 1)).collect();
        v.sort_unstable();
        v
    };
    let (out, verdict) = decode(&wire, &wire_cuts, mode, Some(body.len() as u64));
    let got = verdict.unwrap_or_else(|e| panic!("a correctly framed body was refused: {e:?}"));
    assert_eq!(out, body);
    assert_eq!(got, trailer.then_some((ChecksumAlgorithm::Crc32, crc)));
});

/// Frames `chunks` as a client would, with an optional CRC32 trailer.
fn frame(chunks: &[&[u8]], mode: PayloadMode, crc: Option<String>) -> Vec<u8> {
    let mut out = Vec::new();
    let trailer: Vec<(String, String)> = crc
        .map(|v| ("x-amz-checksum-crc32".to_string(), v))
        .into_iter()
        .collect();
    match mode {
        PayloadMode::StreamingSigned { trailer: announced } => {
            let s = signer();
            let mut prev = s.seed_signature().to_string();
            for chunk in chunks.iter().chain([&&b""[..]]) {
                let sig = s.chunk_signature(&prev, &Sha256::digest(chunk).into());
                out.extend_from_slice(
                    format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes(),
                );
                if !chunk.is_empty() {
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                prev = sig;
            }
            if announced {
                let mut canonical = String::new();
                for (n, v) in &trailer {
                    canonical.push_str(&format!("{n}:{v}\n"));
                    out.extend_from_slice(format!("{n}:{v}\r\n").as_bytes());
                }
                let sig = s.trailer_signature(&prev, canonical.as_bytes());
                out.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        _ => {
            for chunk in chunks {
                out.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n");
            for (n, v) in &trailer {
                out.extend_from_slice(format!("{n}:{v}\r\n").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}
