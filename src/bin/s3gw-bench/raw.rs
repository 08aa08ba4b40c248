//! The ceiling: the large and 4 KiB PUT and GET scenarios written and read
//! as chunk rows straight through the backend's own statements (the same `scylla`
//! driver, chunk size and chunks in flight as the gateway), with no HTTP,
//! SigV4 or hashing in between. Every chunk read back is compared with
//! what was written; the blobs are deleted at the end.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use s3gw::storage::cassandra::{CassandraOptions, CassandraStorage};
use s3gw::storage::{chunk_count, BlobId, ChunkAddr, Storage};

use crate::drive::drive;
use crate::scenarios::{timed, Ctx, Outcome};

/// How the raw target stores chunks.
#[derive(Clone)]
pub struct Raw {
    pub store: CassandraStorage,
    pub chunk_size: u32,
    pub in_flight: usize,
}

impl Raw {
    pub async fn open(
        contact: &str,
        keyspace: &str,
        chunk_size: u32,
        in_flight: usize,
    ) -> Result<Raw, String> {
        let opts = CassandraOptions::local(contact, keyspace).with_security_from_env()?;
        let store = CassandraStorage::open(opts)
            .await
            .map_err(|e| format!("cassandra {contact}: {e}"))?;
        Ok(Raw {
            store,
            chunk_size,
            in_flight,
        })
    }

    fn chunks(&self, data: &Bytes) -> Vec<(u32, Bytes)> {
        let cs = self.chunk_size as usize;
        (0..chunk_count(data.len() as u64, self.chunk_size))
            .map(|i| {
                let start = i as usize * cs;
                (i, data.slice(start..(start + cs).min(data.len())))
            })
            .collect()
    }

    async fn put(&self, blob: BlobId, data: Bytes) -> Result<u64, String> {
        let chunk_size = self.chunk_size;
        let store = &self.store;
        stream::iter(self.chunks(&data))
            .map(|(index, bytes)| async move {
                let addr = ChunkAddr {
                    blob,
                    index,
                    chunk_size,
                };
                store.put_chunk(addr, bytes).await
            })
            .buffer_unordered(self.in_flight)
            .try_collect::<Vec<()>>()
            .await
            .map_err(|e| format!("put_chunk: {e}"))?;
        Ok(data.len() as u64)
    }

    /// Reads chunks in order, `in_flight` ahead, as the gateway's reader
    /// does, comparing each with what was written.
    async fn get(&self, blob: BlobId, want: Bytes) -> Result<u64, String> {
        let chunk_size = self.chunk_size;
        let store = &self.store;
        let mut reads = stream::iter(self.chunks(&want))
            .map(|(index, bytes)| async move {
                let addr = ChunkAddr {
                    blob,
                    index,
                    chunk_size,
                };
                store.get_chunk(addr).await.map(|got| (index, got, bytes))
            })
            .buffered(self.in_flight);
        while let Some(r) = reads.next().await {
            let (index, got, wanted) = r.map_err(|e| format!("get_chunk: {e}"))?;
            if got != wanted {
                return Err(format!("chunk {index} of blob {blob} differs"));
            }
        }
        Ok(want.len() as u64)
    }
}

/// Raw PUTs of `objects` (`streams` at once); returns the outcome and the
/// blobs written, for the GET and the cleanup.
pub async fn put_all(
    ctx: &Ctx,
    raw: &Raw,
    name: &'static str,
    objects: Vec<Bytes>,
    streams: usize,
) -> (Outcome, Vec<(BlobId, Bytes)>) {
    let written: Vec<(BlobId, Bytes)> = objects.into_iter().map(|d| (BlobId::new(), d)).collect();
    let total = written.iter().map(|(_, d)| d.len() as u64).sum();
    let jobs = written.clone();
    let workers: Vec<Raw> = (0..streams).map(|_| raw.clone()).collect();
    let out = timed(ctx, name, total, |tally| async move {
        drive(workers, jobs, tally, |r, (blob, data)| async move {
            let result = r.put(blob, data).await;
            (r, result)
        })
        .await;
        None
    })
    .await;
    (out, written)
}

pub async fn get_all(
    ctx: &Ctx,
    raw: &Raw,
    name: &'static str,
    written: Vec<(BlobId, Bytes)>,
    streams: usize,
) -> Outcome {
    let total = written.iter().map(|(_, d)| d.len() as u64).sum();
    let workers: Vec<Raw> = (0..streams).map(|_| raw.clone()).collect();
    timed(ctx, name, total, |tally| async move {
        drive(workers, written, tally, |r, (blob, want)| async move {
            let result = r.get(blob, want).await;
            (r, result)
        })
        .await;
        None
    })
    .await
}

/// Deletes the blobs a raw run wrote.
pub async fn clean(raw: &Raw, written: &[(BlobId, Bytes)]) -> Result<(), String> {
    let raw = Arc::new(raw.clone());
    for (blob, data) in written {
        let chunks = chunk_count(data.len() as u64, raw.chunk_size);
        raw.store
            .discard_blob(*blob, chunks)
            .await
            .map_err(|e| format!("discard: {e}"))?;
    }
    Ok(())
}
