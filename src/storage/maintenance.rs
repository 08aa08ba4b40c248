//! The maintenance contract: checking and repairing the whole store
//! (`s3gw fsck [--repair]`) and the figures of garbage collection. Every
//! backend implements it beside [`super::Storage`]; the request path never
//! uses it.

use async_trait::async_trait;

use super::{FsckReport, GcSnapshot, RepairReport, StorageError};

/// A background job that one gateway at a time does for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// Applying the buckets' lifecycle rules (`crate::lifecycle`).
    Lifecycle,
}

impl Lease {
    /// Its name where the backend records the holder.
    pub fn name(self) -> &'static str {
        match self {
            Lease::Lifecycle => "lifecycle_lease",
        }
    }
}

#[async_trait]
pub trait Maintenance: Send + Sync + 'static {
    /// Checks the whole store (`s3gw fsck`): every chunk that a committed
    /// head or a live part references is stored with the right size and
    /// not queued for collection; stored blobs that nothing references are
    /// counted as garbage when made more than `min_age` ago. Read-only.
    async fn fsck(&self, min_age: std::time::Duration) -> Result<FsckReport, StorageError>;

    /// Removes what is proven garbage now (`s3gw fsck --repair`): released
    /// blobs past their grace period and the blobs of uploads that can no
    /// longer commit. Never touches a blob a record references or may yet
    /// reference.
    async fn repair(&self) -> Result<RepairReport, StorageError>;

    /// What garbage collection has done since the store was opened.
    fn gc_stats(&self) -> GcSnapshot;

    /// Whether this gateway holds `lease` now, taking it if no gateway
    /// does; held, it lasts `ttl` from this call. Only saves duplicate
    /// work: what a lease guards must be safe to run twice at once.
    async fn hold_lease(
        &self,
        lease: Lease,
        ttl: std::time::Duration,
    ) -> Result<bool, StorageError>;
}
