//! The Cassandra backend, through the `scylla` driver (CQL protocol v4; it
//! runs on Apache Cassandra and ScyllaDB alike).
//!
//! Data model (see `docs/storage-model.md`): a blob's chunks are one
//! partition each in `chunks`; an object's head, which is also its entry
//! in the key index, is one row of `objects`, partitioned by
//! `(bucket, shard(key))`. Writing that row is the commit point. Each chunk
//! row carries a CRC32C of its data, checked by every read. Blobs are filed
//! in `pending_blobs` before their chunks are written, and released blobs
//! wait in `gc_queue` for the grace period before their chunks go.

mod buckets;
mod claims;
mod collector;
mod connect;
mod cql;
mod dropped;
mod fsck;
mod gc;
mod keys;
mod list;
mod multipart;
mod objects;
pub mod options;
mod recheck;
mod rows;
mod schema;
mod security;
mod statements;
mod status;
mod sweep;
mod version_list;
mod versions;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::types::{
    CorsConfig, LifecycleConfig, ObjectKey, TagSet, UploadId, VersionRef, VersioningState,
};

pub use options::CassandraOptions;

/// A driver session as the backend opens it (credentials, TLS, retries
/// while no node answers), for tools and tests that issue their own CQL.
pub async fn open_session(
    opts: &CassandraOptions,
) -> Result<scylla::client::session::Session, StorageError> {
    connect::connect(opts).await
}
pub use schema::SCHEMA_VERSION;
pub use sweep::SweepOutcome;

use super::{
    chunk_crc, corrupt, corrupt_chunk, now_ms, BlobId, BlobOwner, BucketId, BucketRecord,
    ChunkAddr, Grant, ListEntry, Maintenance, ObjectHead, PartRecord, Storage, StorageError,
    UploadRecord, VersionEntry, VersionsFrom, WriteCondition,
};
use claims::Claims;
use cql::Cql;
use gc::Gc;
use statements::Statements;
use sweep::{Sweep, SweepOptions};

struct Inner {
    cql: Arc<Cql>,
    /// The data path's statements.
    st: Statements,
    vst: statements::VersionStatements,
    opts: CassandraOptions,
    index_shards: u16,
    gc: Gc,
    sweep: Sweep,
    claims: Claims,
    /// Second looks at heads that won (`recheck.rs`).
    rechecks: recheck::Rechecks,
}

/// Handle to the Cassandra store; cheap to clone.
#[derive(Clone)]
pub struct CassandraStorage {
    inner: Arc<Inner>,
}

/// Chunk indexes are `int` in CQL.
fn cql_index(index: u32) -> Result<i32, StorageError> {
    i32::try_from(index).map_err(|_| StorageError::Corrupt(format!("chunk index {index}")))
}

/// A chunk's CRC32C as the CQL `int` it is stored as (the same 32 bits).
fn cql_crc(data: &[u8]) -> i32 {
    i32::from_be_bytes(chunk_crc(data).to_be_bytes())
}

/// `(stored, actual)` when a chunk's data does not match the checksum
/// stored with it. Chunks written before schema version 3 have none, and
/// pass.
fn crc_mismatch(data: &[u8], stored: Option<i32>) -> Option<(u32, u32)> {
    let stored = u32::from_be_bytes(stored?.to_be_bytes());
    let actual = chunk_crc(data);
    (stored != actual).then_some((stored, actual))
}

/// Runs the schema step, again while Cassandra answers `Unavailable`
/// (within `opts.connect_for`): a cluster that has just started, or whose
/// nodes have just come back and are not yet seen up by the others, may
/// time out or lack a quorum for a moment; that is worth waiting for, like
/// connecting.
async fn with_schema_retries<T, F, Fut>(opts: &CassandraOptions, step: F) -> Result<T, StorageError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, StorageError>>,
{
    let started = std::time::Instant::now();
    let mut delay = std::time::Duration::from_millis(500);
    loop {
        match step().await {
            Err(StorageError::Unavailable(e))
                if opts
                    .connect_for
                    .is_none_or(|limit| started.elapsed() + delay < limit) =>
            {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64,
                    "Cassandra did not complete the schema step; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(5));
            }
            done => return done,
        }
    }
}

impl CassandraStorage {
    /// Connects (retrying for `opts.connect_for`), creates or upgrades the
    /// schema, and prepares every statement.
    pub async fn open(opts: CassandraOptions) -> Result<Self, StorageError> {
        options::check_keyspace(&opts.keyspace).map_err(StorageError::internal)?;
        let cql = Arc::new(Cql {
            session: connect::connect(&opts).await?,
        });
        let (layout, st, vst) = with_schema_retries(&opts, || async {
            let layout = schema::migrate(&cql.session, &opts).await?;
            let st = Statements::prepare(&cql.session, &opts.keyspace).await?;
            let vst = statements::VersionStatements::prepare(&cql.session, &opts.keyspace).await?;
            Ok((layout, st, vst))
        })
        .await?;
        let ks = opts.keyspace.as_str();
        let claims = Claims::open(cql.clone(), ks).await?;
        let sweep_opts = SweepOptions {
            commit_deadline: opts.commit_deadline,
            sweep_margin: opts.sweep_margin,
            request_timeout: opts.request_timeout,
        };
        let sweep = Sweep::open(cql.clone(), ks, sweep_opts).await?;
        let gc = Gc::open(cql.clone(), ks, opts.gc_grace).await?;
        let (rechecks, queue) = recheck::Rechecks::new(opts.recheck_after);
        let store = CassandraStorage {
            inner: Arc::new(Inner {
                cql,
                st,
                vst,
                opts,
                index_shards: layout.index_shards,
                gc,
                sweep,
                claims,
                rechecks,
            }),
        };
        recheck::run(Arc::downgrade(&store.inner), queue);
        Ok(store)
    }

