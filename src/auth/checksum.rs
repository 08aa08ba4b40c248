//! Flexible checksums: the five algorithms S3 accepts, and the request
//! headers (`x-amz-checksum-*`, `x-amz-trailer`, `x-amz-sdk-checksum-algorithm`)
//! that announce which one a client sends.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use http::HeaderMap;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::auth::AuthError;
use crate::types::ChecksumAlgorithm;

/// Incremental computation of one checksum.
#[derive(Clone)]
pub struct Checksummer {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Crc32(CrcDigest),
    Crc32c(CrcDigest),
    Crc64(CrcDigest),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Checksummer {
    /// A fresh checksum of `algorithm`.
    pub(crate) fn new(algorithm: ChecksumAlgorithm) -> Self {
        let inner = match algorithm {
            ChecksumAlgorithm::Crc32 => Inner::Crc32(CrcDigest::new(CrcAlgorithm::Crc32IsoHdlc)),
            ChecksumAlgorithm::Crc32c => Inner::Crc32c(CrcDigest::new(CrcAlgorithm::Crc32Iscsi)),
            ChecksumAlgorithm::Crc64Nvme => Inner::Crc64(CrcDigest::new(CrcAlgorithm::Crc64Nvme)),
            ChecksumAlgorithm::Sha1 => Inner::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => Inner::Sha256(Sha256::new()),
        };
        Self { inner }
    }

    /// Feeds more data.
    pub(crate) fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            Inner::Crc32(d) | Inner::Crc32c(d) | Inner::Crc64(d) => d.update(data),
            Inner::Sha1(d) => d.update(data),
            Inner::Sha256(d) => d.update(data),
        }
    }

    /// The raw checksum, big-endian for CRCs (as S3 sends it before base64).
    pub(crate) fn finalize(self) -> Vec<u8> {
        match self.inner {
            // CRC-32 values fit in the low 32 bits of the u64 crc-fast returns.
            Inner::Crc32(d) | Inner::Crc32c(d) => (d.finalize() as u32).to_be_bytes().to_vec(),
            Inner::Crc64(d) => d.finalize().to_be_bytes().to_vec(),
            Inner::Sha1(d) => d.finalize().to_vec(),
            Inner::Sha256(d) => d.finalize().to_vec(),
        }
    }
}

impl ChecksumAlgorithm {
    /// The CRC variant, for algorithms that are CRCs.
    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            ChecksumAlgorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
        }
    }
}

fn crc_value(raw: &[u8]) -> Option<u64> {
    match raw.len() {
        4 => Some(u64::from(u32::from_be_bytes(raw.try_into().ok()?))),
        8 => Some(u64::from_be_bytes(raw.try_into().ok()?)),
        _ => None,
    }
}

/// The CRC of a concatenation, from each part's raw CRC and length: the
/// full-object checksum of a multipart object. `None` for hash algorithms
/// or a malformed part value.
pub(crate) fn combine_crcs(
    algorithm: ChecksumAlgorithm,
    parts: &[(Vec<u8>, u64)],
) -> Option<Vec<u8>> {
    let crc = algorithm.crc()?;
    let mut acc = crc_value(&checksum_of(algorithm, b""))?;
    for (raw, len) in parts {
        let part = crc_value(raw)?;
        acc = crc_fast::checksum_combine(crc, acc, part, *len);
    }
    Some(match algorithm {
        ChecksumAlgorithm::Crc64Nvme => acc.to_be_bytes().to_vec(),
        _ => (acc as u32).to_be_bytes().to_vec(),
    })
}

/// The composite checksum of a multipart object: the checksum of the
/// concatenated raw part checksums (S3 appends `-N` to its base64).
pub(crate) fn composite_of(algorithm: ChecksumAlgorithm, parts: &[Vec<u8>]) -> Vec<u8> {
    let mut c = Checksummer::new(algorithm);
    for p in parts {
        c.update(p);
    }
    c.finalize()
}

/// The checksum of `data` in one call.
pub fn checksum_of(algorithm: ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut c = Checksummer::new(algorithm);
    c.update(data);
    c.finalize()
}

/// Standard base64 with padding, as used in `x-amz-checksum-*` values.
pub fn encode_base64(raw: &[u8]) -> String {
    STANDARD.encode(raw)
}

