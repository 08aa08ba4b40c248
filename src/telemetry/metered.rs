//! The storage backend with every call timed and every failure counted
//! (`s3gw_storage_call_duration_seconds`, `s3gw_storage_call_failures_total`),
//! whichever backend it is.

use std::future::Future;
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;

use super::names;
use crate::storage::{
    BlobId, BlobOwner, BucketId, BucketRecord, ChunkAddr, FsckReport, GcSnapshot, Grant, KeyRecord,
    KeyStore, Lease, ListEntry, Maintenance, NodeStatus, ObjectHead, PartRecord, RepairReport,
    StatusStore, Storage, StorageError, Stores, UploadRecord, VersionEntry, VersionsFrom,
    WriteCondition,
};
use crate::types::{
    CorsConfig, LifecycleConfig, ObjectKey, StatusKind, TagSet, UploadId, VersionRef,
    VersioningState,
};

/// A backend's three contracts, each call timed.
pub(crate) struct MeteredStorage {
    inner: Stores,
}

impl MeteredStorage {
    pub(crate) fn wrap(inner: Stores) -> Stores {
        Stores::of(Arc::new(MeteredStorage { inner }))
    }
}

/// Label of a failure; `None` for answers that are not failures (no such
/// upload, bucket exists, a precondition, …).
fn failure_kind(e: &StorageError) -> Option<&'static str> {
    match e {
        StorageError::Unavailable(_) => Some("unavailable"),
        StorageError::Busy(_) => Some("busy"),
        StorageError::Io(_) => Some("io"),
        StorageError::Internal(_) => Some("internal"),
        StorageError::Corrupt(_) => Some("corrupt"),
        StorageError::ChunkMissing { .. } => Some("chunk_missing"),
        StorageError::BucketExists(_)
        | StorageError::BucketNotEmpty
        | StorageError::NoSuchBucket
        | StorageError::PreconditionFailed
        | StorageError::NoSuchUpload
        | StorageError::PartChanged
        | StorageError::TooLate => None,
    }
}

async fn timed<T>(
    call: &'static str,
    f: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    let started = Instant::now();
    let out = f.await;
    metrics::histogram!(names::STORAGE_DURATION, "call" => call)
        .record(started.elapsed().as_secs_f64());
    if let Err(e) = &out {
        if let Some(kind) = failure_kind(e) {
            metrics::counter!(names::STORAGE_FAILURES, "call" => call, "kind" => kind).increment(1);
        }
    }
    out
}

