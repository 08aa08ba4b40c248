//! Bucket lifecycle configuration: the model a PutBucketLifecycleConfiguration
//! body becomes, which objects a rule's filter selects, and when an action
//! falls due. Pure; the XML document and its checks are in
//! `s3/lifecycle_xml.rs`, and nothing here acts on objects.
//!
//! The model is what the checks leave: every rule has an ID, at least one
//! action, and a filter whose tags follow the object tag rules. It derives
//! serde so a configuration can be stored as JSON.

use serde::{Deserialize, Serialize};

use super::TagSet;

/// The most rules a configuration may hold (S3's limit, not adjustable).
pub const MAX_LIFECYCLE_RULES: usize = 1000;
/// The longest rule ID, in characters.
pub const MAX_RULE_ID_LEN: usize = 255;
/// The most noncurrent versions `NewerNoncurrentVersions` may keep.
pub const MAX_NEWER_NONCURRENT_VERSIONS: u32 = 100;
/// The largest size a size filter may name, in bytes, as S3's messages
/// state it ("should be between 0 and 1099511627776000").
pub const MAX_FILTER_SIZE: u64 = 1_099_511_627_776_000;
/// One day in milliseconds: the unit of every `Days` count, unless a test
/// setting shortens it.
pub const DAY_MS: i64 = 86_400_000;

/// A bucket's lifecycle configuration: 1 to [`MAX_LIFECYCLE_RULES`] rules
/// with unique IDs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleConfig {
    pub rules: Vec<LifecycleRule>,
}

/// One rule: which objects (`filter`) and what happens to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    /// At most [`MAX_RULE_ID_LEN`] characters; the gateway names a rule
    /// sent without one.
    pub id: String,
    /// `Status` `Enabled`; a disabled rule is kept but takes no action.
    pub enabled: bool,
    pub filter: RuleFilter,
    /// What happens to the current version.
    pub expiration: Option<Expiration>,
    /// What happens to noncurrent versions.
    pub noncurrent: Option<NoncurrentExpiration>,
    /// `AbortIncompleteMultipartUpload`: days after an upload's initiation.
    pub abort_upload_days: Option<u32>,
}

impl LifecycleConfig {
    /// When the current version of an object expires, and by which rule:
    /// the earliest `Days` or `Date` expiration among the enabled rules
    /// that select it (`x-amz-expiration`; ties go to the first rule).
    pub fn expiry(
        &self,
        key: &str,
        size: u64,
        tags: &TagSet,
        created_ms: i64,
        day_ms: i64,
    ) -> Option<(i64, &str)> {
        self.rules
            .iter()
            .filter(|r| r.enabled && r.filter.matches(key, size, tags))
            .filter_map(|r| {
                let due = r.expiration?.due_ms(created_ms, day_ms)?;
                Some((due, r.id.as_str()))
            })
            .min_by_key(|(due, _)| *due)
    }
}

impl LifecycleRule {
    /// Whether the rule names any action (a checked rule always does).
    pub fn has_action(&self) -> bool {
        self.expiration.is_some() || self.noncurrent.is_some() || self.abort_upload_days.is_some()
    }
}

/// The objects a rule applies to: all of its conditions hold. The default
/// (no condition) selects every object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFilter {
    /// Keys starting with this; empty for any key.
    pub prefix: String,
    /// Tags the object must carry, each with this exact value.
    pub tags: TagSet,
    /// Objects strictly larger than this many bytes.
    pub size_greater_than: Option<u64>,
    /// Objects strictly smaller than this many bytes.
    pub size_less_than: Option<u64>,
    /// The filter named `Prefix` empty (`<Prefix></Prefix>`), which
    /// selects what no filter does but is answered back as it was sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_prefix: bool,
}

impl RuleFilter {
    /// Whether an object of this key, size and tags is selected: the key
    /// starts with the prefix, every filter tag is among the object's tags
    /// with an equal value (the object may have more), and the size lies
    /// strictly inside the bounds, as S3 excludes the values named.
    pub fn matches(&self, key: &str, size: u64, tags: &TagSet) -> bool {
        key.starts_with(&self.prefix)
            && self.size_greater_than.is_none_or(|min| size > min)
            && self.size_less_than.is_none_or(|max| size < max)
            && self
                .tags
                .iter()
                .all(|wanted| tags.iter().any(|have| have == wanted))
    }

    /// Whether the filter names tags (S3 then refuses some actions).
    pub fn uses_tags(&self) -> bool {
        !self.tags.is_empty()
    }

    /// Whether the filter names a size bound.
    pub fn uses_size(&self) -> bool {
        self.size_greater_than.is_some() || self.size_less_than.is_some()
    }
}

