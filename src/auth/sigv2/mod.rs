//! AWS Signature Version 2 for S3, a legacy mode (`--sigv2`, on by
//! default): the header form `Authorization: AWS AKID:signature` and the
//! query form (`AWSAccessKeyId`, `Expires`, `Signature`), as S3's "Signing
//! and authenticating REST requests" defines them.
//!
//! * [`parse`] reads the claims (`parse.rs`); [`verify`] checks the time
//!   and the signature; the string to sign is built by the pure functions
//!   of `canonical.rs`, checked against AWS's published examples.
//! * What is signed: the method, `Content-MD5`, `Content-Type`, the date
//!   (or `Expires`), **every** `x-amz-*` header, and the resource: the
//!   bucket, the path as sent and the sub-resource parameters. So the
//!   SigV4 rule that every `x-amz-*` header be signed holds by
//!   construction; the `x-amz-*` parameters of a presigned URL are applied
//!   as headers first ([`hoist_query_headers`]), so they are signed too.
//! * What is not: the body (V2 has no payload hash; `Content-MD5` is still
//!   checked against it by `digest`, and a `x-amz-content-sha256` SHA-256
//!   is checked as in SigV4), and query parameters that are not
//!   sub-resources (listing parameters such as `prefix` and `max-keys`).
//!   aws-chunked bodies are refused.
//! * The signature is HMAC-SHA1 in base64, compared in constant time.

mod canonical;
mod parse;

use http::request::Parts;
use time::OffsetDateTime;

use crate::auth::sigv4::{hoist_params, signature_eq, PayloadMode, VerifiedAuth, MAX_SKEW};
use crate::auth::{AuthError, SecretKey};
use crate::http::Query;

pub use canonical::{
    canonical_amz_headers, canonical_resource, is_subresource, sign, string_to_sign, SUBRESOURCES,
};
pub use parse::parse_date;

/// How a V2 request was signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum V2Kind {
    /// `Authorization: AWS AKID:signature`, at `date` (`x-amz-date`, else `Date`).
    Header { date: OffsetDateTime },
    /// `AWSAccessKeyId`, `Expires`, `Signature` in the query.
    Query {
        /// `Expires` as sent: the Date line of the string to sign.
        expires: String,
        /// `Expires` in seconds since the epoch.
        expires_at: i64,
    },
}

/// The V2 signature claims of a request, parsed but not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2Request {
    pub access_key: String,
    /// The base64 signature as sent.
    pub signature: String,
    pub kind: V2Kind,
    /// `Unsigned`, or `Signed` when `x-amz-content-sha256` names the body's SHA-256.
    pub payload: PayloadMode,
}

/// Reads the V2 claims of a request, or `None` when it carries none (then
/// it is SigV4 or anonymous, for `sigv4::parse_auth`). Two mechanisms at
/// once (a V2 header with any signature in the query, a SigV4 header with
/// a V2 query, V2 and SigV4 query parameters together, two `Authorization`
/// headers) are `MultipleAuthMechanisms`.
pub fn parse(parts: &Parts, query: &Query) -> Result<Option<V2Request>, AuthError> {
    let mut headers = parts.headers.get_all(http::header::AUTHORIZATION).iter();
    let header = headers.next();
    let v2_query = parse::is_v2_query(query);
    let v4_query = crate::auth::sigv4::is_presigned(query);
    let v2_header = header.is_some_and(parse::is_v2_header);
    if !v2_header && !v2_query {
        return Ok(None);
    }
    // Past the check above, the request is V2 by its header or its query:
    // any other mechanism beside it is a second one.
    if headers.next().is_some() || v4_query || (header.is_some() && v2_query) {
        return Err(AuthError::MultipleAuthMechanisms);
    }
    match header {
        Some(value) => parse::parse_header(parts, value).map(Some),
        None => parse::parse_query(parts, query).map(Some),
    }
}

/// Applies the `x-amz-*`, `Content-Type` and `Content-MD5` parameters of a
/// V2 presigned URL as request headers, as botocore's V2 presigner moves
/// those headers into the query (and signs them as headers). A header
/// sent as well must have the same value. Other requests are left alone.
pub fn hoist_query_headers(parts: &mut Parts, query: &Query) -> Result<(), AuthError> {
    if parts.headers.contains_key(http::header::AUTHORIZATION)
        || !parse::is_v2_query(query)
        || crate::auth::sigv4::is_presigned(query)
    {
        return Ok(());
    }
    hoist_params(parts, query, |name| {
        name.starts_with("x-amz-") || name == "content-type" || name == "content-md5"
    })
}

