//! The MD5 block function (RFC 1321), one block after another.

/// Per-step additive constants: `floor(abs(sin(i + 1)) * 2^32)`.
pub(super) const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// Left-rotation amounts, per step.
pub(super) const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, //
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, //
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, //
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

/// The message word each step adds.
pub(super) const fn word(step: usize) -> usize {
    match step / 16 {
        0 => step,
        1 => (5 * step + 1) % 16,
        2 => (3 * step + 5) % 16,
        _ => (7 * step) % 16,
    }
}

macro_rules! step {
    ($f:expr, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $i:literal) => {{
        // a + K + M first: it does not wait for the previous step.
        let early = $a.wrapping_add(K[$i]).wrapping_add($m[word($i)]);
        let f: u32 = $f($b, $c, $d);
        $a = $b.wrapping_add(early.wrapping_add(f).rotate_left(S[$i]));
    }};
}

/// Four steps, rotating the roles of the registers as MD5 does.
macro_rules! four {
    ($f:expr, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $i:literal, $j:literal, $k:literal, $l:literal) => {{
        step!($f, $a, $b, $c, $d, $m, $i);
        step!($f, $d, $a, $b, $c, $m, $j);
        step!($f, $c, $d, $a, $b, $m, $k);
        step!($f, $b, $c, $d, $a, $m, $l);
    }};
}

fn f(b: u32, c: u32, d: u32) -> u32 {
    d ^ (b & (c ^ d))
}

fn g(b: u32, c: u32, d: u32) -> u32 {
    c ^ (d & (b ^ c))
}

fn h(b: u32, c: u32, d: u32) -> u32 {
    b ^ c ^ d
}

fn i(b: u32, c: u32, d: u32) -> u32 {
    c ^ (b | !d)
}

/// Runs the block function over `blocks` (a whole number of 64-byte blocks).
pub(super) fn compress(state: &mut [u32; 4], blocks: &[u8]) {
    debug_assert_eq!(blocks.len() % 64, 0);
    for block in blocks.chunks_exact(64) {
        let mut m = [0u32; 16];
        for (w, bytes) in m.iter_mut().zip(block.chunks_exact(4)) {
            *w = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let [mut a, mut b, mut c, mut d] = *state;
        four!(f, a, b, c, d, m, 0, 1, 2, 3);
        four!(f, a, b, c, d, m, 4, 5, 6, 7);
        four!(f, a, b, c, d, m, 8, 9, 10, 11);
        four!(f, a, b, c, d, m, 12, 13, 14, 15);
        four!(g, a, b, c, d, m, 16, 17, 18, 19);
        four!(g, a, b, c, d, m, 20, 21, 22, 23);
        four!(g, a, b, c, d, m, 24, 25, 26, 27);
        four!(g, a, b, c, d, m, 28, 29, 30, 31);
        four!(h, a, b, c, d, m, 32, 33, 34, 35);
        four!(h, a, b, c, d, m, 36, 37, 38, 39);
        four!(h, a, b, c, d, m, 40, 41, 42, 43);
        four!(h, a, b, c, d, m, 44, 45, 46, 47);
        four!(i, a, b, c, d, m, 48, 49, 50, 51);
        four!(i, a, b, c, d, m, 52, 53, 54, 55);
        four!(i, a, b, c, d, m, 56, 57, 58, 59);
        four!(i, a, b, c, d, m, 60, 61, 62, 63);
        state[0] = state[0].wrapping_add(a);
        state[1] = state[1].wrapping_add(b);
        state[2] = state[2].wrapping_add(c);
        state[3] = state[3].wrapping_add(d);
    }
}
