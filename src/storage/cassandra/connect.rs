//! Building the driver session (with retries at start) and mapping driver
//! errors to `StorageError`: anything that means "the cluster cannot
//! answer now" becomes `Unavailable` (503), never a hang or a panic.

use std::sync::Arc;
use std::time::{Duration, Instant};

use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::client::PoolSize;
use scylla::errors::{DbError, ExecutionError, PrepareError, RequestAttemptError};
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::policies::retry::DefaultRetryPolicy;
use scylla::policies::timestamp_generator::TimestampGenerator;
use scylla::statement::SerialConsistency;

use super::options::CassandraOptions;
use super::security;
use crate::storage::StorageError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn builder(opts: &CassandraOptions) -> SessionBuilder {
    let mut lb = DefaultPolicy::builder().token_aware(true);
    if let Some(dc) = &opts.local_dc {
        lb = lb.prefer_datacenter(dc.clone()).permit_dc_failover(false);
    }
    let profile = ExecutionProfile::builder()
        .consistency(opts.consistency)
        .serial_consistency(Some(SerialConsistency::LocalSerial))
        .request_timeout(Some(opts.request_timeout))
        .load_balancing_policy(lb.build())
        .retry_policy(Arc::new(DefaultRetryPolicy::new()))
        .build();
    let mut builder = SessionBuilder::new()
        .known_nodes(&opts.contact_points)
        .connection_timeout(CONNECT_TIMEOUT)
        .pool_size(PoolSize::PerShard(opts.connections_per_node))
        .default_execution_profile_handle(profile.into_handle());
    if let Some(c) = &opts.credentials {
        builder = builder.user(c.username.clone(), c.password.expose());
    }
    if let Some(tls) = &opts.tls {
        builder = builder.tls_context(Some(tls.config.clone()));
    }
    if opts.clock_offset_us == 0 {
        builder
    } else {
        builder.timestamp_generator(Arc::new(OffsetClock(opts.clock_offset_us)))
    }
}

/// Write timestamps from this machine's clock moved by a fixed offset (µs).
struct OffsetClock(i64);

impl TimestampGenerator for OffsetClock {
    fn next_timestamp(&self) -> i64 {
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000;
        i64::try_from(now)
            .unwrap_or(i64::MAX)
            .saturating_add(self.0)
    }
}

/// Connects to the cluster, retrying with a clear message while no contact
/// point answers, for at most `opts.connect_for`.
pub(crate) async fn connect(opts: &CassandraOptions) -> Result<Session, StorageError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match builder(opts).build().await {
            Ok(session) => return Ok(session),
            Err(e) => {
                let error = e.to_string();
                if let Some(why) = security::hopeless(&error) {
                    return Err(StorageError::Unavailable(format!(
                        "cannot connect to Cassandra at {}: {why} ({error})",
                        opts.contact_points.join(", ")
                    )));
                }
                let waited = started.elapsed();
                if opts.connect_for.is_some_and(|limit| waited + delay > limit) {
                    return Err(StorageError::Unavailable(format!(
                        "cannot reach Cassandra at {} after {}s: {e}",
                        opts.contact_points.join(", "),
                        waited.as_secs()
                    )));
                }
                tracing::warn!(
                    contact_points = %opts.contact_points.join(", "),
                    error = %format_args!("{error}{}", security::retry_hint(&error, opts.tls.is_some())),
                    retry_in_ms = delay.as_millis() as u64,
                    "cannot reach Cassandra; retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

fn db_unavailable(e: &DbError) -> bool {
    matches!(
        e,
        DbError::Unavailable { .. }
            | DbError::Overloaded
            | DbError::IsBootstrapping
            | DbError::ReadTimeout { .. }
            | DbError::WriteTimeout { .. }
            | DbError::ReadFailure { .. }
            | DbError::WriteFailure { .. }
            | DbError::TruncateError
            | DbError::RateLimitReached { .. }
    )
}

fn attempt_unavailable(e: &RequestAttemptError) -> bool {
    match e {
        // A node that cannot read its roles refuses every statement until
        // quorum is back: as unavailable as the statement's own quorum.
        RequestAttemptError::DbError(DbError::Unauthorized | DbError::AuthenticationError, m) => {
            security::auth_unavailable(m)
        }
        RequestAttemptError::DbError(db, _) => db_unavailable(db),
        RequestAttemptError::BrokenConnectionError(_)
        | RequestAttemptError::UnableToAllocStreamId => true,
        _ => false,
    }
}

/// Maps a failed statement: lost quorum (the statement's, or that of the
/// roles a node checks it against), timeouts and lost connections are
/// `Unavailable`; the rest (bad statements, schema errors, a missing
/// permission) `Internal`.
pub(crate) fn exec_err(e: ExecutionError) -> StorageError {
    let unavailable = match &e {
        ExecutionError::LastAttemptError(a) => attempt_unavailable(a),
        ExecutionError::EmptyPlan
        | ExecutionError::ConnectionPoolError(_)
        | ExecutionError::RequestTimeout(_)
        | ExecutionError::SchemaAgreementError(_) => true,
        _ => false,
    };
    if unavailable {
        StorageError::Unavailable(e.to_string())
    } else {
        StorageError::internal(e)
    }
}

pub(crate) fn prepare_err(e: PrepareError) -> StorageError {
    match e {
        PrepareError::ConnectionPoolError(_) => StorageError::Unavailable(e.to_string()),
        _ => StorageError::internal(e),
    }
}

/// A result that did not have the shape the statement promises.
pub(crate) fn shape_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("unexpected result: {e}"))
}
