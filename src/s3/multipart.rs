//! Multipart uploads: create, upload a part (or copy one), abort. Each part
//! is its own blob; CompleteMultipartUpload (`complete.rs`) references them.

use http::{Response, StatusCode};

use super::copy::{copy_range, copy_source};
use super::response::{self, iso8601, now_ms};
use super::upload::{discard, store_body};
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::{content_headers, user_metadata};
use crate::http::ResponseBody;
use crate::storage::{BlobOwner, BucketRecord, PartRecord, PartRef, UploadRecord};
use crate::types::{quote_etag, ChecksumAlgorithm, ChecksumType, UploadId, MAX_PUT_SIZE};
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

/// Largest part number S3 accepts.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// `partNumber` of UploadPart/UploadPartCopy.
fn part_number(cx: &RequestCx) -> Result<u32, S3Error> {
    cx.route
        .query
        .get("partNumber")
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })
}

/// The `uploadId` parameter; one this gateway cannot have handed out names
/// no upload.
pub fn upload_id(cx: &RequestCx) -> Result<&str, S3Error> {
    cx.route
        .query
        .get("uploadId")
        .filter(|id| UploadId::parse(id).is_some())
        .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchUpload))
}

/// The addressed upload, or `NoSuchUpload`.
pub async fn current_upload(cx: &RequestCx) -> Result<(BucketRecord, UploadRecord), S3Error> {
    let bucket = cx.bucket().await?;
    let upload = cx
        .storage()
        .get_upload(bucket.id, cx.key()?, upload_id(cx)?)
        .await?
        .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchUpload))?;
    Ok((bucket, upload))
}

/// What the blob of part `number` is for.
fn part_owner(bucket: &BucketRecord, upload: &UploadRecord, number: u32) -> BlobOwner {
    BlobOwner::Part {
        bucket: bucket.id,
        key: upload.key.clone(),
        upload_id: upload.upload_id.clone(),
        part_number: number,
    }
}

/// The checksum algorithm and type of a new upload. CRC64NVME defaults to
/// a full-object checksum, the others to composite, as on S3.
fn checksum_settings(
    cx: &RequestCx,
) -> Result<(Option<ChecksumAlgorithm>, Option<ChecksumType>), S3Error> {
    let invalid = |m: &'static str| S3Error::new(S3ErrorCode::InvalidRequest, m);
    let algorithm = match cx.header("x-amz-checksum-algorithm") {
        None => None,
        Some(name) => Some(
            ChecksumAlgorithm::from_name(name)
                .ok_or_else(|| invalid("Checksum algorithm provided is unsupported."))?,
        ),
    };
    let kind = cx
        .header("x-amz-checksum-type")
        .map(ChecksumType::from_name);
    match (algorithm, kind) {
        (None, None) => Ok((None, None)),
        (None, Some(_)) => Err(invalid(
            "x-amz-checksum-type requires x-amz-checksum-algorithm.",
        )),
        (Some(alg), None) => {
            let kind = if alg == ChecksumAlgorithm::Crc64Nvme {
                ChecksumType::FullObject
            } else {
                ChecksumType::Composite
            };
            Ok((Some(alg), Some(kind)))
        }
        (Some(alg), Some(Some(ChecksumType::FullObject))) if alg.supports_full_object() => {
            Ok((Some(alg), Some(ChecksumType::FullObject)))
        }
        (Some(alg), Some(Some(ChecksumType::Composite))) if alg != ChecksumAlgorithm::Crc64Nvme => {
            Ok((Some(alg), Some(ChecksumType::Composite)))
        }
        (Some(_), Some(_)) => Err(invalid(
            "The checksum type is not supported with this algorithm.",
        )),
    }
}

pub async fn create_multipart_upload(cx: &mut RequestCx) -> Res {
    let key = cx.key()?.to_owned();
    let bucket = cx.bucket().await?;
    let (checksum_algorithm, checksum_type) = checksum_settings(cx)?;
    let upload = UploadRecord {
        // v7 ids sort by creation time, which is how S3 orders uploads of a key.
        upload_id: UploadId::generate().as_str().to_owned(),
        key: key.clone(),
        initiated_ms: now_ms(),
        content: content_headers(&cx.parts.headers),
        user_meta: user_metadata(&cx.parts.headers)?,
        checksum_algorithm,
        checksum_type,
    };
    cx.storage().create_upload(bucket.id, &upload).await?;
    let mut r = response::xml(&xml::InitiateMultipartUploadResult {
        xmlns: (),
        bucket: bucket.name,
        key,
        upload_id: upload.upload_id.clone(),
    })?;
    if let (Some(alg), Some(kind)) = (&upload.checksum_algorithm, &upload.checksum_type) {
        response::set(&mut r, "x-amz-checksum-algorithm", alg.as_str());
        response::set(&mut r, "x-amz-checksum-type", kind.as_str());
    }
    Ok(r)
}