#[async_trait]
impl Storage for MeteredStorage {
    async fn ready(&self) -> Result<(), StorageError> {
        timed("ready", self.inner.data.ready()).await
    }
    async fn create_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError> {
        timed("create_bucket", self.inner.data.create_bucket(bucket)).await
    }
    async fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>, StorageError> {
        timed("get_bucket", self.inner.data.get_bucket(name)).await
    }
    async fn list_buckets(&self) -> Result<Vec<BucketRecord>, StorageError> {
        timed("list_buckets", self.inner.data.list_buckets()).await
    }
    async fn delete_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError> {
        timed("delete_bucket", self.inner.data.delete_bucket(bucket)).await
    }
    async fn set_grant(
        &self,
        bucket: &BucketRecord,
        key: &str,
        grant: Grant,
    ) -> Result<(), StorageError> {
        timed("set_grant", self.inner.data.set_grant(bucket, key, grant)).await
    }
    async fn set_policy(
        &self,
        bucket: &BucketRecord,
        policy: Option<&str>,
    ) -> Result<(), StorageError> {
        timed("set_policy", self.inner.data.set_policy(bucket, policy)).await
    }
    async fn set_bucket_tags(
        &self,
        bucket: &BucketRecord,
        tags: &TagSet,
    ) -> Result<(), StorageError> {
        timed(
            "set_bucket_tags",
            self.inner.data.set_bucket_tags(bucket, tags),
        )
        .await
    }
    async fn set_bucket_lifecycle(
        &self,
        bucket: &BucketRecord,
        config: Option<&LifecycleConfig>,
    ) -> Result<(), StorageError> {
        timed(
            "set_bucket_lifecycle",
            self.inner.data.set_bucket_lifecycle(bucket, config),
        )
        .await
    }
    async fn set_bucket_cors(
        &self,
        bucket: &BucketRecord,
        config: Option<&CorsConfig>,
    ) -> Result<(), StorageError> {
        timed(
            "set_bucket_cors",
            self.inner.data.set_bucket_cors(bucket, config),
        )
        .await
    }
    async fn begin_blob(&self, blob: BlobId, owner: &BlobOwner) -> Result<(), StorageError> {
        timed("begin_blob", self.inner.data.begin_blob(blob, owner)).await
    }
    async fn put_chunk(&self, addr: ChunkAddr, data: Bytes) -> Result<(), StorageError> {
        metrics::counter!(names::CHUNKS_WRITTEN).increment(1);
        timed("put_chunk", self.inner.data.put_chunk(addr, data)).await
    }
    async fn seal_blob(&self, blob: BlobId) -> Result<(), StorageError> {
        timed("seal_blob", self.inner.data.seal_blob(blob)).await
    }
    async fn get_chunk(&self, addr: ChunkAddr) -> Result<Bytes, StorageError> {
        let data = timed("get_chunk", self.inner.data.get_chunk(addr)).await?;
        metrics::counter!(names::CHUNKS_READ).increment(1);
        metrics::counter!(names::CHUNK_BYTES_READ).increment(data.len() as u64);
        Ok(data)
    }
    async fn discard_blob(&self, blob: BlobId, chunks: u32) -> Result<(), StorageError> {
        timed("discard_blob", self.inner.data.discard_blob(blob, chunks)).await
    }
    async fn get_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
    ) -> Result<Option<ObjectHead>, StorageError> {
        timed("get_object", self.inner.data.get_object(bucket, key)).await
    }
    async fn get_object_data(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
    ) -> Result<Option<ObjectHead>, StorageError> {
        timed(
            "get_object_data",
            self.inner.data.get_object_data(bucket, key),
        )
        .await
    }
    async fn put_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        head: &ObjectHead,
        cond: &WriteCondition,
    ) -> Result<(), StorageError> {
        timed(
            "put_object",
            self.inner.data.put_object(bucket, key, head, cond),
        )
        .await
    }
    async fn set_object_tags(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        tags: &TagSet,
    ) -> Result<bool, StorageError> {
        timed(
            "set_object_tags",
            self.inner.data.set_object_tags(bucket, key, tags),
        )
        .await
    }
    async fn delete_object(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        cond: &WriteCondition,
    ) -> Result<bool, StorageError> {
        timed(
            "delete_object",
            self.inner.data.delete_object(bucket, key, cond),
        )
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
        timed(
            "put_version",
            self.inner.data.put_version(bucket, key, head, mode, cond),
        )
        .await
    }
    async fn get_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
        data: bool,
    ) -> Result<Option<ObjectHead>, StorageError> {
        timed(
            "get_version",
            self.inner.data.get_version(bucket, key, version, data),
        )
        .await
    }
    async fn set_version_tags(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
        tags: &TagSet,
    ) -> Result<bool, StorageError> {
        timed(
            "set_version_tags",
            self.inner.data.set_version_tags(bucket, key, version, tags),
        )
        .await
    }
    async fn delete_version(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        version: &VersionRef,
    ) -> Result<Option<ObjectHead>, StorageError> {
        timed(
            "delete_version",
            self.inner.data.delete_version(bucket, key, version),
        )
        .await
    }
    async fn list_versions(
        &self,
        bucket: BucketId,
        prefix: &str,
        from: VersionsFrom<'_>,
        limit: usize,
    ) -> Result<Vec<VersionEntry>, StorageError> {
        timed(
            "list_versions",
            self.inner.data.list_versions(bucket, prefix, from, limit),
        )
        .await
    }
    async fn set_bucket_versioning(
        &self,
        bucket: &BucketRecord,
        state: VersioningState,
    ) -> Result<(), StorageError> {
        timed(
            "set_bucket_versioning",
            self.inner.data.set_bucket_versioning(bucket, state),
        )
        .await
    }
    async fn list_objects(
        &self,
        bucket: BucketId,
        prefix: &str,
        start: Bound<&str>,
        limit: usize,
    ) -> Result<Vec<ListEntry>, StorageError> {
        timed(
            "list_objects",
            self.inner.data.list_objects(bucket, prefix, start, limit),
        )
        .await
    }
    async fn create_upload(
        &self,
        bucket: BucketId,
        upload: &UploadRecord,
    ) -> Result<(), StorageError> {
        timed(
            "create_upload",
            self.inner.data.create_upload(bucket, upload),
        )
        .await
    }
    async fn get_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<Option<UploadRecord>, StorageError> {
        timed(
            "get_upload",
            self.inner.data.get_upload(bucket, key, upload_id),
        )
        .await
    }
    async fn put_part(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
        part: &PartRecord,
    ) -> Result<(), StorageError> {
        timed(
            "put_part",
            self.inner.data.put_part(bucket, key, upload_id, part),
        )
        .await
    }
    async fn list_parts(
        &self,
        upload_id: &UploadId,
        after: u32,
        limit: usize,
    ) -> Result<Vec<PartRecord>, StorageError> {
        timed(
            "list_parts",
            self.inner.data.list_parts(upload_id, after, limit),
        )
        .await
    }
    async fn list_uploads(
        &self,
        bucket: BucketId,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<UploadRecord>, StorageError> {
        timed(
            "list_uploads",
            self.inner.data.list_uploads(bucket, prefix, after, limit),
        )
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
        timed(
            "complete_upload",
            self.inner
                .data
                .complete_upload(bucket, key, upload_id, head, cond),
        )
        .await
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
        timed(
            "complete_version",
            self.inner
                .data
                .complete_version(bucket, key, upload_id, head, mode, cond),
        )
        .await
    }
    async fn abort_upload(
        &self,
        bucket: BucketId,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<(), StorageError> {
        timed(
            "abort_upload",
            self.inner.data.abort_upload(bucket, key, upload_id),
        )
        .await
    }
}

#[async_trait]
impl Maintenance for MeteredStorage {
    async fn fsck(&self, min_age: Duration) -> Result<FsckReport, StorageError> {
        timed("fsck", self.inner.maintenance.fsck(min_age)).await
    }
    async fn repair(&self) -> Result<RepairReport, StorageError> {
        timed("repair", self.inner.maintenance.repair()).await
    }
    fn gc_stats(&self) -> GcSnapshot {
        self.inner.maintenance.gc_stats()
    }
    async fn hold_lease(&self, lease: Lease, ttl: Duration) -> Result<bool, StorageError> {
        timed("hold_lease", self.inner.maintenance.hold_lease(lease, ttl)).await
    }
}

#[async_trait]
impl StatusStore for MeteredStorage {
    async fn put_status(
        &self,
        kind: StatusKind,
        id: &str,
        doc: &str,
        ttl: Duration,
    ) -> Result<(), StorageError> {
        timed(
            "put_status",
            self.inner.statuses.put_status(kind, id, doc, ttl),
        )
        .await
    }
    async fn statuses(&self, kind: StatusKind) -> Result<Vec<(String, String)>, StorageError> {
        timed("statuses", self.inner.statuses.statuses(kind)).await
    }
    async fn nodes(&self) -> Result<Vec<NodeStatus>, StorageError> {
        timed("nodes", self.inner.statuses.nodes()).await
    }
}

#[async_trait]
impl KeyStore for MeteredStorage {
    async fn create_key(&self, key: &KeyRecord) -> Result<(), StorageError> {
        timed("create_key", self.inner.keys.create_key(key)).await
    }
    async fn get_key(&self, id: &str) -> Result<Option<KeyRecord>, StorageError> {
        timed("get_key", self.inner.keys.get_key(id)).await
    }
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StorageError> {
        timed("list_keys", self.inner.keys.list_keys()).await
    }
    async fn delete_key(&self, id: &str) -> Result<bool, StorageError> {
        timed("delete_key", self.inner.keys.delete_key(id)).await
    }
    async fn keys_epoch(&self) -> Result<String, StorageError> {
        timed("keys_epoch", self.inner.keys.keys_epoch()).await
    }
}