/// When the current version expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiration {
    /// This many days (at least 1) after creation, see [`due_ms`].
    Days(u32),
    /// At this time, in ms since the epoch: a midnight UTC.
    Date(i64),
    /// Remove a delete marker that has no noncurrent versions left.
    ExpiredObjectDeleteMarker,
}

impl Expiration {
    /// When a current version created at `created_ms` falls due, `None`
    /// for the delete-marker action, which has no date.
    pub fn due_ms(&self, created_ms: i64, day_ms: i64) -> Option<i64> {
        match *self {
            Expiration::Days(days) => Some(due_ms(created_ms, days, day_ms)),
            Expiration::Date(date_ms) => Some(date_ms),
            Expiration::ExpiredObjectDeleteMarker => None,
        }
    }
}

/// When noncurrent versions are deleted: `days` (at least 1) after they
/// became noncurrent, and then only beyond the `newer_versions` newest
/// noncurrent ones (1 to [`MAX_NEWER_NONCURRENT_VERSIONS`]), if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentExpiration {
    pub days: u32,
    pub newer_versions: Option<u32>,
}

/// When an action of `days` days falls due for something created at
/// `created_ms`: S3 adds the days and rounds up to the next midnight UTC
/// (created 1/15 10:30, 3 days: due 1/19 00:00). Computed as MinIO does,
/// `truncate(created + (days + 1) · day, day)`, so a creation exactly at
/// midnight is due a full day later than the days alone.
///
/// `day_ms` is [`DAY_MS`] unless a test setting shortens the day; then
/// "midnight" is a multiple of `day_ms` since the epoch. A `day_ms` below 1
/// counts as 1. The result saturates at the ends of `i64`; no input panics.
pub fn due_ms(created_ms: i64, days: u32, day_ms: i64) -> i64 {
    let day = i128::from(day_ms.max(1));
    let end = i128::from(created_ms) + (i128::from(days) + 1) * day;
    let due = end.div_euclid(day) * day;
    let clamped = due.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    i64::try_from(clamped).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::MAX_OBJECT_TAGS;

    /// ms since the epoch of a UTC date and time.
    fn at(y: i32, m: u8, d: u8, h: u8, min: u8) -> i64 {
        let month = time::Month::try_from(m).unwrap();
        let date = time::Date::from_calendar_date(y, month, d).unwrap();
        let t = date.with_hms(h, min, 0).unwrap().assume_utc();
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap()
    }

    fn tags(pairs: &[(&str, &str)]) -> TagSet {
        let pairs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TagSet::new(pairs, MAX_OBJECT_TAGS).unwrap()
    }

    #[test]
    fn due_rounds_up_to_the_next_midnight() {
        // The user guide's example: 1/15/2014 10:30 UTC + 3 days.
        assert_eq!(
            due_ms(at(2014, 1, 15, 10, 30), 3, DAY_MS),
            at(2014, 1, 19, 0, 0)
        );
        // The troubleshooting page: 1/2 00:05 + 1 day is due 1/4 00:00.
        assert_eq!(
            due_ms(at(2024, 1, 2, 0, 5), 1, DAY_MS),
            at(2024, 1, 4, 0, 0)
        );
        // At midnight exactly, MinIO's formula gives one more day.
        assert_eq!(
            due_ms(at(2024, 1, 2, 0, 0), 1, DAY_MS),
            at(2024, 1, 4, 0, 0)
        );
        assert_eq!(
            due_ms(at(2024, 2, 28, 23, 59), 1, DAY_MS),
            at(2024, 3, 1, 0, 0)
        );
        // Before the epoch the day still starts at a midnight.
        assert_eq!(
            due_ms(at(1969, 12, 31, 12, 0), 1, DAY_MS),
            at(1970, 1, 2, 0, 0)
        );
    }

    #[test]
    fn a_shortened_day_rounds_to_its_own_multiples() {
        let day = 10_000;
        assert_eq!(due_ms(12_345, 3, day), 50_000);
        assert_eq!(due_ms(10_000, 1, day), 30_000);
        assert_eq!(due_ms(0, 0, day), 10_000);
        assert_eq!(due_ms(-1, 1, day), 10_000);
    }

    #[test]
    fn extremes_saturate_without_panicking() {
        assert_eq!(due_ms(i64::MAX, u32::MAX, DAY_MS), i64::MAX);
        assert_eq!(due_ms(i64::MAX, 0, 1), i64::MAX);
        assert_eq!(due_ms(i64::MAX, 1, i64::MAX), i64::MAX);
        assert_eq!(due_ms(0, u32::MAX, i64::MAX), i64::MAX);
        let low = due_ms(i64::MIN, 0, DAY_MS);
        assert!(low > i64::MIN && low % DAY_MS == 0);
        assert_eq!(due_ms(i64::MIN, 0, i64::MAX), i64::MIN + 1);
        // A day of zero or less counts as one millisecond.
        assert_eq!(due_ms(5, 2, 0), 8);
        assert_eq!(due_ms(5, 2, i64::MIN), 8);
        assert_eq!(
            due_ms(i64::MIN, u32::MAX, i64::MIN),
            i64::MIN + 4_294_967_296
        );
        // Large but real: 100 years of days from now stays exact.
        let created = at(2025, 6, 1, 8, 0);
        assert_eq!(due_ms(created, 36_500, DAY_MS), at(2125, 5, 9, 0, 0));
    }

    #[test]
    fn expiration_due_times() {
        let created = at(2030, 1, 15, 10, 30);
        assert_eq!(
            Expiration::Days(3).due_ms(created, DAY_MS),
            Some(at(2030, 1, 19, 0, 0))
        );
        let date = at(2031, 1, 1, 0, 0);
        assert_eq!(Expiration::Date(date).due_ms(created, DAY_MS), Some(date));
        assert_eq!(
            Expiration::ExpiredObjectDeleteMarker.due_ms(created, DAY_MS),
            None
        );
    }

    #[test]
    fn an_empty_filter_selects_everything() {
        let f = RuleFilter::default();
        assert!(f.matches("", 0, &TagSet::default()));
        assert!(f.matches("any/key", u64::MAX, &tags(&[("a", "1")])));
        assert!(!f.uses_tags() && !f.uses_size());
    }

    #[test]
    fn filters_match_prefix_tags_and_strict_sizes() {
        let f = RuleFilter {
            prefix: "logs/".into(),
            tags: tags(&[("env", "dev"), ("keep", "")]),
            size_greater_than: Some(100),
            size_less_than: Some(200),
            empty_prefix: false,
        };
        let have = tags(&[("owner", "x"), ("keep", ""), ("env", "dev")]);
        assert!(f.matches("logs/a", 150, &have));
        assert!(f.matches("logs/", 101, &have));
        assert!(f.matches("logs/", 199, &have));
        // Sizes named are excluded.
        assert!(!f.matches("logs/a", 100, &have));
        assert!(!f.matches("logs/a", 200, &have));
        // The prefix is a byte prefix, case-sensitive.
        assert!(!f.matches("Logs/a", 150, &have));
        assert!(!f.matches("logs", 150, &have));
        // Every tag, with its exact value.
        assert!(!f.matches("logs/a", 150, &tags(&[("env", "dev")])));
        assert!(!f.matches("logs/a", 150, &tags(&[("env", "Dev"), ("keep", "")])));
        assert!(!f.matches("logs/a", 150, &tags(&[("env", "dev"), ("keep", "x")])));
        assert!(f.uses_tags() && f.uses_size());

        let only_max = RuleFilter {
            size_less_than: Some(1),
            ..RuleFilter::default()
        };
        assert!(only_max.matches("k", 0, &TagSet::default()));
        assert!(!only_max.matches("k", 1, &TagSet::default()));
        let only_min = RuleFilter {
            size_greater_than: Some(0),
            ..RuleFilter::default()
        };
        assert!(!only_min.matches("k", 0, &TagSet::default()));
        assert!(only_min.matches("k", u64::MAX, &TagSet::default()));
    }

    #[test]
    fn a_rule_needs_an_action_and_the_model_stores_as_json() {
        let mut rule = LifecycleRule {
            id: "r1".into(),
            enabled: true,
            filter: RuleFilter {
                prefix: "p/".into(),
                tags: tags(&[("k", "v")]),
                size_greater_than: None,
                size_less_than: Some(10),
                empty_prefix: false,
            },
            expiration: None,
            noncurrent: None,
            abort_upload_days: None,
        };
        assert!(!rule.has_action());
        rule.noncurrent = Some(NoncurrentExpiration {
            days: 3,
            newer_versions: Some(2),
        });
        assert!(rule.has_action());
        let cfg = LifecycleConfig {
            rules: vec![
                rule.clone(),
                LifecycleRule {
                    id: "r2".into(),
                    expiration: Some(Expiration::Date(at(2030, 1, 1, 0, 0))),
                    abort_upload_days: Some(7),
                    ..rule
                },
            ],
        };
        let json = serde_json::to_string(&cfg).unwrap();
        let back: LifecycleConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg);
    }
}
