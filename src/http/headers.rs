//! Typed parsing of request headers: ranges, conditionals, content headers
//! and user metadata.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::error::{S3Error, S3ErrorCode};
use crate::storage::records::ContentHeaders;
use crate::storage::WriteCondition;
use crate::types::{unquote_etag, MAX_USER_META_BYTES};

/// A header as UTF-8 text, if present and valid.
pub fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// One `Range: bytes=…` range, before the object's size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=a-` or `bytes=a-b`: from `start` to `last` inclusive (to the
    /// end without `last`); `last` is never below `start`.
    From { start: u64, last: Option<u64> },
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The range a `Range` header names; `None` for syntax S3 ignores
    /// (several ranges, another unit, junk), which reads the whole object.
    pub(crate) fn parse(value: &str) -> Option<ByteRange> {
        let spec = value.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.trim().split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() {
            return position(b).map(ByteRange::Suffix);
        }
        let start = position(a)?;
        let last = if b.is_empty() {
            None
        } else {
            Some(position(b).filter(|e| *e >= start)?)
        };
        Some(ByteRange::From { start, last })
    }

    /// The half-open range in an object of `size` bytes, or `InvalidRange`
    /// when none of it is there.
    pub(crate) fn resolve(self, size: u64) -> Result<(u64, u64), S3Error> {
        let unsatisfiable = || S3Error::code(S3ErrorCode::InvalidRange);
        match self {
            ByteRange::Suffix(n) if n == 0 || size == 0 => Err(unsatisfiable()),
            ByteRange::Suffix(n) => Ok((size.saturating_sub(n), size)),
            ByteRange::From { start, .. } if start >= size => Err(unsatisfiable()),
            ByteRange::From { start, last } => {
                let end = last.map_or(size, |e| e.saturating_add(1).min(size));
                Ok((start, end))
            }
        }
    }
}

/// Resolves a `Range` header against an object of `size` bytes: `Ok(None)`
/// means the whole object, `Ok(Some((start, end)))` the half-open range.
/// Syntax S3 ignores (several ranges, junk) yields the whole object.
pub fn parse_range(value: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    value
        .and_then(ByteRange::parse)
        .map(|r| r.resolve(size))
        .transpose()
}

/// A byte position of a Range: decimal digits only; one past `u64::MAX`
/// is as far past any object's end as `u64::MAX` (RFC 9110 §14.1.2).
fn position(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

fn etag_list_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|e| e == "*" || unquote_etag(e) == etag)
}

fn http_date(v: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(v.trim()).ok()
}

/// Last-Modified at the one-second precision HTTP dates carry.
fn to_system_time_secs(last_modified_ms: i64) -> SystemTime {
    let secs = u64::try_from(last_modified_ms.div_euclid(1000)).unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// The four conditional headers of GetObject/HeadObject, or their
/// `x-amz-copy-source-if-*` twins.
#[derive(Debug, Default, Clone)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub if_unmodified_since: Option<String>,
}

/// What the conditions say about an existing object.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    NotModified,
    PreconditionFailed,
}

impl Conditions {
    pub fn from_request(h: &HeaderMap) -> Self {
        Conditions::named(h, "")
    }

    pub fn from_copy_source(h: &HeaderMap) -> Self {
        Conditions::named(h, "x-amz-copy-source-")
    }

    fn named(h: &HeaderMap, prefix: &str) -> Self {
        let get = |name: &str| text(h, &format!("{prefix}{name}")).map(str::to_owned);
        Conditions {
            if_match: get("if-match"),
            if_none_match: get("if-none-match"),
            if_modified_since: get("if-modified-since"),
            if_unmodified_since: get("if-unmodified-since"),
        }
    }

    /// Evaluates the conditions as S3 does: If-Match wins over
    /// If-Unmodified-Since, If-None-Match over If-Modified-Since.
    pub fn evaluate(&self, etag: &str, last_modified_ms: i64) -> Verdict {
        let modified = to_system_time_secs(last_modified_ms);
        if let Some(list) = &self.if_match {
            if !etag_list_matches(list, etag) {
                return Verdict::PreconditionFailed;
            }
        } else if let Some(since) = self.if_unmodified_since.as_deref().and_then(http_date) {
            if modified > since {
                return Verdict::PreconditionFailed;
            }
        }
        if let Some(list) = &self.if_none_match {
            if etag_list_matches(list, etag) {
                return Verdict::NotModified;
            }
        } else if let Some(since) = self.if_modified_since.as_deref().and_then(http_date) {
            if modified <= since {
                return Verdict::NotModified;
            }
        }
        Verdict::Proceed
    }
}

