//! Typed requests. After authentication, the routed endpoint, its key and
//! query and the request's headers become one [`Input`]: the operation
//! with every parameter parsed and checked. A parameter that does not
//! parse is an S3 error raised here, in one place, before the handler
//! runs; handlers read their input and nothing else of the request head.
//! (The request body and the headers that frame it, its lengths and
//! digests, belong to [`super::RequestCx`].)
//!
//! The router decides the operation before authentication and this module
//! parses its parameters after, so a request that is not signed is refused
//! before anything about its parameters is judged.

mod list;
mod multipart;
mod object;

use http::HeaderMap;

use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::text;
use crate::http::{BucketConfig, Endpoint, Route};
use crate::types::{KeyError, ObjectKey};

pub(crate) use list::{
    decode_token, encode_token, ListBucketsInput, ListParams, ListPartsInput, ListUploadsInput,
    ListV1Input, ListV2Input, ListVersionsInput,
};
pub use multipart::{
    CompleteInput, CreateUploadInput, PartCopyInput, PartNumber, PartTarget, UploadTarget,
    MAX_PART_NUMBER,
};
pub(crate) use object::{
    version_ref, CopyObjectInput, CopySource, GetObjectInput, ObjectTarget, PutObjectInput,
};

/// One S3 operation with its typed parameters.
#[derive(Debug)]
pub enum Input {
    ListBuckets(ListBucketsInput),
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    GetBucketVersioning,
    PutBucketVersioning,
    GetBucketConfig(BucketConfig),
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetBucketPolicyStatus,
    GetBucketTagging,
    PutBucketTagging,
    DeleteBucketTagging,
    GetBucketLifecycleConfiguration,
    PutBucketLifecycleConfiguration,
    DeleteBucketLifecycle,
    GetBucketCors,
    PutBucketCors,
    DeleteBucketCors,
    ListObjects(ListV1Input),
    ListObjectsV2(ListV2Input),
    ListObjectVersions(ListVersionsInput),
    DeleteObjects,
    ListMultipartUploads(ListUploadsInput),
    GetObject(GetObjectInput),
    HeadObject(GetObjectInput),
    PutObject(PutObjectInput),
    /// A browser form upload: parsed from its form by `post_object::accept`.
    PostObject(super::post_object::PostObjectInput),
    CopyObject(CopyObjectInput),
    DeleteObject(ObjectTarget),
    GetObjectTagging(ObjectTarget),
    PutObjectTagging(ObjectTarget),
    DeleteObjectTagging(ObjectTarget),
    GetObjectAcl(ObjectTarget),
    CreateMultipartUpload(CreateUploadInput),
    UploadPart(PartTarget),
    UploadPartCopy(PartCopyInput),
    CompleteMultipartUpload(CompleteInput),
    AbortMultipartUpload(UploadTarget),
    ListParts(ListPartsInput),
    NotImplemented(String),
}

