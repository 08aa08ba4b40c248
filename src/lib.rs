//! s3gw: an S3-compatible object storage gateway.

pub mod access;
pub mod admin_api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod http;
pub mod janitor;
pub mod lifecycle;
pub mod malloc_tuning;
pub mod md5_lanes;
pub mod metric_names;
pub mod private_fs;
pub mod s3;
pub mod server;
pub mod settings;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod types;
pub mod xml;
