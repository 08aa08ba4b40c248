//! The XML request bodies: DeleteObjects (`Delete`),
//! CompleteMultipartUpload, CreateBucket's configuration,
//! PutBucketTagging's `Tagging`, PutBucketVersioning's
//! `VersioningConfiguration` and PutBucketLifecycleConfiguration's
//! `LifecycleConfiguration`, each parsed
//! from the same input with `s3gw::xml::from_xml`, as the handlers do
//! (a body that is not UTF-8 is refused before parsing).
//!
//! Invariants:
//! * a key parsed from `Delete` that XML 1.0 can carry comes back unchanged
//!   when echoed in the `DeleteResult` answer (escaping is right);
//! * `choose_parts` against a fixed set of stored parts accepts only an
//!   ascending list of known parts whose ETags match, every part but the
//!   last at least 5 MiB, and returns them in the order asked; the
//!   multipart ETag of what it chose is `<32 hex>-<count>`;
//! * a tag set `parse_tagging` accepts keeps S3's rules (at most 50 tags,
//!   keys of 1 to 128 and values of up to 256 UTF-16 units, unique keys,
//!   no `aws:`), and comes back unchanged through the GetBucketTagging
//!   answer;
//! * a versioning configuration `parse_versioning` accepts names Enabled,
//!   Suspended or no status, and the GetBucketVersioning answer for that
//!   status parses back to it;
//! * a lifecycle configuration `parse_lifecycle` accepts has 1 to 1000
//!   rules with unique IDs of at most 255 characters, each rule with an
//!   action, and the GetBucketLifecycleConfiguration answer
//!   (`lifecycle_answer`) parses back to the same configuration;
//! * a CORS configuration `parse_cors` accepts has 1 to 100 rules, each
//!   with a method S3 allows and an origin, no origin or allowed header
//!   with two wildcards, and the GetBucketCors answer (`cors_answer`)
//!   parses back to the same configuration.

#![no_main]

use libfuzzer_sys::fuzz_target;
use s3gw::s3::bucket_versioning::parse_versioning;
use s3gw::s3::cors_xml::{cors_answer, parse_cors};
use s3gw::s3::lifecycle_xml::{lifecycle_answer, parse_lifecycle};
use s3gw::s3::tagging::parse_tagging;
use s3gw::s3::complete::{choose_parts, multipart_etag, MIN_PART_SIZE};
use s3gw::storage::{BlobId, PartRecord, PartRef};
use s3gw::types::{
    unquote_etag, xml_safe, ChecksumAlgorithm, ChecksumType, CORS_METHODS, MAX_BUCKET_TAGS,
    MAX_CORS_RULES, MAX_LIFECYCLE_RULES,
    MAX_RULE_ID_LEN, MAX_TAG_KEY_LEN, MAX_TAG_VALUE_LEN,
};
use s3gw::xml::{self, from_xml, to_xml};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Deserialize)]
struct EchoedResult {
    #[serde(rename = "Deleted", default)]
    deleted: Vec<EchoedKey>,
    #[serde(rename = "Error", default)]
    errors: Vec<EchoedKey>,
}

#[derive(Deserialize)]
struct EchoedKey {
    #[serde(rename = "Key")]
    key: String,
}

