//! Reading the SigV2 claims of a request: `Authorization: AWS AKID:sig`,
//! or the query parameters `AWSAccessKeyId`, `Expires` and `Signature`;
//! and the dates V2 clients send.

use http::request::Parts;
use http::HeaderMap;
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

use crate::auth::sigv2::{V2Kind, V2Request};
use crate::auth::sigv4::{parse_amz_date, PayloadMode};
use crate::auth::AuthError;
use crate::http::Query;

/// The query parameters of a V2 presigned URL.
pub(crate) const ACCESS_KEY_PARAM: &str = "AWSAccessKeyId";
pub(crate) const EXPIRES_PARAM: &str = "Expires";
pub(crate) const SIGNATURE_PARAM: &str = "Signature";

/// The scheme of a V2 `Authorization` header.
const SCHEME: &str = "AWS";

/// Longest date we read (`Wednesday, 28-Mar-2007 01:29:59 GMT` is 36).
const MAX_DATE_LEN: usize = 64;

/// The `Authorization` value uses the V2 scheme (`AWS AKID:signature`).
pub(crate) fn is_v2_header(value: &http::HeaderValue) -> bool {
    let value = value.as_bytes().trim_ascii_start();
    value
        .strip_prefix(SCHEME.as_bytes())
        .is_some_and(|rest| rest.first().is_some_and(|b| *b == b' ' || *b == b'\t'))
}

/// The query carries a V2 signature parameter (`AWSAccessKeyId` or
/// `Signature`; names are case-sensitive, as S3 reads them).
pub(crate) fn is_v2_query(query: &Query) -> bool {
    query
        .iter()
        .any(|(n, _)| n == ACCESS_KEY_PARAM || n == SIGNATURE_PARAM)
}

/// Parses `AWS AKID:signature`. Anything else after the scheme is the
/// answer S3 gives: 400 InvalidArgument.
pub(crate) fn parse_header(
    parts: &Parts,
    value: &http::HeaderValue,
) -> Result<V2Request, AuthError> {
    let text = value
        .to_str()
        .map_err(|_| AuthError::MalformedV2Authorization)?
        .trim();
    let rest = text
        .strip_prefix(SCHEME)
        .ok_or(AuthError::MalformedV2Authorization)?
        .trim();
    let (access_key, signature) = rest
        .split_once(':')
        .ok_or(AuthError::MalformedV2Authorization)?;
    let (access_key, signature) = (access_key.trim(), signature.trim());
    if access_key.is_empty()
        || signature.is_empty()
        || access_key.contains(char::is_whitespace)
        || signature.contains(char::is_whitespace)
    {
        return Err(AuthError::MalformedV2Authorization);
    }
    let date = request_date(&parts.headers)?;
    Ok(V2Request {
        access_key: access_key.to_string(),
        signature: signature.to_string(),
        kind: V2Kind::Header { date },
        payload: payload(&parts.headers)?,
    })
}

fn query_param<'a>(query: &'a Query, name: &str) -> Result<Option<&'a str>, AuthError> {
    let mut found = query.iter().filter(|(n, _)| *n == name);
    let Some((_, value)) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(AuthError::InvalidPresign(format!("repeated {name}")));
    }
    Ok(Some(value))
}

/// Parses the query form. All three parameters are needed (S3: 403
/// AccessDenied); `Expires` is seconds since the epoch.
pub(crate) fn parse_query(parts: &Parts, query: &Query) -> Result<V2Request, AuthError> {
    let access_key = query_param(query, ACCESS_KEY_PARAM)?;
    let expires = query_param(query, EXPIRES_PARAM)?;
    let signature = query_param(query, SIGNATURE_PARAM)?;
    let (Some(access_key), Some(expires), Some(signature)) = (access_key, expires, signature)
    else {
        return Err(AuthError::IncompleteV2Query);
    };
    if access_key.is_empty() || signature.is_empty() {
        return Err(AuthError::IncompleteV2Query);
    }
    let expires_at = parse_expires(expires)?;
    Ok(V2Request {
        access_key: access_key.to_string(),
        signature: signature.to_string(),
        kind: V2Kind::Query {
            expires: expires.to_string(),
            expires_at,
        },
        payload: payload(&parts.headers)?,
    })
}

