//! Tag sets in S3's two request forms and its answer: the `<Tagging>`
//! document (PutBucketTagging, PutObjectTagging, GetBucketTagging,
//! GetObjectTagging) and the `x-amz-tagging` header (PutObject,
//! CreateMultipartUpload, CopyObject). Both become a `types::TagSet`,
//! checked whole against S3's rules, or an S3 error.

use percent_encoding::percent_decode_str;

use crate::error::{S3Error, S3ErrorCode};
use crate::types::{TagError, TagSet, MAX_OBJECT_TAGS};
use crate::xml;

/// The largest Put…Tagging body read: 50 tags of the longest keys and
/// values of 3-byte characters with their markup come to about 60 KiB.
pub(crate) const MAX_TAGGING_BODY: usize = 128 * 1024;

/// A `<Tagging>` request body as a valid tag set of at most `max` tags.
pub fn parse_tagging(body: &[u8], max: usize) -> Result<TagSet, S3Error> {
    let malformed = || S3Error::code(S3ErrorCode::MalformedXML);
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let request: xml::TaggingRequest =
        xml::from_xml(text).map_err(|e| malformed().with_source(e))?;
    let pairs = request
        .tag_set
        .tags
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    TagSet::new(pairs, max).map_err(|e| tag_error(&e))
}

/// S3's error for an `x-amz-tagging` header that is not a query string of
/// distinct, non-empty keys.
pub(crate) fn bad_tagging_header() -> S3Error {
    S3Error::new(
        S3ErrorCode::InvalidArgument,
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
    )
}

/// The `x-amz-tagging` header: `K1=V1&K2=V2`, each key and value
/// URL-encoded (`+` is a space, as in any query string), as a valid tag
/// set of at most [`MAX_OBJECT_TAGS`] tags. An empty header is no tags.
///
/// Bounded: at most `MAX_OBJECT_TAGS + 1` pairs are decoded, whatever the
/// header's length (which the request head's limit bounds).
pub fn parse_tagging_header(value: &str) -> Result<TagSet, S3Error> {
    if value.is_empty() {
        return Ok(TagSet::default());
    }
    let decode = |s: &str| -> Result<String, S3Error> {
        let spaced = s.replace('+', " ");
        percent_decode_str(&spaced)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| bad_tagging_header())
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in value.split('&') {
        if pairs.len() == MAX_OBJECT_TAGS {
            return Err(tag_error(&TagError::TooMany {
                max: MAX_OBJECT_TAGS,
            }));
        }
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let key = decode(key)?;
        if key.is_empty() || pairs.iter().any(|(k, _)| *k == key) {
            return Err(bad_tagging_header());
        }
        pairs.push((key, decode(value)?));
    }
    TagSet::new(pairs, MAX_OBJECT_TAGS).map_err(|e| tag_error(&e))
}

/// The S3 error for a refused tag set.
pub(crate) fn tag_error(e: &TagError) -> S3Error {
    let code = match e {
        TagError::TooMany { .. } => S3ErrorCode::BadRequest,
        _ => S3ErrorCode::InvalidTag,
    };
    S3Error::new(code, e.message())
}

/// GetBucketTagging's and GetObjectTagging's answer.
pub(crate) fn tagging_answer(tags: &TagSet) -> xml::Tagging {
    xml::Tagging {
        xmlns: (),
        tag_set: xml::TagList {
            tags: tags
                .iter()
                .map(|(key, value)| xml::Tag {
                    key: key.to_owned(),
                    value: value.to_owned(),
                })
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(t: &TagSet) -> Vec<(&str, &str)> {
        t.iter().collect()
    }

    fn refusal(value: &str) -> (S3ErrorCode, String) {
        let e = parse_tagging_header(value).unwrap_err();
        (e.code, e.message.into_owned())
    }

    #[test]
    fn header_form_is_a_query_string() {
        let t = parse_tagging_header("Project=x-1&a%20b=c+d&e&f=&g=h%3Dj").unwrap();
        assert_eq!(
            pairs(&t),
            [
                ("Project", "x-1"),
                ("a b", "c d"),
                ("e", ""),
                ("f", ""),
                ("g", "h=j")
            ]
        );
        assert!(parse_tagging_header("").unwrap().is_empty());
        let utf8 = parse_tagging_header("k%C3%A9y=%C3%BC1").unwrap();
        assert_eq!(pairs(&utf8), [("kéy", "ü1")]);
        // A currency sign is no letter or digit.
        assert_eq!(refusal("k=%E2%82%AC1").0, S3ErrorCode::InvalidTag);
    }

    #[test]
    fn header_refusals_have_s3s_codes() {
        use S3ErrorCode::*;
        for bad in [
            "=",
            "=v",
            "a=1&a=2",
            "a=1&&b=2",
            "a=%ff",
            "%zz=1&%zz=2",
            "&",
        ] {
            assert_eq!(refusal(bad).0, InvalidArgument, "{bad:?}");
        }
        assert!(refusal("a=1&a=2").1.contains("without tag name duplicates"));
        assert_eq!(refusal("a%3Cb=1").0, InvalidTag);
        assert_eq!(refusal("aws%3Ax=1").0, InvalidTag);
        assert_eq!(refusal(&format!("k={}", "v".repeat(257))).0, InvalidTag);
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        let (code, message) = refusal(&eleven.join("&"));
        assert_eq!(code, BadRequest);
        assert_eq!(message, "Object tags cannot be greater than 10");
        let ten = parse_tagging_header(&eleven[..10].join("&")).unwrap();
        assert_eq!(ten.len(), 10);
    }

    /// A very long header is refused after the eleventh pair, without
    /// decoding the rest.
    #[test]
    fn header_parse_is_bounded() {
        let long: Vec<String> = (0..100_000).map(|i| format!("k{i}=v")).collect();
        assert_eq!(refusal(&long.join("&")).0, S3ErrorCode::BadRequest);
    }
}
