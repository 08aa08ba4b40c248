//! The one error vocabulary on the wire: a closed set of S3 error codes,
//! and exhaustive mappings from the lower layers' errors.

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;

use crate::storage::StorageError;

macro_rules! s3_error_codes {
    ($($name:ident => $status:literal),* $(,)?) => {
        /// Every S3 error code s3gw answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum S3ErrorCode { $($name),* }

        impl S3ErrorCode {
            #[cfg(test)]
            pub(crate) const ALL: &'static [S3ErrorCode] = &[$(S3ErrorCode::$name),*];

            pub(crate) fn as_str(self) -> &'static str {
                match self { $(S3ErrorCode::$name => stringify!($name)),* }
            }

            pub(crate) fn status(self) -> StatusCode {
                let code = match self { $(S3ErrorCode::$name => $status),* };
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    };
}

s3_error_codes! {
    AccessDenied => 403,
    AccessForbidden => 403,
    AuthorizationHeaderMalformed => 400,
    AuthorizationQueryParametersError => 400,
    BadDigest => 400,
    BadRequest => 400,
    BucketAlreadyExists => 409,
    BucketAlreadyOwnedByYou => 409,
    BucketNotEmpty => 409,
    EntityTooLarge => 400,
    EntityTooSmall => 400,
    IllegalLocationConstraintException => 400,
    IncompleteBody => 400,
    InternalError => 500,
    InvalidAccessKeyId => 403,
    InvalidArgument => 400,
    InvalidBucketName => 400,
    InvalidDigest => 400,
    InvalidPolicyDocument => 400,
    InvalidPart => 400,
    InvalidPartNumber => 416,
    InvalidPartOrder => 400,
    InvalidRange => 416,
    InvalidRequest => 400,
    InvalidStorageClass => 400,
    InvalidTag => 400,
    InvalidURI => 400,
    KeyTooLongError => 400,
    MalformedPolicy => 400,
    MalformedPOSTRequest => 400,
    MalformedXML => 400,
    MaxMessageLengthExceeded => 400,
    MetadataTooLarge => 400,
    PolicyTooLarge => 400,
    MethodNotAllowed => 405,
    MissingContentLength => 411,
    MissingRequestBodyError => 400,
    NoSuchBucket => 404,
    NoSuchBucketPolicy => 404,
    NoSuchCORSConfiguration => 404,
    NoSuchConfiguration => 404,
    NoSuchKey => 404,
    NoSuchLifecycleConfiguration => 404,
    NoSuchPublicAccessBlockConfiguration => 404,
    NoSuchTagSet => 404,
    NoSuchUpload => 404,
    NoSuchVersion => 404,
    NoSuchWebsiteConfiguration => 404,
    NotImplemented => 501,
    NotModified => 304,
    ObjectLockConfigurationNotFoundError => 404,
    OwnershipControlsNotFoundError => 404,
    PreconditionFailed => 412,
    ReplicationConfigurationNotFoundError => 404,
    RequestTimeTooSkewed => 403,
    RequestTimeout => 400,
    ServerSideEncryptionConfigurationNotFoundError => 404,
    ServiceUnavailable => 503,
    SignatureDoesNotMatch => 403,
    XAmzContentSHA256Mismatch => 400,
}

/// An S3 error: what the client is told, plus a `source` that is logged and
/// never sent.
#[derive(Debug)]
pub struct S3Error {
    pub code: S3ErrorCode,
    pub message: Cow<'static, str>,
    /// An element S3 adds to this error's body, beside the message.
    pub detail: Option<ErrorDetail>,
    /// What went wrong underneath, with its own chain of causes.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The extra element of some S3 errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorDetail {
    /// `<HeadersNotSigned>`: the `x-amz-*` headers the signature left out,
    /// comma-separated.
    HeadersNotSigned(String),
    /// `<Region>`: the region the gateway expects in the credential scope.
    Region(String),
    /// The version addressed is, or the key's current version is, a delete
    /// marker: the answer says so in headers (`x-amz-delete-marker`,
    /// `x-amz-version-id`, `Last-Modified`).
    DeleteMarker {
        version_id: String,
        last_modified_ms: i64,
    },
}

impl S3Error {
    pub(crate) fn new(code: S3ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        S3Error {
            code,
            message: message.into(),
            detail: None,
            source: None,
        }
    }

    /// The code with its standard message.
    pub(crate) fn code(code: S3ErrorCode) -> Self {
        S3Error::new(code, default_message(code))
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        S3Error::code(S3ErrorCode::InternalError).with_source(source)
    }

    /// The source and its causes, `: `-separated, for the log ("" if none).
    pub(crate) fn source_chain(&self) -> String {
        let mut out = String::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        };
        while let Some(e) = next {
            let text = e.to_string();
            // Many errors repeat their cause in their own message.
            if !out.ends_with(&text) {
                if !out.is_empty() {
                    out.push_str(": ");
                }
                out.push_str(&text);
            }
            next = e.source();
        }
        out
    }

    pub(crate) fn not_implemented(operation: &str) -> Self {
        S3Error::new(
            S3ErrorCode::NotImplemented,
            format!("{operation} is not implemented by s3gw"),
        )
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// A refusal raised while a request body streams (a form upload's file
/// over its policy's size range, say), carried to the handler inside the
/// body's `std::io::Error` and answered with its code and message.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("{message}")]
pub struct BodyRefusal {
    pub code: S3ErrorCode,
    pub message: &'static str,
}

impl BodyRefusal {
    /// As the error a body stream yields.
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

pub(crate) fn default_message(code: S3ErrorCode) -> &'static str {
    use S3ErrorCode::*;
    match code {
        AccessDenied => "Access Denied",
        AccessForbidden => "CORSResponse: This CORS request is not allowed.",
        AuthorizationHeaderMalformed => "The authorization header is malformed.",
        AuthorizationQueryParametersError => "The authorization query parameters are malformed.",
        BadDigest => "The Content-MD5 or checksum you specified did not match what we received.",
        BadRequest => "Bad Request",
        BucketAlreadyExists => "The requested bucket name is not available.",
        BucketAlreadyOwnedByYou => {
            "Your previous request to create the named bucket succeeded and you already own it."
        }
        BucketNotEmpty => "The bucket you tried to delete is not empty.",
        EntityTooLarge => "Your proposed upload exceeds the maximum allowed object size.",
        EntityTooSmall => "Your proposed upload is smaller than the minimum allowed object size.",
        IllegalLocationConstraintException => "The location constraint is not valid here.",
        IncompleteBody => "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        InternalError => "We encountered an internal error. Please try again.",
        InvalidAccessKeyId => "The AWS access key ID you provided does not exist in our records.",
        InvalidArgument => "Invalid Argument",
        InvalidBucketName => "The specified bucket is not valid.",
        InvalidDigest => "The Content-MD5 you specified is not valid.",
        InvalidPolicyDocument => "The content of the form does not meet the conditions specified in the policy document.",
        InvalidPart => "One or more of the specified parts could not be found.",
        InvalidPartNumber => "The requested partnumber is not satisfiable",
        InvalidPartOrder => "The list of parts was not in ascending order.",
        InvalidRange => "The requested range is not satisfiable",
        InvalidRequest => "Invalid Request",
        InvalidStorageClass => "The storage class you specified is not valid.",
        InvalidTag => "The tag provided was not a valid tag.",
        InvalidURI => "Couldn't parse the specified URI.",
        KeyTooLongError => "Your key is too long.",
        MalformedPolicy => "Policies must be valid JSON and the first byte must be '{'",
        MalformedPOSTRequest => "The body of your POST request is not well-formed multipart/form-data.",
        MalformedXML => "The XML you provided was not well-formed or did not validate against our published schema.",
        MaxMessageLengthExceeded => "Your request was too big.",
        MetadataTooLarge => "Your metadata headers exceed the maximum allowed metadata size.",
        PolicyTooLarge => "Policy exceeds the maximum allowed document size.",
        MethodNotAllowed => "The specified method is not allowed against this resource.",
        MissingContentLength => "You must provide the Content-Length HTTP header.",
        MissingRequestBodyError => "Request Body is empty.",
        NoSuchBucket => "The specified bucket does not exist",
        NoSuchBucketPolicy => "The bucket policy does not exist",
        NoSuchCORSConfiguration => "The CORS configuration does not exist",
        NoSuchConfiguration => "The specified configuration does not exist.",
        NoSuchKey => "The specified key does not exist.",
        NoSuchLifecycleConfiguration => "The lifecycle configuration does not exist",
        NoSuchPublicAccessBlockConfiguration => "The public access block configuration was not found",
        NoSuchTagSet => "The TagSet does not exist",
        NoSuchUpload => "The specified upload does not exist.",
        NoSuchVersion => "The specified version does not exist.",
        NoSuchWebsiteConfiguration => "The specified bucket does not have a website configuration",
        NotImplemented => "A header or operation you provided is not implemented.",
        NotModified => "Not Modified",
        ObjectLockConfigurationNotFoundError => "Object Lock configuration does not exist for this bucket",
        OwnershipControlsNotFoundError => "The bucket ownership controls were not found",
        PreconditionFailed => "At least one of the preconditions you specified did not hold.",
        ReplicationConfigurationNotFoundError => "The replication configuration was not found",
        RequestTimeTooSkewed => "The difference between the request time and the server's time is too large.",
        RequestTimeout => "Your socket connection to the server was not read from or written to within the timeout period.",
        ServerSideEncryptionConfigurationNotFoundError => "The server side encryption configuration was not found",
        ServiceUnavailable => "Please reduce your request rate.",
        SignatureDoesNotMatch => "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        XAmzContentSHA256Mismatch => "The provided 'x-amz-content-sha256' header does not match what was computed.",
    }
}

impl From<StorageError> for S3Error {
    fn from(e: StorageError) -> Self {
        use S3ErrorCode as C;
        let code = match &e {
            StorageError::BucketExists(_) => C::BucketAlreadyExists,
            StorageError::BucketNotEmpty => C::BucketNotEmpty,
            StorageError::NoSuchBucket => C::NoSuchBucket,
            StorageError::PreconditionFailed => C::PreconditionFailed,
            StorageError::NoSuchUpload => C::NoSuchUpload,
            StorageError::PartChanged => C::InvalidPart,
            StorageError::ChunkMissing { .. } => C::InternalError,
            StorageError::Corrupt(_) => C::InternalError,
            StorageError::TooLate => C::RequestTimeout,
            StorageError::Unavailable(_) => C::ServiceUnavailable,
            StorageError::Busy(_) => C::ServiceUnavailable,
            StorageError::Io(_) => C::InternalError,
            StorageError::Internal(_) => C::InternalError,
        };
        S3Error::code(code).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthError;

    #[test]
    fn the_source_keeps_its_chain() {
        let io = std::io::Error::other("disk on fire");
        let e = S3Error::from(StorageError::internal(io));
        assert_eq!(e.code, S3ErrorCode::InternalError);
        assert_eq!(e.source_chain(), "internal error: disk on fire");
        let cause = e
            .source
            .as_ref()
            .and_then(|s| s.source())
            .map(|c| c.to_string());
        assert_eq!(cause.as_deref(), Some("disk on fire"));
        assert_eq!(S3Error::code(S3ErrorCode::NoSuchKey).source_chain(), "");
        let busy = S3Error::from(StorageError::Busy("claimed"));
        assert_eq!(busy.code, S3ErrorCode::ServiceUnavailable);
        assert_eq!(busy.source_chain(), "busy: claimed");
    }

    #[test]
    fn every_code_has_a_distinct_name_and_a_sane_status() {
        let mut names = std::collections::HashSet::new();
        for code in S3ErrorCode::ALL {
            assert!(names.insert(code.as_str()), "duplicate {}", code.as_str());
            let s = code.status().as_u16();
            assert!((300..600).contains(&s), "{} has status {s}", code.as_str());
            assert!(!default_message(*code).is_empty());
        }
    }

    #[test]
    fn status_table() {
        use S3ErrorCode::*;
        let table = [
            (NoSuchKey, 404),
            (NoSuchBucket, 404),
            (InvalidRange, 416),
            (InvalidPartNumber, 416),
            (PreconditionFailed, 412),
            (NotModified, 304),
            (BucketNotEmpty, 409),
            (SignatureDoesNotMatch, 403),
            (NotImplemented, 501),
            (ServiceUnavailable, 503),
            (MissingContentLength, 411),
            (InternalError, 500),
        ];
        for (code, status) in table {
            assert_eq!(code.status().as_u16(), status, "{}", code.as_str());
        }
    }

    #[test]
    fn storage_errors_map_to_codes() {
        use S3ErrorCode::*;
        let table: Vec<(StorageError, S3ErrorCode)> = vec![
            (StorageError::BucketNotEmpty, BucketNotEmpty),
            (StorageError::NoSuchBucket, NoSuchBucket),
            (StorageError::PreconditionFailed, PreconditionFailed),
            (
                StorageError::Unavailable("quorum".into()),
                ServiceUnavailable,
            ),
            (StorageError::Corrupt("x".into()), InternalError),
            (StorageError::TooLate, RequestTimeout),
            (StorageError::internal("x"), InternalError),
            (StorageError::Io(std::io::Error::other("x")), InternalError),
        ];
        for (err, code) in table {
            let s3: S3Error = err.into();
            assert_eq!(s3.code, code);
            assert!(s3.source.is_some());
        }
    }

    #[test]
    fn auth_errors_map_to_codes() {
        use crate::types::ChecksumAlgorithm;
        use S3ErrorCode::*;
        let table: Vec<(AuthError, S3ErrorCode)> = vec![
            (AuthError::SignatureDoesNotMatch, SignatureDoesNotMatch),
            (AuthError::InvalidAccessKeyId, InvalidAccessKeyId),
            (AuthError::RequestTimeTooSkewed, RequestTimeTooSkewed),
            (AuthError::Expired, AccessDenied),
            (AuthError::ContentSha256Mismatch, XAmzContentSHA256Mismatch),
            (AuthError::ChunkSignatureMismatch, SignatureDoesNotMatch),
            (AuthError::IncompleteBody, IncompleteBody),
            (AuthError::BadDigest, BadDigest),
            (AuthError::InvalidDigest, InvalidDigest),
            (
                AuthError::ChecksumMismatch(ChecksumAlgorithm::Crc32),
                BadDigest,
            ),
            (
                AuthError::MalformedAuthorization("x".into()),
                AuthorizationHeaderMalformed,
            ),
            (
                AuthError::InvalidPresign("x".into()),
                AuthorizationQueryParametersError,
            ),
            (AuthError::MissingDate, AccessDenied),
            (
                AuthError::BodyRead(std::io::Error::other("reset")),
                IncompleteBody,
            ),
            (
                AuthError::BodyRead(std::io::ErrorKind::TimedOut.into()),
                RequestTimeout,
            ),
            (AuthError::HeadersNotSigned(vec!["x".into()]), AccessDenied),
            (AuthError::MissingContentSha256, InvalidRequest),
            (AuthError::MissingDecodedLength, MissingContentLength),
            (AuthError::UnsupportedAuthorizationType, InvalidArgument),
            (AuthError::MultipleAuthMechanisms, InvalidArgument),
            (AuthError::UnsupportedSignatureVersion, InvalidRequest),
            (AuthError::MalformedV2Authorization, InvalidArgument),
            (AuthError::IncompleteV2Query, AccessDenied),
            (AuthError::InvalidV2Expires("x".into()), AccessDenied),
            (AuthError::StreamingWithV2, InvalidRequest),
        ];
        for (err, code) in table {
            let s3: S3Error = err.into();
            assert_eq!(s3.code, code);
        }
    }

    #[test]
    fn auth_errors_carry_their_detail() {
        let s3: S3Error =
            AuthError::HeadersNotSigned(vec!["x-amz-copy-source".into(), "x-amz-meta-a".into()])
                .into();
        assert_eq!(s3.code.status().as_u16(), 403);
        assert_eq!(
            s3.detail,
            Some(ErrorDetail::HeadersNotSigned(
                "x-amz-copy-source, x-amz-meta-a".into()
            ))
        );
        for (presigned, code) in [
            (false, S3ErrorCode::AuthorizationHeaderMalformed),
            (true, S3ErrorCode::AuthorizationQueryParametersError),
        ] {
            let s3: S3Error = AuthError::WrongRegion {
                region: "us-west-2".into(),
                expected: "eu-central-1".into(),
                presigned,
            }
            .into();
            assert_eq!(s3.code, code);
            assert_eq!(s3.detail, Some(ErrorDetail::Region("eu-central-1".into())));
            assert!(
                s3.message
                    .contains("the region 'us-west-2' is wrong; expecting 'eu-central-1'"),
                "{}",
                s3.message
            );
        }
    }
}
