//! Which versions a bucket's lifecycle rules act on now. Pure: the walks
//! in `walk.rs` read the store and act; these say what is due.
//!
//! S3's rules, as the user guide and API reference state them:
//! - `Expiration` `Days`/`Date` expires the current version (a delete in
//!   an unversioned bucket, a delete marker in a versioned one) at
//!   `due_ms(created, days)`, or at the date;
//! - with `Days` or `Date`, a current delete marker that is the key's only
//!   version is removed once old enough; `ExpiredObjectDeleteMarker`
//!   removes such a marker at once;
//! - `NoncurrentVersionExpiration` deletes a noncurrent version for good
//!   `NoncurrentDays` after it became noncurrent (its successor's
//!   creation), except the `NewerNoncurrentVersions` newest noncurrent
//!   versions of the key, which are kept;
//! - `AbortIncompleteMultipartUpload` aborts an upload `DaysAfterInitiation`
//!   after it started.

use crate::storage::{ObjectHead, UploadRecord};
use crate::types::{due_ms, Expiration, LifecycleConfig, LifecycleRule, TagSet};

/// The instant and day length a pass judges by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub now_ms: i64,
    pub day_ms: i64,
}

fn enabled(config: &LifecycleConfig) -> impl Iterator<Item = &LifecycleRule> {
    config.rules.iter().filter(|r| r.enabled)
}

/// Whether the current version `head` of `key` (an object, not a marker)
/// has expired.
pub(crate) fn current_expired(
    config: &LifecycleConfig,
    key: &str,
    head: &ObjectHead,
    clock: Clock,
) -> bool {
    !head.delete_marker
        && config
            .expiry(
                key,
                head.size,
                &head.tags,
                head.last_modified_ms,
                clock.day_ms,
            )
            .is_some_and(|(due, _)| due <= clock.now_ms)
}

/// Whether a noncurrent version `head` of `key` is deleted: it became
/// noncurrent at `since_ms`, and `newer` noncurrent versions of the key
/// are newer than it.
pub(crate) fn noncurrent_expired(
    config: &LifecycleConfig,
    key: &str,
    head: &ObjectHead,
    since_ms: i64,
    newer: u32,
    clock: Clock,
) -> bool {
    enabled(config).any(|r| {
        r.noncurrent.is_some_and(|n| {
            newer >= n.newer_versions.unwrap_or(0)
                && due_ms(since_ms, n.days, clock.day_ms) <= clock.now_ms
        }) && r.filter.matches(key, head.size, &head.tags)
    })
}

/// Whether `marker`, the current version of `key` and its only version
/// left, is removed.
pub(crate) fn lone_marker_expired(
    config: &LifecycleConfig,
    key: &str,
    marker: &ObjectHead,
    clock: Clock,
) -> bool {
    let no_tags = TagSet::default();
    enabled(config).any(|r| {
        let due = match r.expiration {
            Some(Expiration::ExpiredObjectDeleteMarker) => true,
            Some(Expiration::Days(days)) => {
                due_ms(marker.last_modified_ms, days, clock.day_ms) <= clock.now_ms
            }
            Some(Expiration::Date(date_ms)) => date_ms <= clock.now_ms,
            None => false,
        };
        due && r.filter.matches(key, 0, &no_tags)
    })
}

/// Whether `upload` is aborted.
pub(crate) fn upload_expired(
    config: &LifecycleConfig,
    upload: &UploadRecord,
    clock: Clock,
) -> bool {
    enabled(config).any(|r| {
        r.abort_upload_days
            .is_some_and(|days| due_ms(upload.initiated_ms, days, clock.day_ms) <= clock.now_ms)
            && upload.key.starts_with(&r.filter.prefix)
    })
}

