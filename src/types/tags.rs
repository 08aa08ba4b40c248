//! Tag sets: S3's rules for the tags of a bucket (and, later, of an
//! object). Pure validation; the XML document and the handlers are above.
//!
//! The rules, as S3 applies them (docs/s3-compatibility.md, Tagging):
//! - at most [`MAX_BUCKET_TAGS`] tags on a bucket, [`MAX_OBJECT_TAGS`] on an
//!   object (`BadRequest`);
//! - a key of 1 to 128 and a value of 0 to 256 characters, counted as
//!   UTF-16 code units as S3 counts them (a character outside the Basic
//!   Multilingual Plane counts twice);
//! - keys and values of Unicode letters, digits and spaces and
//!   `+ - = . _ : / @` only;
//! - keys unique, and none starting with `aws:` in any case (reserved for
//!   AWS).
//!
//! Anything else is `InvalidTag`.

use serde::{Deserialize, Serialize};

/// The most tags a bucket may have.
pub const MAX_BUCKET_TAGS: usize = 50;
/// The most tags an object may have.
pub const MAX_OBJECT_TAGS: usize = 10;
/// The longest tag key, in UTF-16 code units.
pub const MAX_TAG_KEY_LEN: usize = 128;
/// The longest tag value, in UTF-16 code units.
pub const MAX_TAG_VALUE_LEN: usize = 256;

/// A valid set of tags, in the order they were given; keys are unique.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TagSet(Vec<(String, String)>);

/// Why a tag set was refused; each maps to one S3 error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagError {
    /// More than the allowed number of tags (`BadRequest`).
    TooMany { max: usize },
    /// A key that is empty, too long or has a character not allowed.
    InvalidKey(String),
    /// A value that is too long or has a character not allowed.
    InvalidValue(String),
    /// The same key twice.
    DuplicateKey(String),
    /// A key starting with `aws:`.
    ReservedKey(String),
}

impl TagError {
    /// The message S3 gives for it.
    pub fn message(&self) -> String {
        match self {
            TagError::TooMany { max } if *max == MAX_OBJECT_TAGS => {
                format!("Object tags cannot be greater than {max}")
            }
            TagError::TooMany { max } => format!("Bucket tags cannot be greater than {max}"),
            TagError::InvalidKey(_) => "The TagKey you have provided is invalid".into(),
            TagError::InvalidValue(_) => "The TagValue you have provided is invalid".into(),
            TagError::DuplicateKey(_) => "Cannot provide multiple Tags with the same key".into(),
            TagError::ReservedKey(_) => "Your TagKey cannot be prefixed with aws:".into(),
        }
    }
}

impl TagSet {
    /// Checks `tags` against the rules above, with at most `max` tags.
    pub fn new(tags: Vec<(String, String)>, max: usize) -> Result<TagSet, TagError> {
        if tags.len() > max {
            return Err(TagError::TooMany { max });
        }
        for (i, (key, value)) in tags.iter().enumerate() {
            if !text_ok(key, 1, MAX_TAG_KEY_LEN) {
                return Err(TagError::InvalidKey(key.clone()));
            }
            if !text_ok(value, 0, MAX_TAG_VALUE_LEN) {
                return Err(TagError::InvalidValue(value.clone()));
            }
            if tags[..i].iter().any(|(k, _)| k == key) {
                return Err(TagError::DuplicateKey(key.clone()));
            }
        }
        let reserved = |k: &str| k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"));
        if let Some((key, _)) = tags.iter().find(|(k, _)| reserved(k)) {
            return Err(TagError::ReservedKey(key.clone()));
        }
        Ok(TagSet(tags))
    }

