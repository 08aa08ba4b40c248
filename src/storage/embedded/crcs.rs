//! Chunk checksums of the embedded backend.
//!
//! `put_chunk` computes the CRC32C of each chunk and keeps it in memory
//! ([`PendingCrcs`]) until the write transaction that first makes the blob
//! referenced (a head commit or a part record) stores them all in one row
//! of `blob_crcs`. Reads look the row up and refuse a chunk whose bytes do
//! not match. A blob committed without its checksums in memory (written
//! before checksums existed, or evicted from a full map) has no row and is
//! read unchecked. The row goes when the collector (or the start-up sweep)
//! removes the blob file.
//!
//! Row: the chunk size the blob was written with, then the CRC of every
//! chunk from 0, all little-endian `u32`s.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{corrupt, db_err};
use crate::storage::{chunk_count, BlobId, ChunkAddr, StorageError};

/// Blob → its chunk size and the CRC32C of each of its chunks.
pub(super) const BLOB_CRCS: TableDefinition<u128, &[u8]> = TableDefinition::new("blob_crcs");

/// The most checksums held for blobs not yet committed (some 16 MiB of
/// memory; a terabyte of uploads in flight at 1 MiB chunks). Beyond it the
/// oldest blobs lose theirs and are committed unchecked.
const MAX_PENDING_CHUNKS: usize = 1 << 20;

/// The checksums of one blob being written.
#[derive(Debug)]
struct BlobCrcs {
    chunk_size: u32,
    crcs: BTreeMap<u32, u32>,
    /// Chunks arrived with different chunk sizes: no row can describe it.
    mixed: bool,
}

#[derive(Debug, Default)]
struct Pending {
    /// Ordered by blob id, i.e. by creation time (version 7 ids).
    blobs: BTreeMap<BlobId, BlobCrcs>,
    /// Checksums held over all blobs.
    chunks: usize,
}

/// Checksums of chunks written but not yet committed. Entries leave at the
/// commit that references their blob, at a discard, or, beyond
/// `MAX_PENDING_CHUNKS`, oldest first (a request that failed between the
/// seal and the commit leaves its entry behind).
#[derive(Debug)]
pub(super) struct PendingCrcs {
    pending: Mutex<Pending>,
    limit: usize,
}

impl PendingCrcs {
    pub(super) fn new() -> Self {
        Self::with_limit(MAX_PENDING_CHUNKS)
    }

    fn with_limit(limit: usize) -> Self {
        PendingCrcs {
            pending: Mutex::new(Pending::default()),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding the lock leaves a consistent map.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the checksum of a chunk just written.
    pub(super) fn record(&self, addr: ChunkAddr, crc: u32) {
        let mut p = self.lock();
        let entry = p.blobs.entry(addr.blob).or_insert_with(|| BlobCrcs {
            chunk_size: addr.chunk_size,
            crcs: BTreeMap::new(),
            mixed: false,
        });
        entry.mixed |= entry.chunk_size != addr.chunk_size;
        let added = entry.crcs.insert(addr.index, crc).is_none();
        if added {
            p.chunks += 1;
        }
        let mut evicted = 0;
        while p.chunks > self.limit {
            let Some((_, old)) = p.blobs.pop_first() else {
                break;
            };
            p.chunks -= old.crcs.len();
            evicted += 1;
        }
        if evicted > 0 {
            tracing::warn!(
                blobs = evicted,
                "too many uncommitted chunk checksums: the oldest blobs will be stored unchecked"
            );
        }
    }

    /// Takes a blob's checksums out of the map.
    fn take(&self, blob: BlobId) -> Option<BlobCrcs> {
        let mut p = self.lock();
        let taken = p.blobs.remove(&blob);
        if let Some(t) = &taken {
            p.chunks -= t.crcs.len();
        }
        taken
    }

    /// Forgets a blob (discarded).
    pub(super) fn forget(&self, blob: BlobId) {
        self.take(blob);
    }

    /// Takes the checksums of `blob`, of `size` bytes, out of the map and
    /// encodes them as its row; `None` if they are not all there.
    pub(super) fn take_row(&self, blob: BlobId, size: u64) -> Option<Vec<u8>> {
        let entry = self.take(blob)?;
        let chunks = chunk_count(size, entry.chunk_size);
        let complete = !entry.mixed
            && entry.crcs.len() == chunks as usize
            && entry
                .crcs
                .keys()
                .enumerate()
                .all(|(i, &k)| i as u64 == u64::from(k));
        if !complete {
            tracing::debug!(%blob, "chunk checksums incomplete: blob stored unchecked");
            return None;
        }
        Some(encode(entry.chunk_size, entry.crcs.values().copied()))
    }

    /// Blobs and checksums held (for tests).
    #[cfg(test)]
    pub(super) fn held(&self) -> (usize, usize) {
        let p = self.lock();
        (p.blobs.len(), p.chunks)
    }
}

/// The rows of blobs about to be referenced, taken out of memory. Taken
/// before the transaction begins, whatever becomes of it: a failed commit
/// is never retried with the same blob (its caller discards it, or leaves
/// it to the start-up sweep).
pub(super) type Rows = Vec<(BlobId, Vec<u8>)>;

impl PendingCrcs {
    /// Takes the rows of `blobs` (with their sizes) that are complete.
    pub(super) fn take_rows(&self, blobs: impl Iterator<Item = (BlobId, u64)>) -> Rows {
        blobs
            .filter_map(|(blob, size)| Some((blob, self.take_row(blob, size)?)))
            .collect()
    }
}

/// Writes the rows within the transaction that first references their
/// blobs.
pub(super) fn insert(txn: &WriteTransaction, rows: &Rows) -> Result<(), StorageError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut t = txn.open_table(BLOB_CRCS).map_err(db_err)?;
    for (blob, row) in rows {
        t.insert(blob.0.as_u128(), row.as_slice()).map_err(db_err)?;
    }
    Ok(())
}

/// Removes the rows of blobs whose files are gone.
pub(super) fn remove(txn: &WriteTransaction, blobs: &[u128]) -> Result<(), StorageError> {
    let mut t = txn.open_table(BLOB_CRCS).map_err(db_err)?;
    for blob in blobs {
        t.remove(*blob).map_err(db_err)?;
    }
    Ok(())
}

/// The stored checksum of the chunk at `addr`, if its blob has a row that
/// covers it with the same chunk size.
pub(super) fn lookup(
    table: &impl ReadableTable<u128, &'static [u8]>,
    addr: ChunkAddr,
) -> Result<Option<u32>, StorageError> {
    let Some(row) = table.get(addr.blob.0.as_u128()).map_err(db_err)? else {
        return Ok(None);
    };
    let row = Row::decode(row.value())?;
    if row.chunk_size != addr.chunk_size {
        return Ok(None);
    }
    Ok(row.crc(addr.index))
}

fn encode(chunk_size: u32, crcs: impl Iterator<Item = u32>) -> Vec<u8> {
    let mut out = chunk_size.to_le_bytes().to_vec();
    for crc in crcs {
        out.extend_from_slice(&crc.to_le_bytes());
    }
    out
}

/// A decoded row of `blob_crcs`.
pub(super) struct Row<'a> {
    pub(super) chunk_size: u32,
    crcs: &'a [u8],
}

