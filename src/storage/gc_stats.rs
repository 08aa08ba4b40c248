//! What a backend's garbage collection has done since the gateway started,
//! for the logs and the metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters a backend's collector keeps (both backends).
#[derive(Debug, Default)]
pub(crate) struct GcStats {
    /// Collector runs (on Cassandra, only those of the lease holder).
    pub runs: AtomicU64,
    /// Blobs deleted.
    pub blobs: AtomicU64,
    /// Chunks deleted.
    pub chunks: AtomicU64,
    /// Bytes deleted.
    pub bytes: AtomicU64,
    /// Collection work past due and not done yet, at the last run: queue
    /// minutes on Cassandra, queued blobs on the embedded store.
    pub backlog: AtomicU64,
    /// Blobs of uploads that never committed, released by the sweep (on
    /// the embedded store, blob files removed at start-up or by repair).
    pub swept_blobs: AtomicU64,
    /// Pending blobs past their deadline that the last sweep could not
    /// decide on (Cassandra).
    pub pending_undecided: AtomicU64,
}

/// A copy of [`GcStats`] at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GcSnapshot {
    pub runs: u64,
    pub blobs: u64,
    pub chunks: u64,
    pub bytes: u64,
    pub backlog: u64,
    pub swept_blobs: u64,
    pub pending_undecided: u64,
}

impl GcStats {
    /// Counts one deleted blob.
    pub(crate) fn deleted(&self, chunks: u64, bytes: u64) {
        self.blobs.fetch_add(1, Ordering::Relaxed);
        self.chunks.fetch_add(chunks, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> GcSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        GcSnapshot {
            runs: get(&self.runs),
            blobs: get(&self.blobs),
            chunks: get(&self.chunks),
            bytes: get(&self.bytes),
            backlog: get(&self.backlog),
            swept_blobs: get(&self.swept_blobs),
            pending_undecided: get(&self.pending_undecided),
        }
    }
}