    /// The tags, in the order they were given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether `text` is `min..=max` UTF-16 code units of allowed characters.
fn text_ok(text: &str, min: usize, max: usize) -> bool {
    let mut units = 0usize;
    for c in text.chars() {
        units += c.len_utf16();
        if units > max || !allowed(c) {
            return false;
        }
    }
    units >= min
}

fn allowed(c: char) -> bool {
    c.is_alphanumeric()
        || c == ' '
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '+' | '-' | '=' | '.' | '_' | ':' | '/' | '@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)], max: usize) -> Result<TagSet, TagError> {
        TagSet::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            max,
        )
    }

    #[test]
    fn valid_sets_keep_their_order() {
        let t = set(
            &[("Project", "x-1"), ("owner", "a@b.example"), ("e", "")],
            10,
        )
        .unwrap();
        let got: Vec<_> = t.iter().collect();
        assert_eq!(
            got,
            [("Project", "x-1"), ("owner", "a@b.example"), ("e", "")]
        );
        assert!(set(&[], 10).unwrap().is_empty());
        // Letters and digits of any script, and spaces, are allowed.
        assert!(set(&[("Größe", "١٢ ٣ 東京")], 10).is_ok());
        assert!(set(&[("k", "+-=._:/@ ")], 10).is_ok());
    }

    #[test]
    fn counts_are_capped() {
        let many: Vec<(String, String)> =
            (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            TagSet::new(many.clone(), MAX_OBJECT_TAGS),
            Err(TagError::TooMany { max: 10 })
        );
        assert!(TagSet::new(many[..10].to_vec(), MAX_OBJECT_TAGS).is_ok());
        let fifty_one: Vec<(String, String)> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        let e = TagSet::new(fifty_one.clone(), MAX_BUCKET_TAGS).unwrap_err();
        assert_eq!(e.message(), "Bucket tags cannot be greater than 50");
        assert!(TagSet::new(fifty_one[..50].to_vec(), MAX_BUCKET_TAGS).is_ok());
    }

    #[test]
    fn lengths_count_utf16_units() {
        let k128 = "k".repeat(128);
        let v256 = "v".repeat(256);
        assert!(set(&[(&k128, &v256)], 10).is_ok());
        assert!(matches!(
            set(&[(&"k".repeat(129), "")], 10),
            Err(TagError::InvalidKey(_))
        ));
        assert!(matches!(
            set(&[("k", &"v".repeat(257))], 10),
            Err(TagError::InvalidValue(_))
        ));
        assert!(matches!(
            set(&[("", "v")], 10),
            Err(TagError::InvalidKey(_))
        ));
        // 𝐀 (U+1D400, a letter) is two UTF-16 units: 64 of them fill a key.
        let astral = "𝐀".repeat(64);
        assert!(set(&[(&astral, "")], 10).is_ok());
        let over = format!("{astral}a");
        assert!(matches!(
            set(&[(&over, "")], 10),
            Err(TagError::InvalidKey(_))
        ));
    }

    #[test]
    fn characters_outside_the_rules_are_refused() {
        for bad in [
            "a,b", "a;b", "a?b", "a!b", "a*b", "a#b", "a%b", "a(b)", "a\tb", "a\nb", "😀", "a&b",
            "<",
        ] {
            assert!(
                matches!(set(&[(bad, "v")], 10), Err(TagError::InvalidKey(_))),
                "key {bad:?}"
            );
            assert!(
                matches!(set(&[("k", bad)], 10), Err(TagError::InvalidValue(_))),
                "value {bad:?}"
            );
        }
    }

    #[test]
    fn duplicate_and_reserved_keys_are_refused() {
        assert_eq!(
            set(&[("a", "1"), ("b", "2"), ("a", "3")], 10),
            Err(TagError::DuplicateKey("a".into()))
        );
        assert_eq!(
            set(&[("aws:cloudformation", "x")], 10),
            Err(TagError::ReservedKey("aws:cloudformation".into()))
        );
        // In any case, as AWS's tagging rules say; "aws" alone is a key.
        assert!(matches!(
            set(&[("AWS:x", "1")], 10),
            Err(TagError::ReservedKey(_))
        ));
        assert!(set(&[("Aws", "2"), ("aws", "3"), ("awsx:", "4")], 10).is_ok());
        // Keys are case-sensitive: "a" and "A" are two keys.
        assert!(set(&[("a", "1"), ("A", "2")], 10).is_ok());
    }
}
