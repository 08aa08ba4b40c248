use bytes::Bytes;
use md5::Digest as _;

use super::*;

fn reference(data: &[u8]) -> [u8; 16] {
    md5::Md5::digest(data).into()
}

/// Deterministic bytes that differ between seeds.
fn body(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn rfc1321_vectors() {
    let cases: [(&str, &str); 4] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            hex::encode(Md5::digest(input.as_bytes())),
            want,
            "{input:?}"
        );
    }
}

/// Every length around the block and padding edges, fed whole.
#[test]
fn scalar_matches_the_reference_at_every_edge() {
    for len in 0..300 {
        let data = body(len, len as u64);
        assert_eq!(Md5::digest(&data), reference(&data), "length {len}");
    }
}

/// Odd pieces, some through the lanes and some not, in one computation.
#[test]
fn mixed_pieces_match_the_reference() {
    let data = body(3 * 1024 * 1024 + 77, 7);
    let cuts = [1usize, 63, 100_000, 16 * 1024, 5, 1 << 20, 64, 200_003];
    let mut h = Md5::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let n = cuts[i % cuts.len()].min(data.len() - at);
        let piece = Bytes::copy_from_slice(&data[at..at + n]);
        if i % 3 == 0 {
            h.update(&piece);
        } else {
            h.update_bytes(&piece);
        }
        at += n;
        i += 1;
    }
    assert_eq!(h.finalize(), reference(&data));
}

/// More uploads than lanes, of different lengths, hashed at the same time:
/// each gets its own digest.
#[test]
fn concurrent_uploads_keep_their_own_lanes() {
    let threads: Vec<_> = (0..24u64)
        .map(|t| {
            std::thread::spawn(move || {
                let data = body(1024 * 1024 + 4096 * t as usize + t as usize, t);
                let mut h = Md5::new();
                for piece in data.chunks(256 * 1024 + 64 * t as usize) {
                    h.update_bytes(&Bytes::copy_from_slice(piece));
                }
                (h.finalize(), reference(&data))
            })
        })
        .collect();
    for (t, handle) in threads.into_iter().enumerate() {
        let (got, want) = handle.join().expect("hashing thread");
        assert_eq!(got, want, "upload {t}");
    }
}

/// `start` hands the piece over and returns; other work may run before
/// `finish`.
#[test]
fn start_then_finish_overlaps_other_work() {
    let data = Bytes::from(body(1 << 20, 3));
    let mut h = Md5::new();
    h.update(b"abc");
    let piece = h.start(&data);
    let meanwhile = reference(b"other work");
    if let Some(piece) = piece {
        h.finish(piece);
    }
    let mut whole = b"abc".to_vec();
    whole.extend_from_slice(&data);
    assert_eq!(h.finalize(), reference(&whole));
    assert_eq!(meanwhile, reference(b"other work"));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn sixteen_lanes_match_scalar_lane_by_lane() {
    use super::avx512::{available, compress16, States, LANES};
    if !available() {
        eprintln!("no AVX-512 on this CPU: the lanes are not used, nothing to compare");
        return;
    }
    let inputs: Vec<Vec<u8>> = (0..LANES).map(|l| body(64 * 40, 100 + l as u64)).collect();
    let mut states = States::default();
    for l in 0..LANES {
        states.set(l, [l as u32, 1, 2, 3]);
    }
    // Lane 5 idles: its input is empty.
    let mut refs: [&[u8]; LANES] = [&[]; LANES];
    for (r, input) in refs.iter_mut().zip(&inputs) {
        *r = input;
    }
    refs[5] = &[];
    compress16(&mut states, refs, 40);
    for (l, input) in inputs.iter().enumerate() {
        if l == 5 {
            continue;
        }
        let mut want = [l as u32, 1, 2, 3];
        scalar::compress(&mut want, input);
        assert_eq!(states.get(l), want, "lane {l}");
    }
}
