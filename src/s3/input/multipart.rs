//! Inputs of the multipart operations.

use std::collections::BTreeMap;

use http::HeaderMap;

use super::header;
use super::object::CopySource;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::{content_headers, user_metadata, write_condition};
use crate::http::Query;
use crate::storage::records::ContentHeaders;
use crate::storage::WriteCondition;
use crate::types::{ChecksumAlgorithm, ChecksumType, ObjectKey, TagSet, UploadId};

/// Largest part number S3 accepts.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// A part number, 1 to [`MAX_PART_NUMBER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartNumber(u32);

impl PartNumber {
    pub(crate) fn parse(v: &str) -> Result<PartNumber, S3Error> {
        v.parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
            .map(PartNumber)
            .ok_or_else(|| {
                S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "Part number must be an integer between 1 and 10000, inclusive",
                )
            })
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A multipart upload, by key and `uploadId`. An id this gateway cannot
/// have handed out names no upload.
#[derive(Debug, Clone)]
pub struct UploadTarget {
    pub key: ObjectKey,
    pub upload_id: UploadId,
}

impl UploadTarget {
    pub(crate) fn parse(key: ObjectKey, q: &Query) -> Result<UploadTarget, S3Error> {
        let upload_id = q
            .get("uploadId")
            .and_then(UploadId::parse)
            .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchUpload))?;
        Ok(UploadTarget { key, upload_id })
    }
}

/// UploadPart: the upload and the part's number.
#[derive(Debug, Clone)]
pub struct PartTarget {
    pub upload: UploadTarget,
    pub part_number: PartNumber,
}

impl PartTarget {
    pub(crate) fn parse(key: ObjectKey, q: &Query) -> Result<PartTarget, S3Error> {
        // The part number is judged first, as before the inputs had types.
        let part_number = PartNumber::parse(q.get("partNumber").unwrap_or(""))?;
        Ok(PartTarget {
            upload: UploadTarget::parse(key, q)?,
            part_number,
        })
    }
}

/// UploadPartCopy.
#[derive(Debug)]
pub struct PartCopyInput {
    pub part: PartTarget,
    pub source: CopySource,
    /// `x-amz-copy-source-range: bytes=first-last`, inclusive.
    pub source_range: Option<(u64, u64)>,
}

impl PartCopyInput {
    pub(crate) fn parse(
        key: ObjectKey,
        q: &Query,
        h: &HeaderMap,
    ) -> Result<PartCopyInput, S3Error> {
        Ok(PartCopyInput {
            part: PartTarget::parse(key, q)?,
            source: CopySource::parse(h)?,
            source_range: header(h, "x-amz-copy-source-range")
                .map(|v| copy_source_range(&v))
                .transpose()?,
        })
    }
}

/// `x-amz-copy-source-range: bytes=first-last` as `(first, last)`.
fn copy_source_range(v: &str) -> Result<(u64, u64), S3Error> {
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
    Ok((first, last))
}

/// CreateMultipartUpload.
#[derive(Debug)]
pub struct CreateUploadInput {
    pub key: ObjectKey,
    pub content: ContentHeaders,
    pub user_meta: BTreeMap<String, String>,
    /// The algorithm and type every part and the object are checked with.
    pub checksum: Option<(ChecksumAlgorithm, ChecksumType)>,
    /// `x-amz-tagging`, checked: the completed object's tags.
    pub tags: TagSet,
}

impl CreateUploadInput {
    pub(crate) fn parse(key: ObjectKey, h: &HeaderMap) -> Result<CreateUploadInput, S3Error> {
        let user_meta = user_metadata(h)?;
        Ok(CreateUploadInput {
            key,
            content: content_headers(h),
            user_meta,
            checksum: checksum_settings(h)?,
            tags: super::object::tagging_header(h)?,
        })
    }
}

/// The checksum algorithm and type of a new upload. CRC64NVME defaults to
/// a full-object checksum, the others to composite, as on S3.
fn checksum_settings(h: &HeaderMap) -> Result<Option<(ChecksumAlgorithm, ChecksumType)>, S3Error> {
    let invalid = |m: &'static str| S3Error::new(S3ErrorCode::InvalidRequest, m);
    let algorithm = match header(h, "x-amz-checksum-algorithm") {
        None => None,
        Some(name) => Some(
            ChecksumAlgorithm::from_name(&name)
                .ok_or_else(|| invalid("Checksum algorithm provided is unsupported."))?,
        ),
    };
    let kind = header(h, "x-amz-checksum-type").map(|k| ChecksumType::from_name(&k));
    match (algorithm, kind) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(invalid(
            "x-amz-checksum-type requires x-amz-checksum-algorithm.",
        )),
        (Some(alg), None) => {
            let kind = if alg == ChecksumAlgorithm::Crc64Nvme {
                ChecksumType::FullObject
            } else {
                ChecksumType::Composite
            };
            Ok(Some((alg, kind)))
        }
        (Some(alg), Some(Some(ChecksumType::FullObject))) if alg.supports_full_object() => {
            Ok(Some((alg, ChecksumType::FullObject)))
        }
        (Some(alg), Some(Some(ChecksumType::Composite))) if alg != ChecksumAlgorithm::Crc64Nvme => {
            Ok(Some((alg, ChecksumType::Composite)))
        }
        (Some(_), Some(_)) => Err(invalid(
            "The checksum type is not supported with this algorithm.",
        )),
    }
}

