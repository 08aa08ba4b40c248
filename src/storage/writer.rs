//! Streams a request body into a fresh blob: fixed-size chunks, several in
//! flight, hashed off the async threads. Nothing becomes visible here; the
//! caller commits by writing a head that references the blob.
//!
//! An object's body that ends within `WriteLimits::inline_max` bytes never
//! becomes a blob: it comes back as bytes for the head to carry (an
//! inline object, docs/storage-model.md), and nothing is written here.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use super::{BlobId, BlobOwner, ChunkAddr, Storage, StorageError};

/// Something that digests the body as it is stored (MD5, checksums).
pub(crate) trait BodyHasher: Send + 'static {
    fn update(&mut self, data: &[u8]);

    /// Feeds a chunk the hasher may share with other threads.
    fn update_bytes(&mut self, data: &Bytes) {
        self.update(data)
    }
}

/// Chunks up to this size are hashed inline rather than on the blocking pool.
const INLINE_HASH_LIMIT: usize = 64 * 1024;
/// Chunks waiting for the hashing thread of one upload.
const HASH_QUEUE: usize = 2;

/// The body's hasher: inline while chunks are small, then on a thread of
/// the blocking pool fed in order through a short queue, so that hashing
/// one chunk overlaps receiving and storing the next ones.
enum Hashing<H> {
    Inline(H),
    Piped {
        /// Each chunk travels with its buffer slot, so the slot is free
        /// only once the chunk is both stored and hashed.
        tx: tokio::sync::mpsc::Sender<(Bytes, Arc<OwnedSemaphorePermit>)>,
        task: JoinHandle<H>,
    },
    /// Only while switching from one to the other.
    Moving,
}

impl<H: BodyHasher> Hashing<H> {
    async fn feed(
        &mut self,
        chunk: &Bytes,
        permit: &Arc<OwnedSemaphorePermit>,
    ) -> Result<(), StorageError> {
        if chunk.len() > INLINE_HASH_LIMIT && matches!(self, Hashing::Inline(_)) {
            if let Hashing::Inline(mut h) = std::mem::replace(self, Hashing::Moving) {
                let (tx, mut rx) = tokio::sync::mpsc::channel(HASH_QUEUE);
                let task = tokio::task::spawn_blocking(move || {
                    while let Some((c, _slot)) = rx.blocking_recv() {
                        let c: Bytes = c;
                        h.update_bytes(&c);
                    }
                    h
                });
                *self = Hashing::Piped { tx, task };
            }
        }
        match self {
            Hashing::Inline(h) => {
                h.update(chunk);
                Ok(())
            }
            Hashing::Piped { tx, .. } => tx
                .send((chunk.clone(), permit.clone()))
                .await
                .map_err(|_| hash_failed()),
            Hashing::Moving => Err(hash_failed()),
        }
    }

    /// The hasher, once it has seen every chunk fed.
    async fn finish(self) -> Result<H, StorageError> {
        match self {
            Hashing::Inline(h) => Ok(h),
            Hashing::Piped { tx, task } => {
                drop(tx);
                task.await.map_err(|_| hash_failed())
            }
            Hashing::Moving => Err(hash_failed()),
        }
    }
}

fn hash_failed() -> StorageError {
    StorageError::internal("the hashing task failed")
}