/// Decodes a base64 checksum value and checks its length for `algorithm`.
pub fn decode_base64(algorithm: ChecksumAlgorithm, value: &str) -> Result<Vec<u8>, AuthError> {
    let raw = STANDARD.decode(value.trim()).map_err(|_| {
        AuthError::InvalidChecksumRequest(format!(
            "{} value is not valid base64",
            algorithm.header_name()
        ))
    })?;
    if raw.len() != algorithm.digest_len() {
        return Err(AuthError::InvalidChecksumRequest(format!(
            "{} value has {} bytes, expected {}",
            algorithm.header_name(),
            raw.len(),
            algorithm.digest_len()
        )));
    }
    Ok(raw)
}

/// What the client asked us to check, from the request headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumRequest {
    /// The algorithm to compute.
    pub algorithm: ChecksumAlgorithm,
    /// The raw checksum sent in an `x-amz-checksum-*` header, if any.
    pub expected: Option<Vec<u8>>,
    /// The value will arrive in an aws-chunked trailer (`x-amz-trailer`).
    pub in_trailer: bool,
}

/// `x-amz-checksum-*` headers that are not checksum values.
const NON_VALUE_HEADERS: [&str; 3] = [
    "x-amz-checksum-algorithm",
    "x-amz-checksum-type",
    "x-amz-checksum-mode",
];

fn invalid(msg: impl Into<String>) -> AuthError {
    AuthError::InvalidChecksumRequest(msg.into())
}

