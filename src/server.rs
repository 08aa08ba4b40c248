//! The accept loops of the S3 listener and of the admin listener (the
//! dashboard's own origin): one hyper HTTP/1.1 connection per socket,
//! TCP_NODELAY, bounded headers, a cap on open connections
//! (`max_connections`; [`MAX_ADMIN_CONNECTIONS`]), and a graceful drain on
//! shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::access::{Credentials, KeyCache};
use crate::config::{Backend, Config};
use crate::dashboard::admin::Admin;
use crate::janitor;
use crate::s3;
use crate::state::AppState;
use crate::storage::cassandra::{CassandraOptions, CassandraStorage};
use crate::storage::embedded::EmbeddedStorage;
use crate::storage::{KeyStore, Maintenance, StatusStore, Storage, StorageError, Stores};
use crate::telemetry::metered::MeteredStorage;
use crate::telemetry::Telemetry;

/// How long a client may take to send its request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// The least time between two warnings that the connection cap is reached.
const FULL_WARNING_EVERY: Duration = Duration::from_secs(60);
/// Connections the admin listener serves at once (a few browsers).
pub(crate) const MAX_ADMIN_CONNECTIONS: usize = 64;

/// Opens the embedded store and builds the shared state.
pub fn embedded_state(
    config: Config,
    credentials: Credentials,
) -> Result<Arc<AppState>, StorageError> {
    let store = EmbeddedStorage::open(&config.data_dir, Duration::from_secs(config.gc_grace_secs))?;
    store.spawn_collector(Duration::from_secs(config.gc_interval_secs));
    let store = Arc::new(store);
    spawn_janitor(&config, store.clone());
    Ok(state_with(config, store, credentials))
}

/// Connects to Cassandra (retrying while it is unreachable), creates or
/// upgrades the schema, and builds the shared state.
pub(crate) async fn cassandra_state(
    config: Config,
    options: CassandraOptions,
    credentials: Credentials,
) -> Result<Arc<AppState>, StorageError> {
    let store = CassandraStorage::open(options).await?;
    store.spawn_collector(Duration::from_secs(config.gc_interval_secs));
    let store = Arc::new(store);
    spawn_janitor(&config, store.clone());
    Ok(state_with(config, store, credentials))
}

/// Aborts abandoned multipart uploads in the background, unless disabled.
fn spawn_janitor(config: &Config, store: Arc<dyn Storage>) {
    if let Some(age) = config.abort_uploads_after() {
        janitor::spawn(store, age);
    }
}

/// The shared state around a store that is already open: the backend
/// handed out as its four contracts, each call timed, and the access keys
/// it stores cached (filled by the first poll, a second later, or at once
/// by [`load_keys`]).
pub fn state_with<B: Storage + Maintenance + StatusStore + KeyStore>(
    config: Config,
    backend: Arc<B>,
    credentials: Credentials,
) -> Arc<AppState> {
    let upload_slots = Arc::new(tokio::sync::Semaphore::new(config.max_buffered_chunks));
    // Installs the metrics recorder before the first request records.
    let _ = crate::telemetry::prometheus();
    let telemetry = Arc::new(Telemetry::new(config.gateway_id.clone()));
    let stores = MeteredStorage::wrap(Stores::of(backend));
    let keys = KeyCache::new(stores.keys.clone(), credentials.sealer);
    keys.spawn_poller();
    crate::lifecycle::spawn(
        stores.data.clone(),
        stores.maintenance.clone(),
        config.lifecycle_day_ms(),
    );
    Arc::new(AppState {
        upload_slots,
        config,
        storage: stores.data,
        maintenance: stores.maintenance,
        statuses: stores.statuses,
        key_store: stores.keys,
        keys,
        root_access_key: credentials.root_access_key,
        root_secret_key: credentials.root_secret_key,
        telemetry,
    })
}

/// Builds the state for the configured backend.
pub async fn state(
    config: Config,
    credentials: Credentials,
) -> Result<Arc<AppState>, StorageError> {
    let state = match config.backend.clone() {
        Backend::Embedded => embedded_state(config, credentials)?,
        Backend::Cassandra(options) => cassandra_state(config, *options, credentials).await?,
    };
    load_keys(&state).await;
    Ok(state)
}

/// Loads the stored access keys now rather than at the first poll.
pub async fn load_keys(state: &AppState) {
    if let Err(e) = state.keys.reload().await {
        tracing::warn!(error = %e, "cannot load the access keys yet; retrying every second");
    }
}

/// Serves S3 on `listener` and, if given, the dashboard on `admin` (an
/// origin of its own, `crate::dashboard::admin`) until `shutdown`
/// completes; then both stop accepting and drain.
pub async fn serve_with_admin(
    listener: TcpListener,
    admin: Option<TcpListener>,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let address = listener
        .local_addr()
        .map_or_else(|_| state.config.listen.to_string(), |a| a.to_string());
    // Stops beating when serving stops (the guard aborts the tasks).
    let _beating = crate::dashboard::beat::spawn(state.clone(), address);
    let (stop, stopped) = watch::channel(false);
    let s3_state = state.clone();
    let s3 = accept_loop(
        listener,
        state.config.max_connections,
        move |req, _peer| s3::handle(s3_state.clone(), req),
        stopped.clone(),
    );
    let dashboard = async move {
        if let Some(listener) = admin {
            let admin = Admin::new(state);
            let handler =
                move |req, peer| crate::dashboard::admin::handle(admin.clone(), req, peer);
            accept_loop(listener, MAX_ADMIN_CONNECTIONS, handler, stopped).await;
        }
    };
    let trigger = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    tokio::join!(s3, dashboard, trigger);
}

/// Accepts connections on `listener`, at most `cap` open at once, and
/// serves each with `handler` (given the request and the client's
/// address) until `stop` turns true; then drains requests in flight.
async fn accept_loop<H, F, B>(
    listener: TcpListener,
    cap: usize,
    handler: H,
    mut stop: watch::Receiver<bool>,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(crate::http::head::MAX_HEAD_BYTES)
        .keep_alive(true);
    let open = Arc::new(Semaphore::new(cap));
    let mut warned_full: Option<tokio::time::Instant> = None;
    loop {
        if open.available_permits() == 0
            && warned_full.is_none_or(|t| t.elapsed() >= FULL_WARNING_EVERY)
        {
            tracing::warn!(
                max_connections = cap,
                "connection limit reached; new connections wait to be accepted"
            );
            warned_full = Some(tokio::time::Instant::now());
        }
        tokio::select! {
            next = next_connection(&listener, &open) => {
                let Some((stream, peer, permit)) = next else { break };
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "could not set TCP_NODELAY");
                }
                let handler = handler.clone();
                let service = service_fn(move |req| {
                    let answer = handler(req, peer);
                    async move { Ok::<_, Infallible>(answer.await) }
                });
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
            _ = stop.wait_for(|stop| *stop) => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: draining requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("drain timed out; closing"),
    }
}

/// The next connection, once fewer than `max_connections` are open: while
/// all are, new ones wait in the listen backlog (the kernel completes their
/// handshakes; they are served when a connection closes). `None` only if
/// the cap's semaphore is closed, which never happens.
async fn next_connection(
    listener: &TcpListener,
    open: &Arc<Semaphore>,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    let permit = open.clone().acquire_owned().await.ok()?;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => return Some((stream, peer, permit)),
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
