//! What a gateway tells operators: Prometheus metrics (through the
//! `metrics` crate and its Prometheus exporter), one access log line per
//! request, and the recent-traffic window that its heartbeat carries to the
//! dashboard. `docs/operations.md` lists every metric.

pub mod access;
pub mod metered;
pub mod recent;

use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::storage::GcSnapshot;

pub(crate) use crate::metric_names as names;

/// Request latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// This gateway's live figures, shared by every request.
pub struct Telemetry {
    pub gateway_id: String,
    pub started_ms: i64,
    pub recent: recent::Recent,
    pub in_flight: AtomicU64,
}

impl Telemetry {
    pub(crate) fn new(gateway_id: String) -> Self {
        Telemetry {
            gateway_id,
            started_ms: crate::storage::now_ms(),
            recent: recent::Recent::default(),
            in_flight: AtomicU64::new(0),
        }
    }
}

pub(crate) fn unix_now_s() -> i64 {
    crate::storage::now_ms().div_euclid(1000)
}

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide Prometheus recorder, installed by the first call;
/// `None` if another recorder was installed first.
pub(crate) fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            // Histogram samples wait in a buffer until rendered or drained:
            // drain it now and then so a gateway nobody scrapes stays small.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "no metrics upkeep thread");
            }
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    use names::*;
    describe_counter!(
        REQUESTS,
        "Requests answered, by S3 operation and HTTP status"
    );
    describe_histogram!(
        DURATION,
        Unit::Seconds,
        "Time from the request's arrival to the last byte of its answer, by S3 operation"
    );
    describe_counter!(
        BYTES_IN,
        Unit::Bytes,
        "Request body bytes read, by S3 operation"
    );
    describe_counter!(
        BYTES_OUT,
        Unit::Bytes,
        "Response body bytes sent, by S3 operation"
    );
    describe_gauge!(IN_FLIGHT, "Requests being served now");
    describe_counter!(ERRORS, "Error answers, by S3 error code");
    describe_histogram!(
        STORAGE_DURATION,
        Unit::Seconds,
        "Latency of storage backend calls, by call"
    );
    describe_counter!(
        STORAGE_FAILURES,
        "Failed storage backend calls, by call and kind"
    );
    describe_counter!(CHUNKS_READ, "Chunks read for GETs");
    describe_counter!(CHUNK_BYTES_READ, Unit::Bytes, "Chunk bytes read for GETs");
    describe_counter!(
        PREFETCH_READY,
        "Chunks a GET found already fetched ahead when it needed them"
    );
    describe_counter!(PREFETCH_WAITED, "Chunks a GET had to wait for");
    describe_counter!(CHUNKS_WRITTEN, "Chunks stored by uploads");
    describe_counter!(GC_RUNS, "Collector runs of this gateway");
    describe_counter!(GC_BLOBS, "Blobs the collector deleted");
    describe_counter!(GC_CHUNKS, "Chunks the collector deleted");
    describe_counter!(GC_BYTES, Unit::Bytes, "Bytes the collector deleted");
    describe_gauge!(
        GC_BACKLOG,
        "Collection work past due at the last run (queue minutes on Cassandra, queued blobs on the embedded store)"
    );
    describe_counter!(
        GC_SWEPT,
        "Blobs of uploads that never committed, released by the sweep"
    );
    describe_gauge!(
        GC_UNDECIDED,
        "Pending blobs past their deadline the last sweep could not decide on"
    );
    describe_gauge!(UPTIME, Unit::Seconds, "Seconds since the gateway started");
    describe_gauge!(INFO, "1, labelled with the version and the gateway id");
}

/// Brings the figures that live elsewhere (the collector's, uptime) up to
/// date, then renders every metric in the Prometheus text format.
pub(crate) fn render(handle: &PrometheusHandle, telemetry: &Telemetry, gc: GcSnapshot) -> String {
    use names::*;
    metrics::counter!(GC_RUNS).absolute(gc.runs);
    metrics::counter!(GC_BLOBS).absolute(gc.blobs);
    metrics::counter!(GC_CHUNKS).absolute(gc.chunks);
    metrics::counter!(GC_BYTES).absolute(gc.bytes);
    metrics::gauge!(GC_BACKLOG).set(gc.backlog as f64);
    metrics::counter!(GC_SWEPT).absolute(gc.swept_blobs);
    metrics::gauge!(GC_UNDECIDED).set(gc.pending_undecided as f64);
    let up_ms = crate::storage::now_ms() - telemetry.started_ms;
    metrics::gauge!(UPTIME).set(up_ms.max(0) as f64 / 1000.0);
    metrics::gauge!(
        INFO,
        "version" => env!("CARGO_PKG_VERSION"),
        "gateway" => telemetry.gateway_id.clone()
    )
    .set(1.0);
    handle.render()
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the log subscriber: `S3GW_LOG` filters (default `info`,
/// `scylla=warn`), lines go to stderr.
pub fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("S3GW_LOG").unwrap_or_else(|_| EnvFilter::new("info,scylla=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}
