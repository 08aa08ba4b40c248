//! TEMPORARY stand-in for src/auth/ while it is being written. Deleted when
//! the real module lands.
#![allow(dead_code, unused_variables)]

use bytes::Bytes;
use futures_util::stream::BoxStream;
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a")] MalformedAuthorization(String),
    #[error("a")] UnsupportedSignatureVersion,
    #[error("a")] MissingDate,
    #[error("a")] InvalidAccessKeyId,
    #[error("a")] SignatureDoesNotMatch,
    #[error("a")] RequestTimeTooSkewed,
    #[error("a")] Expired,
    #[error("a")] NotYetValid,
    #[error("a")] InvalidPresign(String),
    #[error("a")] InvalidContentSha256,
    #[error("a")] ContentSha256Mismatch,
    #[error("a")] ChunkSignatureMismatch,
    #[error("a")] MalformedChunk(String),
    #[error("a")] IncompleteBody,
    #[error("a")] BadDigest,
    #[error("a")] InvalidDigest,
    #[error("a")] ChecksumMismatch(ChecksumAlgorithm),
    #[error("a")] InvalidChecksumRequest(String),
    #[error("a")] BodyRead(std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm { Crc32, Crc32c, Crc64Nvme, Sha1, Sha256 }
impl ChecksumAlgorithm {
    pub fn as_str(&self) -> &'static str { "CRC32" }
    pub fn header_name(&self) -> &'static str { "x-amz-checksum-crc32" }
    pub fn xml_name(&self) -> &'static str { "ChecksumCRC32" }
    pub fn from_name(s: &str) -> Option<Self> { None }
}

pub struct SecretKey(String);
impl SecretKey { pub fn new(s: String) -> Self { SecretKey(s) } pub fn expose(&self) -> &str { &self.0 } }

#[derive(Debug, Clone)]
pub enum PayloadMode { Signed([u8; 32]), Unsigned, StreamingSigned { trailer: bool }, StreamingUnsignedTrailer }
pub enum AuthKind { Header, Presigned { expires_secs: u64 } }
pub struct AuthRequest { pub access_key: String, pub payload: PayloadMode }
#[derive(Clone)]
pub struct ChunkSigner;
pub struct VerifiedAuth { pub access_key: String, pub payload: PayloadMode, pub chunk_signer: Option<ChunkSigner> }
pub fn parse_auth(parts: &http::request::Parts) -> Result<Option<AuthRequest>, AuthError> { Ok(None) }
pub fn verify(req: &AuthRequest, parts: &http::request::Parts, secret: &SecretKey, now: OffsetDateTime) -> Result<VerifiedAuth, AuthError> { Err(AuthError::SignatureDoesNotMatch) }

pub struct ChecksumRequest { pub algorithm: ChecksumAlgorithm, pub expected: Option<Vec<u8>>, pub in_trailer: bool }
pub fn parse_checksum_request(headers: &http::HeaderMap) -> Result<Option<ChecksumRequest>, AuthError> { Ok(None) }
pub fn parse_content_md5(headers: &http::HeaderMap) -> Result<Option<[u8; 16]>, AuthError> { Ok(None) }

pub struct DecodedBody;
impl DecodedBody {
    pub fn new(raw: BoxStream<'static, Result<Bytes, std::io::Error>>, mode: &PayloadMode, signer: Option<ChunkSigner>, decoded_length: Option<u64>) -> Self { DecodedBody }
    pub fn trailer_checksum(&self) -> Option<(ChecksumAlgorithm, Vec<u8>)> { None }
}
impl futures_util::Stream for DecodedBody {
    type Item = Result<Bytes, AuthError>;
    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> { std::task::Poll::Ready(None) }
}
pub struct Expectations { pub sha256: Option<[u8; 32]>, pub content_md5: Option<[u8; 16]>, pub checksum: Option<ChecksumRequest> }
pub struct BodyDigest;
pub struct DigestSummary { pub md5: [u8; 16], pub length: u64, pub checksum: Option<(ChecksumAlgorithm, Vec<u8>)> }
impl BodyDigest {
    pub fn new(e: Expectations) -> Self { BodyDigest }
    pub fn update(&mut self, d: &[u8]) {}
    pub fn finish(self, trailer: Option<(ChecksumAlgorithm, Vec<u8>)>) -> Result<DigestSummary, AuthError> { Err(AuthError::BadDigest) }
}
