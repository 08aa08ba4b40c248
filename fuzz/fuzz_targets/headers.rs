//! Typed request headers: Range, the conditionals (GET/HEAD, copy source,
//! writes), content headers, user metadata, checksum headers, Content-MD5
//! and `x-amz-content-sha256`.
//!
//! Input: object size (u64) and Last-Modified in ms (u64, taken as i64),
//! then text: line 1 is a Range value as given, the other lines are
//! `name:value` headers.
//!
//! Invariants:
//! * an accepted range `(start, end)` is non-empty and lies within the
//!   object (`start < end <= size`); a small size (input mod 64) is tried
//!   as well as the raw one, so ranges near the end are reached;
//!   `Range` read from the headers obeys the same rule;
//! * conditionals: no header → `Proceed`; `If-Match` listing the ETag (or
//!   `*`) never fails the precondition, `If-None-Match` listing it is
//!   never `Proceed`; the copy-source twins behave alike;
//! * a write condition `IfNoneMatch` comes only from `If-None-Match: *`,
//!   `IfMatch` only from an `If-Match` header;
//! * the stored Content-Encoding never keeps `aws-chunked` nor an empty
//!   coding; user metadata names drop their prefix and fit in 2 KiB;
//! * a checksum value or Content-MD5 accepted has its algorithm's length.

#![no_main]

use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use s3gw::auth::{parse_checksum_request, parse_content_md5, PayloadMode};
use s3gw::http::headers::{
    content_headers, parse_range, strip_aws_chunked, text, user_metadata, write_condition,
    Conditions, Verdict,
};
use s3gw::storage::WriteCondition;
use s3gw::types::MAX_USER_META_BYTES;
use s3gw_fuzz::{header_pairs, lines, trim, Cursor};

const ETAG: &str = "5d41402abc4b2a76b9719d911017c592";

fn check_range(value: Option<&str>, size: u64) {
    if let Ok(Some((start, end))) = parse_range(value, size) {
        assert!(
            start < end && end <= size,
            "range {value:?} of a {size}-byte object gave {start}..{end}"
        );
    }
}

fn check_conditions(c: &Conditions, last_modified_ms: i64, listed_if_match: bool) {
    let verdict = c.evaluate(ETAG, last_modified_ms);
    let none = c.if_match.is_none()
        && c.if_none_match.is_none()
        && c.if_modified_since.is_none()
        && c.if_unmodified_since.is_none();
    if none {
        assert_eq!(verdict, Verdict::Proceed);
    }
    if listed_if_match {
        assert_ne!(verdict, Verdict::PreconditionFailed);
    }
    let lists = |v: Option<&str>| {
        v.is_some_and(|l| {
            l.split(',')
                .any(|e| e.trim() == "*" || e.trim() == ETAG || e.trim() == format!("\"{ETAG}\""))
        })
    };
    if lists(c.if_none_match.as_deref()) && verdict != Verdict::PreconditionFailed {
        assert_eq!(verdict, Verdict::NotModified);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    let size = c.u64();
    let last_modified_ms = c.u64() as i64;
    let l = lines(c.rest());
    let Some((first, rest)) = l.split_first() else {
        return;
    };

    if let Ok(range) = std::str::from_utf8(first) {
        check_range(Some(range), size);
        check_range(Some(range), size % 64);
    }

    let mut h = HeaderMap::new();
    for (name, value) in header_pairs(rest) {
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(trim(value)),
        ) else {
            continue;
        };
        h.append(name, value);
    }

    check_range(text(&h, "range"), size);
    check_range(text(&h, "range"), size % 64);

    let req = Conditions::from_request(&h);
    let listed = |name: &str| {
        h.get_all(name).iter().count() == 1
            && text(&h, name).is_some_and(|v| {
                v.split(',').any(|e| {
                    e.trim() == "*" || e.trim() == ETAG || e.trim() == format!("\"{ETAG}\"")
                })
            })
    };
    check_conditions(&req, last_modified_ms, listed("if-match"));
    let copy = Conditions::from_copy_source(&h);
    check_conditions(
        &copy,
        last_modified_ms,
        listed("x-amz-copy-source-if-match"),
    );

    match write_condition(&h, "PutObject") {
        Ok(WriteCondition::IfNoneMatch) => {
            let v = h.get("if-none-match").expect("If-None-Match");
            assert_eq!(String::from_utf8_lossy(v.as_bytes()).trim(), "*");
            assert!(!h.contains_key("if-match"));
        }
        Ok(WriteCondition::IfMatch(_)) => assert!(h.contains_key("if-match")),
        Ok(WriteCondition::None) => {
            assert!(!h.contains_key("if-match") && !h.contains_key("if-none-match"));
        }
        // The lifecycle worker's condition; no header makes it.
        Ok(WriteCondition::IfUnchanged(_)) => panic!("a header made IfUnchanged"),
        Err(_) => {}
    }

    let content = content_headers(&h);
    if let Some(enc) = content.content_encoding {
        for coding in enc.split(',') {
            assert!(!coding.trim().is_empty(), "empty coding in {enc:?}");
            assert!(!coding.trim().eq_ignore_ascii_case("aws-chunked"));
        }
    }
    if let Ok(v) = std::str::from_utf8(first) {
        if let Some(s) = strip_aws_chunked(v) {
            assert!(s
                .split(',')
                .all(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked")));
        }
    }

    if let Ok(meta) = user_metadata(&h) {
        let total: usize = meta.iter().map(|(k, v)| k.len() + v.len()).sum();
        // Repeated headers are joined with a comma, which is not counted.
        let commas: usize = meta.values().map(|v| v.matches(',').count()).sum();
        assert!(total <= MAX_USER_META_BYTES + commas);
        for k in meta.keys() {
            assert!(h.contains_key(format!("x-amz-meta-{k}").as_str()));
        }
    }

    if let Ok(Some(req)) = parse_checksum_request(&h) {
        if let Some(v) = &req.expected {
            assert_eq!(v.len(), req.algorithm.digest_len());
        }
    }
    if let Ok(Some(md5)) = parse_content_md5(&h) {
        assert_eq!(md5.len(), 16);
    }
    let _ = PayloadMode::from_headers(&h);
});
