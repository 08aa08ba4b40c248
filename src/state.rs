//! The state every request shares: the configuration, the store, the root
//! pair, the upload buffer slots and this gateway's figures. Below both the
//! S3 handlers and the dashboard, which read it.

use std::sync::Arc;

use crate::access::KeyCache;
use crate::auth::SecretKey;
use crate::config::Config;
use crate::storage::{KeyStore, Maintenance, StatusStore, Storage};

/// Everything a request needs, shared by all requests.
pub struct AppState {
    pub config: Config,
    /// The data operations: all that `s3/` uses.
    pub storage: Arc<dyn Storage>,
    /// fsck, repair and the GC figures (the metrics page).
    pub maintenance: Arc<dyn Maintenance>,
    /// Status documents and database nodes (heartbeat, cluster view).
    pub statuses: Arc<dyn StatusStore>,
    /// The stored access keys (the admin API changes them).
    pub key_store: Arc<dyn KeyStore>,
    /// This gateway's copy of the stored keys (`access::cache`).
    pub keys: Arc<KeyCache>,
    pub root_access_key: String,
    pub root_secret_key: SecretKey,
    /// Gateway-wide upload chunk buffers (see `storage::writer`).
    pub upload_slots: Arc<tokio::sync::Semaphore>,
    /// This gateway's live figures (metrics, dashboard heartbeat).
    pub telemetry: Arc<crate::telemetry::Telemetry>,
}

impl AppState {
    /// Limits of one upload of at most `max_size` bytes.
    pub(crate) fn write_limits(&self, max_size: u64) -> crate::storage::writer::WriteLimits {
        crate::storage::writer::WriteLimits {
            chunk_size: self.config.chunk_size,
            in_flight: self.config.upload_chunks_in_flight,
            max_size,
            inline_max: self.config.inline_max_size as usize,
            slots: self.upload_slots.clone(),
        }
    }

    /// The `ID` reported as the owner of what the root pair created.
    pub(crate) fn owner_id(&self) -> String {
        self.root_access_key.to_ascii_lowercase()
    }
}
