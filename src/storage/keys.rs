//! The access-key contract: the keys that may sign requests besides the
//! root pair, stored by every backend so that every gateway of a keyspace
//! knows them. Gateways cache them (`crate::access::KeyCache`) and watch
//! [`KeyStore::keys_epoch`] to learn of changes.

use async_trait::async_trait;

use super::{KeyRecord, StorageError};

#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Stores a new key; `PreconditionFailed` if its id is taken.
    async fn create_key(&self, key: &KeyRecord) -> Result<(), StorageError>;
    async fn get_key(&self, id: &str) -> Result<Option<KeyRecord>, StorageError>;
    /// Every key, in no particular order.
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StorageError>;
    /// Removes a key; returns whether it existed.
    async fn delete_key(&self, id: &str) -> Result<bool, StorageError>;
    /// A value that changes whenever a key is created or deleted, cheap to
    /// read: a gateway reloads its keys when it sees a new one.
    async fn keys_epoch(&self) -> Result<String, StorageError>;
}
