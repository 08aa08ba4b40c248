//! Access keys in the embedded store: one row per key, its record as JSON.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition};

use super::{corrupt, db_err, EmbeddedStorage};
use crate::storage::{KeyRecord, KeyStore, StorageError};

/// Access key id → its record (JSON).
pub(super) const ACCESS_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("access_keys");

impl EmbeddedStorage {
    fn key_changed(&self) {
        self.inner.keys_epoch.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl KeyStore for EmbeddedStorage {
    async fn create_key(&self, key: &KeyRecord) -> Result<(), StorageError> {
        let key = key.clone();
        self.blocking(move |inner| {
            let txn = inner.db.begin_write().map_err(db_err)?;
            {
                let mut t = txn.open_table(ACCESS_KEYS).map_err(db_err)?;
                if t.get(key.id.as_str()).map_err(db_err)?.is_some() {
                    return Err(StorageError::PreconditionFailed);
                }
                let bytes = serde_json::to_vec(&key).map_err(corrupt)?;
                t.insert(key.id.as_str(), bytes.as_slice())
                    .map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
        .await?;
        self.key_changed();
        Ok(())
    }

    async fn get_key(&self, id: &str) -> Result<Option<KeyRecord>, StorageError> {
        let id = id.to_owned();
        self.blocking(move |inner| inner.json_row(ACCESS_KEYS, &id))
            .await
    }

    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
        self.blocking(|inner| inner.json_rows(ACCESS_KEYS)).await
    }

    async fn delete_key(&self, id: &str) -> Result<bool, StorageError> {
        let id = id.to_owned();
        let existed = self
            .blocking(move |inner| {
                let txn = inner.db.begin_write().map_err(db_err)?;
                let existed = {
                    let mut t = txn.open_table(ACCESS_KEYS).map_err(db_err)?;
                    let removed = t.remove(id.as_str()).map_err(db_err)?;
                    removed.is_some()
                };
                txn.commit().map_err(db_err)?;
                Ok(existed)
            })
            .await?;
        self.key_changed();
        Ok(existed)
    }

    async fn keys_epoch(&self) -> Result<String, StorageError> {
        Ok(self.inner.keys_epoch.load(Ordering::SeqCst).to_string())
    }
}
