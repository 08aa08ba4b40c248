//! The shared upload path: stream a verified body into a new blob. Used by
//! PutObject (and by UploadPart).

use base64::Engine;
use bytes::Bytes;

use super::RequestCx;
use crate::auth::DigestSummary;
use crate::auth::{BodyDigest, ChecksumRequest, DecodedBody, Expectations};
use crate::error::{S3Error, S3ErrorCode};
use std::collections::BTreeMap;

use super::response::now_ms;
use crate::storage::records::{BlobOwner, ContentHeaders, InlineData, PartRef, StoredChecksum};
use crate::storage::writer::{write_blob, WriteError, Written, WrittenBlob};
use crate::storage::ObjectHead;
use crate::types::{ChecksumAlgorithm, ChecksumType, TagSet};

/// A verified body: a sealed blob that nothing references yet, or a
/// small object's bytes for its head to carry.
pub(crate) enum Body {
    Blob(PartRef),
    Inline {
        data: Bytes,
        /// Hex MD5 of the bytes.
        etag: String,
        checksum: Option<StoredChecksum>,
    },
}

impl Body {
    /// The blob, if the body is one.
    pub(crate) fn blob(&self) -> Option<&PartRef> {
        match self {
            Body::Blob(part) => Some(part),
            Body::Inline { .. } => None,
        }
    }

    /// The blob of a part (parts are never inline).
    pub(crate) fn into_part(self) -> Result<PartRef, S3Error> {
        match self {
            Body::Blob(part) => Ok(part),
            Body::Inline { .. } => Err(S3Error::internal("a part's body came back inline")),
        }
    }
}

/// A body stored by [`store_body`].
pub(crate) struct StoredBody {
    pub body: Body,
    /// Whether the client sent a checksum (then the response echoes it).
    pub client_checksum: bool,
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A single-part object's head over `body` (no part and no bytes at all
/// when it is empty), stamped now: what PutObject and CopyObject commit.
/// An empty body's blob is not in it: the caller discards it.
pub(crate) fn single_part_head(
    body: Body,
    chunk_size: u32,
    content: ContentHeaders,
    user_meta: BTreeMap<String, String>,
) -> ObjectHead {
    let (size, etag, checksum, parts, inline) = match body {
        Body::Blob(part) => (
            part.size,
            part.etag.clone(),
            part.checksum.clone(),
            if part.size == 0 { vec![] } else { vec![part] },
            None,
        ),
        Body::Inline {
            data,
            etag,
            checksum,
        } => {
            let size = data.len() as u64;
            let inline = (size > 0).then(|| InlineData::of(data));
            (size, etag, checksum, vec![], inline)
        }
    };
    ObjectHead {
        size,
        etag,
        last_modified_ms: now_ms(),
        chunk_size,
        checksum,
        parts,
        multipart: false,
        upload_id: None,
        content,
        user_meta,
        tags: TagSet::default(),
        inline,
        version_id: None,
        version_us: 0,
        delete_marker: false,
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
    let expect = cx.expectations()?;
    let body = cx.take_body()?;
    store_stream(cx, body, expect, max_size, required, owner).await
}

/// [`store_body`] of a body the caller took, with the digests it must
/// match (a form upload's file, whose expectations are form fields).
pub(crate) async fn store_stream(
    cx: &RequestCx,
    mut body: DecodedBody,
    mut expect: Expectations,
    max_size: u64,
    required: Option<ChecksumAlgorithm>,
    owner: &BlobOwner,
) -> Result<StoredBody, S3Error> {
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
            discard_written(cx, &written).await;
            return Err(e.into());
        }
    };
    Ok(StoredBody {
        body: body_of(written, summary, cx.state.config.chunk_size),
        client_checksum,
    })
}

/// The record of a freshly written, verified body.
pub(crate) fn body_of(written: Written, summary: DigestSummary, chunk_size: u32) -> Body {
    let etag = hex::encode(summary.md5);
    let checksum = summary.checksum.map(|(alg, value)| StoredChecksum {
        algorithm: alg,
        value: b64(&value),
        kind: ChecksumType::FullObject,
    });
    match written {
        Written::Blob(WrittenBlob { blob, size }) => Body::Blob(PartRef {
            blob,
            size,
            etag,
            checksum,
            chunk_size: Some(chunk_size),
        }),
        Written::Inline(data) => Body::Inline {
            data,
            etag,
            checksum,
        },
    }
}

/// Drops what [`write_blob`] wrote, if it wrote a blob.
pub(crate) async fn discard_written(cx: &RequestCx, written: &Written) {
    if let Written::Blob(w) = written {
        let chunks = crate::storage::chunk_count(w.size, cx.state.config.chunk_size);
        discard(cx, w.blob, chunks).await;
    }
}

/// Drops the blob of a body that will not be committed, if it is one.
pub(crate) async fn discard_body(cx: &RequestCx, body: &Body) {
    if let Some(part) = body.blob() {
        discard(cx, part.blob, part.chunks(cx.state.config.chunk_size)).await;
    }
}

/// Drops a blob that will not be committed; failures are only logged (the
/// start-up sweep catches what is left).
pub(crate) async fn discard(cx: &RequestCx, blob: crate::storage::BlobId, chunks: u32) {
    if let Err(e) = cx.storage().discard_blob(blob, chunks).await {
        tracing::warn!(%blob, error = %e, "could not discard blob");
    }
}
