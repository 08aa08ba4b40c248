//! Streams a request body into a fresh blob: fixed-size chunks, several in
//! flight, hashed off the async threads. Nothing becomes visible here; the
//! caller commits by writing a head that references the blob.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use super::{BlobId, BlobOwner, ChunkAddr, Storage, StorageError};

/// Something that digests the body as it is stored (MD5, checksums).
pub trait BodyHasher: Send + 'static {
    fn update(&mut self, data: &[u8]);
}

/// Chunks below this size are hashed inline rather than on the blocking pool.
const INLINE_HASH_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct WriteLimits {
    pub chunk_size: u32,
    /// Chunks being stored at once for this request.
    pub in_flight: usize,
    /// Largest accepted body.
    pub max_size: u64,
    /// Gateway-wide chunk buffers: one permit per chunk being filled or
    /// stored. When they run out, uploads wait (backpressure to TCP).
    pub slots: Arc<Semaphore>,
}

async fn slot(slots: &Arc<Semaphore>) -> Result<OwnedSemaphorePermit, StorageError> {
    slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| StorageError::Unavailable("upload buffers closed".into()))
}

#[derive(Debug)]
pub enum WriteError<E> {
    /// The body stream failed (client error, bad signature, disconnect).
    Body(E),
    Storage(StorageError),
    TooLarge,
}

impl<E> From<StorageError> for WriteError<E> {
    fn from(e: StorageError) -> Self {
        WriteError::Storage(e)
    }
}

/// A blob whose data is durable but which no head references yet.
#[derive(Debug)]
pub struct WrittenBlob {
    pub blob: BlobId,
    pub size: u64,
}

/// Discards the blob unless the write completed; waits for chunk writes
/// still running so that none of them re-creates data after the discard.
struct DiscardGuard {
    storage: Arc<dyn Storage>,
    blob: BlobId,
    pending: Vec<JoinHandle<Result<(), StorageError>>>,
    /// Chunks started so far: indexes `0..started` may hold data.
    started: u32,
    armed: bool,
}

impl DiscardGuard {
    async fn drain(&mut self) -> Result<(), StorageError> {
        let mut first_err = None;
        for h in self.pending.drain(..) {
            let r = h
                .await
                .map_err(|e| StorageError::Database(format!("chunk task failed: {e}")))
                .and_then(|r| r);
            if let (Err(e), None) = (r, &first_err) {
                first_err = Some(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for DiscardGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let storage = self.storage.clone();
        let blob = self.blob;
        let chunks = self.started;
        let pending = std::mem::take(&mut self.pending);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for h in pending {
                    let _ = h.await;
                }
                if let Err(e) = storage.discard_blob(blob, chunks).await {
                    tracing::warn!(%blob, error = %e, "could not discard an abandoned blob");
                }
            });
        }
    }
}

/// Writes `body` as a new blob. On success the blob is sealed and the hasher
/// has seen every byte; on failure the blob is discarded.
pub async fn write_blob<S, E, H>(
    storage: &Arc<dyn Storage>,
    mut body: S,
    mut hasher: H,
    limits: &WriteLimits,
    owner: &BlobOwner,
) -> Result<(WrittenBlob, H), WriteError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    H: BodyHasher,
{
    let chunk_size = limits.chunk_size.max(1) as usize;
    let blob = BlobId::new();
    storage.begin_blob(blob, owner).await?;
    let mut guard = DiscardGuard {
        storage: storage.clone(),
        blob,
        pending: Vec::new(),
        started: 0,
        armed: true,
    };
    let mut buf = BytesMut::new();
    let mut permit = None;
    let mut index: u32 = 0;
    let mut size: u64 = 0;
    loop {
        let next = body.next().await;
        let data = match next {
            Some(Ok(data)) => data,
            Some(Err(e)) => return Err(WriteError::Body(e)),
            None => break,
        };
        size += data.len() as u64;
        if size > limits.max_size {
            return Err(WriteError::TooLarge);
        }
        if permit.is_none() && !data.is_empty() {
            permit = Some(slot(&limits.slots).await?);
        }
        buf.extend_from_slice(&data);
        while buf.len() >= chunk_size {
            let chunk = buf.split_to(chunk_size).freeze();
            let held = match permit.take() {
                Some(p) => p,
                None => slot(&limits.slots).await?,
            };
            hasher = store_chunk(&mut guard, hasher, chunk, index, limits, held).await?;
            index += 1;
            if !buf.is_empty() {
                permit = Some(slot(&limits.slots).await?);
            }
        }
    }
    if !buf.is_empty() {
        let held = match permit.take() {
            Some(p) => p,
            None => slot(&limits.slots).await?,
        };
        hasher = store_chunk(&mut guard, hasher, buf.freeze(), index, limits, held).await?;
    }
    guard.drain().await?;
    storage.seal_blob(blob).await?;
    guard.armed = false;
    Ok((WrittenBlob { blob, size }, hasher))
}

async fn store_chunk<H: BodyHasher, E>(
    guard: &mut DiscardGuard,
    mut hasher: H,
    chunk: Bytes,
    index: u32,
    limits: &WriteLimits,
    permit: OwnedSemaphorePermit,
) -> Result<H, WriteError<E>> {
    let chunk = if chunk.len() <= INLINE_HASH_LIMIT {
        hasher.update(&chunk);
        chunk
    } else {
        let (h, c) = tokio::task::spawn_blocking(move || {
            hasher.update(&chunk);
            (hasher, chunk)
        })
        .await
        .map_err(|e| StorageError::Database(format!("hash task failed: {e}")))?;
        hasher = h;
        c
    };
    if guard.pending.len() >= limits.in_flight.max(1) {
        let oldest = guard.pending.remove(0);
        oldest
            .await
            .map_err(|e| StorageError::Database(format!("chunk task failed: {e}")))??;
    }
    let storage = guard.storage.clone();
    guard.started = guard.started.max(index + 1);
    let addr = ChunkAddr {
        blob: guard.blob,
        index,
        chunk_size: limits.chunk_size,
    };
    guard.pending.push(tokio::spawn(async move {
        let result = storage.put_chunk(addr, chunk).await;
        drop(permit);
        result
    }));
    Ok(hasher)
}
