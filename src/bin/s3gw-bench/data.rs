//! The bytes the benchmark sends: one incompressible buffer made before
//! anything is timed, of which every object is a window at its own offset,
//! so a body read back from the wrong object (or the wrong place) differs.

use bytes::Bytes;

/// Deterministic pseudo-random bytes (xorshift64*), `len` of them.
pub fn pattern(len: usize, seed: u64) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}

/// The shared buffer and the windows cut from it.
pub struct Source {
    buf: Bytes,
}

/// Distance between the windows of consecutive objects: odd, so that no
/// two objects share an alignment.
const STRIDE: usize = 1_048_573;

impl Source {
    /// A buffer large enough for objects of up to `max_object` bytes, of
    /// which `objects` get distinct windows.
    pub fn new(max_object: usize, objects: usize, seed: u64) -> Source {
        let len = max_object + STRIDE * objects.min(64);
        Source {
            buf: pattern(len, seed),
        }
    }

    /// The bytes of object `i` of `size` bytes.
    pub fn object(&self, i: usize, size: usize) -> Bytes {
        let room = self.buf.len().saturating_sub(size).max(1);
        let at = (i * STRIDE) % room;
        self.buf.slice(at..at + size.min(self.buf.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_differ_and_repeat() {
        let s = Source::new(4096, 4, 7);
        assert_ne!(s.object(0, 4096), s.object(1, 4096));
        assert_eq!(s.object(2, 4096), s.object(2, 4096));
        assert_eq!(s.object(3, 100).len(), 100);
        assert_eq!(pattern(1000, 1), pattern(1000, 1));
    }
}
