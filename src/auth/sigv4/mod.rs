//! AWS Signature Version 4 for S3: parsing the `Authorization` header or the
//! presigned query ([`parse_auth`]), and verifying the signature ([`verify`]).
//!
//! The pure steps live in `canonical.rs` and are public so they can be
//! checked one by one against AWS's published examples: [`uri_encode`],
//! [`canonical_query`], [`canonical_headers`], [`canonical_request`],
//! [`string_to_sign`], [`signing_key`], [`sign`]. Parsing lives in `parse.rs`.
//!
//! S3 specifics: the canonical URI is the path as sent (S3 neither normalizes
//! nor double-encodes); the scope's region must be the gateway's
//! ([`check_region`]); the payload line is the raw `x-amz-content-sha256`
//! value; every `x-amz-*` header must be covered by the signature
//! (`coverage.rs`).

mod canonical;
mod coverage;
mod parse;

use std::fmt;

use http::request::Parts;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::auth::{AuthError, SecretKey};
use crate::http::Query;

pub use crate::auth::sigv4::canonical::{
    canonical_headers, canonical_query, canonical_query_of, canonical_request, hmac_sha256,
    reencoded_path, scope, sign, signing_key, string_to_sign, uri_encode,
};
pub(crate) use crate::auth::sigv4::coverage::hoist_params;
pub use crate::auth::sigv4::coverage::{check_signed_headers, hoist_query_headers};

pub(crate) use crate::auth::sigv4::parse::is_presigned;
pub use crate::auth::sigv4::parse::{format_amz_date, parse_amz_date, parse_auth};

/// The only SigV4 algorithm S3 accepts (SigV4a is not supported).
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Payload hash line of unsigned bodies.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// `x-amz-content-sha256` of signed aws-chunked bodies.
pub(crate) const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

/// `x-amz-content-sha256` of signed aws-chunked bodies with a signed trailer.
pub(crate) const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";

/// `x-amz-content-sha256` of unsigned aws-chunked bodies with a trailer.
pub(crate) const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// Hex SHA-256 of the empty string.
pub(crate) const EMPTY_SHA256_HEX: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Allowed clock difference for header auth, and for presigned dates in the future.
pub(crate) const MAX_SKEW: Duration = Duration::minutes(15);

/// Longest presigned validity (7 days).
pub const MAX_PRESIGN_EXPIRES: u64 = 604_800;

/// What `x-amz-content-sha256` says about the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadMode {
    /// A hex SHA-256 of the whole body, to be checked at its end.
    Signed([u8; 32]),
    /// `UNSIGNED-PAYLOAD` (or no header).
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: aws-chunked with chunk signatures.
    StreamingSigned {
        /// A signed trailer follows the last chunk.
        trailer: bool,
    },
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked, no signatures, trailer.
    StreamingUnsignedTrailer,
}

impl PayloadMode {
    /// Parses an `x-amz-content-sha256` value.
    pub(crate) fn from_header_value(value: &str) -> Result<Self, AuthError> {
        match value {
            UNSIGNED_PAYLOAD => Ok(Self::Unsigned),
            STREAMING_SIGNED => Ok(Self::StreamingSigned { trailer: false }),
            STREAMING_SIGNED_TRAILER => Ok(Self::StreamingSigned { trailer: true }),
            STREAMING_UNSIGNED_TRAILER => Ok(Self::StreamingUnsignedTrailer),
            hex_digest => {
                let mut digest = [0u8; 32];
                hex::decode_to_slice(hex_digest, &mut digest)
                    .map_err(|_| AuthError::InvalidContentSha256)?;
                Ok(Self::Signed(digest))
            }
        }
    }

    /// Reads `x-amz-content-sha256`; a missing header means `Unsigned`.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, AuthError> {
        match headers.get("x-amz-content-sha256") {
            None => Ok(Self::Unsigned),
            Some(v) => {
                Self::from_header_value(v.to_str().map_err(|_| AuthError::InvalidContentSha256)?)
            }
        }
    }

    /// The body is aws-chunked.
    pub fn is_streaming(&self) -> bool {
        matches!(
            self,
            Self::StreamingSigned { .. } | Self::StreamingUnsignedTrailer
        )
    }
}

/// How the request was signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: AWS4-HMAC-SHA256 ...`
    Header,
    /// `X-Amz-Signature` and friends in the query string.
    Presigned {
        /// `X-Amz-Expires`, 1..=604800.
        expires_secs: u64,
    },
}

