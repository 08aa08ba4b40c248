//! CompleteMultipartUpload: validate the part list, compute the ETag and
//! checksum, and commit a head that references the parts' blobs. No data
//! is copied. A retry of a completed upload answers with the same result.
//!
//! `If-None-Match: *` and `If-Match` are checked atomically with the
//! commit, as for PutObject. A refused Complete writes nothing and leaves
//! the upload, so the client may retry (with another condition, or none).
//! A retry of an upload that is already completed answers with the object
//! it made, whatever its condition says: the condition was judged at that
//! upload's commit, and answering 412 would tell a client whose response
//! was lost that its object was refused.

use std::collections::HashMap;

use md5::{Digest, Md5};

use super::input::{CompleteInput, MAX_PART_NUMBER};
use super::response::{self, now_ms};
use super::upload::b64;
use super::{versioned, RequestCx};
use crate::auth::checksum::{combine_crcs, composite_of, decode_base64};
use crate::auth::Expectations;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::storage::records::StoredChecksum;
use crate::storage::{
    BucketRecord, ObjectHead, PartRecord, StorageError, UploadRecord, WriteCondition,
};
use crate::types::{quote_etag, unquote_etag, ChecksumType, ObjectKey, UploadId};
use crate::xml;

/// Smallest size of every part but the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// 10 000 parts with checksums fit well within this.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Checks the client's list against the stored parts and returns the
/// chosen parts in order: ascending numbers (`InvalidPartOrder`), known
/// parts with matching ETags and checksums (`InvalidPart`), and every part
/// but the last at least 5 MiB (`EntityTooSmall`).
pub fn choose_parts(
    requested: &[xml::CompletedPart],
    stored: &[PartRecord],
) -> Result<Vec<PartRecord>, S3Error> {
    if requested.is_empty() {
        return Err(S3Error::new(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema: at least one part is required.",
        ));
    }
    let by_number: HashMap<u32, &PartRecord> = stored.iter().map(|p| (p.part_number, p)).collect();
    let mut chosen = Vec::with_capacity(requested.len());
    let mut previous = 0;
    for r in requested {
        if r.part_number == 0 {
            return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            ));
        }
        if r.part_number <= previous {
            return Err(S3Error::code(S3ErrorCode::InvalidPartOrder));
        }
        previous = r.part_number;
        let part = by_number
            .get(&r.part_number)
            .filter(|p| unquote_etag(&r.etag).eq_ignore_ascii_case(&p.data.etag))
            .ok_or_else(|| {
                S3Error::new(
                    S3ErrorCode::InvalidPart,
                    format!(
                        "Part {} could not be found or its ETag does not match.",
                        r.part_number
                    ),
                )
            })?;
        if let (Some(sent), Some(have)) = (r.checksum(), &part.data.checksum) {
            if sent.trim() != have.value {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidPart,
                    format!("The checksum of part {} does not match.", r.part_number),
                ));
            }
        }
        chosen.push((*part).clone());
    }
    if let Some((_, init)) = chosen.split_last() {
        if let Some(small) = init.iter().find(|p| p.data.size < MIN_PART_SIZE) {
            return Err(S3Error::new(
                S3ErrorCode::EntityTooSmall,
                format!(
                    "Part {} is smaller than the minimum allowed size of 5 MiB.",
                    small.part_number
                ),
            ));
        }
    }
    Ok(chosen)
}

/// `hex(md5(concatenated binary MD5s of the parts))-N`.
pub fn multipart_etag(parts: &[PartRecord]) -> Result<String, S3Error> {
    let mut h = Md5::new();
    for p in parts {
        let raw = hex::decode(&p.data.etag)
            .map_err(|e| S3Error::internal(format!("stored part ETag: {e}")))?;
        h.update(raw);
    }
    Ok(format!("{}-{}", hex::encode(h.finalize()), parts.len()))
}

/// The object checksum of the upload's algorithm and type, from the parts'.
fn object_checksum(
    upload: &UploadRecord,
    parts: &[PartRecord],
) -> Result<Option<StoredChecksum>, S3Error> {
    let Some(alg) = upload.checksum_algorithm else {
        return Ok(None);
    };
    let mut raws = Vec::with_capacity(parts.len());
    for p in parts {
        let Some(c) = p.data.checksum.as_ref().filter(|c| c.algorithm == alg) else {
            return Ok(None);
        };
        raws.push((
            decode_base64(alg, &c.value).map_err(S3Error::internal)?,
            p.data.size,
        ));
    }
    let full = upload.checksum_type == Some(ChecksumType::FullObject);
    Ok(Some(if full {
        let value =
            combine_crcs(alg, &raws).ok_or_else(|| S3Error::internal("checksum combine"))?;
        StoredChecksum {
            algorithm: alg,
            value: b64(&value),
            kind: ChecksumType::FullObject,
        }
    } else {
        let only: Vec<Vec<u8>> = raws.into_iter().map(|(r, _)| r).collect();
        StoredChecksum {
            algorithm: alg,
            value: format!("{}-{}", b64(&composite_of(alg, &only)), parts.len()),
            kind: ChecksumType::Composite,
        }
    }))
}

