//! Streams a byte range of an object out of its chunks, with a few chunks
//! fetched ahead through a bounded channel (prefetch and backpressure).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{stream, FutureExt, StreamExt};
use tokio::sync::mpsc;

use super::{ChunkAddr, ObjectHead, PartRef, Storage, StorageError};
use crate::metric_names as names;

/// One piece of the plan: a slice of one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkSlice {
    pub addr: ChunkAddr,
    /// Length the whole chunk must have.
    pub chunk_len: u32,
    pub start: u32,
    pub end: u32,
}

/// The chunks and slices covering bytes `start..end` of an object made of
/// `parts`, each split into chunks of `chunk_size`.
pub(crate) fn plan(
    parts: &[PartRef],
    default_chunk_size: u32,
    start: u64,
    end: u64,
) -> Vec<ChunkSlice> {
    let mut out = Vec::new();
    if start >= end {
        return out;
    }
    let mut part_start = 0u64;
    for part in parts {
        let part_end = part_start + part.size;
        if part_end <= start {
            part_start = part_end;
            continue;
        }
        if part_start >= end {
            break;
        }
        let chunk_size = part.chunk_size.unwrap_or(default_chunk_size).max(1);
        let cs = u64::from(chunk_size);
        let from = start.max(part_start) - part_start;
        let to = end.min(part_end) - part_start;
        let mut index = from / cs;
        while index * cs < to {
            let c_start = index * cs;
            let c_end = (c_start + cs).min(part.size);
            out.push(ChunkSlice {
                addr: ChunkAddr {
                    blob: part.blob,
                    index: index as u32,
                    chunk_size,
                },
                chunk_len: (c_end - c_start) as u32,
                start: (from.max(c_start) - c_start) as u32,
                end: (to.min(c_end) - c_start) as u32,
            });
            index += 1;
        }
        part_start = part_end;
    }
    out
}

/// Bytes `start..end` of the object as a channel of chunks (one piece for
/// an inline object, read with its head). Errors arrive in-band; the
/// response is then cut short, which clients detect.
pub(crate) fn read_range(
    storage: Arc<dyn Storage>,
    head: &ObjectHead,
    start: u64,
    end: u64,
    prefetch: usize,
) -> mpsc::Receiver<Result<Bytes, StorageError>> {
    if let Some(inline) = &head.inline {
        let (tx, rx) = mpsc::channel(1);
        let end = end.min(head.size);
        let item = inline
            .checked(head.size)
            .map(|data| data.slice(start.min(end) as usize..end as usize));
        // The channel is new and holds one item: this cannot be full.
        let _ = tx.try_send(item);
        return rx;
    }
    let slices = plan(&head.parts, head.chunk_size, start, end);
    // `prefetch` fetches run ahead; the channel adds one more chunk. So a
    // GET holds at most `prefetch + 1` chunks, however slow its client.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut fetches = stream::iter(slices)
            .map(|s| {
                let storage = storage.clone();
                async move {
                    let data = storage.get_chunk(s.addr).await?;
                    if data.len() != s.chunk_len as usize {
                        return Err(StorageError::Corrupt(format!(
                            "chunk {} of blob {} has {} bytes, expected {}",
                            s.addr.index,
                            s.addr.blob,
                            data.len(),
                            s.chunk_len
                        )));
                    }
                    Ok(data.slice(s.start as usize..s.end as usize))
                }
            })
            .buffered(prefetch.max(1));
        loop {
            // Whether the fetch ahead had the next chunk ready: the
            // prefetch figures of the metrics.
            let item = match fetches.next().now_or_never() {
                Some(item) => {
                    if item.is_some() {
                        metrics::counter!(names::PREFETCH_READY).increment(1);
                    }
                    item
                }
                None => {
                    metrics::counter!(names::PREFETCH_WAITED).increment(1);
                    fetches.next().await
                }
            };
            let Some(item) = item else { break };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::BlobId;

    fn part(size: u64) -> PartRef {
        PartRef {
            blob: BlobId::new(),
            size,
            etag: String::new(),
            checksum: None,
            chunk_size: None,
        }
    }

    fn covered(plan: &[ChunkSlice]) -> u64 {
        plan.iter().map(|s| u64::from(s.end - s.start)).sum()
    }

    #[test]
    fn whole_single_part() {
        let parts = [part(10)];
        let p = plan(&parts, 4, 0, 10);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.iter().map(|s| s.chunk_len).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        assert_eq!(covered(&p), 10);
    }

    #[test]
    fn range_inside_one_chunk() {
        let parts = [part(10)];
        let p = plan(&parts, 4, 5, 7);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].addr.index, p[0].start, p[0].end), (1, 1, 3));
    }

    #[test]
    fn range_across_parts() {
        let parts = [part(6), part(5)];
        let p = plan(&parts, 4, 3, 9);
        // part0: chunk0 [3,4), chunk1 [0,2); part1: chunk0 [0,3)
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].addr.blob, parts[0].blob);
        assert_eq!((p[0].start, p[0].end, p[0].chunk_len), (3, 4, 4));
        assert_eq!((p[1].start, p[1].end, p[1].chunk_len), (0, 2, 2));
        assert_eq!(p[2].addr.blob, parts[1].blob);
        assert_eq!((p[2].start, p[2].end, p[2].chunk_len), (0, 3, 4));
        assert_eq!(covered(&p), 6);
    }

    #[test]
    fn parts_with_their_own_chunk_size() {
        let mut small = part(5);
        small.chunk_size = Some(2);
        let parts = [small, part(6)];
        let p = plan(&parts, 4, 0, 11);
        let lens: Vec<u32> = p.iter().map(|s| s.chunk_len).collect();
        assert_eq!(lens, vec![2, 2, 1, 4, 2]);
        assert_eq!(p[3].addr.chunk_size, 4);
        assert_eq!(p[0].addr.chunk_size, 2);
        assert_eq!(covered(&p), 11);
    }

    #[test]
    fn empty_parts_and_ranges() {
        let parts = [part(0), part(3)];
        assert_eq!(covered(&plan(&parts, 4, 0, 3)), 3);
        assert!(plan(&parts, 4, 2, 2).is_empty());
        assert!(plan(&[], 4, 0, 0).is_empty());
    }
}
