//! The lifecycle configuration document: PutBucketLifecycleConfiguration's
//! body, parsed and checked into a `types::LifecycleConfig`, and
//! GetBucketLifecycleConfiguration's answer (served by `bucket_lifecycle.rs`).
//!
//! What is refused, and how (S3's message where one is known):
//! - a body that is not UTF-8, not XML, not a `LifecycleConfiguration`, or
//!   holds an element S3's schema does not have: `MalformedXML`;
//! - no rule, or more than [`MAX_LIFECYCLE_RULES`]: `MalformedXML`;
//! - an `ID` over [`MAX_RULE_ID_LEN`] characters, or one two rules share:
//!   `InvalidArgument`; a rule without one is given a fresh ID;
//! - a `Status` other than `Enabled` or `Disabled`: `MalformedXML`;
//! - a rule with neither or both of `Filter` and the deprecated rule-level
//!   `Prefix`, a `Filter` of more than one condition, an `And` of fewer
//!   than two: `MalformedXML`; rules of both forms in one configuration,
//!   and `NewerNoncurrentVersions` in rules of the old form:
//!   `InvalidRequest`, as S3 answers;
//! - sizes outside S3's range: `InvalidRequest`; `ObjectSizeGreaterThan`
//!   not below `ObjectSizeLessThan`: `InvalidArgument`; filter tags by the
//!   object tag rules (`InvalidTag`, `BadRequest`), a key twice
//!   `InvalidRequest`;
//! - day counts not positive, a `NewerNoncurrentVersions` outside 1..=100,
//!   a `Date` not at midnight UTC: `InvalidArgument`; a number or date that
//!   is not one, an `Expiration` naming none or several of `Days`, `Date`
//!   and `ExpiredObjectDeleteMarker`, an action without its count:
//!   `MalformedXML`;
//! - no action, and `AbortIncompleteMultipartUpload` or
//!   `ExpiredObjectDeleteMarker` with a tag or size filter: `InvalidRequest`;
//! - `Transition` and `NoncurrentVersionTransition`: `NotImplemented`, as
//!   s3gw has one storage class. Refused, never ignored.
//!
//! Every check is linear in the body's size.

use std::collections::HashSet;
use std::ops::Range;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::response::iso8601;
use super::tagging::tag_error;
use crate::error::{S3Error, S3ErrorCode};
use crate::types::{
    xml_safe, Expiration, LifecycleConfig, LifecycleRule, NoncurrentExpiration, RuleFilter,
    TagError, TagSet, DAY_MS, MAX_FILTER_SIZE, MAX_LIFECYCLE_RULES, MAX_NEWER_NONCURRENT_VERSIONS,
    MAX_OBJECT_TAGS, MAX_RULE_ID_LEN,
};
use crate::xml::{self, S3_NS};

/// The largest PutBucketLifecycleConfiguration body read. S3 documents no
/// limit. 1 MiB holds S3's 1,000 rules at about 1 KiB each (an ID, a
/// prefix, a few tags and two actions with their markup), far more than
/// real configurations use; one that gives every one of 1,000 rules ten
/// tags of the longest keys and values would not fit, and is refused
/// rather than held in memory.
pub const MAX_LIFECYCLE_BODY: usize = 1024 * 1024;

/// The length of an ID the gateway gives a rule sent without one.
const GENERATED_ID_LEN: usize = 20;

// The request body. Counts and dates are read as text and checked here,
// so that a value out of range gets S3's error rather than a parse error.