fn check_time(req: &V2Request, now: OffsetDateTime) -> Result<(), AuthError> {
    match &req.kind {
        V2Kind::Header { date } => {
            if (now - *date).abs() > MAX_SKEW {
                return Err(AuthError::RequestTimeTooSkewed);
            }
        }
        V2Kind::Query { expires_at, .. } => {
            if now.unix_timestamp() > *expires_at {
                return Err(AuthError::Expired);
            }
        }
    }
    Ok(())
}

fn header_bytes<'a>(parts: &'a Parts, name: &str) -> &'a [u8] {
    parts
        .headers
        .get(name)
        .map_or(&[][..], |v| v.as_bytes().trim_ascii())
}

/// The paths the resource may be signed with: the path as sent, and for a
/// path-style request to a bucket (`/bucket`) also `/bucket/`, which is
/// what botocore and s3cmd sign (S3 builds the resource from the bucket
/// and the key: `/bucket/` + key).
fn resource_paths(raw_path: &str, vhost_bucket: Option<&str>) -> Vec<String> {
    let mut paths = vec![raw_path.to_string()];
    let bucket_only = raw_path
        .strip_prefix('/')
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
    if vhost_bucket.is_none() && bucket_only {
        paths.push(format!("{raw_path}/"));
    }
    paths
}

/// The strings to sign to try, most likely first: for each of the
/// [`resource_paths`], one Date line, or with `x-amz-date` two. With
/// `x-amz-date` the Date line is empty and `x-amz-date` is one of the
/// `x-amz-*` lines, as S3 says and clients do; AWS's own published DELETE
/// example instead puts the `x-amz-date` value on the Date line and leaves
/// it out of the headers, so that form is accepted too.
pub fn strings_to_sign(req: &V2Request, parts: &Parts, vhost_bucket: Option<&str>) -> Vec<Vec<u8>> {
    let method = parts.method.as_str();
    let md5 = header_bytes(parts, "content-md5");
    let content_type = header_bytes(parts, "content-type");
    let amz = canonical_amz_headers(&parts.headers, None);
    let mut out = Vec::new();
    for path in resource_paths(parts.uri.path(), vhost_bucket) {
        let resource = canonical_resource(vhost_bucket, &path, parts.uri.query());
        let sts = |date: &[u8], amz: &[u8]| {
            string_to_sign(method, md5, content_type, date, amz, &resource)
        };
        match &req.kind {
            V2Kind::Query { expires, .. } => out.push(sts(expires.as_bytes(), &amz)),
            V2Kind::Header { .. } => match parts.headers.get("x-amz-date") {
                None => out.push(sts(header_bytes(parts, "date"), &amz)),
                Some(amz_date) => {
                    out.push(sts(b"", &amz));
                    out.push(sts(
                        amz_date.as_bytes().trim_ascii(),
                        &canonical_amz_headers(&parts.headers, Some("x-amz-date")),
                    ));
                }
            },
        }
    }
    out
}

/// Checks the time (15 minutes of skew for the header form, `Expires` for
/// the query form) and the signature. `vhost_bucket` is the bucket the
/// router read from the Host header, if it did: the resource then starts
/// with `/bucket`.
pub fn verify(
    req: &V2Request,
    parts: &Parts,
    vhost_bucket: Option<&str>,
    secret: &SecretKey,
    now: OffsetDateTime,
) -> Result<VerifiedAuth, AuthError> {
    check_time(req, now)?;
    let mut matched = false;
    for sts in strings_to_sign(req, parts, vhost_bucket) {
        if signature_eq(&sign(secret, &sts), &req.signature) {
            matched = true;
        }
    }
    if !matched {
        tracing::debug!(
            access_key = %req.access_key,
            method = %parts.method,
            path = parts.uri.path(),
            vhost_bucket,
            "SigV2 signature mismatch"
        );
        return Err(AuthError::SignatureDoesNotMatch);
    }
    Ok(VerifiedAuth {
        access_key: req.access_key.clone(),
        payload: req.payload,
        chunk_signer: None,
    })
}

#[cfg(test)]
mod aws_examples;
#[cfg(test)]
mod tests;
