//! The integration tests, one binary: a module per resource or concern.
//! Linking the crate and its dependencies once instead of once per file is
//! most of what `cargo test` spends compiling. The shared fixtures are in
//! `tests/common` (also used by `tests/slow_uploads.rs`, a binary of its
//! own because it changes the process's file limit and times its answers).
//!
//! Run one module with a filter: `cargo test --test it -- sdk_objects::`.

#[path = "../common/mod.rs"]
mod common;

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
mod crash;
mod dashboard;
mod file_modes;
mod gc_fsck;
mod http_raw;
mod key_contract;
mod object_tagging;
mod pending_sweep;
mod refused_requests;
mod sdk_buckets;
mod sdk_list;
mod sdk_multipart;
mod sdk_objects;
mod shutdown;
mod signed_headers;
mod signed_streaming;
mod storage_contract;
mod two_gateways;
mod upload_expiry;
mod version_contract;
