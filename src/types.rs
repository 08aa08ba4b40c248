//! Domain newtypes and their validation rules, shared by the router and the
//! handlers.

use std::fmt;

mod checksum;
mod cors;
mod lifecycle;
mod status_kind;
mod tags;
mod versions;

pub use checksum::{ChecksumAlgorithm, ChecksumType};
pub use cors::{wildcard_match, CorsConfig, CorsMatch, CorsRule, CORS_METHODS, MAX_CORS_RULES};
pub use lifecycle::{
    due_ms, Expiration, LifecycleConfig, LifecycleRule, NoncurrentExpiration, RuleFilter, DAY_MS,
    MAX_FILTER_SIZE, MAX_LIFECYCLE_RULES, MAX_NEWER_NONCURRENT_VERSIONS, MAX_RULE_ID_LEN,
};
pub(crate) use status_kind::StatusKind;
pub use tags::{
    TagError, TagSet, MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, MAX_TAG_KEY_LEN, MAX_TAG_VALUE_LEN,
};
pub use versions::{inverted, VersionId, VersionRef, VersioningState, NULL_VERSION};

/// A bucket name that follows the S3 naming rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BucketName(String);

impl BucketName {
    /// Validates `name` by the S3 rules for new buckets: 3–63 characters of
    /// lower-case letters, digits, `.` and `-`, starting and ending with a
    /// letter or digit, no `..`, not an IPv4 address, no reserved affixes.
    pub fn parse(name: &str) -> Option<BucketName> {
        let b = name.as_bytes();
        if !(3..=63).contains(&b.len()) {
            return None;
        }
        let ok_char =
            |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-';
        let ok_edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        if !b.iter().all(|&c| ok_char(c)) || !ok_edge(b[0]) || !ok_edge(b[b.len() - 1]) {
            return None;
        }
        if name.contains("..") || name.contains(".-") || name.contains("-.") {
            return None;
        }
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return None;
        }
        let reserved_prefix = ["xn--", "sthree-", "amzn-s3-demo-"];
        let reserved_suffix = ["-s3alias", "--ol-s3", "--x-s3", "--table-s3"];
        if reserved_prefix.iter().any(|p| name.starts_with(p))
            || reserved_suffix.iter().any(|s| name.ends_with(s))
        {
            return None;
        }
        Some(BucketName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A multipart upload id: 32 lowercase hex digits (a UUIDv7, so ids sort
/// by creation time). Ids are checked strictly before any lookup: the
/// embedded store keys an upload by `key‖0x00‖id` and its parts by
/// `id‖part`, which name one upload only because every id has this one
/// fixed length and alphabet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadId(String);

impl UploadId {
    /// A new, unique id.
    pub fn generate() -> UploadId {
        UploadId(uuid::Uuid::now_v7().simple().to_string())
    }

    /// `None` unless `s` has the form of an id this gateway hands out.
    pub fn parse(s: &str) -> Option<UploadId> {
        (s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| UploadId(s.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// An object key as S3 accepts it: 1 to [`MAX_KEY_BYTES`] bytes of UTF-8,
/// every character one XML 1.0 can carry (a listing names the key in XML).
/// The router parses it once; storage takes it, so a key and an upload id
/// cannot be swapped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

/// Why a string is not an [`ObjectKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    Empty,
    /// Longer than [`MAX_KEY_BYTES`] (S3's `KeyTooLongError`).
    TooLong,
    /// Holds a character XML 1.0 cannot carry, such as U+0000.
    NotXml,
}

impl ObjectKey {
    pub fn parse(s: impl Into<String>) -> Result<ObjectKey, KeyError> {
        let s = s.into();
        if s.is_empty() {
            Err(KeyError::Empty)
        } else if s.len() > MAX_KEY_BYTES {
            Err(KeyError::TooLong)
        } else if !xml_safe(&s) {
            Err(KeyError::NotXml)
        } else {
            Ok(ObjectKey(s))
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for ObjectKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for UploadId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether every character of `s` may appear in an XML 1.0 document. S3
/// names keys, prefixes and markers in XML answers, where U+0000 and most
/// other control characters cannot be written at all; such a key could be
/// stored but never listed, and a raw one would corrupt the answer.
pub fn xml_safe(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    })
}

/// Longest object key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// Largest single PUT (and CopyObject source): 5 GiB.
pub(crate) const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Largest total size of user metadata (names and values): 2 KiB.
pub const MAX_USER_META_BYTES: usize = 2048;

/// Formats an unquoted ETag for the wire.
pub(crate) fn quote_etag(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// Strips optional surrounding quotes (and a weak `W/` prefix) from an ETag
/// a client sent.
pub fn unquote_etag(etag: &str) -> &str {
    let e = etag.trim();
    let e = e.strip_prefix("W/").unwrap_or(e);
    e.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(e)
}

/// The smallest string greater than every string that starts with `s`, or
/// `None` if there is none.
pub fn successor(s: &str) -> Option<String> {
    let mut chars: Vec<char> = s.chars().collect();
    while let Some(c) = chars.pop() {
        let mut next = c as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(n) = char::from_u32(next) {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for good in ["abc", "my-bucket", "my.bucket.1", "a1b", &"a".repeat(63)] {
            assert!(BucketName::parse(good).is_some(), "{good} should be valid");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Abc",
            "a_b",
            "-abc",
            "abc-",
            "a..b",
            "a.-b",
            "192.168.5.4",
            "xn--abc",
            "abc-s3alias",
            "_s3gw",
            "abc/d",
        ] {
            assert!(BucketName::parse(bad).is_none(), "{bad} should be invalid");
        }
    }

    #[test]
    fn xml_safe_characters() {
        for ok in [
            "",
            "a b/c",
            "tab\there",
            "line\nbreak\r",
            "ü€😀",
            "\u{FFFD}",
        ] {
            assert!(xml_safe(ok), "{ok:?}");
        }
        for bad in [
            "\0", "x\u{0}y", "\u{1}", "\u{8}", "\u{B}", "\u{C}", "\u{1F}", "\u{FFFE}", "\u{FFFF}",
        ] {
            assert!(!xml_safe(bad), "{bad:?}");
        }
    }

    #[test]
    fn upload_ids() {
        let id = UploadId::generate();
        assert_eq!(UploadId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(UploadId::generate(), id);
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcde\0",
            "y\u{0}0123456789abcdef0123456789abcd",
            "0123456789abcdef0123456789abcdeg",
        ] {
            assert_eq!(UploadId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn object_keys() {
        assert_eq!(
            ObjectKey::parse("a/b c").map(|k| k.into_string()),
            Ok("a/b c".to_owned())
        );
        assert!(ObjectKey::parse("k".repeat(MAX_KEY_BYTES)).is_ok());
        assert_eq!(ObjectKey::parse(""), Err(KeyError::Empty));
        assert_eq!(
            ObjectKey::parse("k".repeat(MAX_KEY_BYTES + 1)),
            Err(KeyError::TooLong)
        );
        assert_eq!(ObjectKey::parse("€".repeat(342)), Err(KeyError::TooLong));
        assert_eq!(ObjectKey::parse("a\u{0}b"), Err(KeyError::NotXml));
    }

    #[test]
    fn etag_quotes() {
        assert_eq!(quote_etag("abc"), "\"abc\"");
        assert_eq!(unquote_etag("\"abc\""), "abc");
        assert_eq!(unquote_etag("abc"), "abc");
        assert_eq!(unquote_etag(" W/\"abc\" "), "abc");
    }
}
