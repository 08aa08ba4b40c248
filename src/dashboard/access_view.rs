//! `GET /_s3gw/api/access`: the stored access keys and every bucket's
//! owner and grants, read-only, for the dashboard's "Access keys" section,
//! and who the session is for. Keys come from the backend (`KeyStore`),
//! buckets from the `Storage` listing; `s3gw admin` (the admin API)
//! changes them, never this page. A key is shown by its id, name, creation
//! time and flags: its secret, sealed or open, is never read into the
//! answer. `docs/operations.md` describes the fields.
//!
//! Bounded: at most [`MAX_KEYS`] keys, [`MAX_BUCKETS`] buckets and
//! [`MAX_GRANTS`] grants per bucket are listed (the first ones by name),
//! with `total` and `truncated` saying what was left out.

use std::collections::BTreeMap;

use serde::Serialize;

use super::session::Viewer;
use crate::state::AppState;
use crate::storage::{now_ms, BucketRecord, KeyRecord, StorageError};

/// Keys listed at most.
pub(crate) const MAX_KEYS: usize = 1000;
/// Buckets listed at most.
pub(crate) const MAX_BUCKETS: usize = 1000;
/// Grants listed per bucket at most.
pub(crate) const MAX_GRANTS: usize = 100;

#[derive(Debug, Serialize)]
pub(crate) struct Access {
    pub now_ms: i64,
    pub logged_in: LoggedIn,
    pub keys: Listed<KeyShown>,
    pub buckets: Listed<BucketGrants>,
}

/// Who the session is for.
#[derive(Debug, Serialize)]
pub(crate) struct LoggedIn {
    /// The root pair (then `access_key_id` is `None`).
    pub root: bool,
    pub access_key_id: Option<String>,
    /// The key's name, or `root`.
    pub name: String,
}

/// The first items of a longer list.
#[derive(Debug, Serialize)]
pub(crate) struct Listed<T> {
    /// How many there are in all.
    pub total: usize,
    /// Whether `items` leaves some out.
    pub truncated: bool,
    pub items: Vec<T>,
}

/// A stored key as the page shows it: never its secret.
#[derive(Debug, Serialize)]
pub(crate) struct KeyShown {
    pub access_key_id: String,
    pub name: String,
    pub created_ms: i64,
    pub create_bucket: bool,
    pub admin: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct BucketGrants {
    pub name: String,
    /// The access key id of the key that created it, or `root`.
    pub owner: String,
    /// Access key id → a subset of `rwo` (read, write, owner); keys with
    /// no permission left are not listed.
    pub grants: BTreeMap<String, String>,
    pub grants_truncated: bool,
}

impl From<KeyRecord> for KeyShown {
    fn from(k: KeyRecord) -> Self {
        KeyShown {
            access_key_id: k.id,
            name: k.name,
            created_ms: k.created_ms,
            create_bucket: k.create_bucket,
            admin: k.admin,
        }
    }
}

impl LoggedIn {
    fn of(who: &Viewer) -> Self {
        match who {
            Viewer::Root => LoggedIn {
                root: true,
                access_key_id: None,
                name: "root".into(),
            },
            Viewer::Key(k) => LoggedIn {
                root: false,
                access_key_id: Some(k.id.clone()),
                name: k.name.clone(),
            },
        }
    }
}

impl<T> Listed<T> {
    fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        Listed {
            total: self.total,
            truncated: self.truncated,
            items: self.items.into_iter().map(f).collect(),
        }
    }
}

/// The first `max` of `items` in order, and what was left out.
fn first<T>(mut items: Vec<T>, max: usize) -> Listed<T> {
    let total = items.len();
    items.truncate(max);
    Listed {
        total,
        truncated: total > max,
        items,
    }
}

fn bucket_grants(b: BucketRecord) -> BucketGrants {
    let mut grants = b
        .grants
        .iter()
        .map(|(id, g)| (id, g.letters()))
        .filter(|(_, letters)| !letters.is_empty());
    let shown: BTreeMap<String, String> = grants
        .by_ref()
        .take(MAX_GRANTS)
        .map(|(id, letters)| (id.clone(), letters))
        .collect();
    BucketGrants {
        owner: if b.owner.is_empty() {
            "root".into()
        } else {
            b.owner
        },
        name: b.name,
        grants: shown,
        grants_truncated: grants.next().is_some(),
    }
}

/// The access view for the session of `who`.
pub(crate) async fn access(state: &AppState, who: &Viewer) -> Result<Access, StorageError> {
    let mut keys = state.key_store.list_keys().await?;
    keys.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let mut buckets = state.storage.list_buckets().await?;
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Access {
        now_ms: now_ms(),
        logged_in: LoggedIn::of(who),
        keys: first(keys, MAX_KEYS).map(KeyShown::from),
        buckets: first(buckets, MAX_BUCKETS).map(bucket_grants),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Grant;

    #[test]
    fn lists_are_cut_at_their_bound_and_say_so() {
        let l = first((0..5).collect::<Vec<_>>(), 3);
        assert_eq!((l.total, l.truncated, l.items), (5, true, vec![0, 1, 2]));
        let l = first((0..3).collect::<Vec<_>>(), 3);
        assert_eq!((l.total, l.truncated, l.items.len()), (3, false, 3));
    }

    #[test]
    fn a_bucket_shows_its_owner_and_non_empty_grants() {
        let mut b = BucketRecord::new("b", "us-east-1", "");
        b.grants.insert("K1".into(), Grant::from_letters("rw"));
        b.grants.insert("K2".into(), Grant::default());
        let shown = bucket_grants(b);
        assert_eq!(shown.owner, "root");
        assert_eq!(
            shown.grants,
            BTreeMap::from([("K1".to_string(), "rw".to_string())])
        );
        assert!(!shown.grants_truncated);

        let mut b = BucketRecord::new("c", "us-east-1", "OWNER");
        for i in 0..MAX_GRANTS + 1 {
            b.grants.insert(format!("K{i:04}"), Grant::ALL);
        }
        let shown = bucket_grants(b);
        assert_eq!(shown.owner, "OWNER");
        assert_eq!(shown.grants.len(), MAX_GRANTS);
        assert_eq!(shown.grants.get("K0000").map(String::as_str), Some("rwo"));
        assert!(shown.grants_truncated);
    }
}