/// The condition of a write (`operation`: PutObject,
/// CompleteMultipartUpload): `If-None-Match: *` or `If-Match: <etag>`,
/// quoted or not. S3 answers 501 to any other `If-None-Match` and to both
/// headers together; a header that is not text still counts (its ETag then
/// matches nothing), so a condition is never silently dropped.
pub fn write_condition(h: &HeaderMap, operation: &str) -> Result<WriteCondition, S3Error> {
    let value = |name: &str| {
        h.get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
    };
    match (value("if-none-match"), value("if-match")) {
        (Some(_), Some(_)) => Err(S3Error::new(
            S3ErrorCode::NotImplemented,
            "If-Match and If-None-Match together are not supported",
        )),
        (Some(v), None) if v == "*" => Ok(WriteCondition::IfNoneMatch),
        (Some(_), None) => Err(S3Error::new(
            S3ErrorCode::NotImplemented,
            format!("If-None-Match on {operation} only takes *"),
        )),
        (None, Some(v)) => Ok(WriteCondition::IfMatch(unquote_etag(&v).to_owned())),
        (None, None) => Ok(WriteCondition::None),
    }
}

/// Content headers as stored with an object.
pub fn content_headers(h: &HeaderMap) -> ContentHeaders {
    let get = |n: &str| text(h, n).map(str::to_owned);
    ContentHeaders {
        content_type: get("content-type"),
        content_encoding: text(h, "content-encoding").and_then(strip_aws_chunked),
        cache_control: get("cache-control"),
        content_disposition: get("content-disposition"),
        content_language: get("content-language"),
        expires: get("expires"),
    }
}

/// Removes the `aws-chunked` transport coding from a Content-Encoding
/// value and keeps the rest as the client spelled it (`deflate, gzip`
/// stays so, as S3 keeps it); `None` if nothing else remains.
pub fn strip_aws_chunked(v: &str) -> Option<String> {
    let is_chunked = |c: &str| c.trim().eq_ignore_ascii_case("aws-chunked");
    let rest = if v.split(',').any(is_chunked) {
        v.split(',')
            .filter(|c| !is_chunked(c))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        v.to_owned()
    };
    let rest = rest.trim_matches([' ', '\t', ',']);
    (!rest.is_empty()).then(|| rest.to_owned())
}

