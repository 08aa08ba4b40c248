//! Object operations: PutObject, GetObject/HeadObject, DeleteObject, and the
//! fixed tagging/ACL answers.

use http::{Response, StatusCode};

use super::response::{self, http_date, now_ms};
use super::upload::{discard, store_body};
use super::{bucket, RequestCx};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::{
    content_headers, parse_range, user_metadata, write_condition, Conditions, Verdict,
};
use crate::http::ResponseBody;
use crate::storage::reader::read_range;
use crate::storage::{BlobOwner, ObjectHead, WriteCondition};
use crate::types::{quote_etag, MAX_PUT_SIZE};
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

/// Buckets are unversioned: `versionId=null` is the current object (rclone
/// asks for it), and any other version id is refused rather than read as
/// the current object.
fn only_current_version(cx: &RequestCx) -> Result<(), S3Error> {
    match cx.route.query.get("versionId") {
        Some(v) if v != "null" => Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "Invalid version id specified",
        )),
        _ => Ok(()),
    }
}

/// The head of the addressed object, or `NoSuchKey`.
pub async fn current_head(cx: &RequestCx) -> Result<ObjectHead, S3Error> {
    only_current_version(cx)?;
    let bucket = cx.bucket().await?;
    cx.storage()
        .get_object(bucket.id, cx.key()?)
        .await?
        .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchKey))
}

pub async fn put_object(cx: &mut RequestCx) -> Res {
    let key = cx.key()?.to_owned();
    let bucket = cx.bucket().await?;
    let cond = write_condition(&cx.parts.headers, "PutObject")?;
    let user_meta = user_metadata(&cx.parts.headers)?;
    let content = content_headers(&cx.parts.headers);
    // Fail fast before reading the body; the commit checks again atomically.
    if cond != WriteCondition::None {
        let existing = cx.storage().get_object(bucket.id, &key).await?;
        let holds = match (&cond, &existing) {
            (WriteCondition::IfNoneMatch, e) => e.is_none(),
            (WriteCondition::IfMatch(etag), Some(e)) => e.etag == *etag,
            _ => false,
        };
        if !holds {
            return Err(S3Error::code(S3ErrorCode::PreconditionFailed));
        }
    }
    let owner = BlobOwner::Object {
        bucket: bucket.id,
        key: key.clone(),
    };
    let stored = store_body(cx, MAX_PUT_SIZE, None, &owner).await?;
    let part = stored.part;
    let head = ObjectHead {
        size: part.size,
        etag: part.etag.clone(),
        last_modified_ms: now_ms(),
        chunk_size: cx.state.config.chunk_size,
        checksum: part.checksum.clone(),
        parts: if part.size == 0 {
            vec![]
        } else {
            vec![part.clone()]
        },
        multipart: false,
        upload_id: None,
        content,
        user_meta,
    };
    if let Err(e) = cx.storage().put_object(bucket.id, &key, &head, &cond).await {
        if e.nothing_written() {
            discard(cx, part.blob, part.chunks(head.chunk_size)).await;
        }
        return Err(e.into());
    }
    if part.size == 0 {
        discard(cx, part.blob, part.chunks(head.chunk_size)).await;
    }
    let mut r = response::empty(StatusCode::OK);
    response::set(&mut r, "etag", &quote_etag(&head.etag));
    if let Some(c) = &head.checksum {
        response::set(&mut r, c.algorithm.header_name(), &c.value);
        response::set(&mut r, "x-amz-checksum-type", c.kind.as_str());
    }
    Ok(r)
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
            http::HeaderValue::from_str(v),
        ) {
            r.headers_mut().insert(name, value);
        }
    }
}

/// `response-*` query overrides of GetObject.
fn apply_overrides(cx: &RequestCx, r: &mut Response<ResponseBody>) {
    let overrides: [(&str, &'static str); 6] = [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ];
    for (param, header) in overrides {
        if let Some(v) = cx.route.query.get(param) {
            response::set(r, header, v);
        }
    }
}

/// The byte range a `partNumber` request addresses.
fn part_range(head: &ObjectHead, part_number: &str) -> Result<(u64, u64), S3Error> {
    let n: usize = part_number
        .parse()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })?;
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

pub async fn get_object(cx: &mut RequestCx, is_head: bool) -> Res {
    let head = current_head(cx).await?;
    match Conditions::from_request(&cx.parts.headers).evaluate(&head.etag, head.last_modified_ms) {
        Verdict::Proceed => {}
        Verdict::PreconditionFailed => return Err(S3Error::code(S3ErrorCode::PreconditionFailed)),
        Verdict::NotModified => {
            let mut r = response::empty(StatusCode::NOT_MODIFIED);
            response::set(&mut r, "etag", &quote_etag(&head.etag));
            response::set(&mut r, "last-modified", &http_date(head.last_modified_ms));
            return Ok(r);
        }
    }
    let part_number = cx.route.query.get("partNumber");
    let range = match part_number {
        Some(_) if cx.header("range").is_some() => {
            return Err(S3Error::new(
                S3ErrorCode::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ))
        }
        Some(n) => Some(part_range(&head, n)?),
        None => parse_range(cx.header("range"), head.size)?,
    };
    let (start, end) = range.unwrap_or((0, head.size));
    let body = if is_head || start == end {
        ResponseBody::Empty
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
    if cx
        .header("x-amz-checksum-mode")
        .is_some_and(|v| v.eq_ignore_ascii_case("enabled"))
    {
        // Whole objects and single parts have a checksum; other ranges do not.
        let checksum = match (part_number, head.multipart) {
            (Some(n), true) => n
                .parse::<usize>()
                .ok()
                .and_then(|n| head.parts.get(n.wrapping_sub(1)))
                .and_then(|p| p.checksum.as_ref()),
            _ if range.is_none() || (start == 0 && end == head.size) => head.checksum.as_ref(),
            _ => None,
        };
        if let Some(c) = checksum {
            response::set(&mut r, c.algorithm.header_name(), &c.value);
            response::set(&mut r, "x-amz-checksum-type", c.kind.as_str());
        }
    }
    apply_overrides(cx, &mut r);
    Ok(r)
}

pub async fn delete_object(cx: &mut RequestCx) -> Res {
    only_current_version(cx)?;
    let bucket = cx.bucket().await?;
    cx.storage().delete_object(bucket.id, cx.key()?).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

pub async fn get_object_tagging(cx: &mut RequestCx) -> Res {
    current_head(cx).await?;
    response::xml(&xml::Tagging {
        xmlns: (),
        tag_set: (),
    })
}

pub async fn get_object_acl(cx: &mut RequestCx) -> Res {
    current_head(cx).await?;
    response::xml(&bucket::owner_acl(cx))
}
