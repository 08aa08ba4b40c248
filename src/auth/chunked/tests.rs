//! Tests of the aws-chunked decoder: framing, limits, trailers, signatures,
//! every split point, and garbage that must never panic.

use super::*;
use crate::auth::checksum::{checksum_of, encode_base64};
use crate::auth::sigv4::{signing_key, STREAMING_SIGNED};
use crate::auth::SecretKey;
use futures_util::stream;
use std::task::Waker;

/// Drives a stream whose source is always ready; returns the data and the
/// first error. Asserts that nothing follows an error.
pub(crate) fn drain(body: &mut DecodedBody) -> Result<Vec<u8>, AuthError> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match Pin::new(&mut *body).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(b))) => {
                assert!(!b.is_empty(), "empty frame emitted");
                out.extend_from_slice(&b);
            }
            Poll::Ready(Some(Err(e))) => {
                assert!(matches!(
                    Pin::new(&mut *body).poll_next(&mut cx),
                    Poll::Ready(None)
                ));
                return Err(e);
            }
            Poll::Ready(None) => return Ok(out),
            Poll::Pending => panic!("test source is never pending"),
        }
    }
}

pub(crate) fn body_of(
    frames: Vec<Vec<u8>>,
    mode: PayloadMode,
    signer: Option<ChunkSigner>,
    len: Option<u64>,
) -> DecodedBody {
    let frames: Vec<Result<Bytes, io::Error>> =
        frames.into_iter().map(|f| Ok(Bytes::from(f))).collect();
    DecodedBody::new(stream::iter(frames).boxed(), &mode, signer, len)
}

type TrailerChecksum = (ChecksumAlgorithm, Vec<u8>);

fn decode(
    wire: &[u8],
    mode: PayloadMode,
    signer: Option<ChunkSigner>,
    len: Option<u64>,
) -> (Result<Vec<u8>, AuthError>, Option<TrailerChecksum>) {
    let mut body = body_of(vec![wire.to_vec()], mode, signer, len);
    let r = drain(&mut body);
    (r, body.trailer_checksum())
}

fn test_signer() -> ChunkSigner {
    let key = signing_key(&SecretKey::new("secret".into()), "20130524", "us-east-1");
    ChunkSigner::new(
        key,
        "20130524T000000Z".into(),
        "20130524/us-east-1/s3/aws4_request".into(),
        "0".repeat(64),
    )
}

