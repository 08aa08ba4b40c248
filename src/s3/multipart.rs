//! Multipart uploads: create, upload a part (or copy one), abort. Each part
//! is its own blob; CompleteMultipartUpload (`complete.rs`) references them.

use http::{Response, StatusCode};

use super::copy::{copy_range, copy_source, set_source_version};
use super::input::{CreateUploadInput, PartCopyInput, PartNumber, PartTarget, UploadTarget};
use super::response::{self, iso8601, now_ms};
use super::upload::{discard, store_body};
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::storage::{BlobOwner, BucketRecord, PartRecord, PartRef, UploadRecord};
use crate::types::{quote_etag, UploadId, MAX_PUT_SIZE};
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

/// The addressed upload, or `NoSuchUpload`.
pub(crate) async fn current_upload(
    cx: &RequestCx,
    target: &UploadTarget,
) -> Result<(BucketRecord, UploadRecord), S3Error> {
    let bucket = cx.bucket().await?;
    let upload = cx
        .storage()
        .get_upload(bucket.id, &target.key, &target.upload_id)
        .await?
        .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchUpload))?;
    Ok((bucket, upload))
}

/// What the blob of part `number` is for.
fn part_owner(bucket: &BucketRecord, upload: &UploadRecord, number: PartNumber) -> BlobOwner {
    BlobOwner::Part {
        bucket: bucket.id,
        key: upload.key.clone(),
        upload_id: upload.upload_id.clone(),
        part_number: number.get(),
    }
}

pub(crate) async fn create_multipart_upload(cx: &mut RequestCx, input: CreateUploadInput) -> Res {
    let key = input.key.into_string();
    let bucket = cx.bucket().await?;
    let upload = UploadRecord {
        // v7 ids sort by creation time, which is how S3 orders uploads of a key.
        upload_id: UploadId::generate().as_str().to_owned(),
        key: key.clone(),
        initiated_ms: now_ms(),
        content: input.content,
        user_meta: input.user_meta,
        tags: input.tags,
        checksum_algorithm: input.checksum.map(|(alg, _)| alg),
        checksum_type: input.checksum.map(|(_, kind)| kind),
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
    target: &PartTarget,
    data: PartRef,
) -> Result<PartRecord, S3Error> {
    let part = PartRecord {
        part_number: target.part_number.get(),
        last_modified_ms: now_ms(),
        data,
    };
    let upload = &target.upload;
    if let Err(e) = cx
        .storage()
        .put_part(bucket.id, &upload.key, &upload.upload_id, &part)
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

pub(crate) async fn upload_part(cx: &mut RequestCx, target: PartTarget) -> Res {
    let (bucket, upload) = current_upload(cx, &target.upload).await?;
    let owner = part_owner(&bucket, &upload, target.part_number);
    let stored = store_body(cx, MAX_PUT_SIZE, upload.checksum_algorithm, &owner).await?;
    let part = record_part(cx, &bucket, &target, stored.body.into_part()?).await?;
    let mut r = response::empty(StatusCode::OK);
    response::set(&mut r, "etag", &quote_etag(&part.data.etag));
    if stored.client_checksum {
        if let Some(c) = &part.data.checksum {
            response::set(&mut r, c.algorithm.header_name(), &c.value);
        }
    }
    Ok(r)
}

/// The half-open range of a copy source of `size` bytes that
/// `x-amz-copy-source-range` (`first..=last`) names; the whole source
/// without one.
fn source_range(range: Option<(u64, u64)>, size: u64) -> Result<(u64, u64), S3Error> {
    match range {
        None => Ok((0, size)),
        Some((_, last)) if last >= size => Err(S3Error::new(
            S3ErrorCode::InvalidRange,
            "Range specified is not valid for source object",
        )),
        Some((first, last)) => Ok((first, last + 1)),
    }
}

pub(crate) async fn upload_part_copy(cx: &mut RequestCx, input: PartCopyInput) -> Res {
    let (bucket, upload) = current_upload(cx, &input.part.upload).await?;
    let src = copy_source(cx, &input.source).await?;
    let (start, end) = source_range(input.source_range, src.head.size)?;
    if end - start > MAX_PUT_SIZE {
        return Err(S3Error::code(S3ErrorCode::EntityTooLarge));
    }
    let owner = part_owner(&bucket, &upload, input.part.part_number);
    let algorithm = upload.checksum_algorithm;
    let data = copy_range(cx, &src.head, start, end, algorithm, &owner).await?;
    let part = record_part(cx, &bucket, &input.part, data.into_part()?).await?;
    let checksum = match &part.data.checksum {
        Some(c) => xml::Checksums::one(c.algorithm, &c.value, c.kind),
        None => xml::Checksums::default(),
    };
    let checksum = xml::Checksums {
        kind: None,
        ..checksum
    };
    let mut r = response::xml_root(
        "CopyPartResult",
        &xml::CopyPartResult {
            xmlns: (),
            last_modified: iso8601(part.last_modified_ms),
            etag: quote_etag(&part.data.etag),
            checksum,
        },
    )?;
    set_source_version(&mut r, &src.bucket, &src.head);
    Ok(r)
}

pub(crate) async fn abort_multipart_upload(cx: &mut RequestCx, target: UploadTarget) -> Res {
    let bucket = cx.bucket().await?;
    cx.storage()
        .abort_upload(bucket.id, &target.key, &target.upload_id)
        .await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_ranges() {
        assert_eq!(source_range(None, 10).unwrap(), (0, 10));
        assert_eq!(source_range(Some((0, 9)), 10).unwrap(), (0, 10));
        assert_eq!(source_range(Some((3, 3)), 10).unwrap(), (3, 4));
        assert_eq!(
            source_range(Some((0, 10)), 10).unwrap_err().code,
            S3ErrorCode::InvalidRange
        );
    }
}
