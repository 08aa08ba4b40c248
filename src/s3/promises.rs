//! Request headers that promise something s3gw does not do. A client that
//! asks for encryption, a retention lock, a public ACL or another storage
//! class and gets a 200 believes it got them, so such a request is refused
//! (`501 NotImplemented`, or S3's error for a bad value) before any handler
//! runs, whatever the operation. So are tags (`x-amz-tagging`) sent to an
//! operation that does not keep them; the three that do read them in their
//! typed input. What is harmless and common stays accepted: `x-amz-acl:
//! private` and `bucket-owner-full-control` (every object is private to the
//! gateway's owner), the storage class `STANDARD`, an empty tag set, legal
//! hold `OFF`, a bucket without object lock.

use http::HeaderMap;

use crate::error::{S3Error, S3ErrorCode};
use crate::http::Endpoint;

/// The canned ACLs S3 knows, besides the two that change nothing here.
const OTHER_CANNED_ACLS: &[&str] = &[
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "log-delivery-write",
];

/// The storage classes S3 knows, besides `STANDARD`.
const OTHER_STORAGE_CLASSES: &[&str] = &[
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
    "FSX_OPENZFS",
];

fn not_implemented(what: &str) -> S3Error {
    S3Error::new(
        S3ErrorCode::NotImplemented,
        format!("{what} is not implemented by s3gw"),
    )
}

fn invalid(header: &str) -> S3Error {
    S3Error::new(
        S3ErrorCode::InvalidArgument,
        format!("Invalid value for the {header} header"),
    )
}

/// Refuses a request that carries a header promising what s3gw does not
/// do.
pub(crate) fn refuse_unkept_promises(
    headers: &HeaderMap,
    endpoint: &Endpoint,
) -> Result<(), S3Error> {
    let takes_tags = matches!(
        endpoint,
        Endpoint::PutObject | Endpoint::CopyObject | Endpoint::CreateMultipartUpload
    );
    for (name, value) in headers {
        let name = name.as_str();
        if !name.starts_with("x-amz-") {
            continue;
        }
        // A value that is not visible ASCII is no value S3 accepts here.
        let text = value.to_str().ok().map(str::trim);
        let is = |expected: &str| text.is_some_and(|t| t.eq_ignore_ascii_case(expected));
        match name {
            n if n.starts_with("x-amz-server-side-encryption")
                || n.starts_with("x-amz-copy-source-server-side-encryption") =>
            {
                return Err(not_implemented("Server-side encryption"))
            }
            "x-amz-object-lock-mode" | "x-amz-object-lock-retain-until-date" => {
                return Err(not_implemented("Object lock"))
            }
            "x-amz-object-lock-legal-hold" if !is("OFF") => {
                return Err(not_implemented("Object lock (legal hold)"))
            }
            "x-amz-bucket-object-lock-enabled" if !is("false") => {
                return Err(not_implemented("Object lock"))
            }
            // Where tags are kept, the typed input reads and checks them.
            "x-amz-tagging" if !takes_tags && text != Some("") => return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                "x-amz-tagging is taken only by PutObject, CopyObject and CreateMultipartUpload",
            )),
            "x-amz-acl" if is("private") || is("bucket-owner-full-control") => {}
            "x-amz-acl" if OTHER_CANNED_ACLS.iter().any(|acl| is(acl)) => {
                return Err(not_implemented("An ACL other than private"))
            }
            "x-amz-acl" => return Err(invalid(name)),
            n if n.starts_with("x-amz-grant-") => return Err(not_implemented("ACL grants")),
            "x-amz-storage-class" if is("STANDARD") => {}
            "x-amz-storage-class" if OTHER_STORAGE_CLASSES.iter().any(|c| is(c)) => {
                return Err(not_implemented("A storage class other than STANDARD"))
            }
            "x-amz-storage-class" => return Err(S3Error::code(S3ErrorCode::InvalidStorageClass)),
            "x-amz-website-redirect-location" => return Err(not_implemented("Website redirects")),
            // MFA delete (PutBucketVersioning, DeleteObject): no MFA device
            // exists here to check the code against.
            "x-amz-mfa" => return Err(not_implemented("MFA delete")),
            _ => {}
        }
    }
    Ok(())
}