/// `Expires`: decimal seconds since the epoch, as S3 reads it.
fn parse_expires(value: &str) -> Result<i64, AuthError> {
    let invalid = || AuthError::InvalidV2Expires(value.chars().take(MAX_DATE_LEN).collect());
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    value.parse::<i64>().map_err(|_| invalid())
}

/// The request time: `x-amz-date` if sent, else `Date`. S3 answers a
/// missing or unreadable one with 403 AccessDenied.
fn request_date(headers: &HeaderMap) -> Result<OffsetDateTime, AuthError> {
    let value = headers
        .get("x-amz-date")
        .or_else(|| headers.get(http::header::DATE))
        .ok_or(AuthError::MissingDate)?;
    value
        .to_str()
        .ok()
        .and_then(parse_date)
        .ok_or(AuthError::MissingDate)
}

/// An HTTP date (`Tue, 27 Mar 2007 19:36:42 GMT`, RFC 850 and asctime
/// forms), an RFC 2822 date with a numeric zone (`... +0000`, as s3cmd and
/// AWS's examples write it), or SigV4's `20070327T193642Z`.
pub fn parse_date(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_DATE_LEN {
        return None;
    }
    if let Ok(t) = httpdate::parse_http_date(text) {
        return Some(OffsetDateTime::from(t));
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc2822) {
        return Some(t.to_offset(time::UtcOffset::UTC));
    }
    parse_amz_date(text)
}

/// The body as V2 sees it: unsigned, unless `x-amz-content-sha256` (a
/// signed `x-amz-*` header in V2) names its SHA-256, which is then
/// checked. aws-chunked bodies are framed and chunk-signed for SigV4: a V2
/// request that announces one is refused, never read half-checked.
fn payload(headers: &HeaderMap) -> Result<PayloadMode, AuthError> {
    let mode = PayloadMode::from_headers(headers)?;
    let chunked_encoding = headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .any(|v| {
            v.as_bytes()
                .split(|b| *b == b',')
                .any(|c| c.trim_ascii().eq_ignore_ascii_case(b"aws-chunked"))
        });
    if mode.is_streaming() || chunked_encoding {
        return Err(AuthError::StreamingWithV2);
    }
    Ok(mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_in_the_forms_v2_clients_send() {
        let t = datetime!(2007-03-27 19:36:42 UTC);
        for text in [
            "Tue, 27 Mar 2007 19:36:42 +0000",
            "Tue, 27 Mar 2007 19:36:42 GMT",
            "Tue, 27 Mar 2007 21:36:42 +0200",
            "Tuesday, 27-Mar-07 19:36:42 GMT",
            "Tue Mar 27 19:36:42 2007",
            "20070327T193642Z",
            "  Tue, 27 Mar 2007 19:36:42 GMT ",
        ] {
            assert_eq!(parse_date(text), Some(t), "{text}");
        }
        for text in [
            "",
            "yesterday",
            "2007-03-27T19:36:42Z",
            "Tue, 27 Mar 2007 19:36:42",
            "Tue, 32 Mar 2007 19:36:42 GMT",
            &"Tue, 27 Mar 2007 19:36:42 GMT".repeat(3),
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }

    #[test]
    fn expires_is_decimal_epoch_seconds() {
        assert_eq!(parse_expires("1175139620").unwrap(), 1_175_139_620);
        assert_eq!(parse_expires("0").unwrap(), 0);
        for bad in [
            "",
            "-1",
            "+5",
            "1e9",
            " 1",
            "99999999999999999999",
            "9999999999999999999",
        ] {
            assert!(
                matches!(parse_expires(bad), Err(AuthError::InvalidV2Expires(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn header_scheme_detection() {
        let v = |s: &str| http::HeaderValue::from_str(s).unwrap();
        assert!(is_v2_header(&v("AWS AK:sig")));
        assert!(is_v2_header(&v("AWS\tAK:sig")));
        assert!(is_v2_header(&v("AWS ")));
        assert!(!is_v2_header(&v("AWS")));
        assert!(!is_v2_header(&v("AWS4-HMAC-SHA256 Credential=x")));
        assert!(!is_v2_header(&v("AWSX AK:sig")));
        assert!(!is_v2_header(&v("aws AK:sig")));
    }
}