impl Input {
    /// Parses the parameters of `route`'s operation.
    pub fn parse(route: &Route, headers: &HeaderMap) -> Result<Input, S3Error> {
        use Endpoint as E;
        let q = &route.query;
        let key = || object_key(route);
        let h = headers;
        Ok(match &route.endpoint {
            E::ListBuckets => Input::ListBuckets(ListBucketsInput::parse(q)?),
            E::CreateBucket => Input::CreateBucket,
            E::DeleteBucket => Input::DeleteBucket,
            E::HeadBucket => Input::HeadBucket,
            E::GetBucketLocation => Input::GetBucketLocation,
            E::GetBucketVersioning => Input::GetBucketVersioning,
            E::PutBucketVersioning => Input::PutBucketVersioning,
            E::GetBucketConfig(c) => Input::GetBucketConfig(*c),
            E::GetBucketPolicy => Input::GetBucketPolicy,
            E::PutBucketPolicy => Input::PutBucketPolicy,
            E::DeleteBucketPolicy => Input::DeleteBucketPolicy,
            E::GetBucketPolicyStatus => Input::GetBucketPolicyStatus,
            E::GetBucketTagging => Input::GetBucketTagging,
            E::PutBucketTagging => Input::PutBucketTagging,
            E::DeleteBucketTagging => Input::DeleteBucketTagging,
            E::GetBucketLifecycleConfiguration => Input::GetBucketLifecycleConfiguration,
            E::PutBucketLifecycleConfiguration => Input::PutBucketLifecycleConfiguration,
            E::DeleteBucketLifecycle => Input::DeleteBucketLifecycle,
            E::GetBucketCors => Input::GetBucketCors,
            E::PutBucketCors => Input::PutBucketCors,
            E::DeleteBucketCors => Input::DeleteBucketCors,
            E::CorsPreflight => {
                return Err(S3Error::internal(
                    "a CORS preflight is answered before authentication",
                ))
            }
            E::PostObject => {
                return Err(S3Error::internal(
                    "a form upload's input comes from its form",
                ))
            }
            E::ListObjects => Input::ListObjects(ListV1Input::parse(q)?),
            E::ListObjectsV2 => Input::ListObjectsV2(ListV2Input::parse(q)?),
            E::ListObjectVersions => Input::ListObjectVersions(ListVersionsInput::parse(q)?),
            E::DeleteObjects => Input::DeleteObjects,
            E::ListMultipartUploads => Input::ListMultipartUploads(ListUploadsInput::parse(q)?),
            E::GetObject => Input::GetObject(GetObjectInput::parse(key()?, q, h)?),
            E::HeadObject => Input::HeadObject(GetObjectInput::parse(key()?, q, h)?),
            E::PutObject => Input::PutObject(PutObjectInput::parse(key()?, h)?),
            E::CopyObject => Input::CopyObject(CopyObjectInput::parse(key()?, h)?),
            E::DeleteObject => Input::DeleteObject(ObjectTarget::parse(key()?, q)?),
            E::GetObjectTagging => Input::GetObjectTagging(ObjectTarget::parse(key()?, q)?),
            E::PutObjectTagging => Input::PutObjectTagging(ObjectTarget::parse(key()?, q)?),
            E::DeleteObjectTagging => Input::DeleteObjectTagging(ObjectTarget::parse(key()?, q)?),
            E::GetObjectAcl => Input::GetObjectAcl(ObjectTarget::parse(key()?, q)?),
            E::CreateMultipartUpload => {
                Input::CreateMultipartUpload(CreateUploadInput::parse(key()?, h)?)
            }
            E::UploadPart => Input::UploadPart(PartTarget::parse(key()?, q)?),
            E::UploadPartCopy => Input::UploadPartCopy(PartCopyInput::parse(key()?, q, h)?),
            E::CompleteMultipartUpload => {
                Input::CompleteMultipartUpload(CompleteInput::parse(key()?, q, h)?)
            }
            E::AbortMultipartUpload => Input::AbortMultipartUpload(UploadTarget::parse(key()?, q)?),
            E::ListParts => Input::ListParts(ListPartsInput::parse(key()?, q)?),
            E::NotImplemented(name) => Input::NotImplemented(name.clone()),
        })
    }
}

/// The routed key as an [`ObjectKey`].
fn object_key(route: &Route) -> Result<ObjectKey, S3Error> {
    let raw = route
        .key
        .clone()
        .ok_or_else(|| S3Error::internal("routed without a key"))?;
    ObjectKey::parse(raw).map_err(key_error)
}

/// The S3 error for a key that does not parse.
pub(crate) fn key_error(e: KeyError) -> S3Error {
    match e {
        KeyError::TooLong => S3Error::code(S3ErrorCode::KeyTooLongError),
        KeyError::Empty => S3Error::new(S3ErrorCode::InvalidArgument, "The key may not be empty"),
        KeyError::NotXml => S3Error::new(
            S3ErrorCode::InvalidArgument,
            "Object keys and parameters may not contain characters that XML 1.0 cannot carry (such as U+0000)",
        ),
    }
}

/// A header as owned text.
fn header(h: &HeaderMap, name: &str) -> Option<String> {
    text(h, name).map(str::to_owned)
}
