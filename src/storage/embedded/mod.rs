//! The embedded backend: records in a redb database, blob data in files.
//!
//! Durability: chunk data is written with `pwrite` and made durable by
//! `seal_blob` (fsync of the blob file and its directory) before the head
//! is committed; every redb commit is `Durability::Immediate` (fsync). So an
//! acknowledged PUT survives kill -9 and power loss, and a killed PUT leaves
//! only an unreferenced blob file, removed by the sweep at the next start.
//!
//! Integrity: every chunk's CRC32C is stored (in `blob_crcs`, see `crcs`)
//! by the commit that first references its blob, and checked on every
//! read: a chunk that does not match is an error, never served.

mod blobs;
mod crcs;
mod fsck;
mod keys;
mod multipart;
mod versions;

use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use redb::{Database, ReadableTable, TableDefinition};

use super::{
    chunk_crc, corrupt, corrupt_chunk, now_ms, BlobId, BlobOwner, BucketId, BucketRecord,
    ChunkAddr, FsckReport, GcSnapshot, GcStats, Grant, ListEntry, NodeStatus, ObjectHead,
    PartRecord, RepairReport, Storage, StorageError, UploadRecord, VersionEntry, VersionsFrom,
    WriteCondition,
};
use super::{Maintenance, StatusStore};
use crate::types::{
    CorsConfig, LifecycleConfig, ObjectKey, StatusKind, TagSet, UploadId, VersionRef,
    VersioningState,
};
use blobs::BlobFiles;
use crcs::{PendingCrcs, BLOB_CRCS};
use versions::OwnedFrom;

const BUCKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("buckets");
const BUCKET_IDS: TableDefinition<u128, ()> = TableDefinition::new("bucket_ids");
/// Key: 16 bytes of bucket id, then the object key's UTF-8 bytes.
const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
/// The bytes of inline objects, keyed as in `OBJECTS` and written in the
/// same transactions as their heads; apart from them so that listings
/// never read them.
const INLINE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("inline_data");
/// Blobs referenced by a committed record.
const LIVE_BLOBS: TableDefinition<u128, ()> = TableDefinition::new("live_blobs");
/// Blobs released by a commit, with the time (ms) after which they go.
const GC_QUEUE: TableDefinition<u128, i64> = TableDefinition::new("gc_queue");

struct Inner {
    db: Database,
    files: BlobFiles,
    /// How long a released blob waits before the collector deletes it.
    gc_grace: Duration,
    /// Checksums of chunks written but not yet committed.
    pending_crcs: PendingCrcs,
    gc_stats: GcStats,
    /// Heartbeats and usage: one gateway serves this store, so memory does.
    statuses: crate::storage::statuses::MemoryStatuses,
    /// Bumped by every key change (`keys.rs`): one process holds the
    /// store, so memory is enough to tell its key cache.
    keys_epoch: std::sync::atomic::AtomicU64,
}

/// Handle to the embedded store; cheap to clone.
#[derive(Clone)]
pub struct EmbeddedStorage {
    inner: Arc<Inner>,
}

fn db_err(e: impl std::error::Error + Send + Sync + 'static) -> StorageError {
    StorageError::internal(e)
}

fn object_key(bucket: BucketId, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(16 + key.len());
    k.extend_from_slice(bucket.0.as_bytes());
    k.extend_from_slice(key.as_bytes());
    k
}

impl EmbeddedStorage {
    /// Opens (or creates) the store under `dir`, sweeps blob files that no
    /// record references (left by a crash), and starts the collector.
    pub fn open(dir: &Path, gc_grace: Duration) -> Result<Self, StorageError> {
        let store = Self::open_records(dir, gc_grace)?;
        store.sweep_orphans()?;
        Ok(store)
    }

    /// Opens (or creates) the store under `dir` for `s3gw fsck`, without
    /// the sweep, so that the blob files no record references stay to be
    /// counted. Meant for reading: a blob it released would have no grace.
    pub fn open_unswept(dir: &Path) -> Result<Self, StorageError> {
        Self::open_records(dir, Duration::ZERO)
    }