#[derive(Debug, Deserialize)]
struct ConfigurationXml {
    #[serde(rename = "Rule", default)]
    rules: Vec<RuleXml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleXml {
    #[serde(rename = "ID", default)]
    id: Option<String>,
    #[serde(rename = "Status")]
    status: String,
    #[serde(rename = "Filter", default)]
    filter: Option<FilterXml>,
    /// The deprecated form of a filter, before tags (Lifecycle V1).
    #[serde(rename = "Prefix", default)]
    prefix: Option<String>,
    #[serde(rename = "Expiration", default)]
    expiration: Option<ExpirationXml>,
    #[serde(rename = "NoncurrentVersionExpiration", default)]
    noncurrent: Option<NoncurrentXml>,
    #[serde(rename = "AbortIncompleteMultipartUpload", default)]
    abort: Option<AbortXml>,
    #[serde(rename = "Transition", default)]
    transitions: Vec<IgnoredAny>,
    #[serde(rename = "NoncurrentVersionTransition", default)]
    noncurrent_transitions: Vec<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct FilterXml {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    tag: Option<TagXml>,
    #[serde(default)]
    object_size_greater_than: Option<String>,
    #[serde(default)]
    object_size_less_than: Option<String>,
    #[serde(default)]
    and: Option<AndXml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct AndXml {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(rename = "Tag", default)]
    tags: Vec<TagXml>,
    #[serde(default)]
    object_size_greater_than: Option<String>,
    #[serde(default)]
    object_size_less_than: Option<String>,
}

/// A filter tag; a missing `Value` selects objects whose tag has none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct TagXml {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct ExpirationXml {
    #[serde(default)]
    days: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    expired_object_delete_marker: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct NoncurrentXml {
    #[serde(default)]
    noncurrent_days: Option<String>,
    #[serde(default)]
    newer_noncurrent_versions: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct AbortXml {
    #[serde(default)]
    days_after_initiation: Option<String>,
}

// The answer: each rule's `ID`, `Filter`, `Status`, then its actions, in
// the order S3 writes them.

#[derive(Debug, Serialize)]
#[serde(rename = "LifecycleConfiguration")]
struct ConfigurationAnswer<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Rule")]
    rules: Vec<RuleAnswer<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleAnswer<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    filter: FilterAnswer<'a>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<ExpirationAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    noncurrent_version_expiration: Option<NoncurrentAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    abort_incomplete_multipart_upload: Option<AbortAnswer>,
}

/// At most one field is set; none is the empty filter, `<Filter/>`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct FilterAnswer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<TagAnswer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_size_greater_than: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_size_less_than: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    and: Option<AndAnswer<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AndAnswer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<&'a str>,
    #[serde(rename = "Tag")]
    tags: Vec<TagAnswer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_size_greater_than: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_size_less_than: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagAnswer<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ExpirationAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired_object_delete_marker: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct NoncurrentAnswer {
    noncurrent_days: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    newer_noncurrent_versions: Option<u32>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AbortAnswer {
    days_after_initiation: u32,
}

fn malformed() -> S3Error {
    S3Error::code(S3ErrorCode::MalformedXML)
}

fn invalid_argument(message: &'static str) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidArgument, message)
}

fn invalid_request(message: &'static str) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidRequest, message)
}

/// A PutBucketLifecycleConfiguration body as a checked configuration, each
/// rule with an ID; the first fault found is the answer (the module's
/// comment lists them). Transitions are refused after every other check,
/// so a configuration S3 would refuse gets S3's answer.
pub fn parse_lifecycle(body: &[u8]) -> Result<LifecycleConfig, S3Error> {
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    if !xml::root_is(text, "LifecycleConfiguration") {
        return Err(malformed());
    }
    let doc: ConfigurationXml = xml::from_xml(text).map_err(|e| malformed().with_source(e))?;
    if doc.rules.is_empty() {
        return Err(S3Error::new(
            S3ErrorCode::MalformedXML,
            "At least one lifecycle rule must be specified.",
        ));
    }
    if doc.rules.len() > MAX_LIFECYCLE_RULES {
        return Err(S3Error::new(
            S3ErrorCode::MalformedXML,
            "The number of lifecycle rules must not exceed the allowed limit of 1000 rules.",
        ));
    }
    let mut ids: HashSet<&str> = HashSet::with_capacity(doc.rules.len());
    for id in doc.rules.iter().filter_map(|r| r.id.as_deref()) {
        if id.is_empty() {
            continue;
        }
        if id.chars().count() > MAX_RULE_ID_LEN {
            return Err(invalid_argument(
                "ID length should not exceed allowed limit of 255",
            ));
        }
        if !xml_safe(id) {
            return Err(malformed());
        }
        if !ids.insert(id) {
            return Err(invalid_argument(
                "Rule ID must be unique. Found same ID for more than one rule",
            ));
        }
    }
    // S3 takes the first rule's form as the configuration's (V2: Filter).
    let v2 = doc.rules.first().is_some_and(|r| r.filter.is_some());
    let mut rules = doc
        .rules
        .iter()
        .map(|r| check_rule(r, v2))
        .collect::<Result<Vec<_>, _>>()?;
    if doc
        .rules
        .iter()
        .any(|r| !r.transitions.is_empty() || !r.noncurrent_transitions.is_empty())
    {
        return Err(S3Error::new(
            S3ErrorCode::NotImplemented,
            "Transition and NoncurrentVersionTransition are not implemented by s3gw: it has one \
             storage class",
        ));
    }
    let mut taken: HashSet<String> = ids.into_iter().map(str::to_owned).collect();
    for rule in rules.iter_mut().filter(|r| r.id.is_empty()) {
        rule.id = loop {
            let id = fresh_id();
            if taken.insert(id.clone()) {
                break id;
            }
        };
    }
    Ok(LifecycleConfig { rules })
}

/// A fresh rule ID: [`GENERATED_ID_LEN`] hex digits of a random UUID.
fn fresh_id() -> String {
    let mut id = uuid::Uuid::new_v4().simple().to_string();
    id.truncate(GENERATED_ID_LEN);
    id
}

/// S3's answers to a configuration that mixes rules with a `Filter`
/// (Lifecycle V2) and rules with the deprecated rule-level `Prefix`.
const FILTER_IN_V1: &str = "Filter element can only be used in Lifecycle V2.";
const PREFIX_IN_V2: &str =
    "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter.";

/// One rule checked, its ID left empty if it had none.
fn check_rule(rule: &RuleXml, v2: bool) -> Result<LifecycleRule, S3Error> {
    let enabled = match rule.status.as_str() {
        "Enabled" => true,
        "Disabled" => false,
        _ => return Err(malformed()),
    };
    let filter = match (&rule.filter, &rule.prefix) {
        (Some(_), Some(_)) | (None, None) => return Err(malformed()),
        (Some(_), None) if !v2 => return Err(invalid_request(FILTER_IN_V1)),
        (None, Some(_)) if v2 => return Err(invalid_request(PREFIX_IN_V2)),
        (Some(filter), None) => check_filter(filter)?,
        (None, Some(prefix)) => {
            let prefix = text(prefix)?;
            RuleFilter {
                empty_prefix: prefix.is_empty(),
                prefix,
                ..RuleFilter::default()
            }
        }
    };
    let (expiration, marker_given) = match &rule.expiration {
        Some(e) => check_expiration(e)?,
        None => (None, false),
    };
    let noncurrent = rule
        .noncurrent
        .as_ref()
        .map(|n| check_noncurrent(n, v2))
        .transpose()?;
    let abort_upload_days = match &rule.abort {
        Some(AbortXml {
            days_after_initiation: Some(days),
        }) => Some(positive(
            days,
            "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive \
             integer",
        )?),
        Some(_) => return Err(malformed()),
        None => None,
    };
    let transitions = !rule.transitions.is_empty() || !rule.noncurrent_transitions.is_empty();
    if expiration.is_none() && noncurrent.is_none() && abort_upload_days.is_none() && !transitions {
        return Err(invalid_request(
            "At least one action needs to be specified in a rule",
        ));
    }
    if marker_given && filter.uses_tags() {
        return Err(invalid_request(
            "ExpiredObjectDeleteMarker cannot be specified with Tags.",
        ));
    }
    if marker_given && filter.uses_size() {
        return Err(invalid_request(
            "ExpiredObjectDeleteMarker cannot be specified with Object Size.",
        ));
    }
    if abort_upload_days.is_some() && filter.uses_tags() {
        return Err(invalid_request(
            "AbortIncompleteMultipartUpload cannot be specified with Tags.",
        ));
    }
    if abort_upload_days.is_some() && filter.uses_size() {
        return Err(invalid_request(
            "AbortIncompleteMultipartUpload cannot be specified with Object Size.",
        ));
    }
    Ok(LifecycleRule {
        id: rule.id.clone().unwrap_or_default(),
        enabled,
        filter,
        expiration,
        noncurrent,
        abort_upload_days,
    })
}

/// A `<Filter>`: empty, or exactly one of `Prefix`, `Tag`, a size, `And`;
/// an `And` of two conditions or more (an empty `Prefix` counts).
fn check_filter(f: &FilterXml) -> Result<RuleFilter, S3Error> {
    let given = [
        f.prefix.is_some(),
        f.tag.is_some(),
        f.object_size_greater_than.is_some(),
        f.object_size_less_than.is_some(),
        f.and.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(malformed());
    }
    let (prefix, tags, greater, less) = match &f.and {
        Some(and) => {
            let conditions = usize::from(and.prefix.is_some())
                + and.tags.len()
                + usize::from(and.object_size_greater_than.is_some())
                + usize::from(and.object_size_less_than.is_some());
            if conditions < 2 {
                return Err(malformed());
            }
            (
                &and.prefix,
                and.tags.as_slice(),
                &and.object_size_greater_than,
                &and.object_size_less_than,
            )
        }
        None => (
            &f.prefix,
            f.tag.as_slice(),
            &f.object_size_greater_than,
            &f.object_size_less_than,
        ),
    };
    let prefix_text = prefix.as_deref().map(text).transpose()?;
    let filter = RuleFilter {
        empty_prefix: prefix_text.as_deref() == Some(""),
        prefix: prefix_text.unwrap_or_default(),
        tags: filter_tags(tags)?,
        size_greater_than: greater.as_deref().map(size_greater_than).transpose()?,
        size_less_than: less.as_deref().map(size_less_than).transpose()?,
    };
    if let (Some(min), Some(max)) = (filter.size_greater_than, filter.size_less_than) {
        if min >= max {
            return Err(invalid_argument(
                "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.",
            ));
        }
    }
    Ok(filter)
}

/// A filter's tags, by the rules of an object's tags.
fn filter_tags(tags: &[TagXml]) -> Result<TagSet, S3Error> {
    if tags.is_empty() {
        return Ok(TagSet::default());
    }
    let pairs = tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default()))
        .collect();
    TagSet::new(pairs, MAX_OBJECT_TAGS).map_err(|e| match e {
        TagError::DuplicateKey(_) => invalid_request("Duplicate Tag Keys are not allowed."),
        other => tag_error(&other),
    })
}

/// An `<Expiration>` as its action (`None` for `ExpiredObjectDeleteMarker`
/// `false`, which takes none) and whether it named the delete marker.
fn check_expiration(e: &ExpirationXml) -> Result<(Option<Expiration>, bool), S3Error> {
    match (&e.days, &e.date, &e.expired_object_delete_marker) {
        (Some(days), None, None) => {
            let days = positive(
                days,
                "'Days' for Expiration action must be a positive integer",
            )?;
            Ok((Some(Expiration::Days(days)), false))
        }
        (None, Some(date), None) => Ok((Some(Expiration::Date(midnight(date)?)), false)),
        (None, None, Some(marker)) => match marker.trim_matches(XML_SPACE) {
            "true" | "1" => Ok((Some(Expiration::ExpiredObjectDeleteMarker), true)),
            "false" | "0" => Ok((None, true)),
            _ => Err(malformed()),
        },
        (Some(_) | None, Some(_) | None, Some(_)) => Err(S3Error::new(
            S3ErrorCode::MalformedXML,
            "ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle \
             Expiration Policy.",
        )),
        _ => Err(malformed()),
    }
}

fn check_noncurrent(n: &NoncurrentXml, v2: bool) -> Result<NoncurrentExpiration, S3Error> {
    let days = n.noncurrent_days.as_deref().ok_or_else(malformed)?;
    let days = positive(
        days,
        "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
    )?;
    let newer_versions = match &n.newer_noncurrent_versions {
        None => None,
        Some(_) if !v2 => {
            return Err(invalid_request(
                "NewerNoncurrentVersions element can only be used in Lifecycle V2.",
            ))
        }
        Some(count) => {
            let count = integer(count)?;
            if !(1..=i64::from(MAX_NEWER_NONCURRENT_VERSIONS)).contains(&count) {
                return Err(invalid_argument(
                    "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be \
                     between 1 and 100",
                ));
            }
            Some(u32::try_from(count).map_err(|_| malformed())?)
        }
    };
    Ok(NoncurrentExpiration {
        days,
        newer_versions,
    })
}

/// XML's white space, around a number or a boolean.
const XML_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// A string S3 keeps (ID, prefix): any text XML 1.0 can carry. A character
/// reference to one it cannot (`&#1;`) does not make a well-formed document.
fn text(s: &str) -> Result<String, S3Error> {
    if xml_safe(s) {
        Ok(s.to_owned())
    } else {
        Err(malformed())
    }
}

/// An integer (`xs:int`, `xs:long`); anything else does not validate.
fn integer(s: &str) -> Result<i64, S3Error> {
    s.trim_matches(XML_SPACE).parse().map_err(|_| malformed())
}

/// A day count: at least 1 (else `InvalidArgument` with `message`), and an
/// `Integer` of S3's schema (32 bits).
fn positive(s: &str, message: &'static str) -> Result<u32, S3Error> {
    let n = integer(s)?;
    if n <= 0 {
        return Err(invalid_argument(message));
    }
    if n > i64::from(i32::MAX) {
        return Err(malformed());
    }
    u32::try_from(n).map_err(|_| malformed())
}

fn size_greater_than(s: &str) -> Result<u64, S3Error> {
    let n = integer(s)?;
    u64::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_FILTER_SIZE)
        .ok_or_else(|| {
            invalid_request("'ObjectSizeGreaterThan' should be between 0 and 1099511627776000.")
        })
}

