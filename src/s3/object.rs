//! Object operations: PutObject, GetObject/HeadObject, DeleteObject, and the
//! fixed ACL answer.

use http::{Response, StatusCode};

use super::input::{GetObjectInput, ObjectTarget, PartNumber, PutObjectInput};
use super::response::{self, http_date};
use super::upload::{discard_body, single_part_head, store_body, Body};
use super::{bucket, bucket_lifecycle, versioned, RequestCx};
use crate::access::Principal;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::Verdict;
use crate::http::ResponseBody;
use crate::storage::reader::read_range;
use crate::storage::records::ContentHeaders;
use crate::storage::{BlobOwner, BucketRecord, ObjectHead, WriteCondition};
use crate::types::{quote_etag, ObjectKey, TagSet, MAX_PUT_SIZE};
use std::collections::BTreeMap;

type Res = Result<Response<ResponseBody>, S3Error>;

/// The head of the addressed version (or the current one), or the error
/// S3 answers (`versioned::read_version`).
pub(crate) async fn target_head(
    cx: &RequestCx,
    target: &ObjectTarget,
) -> Result<ObjectHead, S3Error> {
    let bucket = cx.bucket().await?;
    versioned::read_version(cx, &bucket, &target.key, target.version_id.as_ref(), false).await
}

pub(crate) async fn put_object(cx: &mut RequestCx, input: PutObjectInput) -> Res {
    let PutObjectInput {
        key,
        condition: cond,
        content,
        user_meta,
        tags,
    } = input;
    let bucket = cx.bucket().await?;
    // Fail fast before reading the body; the commit checks again atomically.
    if cond != WriteCondition::None {
        let existing = versioned::live_head(cx.storage().as_ref(), &bucket, &key).await?;
        if !cond.holds(existing.as_ref()) {
            return Err(S3Error::code(S3ErrorCode::PreconditionFailed));
        }
    }
    let owner = BlobOwner::Object {
        bucket: bucket.id,
        key: key.to_string(),
    };
    let stored = store_body(cx, MAX_PUT_SIZE, None, &owner).await?;
    let head = commit_body(
        cx,
        &bucket,
        &key,
        &cond,
        stored.body,
        content,
        user_meta,
        tags,
    )
    .await?;
    let mut r = response::empty(StatusCode::OK);
    response::set(&mut r, "etag", &quote_etag(&head.etag));
    versioned::set_version_header(&mut r, &bucket, &head);
    bucket_lifecycle::set_expiration_header(cx, &mut r, &bucket, key.as_str(), &head);
    if let Some(c) = &head.checksum {
        response::set(&mut r, c.algorithm.header_name(), &c.value);
        response::set(&mut r, "x-amz-checksum-type", c.kind.as_str());
    }
    Ok(r)
}

/// Commits a stored, verified body as the object `key`'s new head (PutObject
/// and a form upload). The blob is discarded if nothing was written, or if
/// the body is empty (the head of an empty object holds no blob).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn commit_body(
    cx: &RequestCx,
    bucket: &BucketRecord,
    key: &ObjectKey,
    cond: &WriteCondition,
    body: Body,
    content: ContentHeaders,
    user_meta: BTreeMap<String, String>,
    tags: TagSet,
) -> Result<ObjectHead, S3Error> {
    let blob = body.blob().cloned().map(Body::Blob);
    let head = ObjectHead {
        tags,
        ..single_part_head(body, cx.state.config.chunk_size, content, user_meta)
    };
    let written = versioned::commit(cx.storage().as_ref(), bucket, key, &head, cond).await;
    let head = match written {
        Ok(head) => head,
        Err(e) => {
            if let (true, Some(blob)) = (e.nothing_written(), &blob) {
                discard_body(cx, blob).await;
            }
            return Err(e.into());
        }
    };
    if let (0, Some(blob)) = (head.size, &blob) {
        discard_body(cx, blob).await;
    }
    Ok(head)
}

/// Headers describing a stored object (shared by GET, HEAD and 304s).
fn object_headers(r: &mut Response<ResponseBody>, head: &ObjectHead) {
    response::set(r, "etag", &quote_etag(&head.etag));
    response::set(r, "last-modified", &http_date(head.last_modified_ms));
    response::set(r, "accept-ranges", "bytes");
    let c = &head.content;
    let fields: [(&'static str, &Option<String>); 6] = [
        ("content-type", &c.content_type),
        ("content-encoding", &c.content_encoding),
        ("cache-control", &c.cache_control),
        ("content-disposition", &c.content_disposition),
        ("content-language", &c.content_language),
        ("expires", &c.expires),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            response::set(r, name, v);
        }
    }
    if c.content_type.is_none() {
        response::set(r, "content-type", "binary/octet-stream");
    }
    for (k, v) in &head.user_meta {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()),
            // Not printable US-ASCII: one RFC 2047 word, as S3 answers it.
            http::HeaderValue::from_str(&crate::http::rfc2047::encode(v)),
        ) {
            r.headers_mut().insert(name, value);
        }
    }
}