/// Reads which checksum a request carries or announces.
///
/// * `x-amz-checksum-<alg>: <base64>`: verify against this value;
/// * `x-amz-trailer: x-amz-checksum-<alg>`: the value comes in the trailer;
/// * `x-amz-sdk-checksum-algorithm: <ALG>` alone: compute, nothing to verify.
///
/// Two checksum headers, a header plus a trailer, an unknown algorithm, a
/// malformed value, or an `x-amz-sdk-checksum-algorithm` that disagrees with
/// the header/trailer is `InvalidChecksumRequest`.
pub fn parse_checksum_request(headers: &HeaderMap) -> Result<Option<ChecksumRequest>, AuthError> {
    let mut from_header: Option<(ChecksumAlgorithm, Vec<u8>)> = None;
    for (name, value) in headers {
        let name = name.as_str();
        if !name.starts_with("x-amz-checksum-") || NON_VALUE_HEADERS.contains(&name) {
            continue;
        }
        let algorithm = ChecksumAlgorithm::from_header_name(name)
            .ok_or_else(|| invalid(format!("unknown checksum header {name}")))?;
        if from_header.is_some() {
            return Err(invalid("more than one x-amz-checksum-* header"));
        }
        let value = value
            .to_str()
            .map_err(|_| invalid(format!("{name} value is not ASCII")))?;
        from_header = Some((algorithm, decode_base64(algorithm, value)?));
    }

    let mut from_trailer: Option<ChecksumAlgorithm> = None;
    for value in headers.get_all("x-amz-trailer") {
        let value = value
            .to_str()
            .map_err(|_| invalid("x-amz-trailer is not ASCII"))?;
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let lower = name.to_ascii_lowercase();
            if !lower.starts_with("x-amz-checksum-") {
                continue;
            }
            let algorithm = ChecksumAlgorithm::from_header_name(&lower)
                .ok_or_else(|| invalid(format!("unknown trailer checksum {name}")))?;
            if from_trailer.is_some() {
                return Err(invalid("more than one checksum in x-amz-trailer"));
            }
            from_trailer = Some(algorithm);
        }
    }

    let sdk_algorithm = match headers.get("x-amz-sdk-checksum-algorithm") {
        None => None,
        Some(v) => {
            let name = v
                .to_str()
                .map_err(|_| invalid("x-amz-sdk-checksum-algorithm is not ASCII"))?;
            Some(
                ChecksumAlgorithm::from_name(name)
                    .ok_or_else(|| invalid(format!("unknown checksum algorithm {name}")))?,
            )
        }
    };

    let request = match (from_header, from_trailer) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "x-amz-trailer and an x-amz-checksum-* header are mutually exclusive",
            ))
        }
        (Some((algorithm, expected)), None) => ChecksumRequest {
            algorithm,
            expected: Some(expected),
            in_trailer: false,
        },
        (None, Some(algorithm)) => ChecksumRequest {
            algorithm,
            expected: None,
            in_trailer: true,
        },
        (None, None) => match sdk_algorithm {
            Some(algorithm) => ChecksumRequest {
                algorithm,
                expected: None,
                in_trailer: false,
            },
            None => return Ok(None),
        },
    };
    if let Some(sdk) = sdk_algorithm {
        if sdk != request.algorithm {
            return Err(invalid(format!(
                "x-amz-sdk-checksum-algorithm {sdk} does not match the {} checksum sent",
                request.algorithm
            )));
        }
    }
    Ok(Some(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn check_values_of_123456789() {
        let data = b"123456789";
        // Catalogue "check" values of each CRC model.
        assert_eq!(
            checksum_of(ChecksumAlgorithm::Crc32, data),
            0xCBF4_3926u32.to_be_bytes()
        );
        assert_eq!(
            checksum_of(ChecksumAlgorithm::Crc32c, data),
            0xE306_9283u32.to_be_bytes()
        );
        assert_eq!(
            checksum_of(ChecksumAlgorithm::Crc64Nvme, data),
            0xAE8B_1486_0A79_9888u64.to_be_bytes()
        );
        assert_eq!(
            hex::encode(checksum_of(ChecksumAlgorithm::Sha1, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(checksum_of(ChecksumAlgorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn known_s3_values() {
        // smithy-rs aws-chunked test body "Hello world" -> x-amz-checksum-crc32:i9aeUg==
        assert_eq!(
            encode_base64(&checksum_of(ChecksumAlgorithm::Crc32, b"Hello world")),
            "i9aeUg=="
        );
        // AWS sigv4-streaming-trailers example: 66560 bytes of 'a' -> crc32c sOO8/Q==
        let body = vec![b'a'; 66560];
        assert_eq!(
            encode_base64(&checksum_of(ChecksumAlgorithm::Crc32c, &body)),
            "sOO8/Q=="
        );
        // Empty-body values SDKs bake into presigned URLs.
        assert_eq!(
            encode_base64(&checksum_of(ChecksumAlgorithm::Crc32, b"")),
            "AAAAAA=="
        );
        assert_eq!(
            encode_base64(&checksum_of(ChecksumAlgorithm::Crc64Nvme, b"")),
            "AAAAAAAAAAA="
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for alg in ChecksumAlgorithm::ALL {
            let mut c = Checksummer::new(alg);
            for piece in data.chunks(777) {
                c.update(piece);
            }
            let out = c.finalize();
            assert_eq!(out.len(), alg.digest_len());
            assert_eq!(out, checksum_of(alg, &data), "{alg}");
        }
    }

    #[test]
    fn names_round_trip() {
        for alg in ChecksumAlgorithm::ALL {
            assert_eq!(
                ChecksumAlgorithm::from_header_name(alg.header_name()),
                Some(alg)
            );
            assert_eq!(
                ChecksumAlgorithm::from_header_name(&alg.header_name().to_uppercase()),
                Some(alg)
            );
            assert_eq!(ChecksumAlgorithm::from_name(alg.as_str()), Some(alg));
            assert_eq!(
                ChecksumAlgorithm::from_name(&alg.as_str().to_lowercase()),
                Some(alg)
            );
        }
        assert_eq!(ChecksumAlgorithm::from_name("MD5"), None);
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-md5"),
            None
        );
    }

    #[test]
    fn decode_checks_length_and_alphabet() {
        assert_eq!(
            decode_base64(ChecksumAlgorithm::Crc32, "i9aeUg==").unwrap(),
            [0x8b, 0xd6, 0x9e, 0x52]
        );
        assert!(matches!(
            decode_base64(ChecksumAlgorithm::Crc32, "AAAAAAAAAAA="),
            Err(AuthError::InvalidChecksumRequest(_))
        ));
        assert!(matches!(
            decode_base64(ChecksumAlgorithm::Sha256, "not base64!"),
            Err(AuthError::InvalidChecksumRequest(_))
        ));
    }

    #[test]
    fn request_from_header() {
        let r = parse_checksum_request(&hm(&[("x-amz-checksum-crc32", "i9aeUg==")]))
            .unwrap()
            .unwrap();
        assert_eq!(r.algorithm, ChecksumAlgorithm::Crc32);
        assert_eq!(r.expected.as_deref(), Some(&[0x8b, 0xd6, 0x9e, 0x52][..]));
        assert!(!r.in_trailer);
        // A matching sdk algorithm is fine, in any case.
        let r = parse_checksum_request(&hm(&[
            ("x-amz-checksum-crc32", "i9aeUg=="),
            ("x-amz-sdk-checksum-algorithm", "crc32"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(r.algorithm, ChecksumAlgorithm::Crc32);
    }

    #[test]
    fn request_from_trailer_and_sdk_alone() {
        // aws cli v2 over HTTPS.
        let r = parse_checksum_request(&hm(&[
            ("x-amz-trailer", "x-amz-checksum-crc64nvme"),
            ("x-amz-sdk-checksum-algorithm", "CRC64NVME"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            r,
            ChecksumRequest {
                algorithm: ChecksumAlgorithm::Crc64Nvme,
                expected: None,
                in_trailer: true
            }
        );
        let r = parse_checksum_request(&hm(&[("x-amz-sdk-checksum-algorithm", "SHA256")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            r,
            ChecksumRequest {
                algorithm: ChecksumAlgorithm::Sha256,
                expected: None,
                in_trailer: false
            }
        );
        // Headers that merely share the prefix are not checksums.
        assert_eq!(
            parse_checksum_request(&hm(&[
                ("x-amz-checksum-algorithm", "CRC32"),
                ("x-amz-checksum-type", "FULL_OBJECT"),
                ("x-amz-checksum-mode", "ENABLED"),
                ("x-amz-trailer", "x-amz-meta-foo"),
            ]))
            .unwrap(),
            None
        );
        assert_eq!(parse_checksum_request(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn conflicting_or_bad_requests_are_rejected() {
        let bad: &[&[(&str, &str)]] = &[
            &[
                ("x-amz-checksum-crc32", "i9aeUg=="),
                ("x-amz-checksum-crc32c", "sOO8/Q=="),
            ],
            &[
                ("x-amz-checksum-crc32", "i9aeUg=="),
                ("x-amz-trailer", "x-amz-checksum-crc32"),
            ],
            &[("x-amz-checksum-md5", "AAAAAAAAAAAAAAAAAAAAAA==")],
            &[("x-amz-trailer", "x-amz-checksum-md5")],
            &[("x-amz-trailer", "x-amz-checksum-crc32, x-amz-checksum-sha1")],
            &[("x-amz-sdk-checksum-algorithm", "MD5")],
            &[
                ("x-amz-checksum-crc32", "i9aeUg=="),
                ("x-amz-sdk-checksum-algorithm", "CRC32C"),
            ],
            &[
                ("x-amz-trailer", "x-amz-checksum-crc32"),
                ("x-amz-sdk-checksum-algorithm", "SHA1"),
            ],
            &[("x-amz-checksum-crc32", "i9ae")],
            &[("x-amz-checksum-crc32", "%%%%")],
        ];
        for case in bad {
            assert!(
                matches!(
                    parse_checksum_request(&hm(case)),
                    Err(AuthError::InvalidChecksumRequest(_))
                ),
                "{case:?}"
            );
        }
    }

    #[test]
    fn crcs_combine_into_the_crc_of_the_whole() {
        let pieces: [&[u8]; 4] = [b"", b"hello ", b"", b"wonderful world"];
        let whole: Vec<u8> = pieces.concat();
        for alg in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            let parts: Vec<(Vec<u8>, u64)> = pieces
                .iter()
                .map(|p| (checksum_of(alg, p), p.len() as u64))
                .collect();
            assert_eq!(
                combine_crcs(alg, &parts),
                Some(checksum_of(alg, &whole)),
                "{alg}"
            );
            assert_eq!(combine_crcs(alg, &[]), Some(checksum_of(alg, b"")), "{alg}");
            assert!(combine_crcs(alg, &[(vec![1, 2, 3], 3)]).is_none());
        }
        assert!(combine_crcs(ChecksumAlgorithm::Sha256, &[]).is_none());
        assert!(!ChecksumAlgorithm::Sha1.supports_full_object());
    }

    #[test]
    fn composite_is_the_checksum_of_concatenated_part_checksums() {
        // CRC32 of 00 00 00 00 ff ff ff ff is 0xbb99ff8a (Python's zlib.crc32).
        let parts = vec![vec![0, 0, 0, 0], vec![0xff, 0xff, 0xff, 0xff]];
        let got = composite_of(ChecksumAlgorithm::Crc32, &parts);
        assert_eq!(got, vec![0xbb, 0x99, 0xff, 0x8a]);
    }
}
