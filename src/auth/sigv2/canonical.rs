//! The pure SigV2 steps, as S3's "Signing and authenticating REST requests"
//! defines them:
//!
//! ```text
//! StringToSign = VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//!                CanonicalizedAmzHeaders CanonicalizedResource
//! Signature    = Base64(HMAC-SHA1(secret, StringToSign))
//! ```
//!
//! The string to sign is bytes, not text: header values may carry any
//! byte a header can (UTF-8 metadata), and it is signed as sent.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha1::Sha1;

use crate::auth::SecretKey;
use crate::http::query::decode_pairs;

type HmacSha1 = Hmac<Sha1>;

/// The query parameters that belong to the CanonicalizedResource, sorted.
/// S3's list (acl, lifecycle, location, logging, notification, partNumber,
/// policy, requestPayment, torrent, uploadId, uploads, versionId,
/// versioning, versions, website, delete, the `response-*` overrides) with
/// the later ones botocore signs, which is the widest list a V2 client
/// uses (s3cmd's is a subset). Every other parameter is not signed, so an
/// operation the router chooses by a parameter outside this list is chosen
/// unsigned under V2: today only reads (`list-type`, `policyStatus`, the
/// newer configuration names); a write chosen that way must not be served
/// to V2 (docs/security.md, "SigV2 is a legacy mode").
pub const SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// `name` is a sub-resource (see [`SUBRESOURCES`]).
pub fn is_subresource(name: &[u8]) -> bool {
    SUBRESOURCES
        .binary_search_by(|s| s.as_bytes().cmp(name))
        .is_ok()
}

fn trim(value: &[u8]) -> &[u8] {
    value.trim_ascii()
}

/// CanonicalizedAmzHeaders: every `x-amz-*` header (names are lowercase in
/// a [`HeaderMap`]) as `name:value\n`, sorted by name, the values of a
/// repeated header joined by `,`, each value trimmed. `skip` leaves one
/// header out (the published `x-amz-date` example, see
/// [`super::verify`]). hyper refuses folded header lines, so there is
/// nothing to unfold.
pub fn canonical_amz_headers(headers: &HeaderMap, skip: Option<&str>) -> Vec<u8> {
    let mut names: Vec<&str> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|n| n.starts_with("x-amz-") && Some(*n) != skip)
        .collect();
    names.sort_unstable();
    let mut out = Vec::new();
    for name in names {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(trim(value.as_bytes()));
        }
        out.push(b'\n');
    }
    out
}

/// CanonicalizedResource: `/bucket` for a virtual-hosted request, the path
/// as sent (not decoded, not normalized), then the sub-resources of the
/// raw query, sorted by name (stably), as `?name[=value]&...`.
///
/// Names and values are decoded as the router decodes them (`%XX`, and `+`
/// as a space): what is signed is what the gateway acts on, so
/// `?%61cl` is the signed sub-resource `acl`, not an unsigned parameter.
/// Values are signed decoded, as S3 says ("you do not encode these
/// values") and botocore does. `=` is kept where it was sent: botocore
/// signs `acl=` for `?acl=` and `acl` for `?acl`.
pub fn canonical_resource(
    vhost_bucket: Option<&str>,
    raw_path: &str,
    raw_query: Option<&str>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw_path.len() + 32);
    if let Some(bucket) = vhost_bucket {
        out.push(b'/');
        out.extend_from_slice(bucket.as_bytes());
    }
    out.extend_from_slice(if raw_path.is_empty() {
        b"/"
    } else {
        raw_path.as_bytes()
    });
    let mut subs: Vec<(Vec<u8>, Option<Vec<u8>>)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|segment| !segment.is_empty())
        .filter_map(|segment| {
            let has_value = segment.contains('=');
            let (name, value) = decode_pairs(segment).into_iter().next()?;
            is_subresource(&name).then_some((name, has_value.then_some(value)))
        })
        .collect();
    subs.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, value)) in subs.iter().enumerate() {
        out.push(if i == 0 { b'?' } else { b'&' });
        out.extend_from_slice(name);
        if let Some(value) = value {
            out.push(b'=');
            out.extend_from_slice(value);
        }
    }
    out
}

