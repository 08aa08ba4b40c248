//! The `aws-chunked` body decoder.
//!
//! Wire format (`x-amz-content-sha256: STREAMING-*`):
//!
//! ```text
//! hex-size[;chunk-signature=<64 hex>]\r\n <data> \r\n   (repeated)
//! 0[;chunk-signature=<64 hex>]\r\n
//! [name:value\r\n ...]                                  (trailer modes)
//! \r\n
//! ```
//!
//! [`DecodedBody`] removes the framing and passes data on as soon as it
//! arrives (it never holds a whole chunk). Chunk signatures are checked when
//! each chunk ends, with the SHA-256 updated as the data streams. An `Err`
//! item is final, and the consumer must discard everything it received.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use crate::auth::checksum::decode_base64;
use crate::auth::sigv4::{signature_eq, ChunkSigner, PayloadMode};
use crate::auth::AuthError;
use crate::types::ChecksumAlgorithm;

/// Longest size line (`hex;chunk-signature=...`), without its line end.
pub(crate) const MAX_SIZE_LINE: usize = 4 * 1024;

/// Largest chunk we accept.
pub(crate) const MAX_CHUNK_SIZE: u64 = 64 * 1024 * 1024;

/// Largest trailer section (everything after the zero-size chunk line).
pub(crate) const MAX_TRAILER: usize = 16 * 1024;

const SIGNATURE_TRAILER: &str = "x-amz-trailer-signature";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// Not aws-chunked: bytes pass through.
    None,
    /// aws-chunked; `signed`: chunk signatures; `trailer`: a trailer may follow.
    Chunked { signed: bool, trailer: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    SizeLine,
    Data {
        remaining: u64,
    },
    DataCr,
    DataLf,
    Trailer,
    /// The body is complete; only EOF may follow.
    Done,
    /// `None` or an `Err` was returned; nothing more will be.
    Finished,
}

enum Step {
    Emit(Bytes),
    NeedInput,
    End,
}

fn malformed(msg: impl Into<String>) -> AuthError {
    AuthError::MalformedChunk(msg.into())
}

/// A request body with the aws-chunked framing removed and its signatures checked.
pub struct DecodedBody {
    raw: BoxStream<'static, Result<Bytes, io::Error>>,
    framing: Framing,
    signer: Option<ChunkSigner>,
    previous_signature: String,
    state: State,
    pending: Bytes,
    eof: bool,
    /// Bytes of data passed on so far.
    total: u64,
    decoded_length: Option<u64>,
    /// Size line, or the current trailer line, being assembled.
    line: Vec<u8>,
    chunk_hash: Sha256,
    chunk_signature: Option<String>,
    trailer_bytes: usize,
    skipped_blank: bool,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
    trailer_checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
}

impl DecodedBody {
    /// Wraps `raw`. `mode` decides the framing; `signer` is required for
    /// `StreamingSigned`; `decoded_length` (`x-amz-decoded-content-length`,
    /// or `Content-Length` for plain bodies) is checked at the end.
    pub fn new(
        raw: BoxStream<'static, Result<Bytes, io::Error>>,
        mode: &PayloadMode,
        signer: Option<ChunkSigner>,
        decoded_length: Option<u64>,
    ) -> Self {
        let framing = match mode {
            PayloadMode::Signed(_) | PayloadMode::Unsigned => Framing::None,
            PayloadMode::StreamingSigned { trailer } => Framing::Chunked {
                signed: true,
                trailer: *trailer,
            },
            PayloadMode::StreamingUnsignedTrailer => Framing::Chunked {
                signed: false,
                trailer: true,
            },
        };
        let previous_signature = signer
            .as_ref()
            .map(|s| s.seed_signature().to_string())
            .unwrap_or_default();
        Self {
            raw,
            framing,
            signer,
            previous_signature,
            state: State::SizeLine,
            pending: Bytes::new(),
            eof: false,
            total: 0,
            decoded_length,
            line: Vec::new(),
            chunk_hash: Sha256::new(),
            chunk_signature: None,
            trailer_bytes: 0,
            skipped_blank: false,
            trailers: Vec::new(),
            trailer_signature: None,
            trailer_checksum: None,
        }
    }

    /// The checksum from the trailer (`x-amz-checksum-<alg>`), decoded.
    /// Meaningful once the stream has ended without error.
    pub fn trailer_checksum(&self) -> Option<(ChecksumAlgorithm, Vec<u8>)> {
        self.trailer_checksum.clone()
    }

    /// Bytes of decoded data passed on so far.
    pub fn decoded_bytes(&self) -> u64 {
        self.total
    }

    fn count(&mut self, n: usize) -> Result<(), AuthError> {
        self.total = self.total.saturating_add(n as u64);
        match self.decoded_length {
            Some(expected) if self.total > expected => Err(AuthError::IncompleteBody),
            _ => Ok(()),
        }
    }