/// CompleteMultipartUpload's head: the write condition and what the client
/// announces of the object it expects.
#[derive(Debug)]
pub struct CompleteInput {
    pub upload: UploadTarget,
    pub condition: WriteCondition,
    /// `x-amz-mp-object-size`, as sent (it must equal the object's size).
    pub object_size: Option<String>,
    /// Every `x-amz-checksum-<alg>` header, the expected checksum of the
    /// whole object (not of the XML body).
    pub checksums: Vec<(ChecksumAlgorithm, String)>,
}

impl CompleteInput {
    pub(crate) fn parse(
        key: ObjectKey,
        q: &Query,
        h: &HeaderMap,
    ) -> Result<CompleteInput, S3Error> {
        Ok(CompleteInput {
            upload: UploadTarget::parse(key, q)?,
            condition: write_condition(h, "CompleteMultipartUpload")?,
            object_size: header(h, "x-amz-mp-object-size"),
            checksums: ChecksumAlgorithm::ALL
                .into_iter()
                .filter_map(|alg| header(h, alg.header_name()).map(|v| (alg, v)))
                .collect(),
        })
    }

    /// The checksum the client expects for `alg`, if it sent one.
    pub(crate) fn expected_checksum(&self, alg: ChecksumAlgorithm) -> Option<&str> {
        self.checksums
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_ranges() {
        assert_eq!(copy_source_range("bytes=0-9").unwrap(), (0, 9));
        assert_eq!(copy_source_range(" bytes=3-3").unwrap(), (3, 3));
        for bad in ["bytes=5-3", "bytes=-3", "bytes=3-", "3-4", "bytes=a-b"] {
            assert_eq!(
                copy_source_range(bad).unwrap_err().code,
                S3ErrorCode::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn part_numbers_and_upload_ids() {
        for good in ["1", "10000", "0042"] {
            assert!(PartNumber::parse(good).is_ok(), "{good}");
        }
        for bad in ["0", "10001", "", "-1", "1.0", "x"] {
            let e = PartNumber::parse(bad).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{bad}");
        }
        let key = ObjectKey::parse("k").unwrap();
        let id = UploadId::generate();
        let q = Query::parse(Some(&format!("uploadId={id}&partNumber=3"))).unwrap();
        let t = PartTarget::parse(key.clone(), &q).unwrap();
        assert_eq!((t.upload.upload_id, t.part_number.get()), (id, 3));
        let q = Query::parse(Some("uploadId=nope&partNumber=3")).unwrap();
        let e = PartTarget::parse(key.clone(), &q).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::NoSuchUpload);
        let q = Query::parse(Some("uploadId=nope&partNumber=0")).unwrap();
        let e = PartTarget::parse(key, &q).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::InvalidArgument);
    }

    #[test]
    fn upload_checksum_settings() {
        let settings = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (n, v) in pairs {
                h.insert(*n, v.parse().unwrap());
            }
            checksum_settings(&h).map_err(|e| e.code)
        };
        use ChecksumAlgorithm::*;
        use ChecksumType::*;
        assert_eq!(settings(&[]), Ok(None));
        let alg = "x-amz-checksum-algorithm";
        let kind = "x-amz-checksum-type";
        assert_eq!(settings(&[(alg, "CRC32")]), Ok(Some((Crc32, Composite))));
        assert_eq!(
            settings(&[(alg, "CRC64NVME")]),
            Ok(Some((Crc64Nvme, FullObject)))
        );
        assert_eq!(
            settings(&[(alg, "CRC32C"), (kind, "FULL_OBJECT")]),
            Ok(Some((Crc32c, FullObject)))
        );
        let invalid = Err(S3ErrorCode::InvalidRequest);
        assert_eq!(settings(&[(alg, "MD5")]), invalid);
        assert_eq!(settings(&[(kind, "COMPOSITE")]), invalid);
        assert_eq!(
            settings(&[(alg, "CRC64NVME"), (kind, "COMPOSITE")]),
            invalid
        );
        assert_eq!(settings(&[(alg, "SHA1"), (kind, "FULL_OBJECT")]), invalid);
        assert_eq!(settings(&[(alg, "CRC32"), (kind, "OTHER")]), invalid);
    }
}