    fn open_records(dir: &Path, gc_grace: Duration) -> Result<Self, StorageError> {
        crate::private_fs::create_dir_all(dir)?;
        // Created owner-only before redb opens it (redb creates files with
        // the process's umask).
        let records = dir.join("records.redb");
        crate::private_fs::open_for_write(&records)?;
        let db = Database::create(records).map_err(db_err)?;
        let files = BlobFiles::open(dir.join("blobs"))?;
        let txn = db.begin_write().map_err(db_err)?;
        {
            txn.open_table(BUCKETS).map_err(db_err)?;
            txn.open_table(BUCKET_IDS).map_err(db_err)?;
            txn.open_table(OBJECTS).map_err(db_err)?;
            txn.open_table(INLINE).map_err(db_err)?;
            txn.open_table(LIVE_BLOBS).map_err(db_err)?;
            txn.open_table(GC_QUEUE).map_err(db_err)?;
            txn.open_table(BLOB_CRCS).map_err(db_err)?;
            txn.open_table(multipart::UPLOADS).map_err(db_err)?;
            txn.open_table(multipart::PARTS).map_err(db_err)?;
            txn.open_table(keys::ACCESS_KEYS).map_err(db_err)?;
            txn.open_table(versions::VERSIONS).map_err(db_err)?;
            txn.open_table(versions::VERSION_INLINE).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        Ok(EmbeddedStorage {
            inner: Arc::new(Inner {
                db,
                files,
                gc_grace,
                pending_crcs: PendingCrcs::new(),
                gc_stats: GcStats::default(),
                statuses: Default::default(),
                keys_epoch: Default::default(),
            }),
        })
    }

    /// Removes blob files that neither a record nor the GC queue knows,
    /// and the checksum rows of such blobs. Only safe while no write is in
    /// flight, i.e. at start-up.
    fn sweep_orphans(&self) -> Result<usize, StorageError> {
        let (known, stale_rows) = {
            let txn = self.inner.db.begin_read().map_err(db_err)?;
            let mut known = HashSet::new();
            for table in [LIVE_BLOBS] {
                let t = txn.open_table(table).map_err(db_err)?;
                for row in t.iter().map_err(db_err)? {
                    known.insert(row.map_err(db_err)?.0.value());
                }
            }
            let gc = txn.open_table(GC_QUEUE).map_err(db_err)?;
            for row in gc.iter().map_err(db_err)? {
                known.insert(row.map_err(db_err)?.0.value());
            }
            let mut stale_rows = Vec::new();
            let crcs = txn.open_table(BLOB_CRCS).map_err(db_err)?;
            for row in crcs.iter().map_err(db_err)? {
                let blob = row.map_err(db_err)?.0.value();
                if !known.contains(&blob) {
                    stale_rows.push(blob);
                }
            }
            (known, stale_rows)
        };
        let mut removed = 0;
        for blob in self.inner.files.list()? {
            if !known.contains(&blob.0.as_u128()) {
                self.inner.files.remove(blob)?;
                removed += 1;
            }
        }
        if !stale_rows.is_empty() {
            let txn = self.inner.db.begin_write().map_err(db_err)?;
            crcs::remove(&txn, &stale_rows)?;
            txn.commit().map_err(db_err)?;
        }
        let stats = &self.inner.gc_stats;
        stats
            .swept_blobs
            .fetch_add(removed as u64, std::sync::atomic::Ordering::Relaxed);
        if removed > 0 {
            tracing::info!(
                removed,
                "removed unreferenced blob files left by an earlier run"
            );
        }
        Ok(removed)
    }

    /// Deletes the blobs whose grace period has passed; returns how many.
    pub fn collect_garbage(&self) -> Result<usize, StorageError> {
        let now = now_ms();
        let stats = &self.inner.gc_stats;
        stats
            .runs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Each due blob with its chunk count (from its checksum row).
        let due: Vec<(u128, u32)> = {
            let txn = self.inner.db.begin_read().map_err(db_err)?;
            let gc = txn.open_table(GC_QUEUE).map_err(db_err)?;
            let rows = txn.open_table(BLOB_CRCS).map_err(db_err)?;
            let mut due = Vec::new();
            for row in gc.iter().map_err(db_err)? {
                let (k, v) = row.map_err(db_err)?;
                if v.value() <= now {
                    let chunks = match rows.get(k.value()).map_err(db_err)? {
                        Some(r) => crcs::Row::decode(r.value())?.chunks(),
                        None => 0,
                    };
                    due.push((k.value(), chunks));
                }
            }
            due
        };
        stats
            .backlog
            .store(due.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if due.is_empty() {
            return Ok(0);
        }
        for (id, chunks) in &due {
            let blob = BlobId(uuid::Uuid::from_u128(*id));
            let bytes = self.inner.files.len(blob)?.unwrap_or(0);
            self.inner.files.remove(blob)?;
            stats.deleted(u64::from(*chunks), bytes);
        }
        let due: Vec<u128> = due.into_iter().map(|(id, _)| id).collect();
        let txn = self.inner.db.begin_write().map_err(db_err)?;
        {
            let mut gc = txn.open_table(GC_QUEUE).map_err(db_err)?;
            for id in &due {
                gc.remove(*id).map_err(db_err)?;
            }
        }
        crcs::remove(&txn, &due)?;
        txn.commit().map_err(db_err)?;
        stats.backlog.store(0, std::sync::atomic::Ordering::Relaxed);
        Ok(due.len())
    }

    /// Runs the collector every `every` until the runtime stops.
    pub(crate) fn spawn_collector(&self, every: Duration) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let s = store.clone();
                match tokio::task::spawn_blocking(move || s.collect_garbage()).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => {
                        let after = store.inner.gc_stats.snapshot();
                        tracing::info!(blobs = n, bytes_total = after.bytes, "garbage collected")
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "garbage collection failed"),
                    Err(e) => tracing::warn!(error = %e, "garbage collection task failed"),
                }
            }
        });
    }

    /// The head of `key`, with an inline object's bytes if `data`.
    async fn read_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        data: bool,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let k = object_key(bucket, key);
        self.blocking(move |inner| {
            let txn = inner.db.begin_read().map_err(db_err)?;
            let t = txn.open_table(OBJECTS).map_err(db_err)?;
            let Some(v) = t.get(k.as_slice()).map_err(db_err)? else {
                return Ok(None);
            };
            let mut head = decode_head(v.value())?;
            if data {
                read_inline(&txn.open_table(INLINE).map_err(db_err)?, &k, &mut head)?;
            }
            Ok(Some(head))
        })
        .await
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, StorageError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StorageError::internal(format!("blocking task failed: {e}")))?
    }

    /// Changes the stored record of `bucket` with `change`, in one write
    /// transaction; `NoSuchBucket` if it is gone or another incarnation.
    async fn update_bucket<F>(&self, bucket: &BucketRecord, change: F) -> Result<(), StorageError>
    where
        F: FnOnce(&mut BucketRecord) + Send + 'static,
    {
        let (name, id) = (bucket.name.clone(), bucket.id);
        self.blocking(move |inner| {
            let txn = inner.db.begin_write().map_err(db_err)?;
            {
                let mut t = txn.open_table(BUCKETS).map_err(db_err)?;
                let mut rec: BucketRecord = match t.get(name.as_str()).map_err(db_err)? {
                    Some(v) => serde_json::from_slice(v.value()).map_err(corrupt)?,
                    None => return Err(StorageError::NoSuchBucket),
                };
                if rec.id != id {
                    return Err(StorageError::NoSuchBucket);
                }
                change(&mut rec);
                let bytes = serde_json::to_vec(&rec).map_err(corrupt)?;
                t.insert(name.as_str(), bytes.as_slice()).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
        .await
    }
}

/// A table of JSON records by name (buckets, access keys).
type JsonTable = TableDefinition<'static, &'static str, &'static [u8]>;

impl Inner {
    /// The record named `name` in `table`.
    fn json_row<T: serde::de::DeserializeOwned>(
        &self,
        table: JsonTable,
        name: &str,
    ) -> Result<Option<T>, StorageError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(table).map_err(db_err)?;
        match t.get(name).map_err(db_err)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value()).map_err(corrupt)?)),
            None => Ok(None),
        }
    }

    /// Every record of `table`, in name order.
    fn json_rows<T: serde::de::DeserializeOwned>(
        &self,
        table: JsonTable,
    ) -> Result<Vec<T>, StorageError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(table).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)? {
            let (_, v) = row.map_err(db_err)?;
            out.push(serde_json::from_slice(v.value()).map_err(corrupt)?);
        }
        Ok(out)
    }

    /// Moves `released` blobs from the live set to the GC queue.
    fn release(
        &self,
        txn: &redb::WriteTransaction,
        released: impl Iterator<Item = BlobId>,
    ) -> Result<(), StorageError> {
        let due = now_ms() + self.gc_grace.as_millis() as i64;
        let mut live = txn.open_table(LIVE_BLOBS).map_err(db_err)?;
        let mut gc = txn.open_table(GC_QUEUE).map_err(db_err)?;
        for blob in released {
            live.remove(blob.0.as_u128()).map_err(db_err)?;
            gc.insert(blob.0.as_u128(), due).map_err(db_err)?;
        }
        Ok(())
    }
}