/// The string to sign. `date` is the Date line: the `Date` header, empty
/// when `x-amz-date` is sent, or `Expires` for a presigned URL.
/// `amz_headers` and `resource` come from [`canonical_amz_headers`] and
/// [`canonical_resource`].
pub fn string_to_sign(
    method: &str,
    content_md5: &[u8],
    content_type: &[u8],
    date: &[u8],
    amz_headers: &[u8],
    resource: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        method.len()
            + content_md5.len()
            + content_type.len()
            + date.len()
            + amz_headers.len()
            + resource.len()
            + 4,
    );
    for line in [method.as_bytes(), content_md5, content_type, date] {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(amz_headers);
    out.extend_from_slice(resource);
    out
}

/// Base64 HMAC-SHA1 of the string to sign under the secret.
pub fn sign(secret: &SecretKey, string_to_sign: &[u8]) -> String {
    let Ok(mut mac) = HmacSha1::new_from_slice(secret.expose().as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(string_to_sign);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subresources_are_sorted_and_unique() {
        assert!(SUBRESOURCES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_subresource(b"acl"));
        assert!(is_subresource(b"uploadId"));
        assert!(!is_subresource(b"uploadid"));
        assert!(!is_subresource(b"prefix"));
        assert!(!is_subresource(b"AWSAccessKeyId"));
        assert!(!is_subresource(b"Signature"));
        assert!(!is_subresource(b"Expires"));
    }

    #[test]
    fn resource_keeps_the_path_and_sorts_subresources() {
        let r =
            |vhost, path, query| String::from_utf8(canonical_resource(vhost, path, query)).unwrap();
        assert_eq!(r(None, "/", None), "/");
        assert_eq!(r(None, "", None), "/");
        assert_eq!(r(Some("b"), "/", None), "/b/");
        assert_eq!(r(Some("b"), "/k", Some("")), "/b/k");
        assert_eq!(r(None, "/b/a%2Fb//./c", None), "/b/a%2Fb//./c");
        assert_eq!(
            r(None, "/b/k", Some("versionId=3&prefix=x&acl&max-keys=2")),
            "/b/k?acl&versionId=3"
        );
        // Stable for repeats, `=` as sent, values decoded as the router does.
        assert_eq!(
            r(None, "/b", Some("uploads=&uploads&%61cl")),
            "/b?acl&uploads=&uploads"
        );
        assert_eq!(
            r(
                None,
                "/b/k",
                Some("response-content-type=text%2Fplain%3B%20a+b&response-expires=0")
            ),
            "/b/k?response-content-type=text/plain; a b&response-expires=0"
        );
        // Query authentication parameters are not sub-resources.
        assert_eq!(
            r(
                None,
                "/b/k",
                Some("AWSAccessKeyId=AK&Expires=1&Signature=abc%3D&uploadId=u")
            ),
            "/b/k?uploadId=u"
        );
    }

    #[test]
    fn amz_headers_are_sorted_joined_and_trimmed() {
        let mut h = HeaderMap::new();
        h.append("x-amz-meta-b", "two".parse().unwrap());
        h.append("X-Amz-Meta-A", "one".parse().unwrap());
        h.append("x-amz-meta-b", "  three  ".parse().unwrap());
        h.append("content-type", "text/plain".parse().unwrap());
        h.append("x-amz-date", "d".parse().unwrap());
        h.append(
            "x-amz-meta-u",
            http::HeaderValue::from_bytes("é  x".as_bytes()).unwrap(),
        );
        assert_eq!(
            String::from_utf8(canonical_amz_headers(&h, None)).unwrap(),
            "x-amz-date:d\nx-amz-meta-a:one\nx-amz-meta-b:two,three\nx-amz-meta-u:é  x\n"
        );
        assert_eq!(
            String::from_utf8(canonical_amz_headers(&h, Some("x-amz-date"))).unwrap(),
            "x-amz-meta-a:one\nx-amz-meta-b:two,three\nx-amz-meta-u:é  x\n"
        );
        assert!(canonical_amz_headers(&HeaderMap::new(), None).is_empty());
    }
}