fn stored() -> Vec<PartRecord> {
    // Part 3 is small (only valid last); part 4 has a checksum.
    let part = |n: u32, size: u64, etag: &str| PartRecord {
        part_number: n,
        last_modified_ms: 0,
        data: PartRef {
            blob: BlobId::new(),
            size,
            etag: etag.to_owned(),
            checksum: None,
            chunk_size: None,
        },
    };
    let mut parts = vec![
        part(1, MIN_PART_SIZE, "5d41402abc4b2a76b9719d911017c592"),
        part(2, MIN_PART_SIZE + 1, "7d793037a0760186574b0282f2f435e7"),
        part(3, 1, "aa"),
        part(4, MIN_PART_SIZE, "bb"),
    ];
    parts[3].data.checksum = Some(s3gw::storage::records::StoredChecksum {
        algorithm: ChecksumAlgorithm::Crc32,
        value: "AAAAAA==".into(),
        kind: ChecksumType::FullObject,
    });
    parts
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(delete) = from_xml::<xml::Delete>(text) {
        let keys: Vec<String> = delete
            .objects
            .into_iter()
            .map(|o| o.key)
            .filter(|k| xml_safe(k))
            .collect();
        let answer = xml::DeleteResult {
            xmlns: (),
            deleted: keys
                .iter()
                .map(|k| xml::Deleted {
                    key: k.clone(),
                    version_id: Some("null".into()),
                    delete_marker: true,
                    delete_marker_version_id: Some("null".into()),
                })
                .collect(),
            errors: keys
                .iter()
                .map(|k| xml::DeleteError {
                    key: k.clone(),
                    version_id: None,
                    code: "InternalError",
                    message: "m".into(),
                })
                .collect(),
        };
        let out = to_xml(&answer).expect("DeleteResult serializes");
        let back: EchoedResult = from_xml(&out).expect("our DeleteResult parses");
        let deleted: Vec<String> = back.deleted.into_iter().map(|k| k.key).collect();
        let errors: Vec<String> = back.errors.into_iter().map(|k| k.key).collect();
        assert_eq!(deleted, keys, "a key changed on its way back: {out}");
        assert_eq!(errors, keys, "a key changed on its way back: {out}");
    }

    if let Ok(complete) = from_xml::<xml::CompleteMultipartUpload>(text) {
        let stored = stored();
        if let Ok(chosen) = choose_parts(&complete.parts, &stored) {
            assert_eq!(chosen.len(), complete.parts.len());
            assert!(chosen
                .windows(2)
                .all(|w| w[0].part_number < w[1].part_number));
            for (asked, got) in complete.parts.iter().zip(&chosen) {
                assert_eq!(asked.part_number, got.part_number);
                assert!(unquote_etag(&asked.etag).eq_ignore_ascii_case(&got.data.etag));
            }
            if let Some((_, init)) = chosen.split_last() {
                assert!(init.iter().all(|p| p.data.size >= MIN_PART_SIZE));
            }
            if chosen.iter().all(|p| hex::decode(&p.data.etag).is_ok()) {
                let etag = multipart_etag(&chosen).expect("hex ETags");
                let (md5, count) = etag.split_once('-').expect("N suffix");
                assert_eq!(md5.len(), 32);
                assert_eq!(count, chosen.len().to_string());
            }
        }
    }

    let _ = from_xml::<xml::CreateBucketConfiguration>(text);

    if let Ok(tags) = parse_tagging(data, MAX_BUCKET_TAGS) {
        assert!(tags.len() <= MAX_BUCKET_TAGS);
        let pairs: Vec<(String, String)> = tags
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for (i, (k, v)) in pairs.iter().enumerate() {
            let key_units = k.encode_utf16().count();
            assert!((1..=MAX_TAG_KEY_LEN).contains(&key_units), "key {k:?}");
            assert!(v.encode_utf16().count() <= MAX_TAG_VALUE_LEN, "value {v:?}");
            assert!(xml_safe(k) && xml_safe(v));
            assert!(!k.to_ascii_lowercase().starts_with("aws:"));
            assert!(pairs[..i].iter().all(|(other, _)| other != k), "duplicate {k:?}");
        }
        let answer = xml::Tagging {
            xmlns: (),
            tag_set: xml::TagList {
                tags: pairs
                    .iter()
                    .map(|(key, value)| xml::Tag {
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            },
        };
        let out = to_xml(&answer).expect("Tagging serializes");
        let back = parse_tagging(out.as_bytes(), MAX_BUCKET_TAGS).expect("our Tagging parses");
        let back: Vec<(String, String)> = back
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(back, pairs, "a tag changed on its way back: {out}");
    }

    if let Ok(Some(state)) = parse_versioning(data) {
        assert!(state.is_versioned());
        let out = to_xml(&xml::VersioningConfiguration {
            xmlns: (),
            status: state.status(),
        })
        .expect("VersioningConfiguration serializes");
        let back = parse_versioning(out.as_bytes()).expect("our answer parses");
        assert_eq!(back, Some(state), "{out}");
    }

    if let Ok(cfg) = parse_lifecycle(data) {
        assert!((1..=MAX_LIFECYCLE_RULES).contains(&cfg.rules.len()));
        let mut ids = HashSet::new();
        for rule in &cfg.rules {
            assert!(!rule.id.is_empty() && rule.id.chars().count() <= MAX_RULE_ID_LEN);
            assert!(ids.insert(rule.id.as_str()), "duplicate ID {:?}", rule.id);
            assert!(rule.has_action(), "rule without an action: {rule:?}");
        }
        let out = lifecycle_answer(&cfg);
        let back = parse_lifecycle(out.as_bytes()).expect("our LifecycleConfiguration parses");
        assert_eq!(back, cfg, "a rule changed on its way back: {out}");
    }

    if let Ok(cfg) = parse_cors(data) {
        assert!((1..=MAX_CORS_RULES).contains(&cfg.rules.len()));
        for rule in &cfg.rules {
            assert!(!rule.methods.is_empty() && !rule.origins.is_empty());
            assert!(rule.methods.iter().all(|m| CORS_METHODS.contains(&m.as_str())));
            let patterns = rule.origins.iter().chain(&rule.allowed_headers);
            assert!(patterns.clone().all(|p| p.matches('*').count() <= 1));
        }
        let out = cors_answer(&cfg);
        let back = parse_cors(out.as_bytes()).expect("our CORSConfiguration parses");
        assert_eq!(back, cfg, "a CORS rule changed on its way back: {out}");
    }
});
