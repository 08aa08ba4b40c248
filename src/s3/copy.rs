//! CopyObject: metadata directives, copy-source conditionals, and copy onto
//! itself (which rewrites the head and shares the data).

use futures_util::stream;
use http::Response;
use percent_encoding::percent_decode_str;

use super::response::{self, iso8601, now_ms};
use super::upload::{discard, part_ref, written_chunks};
use super::RequestCx;
use crate::auth::{BodyDigest, ChecksumRequest, Expectations};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::{content_headers, user_metadata, Conditions, Verdict};
use crate::http::ResponseBody;
use crate::storage::reader::read_range;
use crate::storage::records::{BlobOwner, ContentHeaders, PartRef};
use crate::storage::writer::{write_blob, WriteError};
use crate::storage::BucketRecord;
use crate::storage::{ObjectHead, WriteCondition};
use crate::types::{quote_etag, ChecksumAlgorithm, MAX_KEY_BYTES, MAX_PUT_SIZE};
use crate::xml;
use std::collections::BTreeMap;

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded.
pub fn parse_copy_source(v: &str) -> Result<(String, String), S3Error> {
    let bad = || S3Error::new(S3ErrorCode::InvalidArgument, "Invalid copy source");
    let (path, query) = v.split_once('?').unwrap_or((v, ""));
    if let Some(version) = query.strip_prefix("versionId=") {
        if version != "null" {
            return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                "Invalid version id specified",
            ));
        }
    }
    let decoded = percent_decode_str(path).decode_utf8().map_err(|_| bad())?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (bucket, key) = decoded.split_once('/').ok_or_else(bad)?;
    if bucket.is_empty() || key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(bad());
    }
    Ok((bucket.to_owned(), key.to_owned()))
}

/// The copy source of a CopyObject/UploadPartCopy: its bucket, key and
/// head, after the `x-amz-copy-source-if-*` conditions.
pub struct CopySource {
    pub bucket: BucketRecord,
    pub key: String,
    pub head: ObjectHead,
}

pub async fn copy_source(cx: &RequestCx) -> Result<CopySource, S3Error> {
    let (bucket_name, key) = parse_copy_source(cx.header("x-amz-copy-source").unwrap_or(""))?;
    let bucket = cx
        .storage()
        .get_bucket(&bucket_name)
        .await?
        .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchBucket))?;
    let head = cx
        .storage()
        .get_object(bucket.id, &key)
        .await?
        .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchKey))?;
    if Conditions::from_copy_source(&cx.parts.headers).evaluate(&head.etag, head.last_modified_ms)
        != Verdict::Proceed
    {
        return Err(S3Error::code(S3ErrorCode::PreconditionFailed));
    }
    Ok(CopySource { bucket, key, head })
}

pub async fn copy_object(cx: &mut RequestCx) -> Result<Response<ResponseBody>, S3Error> {
    let dest_key = cx.key()?.to_owned();
    let dest_bucket = cx.bucket().await?;
    let CopySource {
        bucket: src_bucket,
        key: src_key,
        head: src,
    } = copy_source(cx).await?;
    let replace = match cx
        .header("x-amz-metadata-directive")
        .map(str::to_ascii_uppercase)
    {
        None => false,
        Some(d) if d == "COPY" => false,
        Some(d) if d == "REPLACE" => true,
        Some(_) => {
            return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                "Unknown metadata directive.",
            ))
        }
    };
    let same_object = src_bucket.id == dest_bucket.id && src_key == dest_key;
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
        (
            content_headers(&cx.parts.headers),
            user_metadata(&cx.parts.headers)?,
        )
    } else {
        (src.content.clone(), src.user_meta.clone())
    };
    // Even a copy onto itself writes new blobs: no two heads ever share a
    // blob, which is what lets a backend release a replaced head's blobs
    // without asking who else references them (docs/storage-model.md).
    let owner = BlobOwner::Object {
        bucket: dest_bucket.id,
        key: dest_key.clone(),
    };
    let mut head = copy_data(cx, &src, content, user_meta, &owner).await?;
    head.last_modified_ms = now_ms();
    if let Err(e) = cx
        .storage()
        .put_object(dest_bucket.id, &dest_key, &head, &WriteCondition::None)
        .await
    {
        if e.nothing_written() {
            for part in &head.parts {
                discard(cx, part.blob, part.chunks(head.chunk_size)).await;
            }
        }
        return Err(e.into());
    }
    let checksum = match &head.checksum {
        Some(c) => xml::Checksums::one(c.algorithm, &c.value, c.kind),
        None => xml::Checksums::default(),
    };
    response::xml_root(
        "CopyObjectResult",
        &xml::CopyObjectResult {
            xmlns: (),
            last_modified: iso8601(head.last_modified_ms),
            etag: quote_etag(&head.etag),
            checksum,
        },
    )
}