    /// Creates or upgrades the schema only (`s3gw migrate`).
    pub async fn migrate(opts: &CassandraOptions) -> Result<u16, StorageError> {
        options::check_keyspace(&opts.keyspace).map_err(StorageError::internal)?;
        let session = connect::connect(opts).await?;
        let layout = with_schema_retries(opts, || schema::migrate(&session, opts)).await?;
        Ok(layout.index_shards)
    }

    /// The shard of the key index that holds `key`: a stable hash, the
    /// same in every gateway and every release.
    fn shard_of(&self, key: &str) -> i16 {
        let h = xxhash_rust::xxh3::xxh3_64(key.as_bytes());
        (h % u64::from(self.inner.index_shards.max(1))) as i16
    }
}

#[async_trait]
impl Storage for CassandraStorage {
    async fn ready(&self) -> Result<(), StorageError> {
        // A read at the configured consistency: it needs a quorum, not
        // merely one live connection.
        let _: Vec<rows::SettingRow> = self
            .inner
            .cql
            .rows(&self.inner.st.setting_get, ("schema_version",))
            .await?;
        Ok(())
    }

    async fn create_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError> {
        buckets::create_bucket(self, bucket).await
    }

    async fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>, StorageError> {
        buckets::get_bucket(self, name).await
    }

    async fn list_buckets(&self) -> Result<Vec<BucketRecord>, StorageError> {
        buckets::list_buckets(self).await
    }

    async fn delete_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError> {
        buckets::delete_bucket(self, bucket).await
    }

    async fn set_grant(
        &self,
        bucket: &BucketRecord,
        key: &str,
        grant: Grant,
    ) -> Result<(), StorageError> {
        buckets::set_grant(self, bucket, key, grant).await
    }

    async fn set_policy(
        &self,
        bucket: &BucketRecord,
        policy: Option<&str>,
    ) -> Result<(), StorageError> {
        buckets::set_policy(self, bucket, policy).await
    }

    async fn set_bucket_tags(
        &self,
        bucket: &BucketRecord,
        tags: &TagSet,
    ) -> Result<(), StorageError> {
        buckets::set_tags(self, bucket, tags).await
    }

    async fn set_bucket_lifecycle(
        &self,
        bucket: &BucketRecord,
        config: Option<&LifecycleConfig>,
    ) -> Result<(), StorageError> {
        let statement = &self.inner.st.bucket_lifecycle_set;
        buckets::set_config(self, statement, bucket, config).await
    }

    async fn set_bucket_cors(
        &self,
        bucket: &BucketRecord,
        config: Option<&CorsConfig>,
    ) -> Result<(), StorageError> {
        buckets::set_config(self, &self.inner.st.bucket_cors_set, bucket, config).await
    }

    async fn begin_blob(&self, blob: BlobId, owner: &BlobOwner) -> Result<(), StorageError> {
        self.inner.sweep.begin_blob(blob, owner).await
    }

    async fn put_chunk(&self, addr: ChunkAddr, data: Bytes) -> Result<(), StorageError> {
        let idx = cql_index(addr.index)?;
        let crc = cql_crc(&data);
        self.inner
            .cql
            .run_chunk::<rows::ChunkRow>(
                &self.inner.st.chunk_put,
                (addr.blob.0, idx, data, crc),
                "chunk_put",
            )
            .await
            .map(|_| ())
    }

    async fn seal_blob(&self, _blob: BlobId) -> Result<(), StorageError> {
        // Each chunk write was acknowledged at the configured consistency.
        Ok(())
    }

    async fn get_chunk(&self, addr: ChunkAddr) -> Result<Bytes, StorageError> {
        let idx = cql_index(addr.index)?;
        let rows: Vec<rows::ChunkRow> = self
            .inner
            .cql
            .run_chunk(&self.inner.st.chunk_get, (addr.blob.0, idx), "chunk_get")
            .await?;
        match rows.into_iter().next() {
            Some(rows::ChunkRow {
                data: Some(data),
                crc,
            }) => match crc_mismatch(&data, crc) {
                Some((stored, actual)) => Err(corrupt_chunk(addr, stored, actual)),
                None => Ok(data),
            },
            _ => Err(StorageError::ChunkMissing {
                blob: addr.blob,
                index: addr.index,
            }),
        }
    }

