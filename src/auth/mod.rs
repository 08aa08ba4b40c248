//! Request authentication and body integrity for the S3 API.
//!
//! This module owns everything between the raw HTTP request and a verified
//! byte stream:
//!
//! * [`sigv4`]: SigV4 header and presigned-URL verification, as pure
//!   functions (canonical request, string to sign, signing key) plus
//!   [`parse_auth`] / [`verify`].
//! * [`sigv2`]: the legacy Signature Version 2 (header and query forms),
//!   read by [`parse_claims`] when the gateway allows it.
//! * [`chunked`]: the `aws-chunked` decoder ([`DecodedBody`]), which strips the
//!   framing, checks chunk and trailer signatures as data streams through and
//!   extracts the trailer checksum.
//! * [`checksum`]: the flexible-checksum algorithms (CRC32, CRC32C,
//!   CRC64NVME, SHA-1, SHA-256) and the request headers that announce them.
//! * [`digest`]: whole-body digests (MD5 for the ETag, SHA-256 for signed
//!   payloads, the requested checksum) and the final verdict.
//! * [`secret`]: [`SecretKey`], which never prints and compares in constant
//!   time.
//!
//! Everything here is free of I/O except [`DecodedBody`], which only polls
//! the body stream it is given. Errors are one closed enum, [`AuthError`],
//! which the S3 layer maps to wire error codes with an exhaustive match.

pub mod checksum;
pub mod chunked;
pub mod digest;
mod s3_error;
pub mod secret;
pub mod sigv2;
pub mod sigv4;

pub use checksum::{
    checksum_of, decode_base64, encode_base64, parse_checksum_request, ChecksumRequest, Checksummer,
};
pub use chunked::DecodedBody;
pub use digest::{parse_content_md5, BodyDigest, DigestSummary, Expectations};
pub use secret::SecretKey;
pub use sigv4::{
    canonical_request, check_region, hoist_query_headers, parse_auth, signing_key, string_to_sign,
    uri_encode, verify, AuthKind, AuthRequest, ChunkSigner, PayloadMode, VerifiedAuth,
};

/// The signature claims of a request, by signature version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claims {
    V4(AuthRequest),
    V2(sigv2::V2Request),
}

/// Reads the authentication claims of a request without checking them;
/// `Ok(None)` is anonymous. With `sigv2` false a V2 request is
/// `UnsupportedSignatureVersion`, as SigV4's parser answers it.
pub fn parse_claims(
    parts: &http::request::Parts,
    query: &crate::http::Query,
    sigv2: bool,
) -> Result<Option<Claims>, AuthError> {
    if sigv2 {
        if let Some(request) = sigv2::parse(parts, query)? {
            return Ok(Some(Claims::V2(request)));
        }
    }
    Ok(parse_auth(parts, query)?.map(Claims::V4))
}

/// Every way authentication or body verification can fail.
///
/// The set is closed on purpose: the caller maps each variant to an S3 error
/// code with an exhaustive match. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The `Authorization` header (SigV4) could not be parsed.
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(String),
    /// An `Authorization` scheme S3 does not know (or an empty header).
    #[error("unsupported authorization type")]
    UnsupportedAuthorizationType,
    /// Both an `Authorization` header and a presigned query, or two
    /// `Authorization` headers.
    #[error("more than one authentication mechanism")]
    MultipleAuthMechanisms,
    /// SigV2 (`Authorization: AWS ...` or `AWSAccessKeyId` presign) while
    /// it is switched off, or SigV4a.
    #[error("unsupported signature version")]
    UnsupportedSignatureVersion,
    /// A SigV2 `Authorization` header that is not `AWS AKID:signature`.
    #[error("malformed SigV2 Authorization header")]
    MalformedV2Authorization,
    /// A SigV2 query without all of `AWSAccessKeyId`, `Expires`, `Signature`.
    #[error("incomplete SigV2 query authentication")]
    IncompleteV2Query,
    /// A SigV2 `Expires` that is not seconds since the epoch (as sent, cut short).
    #[error("invalid SigV2 Expires {0:?}")]
    InvalidV2Expires(String),
    /// A SigV2 request with an aws-chunked body (a streaming
    /// `x-amz-content-sha256` or `Content-Encoding: aws-chunked`).
    #[error("aws-chunked body with a SigV2 signature")]
    StreamingWithV2,
    /// Neither a valid `x-amz-date` nor a valid `Date` header.
    #[error("missing or invalid x-amz-date / Date header")]
    MissingDate,
    /// The access key is unknown. Raised by the caller, never by this module.
    #[error("unknown access key id")]
    InvalidAccessKeyId,
    /// The request signature does not match the one we computed.
    #[error("signature does not match")]
    SignatureDoesNotMatch,
    /// Header auth: the request time is more than 15 minutes from ours.
    #[error("request time too skewed")]
    RequestTimeTooSkewed,
    /// Presigned URL: past `X-Amz-Date + X-Amz-Expires`.
    #[error("presigned request has expired")]
    Expired,
    /// Presigned URL: `X-Amz-Date` is more than 15 minutes in the future.
    #[error("presigned request is not yet valid")]
    NotYetValid,
    /// Presigned URL query parameters are missing or malformed.
    #[error("invalid presigned request: {0}")]
    InvalidPresign(String),
    /// `x-amz-*` headers (lowercase names) that the signature does not cover.
    #[error("x-amz-* headers not covered by the signature: {}", .0.join(", "))]
    HeadersNotSigned(Vec<String>),
    /// The credential scope names another region than the gateway's.
    #[error("credential scope region {region} is not {expected}")]
    WrongRegion {
        region: String,
        expected: String,
        /// Read from a presigned query rather than the Authorization header.
        presigned: bool,
    },
    /// Header auth without `x-amz-content-sha256`.
    #[error("missing x-amz-content-sha256 header")]
    MissingContentSha256,
    /// An aws-chunked body without `x-amz-decoded-content-length`.
    #[error("aws-chunked body without x-amz-decoded-content-length")]
    MissingDecodedLength,
    /// `x-amz-content-sha256` has a value we do not know.
    #[error("invalid x-amz-content-sha256 header")]
    InvalidContentSha256,
    /// The body's SHA-256 differs from `x-amz-content-sha256`.
    #[error("body SHA-256 does not match x-amz-content-sha256")]
    ContentSha256Mismatch,
    /// An aws-chunked chunk or trailer signature is wrong.
    #[error("chunk signature does not match")]
    ChunkSignatureMismatch,
    /// The aws-chunked framing is broken.
    #[error("malformed aws-chunked body: {0}")]
    MalformedChunk(String),
    /// The body ended early, or its length differs from the declared one.
    #[error("incomplete body")]
    IncompleteBody,
    /// The body's MD5 differs from `Content-MD5`.
    #[error("Content-MD5 does not match the body")]
    BadDigest,
    /// `Content-MD5` is not base64 of 16 bytes.
    #[error("invalid Content-MD5 header")]
    InvalidDigest,
    /// The body's checksum differs from the one sent by the client.
    #[error("{0} checksum does not match the body")]
    ChecksumMismatch(crate::types::ChecksumAlgorithm),
    /// Conflicting, unknown, malformed or missing checksum headers/trailers.
    #[error("invalid checksum request: {0}")]
    InvalidChecksumRequest(String),
    /// Reading the request body from the network failed.
    #[error("error reading request body: {0}")]
    BodyRead(#[source] std::io::Error),
}

#[cfg(test)]
mod aws_examples;
#[cfg(test)]
mod test_support;