/// The signature claims of a request, parsed but not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthRequest {
    /// Access key id from the credential scope.
    pub access_key: String,
    /// Request time (`x-amz-date`, `Date` or `X-Amz-Date`).
    pub date: OffsetDateTime,
    /// `YYYYMMDD` of the credential scope.
    pub scope_date: String,
    /// Region of the credential scope (checked by [`check_region`]).
    pub region: String,
    /// Lowercase signed header names, in the order given.
    pub signed_headers: Vec<String>,
    /// Lowercase hex signature.
    pub signature: String,
    /// Header or presigned.
    pub kind: AuthKind,
    /// What the body is.
    pub payload: PayloadMode,
}

/// A verified request: who signed it and how to read its body.
#[derive(Clone, Debug)]
pub struct VerifiedAuth {
    /// The access key whose secret produced the signature.
    pub access_key: String,
    /// What the body is.
    pub payload: PayloadMode,
    /// For `StreamingSigned` bodies: checks chunk and trailer signatures.
    pub chunk_signer: Option<ChunkSigner>,
}

/// Signs aws-chunked chunks and trailers, chained from a seed signature.
#[derive(Clone)]
pub struct ChunkSigner {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    seed_signature: String,
}

impl fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("key", &"***")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .field("seed_signature", &self.seed_signature)
            .finish()
    }
}

impl ChunkSigner {
    /// `key` is the request's signing key, `scope` is `date/region/s3/aws4_request`.
    pub fn new(key: [u8; 32], amz_date: String, scope: String, seed_signature: String) -> Self {
        Self {
            key,
            amz_date,
            scope,
            seed_signature,
        }
    }

    /// The request (seed) signature, which the first chunk chains from.
    pub fn seed_signature(&self) -> &str {
        &self.seed_signature
    }

    /// String to sign of a chunk whose data hashes to `chunk_sha256`.
    pub(crate) fn chunk_string_to_sign(&self, previous: &str, chunk_sha256: &[u8; 32]) -> String {
        format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            previous,
            EMPTY_SHA256_HEX,
            hex::encode(chunk_sha256)
        )
    }

    /// Hex signature of a chunk, chained from `previous`.
    pub fn chunk_signature(&self, previous: &str, chunk_sha256: &[u8; 32]) -> String {
        sign(
            &self.key,
            &self.chunk_string_to_sign(previous, chunk_sha256),
        )
    }

    /// Hex signature of the trailer; `trailer` is its canonical form, every
    /// trailer header except the signature as `name:value\n`.
    pub fn trailer_signature(&self, previous: &str, trailer: &[u8]) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            previous,
            hex::encode(Sha256::digest(trailer))
        );
        sign(&self.key, &sts)
    }
}

/// Compares a computed hex signature with a received one in constant time.
pub(crate) fn signature_eq(computed: &str, received: &str) -> bool {
    computed.as_bytes().ct_eq(received.as_bytes()).into()
}

fn check_time(req: &AuthRequest, now: OffsetDateTime) -> Result<(), AuthError> {
    match req.kind {
        AuthKind::Header => {
            if (now - req.date).abs() > MAX_SKEW {
                return Err(AuthError::RequestTimeTooSkewed);
            }
        }
        AuthKind::Presigned { expires_secs } => {
            if now
                .checked_add(MAX_SKEW)
                .is_some_and(|limit| req.date > limit)
            {
                return Err(AuthError::NotYetValid);
            }
            // expires_secs <= 604800, so the cast cannot wrap; an end past the
            // calendar's range never comes.
            let lifetime = Duration::seconds(i64::try_from(expires_secs).unwrap_or(i64::MAX));
            if req.date.checked_add(lifetime).is_some_and(|end| now > end) {
                return Err(AuthError::Expired);
            }
        }
    }
    Ok(())
}

/// Refuses a credential scope whose region is not `expected`, the
/// gateway's, as S3 does (the answer names the expected region, so a client
/// such as s3cmd can sign again for it). `GetBucketLocation` is also
/// accepted under `us-east-1`: s3cmd asks for a bucket's region that way
/// before it knows it, as it does against AWS, where that request works
/// from any region.
pub fn check_region(
    req: &AuthRequest,
    expected: &str,
    location_request: bool,
) -> Result<(), AuthError> {
    if req.region == expected || (location_request && req.region == "us-east-1") {
        return Ok(());
    }
    Err(AuthError::WrongRegion {
        region: req.region.clone(),
        expected: expected.to_string(),
        presigned: matches!(req.kind, AuthKind::Presigned { .. }),
    })
}