    async fn discard_blob(&self, blob: BlobId, chunks: u32) -> Result<(), StorageError> {
        self.inner.gc.delete_chunks(blob, chunks).await?;
        self.inner.gc.unpend(blob).await
    }

    async fn get_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
    ) -> Result<Option<ObjectHead>, StorageError> {
        Ok(self
            .read_head(bucket, key, false)
            .await?
            .map(|(_, head)| head))
    }

    async fn get_object_data(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
    ) -> Result<Option<ObjectHead>, StorageError> {
        self.read_head_data(bucket, key).await
    }

    async fn put_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<(), StorageError> {
        objects::put_object(self, bucket, key, head, cond).await
    }

    async fn set_object_tags(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        tags: &TagSet,
    ) -> Result<bool, StorageError> {
        objects::set_object_tags(self, bucket, key, tags).await
    }

    async fn delete_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        cond: &WriteCondition,
    ) -> Result<bool, StorageError> {
        objects::delete_object(self, bucket, key, cond).await
    }

    async fn put_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        head: &ObjectHead,
        mode: VersioningState,
        cond: &WriteCondition,
    ) -> Result<ObjectHead, StorageError> {
        CassandraStorage::put_version(self, bucket, key, head, mode, cond).await
    }

    async fn get_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
        data: bool,
    ) -> Result<Option<ObjectHead>, StorageError> {
        CassandraStorage::get_version(self, bucket, key, version, data).await
    }

    async fn set_version_tags(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
        tags: &TagSet,
    ) -> Result<bool, StorageError> {
        CassandraStorage::set_version_tags(self, bucket, key, version, tags).await
    }

    async fn delete_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
    ) -> Result<Option<ObjectHead>, StorageError> {
        CassandraStorage::delete_version(self, bucket, key, version).await
    }

    async fn list_versions(
        &self,
        bucket: BucketId,
        prefix: &str,
        from: VersionsFrom<'_>,
        limit: usize,
    ) -> Result<Vec<VersionEntry>, StorageError> {
        version_list::list_versions(self, bucket, prefix, from, limit).await
    }

    async fn set_bucket_versioning(
        &self,
        bucket: &BucketRecord,
        state: VersioningState,
    ) -> Result<(), StorageError> {
        buckets::set_versioning(self, bucket, state).await
    }

    async fn list_objects(
        &self,
        bucket: BucketId,
        prefix: &str,
        start: std::ops::Bound<&str>,
        limit: usize,
    ) -> Result<Vec<ListEntry>, StorageError> {
        list::list_objects(self, bucket, prefix, start, limit).await
    }

    async fn create_upload(
        &self,
        bucket: BucketId,
        upload: &UploadRecord,
    ) -> Result<(), StorageError> {
        multipart::create_upload(self, bucket, upload).await
    }

    async fn get_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<Option<UploadRecord>, StorageError> {
        multipart::get_upload(self, bucket, key, upload_id).await
    }

    async fn put_part(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        part: &PartRecord,
    ) -> Result<(), StorageError> {
        multipart::put_part(self, bucket, key, upload_id, part).await
    }

    async fn list_parts(
        &self,
        upload_id: &UploadId,
        after: u32,
        limit: usize,
    ) -> Result<Vec<PartRecord>, StorageError> {
        multipart::list_parts(self, upload_id, after, limit).await
    }

    async fn list_uploads(
        &self,
        bucket: BucketId,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<UploadRecord>, StorageError> {
        multipart::list_uploads(self, bucket, prefix, after, limit).await
    }

    async fn complete_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<(), StorageError> {
        let mode = VersioningState::Unversioned;
        multipart::complete_upload(self, bucket, key, upload_id, head, mode, cond)
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
        multipart::complete_upload(self, bucket, key, upload_id, head, mode, cond).await
    }

    async fn abort_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<(), StorageError> {
        multipart::abort_upload(self, bucket, key, upload_id).await
    }
}

#[async_trait]
impl Maintenance for CassandraStorage {
    async fn fsck(
        &self,
        min_age: std::time::Duration,
    ) -> Result<crate::storage::FsckReport, StorageError> {
        fsck::fsck(self, min_age).await
    }

    fn gc_stats(&self) -> crate::storage::GcSnapshot {
        self.inner.gc.stats().snapshot()
    }

    async fn hold_lease(
        &self,
        lease: crate::storage::Lease,
        ttl: std::time::Duration,
    ) -> Result<bool, StorageError> {
        self.inner.gc.hold_named_lease(lease.name(), ttl).await
    }

    /// The same fenced sweep as the collector's, then a collection of the
    /// queue minutes that are due. Safe beside running gateways.
    async fn repair(&self) -> Result<crate::storage::RepairReport, StorageError> {
        let swept = self.inner.sweep.sweep_pending(self, now_ms(), None).await?;
        let dropped = self.clean_dropped_buckets(now_ms()).await?;
        let deleted = self.collect_garbage(now_ms()).await?;
        Ok(crate::storage::RepairReport {
            released: swept.released + dropped,
            deleted: deleted as u64,
            undecided: swept.undecided,
        })
    }
}
