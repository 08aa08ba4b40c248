//! The permission check: what each operation needs of the key that signed
//! it, decided once, in one place, between authentication and the handler
//! (issue 17). The root pair and admin keys may do everything; any other
//! key what its grants on the buckets say (`BucketRecord::grants`), and
//! buckets only if it may create them.
//!
//! The mapping follows AWS's actions (`docs/s3-compatibility.md`):
//! reads (`s3:GetObject`, `s3:ListBucket`, …) need [`Permission::Read`],
//! writes (`s3:PutObject`, `s3:DeleteObject`, the multipart actions but
//! their listings) [`Permission::Write`], and what changes or reveals the
//! bucket's own configuration and grants [`Permission::Owner`]. A copy
//! needs read on its source and write on its destination.
//!
//! Versions follow the same lines: ListObjectVersions and reading a
//! version by id are reads (`s3:ListBucketVersions`, `s3:GetObjectVersion`),
//! deleting one is a write (`s3:DeleteObjectVersion`), and
//! PutBucketVersioning is the owner's.
//!
//! An anonymous request (no signature) may do what the bucket's policy
//! grants anyone (`access::policy`): `s3:GetObject` (GET and HEAD of the
//! current version of the keys it covers, never a version by id) and `s3:ListBucket` (ListObjects v1 and v2, HeadBucket),
//! and nothing else, whatever the operation needs of a key.

use super::input::Input;
use crate::access::policy::{self, PublicAction};
use crate::access::Principal;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::BucketConfig;
use crate::storage::{BucketRecord, Grant, Storage};

#[cfg(test)]
use crate::access::Key;
#[cfg(test)]
use std::sync::Arc;

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
        Input::ListBuckets(_) | Input::NotImplemented(_) => Needs::Nothing,
        Input::CreateBucket => Needs::CreateBucket,
        Input::DeleteBucket => Needs::Bucket(Owner),
        Input::GetBucketConfig(BucketConfig::Acl)
        | Input::GetBucketPolicy
        | Input::PutBucketPolicy
        | Input::DeleteBucketPolicy
        | Input::GetBucketPolicyStatus
        | Input::PutBucketTagging
        | Input::DeleteBucketTagging
        | Input::PutBucketLifecycleConfiguration
        | Input::DeleteBucketLifecycle
        | Input::PutBucketCors
        | Input::DeleteBucketCors
        | Input::PutBucketVersioning => Needs::Bucket(Owner),
        Input::HeadBucket
        | Input::GetBucketLocation
        | Input::GetBucketVersioning
        | Input::GetBucketTagging
        | Input::GetBucketLifecycleConfiguration
        | Input::GetBucketCors
        | Input::GetBucketConfig(_)
        | Input::ListObjects(_)
        | Input::ListObjectsV2(_)
        | Input::ListObjectVersions(_)
        | Input::ListMultipartUploads(_)
        | Input::GetObject(_)
        | Input::HeadObject(_)
        | Input::GetObjectTagging(_)
        | Input::GetObjectAcl(_)
        | Input::ListParts(_) => Needs::Bucket(Read),
        Input::PutObject(_)
        | Input::PostObject(_)
        | Input::PutObjectTagging(_)
        | Input::DeleteObjectTagging(_)
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

/// The bucket records a check read: the addressed bucket, and a copy's
/// source. The handler then uses them rather than reading them again.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub bucket: Option<BucketRecord>,
    pub source: Option<BucketRecord>,
}

fn has(grant: Grant, p: Permission) -> bool {
    match p {
        Permission::Read => grant.read,
        Permission::Write => grant.write,
        Permission::Owner => grant.owner,
    }
}

fn denied() -> S3Error {
    S3Error::code(S3ErrorCode::AccessDenied)
}

/// What an anonymous `input` asks of the bucket's policy: the action, and
/// the object key for `s3:GetObject`. `None` for every other operation.
pub(crate) fn public_action(input: &Input) -> Option<(PublicAction, Option<&str>)> {
    match input {
        // A version by id is `s3:GetObjectVersion`, which the policy
        // subset never grants.
        Input::GetObject(i) | Input::HeadObject(i) if i.target.version_id.is_none() => {
            Some((PublicAction::GetObject, Some(i.target.key.as_str())))
        }
        Input::ListObjects(_) | Input::ListObjectsV2(_) | Input::HeadBucket => {
            Some((PublicAction::ListBucket, None))
        }
        _ => None,
    }
}