/// The byte range a `partNumber` request addresses.
fn part_range(head: &ObjectHead, part_number: PartNumber) -> Result<(u64, u64), S3Error> {
    let n = part_number.get() as usize;
    if !head.multipart {
        return if n == 1 {
            Ok((0, head.size))
        } else {
            Err(S3Error::code(S3ErrorCode::InvalidPartNumber))
        };
    }
    let start: u64 = head.parts.iter().take(n - 1).map(|p| p.size).sum();
    let part = head
        .parts
        .get(n - 1)
        .ok_or_else(|| S3Error::code(S3ErrorCode::InvalidPartNumber))?;
    Ok((start, start + part.size))
}

pub(crate) async fn get_object(cx: &mut RequestCx, input: GetObjectInput, is_head: bool) -> Res {
    let bucket = cx.bucket().await?;
    let target = &input.target;
    let version = target.version_id.as_ref();
    let head = versioned::read_version(cx, &bucket, &target.key, version, !is_head).await?;
    match input.conditions.evaluate(&head.etag, head.last_modified_ms) {
        Verdict::Proceed => {}
        Verdict::PreconditionFailed => return Err(S3Error::code(S3ErrorCode::PreconditionFailed)),
        Verdict::NotModified => {
            let mut r = response::empty(StatusCode::NOT_MODIFIED);
            response::set(&mut r, "etag", &quote_etag(&head.etag));
            response::set(&mut r, "last-modified", &http_date(head.last_modified_ms));
            versioned::set_version_header(&mut r, &bucket, &head);
            return Ok(r);
        }
    }
    let part_number = input.part_number;
    let range = match (part_number, input.range) {
        (Some(n), _) => Some(part_range(&head, n)?),
        (None, Some(r)) => Some(r.resolve(head.size)?),
        (None, None) => None,
    };
    let (start, end) = range.unwrap_or((0, head.size));
    let body = if is_head || start == end {
        ResponseBody::Empty
    } else if let Some(inline) = &head.inline {
        // Checked before the answer starts: a corrupt inline object is an
        // error response, not a cut-off body.
        let data = inline.checked(head.size)?;
        ResponseBody::full(data.slice(start as usize..end as usize))
    } else {
        ResponseBody::Stream {
            rx: read_range(
                cx.storage().clone(),
                &head,
                start,
                end,
                cx.state.config.get_prefetch_chunks,
            ),
            remaining: end - start,
        }
    };
    let mut r = Response::new(body);
    object_headers(&mut r, &head);
    versioned::set_version_header(&mut r, &bucket, &head);
    if version.is_none() {
        // The current version: rules expire only that one.
        bucket_lifecycle::set_expiration_header(cx, &mut r, &bucket, target.key.as_str(), &head);
    }
    response::set(&mut r, "content-length", &(end - start).to_string());
    if range.is_some() && (head.size > 0 || part_number.is_none()) {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
        if end > start {
            let cr = format!("bytes {}-{}/{}", start, end - 1, head.size);
            response::set(&mut r, "content-range", &cr);
        }
    }
    if part_number.is_some() && head.multipart {
        response::set(
            &mut r,
            "x-amz-mp-parts-count",
            &head.parts.len().to_string(),
        );
    }
    if input.checksum_mode {
        // Whole objects and single parts have a checksum; other ranges do not.
        let checksum = match (part_number, head.multipart) {
            (Some(n), true) => head
                .parts
                .get(n.get() as usize - 1)
                .and_then(|p| p.checksum.as_ref()),
            _ if range.is_none() || (start == 0 && end == head.size) => head.checksum.as_ref(),
            _ => None,
        };
        if let Some(c) = checksum {
            response::set(&mut r, c.algorithm.header_name(), &c.value);
            response::set(&mut r, "x-amz-checksum-type", c.kind.as_str());
        }
    }
    // Only to callers who may read the tags (S3 asks s3:GetObjectTagging):
    // not to anonymous readers the bucket's policy lets in.
    if !head.tags.is_empty() && !matches!(cx.principal, Principal::Anonymous) {
        response::set(&mut r, "x-amz-tagging-count", &head.tags.len().to_string());
    }
    for (header, value) in &input.overrides {
        response::set(&mut r, header, value);
    }
    Ok(r)
}

/// DeleteObject: 204, with `x-amz-version-id` and `x-amz-delete-marker`
/// as S3 sends them (`versioned::delete`).
pub(crate) async fn delete_object(cx: &mut RequestCx, target: ObjectTarget) -> Res {
    let bucket = cx.bucket().await?;
    let version = target.version_id.as_ref();
    let done = versioned::delete(cx.storage().as_ref(), &bucket, &target.key, version).await?;
    let mut r = response::empty(StatusCode::NO_CONTENT);
    if let Some(v) = &done.version_id {
        response::set(&mut r, "x-amz-version-id", v);
    }
    if done.delete_marker {
        response::set(&mut r, "x-amz-delete-marker", "true");
    }
    Ok(r)
}

pub(crate) async fn get_object_acl(cx: &mut RequestCx, target: ObjectTarget) -> Res {
    target_head(cx, &target).await?;
    response::xml(&bucket::owner_acl(cx))
}