/// The payload hash lines to try, most likely first.
fn payload_lines(req: &AuthRequest, parts: &Parts, query: &Query) -> Vec<String> {
    let header = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match req.kind {
        AuthKind::Header => vec![header.unwrap_or_else(|| UNSIGNED_PAYLOAD.to_string())],
        AuthKind::Presigned { .. } => {
            let query = query
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("X-Amz-Content-Sha256"))
                .map(|(_, v)| v.to_string());
            match (header, query) {
                // A client may add the header to a URL presigned without it.
                (Some(h), _)
                    if !req
                        .signed_headers
                        .iter()
                        .any(|n| n == "x-amz-content-sha256") =>
                {
                    vec![h, UNSIGNED_PAYLOAD.to_string()]
                }
                (Some(h), _) => vec![h],
                (None, Some(q)) => vec![q],
                (None, None) => vec![UNSIGNED_PAYLOAD.to_string()],
            }
        }
    }
}

/// Checks the time window, that the signature covers every `x-amz-*`
/// header, and the signature of a parsed request. `query` is the request's
/// decoded query string, as the router read it.
///
/// The canonical URI is first the raw path as sent; if that does not match,
/// the path percent-decoded and UriEncoded again. Either match is accepted.
pub fn verify(
    req: &AuthRequest,
    parts: &Parts,
    query: &Query,
    secret: &SecretKey,
    now: OffsetDateTime,
) -> Result<VerifiedAuth, AuthError> {
    check_time(req, now)?;
    check_signed_headers(req, parts, query)?;
    let amz_date = format_amz_date(req.date);
    let scope = scope(&req.scope_date, &req.region);
    let key = signing_key(secret, &req.scope_date, &req.region);
    let payloads = payload_lines(req, parts, query);
    let query = canonical_query_of(query);
    let headers = canonical_headers(parts, &req.signed_headers);
    let signed = req.signed_headers.join(";");
    let raw_path = match parts.uri.path() {
        "" => "/",
        p => p,
    };
    let reencoded = reencoded_path(raw_path);
    let mut paths = vec![raw_path];
    if reencoded != raw_path {
        paths.push(&reencoded);
    }
    let mut matched = false;
    for path in &paths {
        for payload in &payloads {
            let creq = canonical_request(
                parts.method.as_str(),
                path,
                &query,
                &headers,
                &signed,
                payload,
            );
            let computed = sign(&key, &string_to_sign(&amz_date, &scope, &creq));
            if signature_eq(&computed, &req.signature) {
                matched = true;
            }
        }
    }
    if !matched {
        tracing::debug!(
            access_key = %req.access_key,
            method = %parts.method,
            path = raw_path,
            signed_headers = %signed,
            "SigV4 signature mismatch"
        );
        return Err(AuthError::SignatureDoesNotMatch);
    }
    let chunk_signer = match req.payload {
        PayloadMode::StreamingSigned { .. } => Some(ChunkSigner::new(
            key,
            amz_date,
            scope,
            req.signature.clone(),
        )),
        _ => None,
    };
    Ok(VerifiedAuth {
        access_key: req.access_key.clone(),
        payload: req.payload,
        chunk_signer,
    })
}

