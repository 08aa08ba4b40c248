//! The S3 error of each authentication failure. It lives with `auth`, not
//! in `crate::error`, so that the error type stays below the layers that
//! produce errors (`scripts/check-arrows.py`).

use std::borrow::Cow;

use crate::auth::AuthError;
use crate::error::{default_message, BodyRefusal, ErrorDetail, S3Error, S3ErrorCode};

impl From<AuthError> for S3Error {
    fn from(e: AuthError) -> Self {
        use S3ErrorCode as C;
        let detail = match &e {
            AuthError::HeadersNotSigned(names) => {
                Some(ErrorDetail::HeadersNotSigned(names.join(", ")))
            }
            AuthError::WrongRegion { expected, .. } => Some(ErrorDetail::Region(expected.clone())),
            _ => None,
        };
        let (code, message): (C, Cow<'static, str>) = match &e {
            AuthError::MalformedAuthorization(m) => (C::AuthorizationHeaderMalformed, m.clone().into()),
            AuthError::UnsupportedAuthorizationType => (C::InvalidArgument, "Unsupported Authorization Type".into()),
            AuthError::MultipleAuthMechanisms => (
                C::InvalidArgument,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified".into(),
            ),
            AuthError::UnsupportedSignatureVersion => (
                C::InvalidRequest,
                "Please use AWS4-HMAC-SHA256 (Signature Version 4).".into(),
            ),
            AuthError::MalformedV2Authorization => (
                C::InvalidArgument,
                "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature".into(),
            ),
            AuthError::IncompleteV2Query => (
                C::AccessDenied,
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters".into(),
            ),
            AuthError::InvalidV2Expires(v) => (
                C::AccessDenied,
                format!("Invalid date (should be seconds since epoch): {v}").into(),
            ),
            AuthError::StreamingWithV2 => (
                C::InvalidRequest,
                "aws-chunked request bodies need AWS4-HMAC-SHA256 (Signature Version 4).".into(),
            ),
            AuthError::MissingDate => (
                C::AccessDenied,
                "AWS authentication requires a valid Date or x-amz-date header".into(),
            ),
            AuthError::InvalidAccessKeyId => (C::InvalidAccessKeyId, default_message(C::InvalidAccessKeyId).into()),
            AuthError::SignatureDoesNotMatch => (C::SignatureDoesNotMatch, default_message(C::SignatureDoesNotMatch).into()),
            AuthError::RequestTimeTooSkewed => (C::RequestTimeTooSkewed, default_message(C::RequestTimeTooSkewed).into()),
            AuthError::Expired => (C::AccessDenied, "Request has expired".into()),
            AuthError::NotYetValid => (C::AccessDenied, "Request is not valid yet".into()),
            AuthError::InvalidPresign(m) => (C::AuthorizationQueryParametersError, m.clone().into()),
            AuthError::HeadersNotSigned(_) => (
                C::AccessDenied,
                "There were headers present in the request which were not signed".into(),
            ),
            AuthError::WrongRegion { region, expected, presigned: false } => (
                C::AuthorizationHeaderMalformed,
                format!("The authorization header is malformed; the region '{region}' is wrong; expecting '{expected}'").into(),
            ),
            AuthError::WrongRegion { region, expected, presigned: true } => (
                C::AuthorizationQueryParametersError,
                format!("Error parsing the X-Amz-Credential parameter; the region '{region}' is wrong; expecting '{expected}'").into(),
            ),
            AuthError::MissingContentSha256 => (
                C::InvalidRequest,
                "Missing required header for this request: x-amz-content-sha256".into(),
            ),
            AuthError::MissingDecodedLength => (C::MissingContentLength, default_message(C::MissingContentLength).into()),
            AuthError::InvalidContentSha256 => (
                C::InvalidArgument,
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value, or a valid sha256 value.".into(),
            ),
            AuthError::ContentSha256Mismatch => (C::XAmzContentSHA256Mismatch, default_message(C::XAmzContentSHA256Mismatch).into()),
            AuthError::ChunkSignatureMismatch => (C::SignatureDoesNotMatch, "The chunk signature does not match.".into()),
            AuthError::MalformedChunk(m) => (C::InvalidRequest, format!("Malformed aws-chunked body: {m}").into()),
            AuthError::IncompleteBody => (C::IncompleteBody, default_message(C::IncompleteBody).into()),
            AuthError::BadDigest => (C::BadDigest, "The Content-MD5 you specified did not match what we received.".into()),
            AuthError::InvalidDigest => (C::InvalidDigest, default_message(C::InvalidDigest).into()),
            AuthError::ChecksumMismatch(alg) => (
                C::BadDigest,
                format!("The {} you specified did not match the calculated checksum.", alg.as_str()).into(),
            ),
            AuthError::InvalidChecksumRequest(m) => (C::InvalidRequest, m.clone().into()),
            AuthError::BodyRead(io) => {
                match io.get_ref().and_then(|e| e.downcast_ref::<BodyRefusal>()) {
                    Some(r) => (r.code, r.message.into()),
                    None if io.kind() == std::io::ErrorKind::TimedOut => {
                        (C::RequestTimeout, default_message(C::RequestTimeout).into())
                    }
                    None => (C::IncompleteBody, default_message(C::IncompleteBody).into()),
                }
            }
        };
        let mut err = S3Error::new(code, message);
        err.detail = detail;
        err.with_source(e)
    }
}