fn size_less_than(s: &str) -> Result<u64, S3Error> {
    let n = integer(s)?;
    u64::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_FILTER_SIZE).contains(n))
        .ok_or_else(|| {
            invalid_request("'ObjectSizeLessThan' should be between 1 and 1099511627776000.")
        })
}

/// An `Expiration` `Date`: an ISO 8601 time at midnight UTC, as ms since
/// the epoch. Not a time: `MalformedXML` (S3's schema type is a
/// timestamp); another time of day: `InvalidArgument`.
fn midnight(s: &str) -> Result<i64, S3Error> {
    let (ms, fraction) = timestamp(s.trim_matches(XML_SPACE)).ok_or_else(malformed)?;
    if fraction || ms.rem_euclid(DAY_MS) != 0 {
        return Err(invalid_argument("'Date' must be at midnight GMT"));
    }
    Ok(ms)
}

/// `YYYY-MM-DDThh:mm:ss`, then an optional fraction of a second and an
/// optional zone (`Z` or `±hh:mm`; none is UTC), as ms since the epoch of
/// its whole seconds and whether the fraction is not zero.
fn timestamp(s: &str) -> Option<(i64, bool)> {
    let at = |i: usize, allowed: &[u8]| s.as_bytes().get(i).is_some_and(|b| allowed.contains(b));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(s, 0..4)?, digits(s, 5..7)?, digits(s, 8..10)?);
    let (hour, minute, second) = (digits(s, 11..13)?, digits(s, 14..16)?, digits(s, 17..19)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut fraction = false;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        fraction = after_dot.get(..n)?.bytes().any(|b| b != b'0');
        rest = after_dot.get(n..)?;
    }
    let offset_minutes = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let (hh, mm) = (digits(rest, 1..3)?, digits(rest, 4..6)?);
            if rest.len() != 6 || rest.as_bytes().get(3) != Some(&b':') || hh > 23 || mm > 59 {
                return None;
            }
            sign * i64::from(hh * 60 + mm)
        }
    };
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let year = i32::try_from(year).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let seconds = date.midnight().assume_utc().unix_timestamp()
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_minutes * 60;
    Some((seconds * 1000, fraction))
}

