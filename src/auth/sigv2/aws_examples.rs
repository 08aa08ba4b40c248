//! AWS's published SigV2 examples for S3 ("Signing and authenticating REST
//! requests", section "Authentication examples", and "Query string request
//! authentication alternative"), each checked twice: the string to sign
//! and signature as published, then the whole `parse` + `verify` path with
//! the published `Authorization` value or URL. Credentials
//! AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY. Never
//! values produced by our own signer.

use http::request::Parts;
use time::macros::datetime;
use time::OffsetDateTime;

use super::*;
use crate::auth::SecretKey;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AK: &str = "AKIAIOSFODNN7EXAMPLE";

use crate::auth::test_support::parts;

/// The published string to sign and signature, then the request itself
/// through `parse` and `verify` at `now`.
fn example(p: Parts, vhost: Option<&str>, sts: &str, signature: &str, now: OffsetDateTime) {
    let secret = SecretKey::new(SECRET.into());
    assert_eq!(sign(&secret, sts.as_bytes()), signature, "published STS");
    let query = Query::parse(p.uri.query()).unwrap();
    let req = parse(&p, &query).unwrap().expect("a V2 request");
    assert_eq!(req.access_key, AK);
    assert_eq!(req.signature, signature);
    let ours = strings_to_sign(&req, &p, vhost);
    assert!(
        ours.iter().any(|s| s == sts.as_bytes()),
        "none of our strings to sign is the published one: {:?}",
        ours.iter()
            .map(|s| String::from_utf8_lossy(s))
            .collect::<Vec<_>>()
    );
    let v = verify(&req, &p, vhost, &secret, now).unwrap();
    assert_eq!(v.access_key, AK);
    assert_eq!(v.payload, PayloadMode::Unsigned);
    assert!(v.chunk_signer.is_none());
    let other = SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ".into());
    assert!(matches!(
        verify(&req, &p, vhost, &other, now),
        Err(AuthError::SignatureDoesNotMatch)
    ));
    if vhost.is_some() {
        // Without its bucket the resource differs.
        assert!(matches!(
            verify(&req, &p, None, &secret, now),
            Err(AuthError::SignatureDoesNotMatch)
        ));
    }
}

fn header_auth(sig: &str) -> String {
    format!("AWS {AK}:{sig}")
}

#[test]
fn object_get() {
    let sig = "bWq2s1WEIj+Ydj0vQ697zp+IXMU=";
    let p = parts(
        "GET",
        "/photos/puppy.jpg",
        &[
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
            ("authorization", &header_auth(sig)),
        ],
    );
    example(
        p,
        Some("johnsmith"),
        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg",
        sig,
        datetime!(2007-03-27 19:36:42 UTC),
    );
}