impl<'a> Row<'a> {
    pub(super) fn decode(bytes: &'a [u8]) -> Result<Self, StorageError> {
        if bytes.len() < 4 || !bytes.len().is_multiple_of(4) {
            return Err(corrupt(format!("checksum row of {} bytes", bytes.len())));
        }
        let (size, crcs) = bytes.split_at(4);
        Ok(Row {
            chunk_size: u32::from_le_bytes([size[0], size[1], size[2], size[3]]),
            crcs,
        })
    }

    /// How many chunks the row covers.
    pub(super) fn chunks(&self) -> u32 {
        u32::try_from(self.crcs.len() / 4).unwrap_or(u32::MAX)
    }

    pub(super) fn crc(&self, index: u32) -> Option<u32> {
        let at = usize::try_from(index).ok()?.checked_mul(4)?;
        let b = self.crcs.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(blob: BlobId, index: u32) -> ChunkAddr {
        ChunkAddr {
            blob,
            index,
            chunk_size: 1024,
        }
    }

    #[test]
    fn a_complete_blob_becomes_a_row_read_back_by_index() {
        let p = PendingCrcs::new();
        let b = BlobId::new();
        // Out of order, as concurrent chunk writes finish.
        for i in [2, 0, 1] {
            p.record(addr(b, i), 100 + i);
        }
        let row = p.take_row(b, 2500).expect("complete");
        assert_eq!(p.held(), (0, 0));
        let r = Row::decode(&row).expect("decode");
        assert_eq!((r.chunk_size, r.chunks()), (1024, 3));
        assert_eq!(
            (r.crc(0), r.crc(1), r.crc(2), r.crc(3)),
            (Some(100), Some(101), Some(102), None)
        );
        assert!(p.take_row(b, 2500).is_none(), "taken once");
    }

    #[test]
    fn an_incomplete_blob_gets_no_row() {
        let p = PendingCrcs::new();
        let b = BlobId::new();
        p.record(addr(b, 0), 1);
        p.record(addr(b, 2), 3);
        assert!(p.take_row(b, 2500).is_none(), "chunk 1 missing");
        assert_eq!(p.held(), (0, 0), "taken anyway");

        p.record(addr(b, 0), 1);
        assert!(p.take_row(b, 2500).is_none(), "fewer chunks than the size");

        p.record(addr(b, 0), 1);
        p.record(
            ChunkAddr {
                chunk_size: 2048,
                ..addr(b, 1)
            },
            2,
        );
        assert!(p.take_row(b, 2048).is_none(), "mixed chunk sizes");
    }

    #[test]
    fn forgetting_drops_the_entry() {
        let p = PendingCrcs::new();
        let b = BlobId::new();
        p.record(addr(b, 0), 1);
        p.record(addr(b, 0), 2);
        assert_eq!(p.held(), (1, 1), "a rewritten chunk counts once");
        p.forget(b);
        assert_eq!(p.held(), (0, 0));
    }

    #[test]
    fn the_map_drops_the_oldest_blobs_beyond_its_limit() {
        let p = PendingCrcs::with_limit(4);
        let old = BlobId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let new = BlobId::new();
        for i in 0..3 {
            p.record(addr(old, i), i);
        }
        for i in 0..2 {
            p.record(addr(new, i), i);
        }
        assert_eq!(p.held(), (1, 2), "the oldest blob went");
        assert!(p.take_row(old, 3 * 1024).is_none());
        assert!(p.take_row(new, 2 * 1024).is_some());
    }

    #[test]
    fn a_malformed_row_is_corrupt() {
        assert!(Row::decode(&[1, 2, 3]).is_err());
        assert!(Row::decode(&[0; 6]).is_err());
        let empty = encode(7, std::iter::empty());
        let r = Row::decode(&empty).expect("empty row");
        assert_eq!((r.chunk_size, r.chunks(), r.crc(0)), (7, 0, None));
    }
}
