//! Metric names (all prefixed `s3gw_`): a leaf, so that every layer that
//! records a figure (storage, telemetry) can name it without importing the
//! telemetry module above it.

pub(crate) const REQUESTS: &str = "s3gw_requests_total";
pub(crate) const DURATION: &str = "s3gw_request_duration_seconds";
pub(crate) const BYTES_IN: &str = "s3gw_request_bytes_total";
pub(crate) const BYTES_OUT: &str = "s3gw_response_bytes_total";
pub(crate) const IN_FLIGHT: &str = "s3gw_requests_in_flight";
pub(crate) const ERRORS: &str = "s3gw_errors_total";
pub(crate) const STORAGE_DURATION: &str = "s3gw_storage_call_duration_seconds";
pub(crate) const STORAGE_FAILURES: &str = "s3gw_storage_call_failures_total";
pub(crate) const CHUNKS_READ: &str = "s3gw_chunks_read_total";
pub(crate) const CHUNK_BYTES_READ: &str = "s3gw_chunk_read_bytes_total";
pub(crate) const PREFETCH_READY: &str = "s3gw_prefetch_ready_total";
pub(crate) const PREFETCH_WAITED: &str = "s3gw_prefetch_waited_total";
/// Chunk statements run again after Cassandra timed them out.
pub(crate) const CASSANDRA_RETRIES: &str = "s3gw_cassandra_retries_total";
pub(crate) const CHUNKS_WRITTEN: &str = "s3gw_chunks_written_total";
pub(crate) const GC_RUNS: &str = "s3gw_gc_runs_total";
pub(crate) const GC_BLOBS: &str = "s3gw_gc_reclaimed_blobs_total";
pub(crate) const GC_CHUNKS: &str = "s3gw_gc_reclaimed_chunks_total";
pub(crate) const GC_BYTES: &str = "s3gw_gc_reclaimed_bytes_total";
pub(crate) const GC_BACKLOG: &str = "s3gw_gc_backlog";
pub(crate) const GC_SWEPT: &str = "s3gw_gc_swept_blobs_total";
pub(crate) const GC_UNDECIDED: &str = "s3gw_gc_pending_undecided";
pub(crate) const UPTIME: &str = "s3gw_uptime_seconds";
pub(crate) const INFO: &str = "s3gw_build_info";
