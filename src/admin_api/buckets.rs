//! `buckets/{bucket}`: a bucket's owner, grants and size, and the grants
//! of keys on it.

use std::ops::Bound;

use serde_json::{json, Value};

use super::{ok, rfc3339, Answer, Failure};
use crate::state::AppState;
use crate::storage::{BucketRecord, Grant, StorageError};

/// Entries read per page when counting a bucket's objects.
const COUNT_PAGE: usize = 1000;

async fn bucket(state: &AppState, name: &str) -> Result<BucketRecord, Failure> {
    state
        .storage
        .get_bucket(name)
        .await?
        .ok_or_else(|| StorageError::NoSuchBucket.into())
}

/// The bucket's objects and bytes, counted page by page (memory stays
/// bounded; time grows with the bucket).
async fn usage(state: &AppState, b: &BucketRecord) -> Result<(u64, u64), Failure> {
    let (mut objects, mut bytes) = (0u64, 0u64);
    let mut after: Option<String> = None;
    loop {
        let start = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let page = state
            .storage
            .list_objects(b.id, "", start, COUNT_PAGE)
            .await?;
        objects += page.len() as u64;
        bytes += page.iter().map(|e| e.head.size).sum::<u64>();
        match page.last() {
            Some(last) if page.len() == COUNT_PAGE => after = Some(last.key.clone()),
            _ => return Ok((objects, bytes)),
        }
    }
}

pub(super) async fn info(state: &AppState, name: &str) -> Answer {
    let b = bucket(state, name).await?;
    shown(state, &b).await
}

async fn shown(state: &AppState, b: &BucketRecord) -> Answer {
    let keys = state.key_store.list_keys().await?;
    let name_of = |id: &str| keys.iter().find(|k| k.id == id).map(|k| k.name.clone());
    let grants: Vec<Value> = b
        .grants
        .iter()
        .map(|(id, g)| {
            json!({"access_key_id": id, "name": name_of(id), "read": g.read, "write": g.write, "owner": g.owner})
        })
        .collect();
    let (objects, bytes) = usage(state, b).await?;
    ok(&json!({
        "bucket": b.name,
        "created": rfc3339(b.created_ms),
        "owner": if b.owner.is_empty() { "root" } else { b.owner.as_str() },
        "grants": grants,
        // Stored as put, which was checked to be JSON.
        "policy": b.policy.as_deref().map(|p| serde_json::from_str::<Value>(p).unwrap_or(Value::String(p.to_owned()))),
        "objects": objects,
        "bytes": bytes,
    }))
}

/// Adds (`allow`) or removes the permissions `change` names.
pub(super) async fn change(
    state: &AppState,
    name: &str,
    key: &str,
    allow: bool,
    change: Grant,
) -> Answer {
    if allow && state.key_store.get_key(key).await?.is_none() {
        return Err(Failure::new(
            http::StatusCode::NOT_FOUND,
            "NoSuchAccessKey",
            format!("no access key {key}: `s3gw admin key list` shows them"),
        ));
    }
    let b = bucket(state, name).await?;
    let now = b.grant_of(key);
    let grant = if allow {
        Grant {
            read: now.read || change.read,
            write: now.write || change.write,
            owner: now.owner || change.owner,
        }
    } else {
        Grant {
            read: now.read && !change.read,
            write: now.write && !change.write,
            owner: now.owner && !change.owner,
        }
    };
    state.storage.set_grant(&b, key, grant).await?;
    tracing::info!(bucket = %b.name, key = %key, grant = %grant.letters(), "grant changed");
    shown(state, &bucket(state, name).await?).await
}