/// Whether `bucket`'s policy grants anyone `action` (on `key`). A stored
/// policy was checked when put; one that no longer parses grants nothing.
pub(crate) fn policy_allows(
    bucket: &BucketRecord,
    action: PublicAction,
    key: Option<&str>,
) -> bool {
    let Some(document) = bucket.policy.as_deref() else {
        return false;
    };
    match policy::parse(document, &bucket.name) {
        Ok(p) => p.allows(action, key),
        Err(e) => {
            tracing::warn!(bucket = bucket.name, error = %e, "stored bucket policy refused; it grants nothing");
            false
        }
    }
}

/// Whether a missing key is reported to `principal` as `AccessDenied`
/// rather than `NoSuchKey`: to anonymous callers the policy does not let
/// list the bucket, as S3 does without `s3:ListBucket`.
pub(crate) fn hides_missing_keys(principal: &Principal, checked: &Checked) -> bool {
    matches!(principal, Principal::Anonymous)
        && !checked
            .bucket
            .as_ref()
            .is_some_and(|b| policy_allows(b, PublicAction::ListBucket, None))
}

/// `AccessDenied` unless `principal` may run `input`, which needs `needs`,
/// given the buckets it names (`checked`, read by [`load`]).
pub(crate) fn authorize(
    principal: &Principal,
    input: &Input,
    needs: &Needs,
    checked: &Checked,
) -> Result<(), S3Error> {
    let on = |b: &Option<BucketRecord>, p: Permission| {
        b.as_ref().is_some_and(|b| has(principal.grant_on(b), p))
    };
    let allowed = match needs {
        _ if matches!(principal, Principal::Anonymous) => {
            match (public_action(input), &checked.bucket) {
                (Some((action, key)), Some(b)) => policy_allows(b, action, key),
                _ => false,
            }
        }
        Needs::Nothing => true,
        Needs::CreateBucket => match principal {
            Principal::Root => true,
            Principal::Key(k) => k.admin || k.create_bucket,
            Principal::Anonymous => false,
        },
        Needs::Bucket(p) => on(&checked.bucket, *p),
        Needs::Copy { .. } => {
            on(&checked.source, Permission::Read) && on(&checked.bucket, Permission::Write)
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(denied())
    }
}

async fn read(storage: &dyn Storage, name: Option<&str>) -> Result<BucketRecord, S3Error> {
    let name = name.ok_or_else(|| S3Error::internal("routed without a bucket"))?;
    storage
        .get_bucket(name)
        .await?
        .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchBucket))
}

