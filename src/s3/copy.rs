//! CopyObject: metadata directives, copy-source conditionals, and copy onto
//! itself (which rewrites the head with new blobs: no two heads ever share
//! a blob).

use futures_util::stream;
use http::Response;

use super::input::{self, CopyObjectInput};
use super::response::{self, iso8601, now_ms};
use super::upload::{body_of, discard, discard_body, discard_written, single_part_head, Body};
use super::{versioned, RequestCx};
use crate::auth::{BodyDigest, ChecksumRequest, Expectations};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::Verdict;
use crate::http::ResponseBody;
use crate::storage::reader::read_range;
use crate::storage::records::{BlobOwner, ContentHeaders};
use crate::storage::writer::{write_blob, WriteError};
use crate::storage::BucketRecord;
use crate::storage::{ObjectHead, WriteCondition};
use crate::types::{quote_etag, ChecksumAlgorithm, MAX_PUT_SIZE};
use crate::xml;
use std::collections::BTreeMap;

/// The copy source of a CopyObject/UploadPartCopy: its bucket, key and
/// head, after the `x-amz-copy-source-if-*` conditions.
pub(crate) struct CopySource {
    pub bucket: BucketRecord,
    pub key: String,
    pub head: ObjectHead,
}

pub(crate) async fn copy_source(
    cx: &RequestCx,
    source: &input::CopySource,
) -> Result<CopySource, S3Error> {
    let bucket = cx.source_bucket()?;
    let version = source.version.as_ref();
    let head = match versioned::read_version(cx, &bucket, &source.key, version, true).await {
        Ok(head) => head,
        // The marker's headers would describe the source, not this answer.
        Err(e) if e.code == S3ErrorCode::MethodNotAllowed => {
            return Err(S3Error::new(
                S3ErrorCode::InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            ))
        }
        Err(e) if e.code == S3ErrorCode::NoSuchKey => return Err(S3Error::code(S3ErrorCode::NoSuchKey)),
        Err(e) => return Err(e),
    };
    if source
        .conditions
        .evaluate(&head.etag, head.last_modified_ms)
        != Verdict::Proceed
    {
        return Err(S3Error::code(S3ErrorCode::PreconditionFailed));
    }
    Ok(CopySource {
        bucket,
        key: source.key.to_string(),
        head,
    })
}

pub(crate) async fn copy_object(
    cx: &mut RequestCx,
    input: CopyObjectInput,
) -> Result<Response<ResponseBody>, S3Error> {
    let dest_key = input.key.clone();
    let dest_bucket = cx.bucket().await?;
    let CopySource {
        bucket: src_bucket,
        key: src_key,
        head: src,
    } = copy_source(cx, &input.source).await?;
    let replace = input.replace;
    // Naming a version of the key itself restores it: no longer a copy
    // onto itself.
    let same_object = src_bucket.id == dest_bucket.id
        && src_key == dest_key.as_str()
        && input.source.version.is_none();
    if same_object && !replace {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    if src.size > MAX_PUT_SIZE {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120",
        ));
    }
    let (content, user_meta) = if replace {
        (input.content, input.user_meta)
    } else {
        (src.content.clone(), src.user_meta.clone())
    };
    // Even a copy onto itself writes new blobs: no two heads ever share a
    // blob, which is what lets a backend release a replaced head's blobs
    // without asking who else references them (docs/storage-model.md).
    let owner = BlobOwner::Object {
        bucket: dest_bucket.id,
        key: dest_key.to_string(),
    };
    let algorithm = input
        .checksum_algorithm
        .or(src.checksum.as_ref().map(|c| c.algorithm));
    let tags = input.tags.unwrap_or_else(|| src.tags.clone());
    let mut head = copy_data(cx, &src, algorithm, content, user_meta, &owner).await?;
    head.last_modified_ms = now_ms();
    head.tags = tags;
    let cond = WriteCondition::None;
    let written = versioned::commit(cx.storage().as_ref(), &dest_bucket, &dest_key, &head, &cond);
    let head = match written.await {
        Ok(written) => written,
        Err(e) => {
            if e.nothing_written() {
                for part in &head.parts {
                    discard(cx, part.blob, part.chunks(head.chunk_size)).await;
                }
            }
            return Err(e.into());
        }
    };
    let checksum = match &head.checksum {
        Some(c) => xml::Checksums::one(c.algorithm, &c.value, c.kind),
        None => xml::Checksums::default(),
    };
    let mut r = response::xml_root(
        "CopyObjectResult",
        &xml::CopyObjectResult {
            xmlns: (),
            last_modified: iso8601(head.last_modified_ms),
            etag: quote_etag(&head.etag),
            checksum,
        },
    )?;
    versioned::set_version_header(&mut r, &dest_bucket, &head);
    set_source_version(&mut r, &src_bucket, &src);
    Ok(r)
}

/// `x-amz-copy-source-version-id`: the version of the source copied, in a
/// source bucket that is or was versioned.
pub(crate) fn set_source_version(
    r: &mut Response<ResponseBody>,
    bucket: &BucketRecord,
    src: &ObjectHead,
) {
    if let Some(v) = versioned::version_header(bucket, src) {
        response::set(r, "x-amz-copy-source-version-id", &v);
    }
}

/// Streams bytes `start..end` of `src` into a new sealed blob (or, for a
/// small object, its bytes), computing its MD5 and, if asked, a checksum.
/// Nothing references the blob yet.
pub(crate) async fn copy_range(
    cx: &RequestCx,
    src: &ObjectHead,
    start: u64,
    end: u64,
    algorithm: Option<ChecksumAlgorithm>,
    owner: &BlobOwner,
) -> Result<Body, S3Error> {
    let digest = BodyDigest::new(Expectations {
        sha256: None,
        content_md5: None,
        checksum: algorithm.map(|algorithm| ChecksumRequest {
            algorithm,
            expected: None,
            in_trailer: false,
        }),
    });
    let config = &cx.state.config;
    let mut rx = read_range(
        cx.storage().clone(),
        src,
        start,
        end,
        config.get_prefetch_chunks,
    );
    let source = stream::poll_fn(move |c| rx.poll_recv(c));
    let limits = cx.state.write_limits(MAX_PUT_SIZE);
    let (written, digest) = match write_blob(cx.storage(), source, digest, &limits, owner).await {
        Ok(done) => done,
        Err(WriteError::Body(e)) | Err(WriteError::Storage(e)) => return Err(e.into()),
        Err(WriteError::TooLarge) => return Err(S3Error::code(S3ErrorCode::EntityTooLarge)),
    };
    if written.size() != end - start {
        discard_written(cx, &written).await;
        return Err(S3Error::internal(
            "copy source changed size while being read",
        ));
    }
    let summary = match digest.finish(None) {
        Ok(s) => s,
        Err(e) => {
            discard_written(cx, &written).await;
            return Err(S3Error::internal(e));
        }
    };
    Ok(body_of(written, summary, config.chunk_size))
}

/// A new single-part object holding a copy of `src`'s data.
async fn copy_data(
    cx: &RequestCx,
    src: &ObjectHead,
    algorithm: Option<ChecksumAlgorithm>,
    content: ContentHeaders,
    user_meta: BTreeMap<String, String>,
    owner: &BlobOwner,
) -> Result<ObjectHead, S3Error> {
    let body = copy_range(cx, src, 0, src.size, algorithm, owner).await?;
    if src.size == 0 {
        discard_body(cx, &body).await;
    }
    let chunk_size = cx.state.config.chunk_size;
    Ok(single_part_head(body, chunk_size, content, user_meta))
}