/// [`parse_auth`] and [`verify`] with the query decoded from the request's
/// URI, as the router decodes it, for tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub(crate) fn query_of(p: &Parts) -> Query {
        Query::parse(p.uri.query()).expect("UTF-8 query")
    }

    pub fn parse_auth(p: &Parts) -> Result<Option<AuthRequest>, AuthError> {
        super::parse_auth(p, &query_of(p))
    }

    pub fn verify(
        req: &AuthRequest,
        p: &Parts,
        secret: &SecretKey,
        now: OffsetDateTime,
    ) -> Result<VerifiedAuth, AuthError> {
        super::verify(req, p, &query_of(p), secret, now)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{parse_auth, verify};
    use super::*;
    use time::macros::datetime;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const NOW: OffsetDateTime = datetime!(2013-05-24 00:00:00 UTC);

    use crate::auth::test_support::parts;

    fn auth(signed: &str, sig: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders={signed}, Signature={sig}"
        )
    }

    /// Signs `p` with our own signer and adds the Authorization header.
    fn self_signed(mut p: Parts, signed: &str) -> Parts {
        let names: Vec<String> = signed.split(';').map(String::from).collect();
        let payload = p
            .headers
            .get("x-amz-content-sha256")
            .map_or(UNSIGNED_PAYLOAD, |v| v.to_str().unwrap());
        let creq = canonical_request(
            p.method.as_str(),
            p.uri.path(),
            &canonical_query(p.uri.query().unwrap_or("")),
            &canonical_headers(&p, &names),
            signed,
            payload,
        );
        let key = signing_key(&SecretKey::new(SECRET.into()), "20130524", "us-east-1");
        let sig = sign(
            &key,
            &string_to_sign(
                "20130524T000000Z",
                "20130524/us-east-1/s3/aws4_request",
                &creq,
            ),
        );
        p.headers
            .insert("authorization", auth(signed, &sig).parse().unwrap());
        p
    }

    fn simple_get() -> Parts {
        parts(
            "GET",
            "/bucket/key",
            &[
                ("host", "localhost:9000"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", EMPTY_SHA256_HEX),
            ],
        )
    }

    fn check(p: &Parts, now: OffsetDateTime) -> Result<VerifiedAuth, AuthError> {
        let req = parse_auth(p)?.expect("authenticated");
        verify(&req, p, &SecretKey::new(SECRET.into()), now)
    }
    #[test]
    fn self_signed_round_trip_and_tampering() {
        let p = self_signed(simple_get(), "host;x-amz-content-sha256;x-amz-date");
        let v = check(&p, NOW).unwrap();
        assert_eq!(v.access_key, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(
            v.payload,
            PayloadMode::Signed(hex::decode(EMPTY_SHA256_HEX).unwrap().try_into().unwrap())
        );
        assert!(v.chunk_signer.is_none());

        let req = parse_auth(&p).unwrap().unwrap();
        let wrong = SecretKey::new("wrong".into());
        assert!(matches!(
            verify(&req, &p, &wrong, NOW),
            Err(AuthError::SignatureDoesNotMatch)
        ));

        let mut tampered = p;
        tampered
            .headers
            .insert("host", "other:9000".parse().unwrap());
        assert!(matches!(
            check(&tampered, NOW),
            Err(AuthError::SignatureDoesNotMatch)
        ));
    }

    #[test]
    fn raw_path_is_not_normalized() {
        for path in ["/bucket//a/./b/../c", "/bucket/a%2Fb", "/bucket/%7Euser"] {
            let mut p = simple_get();
            p.uri = path.parse().unwrap();
            let p = self_signed(p, "host;x-amz-date");
            check(&p, NOW).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let end_of_time = datetime!(9999-12-31 23:59:59 UTC);
        let mut req = parse_auth(&self_signed(simple_get(), "host;x-amz-date"))
            .unwrap()
            .unwrap();
        req.date = end_of_time;
        req.kind = AuthKind::Presigned {
            expires_secs: MAX_PRESIGN_EXPIRES,
        };
        assert!(matches!(check_time(&req, NOW), Err(AuthError::NotYetValid)));
        check_time(&req, end_of_time).unwrap();
        req.kind = AuthKind::Header;
        assert!(matches!(
            check_time(&req, NOW),
            Err(AuthError::RequestTimeTooSkewed)
        ));
        assert_eq!(format_amz_date(end_of_time), "99991231T235959Z");
        assert_eq!(parse_amz_date("99991231T235959Z"), Some(end_of_time));
    }

    #[test]
    fn header_auth_skew() {
        let p = self_signed(simple_get(), "host;x-amz-date");
        for secs in [-900, 0, 900] {
            check(&p, NOW + Duration::seconds(secs)).unwrap();
        }
        for secs in [-901, 901, 86_400] {
            assert!(matches!(
                check(&p, NOW + Duration::seconds(secs)),
                Err(AuthError::RequestTimeTooSkewed)
            ));
        }
    }

    #[test]
    fn date_header_is_used_without_x_amz_date() {
        let p = parts(
            "GET",
            "/b/k",
            &[
                ("host", "h"),
                ("date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-content-sha256", UNSIGNED_PAYLOAD),
            ],
        );
        let p = self_signed(p, "date;host");
        let req = parse_auth(&p).unwrap().unwrap();
        assert_eq!(req.date, NOW);
        assert_eq!(req.payload, PayloadMode::Unsigned);
        check(&p, NOW).unwrap();
    }
    #[test]
    fn streaming_signed_gets_a_chunk_signer() {
        let mut p = simple_get();
        p.headers
            .insert("x-amz-content-sha256", STREAMING_SIGNED.parse().unwrap());
        p.headers
            .insert("x-amz-decoded-content-length", "0".parse().unwrap());
        let p = self_signed(
            p,
            "host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length",
        );
        let v = check(&p, NOW).unwrap();
        let signer = v.chunk_signer.expect("signer");
        let req = parse_auth(&p).unwrap().unwrap();
        assert_eq!(signer.seed_signature(), req.signature);
        assert!(!format!("{signer:?}").contains(&hex::encode(signing_key(
            &SecretKey::new(SECRET.into()),
            "20130524",
            "us-east-1"
        ))));
    }
}
