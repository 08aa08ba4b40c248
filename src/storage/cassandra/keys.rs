//! Access keys on Cassandra: one row per key in `access_keys`, its record
//! as JSON, written and deleted by lightweight transactions (a key id is
//! taken once). The `keys_epoch` setting gets a fresh value after every
//! change; gateways poll it (one small read) and reload when it moves.

use async_trait::async_trait;

use super::rows::{KeyRow, SettingRow};
use super::CassandraStorage;
use crate::storage::{corrupt, KeyRecord, KeyStore, StorageError};

const EPOCH: &str = "keys_epoch";

fn decode(row: KeyRow) -> Result<KeyRecord, StorageError> {
    let doc = row
        .doc
        .ok_or_else(|| StorageError::Corrupt("access key row without a record".into()))?;
    serde_json::from_str(&doc).map_err(corrupt)
}

impl CassandraStorage {
    /// Tells every gateway's key cache that the keys changed.
    async fn key_changed(&self) -> Result<(), StorageError> {
        let epoch = uuid::Uuid::now_v7().simple().to_string();
        self.inner
            .cql
            .exec(&self.inner.st.setting_put, (EPOCH, epoch))
            .await
    }
}

#[async_trait]
impl KeyStore for CassandraStorage {
    async fn create_key(&self, key: &KeyRecord) -> Result<(), StorageError> {
        let doc = serde_json::to_string(key).map_err(corrupt)?;
        let applied = self
            .inner
            .cql
            .lwt(&self.inner.st.key_insert, (&key.id, doc))
            .await?;
        if !applied {
            return Err(StorageError::PreconditionFailed);
        }
        self.key_changed().await
    }

    async fn get_key(&self, id: &str) -> Result<Option<KeyRecord>, StorageError> {
        let rows: Vec<KeyRow> = self.inner.cql.rows(&self.inner.st.key_get, (id,)).await?;
        rows.into_iter().next().map(decode).transpose()
    }

    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
        let rows: Vec<KeyRow> = self.inner.cql.scan(&self.inner.st.key_all).await?;
        rows.into_iter().map(decode).collect()
    }

    async fn delete_key(&self, id: &str) -> Result<bool, StorageError> {
        let existed = self.inner.cql.lwt(&self.inner.st.key_delete, (id,)).await?;
        self.key_changed().await?;
        Ok(existed)
    }

    async fn keys_epoch(&self) -> Result<String, StorageError> {
        let rows: Vec<SettingRow> = self
            .inner
            .cql
            .rows(&self.inner.st.setting_get, (EPOCH,))
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.value)
            .unwrap_or_default())
    }
}
