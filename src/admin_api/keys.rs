//! `keys`: create, list, show and delete access keys.

use http::StatusCode;
use serde_json::{json, Value};

use super::{ok, rfc3339, Answer, Failure};
use crate::access::{new_access_key_id, new_secret};
use crate::state::AppState;
use crate::storage::{now_ms, Grant, KeyRecord, StorageError};

/// A key as the API shows it: never its secret.
pub(super) fn shown(k: &KeyRecord) -> Value {
    json!({
        "access_key_id": k.id,
        "name": k.name,
        "created": rfc3339(k.created_ms),
        "create_bucket": k.create_bucket,
        "admin": k.admin,
    })
}

fn no_such_key(id: &str) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "NoSuchAccessKey",
        format!("no access key {id}: `s3gw admin key list` shows them"),
    )
}

/// Reloads this gateway's keys after a change, so that the change holds
/// here at once (other gateways see it at their next poll).
async fn reload(state: &AppState) {
    if let Err(e) = state.keys.reload().await {
        tracing::warn!(error = %e, "cannot reload the access keys after a change");
    }
}

pub(super) async fn create(
    state: &AppState,
    name: &str,
    create_bucket: bool,
    admin: bool,
) -> Answer {
    let Some(sealer) = state.keys.sealer() else {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            "KeyEncryptionKeyMissing",
            "this gateway has no key-encryption key: set S3GW_KEY_ENCRYPTION_KEY \
             (the same on every gateway of the keyspace) and restart it",
        ));
    };
    for _ in 0..3 {
        let id = new_access_key_id();
        let secret = new_secret();
        let record = KeyRecord {
            sealed_secret: sealer.seal(&id, &secret).map_err(Failure::bad)?,
            id,
            name: name.to_owned(),
            created_ms: now_ms(),
            create_bucket,
            admin,
        };
        match state.key_store.create_key(&record).await {
            Ok(()) => {
                reload(state).await;
                tracing::info!(key = %record.id, name = %record.name, admin = record.admin, "access key created");
                let mut shown = shown(&record);
                shown["secret_access_key"] = Value::String(secret.expose().to_owned());
                return ok(&shown);
            }
            // Taken (one chance in 36^16): draw another id.
            Err(StorageError::PreconditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Failure::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "no free access key id found",
    ))
}

pub(super) async fn list(state: &AppState) -> Answer {
    let mut keys = state.key_store.list_keys().await?;
    keys.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    ok(&json!({ "keys": keys.iter().map(shown).collect::<Vec<_>>() }))
}

pub(super) async fn info(state: &AppState, id: &str) -> Answer {
    let key = state
        .key_store
        .get_key(id)
        .await?
        .ok_or_else(|| no_such_key(id))?;
    let buckets: Vec<Value> = state
        .storage
        .list_buckets()
        .await?
        .into_iter()
        .filter_map(|b| {
            let g = b.grants.get(id)?;
            Some(json!({"bucket": b.name, "read": g.read, "write": g.write, "owner": g.owner}))
        })
        .collect();
    let mut shown = shown(&key);
    shown["buckets"] = Value::Array(buckets);
    ok(&shown)
}

pub(super) async fn delete(state: &AppState, id: &str) -> Answer {
    if !state.key_store.delete_key(id).await? {
        return Err(no_such_key(id));
    }
    reload(state).await;
    tracing::info!(key = %id, "access key deleted");
    // Its grants go too, so that they cannot outlive it. The key can no
    // longer sign, so a grant left by a failure here is inert.
    for b in state.storage.list_buckets().await? {
        if b.grants.contains_key(id) {
            state.storage.set_grant(&b, id, Grant::default()).await?;
        }
    }
    Ok(super::no_content())
}
