//! MD5 of 16 independent messages at once, one per 32-bit lane of the
//! AVX-512 registers. MD5 is a chain of dependent steps, so one message
//! cannot go faster than one core's scalar rate; 16 messages side by side
//! cost about what one does.

use std::arch::x86_64::*;

use super::scalar::{word, K, S};

/// Lanes per register.
pub(super) const LANES: usize = 16;

/// Whether this CPU runs [`compress16`].
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

/// The chaining values of 16 messages, transposed: `a[l]` is lane `l`'s A.
#[derive(Clone, Copy, Default)]
pub(super) struct States {
    pub a: [u32; LANES],
    pub b: [u32; LANES],
    pub c: [u32; LANES],
    pub d: [u32; LANES],
}

impl States {
    pub(crate) fn get(&self, lane: usize) -> [u32; 4] {
        [self.a[lane], self.b[lane], self.c[lane], self.d[lane]]
    }

    pub(crate) fn set(&mut self, lane: usize, s: [u32; 4]) {
        self.a[lane] = s[0];
        self.b[lane] = s[1];
        self.c[lane] = s[2];
        self.d[lane] = s[3];
    }
}

/// 64-byte aligned room for one block of every lane.
#[repr(C, align(64))]
struct Stage([u8; 64 * LANES]);

/// Advances every lane by `blocks` 64-byte blocks. Lane `l` reads
/// `inputs[l][..64 * blocks]`; a lane whose input is shorter (an idle lane)
/// reads stale bytes and its state is garbage afterwards, which the caller ignores.
pub(super) fn compress16(states: &mut States, inputs: [&[u8]; LANES], blocks: usize) {
    if !available() {
        return;
    }
    // SAFETY: the CPU has AVX-512F (checked just above).
    unsafe { compress16_avx512(states, inputs, blocks) }
}

macro_rules! step {
    ($imm:literal, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $i:literal) => {{
        // a + K + M does not wait for b, c, d: only the function, one
        // add, the rotation and the last add are on the chain of steps.
        let early = _mm512_add_epi32(
            $a,
            _mm512_add_epi32(_mm512_set1_epi32(K[$i] as i32), $m[word($i)]),
        );
        let f = _mm512_ternarylogic_epi32::<$imm>($b, $c, $d);
        let t = _mm512_add_epi32(early, f);
        $a = _mm512_add_epi32($b, _mm512_rol_epi32::<{ S[$i] as i32 }>(t));
    }};
}

/// Four steps, rotating the roles of the registers as MD5 does.
macro_rules! four {
    ($imm:literal, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $i:literal, $j:literal, $k:literal, $l:literal) => {{
        step!($imm, $a, $b, $c, $d, $m, $i);
        step!($imm, $d, $a, $b, $c, $m, $j);
        step!($imm, $c, $d, $a, $b, $m, $k);
        step!($imm, $b, $c, $d, $a, $m, $l);
    }};
}

#[target_feature(enable = "avx512f")]
unsafe fn compress16_avx512(states: &mut States, inputs: [&[u8]; LANES], blocks: usize) {
    let mut stage = Stage([0; 64 * LANES]);
    // Word w of lane l sits at byte 64 * l + 4 * w of the stage.
    let lane_offsets = _mm512_setr_epi32(
        0, 64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960,
    );
    // SAFETY (all loads and stores below): `States` fields are 16 u32s,
    // i.e. exactly one 512-bit register; unaligned forms are used.
    let mut a = _mm512_loadu_si512(states.a.as_ptr().cast());
    let mut b = _mm512_loadu_si512(states.b.as_ptr().cast());
    let mut c = _mm512_loadu_si512(states.c.as_ptr().cast());
    let mut d = _mm512_loadu_si512(states.d.as_ptr().cast());
    for n in 0..blocks {
        for (lane, input) in inputs.iter().enumerate() {
            // An idle lane hashes whatever its room holds.
            if let Some(block) = input.get(64 * n..64 * (n + 1)) {
                stage.0[64 * lane..64 * (lane + 1)].copy_from_slice(block);
            }
        }
        let base = stage.0.as_ptr();
        let mut m = [_mm512_setzero_si512(); 16];
        for (w, v) in m.iter_mut().enumerate() {
            // SAFETY: every index is below 64 * LANES - 4 + 4 * 15 + 4
            // = the stage's size: each gathered word lies inside the stage.
            *v = _mm512_i32gather_epi32::<1>(lane_offsets, base.add(4 * w).cast());
        }
        let (aa, bb, cc, dd) = (a, b, c, d);
        four!(0xCA, a, b, c, d, m, 0, 1, 2, 3);
        four!(0xCA, a, b, c, d, m, 4, 5, 6, 7);
        four!(0xCA, a, b, c, d, m, 8, 9, 10, 11);
        four!(0xCA, a, b, c, d, m, 12, 13, 14, 15);
        four!(0xE4, a, b, c, d, m, 16, 17, 18, 19);
        four!(0xE4, a, b, c, d, m, 20, 21, 22, 23);
        four!(0xE4, a, b, c, d, m, 24, 25, 26, 27);
        four!(0xE4, a, b, c, d, m, 28, 29, 30, 31);
        four!(0x96, a, b, c, d, m, 32, 33, 34, 35);
        four!(0x96, a, b, c, d, m, 36, 37, 38, 39);
        four!(0x96, a, b, c, d, m, 40, 41, 42, 43);
        four!(0x96, a, b, c, d, m, 44, 45, 46, 47);
        four!(0x39, a, b, c, d, m, 48, 49, 50, 51);
        four!(0x39, a, b, c, d, m, 52, 53, 54, 55);
        four!(0x39, a, b, c, d, m, 56, 57, 58, 59);
        four!(0x39, a, b, c, d, m, 60, 61, 62, 63);
        a = _mm512_add_epi32(a, aa);
        b = _mm512_add_epi32(b, bb);
        c = _mm512_add_epi32(c, cc);
        d = _mm512_add_epi32(d, dd);
    }
    _mm512_storeu_si512(states.a.as_mut_ptr().cast(), a);
    _mm512_storeu_si512(states.b.as_mut_ptr().cast(), b);
    _mm512_storeu_si512(states.c.as_mut_ptr().cast(), c);
    _mm512_storeu_si512(states.d.as_mut_ptr().cast(), d);
}
