//! Which request headers a signature covers.
//!
//! S3 acts on `x-amz-*` headers (a copy source, metadata, checksums, ACLs),
//! so a header the signature does not cover would let whoever holds a
//! signed request change what it does: a presigned PUT URL signs only
//! `host`, and an added `x-amz-copy-source` would turn it into a copy of
//! any object. As AWS does, every `x-amz-*` header must be covered, else
//! `403 AccessDenied` naming the headers. Covered means:
//! - listed in the signed headers;
//! - for header auth, `x-amz-content-sha256`, whose value is the payload
//!   line of the canonical request;
//! - for a presigned URL, carried as a query parameter (the canonical query
//!   is signed whole), which [`hoist_query_headers`] applies as the header;
//!   and an added `x-amz-content-sha256` that only asks for the body to be
//!   checked (`UNSIGNED-PAYLOAD` or a hex SHA-256), never one that changes
//!   how the body is framed.

use http::request::Parts;
use http::{HeaderName, HeaderValue};

use crate::auth::sigv4::parse::is_presigned;
use crate::auth::sigv4::{AuthKind, AuthRequest};
use crate::auth::AuthError;
use crate::http::Query;

/// The presigned query parameters that are the signature's own. The
/// payload hash is read by `parse` (it is not a header to apply), and a
/// session token has no meaning here: s3gw has no temporary credentials.
const SIGNATURE_PARAMS: &[&str] = &[
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-signedheaders",
    "x-amz-signature",
    "x-amz-content-sha256",
    "x-amz-security-token",
];

/// A presigned query parameter that stands for a request header. S3 ignores
/// checksums in the query (a presigner that hoists them signs a checksum
/// of a body it never saw), so they are not applied and do not cover a
/// header of the same name.
fn is_hoisted_header(lowercase_name: &str) -> bool {
    lowercase_name.starts_with("x-amz-")
        && !SIGNATURE_PARAMS.contains(&lowercase_name)
        && !lowercase_name.starts_with("x-amz-checksum-")
        && lowercase_name != "x-amz-sdk-checksum-algorithm"
}

/// Applies the `x-amz-*` query parameters of a presigned URL as request
/// headers (the AWS SDK for JavaScript and the Go SDK move headers there
/// when they presign). A header sent as well must have the same value.
/// Requests that are not presigned are left alone.
pub fn hoist_query_headers(parts: &mut Parts, query: &Query) -> Result<(), AuthError> {
    if parts.headers.contains_key(http::header::AUTHORIZATION) || !is_presigned(query) {
        return Ok(());
    }
    hoist_params(parts, query, is_hoisted_header)
}

/// Applies the query parameters whose lower-cased names `hoisted` picks
/// as headers of the request (a presigned URL's, SigV4 or SigV2); a
/// header also sent with another value is `InvalidPresign`.
pub(crate) fn hoist_params(
    parts: &mut Parts,
    query: &Query,
    hoisted: impl Fn(&str) -> bool,
) -> Result<(), AuthError> {
    for (name, value) in query.iter() {
        let lower = name.to_ascii_lowercase();
        if !hoisted(&lower) {
            continue;
        }
        let invalid = || AuthError::InvalidPresign(format!("invalid header parameter {lower}"));
        let header = HeaderName::from_bytes(lower.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        match parts.headers.get(&header) {
            Some(sent) if *sent == value => {}
            Some(_) => {
                return Err(AuthError::InvalidPresign(format!(
                    "{lower} is both a header and a query parameter, with different values"
                )))
            }
            None => {
                parts.headers.insert(header, value);
            }
        }
    }
    Ok(())
}

/// Refuses a request with an `x-amz-*` header its signature does not cover
/// (see the module documentation).
pub fn check_signed_headers(
    req: &AuthRequest,
    parts: &Parts,
    query: &Query,
) -> Result<(), AuthError> {
    let has_param = |name: &str| query.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    // A payload hash in the signed query was checked equal to the header's.
    let payload_covered = |name: &str| {
        name == "x-amz-content-sha256" && (has_param(name) || !req.payload.is_streaming())
    };
    let unsigned: Vec<String> = parts
        .headers
        .keys()
        .map(HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-"))
        .filter(|name| !req.signed_headers.iter().any(|s| s == name))
        .filter(|name| match req.kind {
            AuthKind::Header => *name != "x-amz-content-sha256",
            AuthKind::Presigned { .. } => {
                !((is_hoisted_header(name) && has_param(name)) || payload_covered(name))
            }
        })
        .map(str::to_owned)
        .collect();
    if unsigned.is_empty() {
        Ok(())
    } else {
        Err(AuthError::HeadersNotSigned(unsigned))
    }
}