/// Up to `limit` rows from `lower` on whose keys start with `prefix`,
/// leaving out those `decode` makes nothing of.
fn scan_prefixed<T>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    lower: &Bound<Vec<u8>>,
    prefix: &[u8],
    limit: usize,
    mut decode: impl FnMut(&[u8], &[u8]) -> Result<Option<T>, StorageError>,
) -> Result<Vec<T>, StorageError> {
    let lower = as_slice(lower);
    let mut out = Vec::new();
    for row in table
        .range::<&[u8]>((lower, Bound::Unbounded))
        .map_err(db_err)?
    {
        if out.len() >= limit {
            break;
        }
        let (k, v) = row.map_err(db_err)?;
        if !k.value().starts_with(prefix) {
            break;
        }
        out.extend(decode(k.value(), v.value())?);
    }
    Ok(out)
}

/// A bound over owned bytes as one over borrowed bytes, for `range`.
fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// A row's key and value, copied out of a table.
type RawRow = (Vec<u8>, Vec<u8>);

/// The first row from `lower` on, if its key starts with `within`.
fn first_row(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    lower: &Bound<Vec<u8>>,
    within: &[u8],
) -> Result<Option<RawRow>, StorageError> {
    let mut range = table
        .range::<&[u8]>((as_slice(lower), Bound::Unbounded))
        .map_err(db_err)?;
    let row = match range.next() {
        Some(row) => {
            let (k, v) = row.map_err(db_err)?;
            let k = k.value();
            k.starts_with(within)
                .then(|| (k.to_vec(), v.value().to_vec()))
        }
        None => None,
    };
    Ok(row)
}

