//! Versioning: a bucket's versioning state, and version ids
//! (docs/storage-model.md "Versions").
//!
//! An id is 32 lowercase hex digits: 16 of `u64::MAX - t`, where `t` is the
//! version's time in microseconds, then 16 random ones. Ids of one key
//! therefore sort newest first, and an id tells its own place among the
//! versions of its key without a lookup. AWS documents ids only as opaque
//! URL-ready strings of at most 1 024 bytes; ours are URL-safe as they are.
//! The version of an object written while the bucket was never versioned,
//! or while versioning was suspended, is the null version, named `null`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A bucket's versioning state. A bucket starts unversioned and, once
/// versioning was enabled, is only ever enabled or suspended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VersioningState {
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

impl VersioningState {
    /// Whether writes keep the versions they replace (or, suspended, all
    /// but the null version).
    pub fn is_versioned(self) -> bool {
        self != VersioningState::Unversioned
    }

    /// The `Status` of GetBucketVersioning (none when never enabled).
    pub fn status(self) -> Option<&'static str> {
        match self {
            VersioningState::Unversioned => None,
            VersioningState::Enabled => Some("Enabled"),
            VersioningState::Suspended => Some("Suspended"),
        }
    }

    /// The state a PutBucketVersioning `Status` names.
    pub fn from_status(status: &str) -> Option<VersioningState> {
        match status {
            "Enabled" => Some(VersioningState::Enabled),
            "Suspended" => Some(VersioningState::Suspended),
            _ => None,
        }
    }

    /// Its name as stored (Cassandra's `buckets.versioning`).
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningState::Unversioned => "",
            VersioningState::Enabled => "Enabled",
            VersioningState::Suspended => "Suspended",
        }
    }
}

/// How requests name the null version.
pub const NULL_VERSION: &str = "null";

/// Hex digits of an id.
const ID_LEN: usize = 32;

/// The id of a version other than the null version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VersionId(String);

impl VersionId {
    /// A fresh id for a version made at `version_us` (µs since the epoch).
    pub fn new(version_us: i64) -> VersionId {
        let random = uuid::Uuid::new_v4().as_u128() as u64;
        VersionId(format!("{:016x}{random:016x}", inverted(version_us)))
    }

    /// `text` if it is an id this store makes.
    pub fn parse(text: &str) -> Option<VersionId> {
        let ok = text.len() == ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| VersionId(text.to_owned()))
    }

    /// The version's time, inverted (`u64::MAX - µs`): smaller is newer.
    pub fn inverted_us(&self) -> u64 {
        u64::from_str_radix(&self.0[..16], 16).unwrap_or(u64::MAX)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `u64::MAX - version_us`, the order key of a version: newest first.
pub fn inverted(version_us: i64) -> u64 {
    u64::MAX - u64::try_from(version_us).unwrap_or(0)
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for VersionId {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        VersionId::parse(&text).ok_or_else(|| format!("not a version id: {text:?}"))
    }
}

impl From<VersionId> for String {
    fn from(id: VersionId) -> String {
        id.0
    }
}

/// The version a request names (`versionId`,
/// `x-amz-copy-source-version-id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionRef {
    /// `null`.
    Null,
    Id(VersionId),
}

impl VersionRef {
    /// The version `text` names, or `None` if it names none this store
    /// could hold (S3 answers 400 `InvalidArgument`, "Invalid version id
    /// specified").
    pub fn parse(text: &str) -> Option<VersionRef> {
        if text == NULL_VERSION {
            return Some(VersionRef::Null);
        }
        VersionId::parse(text).map(VersionRef::Id)
    }

    /// The id of a head's version: `None` is the null version.
    pub fn of(id: Option<&VersionId>) -> VersionRef {
        match id {
            Some(id) => VersionRef::Id(id.clone()),
            None => VersionRef::Null,
        }
    }

    /// Whether a head whose version id is `id` is this version.
    pub fn names(&self, id: Option<&VersionId>) -> bool {
        match (self, id) {
            (VersionRef::Null, None) => true,
            (VersionRef::Id(a), Some(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for VersionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionRef::Null => f.write_str(NULL_VERSION),
            VersionRef::Id(id) => id.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_newest_first_and_carry_their_time() {
        let older = VersionId::new(1_700_000_000_000_000);
        let newer = VersionId::new(1_700_000_000_000_001);
        assert!(newer < older);
        assert_eq!(older.inverted_us(), inverted(1_700_000_000_000_000));
        assert_eq!(older.as_str().len(), ID_LEN);
        assert_eq!(VersionId::parse(older.as_str()), Some(older.clone()));
        assert_ne!(VersionId::new(5), VersionId::new(5), "random tails");
    }

    #[test]
    fn only_ids_this_store_makes_or_null_are_versions() {
        assert_eq!(VersionRef::parse("null"), Some(VersionRef::Null));
        for bad in [
            "",
            "NULL",
            "Null",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdeg0123456789abcdef",
            "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd",
        ] {
            assert_eq!(VersionRef::parse(bad), None, "{bad:?}");
        }
        let id = VersionId::new(1);
        assert_eq!(
            VersionRef::parse(id.as_str()),
            Some(VersionRef::Id(id.clone()))
        );
        assert!(VersionRef::Id(id.clone()).names(Some(&id)));
        assert!(!VersionRef::Null.names(Some(&id)));
        assert!(VersionRef::Null.names(None));
    }

    #[test]
    fn serde_refuses_what_parse_refuses() {
        let id = VersionId::new(42);
        let json = serde_json::to_string(&id).expect("json");
        assert_eq!(serde_json::from_str::<VersionId>(&json).expect("back"), id);
        assert!(serde_json::from_str::<VersionId>("\"null\"").is_err());
    }
}
