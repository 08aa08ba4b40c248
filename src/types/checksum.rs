//! The checksum vocabulary of S3's flexible checksums, shared by the
//! records, the XML answers, the handlers and `auth` (which computes them).
//! Stored records name them by their S3 names (`CRC32`, `FULL_OBJECT`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A checksum algorithm of the S3 flexible-checksum API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChecksumAlgorithm {
    /// CRC-32/ISO-HDLC (the zlib CRC).
    #[serde(rename = "CRC32")]
    Crc32,
    /// CRC-32/ISCSI (Castagnoli).
    #[serde(rename = "CRC32C")]
    Crc32c,
    /// CRC-64/NVME.
    #[serde(rename = "CRC64NVME")]
    Crc64Nvme,
    /// SHA-1.
    #[serde(rename = "SHA1")]
    Sha1,
    /// SHA-256.
    #[serde(rename = "SHA256")]
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in a fixed order.
    pub(crate) const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// From a header name such as `x-amz-checksum-crc32` (any case).
    pub(crate) fn from_header_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.header_name().eq_ignore_ascii_case(name.trim()))
    }

    /// From an algorithm name such as `CRC32` (any case).
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The header carrying this checksum, e.g. `x-amz-checksum-crc32`.
    pub(crate) fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The algorithm name used in headers and XML values, e.g. `CRC32`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// Whether a multipart object can carry a full-object checksum of this
    /// algorithm (CRCs combine; hashes do not).
    pub(crate) fn supports_full_object(self) -> bool {
        matches!(self, Self::Crc32 | Self::Crc32c | Self::Crc64Nvme)
    }

    /// Length in bytes of the raw (not base64) checksum.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a multipart object's checksum was made: over the whole object, or
/// as a checksum of the parts' checksums (`-N` appended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChecksumType {
    #[serde(rename = "FULL_OBJECT")]
    FullObject,
    #[serde(rename = "COMPOSITE")]
    Composite,
}

impl ChecksumType {
    /// From `FULL_OBJECT` or `COMPOSITE` (any case).
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [Self::FullObject, Self::Composite]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The name in headers, XML and stored records.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::FullObject => "FULL_OBJECT",
            Self::Composite => "COMPOSITE",
        }
    }
}

impl fmt::Display for ChecksumType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records written before these types existed stored the names as
    /// strings: they must read back the same.
    #[test]
    fn stored_names_are_the_s3_names() {
        for alg in ChecksumAlgorithm::ALL {
            let json = serde_json::to_string(&alg).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", alg.as_str()));
            assert_eq!(
                serde_json::from_str::<ChecksumAlgorithm>(&json).ok(),
                Some(alg)
            );
            assert_eq!(
                ChecksumAlgorithm::from_name(&alg.as_str().to_lowercase()),
                Some(alg)
            );
        }
        for t in [ChecksumType::FullObject, ChecksumType::Composite] {
            let json = serde_json::to_string(&t).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<ChecksumType>(&json).ok(), Some(t));
        }
        assert_eq!(
            ChecksumType::from_name("composite"),
            Some(ChecksumType::Composite)
        );
        assert_eq!(ChecksumType::from_name("BOTH"), None);
    }
}