fn decode_head(bytes: &[u8]) -> Result<ObjectHead, StorageError> {
    serde_json::from_slice(bytes).map_err(corrupt)
}

/// Fills in an inline head's bytes from `INLINE` (left `None` if missing:
/// `InlineData::checked` reports that).
fn read_inline(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    k: &[u8],
    head: &mut ObjectHead,
) -> Result<(), StorageError> {
    if let Some(inline) = &mut head.inline {
        inline.bytes = table
            .get(k)
            .map_err(db_err)?
            .map(|v| Bytes::copy_from_slice(v.value()));
    }
    Ok(())
}

/// Writes `head`'s inline bytes under `k` in `txn`, or removes those of
/// the head it replaces (`old`); `Internal` if an inline head carries none.
fn write_inline(
    txn: &redb::WriteTransaction,
    k: &[u8],
    head: Option<&ObjectHead>,
    old: Option<&ObjectHead>,
) -> Result<(), StorageError> {
    let mut t = txn.open_table(INLINE).map_err(db_err)?;
    match head.and_then(|h| h.inline.as_ref()) {
        Some(inline) => {
            let bytes = inline
                .bytes
                .as_ref()
                .ok_or_else(|| StorageError::internal("an inline head without its bytes"))?;
            t.insert(k, bytes.as_ref()).map_err(db_err)?;
        }
        None if old.is_some_and(|o| o.inline.is_some()) => {
            t.remove(k).map_err(db_err)?;
        }
        None => {}
    }
    Ok(())
}