/// The key prefixes a walk must cover for the rules that `acts` selects:
/// the fewest prefixes, none inside another, in order; empty when no
/// enabled rule acts, `[""]` when one covers every key.
pub(crate) fn scope(
    config: &LifecycleConfig,
    acts: impl Fn(&LifecycleRule) -> bool,
) -> Vec<String> {
    let mut prefixes: Vec<&str> = enabled(config)
        .filter(|r| acts(r))
        .map(|r| r.filter.prefix.as_str())
        .collect();
    prefixes.sort_unstable();
    let mut out: Vec<String> = Vec::new();
    for p in prefixes {
        if !out.last().is_some_and(|last| p.starts_with(last.as_str())) {
            out.push(p.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::lifecycle_xml::parse_lifecycle;

    const DAY: i64 = 10_000;

    fn config(rules: &str) -> LifecycleConfig {
        let xml = format!("<LifecycleConfiguration>{rules}</LifecycleConfiguration>");
        parse_lifecycle(xml.as_bytes()).expect("rules")
    }

    fn object(size: u64, modified_ms: i64) -> ObjectHead {
        let mut h = ObjectHead::delete_marker(None, modified_ms * 1000);
        h.delete_marker = false;
        h.size = size;
        h
    }

    fn at(now_ms: i64) -> Clock {
        Clock {
            now_ms,
            day_ms: DAY,
        }
    }

    #[test]
    fn current_versions_expire_at_the_midnight_after_their_days() {
        let c = config(
            "<Rule><ID>a</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>\
             <Expiration><Days>1</Days></Expiration></Rule>",
        );
        let h = object(5, 3_000);
        // Created at 3 s of day 0, one day: due at the start of day 2.
        assert!(!current_expired(&c, "logs/x", &h, at(19_999)));
        assert!(current_expired(&c, "logs/x", &h, at(20_000)));
        assert!(!current_expired(&c, "data/x", &h, at(90_000)));
        let mut marker = h.clone();
        marker.delete_marker = true;
        assert!(!current_expired(&c, "logs/x", &marker, at(90_000)));
        let off = config(
            "<Rule><ID>a</ID><Filter/><Status>Disabled</Status>\
             <Expiration><Days>1</Days></Expiration></Rule>",
        );
        assert!(!current_expired(&off, "logs/x", &h, at(90_000)));
    }

    #[test]
    fn a_date_expires_everything_selected_from_then_on() {
        let c = config(
            "<Rule><ID>a</ID><Filter><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></Filter>\
             <Status>Enabled</Status><Expiration><Date>2024-01-02T00:00:00Z</Date></Expiration></Rule>",
        );
        let date = 1_704_153_600_000;
        let big = object(11, 0);
        assert!(!current_expired(&c, "k", &big, at(date - 1)));
        assert!(current_expired(&c, "k", &big, at(date)));
        assert!(!current_expired(&c, "k", &object(10, 0), at(date)));
    }

    #[test]
    fn noncurrent_versions_count_from_their_successor_and_keep_the_newest() {
        let c = config(
            "<Rule><ID>a</ID><Filter/><Status>Enabled</Status>\
             <NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>\
             <NewerNoncurrentVersions>2</NewerNoncurrentVersions>\
             </NoncurrentVersionExpiration></Rule>",
        );
        let h = object(1, 0);
        // Noncurrent since 5 s: due at 20 s, and only beyond the 2 newest.
        assert!(!noncurrent_expired(&c, "k", &h, 5_000, 2, at(19_999)));
        assert!(noncurrent_expired(&c, "k", &h, 5_000, 2, at(20_000)));
        assert!(!noncurrent_expired(&c, "k", &h, 5_000, 1, at(90_000)));
        let plain = config(
            "<Rule><ID>a</ID><Filter/><Status>Enabled</Status>\
             <NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays>\
             </NoncurrentVersionExpiration></Rule>",
        );
        assert!(noncurrent_expired(&plain, "k", &h, 0, 0, at(30_000)));
        assert!(!noncurrent_expired(&plain, "k", &h, 0, 0, at(29_999)));
    }

    #[test]
    fn lone_markers_go_at_once_or_when_old_enough() {
        let marker = ObjectHead::delete_marker(None, 3_000_000);
        let at_once = config(
            "<Rule><ID>a</ID><Filter/><Status>Enabled</Status>\
             <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>",
        );
        assert!(lone_marker_expired(&at_once, "k", &marker, at(3_000)));
        let by_days = config(
            "<Rule><ID>a</ID><Filter/><Status>Enabled</Status>\
             <Expiration><Days>1</Days></Expiration></Rule>",
        );
        assert!(!lone_marker_expired(&by_days, "k", &marker, at(19_999)));
        assert!(lone_marker_expired(&by_days, "k", &marker, at(20_000)));
        let tagged = config(
            "<Rule><ID>a</ID><Filter><Tag><Key>t</Key><Value>v</Value></Tag></Filter>\
             <Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
        );
        assert!(!lone_marker_expired(&tagged, "k", &marker, at(90_000)));
    }

    #[test]
    fn uploads_are_aborted_by_prefix_and_age() {
        let c = config(
            "<Rule><ID>a</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status>\
             <AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation>\
             </AbortIncompleteMultipartUpload></Rule>",
        );
        let upload = |key: &str| UploadRecord {
            upload_id: "u".into(),
            key: key.into(),
            initiated_ms: 1_000,
            content: Default::default(),
            user_meta: Default::default(),
            tags: TagSet::default(),
            checksum_algorithm: None,
            checksum_type: None,
        };
        assert!(!upload_expired(&c, &upload("tmp/a"), at(29_999)));
        assert!(upload_expired(&c, &upload("tmp/a"), at(30_000)));
        assert!(!upload_expired(&c, &upload("keep/a"), at(90_000)));
    }

    #[test]
    fn the_scope_is_the_fewest_prefixes_that_cover_the_rules() {
        let rule = |id: &str, prefix: &str| {
            format!(
                "<Rule><ID>{id}</ID><Filter><Prefix>{prefix}</Prefix></Filter>\
                 <Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
            )
        };
        let c = config(&[rule("a", "logs/b"), rule("b", "logs/"), rule("c", "tmp/")].concat());
        let expires = |r: &LifecycleRule| r.expiration.is_some();
        assert_eq!(scope(&c, expires), ["logs/", "tmp/"]);
        assert!(scope(&c, |r| r.noncurrent.is_some()).is_empty());
        let all = config(&[rule("a", "logs/"), rule("b", "")].concat());
        assert_eq!(scope(&all, expires), [""]);
    }
}
