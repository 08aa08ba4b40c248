//! The pure SigV4 steps: UriEncode, canonical query and headers, canonical
//! request, string to sign, signing key and signature.

use hmac::{Hmac, Mac};
use http::request::Parts;
use percent_encoding::percent_decode;
use sha2::{Digest, Sha256};

use crate::auth::sigv4::ALGORITHM;
use crate::auth::SecretKey;
use crate::http::query::{decode_pairs, Query};

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 signing key for service `s3`.
pub fn signing_key(secret: &SecretKey, scope_date: &str, region: &str) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret.expose().len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.expose().as_bytes());
    let k_date = hmac_sha256(&k_secret, scope_date.as_bytes());
    k_secret.fill(0);
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, b"s3");
    hmac_sha256(&k_service, b"aws4_request")
}

/// Lowercase hex HMAC-SHA256 of `string_to_sign`.
pub fn sign(key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(key, string_to_sign.as_bytes()))
}

/// `YYYYMMDD/region/s3/aws4_request`.
pub fn scope(scope_date: &str, region: &str) -> String {
    format!("{scope_date}/{region}/s3/aws4_request")
}

/// `AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The canonical request. `canonical_headers` is the block returned by
/// [`canonical_headers`] (each line ends with `\n`).
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    format!("{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}")
}

fn uri_encode_bytes(input: &[u8], encode_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in input {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b'/' if !encode_slash => out.push('/'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0x0f)] as char);
            }
        }
    }
}

/// S3's UriEncode: unreserved `A-Za-z0-9-._~` kept, `/` kept unless
/// `encode_slash`, every other byte as `%XX` (uppercase).
pub fn uri_encode(input: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    uri_encode_bytes(input.as_bytes(), encode_slash, &mut out);
    out
}

/// The second canonical URI we try: the path percent-decoded, then
/// UriEncoded (for clients that send e.g. `$` raw but sign `%24`).
pub fn reencoded_path(raw_path: &str) -> String {
    let decoded: Vec<u8> = percent_decode(raw_path.as_bytes()).collect();
    let mut out = String::with_capacity(decoded.len());
    uri_encode_bytes(&decoded, false, &mut out);
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn is_signature_param(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"X-Amz-Signature")
}

/// The canonical query of a raw query string: every parameter except
/// `X-Amz-Signature`, decoded (as [`Query`] decodes it) and UriEncoded,
/// sorted by name then value, `k=` for empty values.
pub fn canonical_query(raw_query: &str) -> String {
    let pairs = decode_pairs(raw_query);
    canonical_query_pairs(pairs.iter().map(|(n, v)| (n.as_slice(), v.as_slice())))
}

/// [`canonical_query`] of an already decoded query.
pub fn canonical_query_of(query: &Query) -> String {
    canonical_query_pairs(query.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

fn canonical_query_pairs<'a>(decoded: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> String {
    let mut pairs: Vec<(String, String)> = decoded
        .filter(|(name, _)| !is_signature_param(name))
        .map(|(name, value)| {
            let mut n = String::new();
            let mut v = String::new();
            uri_encode_bytes(name, true, &mut n);
            uri_encode_bytes(value, true, &mut v);
            (n, v)
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Trims a header value and collapses inner runs of spaces to one.
fn push_trimmed(value: &[u8], out: &mut String) {
    let text = String::from_utf8_lossy(value);
    let mut previous_space = false;
    for c in text.trim_matches(|c| c == ' ' || c == '\t').chars() {
        if c == ' ' {
            if !previous_space {
                out.push(' ');
            }
            previous_space = true;
        } else {
            out.push(c);
            previous_space = false;
        }
    }
}

/// The canonical headers block: `name:value\n` for each signed header, values
/// trimmed with inner spaces collapsed, repeated headers joined by `,`.
/// `host` falls back to the URI authority when there is no Host header.
pub fn canonical_headers(parts: &Parts, signed_headers: &[String]) -> String {
    let mut out = String::new();
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let mut values = parts.headers.get_all(name.as_str()).iter().peekable();
        if values.peek().is_none() && name == "host" {
            if let Some(authority) = parts.uri.authority() {
                out.push_str(authority.as_str());
            }
        }
        let mut first = true;
        for value in values {
            if !first {
                out.push(',');
            }
            first = false;
            push_trimmed(value.as_bytes(), &mut out);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::auth::test_support::parts;

    #[test]
    fn uri_encode_table() {
        let cases = [
            ("abcXYZ019-._~", true, "abcXYZ019-._~"),
            ("a/b", false, "a/b"),
            ("a/b", true, "a%2Fb"),
            ("a b+c=d&e", true, "a%20b%2Bc%3Dd%26e"),
            ("$!*'()", true, "%24%21%2A%27%28%29"),
            ("é", true, "%C3%A9"),
            ("%", false, "%25"),
        ];
        for (input, encode_slash, want) in cases {
            assert_eq!(uri_encode(input, encode_slash), want, "{input}");
        }
        assert_eq!(reencoded_path("/test$file.text"), "/test%24file.text");
        assert_eq!(reencoded_path("/a%2fb/%7e/x y"), "/a/b/~/x%20y");
        assert_eq!(reencoded_path("//a/./b"), "//a/./b");
    }

    #[test]
    fn canonical_query_rules() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("lifecycle"), "lifecycle=");
        assert_eq!(
            canonical_query("prefix=J&max-keys=2"),
            "max-keys=2&prefix=J"
        );
        // Sorted by name, then by value; '+' is a space, as the router reads
        // it, and `%2B` a plus; X-Amz-Signature dropped.
        assert_eq!(
            canonical_query("b=2&a=y&a=x&c=a+b&X-Amz-Signature=ff&d=%7e%2F&&e=%20&f=%2B"),
            "a=x&a=y&b=2&c=a%20b&d=~%2F&e=%20&f=%2B"
        );
        assert_eq!(
            canonical_query("x-id=GetObject&partNumber=1"),
            "partNumber=1&x-id=GetObject"
        );
    }

    #[test]
    fn canonical_headers_trim_collapse_and_join() {
        let p = parts(
            "GET",
            "/",
            &[
                ("host", "h"),
                ("x-amz-meta-a", "  a   b  c "),
                ("x-amz-meta-r", "one"),
                ("x-amz-meta-r", "two  2"),
            ],
        );
        let names = ["host", "x-amz-meta-a", "x-amz-meta-r"].map(String::from);
        assert_eq!(
            canonical_headers(&p, &names),
            "host:h\nx-amz-meta-a:a b c\nx-amz-meta-r:one,two 2\n"
        );
        // Without a Host header the URI authority stands in.
        let p = parts("GET", "http://example.com:8080/x", &[]);
        assert_eq!(
            canonical_headers(&p, &["host".to_string()]),
            "host:example.com:8080\n"
        );
    }
}