/// The same request as published in the current guide, with another bucket.
#[test]
fn object_get_current_guide() {
    let sig = "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=";
    let p = parts(
        "GET",
        "/photos/puppy.jpg",
        &[
            ("host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
            ("authorization", &header_auth(sig)),
        ],
    );
    example(
        p,
        Some("awsexamplebucket1"),
        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
        sig,
        datetime!(2007-03-27 19:36:42 UTC),
    );
}

#[test]
fn object_put() {
    let sig = "MyyxeRY7whkBe+bq8fHCL/2kKUg=";
    let p = parts(
        "PUT",
        "/photos/puppy.jpg",
        &[
            ("content-type", "image/jpeg"),
            ("content-length", "94328"),
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 21:15:45 +0000"),
            ("authorization", &header_auth(sig)),
        ],
    );
    example(
        p,
        Some("johnsmith"),
        "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg",
        sig,
        datetime!(2007-03-27 21:15:45 UTC),
    );
}

/// Listing parameters are not sub-resources: they are not signed.
#[test]
fn list() {
    let sig = "htDYFYduRNen8P9ZfE/s9SuKy0U=";
    let p = parts(
        "GET",
        "/?prefix=photos&max-keys=50&marker=puppy",
        &[
            ("user-agent", "Mozilla/5.0"),
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:42:41 +0000"),
            ("authorization", &header_auth(sig)),
        ],
    );
    example(
        p,
        Some("johnsmith"),
        "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/",
        sig,
        datetime!(2007-03-27 19:42:41 UTC),
    );
}

#[test]
fn fetch_acl() {
    let sig = "c2WLPFtWHVgbEmeEG93a4cG37dM=";
    let p = parts(
        "GET",
        "/?acl",
        &[
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:44:46 +0000"),
            ("authorization", &header_auth(sig)),
        ],
    );
    example(
        p,
        Some("johnsmith"),
        "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl",
        sig,
        datetime!(2007-03-27 19:44:46 UTC),
    );
}

/// Path style, and `x-amz-date`: the published string to sign has its
/// value on the Date line (the form `verify` tries second).
#[test]
fn delete_with_x_amz_date() {
    let sig = "lx3byBScXR6KzyMaifNkardMwNk=";
    let p = parts(
        "DELETE",
        "/johnsmith/photos/puppy.jpg",
        &[
            ("user-agent", "dotnet"),
            ("host", "s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
            ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
            ("authorization", &header_auth(sig)),
        ],
    );
    let req = parse(&p, &Query::default()).unwrap().unwrap();
    // The request time is x-amz-date's, not Date's.
    assert_eq!(
        req.kind,
        V2Kind::Header {
            date: datetime!(2007-03-27 21:20:26 UTC)
        }
    );
    example(
        p,
        None,
        "DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg",
        sig,
        datetime!(2007-03-27 21:20:26 UTC),
    );
}

/// Content-MD5, Content-Type, `x-amz-*` headers lowercased, sorted and a
/// repeated one joined; a CNAME-style bucket (the whole host).
#[test]
fn upload_with_metadata() {
    let sig = "ilyl83RwaSoYIEdixDQcA4OnAnc=";
    let p = parts(
        "PUT",
        "/db-backup.dat.gz",
        &[
            ("user-agent", "curl/7.15.5"),
            ("host", "static.johnsmith.net:8080"),
            ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
            ("x-amz-acl", "public-read"),
            ("content-type", "application/x-download"),
            ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
            ("X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"),
            ("X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"),
            ("X-Amz-Meta-FileChecksum", "0x02661779"),
            ("X-Amz-Meta-ChecksumAlgorithm", "crc32"),
            ("content-disposition", "attachment; filename=database.dat"),
            ("content-encoding", "gzip"),
            ("content-length", "5913339"),
            ("authorization", &header_auth(sig)),
        ],
    );
    example(
        p,
        Some("static.johnsmith.net"),
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n\
         x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\n\
         x-amz-meta-filechecksum:0x02661779\n\
         x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n\
         /static.johnsmith.net/db-backup.dat.gz",
        sig,
        datetime!(2007-03-27 21:06:08 UTC),
    );
}

#[test]
fn list_all_my_buckets() {
    let sig = "qGdzdERIC03wnaRNKh6OqZehG9s=";
    let p = parts(
        "GET",
        "/",
        &[
            ("host", "s3.amazonaws.com"),
            ("date", "Wed, 28 Mar 2007 01:29:59 +0000"),
            ("authorization", &header_auth(sig)),
        ],
    );
    example(
        p,
        None,
        "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
        sig,
        datetime!(2007-03-28 01:29:59 UTC),
    );
}

/// The path is signed as sent: percent-escapes in either case, not decoded.
#[test]
fn unicode_keys() {
    let sig = "DNEZGsoieTZ92F3bUfSPQcbGmlM=";
    let p = parts(
        "GET",
        "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
        &[
            ("host", "s3.amazonaws.com"),
            ("date", "Wed, 28 Mar 2007 01:49:49 +0000"),
            ("authorization", &header_auth(sig)),
        ],
    );
    example(
        p,
        None,
        "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
        sig,
        datetime!(2007-03-28 01:49:49 UTC),
    );
}

/// `Expires` replaces the date; the three authentication parameters are
/// not part of the resource. Valid until its second, expired after it.
#[test]
fn query_string_authentication() {
    let p = parts(
        "GET",
        "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
        &[("host", "johnsmith.s3.amazonaws.com")],
    );
    let expires = datetime!(2007-03-29 03:40:20 UTC);
    assert_eq!(expires.unix_timestamp(), 1_175_139_620);
    example(
        p.clone(),
        Some("johnsmith"),
        "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg",
        "NpgCjnDzrM+WFzoENXmpNDUsSn8=",
        expires - time::Duration::days(1),
    );
    let req = parse(&p, &Query::parse(p.uri.query()).unwrap())
        .unwrap()
        .unwrap();
    let secret = SecretKey::new(SECRET.into());
    verify(&req, &p, Some("johnsmith"), &secret, expires).unwrap();
    assert!(matches!(
        verify(
            &req,
            &p,
            Some("johnsmith"),
            &secret,
            expires + time::Duration::seconds(1)
        ),
        Err(AuthError::Expired)
    ));
}