    fn step(&mut self) -> Result<Step, AuthError> {
        loop {
            if self.pending.is_empty() {
                return if self.eof {
                    self.at_eof()
                } else {
                    Ok(Step::NeedInput)
                };
            }
            match (self.framing, self.state) {
                (_, State::Finished) => return Ok(Step::End),
                (Framing::None, _) => {
                    let out = std::mem::take(&mut self.pending);
                    self.count(out.len())?;
                    return Ok(Step::Emit(out));
                }
                (Framing::Chunked { .. }, State::SizeLine) => {
                    if let Some(line) = self.take_line(MAX_SIZE_LINE, "chunk size line")? {
                        self.on_size_line(&line)?;
                    }
                }
                (Framing::Chunked { signed, .. }, State::Data { remaining }) => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.pending.len());
                    let out = self.pending.split_to(n);
                    self.count(n)?;
                    if signed {
                        self.chunk_hash.update(&out);
                    }
                    let remaining = remaining - n as u64;
                    self.state = State::Data { remaining };
                    if remaining == 0 {
                        self.state = State::DataCr;
                        self.check_chunk_signature()?;
                    }
                    return Ok(Step::Emit(out));
                }
                (Framing::Chunked { .. }, State::DataCr | State::DataLf) => {
                    let (want, next) = match self.state {
                        State::DataCr => (b'\r', State::DataLf),
                        _ => (b'\n', State::SizeLine),
                    };
                    if self.pending[0] != want {
                        return Err(malformed("missing CRLF after chunk data"));
                    }
                    let _ = self.pending.split_to(1);
                    self.state = next;
                }
                (Framing::Chunked { .. }, State::Trailer) => {
                    let before = self.pending.len();
                    let line = self.take_line(MAX_TRAILER, "trailer")?;
                    self.trailer_bytes += before - self.pending.len();
                    if self.trailer_bytes > MAX_TRAILER {
                        return Err(malformed("trailer section over 16 KiB"));
                    }
                    if let Some(line) = line {
                        self.on_trailer_line(&line)?;
                    }
                }
                (Framing::Chunked { .. }, State::Done) => {
                    return Err(malformed("data after the end of the aws-chunked body"));
                }
            }
        }
    }

    /// Moves bytes from `pending` into `line` up to and including a `\n`;
    /// returns the complete line without `\n` and one trailing `\r`.
    fn take_line(&mut self, limit: usize, what: &str) -> Result<Option<Vec<u8>>, AuthError> {
        let newline = self.pending.iter().position(|&b| b == b'\n');
        let take = newline.unwrap_or(self.pending.len());
        if self.line.len() + take > limit {
            return Err(malformed(format!("{what} too long")));
        }
        self.line.extend_from_slice(&self.pending[..take]);
        match newline {
            None => {
                self.pending.clear();
                Ok(None)
            }
            Some(i) => {
                let _ = self.pending.split_to(i + 1);
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Ok(Some(line))
            }
        }
    }

    fn on_size_line(&mut self, line: &[u8]) -> Result<(), AuthError> {
        let Framing::Chunked { signed, .. } = self.framing else {
            return Ok(());
        };
        let (size, extension) = match line.iter().position(|&b| b == b';') {
            Some(i) => (&line[..i], Some(&line[i + 1..])),
            None => (line, None),
        };
        if size.is_empty() || size.len() > 16 || !size.iter().all(u8::is_ascii_hexdigit) {
            return Err(malformed("chunk size is not hex"));
        }
        let size = std::str::from_utf8(size)
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| malformed("chunk size is not hex"))?;
        if size > MAX_CHUNK_SIZE {
            return Err(malformed("chunk size over 64 MiB"));
        }
        match (signed, extension) {
            (true, Some(ext)) => {
                let sig = ext
                    .strip_prefix(b"chunk-signature=")
                    .filter(|s| s.len() == 64 && s.iter().all(u8::is_ascii_hexdigit))
                    .ok_or_else(|| malformed("invalid chunk-signature"))?;
                self.chunk_signature = Some(String::from_utf8_lossy(sig).to_ascii_lowercase());
            }
            (true, None) => return Err(malformed("missing chunk-signature in a signed body")),
            (false, Some(_)) => return Err(malformed("chunk extension in an unsigned body")),
            (false, None) => {}
        }
        if let Some(expected) = self.decoded_length {
            if self.total.saturating_add(size) > expected {
                return Err(AuthError::IncompleteBody);
            }
        }
        self.chunk_hash = Sha256::new();
        if size == 0 {
            self.check_chunk_signature()?;
            self.state = State::Trailer;
        } else {
            self.state = State::Data { remaining: size };
        }
        Ok(())
    }

    fn check_chunk_signature(&mut self) -> Result<(), AuthError> {
        let Framing::Chunked { signed: true, .. } = self.framing else {
            return Ok(());
        };
        let signer = self
            .signer
            .as_ref()
            .ok_or_else(|| malformed("signed aws-chunked body without a chunk signer"))?;
        let received = self.chunk_signature.take().unwrap_or_default();
        let hash: [u8; 32] = std::mem::take(&mut self.chunk_hash).finalize().into();
        let computed = signer.chunk_signature(&self.previous_signature, &hash);
        if !signature_eq(&computed, &received) {
            return Err(AuthError::ChunkSignatureMismatch);
        }
        self.previous_signature = computed;
        Ok(())
    }

    fn on_trailer_line(&mut self, line: &[u8]) -> Result<(), AuthError> {
        if line.is_empty() {
            // Tolerate one blank line between the zero chunk and the trailers
            // (as printed in AWS's trailer example).
            if self.trailers.is_empty() && self.trailer_signature.is_none() && !self.skipped_blank {
                self.skipped_blank = true;
                return Ok(());
            }
            return self.finish_trailer();
        }
        let text = std::str::from_utf8(line).map_err(|_| malformed("trailer is not UTF-8"))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| malformed("trailer line without ':'"))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        if name.is_empty() {
            return Err(malformed("empty trailer name"));
        }
        if name == SIGNATURE_TRAILER {
            if self.trailer_signature.replace(value).is_some() {
                return Err(malformed("repeated x-amz-trailer-signature"));
            }
            return Ok(());
        }
        if self.trailers.iter().any(|(n, _)| *n == name) {
            return Err(malformed(format!("repeated trailer {name}")));
        }
        self.trailers.push((name, value));
        Ok(())
    }

    fn finish_trailer(&mut self) -> Result<(), AuthError> {
        let Framing::Chunked { signed, trailer } = self.framing else {
            return Ok(());
        };
        if !trailer && (!self.trailers.is_empty() || self.trailer_signature.is_some()) {
            return Err(malformed(
                "trailer in a body whose x-amz-content-sha256 announces none",
            ));
        }
        if trailer && signed {
            let received = self
                .trailer_signature
                .take()
                .ok_or_else(|| malformed("missing x-amz-trailer-signature"))?;
            let signer = self
                .signer
                .as_ref()
                .ok_or_else(|| malformed("signed aws-chunked body without a chunk signer"))?;
            let mut canonical = Vec::new();
            for (name, value) in &self.trailers {
                canonical.extend_from_slice(name.as_bytes());
                canonical.push(b':');
                canonical.extend_from_slice(value.as_bytes());
                canonical.push(b'\n');
            }
            let computed = signer.trailer_signature(&self.previous_signature, &canonical);
            if !signature_eq(&computed, &received.to_ascii_lowercase()) {
                return Err(AuthError::ChunkSignatureMismatch);
            }
        } else if self.trailer_signature.is_some() {
            return Err(malformed("x-amz-trailer-signature in an unsigned body"));
        }
        for (name, value) in &self.trailers {
            if !name.starts_with("x-amz-checksum-") {
                continue;
            }
            let algorithm = ChecksumAlgorithm::from_header_name(name).ok_or_else(|| {
                AuthError::InvalidChecksumRequest(format!("unknown trailer checksum {name}"))
            })?;
            if self.trailer_checksum.is_some() {
                return Err(AuthError::InvalidChecksumRequest(
                    "more than one trailer checksum".into(),
                ));
            }
            self.trailer_checksum = Some((algorithm, decode_base64(algorithm, value)?));
        }
        if let Some(expected) = self.decoded_length {
            if expected != self.total {
                return Err(AuthError::IncompleteBody);
            }
        }
        self.state = State::Done;
        Ok(())
    }

    fn at_eof(&mut self) -> Result<Step, AuthError> {
        match (self.framing, self.state) {
            (Framing::None, _) => match self.decoded_length {
                Some(expected) if expected != self.total => Err(AuthError::IncompleteBody),
                _ => Ok(Step::End),
            },
            (_, State::Trailer) => {
                // Tolerate a missing final line end.
                if !self.line.is_empty() {
                    let mut line = std::mem::take(&mut self.line);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    self.on_trailer_line(&line)?;
                }
                if self.state == State::Trailer {
                    self.finish_trailer()?;
                }
                Ok(Step::End)
            }
            (_, State::Done | State::Finished) => Ok(Step::End),
            (_, State::SizeLine | State::Data { .. } | State::DataCr | State::DataLf) => {
                Err(AuthError::IncompleteBody)
            }
        }
    }
}

impl Stream for DecodedBody {
    type Item = Result<Bytes, AuthError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.state == State::Finished {
                return Poll::Ready(None);
            }
            match this.step() {
                Ok(Step::Emit(bytes)) if bytes.is_empty() => continue,
                Ok(Step::Emit(bytes)) => return Poll::Ready(Some(Ok(bytes))),
                Ok(Step::End) => {
                    this.state = State::Finished;
                    return Poll::Ready(None);
                }
                Err(e) => {
                    this.state = State::Finished;
                    return Poll::Ready(Some(Err(e)));
                }
                Ok(Step::NeedInput) => {}
            }
            match this.raw.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => this.pending = bytes,
                Poll::Ready(Some(Err(e))) => {
                    this.state = State::Finished;
                    return Poll::Ready(Some(Err(AuthError::BodyRead(e))));
                }
                Poll::Ready(None) => this.eof = true,
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