/// Reads the buckets `needs` names: `bucket` (the addressed one) and a
/// copy's source. `NoSuchBucket` when one does not exist, whoever asks,
/// as S3 answers.
pub(crate) async fn load(
    storage: &dyn Storage,
    needs: &Needs,
    bucket: Option<&str>,
) -> Result<Checked, S3Error> {
    Ok(match needs {
        Needs::Nothing | Needs::CreateBucket => Checked::default(),
        Needs::Bucket(_) => Checked {
            bucket: Some(read(storage, bucket).await?),
            source: None,
        },
        // Both records at once; the destination's error, if any, first.
        Needs::Copy { source_bucket } => {
            let (dest, source) =
                tokio::join!(read(storage, bucket), read(storage, Some(source_bucket)));
            Checked {
                bucket: Some(dest?),
                source: Some(source?),
            }
        }
    })
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
            ("PUT", "/b?lifecycle".into(), false, Needs::Bucket(Owner)),
            ("DELETE", "/b?lifecycle".into(), false, Needs::Bucket(Owner)),
            ("GET", "/b?cors".into(), false, Needs::Bucket(Read)),
            ("PUT", "/b?cors".into(), false, Needs::Bucket(Owner)),
            ("DELETE", "/b?cors".into(), false, Needs::Bucket(Owner)),
            ("GET", "/b".into(), false, Needs::Bucket(Read)),
            ("GET", "/b?list-type=2".into(), false, Needs::Bucket(Read)),
            ("GET", "/b?uploads".into(), false, Needs::Bucket(Read)),
            ("POST", "/b?delete".into(), false, Needs::Bucket(Write)),
            ("GET", "/b/k".into(), false, Needs::Bucket(Read)),
            ("HEAD", "/b/k".into(), false, Needs::Bucket(Read)),
            ("GET", "/b/k?tagging".into(), false, Needs::Bucket(Read)),
            ("PUT", "/b/k?tagging".into(), false, Needs::Bucket(Write)),
            ("DELETE", "/b/k?tagging".into(), false, Needs::Bucket(Write)),
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
            ("PUT", "/b?policy".into(), false, Needs::Bucket(Owner)),
            ("DELETE", "/b?policy".into(), false, Needs::Bucket(Owner)),
            ("GET", "/b?policyStatus".into(), false, Needs::Bucket(Owner)),
            ("GET", "/b?tagging".into(), false, Needs::Bucket(Read)),
            ("PUT", "/b?tagging".into(), false, Needs::Bucket(Owner)),
            ("DELETE", "/b?tagging".into(), false, Needs::Bucket(Owner)),
            ("PUT", "/b?website".into(), false, Needs::Nothing),
            ("GET", "/b?versions".into(), false, Needs::Bucket(Read)),
            ("PUT", "/b?versioning".into(), false, Needs::Bucket(Owner)),
            (
                "GET",
                "/b/k?versionId=null".into(),
                false,
                Needs::Bucket(Read),
            ),
            (
                "DELETE",
                "/b/k?versionId=null".into(),
                false,
                Needs::Bucket(Write),
            ),
        ];
        let ro = key(false, false);
        let rw = key(false, false);
        let owner_only = key(false, false);
        let creator = key(false, true);
        let admin = key(true, false);
        for (method, uri, copy, want) in cases {
            let i = input(method, &uri, copy);
            let n = needs(&i);
            assert_eq!(n, want, "{method} {uri} copy={copy}");
            let allowed = |p: &Principal, g: Grant| {
                let c = checked(&n, g, g);
                authorize(p, &i, &n, &c).is_ok()
            };
            // Anonymous: what a policy granting both actions on the whole
            // bucket allows, and nothing without one.
            let public = matches!(
                (method, uri.as_str(), copy),
                ("GET" | "HEAD", "/b/k" | "/b", false) | ("GET", "/b?list-type=2", false)
            );
            let mut c = checked(&n, Grant::default(), Grant::default());
            let anonymous = |c: &Checked| authorize(&Principal::Anonymous, &i, &n, c).is_ok();
            let at = format!("{method} {uri} copy={copy}");
            assert!(!anonymous(&c), "anonymous without a policy: {at}");
            for b in [&mut c.bucket, &mut c.source].into_iter().flatten() {
                b.policy = Some(public_policy(&b.name));
            }
            assert_eq!(anonymous(&c), public, "anonymous with a policy: {at}");
            let read = Grant {
                read: true,
                ..Grant::default()
            };
            let read_write = Grant {
                write: true,
                ..read
            };
            let owner = Grant {
                owner: true,
                ..Grant::default()
            };
            let (is_read, is_write, is_owner) = (
                matches!(n, Needs::Nothing | Needs::Bucket(Read)),
                matches!(n, Needs::Bucket(Write) | Needs::Copy { .. }),
                matches!(n, Needs::Bucket(Owner)),
            );
            assert!(allowed(&Principal::Root, Grant::default()), "root: {at}");
            assert!(allowed(&admin, Grant::default()), "admin: {at}");
            assert_eq!(allowed(&ro, read), is_read, "read-only: {at}");
            assert_eq!(
                allowed(&rw, read_write),
                is_read || is_write,
                "read-write: {at}"
            );
            assert_eq!(
                allowed(&owner_only, owner),
                matches!(n, Needs::Nothing) || is_owner,
                "owner-only: {at}"
            );
            assert_eq!(
                allowed(&creator, Grant::default()),
                matches!(n, Needs::Nothing | Needs::CreateBucket),
                "may create buckets, no grants: {at}"
            );
            assert_eq!(
                allowed(&ro, Grant::ALL) && !allowed(&ro, Grant::default()),
                !matches!(n, Needs::Nothing | Needs::CreateBucket),
                "grants decide: {at}"
            );
        }
    }

    /// A policy letting anyone list `bucket` and read all of it.
    fn public_policy(bucket: &str) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            }],
        })
        .to_string()
    }

    fn key(admin: bool, create_bucket: bool) -> Principal {
        Principal::Key(Arc::new(Key {
            id: "AKAPP".into(),
            name: "app".into(),
            created_ms: 0,
            create_bucket,
            admin,
            secret: crate::auth::SecretKey::new("secret".into()),
        }))
    }

    /// The buckets `needs` names, the key `AKAPP` granted `dst` on the
    /// addressed one and `src` on a copy's source.
    fn checked(needs: &Needs, dst: Grant, src: Grant) -> Checked {
        let with = |name: &str, g: Grant| {
            let mut b = BucketRecord::new(name, "us-east-1", "");
            b.grants.insert("AKAPP".into(), g);
            b
        };
        match needs {
            Needs::Nothing | Needs::CreateBucket => Checked::default(),
            Needs::Bucket(_) => Checked {
                bucket: Some(with("b", dst)),
                source: None,
            },
            Needs::Copy { .. } => Checked {
                bucket: Some(with("b", dst)),
                source: Some(with("src", src)),
            },
        }
    }

    /// A copy needs read on its source and write on its destination,
    /// nothing more and nothing less.
    #[test]
    fn copies_check_both_buckets() {
        let copy = Needs::Copy {
            source_bucket: "src".into(),
        };
        let g = |read, write| Grant {
            read,
            write,
            owner: false,
        };
        let app = key(false, false);
        let i = input("PUT", "/b/k", true);
        let ok = |dst, src| authorize(&app, &i, &copy, &checked(&copy, dst, src)).is_ok();
        assert!(ok(g(false, true), g(true, false)));
        assert!(!ok(g(false, true), g(false, true)), "no read on the source");
        assert!(
            !ok(g(true, false), g(true, false)),
            "no write on the destination"
        );
        assert!(!ok(Grant::default(), Grant::ALL));
        assert!(!ok(Grant::ALL, Grant::default()));
        // A check that did not read the buckets never allows.
        assert!(authorize(&app, &i, &copy, &Checked::default()).is_err());
        let app = key(false, false);
        let get = input("GET", "/b/k", false);
        assert!(authorize(&app, &get, &Needs::Bucket(Read), &Checked::default()).is_err());
    }

    /// An anonymous GET is allowed on the keys a policy's resources cover,
    /// and a missing key is hidden unless the policy also grants listing.
    #[test]
    fn anonymous_reads_what_the_policy_covers() {
        let mut b = BucketRecord::new("b", "us-east-1", "");
        b.policy = Some(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Principal": {"AWS": "*"},
                              "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/pub/*"},
            })
            .to_string(),
        );
        let c = Checked {
            bucket: Some(b),
            source: None,
        };
        let may = |method: &str, uri: &str| {
            let i = input(method, uri, false);
            authorize(&Principal::Anonymous, &i, &needs(&i), &c).is_ok()
        };
        assert!(may("GET", "/b/pub/a"));
        assert!(may("HEAD", "/b/pub/x/y"));
        assert!(
            !may("GET", "/b/pub/a?versionId=null"),
            "no s3:GetObjectVersion"
        );
        assert!(!may("HEAD", "/b/pub/a?versionId=null"));
        assert!(!may("GET", "/b?versions"));
        assert!(!may("GET", "/b/pubx"));
        assert!(!may("GET", "/b/private"));
        assert!(!may("GET", "/b"), "no s3:ListBucket granted");
        assert!(!may("PUT", "/b/pub/a"));
        assert!(!may("DELETE", "/b/pub/a"));
        assert!(!may("GET", "/b?policy"));
        assert!(!may("GET", "/"));
        assert!(hides_missing_keys(&Principal::Anonymous, &c));
        assert!(!hides_missing_keys(&key(false, false), &c));
        let mut listed = c.bucket.clone().unwrap();
        listed.policy = Some(public_policy("b"));
        let listed = Checked {
            bucket: Some(listed),
            source: None,
        };
        assert!(!hides_missing_keys(&Principal::Anonymous, &listed));
        // A stored policy for another bucket's name (a rename cannot
        // happen, but a bad record must not widen access) grants nothing.
        let mut other = c.bucket.clone().unwrap();
        other.policy = Some(public_policy("other"));
        let other = Checked {
            bucket: Some(other),
            source: None,
        };
        let i = input("GET", "/b/pub/a", false);
        assert!(authorize(&Principal::Anonymous, &i, &needs(&i), &other).is_err());
    }

    /// ListBuckets shows a key the buckets it has any grant on.
    #[test]
    fn list_buckets_visibility() {
        let app = key(false, false);
        let mut b = BucketRecord::new("b", "us-east-1", "OTHER");
        assert!(!app.sees(&b));
        assert!(Principal::Root.sees(&b));
        assert!(key(true, false).sees(&b));
        b.grants.insert(
            "AKAPP".into(),
            Grant {
                owner: true,
                ..Grant::default()
            },
        );
        assert!(app.sees(&b));
        // The creator owns its bucket.
        let mine = BucketRecord::new("m", "us-east-1", "AKAPP");
        assert_eq!(app.grant_on(&mine), Grant::ALL);
    }
}
