//! What `s3gw fsck` checks and reports, for every backend.
//!
//! A store is consistent when every chunk of every committed head and of
//! every live multipart part is stored with the size its record implies,
//! and no blob that such a record references waits in the collector's
//! queue. Blobs that nothing references are garbage (reported, and
//! collected by the backend's collector); they never make a store
//! inconsistent.

use std::fmt;

/// How many problems are described one by one; the counts are complete.
pub(crate) const MAX_DETAILS: usize = 20;

/// The result of a consistency check of a whole store.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FsckReport {
    /// Committed object heads checked (current versions, delete markers
    /// included).
    pub objects: u64,
    /// Noncurrent versions checked (versioned buckets).
    pub noncurrent_versions: u64,
    /// Multipart uploads in progress checked (every version of every part).
    pub uploads: u64,
    /// Blobs that a head or a live part references.
    pub referenced_blobs: u64,
    /// Chunks those blobs must have.
    pub referenced_chunks: u64,
    /// Referenced chunks that are not stored.
    pub missing_chunks: u64,
    /// Referenced chunks stored with another size than their record implies.
    pub wrong_size_chunks: u64,
    /// Referenced chunks whose bytes do not match their stored checksum.
    pub bad_checksum_chunks: u64,
    /// Referenced blobs that sit in the collector's queue: a release of a
    /// blob still in use (it would be deleted after its grace period).
    pub queued_but_referenced: u64,
    /// Inline objects (bytes kept with the head) whose bytes were checked.
    pub inline_objects: u64,
    /// Inline objects whose bytes are missing, of the wrong size or do not
    /// match their checksum.
    pub bad_inline_objects: u64,
    /// Blobs with stored data (chunks or a blob file).
    pub stored_blobs: u64,
    /// Chunks stored (on the embedded backend, blob files count their
    /// chunks by size).
    pub stored_chunks: u64,
    /// Released blobs waiting for their grace period to end.
    pub queued_blobs: u64,
    /// Stored blobs that nothing references and that are not queued, made
    /// before the age limit of the check: garbage left by failed or killed
    /// uploads.
    pub unreferenced_blobs: u64,
    /// Chunks of those blobs.
    pub unreferenced_chunks: u64,
    /// Unreferenced blobs younger than the age limit: possibly uploads
    /// still in progress, so not counted as garbage.
    pub recent_unreferenced_blobs: u64,
    /// Blobs announced by uploads that have not committed (Cassandra): in
    /// progress, or left by a killed gateway or a commit that timed out,
    /// for the sweep to decide on after their commit deadline.
    pub pending_blobs: u64,
    /// The first problems found, one line each.
    pub details: Vec<String>,
}

impl FsckReport {
    /// Checks the bytes of an inline object read with its head; `name`
    /// names it for the details.
    pub(crate) fn inline(&mut self, head: &super::ObjectHead, name: impl FnOnce() -> String) {
        let Some(inline) = &head.inline else { return };
        self.inline_objects += 1;
        if let Err(e) = inline.checked(head.size) {
            self.bad_inline_objects += 1;
            self.note(|| format!("{}: {e}", name()));
        }
    }

    /// Whether the store is consistent (garbage does not count).
    pub fn consistent(&self) -> bool {
        self.missing_chunks == 0
            && self.wrong_size_chunks == 0
            && self.bad_checksum_chunks == 0
            && self.queued_but_referenced == 0
            && self.bad_inline_objects == 0
    }

    /// Records one problem; only the first `MAX_DETAILS` are described.
    pub(crate) fn note(&mut self, detail: impl FnOnce() -> String) {
        if self.details.len() < MAX_DETAILS {
            self.details.push(detail());
        }
    }
}

impl fmt::Display for FsckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "objects checked            {}", self.objects)?;
        writeln!(f, "noncurrent versions        {}", self.noncurrent_versions)?;
        writeln!(f, "uploads checked            {}", self.uploads)?;
        writeln!(
            f,
            "inline objects             {} ({} bad)",
            self.inline_objects, self.bad_inline_objects
        )?;
        writeln!(
            f,
            "referenced                 {} blobs, {} chunks",
            self.referenced_blobs, self.referenced_chunks
        )?;
        writeln!(
            f,
            "stored                     {} blobs, {} chunks",
            self.stored_blobs, self.stored_chunks
        )?;
        writeln!(f, "missing chunks             {}", self.missing_chunks)?;
        writeln!(f, "chunks of the wrong size   {}", self.wrong_size_chunks)?;
        writeln!(f, "chunks with bad checksums  {}", self.bad_checksum_chunks)?;
        writeln!(
            f,
            "referenced yet queued      {}",
            self.queued_but_referenced
        )?;
        writeln!(f, "queued for collection      {} blobs", self.queued_blobs)?;
        writeln!(
            f,
            "unreferenced (garbage)     {} blobs, {} chunks",
            self.unreferenced_blobs, self.unreferenced_chunks
        )?;
        writeln!(
            f,
            "unreferenced, recent       {} blobs",
            self.recent_unreferenced_blobs
        )?;
        writeln!(f, "pending (not committed)    {} blobs", self.pending_blobs)?;
        for d in &self.details {
            writeln!(f, "  {d}")?;
        }
        write!(
            f,
            "{}",
            if self.consistent() {
                "consistent"
            } else {
                "INCONSISTENT"
            }
        )
    }
}

/// What `s3gw fsck --repair` removed. It removes only what is proven
/// garbage: released blobs whose grace period is over, and blobs of
/// uploads that can no longer commit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RepairReport {
    /// Blobs of uploads that never committed, handed to the collector
    /// (Cassandra: pending past their commit deadline; they are deleted
    /// after the grace period).
    pub released: u64,
    /// Blobs deleted now: released blobs past their grace period, and on
    /// the embedded store blob files that no record names.
    pub deleted: u64,
    /// Pending blobs past their deadline that could not be decided on
    /// (left alone; see the logs).
    pub undecided: u64,
}

impl fmt::Display for RepairReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "repair: released           {} blobs", self.released)?;
        writeln!(f, "repair: deleted            {} blobs", self.deleted)?;
        write!(f, "repair: left undecided     {} blobs", self.undecided)
    }
}

/// The size of chunk `index` of a blob of `size` bytes cut into
/// `chunk_size` chunks.
pub(crate) fn chunk_len(size: u64, chunk_size: u32, index: u32) -> u64 {
    let start = u64::from(index) * u64::from(chunk_size);
    size.saturating_sub(start).min(u64::from(chunk_size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_chunk_holds_the_remainder() {
        assert_eq!(chunk_len(2500, 1024, 0), 1024);
        assert_eq!(chunk_len(2500, 1024, 2), 452);
        assert_eq!(chunk_len(2048, 1024, 1), 1024);
        assert_eq!(chunk_len(2048, 1024, 2), 0);
    }

    #[test]
    fn garbage_does_not_make_a_store_inconsistent() {
        let mut r = FsckReport {
            unreferenced_blobs: 3,
            ..Default::default()
        };
        assert!(r.consistent());
        r.missing_chunks = 1;
        r.note(|| "a/b: chunk 0 of blob x is missing".into());
        assert!(!r.consistent());
        assert!(r.to_string().ends_with("INCONSISTENT"));
    }
}
