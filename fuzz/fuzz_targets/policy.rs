//! Bucket policies (`access::policy::parse`), the public-read subset.
//!
//! Input: line 1 the bucket name, the rest the policy document.
//!
//! Invariants:
//! * parsing never panics, and is deterministic;
//! * an accepted policy is at most 20 KiB, keeps its document unchanged,
//!   and is public; its object grants hold no wildcard;
//! * what it allows follows from its grants: a key under a granted prefix
//!   may be read, and nothing is readable without a key.

#![no_main]

use libfuzzer_sys::fuzz_target;
use s3gw::access::policy::{parse, Objects, PublicAction, MAX_POLICY_BYTES};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (bucket, document) = text.split_once('\n').unwrap_or((text, ""));
    let first = parse(document, bucket);
    assert_eq!(first, parse(document, bucket));
    let Ok(p) = first else { return };
    assert!(document.len() <= MAX_POLICY_BYTES);
    assert_eq!(p.document, document);
    assert!(p.is_public());
    assert!(!p.allows(PublicAction::GetObject, None));
    for o in &p.read {
        let (Objects::Prefix(k) | Objects::Key(k)) = o;
        assert!(!k.contains(['*', '?']), "{k:?}");
        let probe = match o {
            Objects::Prefix(prefix) => format!("{prefix}x"),
            Objects::Key(key) => key.clone(),
        };
        assert!(p.allows(PublicAction::GetObject, Some(&probe)));
    }
});