#[derive(Debug, Clone)]
pub(crate) struct WriteLimits {
    pub chunk_size: u32,
    /// Chunks being stored at once for this request.
    pub in_flight: usize,
    /// Largest accepted body.
    pub max_size: u64,
    /// An object's body of at most this many bytes comes back inline
    /// instead of as a blob; 0: never. Parts are always blobs.
    pub inline_max: usize,
    /// Gateway-wide chunk buffers: one permit per chunk handed off to be
    /// stored and hashed, from the hand-off until both are done. A chunk
    /// still filling holds none: filling waits on the client, and a client
    /// that stalls must not hold what flowing uploads need (its buffer is
    /// bounded by the connection cap instead). When they run out, uploads
    /// wait to hand off their next chunk, which waits only on storage
    /// (backpressure to TCP).
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
pub(crate) enum WriteError<E> {
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
pub(crate) struct WrittenBlob {
    pub blob: BlobId,
    pub size: u64,
}

/// Where a written body is.
#[derive(Debug)]
pub(crate) enum Written {
    Blob(WrittenBlob),
    /// A small object's whole body, to be carried by its head.
    Inline(Bytes),
}

impl Written {
    pub(crate) fn size(&self) -> u64 {
        match self {
            Written::Blob(b) => b.size,
            Written::Inline(b) => b.len() as u64,
        }
    }
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
                .map_err(|e| StorageError::internal(format!("chunk task failed: {e}")))
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

/// Writes `body` as a new blob, or returns it whole when it is an
/// object's body of at most `limits.inline_max` bytes. On success the blob
/// is sealed and the hasher has seen every byte; on failure the blob is
/// discarded.
pub(crate) async fn write_blob<S, E, H>(
    storage: &Arc<dyn Storage>,
    mut body: S,
    hasher: H,
    limits: &WriteLimits,
    owner: &BlobOwner,
) -> Result<(Written, H), WriteError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    H: BodyHasher,
{
    let inline_max = match owner {
        BlobOwner::Object { .. } => limits.inline_max,
        BlobOwner::Part { .. } => 0,
    };
    // Until the body passes `inline_max`, nothing is stored: it is held
    // whole (at most `inline_max` bytes), and no blob is begun.
    let mut buf = BytesMut::new();
    let mut size: u64 = 0;
    if inline_max > 0 {
        loop {
            match body.next().await {
                Some(Ok(data)) => {
                    size += data.len() as u64;
                    if size > limits.max_size {
                        return Err(WriteError::TooLarge);
                    }
                    buf.extend_from_slice(&data);
                    if buf.len() > inline_max {
                        break;
                    }
                }
                Some(Err(e)) => return Err(WriteError::Body(e)),
                None => {
                    let data = buf.freeze();
                    let mut hasher = hasher;
                    hasher.update_bytes(&data);
                    return Ok((Written::Inline(data), hasher));
                }
            }
        }
    }
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
    let mut hashing = Hashing::Inline(hasher);
    // The chunk being filled: this upload's own, no slot.
    let mut index: u32 = 0;
    loop {
        while buf.len() >= chunk_size {
            let chunk = buf.split_to(chunk_size).freeze();
            store_chunk(&mut guard, &mut hashing, chunk, index, limits).await?;
            index += 1;
        }
        let data = match body.next().await {
            Some(Ok(data)) => data,
            Some(Err(e)) => return Err(WriteError::Body(e)),
            None => break,
        };
        size += data.len() as u64;
        if size > limits.max_size {
            return Err(WriteError::TooLarge);
        }
        buf.extend_from_slice(&data);
    }
    if !buf.is_empty() {
        store_chunk(&mut guard, &mut hashing, buf.freeze(), index, limits).await?;
    }
    let hasher = hashing.finish().await?;
    guard.drain().await?;
    storage.seal_blob(blob).await?;
    guard.armed = false;
    Ok((Written::Blob(WrittenBlob { blob, size }), hasher))
}

async fn store_chunk<H: BodyHasher, E>(
    guard: &mut DiscardGuard,
    hashing: &mut Hashing<H>,
    chunk: Bytes,
    index: u32,
    limits: &WriteLimits,
) -> Result<(), WriteError<E>> {
    let permit = Arc::new(slot(&limits.slots).await?);
    hashing.feed(&chunk, &permit).await?;
    if guard.pending.len() >= limits.in_flight.max(1) {
        let oldest = guard.pending.remove(0);
        oldest
            .await
            .map_err(|e| StorageError::internal(format!("chunk task failed: {e}")))??;
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use md5::{Digest, Md5};

    use super::*;
    use crate::storage::embedded::EmbeddedStorage;
    use crate::storage::BucketId;

    struct Md5Hasher(Md5);

    impl BodyHasher for Md5Hasher {
        fn update(&mut self, data: &[u8]) {
            self.0.update(data);
        }
    }

    fn owner() -> BlobOwner {
        BlobOwner::Object {
            bucket: BucketId(uuid::Uuid::nil()),
            key: "k".into(),
        }
    }

    /// An upload that stalls, before its first chunk is full or after
    /// handing one off, holds no slot: another upload with the single
    /// slot still completes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_upload_holds_no_slot() {
        const CHUNK: u32 = 64 * 1024;
        let dir = tempfile::tempdir().expect("tmp");
        let store = EmbeddedStorage::open(dir.path(), std::time::Duration::ZERO).expect("open");
        let storage: Arc<dyn Storage> = Arc::new(store);
        let limits = WriteLimits {
            chunk_size: CHUNK,
            in_flight: 4,
            max_size: u64::MAX,
            inline_max: 0,
            slots: Arc::new(Semaphore::new(1)),
        };
        let mut stalled = Vec::new();
        for sent in [1, CHUNK as usize + 1] {
            let first = Ok::<_, Infallible>(Bytes::from(vec![7u8; sent]));
            let body = futures_util::stream::iter([first]).chain(futures_util::stream::pending());
            let (storage, limits) = (storage.clone(), limits.clone());
            stalled.push(tokio::spawn(async move {
                let hasher = Md5Hasher(Md5::new());
                let _ = write_blob(&storage, Box::pin(body), hasher, &limits, &owner()).await;
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let body: Vec<u8> = (0..CHUNK as usize * 3 + 5).map(|i| i as u8).collect();
        let stream = futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from(body.clone()))]);
        let owner = owner();
        let write = write_blob(&storage, stream, Md5Hasher(Md5::new()), &limits, &owner);
        let (written, hasher) = tokio::time::timeout(std::time::Duration::from_secs(10), write)
            .await
            .expect("not starved by the stalled uploads")
            .map_err(|_| "write failed")
            .expect("write");
        assert_eq!(written.size(), body.len() as u64);
        assert_eq!(hasher.0.finalize(), Md5::digest(&body));
        assert_eq!(limits.slots.available_permits(), 1);
        for s in stalled {
            s.abort();
        }
    }

    /// Large chunks go through the hashing thread, in order, while they
    /// are stored: the digest and the stored bytes match the body.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_chunks_are_hashed_in_order_beside_the_writes() {
        const CHUNK: u32 = 256 * 1024;
        let dir = tempfile::tempdir().expect("tmp");
        let store = EmbeddedStorage::open(dir.path(), std::time::Duration::ZERO).expect("open");
        let storage: Arc<dyn Storage> = Arc::new(store);
        let body: Vec<u8> = (0..(CHUNK as usize * 7 + 1234))
            .map(|i| (i * 31 + i / 977) as u8)
            .collect();
        // Pieces of odd sizes, as a socket delivers them.
        let pieces: Vec<Result<Bytes, Infallible>> = body
            .chunks(100_003)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let limits = WriteLimits {
            chunk_size: CHUNK,
            in_flight: 4,
            max_size: u64::MAX,
            inline_max: 0,
            slots: Arc::new(Semaphore::new(16)),
        };
        let stream = futures_util::stream::iter(pieces);
        let (written, hasher) =
            write_blob(&storage, stream, Md5Hasher(Md5::new()), &limits, &owner())
                .await
                .map_err(|_| "write failed")
                .expect("write");
        let Written::Blob(written) = written else {
            panic!("a body over the inline limit is a blob")
        };
        assert_eq!(written.size, body.len() as u64);
        assert_eq!(hasher.0.finalize(), Md5::digest(&body));
        for (i, want) in body.chunks(CHUNK as usize).enumerate() {
            let addr = ChunkAddr {
                blob: written.blob,
                index: i as u32,
                chunk_size: CHUNK,
            };
            let got = storage.get_chunk(addr).await.expect("chunk");
            assert_eq!(&got[..], want, "chunk {i}");
        }
    }

    /// An object's body within the inline limit comes back whole, without
    /// a blob; one byte more, or any part, becomes a blob.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn small_object_bodies_come_back_inline() {
        const LIMIT: usize = 1000;
        let dir = tempfile::tempdir().expect("tmp");
        let store = EmbeddedStorage::open(dir.path(), std::time::Duration::ZERO).expect("open");
        let storage: Arc<dyn Storage> = Arc::new(store);
        let limits = WriteLimits {
            chunk_size: 64 * 1024,
            in_flight: 4,
            max_size: u64::MAX,
            inline_max: LIMIT,
            slots: Arc::new(Semaphore::new(4)),
        };
        let part = BlobOwner::Part {
            bucket: BucketId(uuid::Uuid::nil()),
            key: "k".into(),
            upload_id: "u".into(),
            part_number: 1,
        };
        for (len, who, inline) in [
            (0, owner(), true),
            (LIMIT, owner(), true),
            (LIMIT + 1, owner(), false),
            (10, part.clone(), false),
        ] {
            let body: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            // In pieces, as a socket delivers them.
            let pieces: Vec<Result<Bytes, Infallible>> = body
                .chunks(300)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let stream = futures_util::stream::iter(pieces);
            let (written, hasher) =
                write_blob(&storage, stream, Md5Hasher(Md5::new()), &limits, &who)
                    .await
                    .map_err(|_| "write failed")
                    .expect("write");
            assert_eq!(hasher.0.finalize(), Md5::digest(&body), "{len}");
            match written {
                Written::Inline(data) => {
                    assert!(inline, "{len} bytes came back inline");
                    assert_eq!(&data[..], &body[..]);
                }
                Written::Blob(b) => {
                    assert!(!inline, "{len} bytes became a blob");
                    assert_eq!(b.size, len as u64);
                }
            }
        }
    }
}
