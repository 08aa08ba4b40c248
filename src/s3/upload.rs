//! The shared upload path: stream a verified body into a new blob. Used by
//! PutObject (and by UploadPart).

use base64::Engine;

use super::RequestCx;
use crate::auth::DigestSummary;
use crate::auth::{BodyDigest, ChecksumRequest};
use crate::error::{S3Error, S3ErrorCode};
use crate::storage::records::{BlobOwner, PartRef, StoredChecksum};
use crate::storage::writer::{write_blob, WriteError, WrittenBlob};
use crate::types::{ChecksumAlgorithm, ChecksumType};

/// A body stored as a sealed blob that nothing references yet.
pub struct StoredBody {
    pub part: PartRef,
    /// Whether the client sent a checksum (then the response echoes it).
    pub client_checksum: bool,
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Checks the announced length before any byte is read.
fn check_length(cx: &RequestCx, max_size: u64) -> Result<(), S3Error> {
    let chunked = cx
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    // botocore sends trailer bodies chunked with no length at all: allowed.
    let has_length = cx.header("content-length").is_some();
    if !has_length && !chunked {
        return Err(S3Error::code(S3ErrorCode::MissingContentLength));
    }
    if let Some(n) = cx.decoded_length()? {
        if n > max_size {
            return Err(S3Error::code(S3ErrorCode::EntityTooLarge));
        }
    }
    Ok(())
}

/// Streams the request body into a new blob, verifying every digest the
/// request promised, and computing `required` (a multipart upload's
/// algorithm) even when the client sent no checksum. On any failure the
/// blob is discarded.
pub async fn store_body(
    cx: &mut RequestCx,
    max_size: u64,
    required: Option<ChecksumAlgorithm>,
    owner: &BlobOwner,
) -> Result<StoredBody, S3Error> {
    check_length(cx, max_size)?;
    let mut expect = cx.expectations()?;
    let client_checksum = expect.checksum.is_some();
    match (&expect.checksum, required) {
        (Some(c), Some(alg)) if c.algorithm != alg => {
            return Err(S3Error::new(
                S3ErrorCode::InvalidRequest,
                format!(
                    "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                    alg.as_str().to_ascii_lowercase(),
                    c.algorithm.as_str().to_ascii_lowercase()
                ),
            ))
        }
        (None, Some(algorithm)) => {
            expect.checksum = Some(ChecksumRequest {
                algorithm,
                expected: None,
                in_trailer: false,
            })
        }
        _ => {}
    }
    let digest = BodyDigest::new(expect);
    let mut body = cx.take_body()?;
    let limits = cx.state.write_limits(max_size);
    let storage = cx.storage().clone();
    let (written, digest) = match write_blob(&storage, &mut body, digest, &limits, owner).await {
        Ok(done) => done,
        Err(WriteError::Body(e)) => return Err(e.into()),
        Err(WriteError::Storage(e)) => return Err(e.into()),
        Err(WriteError::TooLarge) => return Err(S3Error::code(S3ErrorCode::EntityTooLarge)),
    };
    let summary = match digest.finish(body.trailer_checksum()) {
        Ok(s) => s,
        Err(e) => {
            discard(cx, written.blob, written_chunks(cx, &written)).await;
            return Err(e.into());
        }
    };
    Ok(StoredBody {
        part: part_ref(&written, summary, cx.state.config.chunk_size),
        client_checksum,
    })
}

/// The record of a freshly written, verified blob.
pub fn part_ref(written: &WrittenBlob, summary: DigestSummary, chunk_size: u32) -> PartRef {
    PartRef {
        blob: written.blob,
        size: written.size,
        etag: hex::encode(summary.md5),
        checksum: summary.checksum.map(|(alg, value)| StoredChecksum {
            algorithm: alg,
            value: b64(&value),
            kind: ChecksumType::FullObject,
        }),
        chunk_size: Some(chunk_size),
    }
}

/// The chunks of a blob this gateway just wrote.
pub fn written_chunks(cx: &RequestCx, written: &WrittenBlob) -> u32 {
    crate::storage::chunk_count(written.size, cx.state.config.chunk_size)
}

/// Drops a blob that will not be committed; failures are only logged (the
/// start-up sweep catches what is left).
pub async fn discard(cx: &RequestCx, blob: crate::storage::BlobId, chunks: u32) {
    if let Err(e) = cx.storage().discard_blob(blob, chunks).await {
        tracing::warn!(%blob, error = %e, "could not discard blob");
    }
}
