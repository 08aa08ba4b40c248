//! MD5, the ETag of every single-part object, for many uploads at once.
//!
//! MD5 was most of a PUT's CPU (`docs/benchmarks.md`): each message is one
//! chain of dependent steps, so one core hashes one body at about 600 MB/s
//! whatever it does. [`Md5::start`] hands the large middle of a piece to one
//! gateway-wide thread that hashes up to 16 uploads side by side in AVX-512
//! lanes (MinIO's md5-simd does the same), and returns at once, so the
//! caller computes SHA-256 and the checksum meanwhile. Small pieces, the
//! edges of blocks and CPUs without AVX-512 use the scalar block function.

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)] // AVX-512 intrinsics, behind a CPU feature check (SAFETY notes inside)
mod avx512;
mod scalar;
mod server;

use std::sync::mpsc::Receiver;

use bytes::Bytes;

/// Pieces at least this long go to the lanes.
const LANE_MIN: usize = 16 * 1024;

const INIT: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/// An MD5 computation.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    /// Bytes fed so far.
    len: u64,
    /// The start of an unfinished block.
    buf: [u8; 64],
    buf_len: usize,
}

/// A piece being hashed by the lanes; give it back to [`Md5::finish`].
#[must_use]
pub(crate) struct InFlight {
    answer: Receiver<[u32; 4]>,
    before: [u32; 4],
    middle: Bytes,
    tail: Bytes,
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    pub fn new() -> Self {
        Md5 {
            state: INIT,
            len: 0,
            buf: [0; 64],
            buf_len: 0,
        }
    }

    /// Feeds `data` on this thread.
    pub fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.buf_len > 0 {
            let take = (64 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < 64 {
                return;
            }
            scalar::compress(&mut self.state, &self.buf);
            self.buf_len = 0;
        }
        let whole = data.len() / 64 * 64;
        scalar::compress(&mut self.state, &data[..whole]);
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// Starts feeding `data`. A large piece goes to the lanes and comes
    /// back as [`InFlight`], which must be passed to [`Md5::finish`] before
    /// this computation is used again; the caller may do other work
    /// meanwhile. Anything else is hashed at once and gives `None`.
    pub(crate) fn start(&mut self, data: &Bytes) -> Option<InFlight> {
        if data.len() < LANE_MIN {
            self.update(data);
            return None;
        }
        let head = if self.buf_len > 0 {
            64 - self.buf_len
        } else {
            0
        };
        self.update(&data[..head]);
        let rest = data.slice(head..);
        let whole = rest.len() / 64 * 64;
        let middle = rest.slice(..whole);
        match server::submit(self.state, middle.clone()) {
            Some(answer) => {
                self.len += whole as u64;
                Some(InFlight {
                    answer,
                    before: self.state,
                    middle,
                    tail: rest.slice(whole..),
                })
            }
            None => {
                self.update(&rest);
                None
            }
        }
    }

    /// Takes back a piece from [`Md5::start`]. Should the hashing thread
    /// have gone, the piece is hashed here.
    pub(crate) fn finish(&mut self, piece: InFlight) {
        match piece.answer.recv() {
            Ok(state) => self.state = state,
            Err(_) => {
                self.state = piece.before;
                scalar::compress(&mut self.state, &piece.middle);
            }
        }
        self.update(&piece.tail);
    }

    /// Feeds a shared piece, through the lanes when it is large.
    pub fn update_bytes(&mut self, data: &Bytes) {
        if let Some(piece) = self.start(data) {
            self.finish(piece);
        }
    }

    pub fn finalize(mut self) -> [u8; 16] {
        let bits = self.len.wrapping_mul(8);
        let pad_len = if self.buf_len < 56 {
            56 - self.buf_len
        } else {
            120 - self.buf_len
        };
        let mut pad = [0u8; 64];
        pad[0] = 0x80;
        self.update(&pad[..pad_len]);
        self.update(&bits.to_le_bytes());
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// The MD5 of `data`.
    #[cfg(test)]
    pub(crate) fn digest(data: &[u8]) -> [u8; 16] {
        let mut h = Md5::new();
        h.update(data);
        h.finalize()
    }
}

#[cfg(test)]
mod tests;
