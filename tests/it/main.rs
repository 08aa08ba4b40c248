//! The integration tests, one binary: a module per resource or concern.
//! Linking the crate and its dependencies once instead of once per file is
//! most of what `cargo test` spends compiling. The shared fixtures are in
//! `tests/common` (also used by `tests/slow_uploads.rs`, a binary of its
//! own because it changes the process's file limit and times its answers).
//!
//! Run one module with a filter: `cargo test --test it -- sdk_objects::`.

#[path = "../common/mod.rs"]
mod common;

/// Runs each named scenario, an `async fn(Arc<dyn Storage>)` of the
/// module that calls it, on both backends: the embedded store in a fresh
/// directory, and the shared test keyspace on Cassandra (skipped with a
/// message when no Cassandra is configured). Defined before the modules
/// below, which use it.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (_d, s) = crate::common::embedded_store();
                    super::$name(s).await;
                }
            )*
        }
        mod cassandra_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(o) = crate::common::cassandra_options(
                        std::time::Duration::from_secs(900),
                    ) else {
                        return;
                    };
                    let s: std::sync::Arc<dyn s3gw::storage::Storage> =
                        std::sync::Arc::new(crate::common::open_cassandra(o).await);
                    super::$name(s).await;
                }
            )*
        }
    };
}

mod access_keys;
mod bucket_policy;
mod bucket_tagging;
mod cassandra_cli;
mod cassandra_listing;
mod cassandra_security;
mod cassandra_versions;
mod chunk_checksums_cassandra;
mod chunk_checksums_embedded;
mod complete_retry;
mod cors;
mod crash;
mod crash_versions;
mod dashboard;
mod file_modes;
mod gc_fsck;
mod http_raw;
mod key_contract;
mod lifecycle;
mod object_tagging;
mod pending_sweep;
mod post_object;
mod refused_requests;
mod sdk_buckets;
mod sdk_list;
mod sdk_multipart;
mod sdk_objects;
mod sdk_versions;
mod shutdown;
mod signed_headers;
mod signed_streaming;
mod sigv2;
mod storage_contract;
mod two_gateways;
mod upload_expiry;
mod version_contract;
mod version_listing_scale;
