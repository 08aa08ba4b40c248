//! The shared upload path: stream a verified body into a new blob. Used by
//! PutObject (and by UploadPart).

use base64::Engine;

use super::RequestCx;
use crate::auth::DigestSummary;
use crate::auth::{BodyDigest, ChecksumRequest};
use crate::error::{S3Error, S3ErrorCode};
use std::collections::BTreeMap;

use super::response::now_ms;
use crate::storage::records::{BlobOwner, ContentHeaders, PartRef, StoredChecksum};
use crate::storage::writer::{write_blob, WriteError, WrittenBlob};
use crate::storage::ObjectHead;
use crate::types::{ChecksumAlgorithm, ChecksumType};

/// A body stored as a sealed blob that nothing references yet.
pub(crate) struct StoredBody {
    pub part: PartRef,
    /// Whether the client sent a checksum (then the response echoes it).
    pub client_checksum: bool,
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A single-part object's head over `part` (no part at all when it is
/// empty), stamped now: what PutObject and CopyObject commit.
pub(crate) fn single_part_head(
    part: PartRef,
    chunk_size: u32,
    content: ContentHeaders,
    user_meta: BTreeMap<String, String>,
) -> ObjectHead {
    ObjectHead {
        size: part.size,
        etag: part.etag.clone(),
        last_modified_ms: now_ms(),
        chunk_size,
        checksum: part.checksum.clone(),
        parts: if part.size == 0 { vec![] } else { vec![part] },
        multipart: false,
        upload_id: None,
        content,
        user_meta,
    }
}

/// Streams the request body into a new blob, verifying every digest the
/// request promised, and computing `required` (a multipart upload's
/// algorithm) even when the client sent no checksum. On any failure the
/// blob is discarded.
pub(crate) async fn store_body(
    cx: &mut RequestCx,
    max_size: u64,
    required: Option<ChecksumAlgorithm>,
    owner: &BlobOwner,
) -> Result<StoredBody, S3Error> {
    cx.check_announced_length(max_size)?;
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
pub(crate) fn part_ref(written: &WrittenBlob, summary: DigestSummary, chunk_size: u32) -> PartRef {
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
pub(crate) fn written_chunks(cx: &RequestCx, written: &WrittenBlob) -> u32 {
    crate::storage::chunk_count(written.size, cx.state.config.chunk_size)
}

/// Drops a blob that will not be committed; failures are only logged (the
/// start-up sweep catches what is left).
pub(crate) async fn discard(cx: &RequestCx, blob: crate::storage::BlobId, chunks: u32) {
    if let Err(e) = cx.storage().discard_blob(blob, chunks).await {
        tracing::warn!(%blob, error = %e, "could not discard blob");
    }
}