/// `AccessDenied` if `header` (`x-amz-expected-bucket-owner`, or
/// `x-amz-source-expected-bucket-owner` for a copy's source) names another
/// owner than `owner_id`, the bucket's.
pub(crate) fn check_expected_owner(
    headers: &HeaderMap,
    header: &str,
    owner_id: &str,
) -> Result<(), S3Error> {
    match headers.get(header).map(|v| v.to_str().map(str::trim)) {
        None => Ok(()),
        Some(Ok(v)) if v.eq_ignore_ascii_case(owner_id) => Ok(()),
        Some(_) => Err(S3Error::code(S3ErrorCode::AccessDenied)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(headers: &[(&str, &str)]) -> Result<(), S3ErrorCode> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
            );
        }
        refuse_unkept_promises(&map, &Endpoint::UploadPart)
            .and_then(|()| check_expected_owner(&map, "x-amz-expected-bucket-owner", "owner1"))
            .and_then(|()| {
                check_expected_owner(&map, "x-amz-source-expected-bucket-owner", "owner1")
            })
            .map_err(|e| e.code)
    }

    #[test]
    fn table() {
        use S3ErrorCode::*;
        let cases: &[(&str, &str, Result<(), S3ErrorCode>)] = &[
            (
                "x-amz-server-side-encryption",
                "AES256",
                Err(NotImplemented),
            ),
            (
                "x-amz-server-side-encryption",
                "aws:kms",
                Err(NotImplemented),
            ),
            (
                "x-amz-server-side-encryption-aws-kms-key-id",
                "k",
                Err(NotImplemented),
            ),
            (
                "x-amz-server-side-encryption-customer-algorithm",
                "AES256",
                Err(NotImplemented),
            ),
            (
                "x-amz-server-side-encryption-customer-key",
                "a2V5",
                Err(NotImplemented),
            ),
            (
                "x-amz-copy-source-server-side-encryption-customer-key",
                "a2V5",
                Err(NotImplemented),
            ),
            ("x-amz-object-lock-mode", "GOVERNANCE", Err(NotImplemented)),
            (
                "x-amz-object-lock-retain-until-date",
                "2030-01-01T00:00:00Z",
                Err(NotImplemented),
            ),
            ("x-amz-object-lock-legal-hold", "ON", Err(NotImplemented)),
            (
                "x-amz-mfa",
                "arn:aws:iam::1:mfa/root 123456",
                Err(NotImplemented),
            ),
            ("x-amz-object-lock-legal-hold", "OFF", Ok(())),
            (
                "x-amz-bucket-object-lock-enabled",
                "true",
                Err(NotImplemented),
            ),
            ("x-amz-bucket-object-lock-enabled", "false", Ok(())),
            ("x-amz-tagging", "a=b", Err(InvalidArgument)),
            ("x-amz-tagging", "", Ok(())),
            ("x-amz-acl", "private", Ok(())),
            ("x-amz-acl", "bucket-owner-full-control", Ok(())),
            ("x-amz-acl", "public-read", Err(NotImplemented)),
            ("x-amz-acl", "authenticated-read", Err(NotImplemented)),
            ("x-amz-acl", "everyone", Err(InvalidArgument)),
            (
                "x-amz-grant-read",
                "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"",
                Err(NotImplemented),
            ),
            ("x-amz-grant-full-control", "id=x", Err(NotImplemented)),
            ("x-amz-storage-class", "STANDARD", Ok(())),
            ("x-amz-storage-class", "GLACIER", Err(NotImplemented)),
            (
                "x-amz-storage-class",
                "REDUCED_REDUNDANCY",
                Err(NotImplemented),
            ),
            ("x-amz-storage-class", "FAST", Err(InvalidStorageClass)),
            ("x-amz-website-redirect-location", "/x", Err(NotImplemented)),
            ("x-amz-expected-bucket-owner", "owner1", Ok(())),
            ("x-amz-expected-bucket-owner", "OWNER1", Ok(())),
            (
                "x-amz-expected-bucket-owner",
                "111122223333",
                Err(AccessDenied),
            ),
            (
                "x-amz-source-expected-bucket-owner",
                "111122223333",
                Err(AccessDenied),
            ),
            ("x-amz-meta-anything", "x", Ok(())),
            ("x-amz-request-payer", "requester", Ok(())),
            ("content-type", "text/html", Ok(())),
        ];
        for (name, value, want) in cases {
            assert_eq!(check(&[(name, value)]), *want, "{name}: {value}");
        }
        assert_eq!(check(&[]), Ok(()));
        assert_eq!(
            check(&[("x-amz-acl", "private"), ("x-amz-storage-class", "GLACIER")]),
            Err(NotImplemented)
        );
        // A value that is not ASCII is never a value we accept.
        let mut map = HeaderMap::new();
        map.insert(
            "x-amz-acl",
            http::HeaderValue::from_bytes(b"priv\xffate").unwrap(),
        );
        assert_eq!(
            refuse_unkept_promises(&map, &Endpoint::PutObject).map_err(|e| e.code),
            Err(InvalidArgument)
        );
    }

    /// Tags pass to the three operations that keep them (their input
    /// checks them), and nowhere else.
    #[test]
    fn tags_only_where_they_are_kept() {
        let mut map = HeaderMap::new();
        map.insert("x-amz-tagging", http::HeaderValue::from_static("a=b"));
        for (endpoint, passes) in [
            (Endpoint::PutObject, true),
            (Endpoint::CopyObject, true),
            (Endpoint::CreateMultipartUpload, true),
            (Endpoint::UploadPart, false),
            (Endpoint::CompleteMultipartUpload, false),
            (Endpoint::PutObjectTagging, false),
        ] {
            let r = refuse_unkept_promises(&map, &endpoint);
            assert_eq!(r.is_ok(), passes, "{endpoint:?}");
        }
    }
}
