//! Whole-body digests and the final integrity verdict.
//!
//! [`BodyDigest`] is fed the decoded body as it streams and, at the end,
//! compares what it computed with what the client claimed: the SHA-256 of
//! `x-amz-content-sha256`, `Content-MD5`, and the flexible checksum (from a
//! header or the aws-chunked trailer). The MD5 is always computed: it is the
//! ETag of a single-part object.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::HeaderMap;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::checksum::{ChecksumRequest, Checksummer};
use crate::auth::AuthError;
use crate::md5_lanes::Md5;
use crate::types::ChecksumAlgorithm;

/// What the body must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectations {
    /// From `x-amz-content-sha256` when it is a hex digest (`PayloadMode::Signed`).
    pub sha256: Option<[u8; 32]>,
    /// From `Content-MD5`.
    pub content_md5: Option<[u8; 16]>,
    /// From [`crate::auth::parse_checksum_request`].
    pub checksum: Option<ChecksumRequest>,
}

/// What was computed over a body that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestSummary {
    /// MD5 of the body (the single-part ETag).
    pub md5: [u8; 16],
    /// Body length in bytes.
    pub length: u64,
    /// The requested checksum, computed (and verified when a value was sent).
    pub checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
}

/// Streaming digests of a request body. `Send`, so it can move into
/// `spawn_blocking`.
pub struct BodyDigest {
    expect: Expectations,
    md5: Md5,
    sha256: Option<Sha256>,
    checksum: Option<Checksummer>,
    length: u64,
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

impl BodyDigest {
    /// Starts digesting; SHA-256 and the checksum are computed only when expected.
    pub(crate) fn new(expect: Expectations) -> Self {
        Self {
            md5: Md5::new(),
            sha256: expect.sha256.map(|_| Sha256::new()),
            checksum: expect
                .checksum
                .as_ref()
                .map(|c| Checksummer::new(c.algorithm)),
            length: 0,
            expect,
        }
    }

    /// Feeds the next piece of the decoded body.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(c) = &mut self.checksum {
            c.update(data);
        }
        self.length += data.len() as u64;
    }

    /// Feeds a shared piece: a large one's MD5 is computed by the hashing
    /// lanes while this thread computes SHA-256 and the checksum.
    pub(crate) fn update_bytes(&mut self, data: &Bytes) {
        let md5 = self.md5.start(data);
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(c) = &mut self.checksum {
            c.update(data);
        }
        self.length += data.len() as u64;
        if let Some(piece) = md5 {
            self.md5.finish(piece);
        }
    }

    /// Bytes seen so far.
    #[cfg(test)]
    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    /// The verdict. `trailer` is [`crate::auth::DecodedBody::trailer_checksum`].
    ///
    /// Checked in order: SHA-256 (`ContentSha256Mismatch`), Content-MD5
    /// (`BadDigest`), checksum (`ChecksumMismatch`). A checksum announced in
    /// `x-amz-trailer` but absent, a trailer checksum nobody announced, or one
    /// of another algorithm is `InvalidChecksumRequest`.
    pub(crate) fn finish(
        self,
        trailer: Option<(ChecksumAlgorithm, Vec<u8>)>,
    ) -> Result<DigestSummary, AuthError> {
        let md5 = self.md5.finalize();
        if let (Some(expected), Some(hasher)) = (self.expect.sha256, self.sha256) {
            let actual: [u8; 32] = hasher.finalize().into();
            if !same(&actual, &expected) {
                return Err(AuthError::ContentSha256Mismatch);
            }
        }
        if let Some(expected) = self.expect.content_md5 {
            if !same(&md5, &expected) {
                return Err(AuthError::BadDigest);
            }
        }
        let checksum = match (self.expect.checksum, self.checksum) {
            (Some(request), Some(checksummer)) => {
                let actual = checksummer.finalize();
                let expected = if request.in_trailer {
                    match trailer {
                        Some((alg, value)) if alg == request.algorithm => Some(value),
                        Some((alg, _)) => {
                            return Err(AuthError::InvalidChecksumRequest(format!(
                                "trailer carries {alg}, x-amz-trailer announced {}",
                                request.algorithm
                            )))
                        }
                        None => {
                            return Err(AuthError::InvalidChecksumRequest(format!(
                                "{} announced in x-amz-trailer but not sent",
                                request.algorithm.header_name()
                            )))
                        }
                    }
                } else {
                    if trailer.is_some() {
                        return Err(AuthError::InvalidChecksumRequest(
                            "trailer checksum not announced in x-amz-trailer".into(),
                        ));
                    }
                    request.expected
                };
                if let Some(expected) = expected {
                    if !same(&actual, &expected) {
                        return Err(AuthError::ChecksumMismatch(request.algorithm));
                    }
                }
                Some((request.algorithm, actual))
            }
            _ => {
                if trailer.is_some() {
                    return Err(AuthError::InvalidChecksumRequest(
                        "trailer checksum not announced in x-amz-trailer".into(),
                    ));
                }
                None
            }
        };
        Ok(DigestSummary {
            md5,
            length: self.length,
            checksum,
        })
    }
}