/// `x-amz-meta-*` headers, names lower-cased without the prefix; at most
/// 2 KiB of names and values in all.
pub fn user_metadata(h: &HeaderMap) -> Result<BTreeMap<String, String>, S3Error> {
    let mut meta = BTreeMap::new();
    let mut total = 0;
    for (name, value) in h {
        let Some(key) = name.as_str().strip_prefix("x-amz-meta-") else {
            continue;
        };
        // Encoded words decoded, other bytes read as ISO-8859-1, as S3 does.
        let value = super::rfc2047::decode(value.as_bytes());
        total += key.len() + value.len();
        meta.entry(key.to_owned())
            .and_modify(|v: &mut String| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    if total > MAX_USER_META_BYTES {
        return Err(S3Error::code(S3ErrorCode::MetadataTooLarge));
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let ok = |v: &str, size| parse_range(Some(v), size).unwrap();
        assert_eq!(ok("bytes=0-0", 10), Some((0, 1)));
        assert_eq!(ok("bytes=2-5", 10), Some((2, 6)));
        assert_eq!(ok("bytes=5-", 10), Some((5, 10)));
        assert_eq!(ok("bytes=5-100", 10), Some((5, 10)));
        assert_eq!(ok("bytes=-3", 10), Some((7, 10)));
        assert_eq!(ok("bytes=-30", 10), Some((0, 10)));
        assert_eq!(ok("bytes=0-1,3-4", 10), None);
        assert_eq!(ok("items=0-1", 10), None);
        assert_eq!(ok("bytes=5-2", 10), None);
        assert_eq!(ok("bytes=x-2", 10), None);
        assert_eq!(ok("bytes=+1-2", 10), None);
        assert_eq!(parse_range(None, 10).unwrap(), None);
        // Positions past u64::MAX are past the end, not unreadable.
        let huge = "99999999999999999999999";
        assert_eq!(ok(&format!("bytes=0-{huge}"), 10), Some((0, 10)));
        assert_eq!(ok(&format!("bytes=-{huge}"), 10), Some((0, 10)));
        let (from_huge, huge_to_huge) = (format!("bytes={huge}-"), format!("bytes={huge}-{huge}"));
        for bad in [
            "bytes=10-",
            "bytes=10-20",
            "bytes=-0",
            &from_huge,
            &huge_to_huge,
        ] {
            let e = parse_range(Some(bad), 10).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidRange, "{bad}");
        }
        assert!(parse_range(Some("bytes=0-0"), 0).is_err());
        assert!(parse_range(Some("bytes=-1"), 0).is_err());
    }

    #[test]
    fn conditionals() {
        // Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT, plus 500 ms.
        let lm = 1_445_412_480_500;
        let c = |m: Option<&str>, n: Option<&str>, ms: Option<&str>, us: Option<&str>| Conditions {
            if_match: m.map(str::to_owned),
            if_none_match: n.map(str::to_owned),
            if_modified_since: ms.map(str::to_owned),
            if_unmodified_since: us.map(str::to_owned),
        };
        let before = Some("Wed, 21 Oct 2015 07:27:59 GMT");
        let same = Some("Wed, 21 Oct 2015 07:28:00 GMT");
        let after = Some("Wed, 21 Oct 2015 07:28:01 GMT");
        use Verdict::*;
        let table = [
            (c(None, None, None, None), Proceed),
            (c(Some("\"e1\""), None, None, None), Proceed),
            (c(Some("e1"), None, None, None), Proceed),
            (c(Some("\"x\", \"e1\""), None, None, None), Proceed),
            (c(Some("*"), None, None, None), Proceed),
            (c(Some("\"x\""), None, None, None), PreconditionFailed),
            (c(None, Some("\"e1\""), None, None), NotModified),
            (c(None, Some("*"), None, None), NotModified),
            (c(None, Some("\"x\""), None, None), Proceed),
            (c(None, None, same, None), NotModified),
            (c(None, None, after, None), NotModified),
            (c(None, None, before, None), Proceed),
            (c(None, None, None, before), PreconditionFailed),
            (c(None, None, None, same), Proceed),
            // If-Match true overrides a failing If-Unmodified-Since.
            (c(Some("e1"), None, None, before), Proceed),
            // If-None-Match false (no match) overrides If-Modified-Since.
            (c(None, Some("\"x\""), same, None), Proceed),
            (c(None, None, Some("garbage"), None), Proceed),
        ];
        for (i, (cond, want)) in table.into_iter().enumerate() {
            assert_eq!(cond.evaluate("e1", lm), want, "case {i}: {cond:?}");
        }
    }

    #[test]
    fn write_conditions() {
        let cond = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (n, v) in pairs {
                h.insert(*n, v.parse().unwrap());
            }
            write_condition(&h, "CompleteMultipartUpload").map_err(|e| e.code)
        };
        use WriteCondition::{IfMatch, IfNoneMatch};
        assert_eq!(cond(&[]), Ok(WriteCondition::None));
        assert_eq!(cond(&[("if-none-match", "*")]), Ok(IfNoneMatch));
        assert_eq!(cond(&[("if-none-match", " * ")]), Ok(IfNoneMatch));
        assert_eq!(cond(&[("if-match", "\"e1\"")]), Ok(IfMatch("e1".into())));
        assert_eq!(cond(&[("if-match", "e1-2")]), Ok(IfMatch("e1-2".into())));
        let not_implemented = Err(S3ErrorCode::NotImplemented);
        assert_eq!(cond(&[("if-none-match", "\"e1\"")]), not_implemented);
        assert_eq!(
            cond(&[("if-none-match", "*"), ("if-match", "e1")]),
            not_implemented
        );
        let mut h = HeaderMap::new();
        h.insert("if-match", http::HeaderValue::from_bytes(b"\xff").unwrap());
        assert!(matches!(
            write_condition(&h, "PutObject"),
            Ok(WriteCondition::IfMatch(_))
        ));
    }

    #[test]
    fn metadata_and_content() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-meta-Color", "blue".parse().unwrap());
        h.insert("content-encoding", "gzip,aws-chunked".parse().unwrap());
        h.insert("content-type", "text/plain".parse().unwrap());
        let m = user_metadata(&h).unwrap();
        assert_eq!(m.get("color").map(String::as_str), Some("blue"));
        let c = content_headers(&h);
        assert_eq!(c.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(c.content_type.as_deref(), Some("text/plain"));
        assert_eq!(strip_aws_chunked("aws-chunked"), None);
        for (sent, kept) in [
            ("deflate, gzip", Some("deflate, gzip")),
            ("deflate, gzip, aws-chunked", Some("deflate, gzip")),
            ("aws-chunked, deflate,  gzip", Some("deflate,  gzip")),
            ("deflate, AWS-Chunked ,gzip", Some("deflate,gzip")),
            ("gzip,aws-chunked", Some("gzip")),
            ("Identity", Some("Identity")),
            (" aws-chunked , ", None),
            ("", None),
        ] {
            assert_eq!(strip_aws_chunked(sent).as_deref(), kept, "{sent:?}");
        }
        h.insert("x-amz-meta-big", "x".repeat(2100).parse().unwrap());
        assert_eq!(
            user_metadata(&h).unwrap_err().code,
            S3ErrorCode::MetadataTooLarge
        );
    }
}