/// The decimal number in `s[range]`, all of it ASCII digits.
fn digits(s: &str, range: Range<usize>) -> Option<u32> {
    let part = s.get(range)?;
    if part.bytes().all(|b| b.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

/// GetBucketLifecycleConfiguration's body. Rules come back in the form
/// S3 gives its current API: a `Filter`, also for a rule sent with the
/// deprecated rule-level `Prefix`. It parses back to `cfg`.
pub fn lifecycle_answer(cfg: &LifecycleConfig) -> String {
    let answer = ConfigurationAnswer {
        xmlns: S3_NS,
        rules: cfg.rules.iter().map(rule_answer).collect(),
    };
    // Plain structs of strings and numbers: quick-xml fails only for
    // shapes it cannot write (a map or a bare sequence at the root).
    xml::to_xml(&answer).unwrap_or_default()
}

fn rule_answer(rule: &LifecycleRule) -> RuleAnswer<'_> {
    let expiration = rule.expiration.map(|e| match e {
        Expiration::Days(days) => ExpirationAnswer {
            days: Some(days),
            ..ExpirationAnswer::default()
        },
        Expiration::Date(ms) => ExpirationAnswer {
            date: Some(iso8601(ms)),
            ..ExpirationAnswer::default()
        },
        Expiration::ExpiredObjectDeleteMarker => ExpirationAnswer {
            expired_object_delete_marker: Some(true),
            ..ExpirationAnswer::default()
        },
    });
    RuleAnswer {
        id: &rule.id,
        filter: filter_answer(&rule.filter),
        status: if rule.enabled { "Enabled" } else { "Disabled" },
        expiration,
        noncurrent_version_expiration: rule.noncurrent.map(|n| NoncurrentAnswer {
            noncurrent_days: n.days,
            newer_noncurrent_versions: n.newer_versions,
        }),
        abort_incomplete_multipart_upload: rule.abort_upload_days.map(|days| AbortAnswer {
            days_after_initiation: days,
        }),
    }
}

/// One condition on its own, two or more in an `And`, none as `<Filter/>`.
fn filter_answer(f: &RuleFilter) -> FilterAnswer<'_> {
    let prefix = Some(f.prefix.as_str()).filter(|p| !p.is_empty() || f.empty_prefix);
    let mut tags: Vec<TagAnswer<'_>> = f
        .tags
        .iter()
        .map(|(key, value)| TagAnswer { key, value })
        .collect();
    let (greater, less) = (f.size_greater_than, f.size_less_than);
    let conditions = usize::from(prefix.is_some())
        + tags.len()
        + usize::from(greater.is_some())
        + usize::from(less.is_some());
    if conditions > 1 {
        return FilterAnswer {
            and: Some(AndAnswer {
                prefix,
                tags,
                object_size_greater_than: greater,
                object_size_less_than: less,
            }),
            ..FilterAnswer::default()
        };
    }
    FilterAnswer {
        prefix,
        tag: tags.pop(),
        object_size_greater_than: greater,
        object_size_less_than: less,
        and: None,
    }
}

#[cfg(test)]
#[path = "lifecycle_xml_tests.rs"]
mod tests;
