//! The permission check: what each operation needs of the key that signed
//! it, decided once, in one place, between authentication and the handler
//! (issue 17). Today the only key is the root pair, which may do
//! everything; keys with grants per bucket plug in at [`Principal`].
//!
//! The mapping follows AWS's actions (`docs/s3-compatibility.md`):
//! reads (`s3:GetObject`, `s3:ListBucket`, …) need [`Permission::Read`],
//! writes (`s3:PutObject`, `s3:DeleteObject`, the multipart actions but
//! their listings) [`Permission::Write`], and what changes or reveals the
//! bucket's own configuration and grants [`Permission::Owner`]. A copy
//! needs read on its source and write on its destination.

use super::input::Input;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::BucketConfig;

/// What a key may do on one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Permission {
    /// GET, HEAD and the listings.
    Read,
    /// PUT, DELETE, multipart uploads, copies into the bucket.
    Write,
    /// Delete the bucket, read or change its configuration and grants.
    Owner,
}

/// What an operation needs before its handler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Nothing of a bucket: ListBuckets (it lists only the buckets the
    /// key may use) and the operations that are not served.
    Nothing,
    /// The right to create buckets.
    CreateBucket,
    /// `Permission` on the addressed bucket.
    Bucket(Permission),
    /// Read on the source's bucket and write on the addressed one.
    Copy { source_bucket: String },
}

/// What `input` needs.
pub(crate) fn needs(input: &Input) -> Needs {
    use Permission::*;
    match input {
        Input::ListBuckets | Input::NotImplemented(_) => Needs::Nothing,
        Input::CreateBucket => Needs::CreateBucket,
        Input::DeleteBucket => Needs::Bucket(Owner),
        Input::GetBucketConfig(BucketConfig::Acl | BucketConfig::Policy) => Needs::Bucket(Owner),
        Input::HeadBucket
        | Input::GetBucketLocation
        | Input::GetBucketVersioning
        | Input::GetBucketConfig(_)
        | Input::ListObjects(_)
        | Input::ListObjectsV2(_)
        | Input::ListMultipartUploads(_)
        | Input::GetObject(_)
        | Input::HeadObject(_)
        | Input::GetObjectTagging(_)
        | Input::GetObjectAcl(_)
        | Input::ListParts(_) => Needs::Bucket(Read),
        Input::PutObject(_)
        | Input::DeleteObject(_)
        | Input::DeleteObjects
        | Input::CreateMultipartUpload(_)
        | Input::UploadPart(_)
        | Input::CompleteMultipartUpload(_)
        | Input::AbortMultipartUpload(_) => Needs::Bucket(Write),
        Input::CopyObject(i) => Needs::Copy {
            source_bucket: i.source.bucket.clone(),
        },
        Input::UploadPartCopy(i) => Needs::Copy {
            source_bucket: i.source.bucket.clone(),
        },
    }
}

/// Who signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    /// The root pair from the configuration: every permission everywhere.
    Root,
}

/// `AccessDenied` unless `principal` has what `input` needs.
pub(crate) fn authorize(principal: &Principal, input: &Input) -> Result<(), S3Error> {
    let allowed = match (principal, needs(input)) {
        (_, Needs::Nothing) => true,
        (Principal::Root, Needs::CreateBucket | Needs::Bucket(_) | Needs::Copy { .. }) => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(S3Error::code(S3ErrorCode::AccessDenied))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Query, Route, Routed};
    use http::{HeaderMap, Method};
    use Permission::*;

    /// The input of `method uri` (with `x-amz-copy-source: /src/k` when
    /// `copy`), as the pipeline parses it.
    fn input(method: &str, uri: &str, copy: bool) -> Input {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let u: http::Uri = uri.parse().unwrap();
        let q = Query::parse(u.query()).unwrap();
        let Ok(Routed::S3(route)) = Route::from_request(&m, u.path(), q, None, copy, None) else {
            panic!("{method} {uri} is not an S3 operation");
        };
        let mut h = HeaderMap::new();
        if copy {
            h.insert("x-amz-copy-source", "/src/k".parse().unwrap());
        }
        Input::parse(&route, &h).unwrap_or_else(|e| panic!("{method} {uri}: {e}"))
    }

    /// Every operation the gateway serves, with what it needs.
    #[test]
    fn table() {
        const ID: &str = "0123456789abcdef0123456789abcdef";
        let copy = || Needs::Copy {
            source_bucket: "src".into(),
        };
        let cases: Vec<(&str, String, bool, Needs)> = vec![
            ("GET", "/".into(), false, Needs::Nothing),
            ("PUT", "/b".into(), false, Needs::CreateBucket),
            ("DELETE", "/b".into(), false, Needs::Bucket(Owner)),
            ("HEAD", "/b".into(), false, Needs::Bucket(Read)),
            ("GET", "/b?location".into(), false, Needs::Bucket(Read)),
            ("GET", "/b?versioning".into(), false, Needs::Bucket(Read)),
            ("GET", "/b?acl".into(), false, Needs::Bucket(Owner)),
            ("GET", "/b?policy".into(), false, Needs::Bucket(Owner)),
            ("GET", "/b?cors".into(), false, Needs::Bucket(Read)),
            ("GET", "/b?lifecycle".into(), false, Needs::Bucket(Read)),
            ("GET", "/b".into(), false, Needs::Bucket(Read)),
            ("GET", "/b?list-type=2".into(), false, Needs::Bucket(Read)),
            ("GET", "/b?uploads".into(), false, Needs::Bucket(Read)),
            ("POST", "/b?delete".into(), false, Needs::Bucket(Write)),
            ("GET", "/b/k".into(), false, Needs::Bucket(Read)),
            ("HEAD", "/b/k".into(), false, Needs::Bucket(Read)),
            ("GET", "/b/k?tagging".into(), false, Needs::Bucket(Read)),
            ("GET", "/b/k?acl".into(), false, Needs::Bucket(Read)),
            ("PUT", "/b/k".into(), false, Needs::Bucket(Write)),
            ("PUT", "/b/k".into(), true, copy()),
            ("DELETE", "/b/k".into(), false, Needs::Bucket(Write)),
            ("POST", "/b/k?uploads".into(), false, Needs::Bucket(Write)),
            (
                "PUT",
                format!("/b/k?uploadId={ID}&partNumber=1"),
                false,
                Needs::Bucket(Write),
            ),
            (
                "PUT",
                format!("/b/k?uploadId={ID}&partNumber=1"),
                true,
                copy(),
            ),
            (
                "POST",
                format!("/b/k?uploadId={ID}"),
                false,
                Needs::Bucket(Write),
            ),
            (
                "DELETE",
                format!("/b/k?uploadId={ID}"),
                false,
                Needs::Bucket(Write),
            ),
            (
                "GET",
                format!("/b/k?uploadId={ID}"),
                false,
                Needs::Bucket(Read),
            ),
            ("PUT", "/b?policy".into(), false, Needs::Nothing),
            ("GET", "/b?versions".into(), false, Needs::Nothing),
        ];
        for (method, uri, copy, want) in cases {
            let i = input(method, &uri, copy);
            assert_eq!(needs(&i), want, "{method} {uri} copy={copy}");
            assert!(authorize(&Principal::Root, &i).is_ok(), "{method} {uri}");
        }
    }
}