/// Reads `Content-MD5` (base64 of 16 bytes); anything else is `InvalidDigest`.
pub fn parse_content_md5(headers: &HeaderMap) -> Result<Option<[u8; 16]>, AuthError> {
    let Some(value) = headers.get("content-md5") else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| AuthError::InvalidDigest)?;
    let raw = STANDARD
        .decode(text.trim())
        .map_err(|_| AuthError::InvalidDigest)?;
    raw.try_into()
        .map(Some)
        .map_err(|_| AuthError::InvalidDigest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::checksum::checksum_of;

    const BODY: &[u8] = b"Welcome to Amazon S3.";

    fn sha(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    /// The reference implementation (the md-5 crate), not ours.
    fn md5(data: &[u8]) -> [u8; 16] {
        ::md5::Md5::digest(data).into()
    }

    fn run(
        expect: Expectations,
        body: &[u8],
        trailer: Option<(ChecksumAlgorithm, Vec<u8>)>,
    ) -> Result<DigestSummary, AuthError> {
        let mut d = BodyDigest::new(expect);
        for piece in body.chunks(4) {
            d.update(piece);
        }
        assert_eq!(d.length(), body.len() as u64);
        d.finish(trailer)
    }

    fn req(
        algorithm: ChecksumAlgorithm,
        expected: Option<Vec<u8>>,
        in_trailer: bool,
    ) -> Option<ChecksumRequest> {
        Some(ChecksumRequest {
            algorithm,
            expected,
            in_trailer,
        })
    }

    #[test]
    fn is_send() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<BodyDigest>();
    }

    /// Large shared pieces (MD5 through the hashing lanes, SHA-256 and the
    /// checksum beside it) give the verdict byte-wise feeding gives.
    #[test]
    fn shared_pieces_give_the_same_verdict() {
        let body: Vec<u8> = (0..3 * 1024 * 1024 + 11)
            .map(|i| (i * 7 + i / 251) as u8)
            .collect();
        let crc = crate::auth::checksum::checksum_of(ChecksumAlgorithm::Crc32, &body);
        let expect = Expectations {
            sha256: Some(sha(&body)),
            content_md5: Some(md5(&body)),
            checksum: req(ChecksumAlgorithm::Crc32, Some(crc.clone()), false),
        };
        let mut d = BodyDigest::new(expect.clone());
        d.update(&body[..5]);
        for piece in body[5..].chunks(1024 * 1024) {
            d.update_bytes(&Bytes::copy_from_slice(piece));
        }
        let s = d.finish(None).unwrap();
        assert_eq!(s.md5, md5(&body));
        assert_eq!(s.length, body.len() as u64);
        assert_eq!(s.checksum, Some((ChecksumAlgorithm::Crc32, crc)));
        // One flipped byte fails the SHA-256 first.
        let mut bad = body.clone();
        bad[2 * 1024 * 1024] ^= 1;
        let mut d = BodyDigest::new(expect);
        d.update_bytes(&Bytes::from(bad));
        assert!(matches!(
            d.finish(None),
            Err(AuthError::ContentSha256Mismatch)
        ));
    }

    #[test]
    fn md5_and_length_always() {
        let s = run(Expectations::default(), BODY, None).unwrap();
        assert_eq!(s.md5, md5(BODY));
        assert_eq!(s.length, BODY.len() as u64);
        assert_eq!(s.checksum, None);
        // The AWS PUT example's payload hash.
        assert_eq!(
            hex::encode(sha(BODY)),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        assert_eq!(
            hex::encode(run(Expectations::default(), b"", None).unwrap().md5),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }

    #[test]
    fn sha256_verdict() {
        let ok = Expectations {
            sha256: Some(sha(BODY)),
            ..Default::default()
        };
        run(ok.clone(), BODY, None).unwrap();
        assert!(matches!(
            run(ok, b"Welcome to Amazon S4.", None),
            Err(AuthError::ContentSha256Mismatch)
        ));
    }

    #[test]
    fn content_md5_verdict() {
        let ok = Expectations {
            content_md5: Some(md5(BODY)),
            ..Default::default()
        };
        run(ok.clone(), BODY, None).unwrap();
        assert!(matches!(
            run(ok, &BODY[1..], None),
            Err(AuthError::BadDigest)
        ));
        // SHA-256 is checked first.
        let both = Expectations {
            sha256: Some([0; 32]),
            content_md5: Some([0; 16]),
            checksum: None,
        };
        assert!(matches!(
            run(both, BODY, None),
            Err(AuthError::ContentSha256Mismatch)
        ));
    }

    #[test]
    fn header_checksum_verdict() {
        for alg in ChecksumAlgorithm::ALL {
            let good = checksum_of(alg, BODY);
            let e = Expectations {
                checksum: req(alg, Some(good.clone()), false),
                ..Default::default()
            };
            assert_eq!(
                run(e.clone(), BODY, None).unwrap().checksum,
                Some((alg, good))
            );
            assert!(
                matches!(run(e, b"other", None), Err(AuthError::ChecksumMismatch(a)) if a == alg)
            );
        }
        // Algorithm only (x-amz-sdk-checksum-algorithm): computed, nothing to compare.
        let e = Expectations {
            checksum: req(ChecksumAlgorithm::Crc32c, None, false),
            ..Default::default()
        };
        let s = run(e, BODY, None).unwrap();
        assert_eq!(
            s.checksum,
            Some((
                ChecksumAlgorithm::Crc32c,
                checksum_of(ChecksumAlgorithm::Crc32c, BODY)
            ))
        );
    }

    #[test]
    fn trailer_checksum_verdict() {
        let alg = ChecksumAlgorithm::Crc64Nvme;
        let good = checksum_of(alg, BODY);
        let e = Expectations {
            checksum: req(alg, None, true),
            ..Default::default()
        };
        assert_eq!(
            run(e.clone(), BODY, Some((alg, good.clone())))
                .unwrap()
                .checksum,
            Some((alg, good.clone()))
        );
        assert!(
            matches!(run(e.clone(), BODY, Some((alg, vec![0; 8]))), Err(AuthError::ChecksumMismatch(a)) if a == alg)
        );
        assert!(matches!(
            run(e.clone(), BODY, None),
            Err(AuthError::InvalidChecksumRequest(_))
        ));
        assert!(matches!(
            run(
                e,
                BODY,
                Some((
                    ChecksumAlgorithm::Crc32,
                    checksum_of(ChecksumAlgorithm::Crc32, BODY)
                ))
            ),
            Err(AuthError::InvalidChecksumRequest(_))
        ));
        // A trailer nobody announced.
        let t = Some((
            ChecksumAlgorithm::Crc32,
            checksum_of(ChecksumAlgorithm::Crc32, BODY),
        ));
        assert!(matches!(
            run(Expectations::default(), BODY, t.clone()),
            Err(AuthError::InvalidChecksumRequest(_))
        ));
        let header = Expectations {
            checksum: req(ChecksumAlgorithm::Crc32, t.clone().map(|t| t.1), false),
            ..Default::default()
        };
        assert!(matches!(
            run(header, BODY, t),
            Err(AuthError::InvalidChecksumRequest(_))
        ));
    }

    #[test]
    fn content_md5_header() {
        let mut h = HeaderMap::new();
        assert_eq!(parse_content_md5(&h).unwrap(), None);
        h.insert("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==".parse().unwrap());
        assert_eq!(parse_content_md5(&h).unwrap(), Some(md5(b"")));
        for bad in ["1B2M2Y8AsgTpgAmY7PhC", "not base64!", "", "AAAA"] {
            h.insert("content-md5", bad.parse().unwrap());
            assert!(
                matches!(parse_content_md5(&h), Err(AuthError::InvalidDigest)),
                "{bad}"
            );
        }
    }
}
