//! The status-document contract (each gateway's heartbeat and the bucket
//! usage it counted, read by every gateway for the dashboard's cluster
//! view; the database nodes), and the in-memory documents of a backend
//! whose gateways share one process (the embedded store): heartbeats and
//! usage need no disk.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::StorageError;
use crate::types::StatusKind;

#[async_trait]
pub trait StatusStore: Send + Sync + 'static {
    /// Stores a gateway's status document of `kind` (its heartbeat, the
    /// bucket usage it counted), replacing the last one of that id; it
    /// expires after `ttl`. Read by every gateway for the dashboard.
    async fn put_status(
        &self,
        kind: StatusKind,
        id: &str,
        doc: &str,
        ttl: Duration,
    ) -> Result<(), StorageError>;
    /// Every unexpired status document of `kind`, as (id, document).
    async fn statuses(&self, kind: StatusKind) -> Result<Vec<(String, String)>, StorageError>;
    /// The database nodes as this gateway sees them (none on the embedded
    /// store).
    async fn nodes(&self) -> Result<Vec<NodeStatus>, StorageError>;
}

/// One database node, for the dashboard.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeStatus {
    /// host:port the gateway talks CQL to.
    pub address: String,
    pub datacenter: Option<String>,
    /// Whether the gateway's driver holds a connection to it.
    pub up: bool,
    /// Bytes of data on the node, as gossip last published it.
    pub load_bytes: Option<u64>,
    /// Its gossip status (`NORMAL`, `LEAVING`, …).
    pub status: Option<String>,
}

/// (kind, id) → (document, expiry).
#[derive(Default)]
pub(crate) struct MemoryStatuses {
    docs: Mutex<BTreeMap<(StatusKind, String), (String, Instant)>>,
}

impl MemoryStatuses {
    pub(crate) fn put_status(&self, kind: StatusKind, id: &str, doc: &str, ttl: Duration) {
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        docs.retain(|_, (_, expires)| *expires > now);
        docs.insert((kind, id.into()), (doc.into(), now + ttl));
    }

    /// Unexpired documents of `kind`, by id.
    pub(crate) fn statuses(&self, kind: StatusKind) -> Vec<(String, String)> {
        let docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        docs.iter()
            .filter(|((k, _), (_, expires))| *k == kind && *expires > now)
            .map(|((_, id), (doc, _))| (id.clone(), doc.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_replace_and_expire() {
        let s = MemoryStatuses::default();
        let (beat, usage) = (StatusKind::Beat, StatusKind::Usage);
        s.put_status(beat, "gw1", "a", Duration::from_secs(60));
        s.put_status(beat, "gw1", "b", Duration::from_secs(60));
        s.put_status(beat, "gw2", "c", Duration::ZERO);
        s.put_status(usage, "gw1", "d", Duration::from_secs(60));
        assert_eq!(s.statuses(beat), vec![("gw1".to_string(), "b".to_string())]);
        assert_eq!(s.statuses(usage).len(), 1);
    }
}