/// Records a stored part; discards its blob if the upload is gone.
async fn record_part(
    cx: &RequestCx,
    bucket: &BucketRecord,
    number: u32,
    data: PartRef,
) -> Result<PartRecord, S3Error> {
    let part = PartRecord {
        part_number: number,
        last_modified_ms: now_ms(),
        data,
    };
    if let Err(e) = cx
        .storage()
        .put_part(bucket.id, cx.key()?, upload_id(cx)?, &part)
        .await
    {
        if e.nothing_written() {
            discard(
                cx,
                part.data.blob,
                part.data.chunks(cx.state.config.chunk_size),
            )
            .await;
        }
        return Err(e.into());
    }
    Ok(part)
}

pub async fn upload_part(cx: &mut RequestCx) -> Res {
    let number = part_number(cx)?;
    let (bucket, upload) = current_upload(cx).await?;
    let owner = part_owner(&bucket, &upload, number);
    let stored = store_body(cx, MAX_PUT_SIZE, upload.checksum_algorithm, &owner).await?;
    let part = record_part(cx, &bucket, number, stored.part).await?;
    let mut r = response::empty(StatusCode::OK);
    response::set(&mut r, "etag", &quote_etag(&part.data.etag));
    if stored.client_checksum {
        if let Some(c) = &part.data.checksum {
            response::set(&mut r, c.algorithm.header_name(), &c.value);
        }
    }
    Ok(r)
}

/// `x-amz-copy-source-range: bytes=first-last` within an object of `size`.
pub fn copy_source_range(value: Option<&str>, size: u64) -> Result<(u64, u64), S3Error> {
    let Some(v) = value else { return Ok((0, size)) };
    let malformed = || {
        S3Error::new(
            S3ErrorCode::InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
    };
    let (a, b) = v
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(malformed)?;
    let first: u64 = a.trim().parse().map_err(|_| malformed())?;
    let last: u64 = b.trim().parse().map_err(|_| malformed())?;
    if first > last {
        return Err(malformed());
    }
    if last >= size {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRange,
            "Range specified is not valid for source object",
        ));
    }
    Ok((first, last + 1))
}

pub async fn upload_part_copy(cx: &mut RequestCx) -> Res {
    let number = part_number(cx)?;
    let (bucket, upload) = current_upload(cx).await?;
    let src = copy_source(cx).await?;
    let (start, end) = copy_source_range(cx.header("x-amz-copy-source-range"), src.head.size)?;
    if end - start > MAX_PUT_SIZE {
        return Err(S3Error::code(S3ErrorCode::EntityTooLarge));
    }
    let owner = part_owner(&bucket, &upload, number);
    let algorithm = upload.checksum_algorithm;
    let data = copy_range(cx, &src.head, start, end, algorithm, &owner).await?;
    let part = record_part(cx, &bucket, number, data).await?;
    let checksum = match &part.data.checksum {
        Some(c) => xml::Checksums::one(c.algorithm, &c.value, c.kind),
        None => xml::Checksums::default(),
    };
    let checksum = xml::Checksums {
        kind: None,
        ..checksum
    };
    response::xml_root(
        "CopyPartResult",
        &xml::CopyPartResult {
            xmlns: (),
            last_modified: iso8601(part.last_modified_ms),
            etag: quote_etag(&part.data.etag),
            checksum,
        },
    )
}

pub async fn abort_multipart_upload(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    cx.storage()
        .abort_upload(bucket.id, cx.key()?, upload_id(cx)?)
        .await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_ranges() {
        assert_eq!(copy_source_range(None, 10).unwrap(), (0, 10));
        assert_eq!(copy_source_range(Some("bytes=0-9"), 10).unwrap(), (0, 10));
        assert_eq!(copy_source_range(Some("bytes=3-3"), 10).unwrap(), (3, 4));
        assert_eq!(
            copy_source_range(Some("bytes=0-10"), 10).unwrap_err().code,
            S3ErrorCode::InvalidRange
        );
        for bad in ["bytes=5-3", "bytes=-3", "bytes=3-", "3-4", "bytes=a-b"] {
            assert_eq!(
                copy_source_range(Some(bad), 10).unwrap_err().code,
                S3ErrorCode::InvalidArgument,
                "{bad}"
            );
        }
    }
}