#[async_trait]
impl Storage for EmbeddedStorage {
    async fn ready(&self) -> Result<(), StorageError> {
        self.blocking(|inner| {
            let txn = inner.db.begin_read().map_err(db_err)?;
            txn.open_table(BUCKETS).map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn create_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError> {
        let bucket = bucket.clone();
        self.blocking(move |inner| {
            let txn = inner.db.begin_write().map_err(db_err)?;
            {
                let mut t = txn.open_table(BUCKETS).map_err(db_err)?;
                if let Some(existing) = t.get(bucket.name.as_str()).map_err(db_err)? {
                    let rec: BucketRecord =
                        serde_json::from_slice(existing.value()).map_err(corrupt)?;
                    return Err(StorageError::BucketExists(Box::new(rec)));
                }
                let bytes = serde_json::to_vec(&bucket).map_err(corrupt)?;
                t.insert(bucket.name.as_str(), bytes.as_slice())
                    .map_err(db_err)?;
                let mut ids = txn.open_table(BUCKET_IDS).map_err(db_err)?;
                ids.insert(bucket.id.0.as_u128(), ()).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>, StorageError> {
        let name = name.to_owned();
        self.blocking(move |inner| inner.json_row(BUCKETS, &name))
            .await
    }

    async fn list_buckets(&self) -> Result<Vec<BucketRecord>, StorageError> {
        self.blocking(|inner| inner.json_rows(BUCKETS)).await
    }

    async fn delete_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError> {
        let bucket = bucket.clone();
        self.blocking(move |inner| {
            let txn = inner.db.begin_write().map_err(db_err)?;
            {
                // Not empty while it holds a version of any key, current or
                // not (a delete marker included), as on S3.
                let first = bucket.id.0.as_bytes().to_vec();
                for table in [OBJECTS, versions::VERSIONS] {
                    let t = txn.open_table(table).map_err(db_err)?;
                    let mut range = t.range::<&[u8]>(first.as_slice()..).map_err(db_err)?;
                    let next = range.next();
                    if let Some(row) = next {
                        if row.map_err(db_err)?.0.value().starts_with(&first) {
                            return Err(StorageError::BucketNotEmpty);
                        }
                    }
                }
                let mut t = txn.open_table(BUCKETS).map_err(db_err)?;
                let matches = match t.get(bucket.name.as_str()).map_err(db_err)? {
                    Some(v) => {
                        let rec: BucketRecord =
                            serde_json::from_slice(v.value()).map_err(corrupt)?;
                        rec.id == bucket.id
                    }
                    None => false,
                };
                if !matches {
                    return Err(StorageError::NoSuchBucket);
                }
                t.remove(bucket.name.as_str()).map_err(db_err)?;
                let mut ids = txn.open_table(BUCKET_IDS).map_err(db_err)?;
                ids.remove(bucket.id.0.as_u128()).map_err(db_err)?;
            }
            inner.abort_all_uploads(&txn, bucket.id)?;
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn set_grant(
        &self,
        bucket: &BucketRecord,
        key: &str,
        grant: Grant,
    ) -> Result<(), StorageError> {
        let key = key.to_owned();
        self.update_bucket(bucket, move |rec| {
            if grant.is_empty() {
                rec.grants.remove(&key);
            } else {
                rec.grants.insert(key, grant);
            }
        })
        .await
    }

    async fn set_policy(
        &self,
        bucket: &BucketRecord,
        policy: Option<&str>,
    ) -> Result<(), StorageError> {
        let policy = policy.map(str::to_owned);
        self.update_bucket(bucket, move |rec| rec.policy = policy)
            .await
    }

    async fn set_bucket_tags(
        &self,
        bucket: &BucketRecord,
        tags: &TagSet,
    ) -> Result<(), StorageError> {
        let tags = tags.clone();
        self.update_bucket(bucket, move |rec| rec.tags = tags).await
    }

    async fn set_bucket_lifecycle(
        &self,
        bucket: &BucketRecord,
        config: Option<&LifecycleConfig>,
    ) -> Result<(), StorageError> {
        let config = config.cloned();
        self.update_bucket(bucket, move |rec| rec.lifecycle = config)
            .await
    }

    async fn set_bucket_cors(
        &self,
        bucket: &BucketRecord,
        config: Option<&CorsConfig>,
    ) -> Result<(), StorageError> {
        let config = config.cloned();
        self.update_bucket(bucket, move |rec| rec.cors = config)
            .await
    }

    async fn begin_blob(&self, _blob: BlobId, _owner: &BlobOwner) -> Result<(), StorageError> {
        // A crash leaves a file no record knows; the start-up sweep removes it.
        Ok(())
    }

    async fn put_chunk(&self, addr: ChunkAddr, data: Bytes) -> Result<(), StorageError> {
        self.blocking(move |inner| {
            let crc = chunk_crc(&data);
            inner.files.write_chunk(addr, &data)?;
            inner.pending_crcs.record(addr, crc);
            Ok(())
        })
        .await
    }

    async fn seal_blob(&self, blob: BlobId) -> Result<(), StorageError> {
        self.blocking(move |inner| Ok(inner.files.seal(blob)?))
            .await
    }

    async fn get_chunk(&self, addr: ChunkAddr) -> Result<Bytes, StorageError> {
        self.blocking(move |inner| {
            let stored = {
                let txn = inner.db.begin_read().map_err(db_err)?;
                let t = txn.open_table(BLOB_CRCS).map_err(db_err)?;
                crcs::lookup(&t, addr)?
            };
            let data = inner
                .files
                .read_chunk(addr)?
                .ok_or(StorageError::ChunkMissing {
                    blob: addr.blob,
                    index: addr.index,
                })?;
            if let Some(stored) = stored {
                let actual = chunk_crc(&data);
                if actual != stored {
                    tracing::error!(
                        blob = %addr.blob,
                        index = addr.index,
                        "chunk does not match its checksum: not served"
                    );
                    return Err(corrupt_chunk(addr, stored, actual));
                }
            }
            Ok(data)
        })
        .await
    }

    async fn discard_blob(&self, blob: BlobId, _chunks: u32) -> Result<(), StorageError> {
        self.blocking(move |inner| {
            inner.pending_crcs.forget(blob);
            Ok(inner.files.remove(blob)?)
        })
        .await
    }

    async fn get_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
    ) -> Result<Option<ObjectHead>, StorageError> {
        self.read_object(bucket, key, false).await
    }

    async fn get_object_data(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
    ) -> Result<Option<ObjectHead>, StorageError> {
        self.read_object(bucket, key, true).await
    }

    async fn put_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<(), StorageError> {
        let k = object_key(bucket, key);
        let head = head.clone();
        let cond = cond.clone();
        self.blocking(move |inner| {
            let bytes = serde_json::to_vec(&head).map_err(corrupt)?;
            let rows = inner
                .pending_crcs
                .take_rows(head.parts.iter().map(|p| (p.blob, p.size)));
            let txn = inner.db.begin_write().map_err(db_err)?;
            crcs::insert(&txn, &rows)?;
            {
                let ids = txn.open_table(BUCKET_IDS).map_err(db_err)?;
                if ids.get(bucket.0.as_u128()).map_err(db_err)?.is_none() {
                    return Err(StorageError::NoSuchBucket);
                }
                let mut objects = txn.open_table(OBJECTS).map_err(db_err)?;
                let old = match objects.get(k.as_slice()).map_err(db_err)? {
                    Some(v) => Some(decode_head(v.value())?),
                    None => None,
                };
                if !cond.holds(old.as_ref()) {
                    return Err(StorageError::PreconditionFailed);
                }
                objects
                    .insert(k.as_slice(), bytes.as_slice())
                    .map_err(db_err)?;
                drop(objects);
                write_inline(&txn, &k, Some(&head), old.as_ref())?;
                let kept: HashSet<BlobId> = head.blobs().collect();
                if let Some(old) = &old {
                    inner.release(&txn, old.blobs().filter(|b| !kept.contains(b)))?;
                }
                let mut live = txn.open_table(LIVE_BLOBS).map_err(db_err)?;
                for blob in &kept {
                    live.insert(blob.0.as_u128(), ()).map_err(db_err)?;
                }
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn set_object_tags(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        tags: &TagSet,
    ) -> Result<bool, StorageError> {
        let k = object_key(bucket, key);
        let tags = tags.clone();
        self.blocking(move |inner| {
            // One write transaction: no head can be written in between.
            let txn = inner.db.begin_write().map_err(db_err)?;
            {
                let mut objects = txn.open_table(OBJECTS).map_err(db_err)?;
                let mut head = match objects.get(k.as_slice()).map_err(db_err)? {
                    Some(v) => decode_head(v.value())?,
                    None => return Ok(false),
                };
                head.tags = tags;
                let bytes = serde_json::to_vec(&head).map_err(corrupt)?;
                objects
                    .insert(k.as_slice(), bytes.as_slice())
                    .map_err(db_err)?;
            }
            txn.commit().map_err(db_err)?;
            Ok(true)
        })
        .await
    }

    async fn delete_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        cond: &WriteCondition,
    ) -> Result<bool, StorageError> {
        let k = object_key(bucket, key);
        let cond = cond.clone();
        self.blocking(move |inner| {
            let txn = inner.db.begin_write().map_err(db_err)?;
            let old = {
                let mut objects = txn.open_table(OBJECTS).map_err(db_err)?;
                let old = objects.remove(k.as_slice()).map_err(db_err)?;
                match old {
                    Some(v) => Some(decode_head(v.value())?),
                    None => None,
                }
            };
            // Not committed: the transaction's removal is dropped with it.
            if !cond.holds(old.as_ref()) {
                return Err(StorageError::PreconditionFailed);
            }
            let existed = old.is_some();
            if let Some(old) = old {
                write_inline(&txn, &k, None, Some(&old))?;
                inner.release(&txn, old.blobs())?;
                txn.commit().map_err(db_err)?;
            }
            Ok(existed)
        })
        .await
    }

    async fn put_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        head: &ObjectHead,
        mode: VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        let (key, head, cond) = (key.to_owned(), head.clone(), cond.clone());
        self.blocking(move |inner| inner.put_version(bucket, &key, &head, mode, &cond))
            .await
    }

    async fn get_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
        data: bool,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let (key, version) = (key.to_owned(), version.clone());
        self.blocking(move |inner| inner.get_version(bucket, &key, &version, data))
            .await
    }

    async fn set_version_tags(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
        tags: &TagSet,
    ) -> Result<bool, StorageError> {
        let (key, version, tags) = (key.to_owned(), version.clone(), tags.clone());
        self.blocking(move |inner| inner.set_version_tags(bucket, &key, &version, &tags))
            .await
    }

    async fn delete_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
    ) -> Result<Option<ObjectHead>, StorageError> {
        let (key, version) = (key.to_owned(), version.clone());
        self.blocking(move |inner| inner.delete_version(bucket, &key, &version))
            .await
    }

    async fn list_versions(
        &self,
        bucket: BucketId,
        prefix: &str,
        from: VersionsFrom<'_>,
        limit: usize,
    ) -> Result<Vec<VersionEntry>, StorageError> {
        let prefix = prefix.to_owned();
        let from = OwnedFrom::of(from);
        self.blocking(move |inner| inner.list_versions(bucket, &prefix, from.as_ref(), limit))
            .await
    }

    async fn set_bucket_versioning(
        &self,
        bucket: &BucketRecord,
        state: VersioningState,
    ) -> Result<(), StorageError> {
        self.update_bucket(bucket, move |rec| rec.versioning = state)
            .await
    }

    async fn list_objects(
        &self,
        bucket: BucketId,
        prefix: &str,
        start: Bound<&str>,
        limit: usize,
    ) -> Result<Vec<ListEntry>, StorageError> {
        let full_prefix = object_key(bucket, prefix);
        let lower = match start {
            Bound::Included(s) if s >= prefix => Bound::Included(object_key(bucket, s)),
            Bound::Excluded(s) if s >= prefix => Bound::Excluded(object_key(bucket, s)),
            _ => Bound::Included(full_prefix.clone()),
        };
        self.blocking(move |inner| {
            let txn = inner.db.begin_read().map_err(db_err)?;
            let t = txn.open_table(OBJECTS).map_err(db_err)?;
            scan_prefixed(&t, &lower, &full_prefix, limit, |k, v| {
                let head = decode_head(v)?;
                if head.delete_marker {
                    return Ok(None);
                }
                let key = std::str::from_utf8(&k[16..]).map_err(corrupt)?.to_owned();
                Ok(Some(ListEntry { key, head }))
            })
        })
        .await
    }

    async fn create_upload(
        &self,
        bucket: BucketId,
        upload: &UploadRecord,
    ) -> Result<(), StorageError> {
        let upload = upload.clone();
        self.blocking(move |inner| inner.create_upload(bucket, &upload))
            .await
    }

    async fn get_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<Option<UploadRecord>, StorageError> {
        let (key, id) = (key.to_owned(), upload_id.to_owned());
        self.blocking(move |inner| inner.get_upload(bucket, &key, &id))
            .await
    }

    async fn put_part(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        part: &PartRecord,
    ) -> Result<(), StorageError> {
        let (key, id, part) = (key.to_owned(), upload_id.to_owned(), part.clone());
        self.blocking(move |inner| inner.put_part(bucket, &key, &id, &part))
            .await
    }

    async fn list_parts(
        &self,
        upload_id: &UploadId,
        after: u32,
        limit: usize,
    ) -> Result<Vec<PartRecord>, StorageError> {
        let id = upload_id.to_owned();
        self.blocking(move |inner| inner.list_parts(&id, after, limit))
            .await
    }

    async fn list_uploads(
        &self,
        bucket: BucketId,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<UploadRecord>, StorageError> {
        let prefix = prefix.to_owned();
        let after = after.map(|(k, i)| (k.to_owned(), i.to_owned()));
        self.blocking(move |inner| {
            let after = after.as_ref().map(|(k, i)| (k.as_str(), i.as_str()));
            inner.list_uploads(bucket, &prefix, after, limit)
        })
        .await
    }

    async fn complete_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<(), StorageError> {
        let (key, id, head) = (key.to_owned(), upload_id.to_owned(), head.clone());
        let cond = cond.clone();
        self.blocking(move |inner| {
            let mode = VersioningState::Unversioned;
            inner.complete_upload(bucket, &key, &id, &head, mode, &cond)
        })
        .await
        .map(|_| ())
    }

    async fn complete_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        head: &ObjectHead,
        mode: VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        crate::storage::versioned_only(mode)?;
        let (key, id, head) = (key.to_owned(), upload_id.to_owned(), head.clone());
        let cond = cond.clone();
        self.blocking(move |inner| inner.complete_upload(bucket, &key, &id, &head, mode, &cond))
            .await
    }

    async fn abort_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<(), StorageError> {
        let (key, id) = (key.to_owned(), upload_id.to_owned());
        self.blocking(move |inner| inner.abort_upload(bucket, &key, &id))
            .await
    }
}

#[async_trait]
impl Maintenance for EmbeddedStorage {
    async fn fsck(&self, min_age: Duration) -> Result<FsckReport, StorageError> {
        self.blocking(move |inner| inner.fsck(min_age)).await
    }

    fn gc_stats(&self) -> GcSnapshot {
        self.inner.gc_stats.snapshot()
    }

    /// Only this process has the store open: it holds every lease.
    async fn hold_lease(
        &self,
        _lease: super::Lease,
        _ttl: std::time::Duration,
    ) -> Result<bool, StorageError> {
        Ok(true)
    }

    /// The store is open in this process only (redb locks its file), so
    /// no upload is in flight: every blob file no record names is garbage.
    async fn repair(&self) -> Result<RepairReport, StorageError> {
        let s = self.clone();
        let run = move || -> Result<RepairReport, StorageError> {
            let orphans = s.sweep_orphans()?;
            let collected = s.collect_garbage()?;
            Ok(RepairReport {
                released: 0,
                deleted: (orphans + collected) as u64,
                undecided: 0,
            })
        };
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|e| StorageError::internal(format!("repair task failed: {e}")))?
    }
}

#[async_trait]
impl StatusStore for EmbeddedStorage {
    async fn put_status(
        &self,
        kind: StatusKind,
        id: &str,
        doc: &str,
        ttl: Duration,
    ) -> Result<(), StorageError> {
        self.inner.statuses.put_status(kind, id, doc, ttl);
        Ok(())
    }

    async fn statuses(&self, kind: StatusKind) -> Result<Vec<(String, String)>, StorageError> {
        Ok(self.inner.statuses.statuses(kind))
    }

    async fn nodes(&self) -> Result<Vec<NodeStatus>, StorageError> {
        Ok(Vec::new())
    }
}