/// The checksum algorithm of a copy: the one the request names, else the
/// source's.
fn copy_algorithm(cx: &RequestCx, src: &ObjectHead) -> Result<Option<ChecksumAlgorithm>, S3Error> {
    match cx.header("x-amz-checksum-algorithm") {
        Some(name) => ChecksumAlgorithm::from_name(name)
            .map(Some)
            .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidRequest, "Invalid checksum algorithm")),
        None => Ok(src.checksum.as_ref().map(|c| c.algorithm)),
    }
}

/// Streams bytes `start..end` of `src` into a new sealed blob, computing
/// its MD5 and, if asked, a checksum. Nothing references the blob yet.
pub async fn copy_range(
    cx: &RequestCx,
    src: &ObjectHead,
    start: u64,
    end: u64,
    algorithm: Option<ChecksumAlgorithm>,
    owner: &BlobOwner,
) -> Result<PartRef, S3Error> {
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
    if written.size != end - start {
        discard(cx, written.blob, written_chunks(cx, &written)).await;
        return Err(S3Error::internal(
            "copy source changed size while being read",
        ));
    }
    let summary = match digest.finish(None) {
        Ok(s) => s,
        Err(e) => {
            discard(cx, written.blob, written_chunks(cx, &written)).await;
            return Err(S3Error::internal(e));
        }
    };
    Ok(part_ref(&written, summary, config.chunk_size))
}

/// A new single-part object holding a copy of `src`'s data.
async fn copy_data(
    cx: &RequestCx,
    src: &ObjectHead,
    content: ContentHeaders,
    user_meta: BTreeMap<String, String>,
    owner: &BlobOwner,
) -> Result<ObjectHead, S3Error> {
    let algorithm = copy_algorithm(cx, src)?;
    let part = copy_range(cx, src, 0, src.size, algorithm, owner).await?;
    if part.size == 0 {
        discard(cx, part.blob, part.chunks(cx.state.config.chunk_size)).await;
    }
    Ok(ObjectHead {
        size: part.size,
        etag: part.etag.clone(),
        last_modified_ms: now_ms(),
        chunk_size: cx.state.config.chunk_size,
        checksum: part.checksum.clone(),
        parts: if part.size == 0 { vec![] } else { vec![part] },
        multipart: false,
        upload_id: None,
        content,
        user_meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_forms() {
        assert_eq!(
            parse_copy_source("/b1/a%20b/c").unwrap(),
            ("b1".to_owned(), "a b/c".to_owned())
        );
        assert_eq!(
            parse_copy_source("b1/k?versionId=null").unwrap(),
            ("b1".to_owned(), "k".to_owned())
        );
        assert!(parse_copy_source("b1").is_err());
        assert!(parse_copy_source("/b1/").is_err());
        assert!(parse_copy_source("b1/k?versionId=abc").is_err());
        assert!(parse_copy_source("b1/%ff").is_err());
    }
}