/// Builds a signed aws-chunked body with our own signer.
fn encode_signed(
    signer: &ChunkSigner,
    chunks: &[&[u8]],
    trailers: Option<&[(&str, &str)]>,
) -> Vec<u8> {
    let mut prev = signer.seed_signature().to_string();
    let mut out = Vec::new();
    for chunk in chunks.iter().chain([&&b""[..]]) {
        let sig = signer.chunk_signature(&prev, &Sha256::digest(chunk).into());
        out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes());
        if !chunk.is_empty() {
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        prev = sig;
    }
    if let Some(trailers) = trailers {
        let mut canonical = String::new();
        for (n, v) in trailers {
            canonical.push_str(&format!("{n}:{v}\n"));
            out.extend_from_slice(format!("{n}:{v}\r\n").as_bytes());
        }
        let sig = signer.trailer_signature(&prev, canonical.as_bytes());
        out.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn encode_unsigned(chunks: &[&[u8]], trailer: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("0\r\n{trailer}\r\n").as_bytes());
    out
}

const UNSIGNED_TRAILER: PayloadMode = PayloadMode::StreamingUnsignedTrailer;
const SIGNED: PayloadMode = PayloadMode::StreamingSigned { trailer: false };
const SIGNED_TRAILER: PayloadMode = PayloadMode::StreamingSigned { trailer: true };

#[test]
fn is_send_and_unpin() {
    fn assert_bounds<T: Stream<Item = Result<Bytes, AuthError>> + Unpin + Send>() {}
    assert_bounds::<DecodedBody>();
}

#[test]
fn smithy_unsigned_trailer_bytes() {
    // Exact body asserted by smithy-rs for "Hello world" with a CRC32 trailer.
    let wire = b"B\r\nHello world\r\n0\r\nx-amz-checksum-crc32:i9aeUg==\r\n\r\n";
    let (r, trailer) = decode(wire, UNSIGNED_TRAILER, None, Some(11));
    assert_eq!(r.unwrap(), b"Hello world");
    assert_eq!(
        trailer,
        Some((ChecksumAlgorithm::Crc32, vec![0x8b, 0xd6, 0x9e, 0x52]))
    );
}

#[test]
fn passthrough_modes_do_not_touch_bytes() {
    let wire = b"5\r\nhello\r\n0\r\n\r\n";
    for mode in [PayloadMode::Unsigned, PayloadMode::Signed([0; 32])] {
        let mut body = body_of(
            vec![wire[..4].to_vec(), vec![], wire[4..].to_vec()],
            mode,
            None,
            Some(wire.len() as u64),
        );
        assert_eq!(drain(&mut body).unwrap(), wire);
        assert_eq!(body.trailer_checksum(), None);
        let (r, _) = decode(wire, mode, None, Some(3));
        assert!(matches!(r, Err(AuthError::IncompleteBody)));
        let (r, _) = decode(wire, mode, None, Some(100));
        assert!(matches!(r, Err(AuthError::IncompleteBody)));
    }
}

#[test]
fn every_split_point_of_small_bodies() {
    let signer = test_signer();
    let crc = encode_base64(&checksum_of(ChecksumAlgorithm::Crc32, b"Hello world"));
    let cases: Vec<(Vec<u8>, PayloadMode)> = vec![
        (
            encode_unsigned(
                &[b"Hello ", b"world"],
                &format!("x-amz-checksum-crc32:{crc}\r\n"),
            ),
            UNSIGNED_TRAILER,
        ),
        (encode_signed(&signer, &[b"Hello ", b"world"], None), SIGNED),
        (
            encode_signed(
                &signer,
                &[b"Hello ", b"world"],
                Some(&[("x-amz-checksum-crc32", &crc)]),
            ),
            SIGNED_TRAILER,
        ),
    ];
    for (wire, mode) in cases {
        let run = |frames: Vec<Vec<u8>>| {
            let mut body = body_of(frames, mode, Some(signer.clone()), Some(11));
            let out = drain(&mut body).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
            assert_eq!(out, b"Hello world");
            if mode != SIGNED {
                assert_eq!(
                    body.trailer_checksum().map(|t| t.0),
                    Some(ChecksumAlgorithm::Crc32)
                );
            }
        };
        // Every single split point; every pair of split points for the
        // unsigned body (signed ones make the pairs too slow in debug builds).
        for i in 0..=wire.len() {
            run(vec![wire[..i].to_vec(), wire[i..].to_vec()]);
            if mode == UNSIGNED_TRAILER {
                for j in i..=wire.len() {
                    run(vec![
                        wire[..i].to_vec(),
                        wire[i..j].to_vec(),
                        wire[j..].to_vec(),
                    ]);
                }
            }
        }
        run(wire.iter().map(|b| vec![*b]).collect());
    }
}

#[test]
fn data_is_passed_on_before_the_chunk_ends() {
    let wire = encode_unsigned(&[&[b'x'; 1000]], "");
    let mut body = body_of(
        vec![wire[..10].to_vec(), wire[10..].to_vec()],
        UNSIGNED_TRAILER,
        None,
        None,
    );
    let mut cx = Context::from_waker(Waker::noop());
    // "3E8\r\n" + 5 data bytes in the first frame: those 5 come out at once.
    match Pin::new(&mut body).poll_next(&mut cx) {
        Poll::Ready(Some(Ok(b))) => assert_eq!(b.len(), 5),
        other => panic!("{other:?}"),
    }
}

#[test]
fn trailer_line_ends_are_tolerated() {
    let crc = encode_base64(&checksum_of(ChecksumAlgorithm::Crc32, b"abc"));
    for tail in [
        format!("x-amz-checksum-crc32:{crc}\n\n"),
        format!("x-amz-checksum-crc32:{crc}\r\n"),
        format!("x-amz-checksum-crc32:{crc}\n"),
        format!("x-amz-checksum-crc32:{crc}"),
        format!("\r\nx-amz-checksum-crc32:{crc}\r\n\r\n"),
        format!("X-Amz-Checksum-CRC32 : {crc}\r\n\r\n"),
    ] {
        let wire = [b"3\r\nabc\r\n0\r\n".as_slice(), tail.as_bytes()].concat();
        let (r, t) = decode(&wire, UNSIGNED_TRAILER, None, Some(3));
        assert_eq!(r.unwrap(), b"abc", "{tail:?}");
        assert_eq!(t.map(|t| t.0), Some(ChecksumAlgorithm::Crc32));
    }
    // No trailer at all, with and without the final CRLF.
    for wire in [&b"3\r\nabc\r\n0\r\n\r\n"[..], b"3\r\nabc\r\n0\r\n"] {
        let (r, t) = decode(wire, UNSIGNED_TRAILER, None, None);
        assert_eq!(r.unwrap(), b"abc");
        assert_eq!(t, None);
    }
}

#[test]
fn signature_errors() {
    let signer = test_signer();
    let wire = encode_signed(&signer, &[b"Hello ", b"world"], None);
    // Flip one data byte: the chunk signature no longer matches.
    let mut bad = wire.clone();
    let at = bad.iter().position(|&b| b == b'H').unwrap();
    bad[at] = b'J';
    assert!(matches!(
        decode(&bad, SIGNED, Some(signer.clone()), None).0,
        Err(AuthError::ChunkSignatureMismatch)
    ));
    // Another key.
    let other = ChunkSigner::new(
        [7; 32],
        "20130524T000000Z".into(),
        "x".into(),
        "0".repeat(64),
    );
    assert!(matches!(
        decode(&wire, SIGNED, Some(other), None).0,
        Err(AuthError::ChunkSignatureMismatch)
    ));
    // Reordered chunks break the chain even though each is signed.
    let wire = encode_signed(&signer, &[b"Hello ", b"world"], None);
    let second = wire.windows(2).position(|w| w == b"5;").unwrap();
    let zero = wire.windows(2).position(|w| w == b"0;").unwrap();
    let swapped = [&wire[second..zero], &wire[..second], &wire[zero..]].concat();
    assert!(matches!(
        decode(&swapped, SIGNED, Some(signer.clone()), None).0,
        Err(AuthError::ChunkSignatureMismatch)
    ));
    // Trailer value changed after signing.
    let crc = encode_base64(&checksum_of(ChecksumAlgorithm::Crc32, b"Hello world"));
    let wire = encode_signed(
        &signer,
        &[b"Hello world"],
        Some(&[("x-amz-checksum-crc32", &crc)]),
    );
    let text = String::from_utf8(wire).unwrap().replace(&crc, "AAAAAA==");
    assert!(matches!(
        decode(text.as_bytes(), SIGNED_TRAILER, Some(signer.clone()), None).0,
        Err(AuthError::ChunkSignatureMismatch)
    ));
    // Signed trailer mode without the trailer signature.
    let wire = format!(
        "{}\r\nx-amz-checksum-crc32:{crc}\r\n\r\n",
        String::from_utf8(encode_signed(&signer, &[b"Hello world"], None))
            .unwrap()
            .trim_end()
    );
    assert!(matches!(
        decode(wire.as_bytes(), SIGNED_TRAILER, Some(signer.clone()), None).0,
        Err(AuthError::MalformedChunk(_))
    ));
    // A signed body without a signer.
    let wire = encode_signed(&signer, &[b"abc"], None);
    assert!(matches!(
        decode(&wire, SIGNED, None, None).0,
        Err(AuthError::MalformedChunk(_))
    ));
}

#[test]
fn malformed_framing() {
    let signer = test_signer();
    let long_line = format!("{}\r\n", "0".repeat(MAX_SIZE_LINE + 1));
    let big_trailer = format!(
        "3\r\nabc\r\n0\r\nx-amz-meta-a:{}\r\n\r\n",
        "v".repeat(MAX_TRAILER)
    );
    let signed_with_trailer = encode_signed(
        &signer,
        &[b"abc"],
        Some(&[("x-amz-checksum-crc32", "NSRBwg==")]),
    );
    let cases: Vec<(Vec<u8>, PayloadMode, &str)> = vec![
        (
            long_line.into_bytes(),
            UNSIGNED_TRAILER,
            "size line over 4 KiB",
        ),
        (
            b"4000001\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "chunk over 64 MiB",
        ),
        (
            b"ffffffffffffffffff\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "size overflow",
        ),
        (
            b"xyz\r\nabc\r\n0\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "non-hex size",
        ),
        (
            b"\r\nabc\r\n0\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "empty size",
        ),
        (
            b"+3\r\nabc\r\n0\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "signed size",
        ),
        (
            b"3\r\nabcd\r\n0\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "data longer than size",
        ),
        (
            b"3\r\nabc\n0\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "bare LF after data",
        ),
        (
            b"3\r\nabcxy0\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "other bytes instead of CRLF",
        ),
        (
            big_trailer.into_bytes(),
            UNSIGNED_TRAILER,
            "trailer over 16 KiB",
        ),
        (
            b"3\r\nabc\r\n0\r\nno colon here\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "trailer without colon",
        ),
        (
            b"3\r\nabc\r\n0\r\na:1\r\na:2\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "repeated trailer",
        ),
        (
            b"3\r\nabc\r\n0\r\n\r\nxyz".to_vec(),
            UNSIGNED_TRAILER,
            "data after the end",
        ),
        (
            format!("3;chunk-signature={}\r\nabc\r\n0\r\n\r\n", "a".repeat(64)).into_bytes(),
            UNSIGNED_TRAILER,
            "signature in unsigned mode",
        ),
        (
            b"3;foo=bar\r\nabc\r\n0\r\n\r\n".to_vec(),
            UNSIGNED_TRAILER,
            "extension in unsigned mode",
        ),
        (
            format!("0\r\nx-amz-trailer-signature:{}\r\n\r\n", "a".repeat(64)).into_bytes(),
            UNSIGNED_TRAILER,
            "trailer signature in unsigned mode",
        ),
        (
            b"3\r\nabc\r\n0\r\n\r\n".to_vec(),
            SIGNED,
            "missing chunk signature",
        ),
        (
            b"3;chunk-signature=abc\r\nabc\r\n0\r\n\r\n".to_vec(),
            SIGNED,
            "short chunk signature",
        ),
        (
            signed_with_trailer,
            SIGNED,
            "trailer in signed non-trailer mode",
        ),
    ];
    for (wire, mode, what) in cases {
        let (r, _) = decode(&wire, mode, Some(signer.clone()), None);
        assert!(
            matches!(r, Err(AuthError::MalformedChunk(_))),
            "{what}: {r:?}"
        );
    }
}

#[test]
fn incomplete_bodies() {
    for wire in [
        &b""[..],
        b"3\r\n",
        b"3\r\nab",
        b"3\r\nabc",
        b"3\r\nabc\r",
        b"3\r\nabc\r\n",
        b"3\r\nabc\r\n0",
    ] {
        let (r, _) = decode(wire, UNSIGNED_TRAILER, None, None);
        assert!(
            matches!(r, Err(AuthError::IncompleteBody)),
            "{wire:?}: {r:?}"
        );
    }
    let wire = b"3\r\nabc\r\n0\r\n\r\n";
    for len in [2, 4] {
        let (r, _) = decode(wire, UNSIGNED_TRAILER, None, Some(len));
        assert!(matches!(r, Err(AuthError::IncompleteBody)), "{len}");
    }
    // A network error is passed on as BodyRead and ends the stream.
    let frames = vec![
        Ok(Bytes::from_static(b"3\r\na")),
        Err(io::Error::other("reset")),
    ];
    let mut body = DecodedBody::new(stream::iter(frames).boxed(), &UNSIGNED_TRAILER, None, None);
    assert!(matches!(drain(&mut body), Err(AuthError::BodyRead(_))));
}

#[test]
fn trailer_checksum_errors() {
    for (trailer, what) in [
        (
            "x-amz-checksum-md5:AAAAAAAAAAAAAAAAAAAAAA==",
            "unknown algorithm",
        ),
        ("x-amz-checksum-crc32:AAAA", "wrong length"),
        ("x-amz-checksum-crc32:!!!!", "bad base64"),
        (
            "x-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32c:AAAAAA==",
            "two checksums",
        ),
    ] {
        let wire = format!("0\r\n{trailer}\r\n\r\n");
        let (r, _) = decode(wire.as_bytes(), UNSIGNED_TRAILER, None, None);
        assert!(
            matches!(r, Err(AuthError::InvalidChecksumRequest(_))),
            "{what}: {r:?}"
        );
    }
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn random_frames(rng: &mut XorShift, wire: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let n = 1 + rng.below(wire.len() - at);
        frames.push(wire[at..at + n].to_vec());
        at += n;
    }
    frames
}

#[test]
fn garbage_and_mutations_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let signer = test_signer();
    let crc = encode_base64(&checksum_of(ChecksumAlgorithm::Crc32, b"Hello world"));
    let valid = [
        (
            encode_unsigned(
                &[b"Hello ", b"world"],
                &format!("x-amz-checksum-crc32:{crc}\r\n"),
            ),
            UNSIGNED_TRAILER,
        ),
        (encode_signed(&signer, &[b"Hello ", b"world"], None), SIGNED),
        (
            encode_signed(
                &signer,
                &[b"Hello world"],
                Some(&[("x-amz-checksum-crc32", &crc)]),
            ),
            SIGNED_TRAILER,
        ),
    ];
    let alphabet = b"0123456789abcdefABCDEF;=:\r\n -xchunk-signature";
    for round in 0..20_000 {
        let (wire, mode) = &valid[round % valid.len()];
        let mut wire = wire.clone();
        match rng.below(4) {
            0 => {
                // Pure garbage, biased towards framing characters.
                let len = rng.below(200);
                wire = (0..len)
                    .map(|_| {
                        if rng.below(2) == 0 {
                            alphabet[rng.below(alphabet.len())]
                        } else {
                            rng.next() as u8
                        }
                    })
                    .collect();
            }
            1 => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(wire.len());
                    wire[i] = alphabet[rng.below(alphabet.len())];
                }
            }
            2 => {
                let i = rng.below(wire.len());
                wire.truncate(i);
            }
            _ => {
                let i = rng.below(wire.len());
                let extra: Vec<u8> = (0..rng.below(10))
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect();
                wire.splice(i..i, extra);
            }
        }
        let frames = random_frames(&mut rng, &wire);
        let len = if rng.below(2) == 0 { Some(11) } else { None };
        let mut body = body_of(frames, *mode, Some(signer.clone()), len);
        if let Ok(out) = drain(&mut body) {
            // Whatever is accepted must be consistent with the length.
            if let Some(len) = len {
                assert_eq!(out.len() as u64, len);
            }
        }
    }
}