fn result(
    bucket: &BucketRecord,
    key: &str,
    head: &ObjectHead,
) -> Result<http::Response<ResponseBody>, S3Error> {
    let mut r = result_body(&bucket.name, key, head)?;
    versioned::set_version_header(&mut r, bucket, head);
    Ok(r)
}

fn result_body(
    bucket: &str,
    key: &str,
    head: &ObjectHead,
) -> Result<http::Response<ResponseBody>, S3Error> {
    let checksum = match &head.checksum {
        Some(c) => xml::Checksums::one(c.algorithm, &c.value, c.kind),
        None => xml::Checksums::default(),
    };
    response::xml_root(
        "CompleteMultipartUploadResult",
        &xml::CompleteMultipartUploadResult {
            xmlns: (),
            location: format!("/{bucket}/{key}"),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag: quote_etag(&head.etag),
            checksum,
        },
    )
}

/// The object size and checksum a client may announce on Complete
/// (`x-amz-mp-object-size`, `x-amz-checksum-<alg>`) must match the object.
fn check_announced(input: &CompleteInput, head: &ObjectHead) -> Result<(), S3Error> {
    if let Some(size) = &input.object_size {
        if size.trim().parse::<u64>().ok() != Some(head.size) {
            return Err(S3Error::new(
                S3ErrorCode::InvalidRequest,
                "The provided 'x-amz-mp-object-size' header value does not match what was computed.",
            ));
        }
    }
    if let Some(ours) = &head.checksum {
        if let Some(sent) = input.expected_checksum(ours.algorithm) {
            if sent.trim() != ours.value {
                return Err(S3Error::new(
                    S3ErrorCode::BadDigest,
                    format!(
                        "The {} you specified did not match the calculated checksum.",
                        ours.algorithm
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// If the upload already completed, its object answers the retry.
async fn completed_before(
    cx: &RequestCx,
    bucket: &BucketRecord,
    key: &ObjectKey,
    id: &UploadId,
) -> Result<ObjectHead, S3Error> {
    match cx.storage().get_object(bucket.id, key).await? {
        Some(head) if head.upload_id.as_deref() == Some(id.as_str()) => Ok(head),
        _ => Err(S3Error::code(S3ErrorCode::NoSuchUpload)),
    }
}

/// What S3 answers when `cond` does not hold over `current`: 404
/// `NoSuchKey` for `If-Match` on a key without an object, else 412.
fn refusal(cond: &WriteCondition, current: Option<&ObjectHead>) -> S3Error {
    match (cond, current) {
        (WriteCondition::IfMatch(_), None) => S3Error::code(S3ErrorCode::NoSuchKey),
        (
            WriteCondition::IfMatch(_)
            | WriteCondition::IfNoneMatch
            | WriteCondition::IfUnchanged(_)
            | WriteCondition::None,
            _,
        ) => S3Error::code(S3ErrorCode::PreconditionFailed),
    }
}

/// Fails fast, before the parts are read, if `cond` does not hold now;
/// the commit checks again atomically. A head that this upload made is
/// left to the commit, which answers the retry.
async fn check_condition(
    cx: &RequestCx,
    bucket: &BucketRecord,
    key: &ObjectKey,
    id: &UploadId,
    cond: &WriteCondition,
) -> Result<(), S3Error> {
    if *cond == WriteCondition::None {
        return Ok(());
    }
    let current = versioned::live_head(cx.storage().as_ref(), bucket, key).await?;
    match &current {
        Some(head) if head.upload_id.as_deref() == Some(id.as_str()) => Ok(()),
        current if cond.holds(current.as_ref()) => Ok(()),
        current => Err(refusal(cond, current.as_ref())),
    }
}

pub(crate) async fn complete_multipart_upload(
    cx: &mut RequestCx,
    input: CompleteInput,
) -> Result<http::Response<ResponseBody>, S3Error> {
    let key = input.upload.key.clone();
    let id = input.upload.upload_id.clone();
    let cond = input.condition.clone();
    let bucket = cx.bucket().await?;
    // On Complete, `x-amz-checksum-*` is the expected checksum of the whole
    // object, not of this XML body.
    let expect = Expectations {
        checksum: None,
        ..cx.expectations()?
    };
    let (body, _) = cx.read_small_body_expecting(MAX_BODY, expect).await?;
    let text = std::str::from_utf8(&body).map_err(|_| S3Error::code(S3ErrorCode::MalformedXML))?;
    let request: xml::CompleteMultipartUpload =
        xml::from_xml(text).map_err(|e| S3Error::code(S3ErrorCode::MalformedXML).with_source(e))?;
    let Some(upload) = cx.storage().get_upload(bucket.id, &key, &id).await? else {
        let head = completed_before(cx, &bucket, &key, &id).await?;
        return result(&bucket, &key, &head);
    };
    check_condition(cx, &bucket, &key, &id, &cond).await?;
    let stored = cx
        .storage()
        .list_parts(&id, 0, MAX_PART_NUMBER as usize)
        .await?;
    let chosen = choose_parts(&request.parts, &stored)?;
    let head = ObjectHead {
        size: chosen.iter().map(|p| p.data.size).sum(),
        etag: multipart_etag(&chosen)?,
        last_modified_ms: now_ms(),
        chunk_size: cx.state.config.chunk_size,
        checksum: object_checksum(&upload, &chosen)?,
        parts: chosen.into_iter().map(|p| p.data).collect(),
        multipart: true,
        upload_id: Some(id.to_string()),
        content: upload.content,
        user_meta: upload.user_meta,
        tags: upload.tags,
        inline: None,
        version_id: None,
        version_us: 0,
        delete_marker: false,
    };
    check_announced(&input, &head)?;
    let completed = versioned::complete(cx.storage().as_ref(), &bucket, &key, &id, &head, &cond);
    match completed.await {
        Ok(written) => result(&bucket, &key, &written),
        // A concurrent retry won the race: answer as it did.
        Err(StorageError::NoSuchUpload) => {
            let head = completed_before(cx, &bucket, &key, &id).await?;
            result(&bucket, &key, &head)
        }
        // Nothing was written, unless a concurrent retry completed the
        // upload: then answer as it did.
        Err(StorageError::PreconditionFailed) => {
            match versioned::live_head(cx.storage().as_ref(), &bucket, &key).await? {
                Some(done) if done.upload_id.as_deref() == Some(id.as_str()) => {
                    result(&bucket, &key, &done)
                }
                current => Err(refusal(&cond, current.as_ref())),
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{BlobId, PartRef};
    use crate::types::ChecksumAlgorithm;

    fn stored(n: u32, size: u64, etag: &str) -> PartRecord {
        PartRecord {
            part_number: n,
            last_modified_ms: 0,
            data: PartRef {
                blob: BlobId::new(),
                size,
                etag: etag.to_owned(),
                checksum: None,
                chunk_size: None,
            },
        }
    }

    fn req(n: u32, etag: &str) -> xml::CompletedPart {
        xml::CompletedPart {
            part_number: n,
            etag: etag.to_owned(),
            crc32: None,
            crc32c: None,
            crc64nvme: None,
            sha1: None,
            sha256: None,
        }
    }

    const MB5: u64 = MIN_PART_SIZE;

    #[test]
    fn etag_rule_matches_the_de_facto_value() {
        // md5("hello") and md5("world"); expected value computed with
        // Python: md5(md5(b"hello").digest() + md5(b"world").digest()).
        let parts = [
            stored(1, MB5, "5d41402abc4b2a76b9719d911017c592"),
            stored(2, 1, "7d793037a0760186574b0282f2f435e7"),
        ];
        assert_eq!(
            multipart_etag(&parts).unwrap(),
            "065947336a2f2a95ba8899f3675c3be6-2"
        );
    }

    #[test]
    fn validation() {
        let have = [
            stored(1, MB5, "aa"),
            stored(2, MB5, "bb"),
            stored(3, 10, "cc"),
            stored(5, 1, "ee"),
        ];
        let ok = choose_parts(&[req(1, "\"aa\""), req(2, "bb"), req(3, "\"CC\"")], &have).unwrap();
        assert_eq!(
            ok.iter().map(|p| p.part_number).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        // A subset with gaps is fine.
        assert!(choose_parts(&[req(2, "bb"), req(5, "ee")], &have).is_ok());
        let code = |r: &[xml::CompletedPart]| choose_parts(r, &have).unwrap_err().code;
        assert_eq!(code(&[]), S3ErrorCode::MalformedXML);
        assert_eq!(code(&[req(0, "aa")]), S3ErrorCode::InvalidArgument);
        assert_eq!(
            code(&[req(2, "bb"), req(1, "aa")]),
            S3ErrorCode::InvalidPartOrder
        );
        assert_eq!(
            code(&[req(1, "aa"), req(1, "aa")]),
            S3ErrorCode::InvalidPartOrder
        );
        assert_eq!(code(&[req(1, "zz")]), S3ErrorCode::InvalidPart);
        assert_eq!(code(&[req(4, "dd")]), S3ErrorCode::InvalidPart);
        assert_eq!(
            code(&[req(3, "cc"), req(5, "ee")]),
            S3ErrorCode::EntityTooSmall
        );
    }

    #[test]
    fn listed_checksums_must_match() {
        let mut p = stored(1, 3, "aa");
        p.data.checksum = Some(StoredChecksum {
            algorithm: ChecksumAlgorithm::Crc32,
            value: "AAAAAA==".into(),
            kind: ChecksumType::FullObject,
        });
        let mut r = req(1, "aa");
        r.crc32 = Some("AAAAAA==".into());
        assert!(choose_parts(&[r], std::slice::from_ref(&p)).is_ok());
        let mut r = req(1, "aa");
        r.crc32 = Some("BBBBBB==".into());
        assert_eq!(
            choose_parts(&[r], &[p]).unwrap_err().code,
            S3ErrorCode::InvalidPart
        );
    }
}