#[test]
fn streaming_signed_constant_is_the_signed_mode() {
    assert_eq!(
        PayloadMode::from_header_value(STREAMING_SIGNED).unwrap(),
        SIGNED
    );
}

/// How the server consumes the body: poll with `next()` on `&mut`, then read
/// the trailer. The source yields to the runtime between frames (Pending).
#[tokio::test]
async fn consumer_pattern_with_a_pending_source() {
    let wire = b"B\r\nHello world\r\n0\r\nx-amz-checksum-crc32:i9aeUg==\r\n\r\n".to_vec();
    let frames: Vec<Vec<u8>> = wire.chunks(3).map(<[u8]>::to_vec).collect();
    let raw = stream::unfold(frames.into_iter(), |mut it| async move {
        tokio::task::yield_now().await;
        it.next().map(|f| (Ok::<_, io::Error>(Bytes::from(f)), it))
    })
    .boxed();
    let mut body = DecodedBody::new(raw, &UNSIGNED_TRAILER, None, Some(11));
    let mut out = Vec::new();
    while let Some(frame) = body.next().await {
        out.extend_from_slice(&frame.unwrap());
    }
    assert_eq!(out, b"Hello world");
    assert_eq!(body.decoded_bytes(), 11);
    assert_eq!(
        body.trailer_checksum(),
        Some((ChecksumAlgorithm::Crc32, vec![0x8b, 0xd6, 0x9e, 0x52]))
    );
}
