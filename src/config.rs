//! Configuration: a TOML file, then `S3GW_*` environment variables, then
//! command-line flags, in increasing precedence; and the root credentials.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::time::Duration;

use clap::Args;
use rand::Rng;
use serde::Deserialize;

use crate::storage::cassandra::options::{
    check_keyspace, parse_consistency, CassandraOptions, Replication, COMMIT_DEADLINE,
    DEFAULT_INDEX_SHARDS, RECHECK_AFTER, SWEEP_MARGIN,
};

/// Flags of `s3gw serve`; each also reads an environment variable.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "S3GW_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:9000].
    #[arg(long, env = "S3GW_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address of the dashboard's own listener, which never serves S3;
    /// no dashboard when unset [default: unset].
    #[arg(long, env = "S3GW_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// Directory of the embedded store [default: ./data].
    #[arg(long, env = "S3GW_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Region reported and expected [default: us-east-1].
    #[arg(long, env = "S3GW_REGION")]
    pub region: Option<String>,
    /// Domain for virtual-hosted-style requests (`<bucket>.<domain>`).
    #[arg(long, env = "S3GW_DOMAIN")]
    pub domain: Option<String>,
    /// Chunk size in bytes for newly written objects [default: 1 MiB].
    #[arg(long, env = "S3GW_CHUNK_SIZE")]
    pub chunk_size: Option<u32>,
    /// Seconds a replaced blob is kept for in-flight reads [default: 900].
    #[arg(long, env = "S3GW_GC_GRACE_SECS")]
    pub gc_grace_secs: Option<u64>,
    /// Where objects live [default: embedded].
    #[arg(long, env = "S3GW_BACKEND", value_enum)]
    pub backend: Option<BackendKind>,
    /// Chunks of one upload being stored at once [default: 4].
    #[arg(long, env = "S3GW_CHUNKS_IN_FLIGHT")]
    pub chunks_in_flight: Option<usize>,
    /// Connections served at once; further ones wait to be accepted
    /// [default: 1024].
    #[arg(long, env = "S3GW_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Days after which an unfinished multipart upload is aborted; 0 never [default: 7].
    #[arg(long, env = "S3GW_ABORT_UPLOADS_AFTER_DAYS")]
    pub abort_uploads_after_days: Option<u32>,
    /// This gateway's name on the dashboard and in metrics [default: <hostname>:<port>].
    #[arg(long, env = "S3GW_GATEWAY_ID")]
    pub gateway_id: Option<String>,
    /// Seconds between counts of every bucket's objects and bytes for the
    /// dashboard (one gateway counts for all) [default: 60].
    #[arg(long, env = "S3GW_USAGE_SCAN_SECS")]
    pub usage_scan_secs: Option<u64>,
    /// Seconds between runs of the garbage collector (tests only) [default: 30].
    #[arg(long, env = "S3GW_GC_INTERVAL_SECS", hide = true)]
    pub gc_interval_secs: Option<u64>,
    #[command(flatten)]
    pub cassandra: CassandraArgs,
}

/// The storage backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Local disk under the data directory (single machine).
    #[default]
    Embedded,
    /// Apache Cassandra or ScyllaDB.
    Cassandra,
}

/// Flags of the Cassandra backend; the file form is the `[cassandra]` table.
#[derive(Debug, Args, Default)]
pub struct CassandraArgs {
    /// Nodes to contact first, comma-separated host:port [default: 127.0.0.1:9042].
    #[arg(
        long = "cassandra-contact-points",
        env = "S3GW_CASSANDRA_CONTACT_POINTS",
        value_delimiter = ','
    )]
    pub contact_points: Option<Vec<String>>,
    /// Keyspace [default: s3gw].
    #[arg(long = "cassandra-keyspace", env = "S3GW_CASSANDRA_KEYSPACE")]
    pub keyspace: Option<String>,
    /// Replication when the keyspace is created: N, or dc1:N,dc2:M [default: 1].
    #[arg(long = "cassandra-replication", env = "S3GW_CASSANDRA_REPLICATION")]
    pub replication: Option<String>,
    /// Consistency level of reads and writes [default: LOCAL_QUORUM].
    #[arg(long = "cassandra-consistency", env = "S3GW_CASSANDRA_CONSISTENCY")]
    pub consistency: Option<String>,
    /// Datacenter whose nodes are preferred.
    #[arg(long = "cassandra-local-dc", env = "S3GW_CASSANDRA_LOCAL_DC")]
    pub local_dc: Option<String>,
    /// Client-side timeout of one statement, in ms [default: 10000].
    #[arg(
        long = "cassandra-request-timeout-ms",
        env = "S3GW_CASSANDRA_REQUEST_TIMEOUT_MS"
    )]
    pub request_timeout_ms: Option<u64>,
    /// Shards of each bucket's key index, when the keyspace is created [default: 16].
    #[arg(long = "cassandra-index-shards", env = "S3GW_CASSANDRA_INDEX_SHARDS")]
    pub index_shards: Option<u16>,
    /// Seconds an upload may take from its first byte to its commit; the
    /// blobs of uploads that never committed are swept after it [default: 21600].
    #[arg(
        long = "cassandra-commit-deadline-secs",
        env = "S3GW_CASSANDRA_COMMIT_DEADLINE_SECS"
    )]
    pub commit_deadline_secs: Option<u64>,
    /// Seconds the sweep waits past a commit deadline (tests only) [default: 300].
    #[arg(
        long = "cassandra-sweep-margin-secs",
        env = "S3GW_CASSANDRA_SWEEP_MARGIN_SECS",
        hide = true
    )]
    pub sweep_margin_secs: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileCassandra {
    contact_points: Option<Vec<String>>,
    keyspace: Option<String>,
    replication: Option<String>,
    consistency: Option<String>,
    local_dc: Option<String>,
    request_timeout_ms: Option<u64>,
    index_shards: Option<u16>,
    commit_deadline_secs: Option<u64>,
}

/// The backend with its settings.
#[derive(Debug, Clone)]
pub enum Backend {
    Embedded,
    Cassandra(Box<CassandraOptions>),
}

fn cassandra_options(
    args: &CassandraArgs,
    file: FileCassandra,
    gc_grace_secs: u64,
) -> Result<CassandraOptions, String> {
    let contact_points = args
        .contact_points
        .clone()
        .or(file.contact_points)
        .unwrap_or_else(|| vec!["127.0.0.1:9042".into()]);
    let contact_points: Vec<String> = contact_points
        .into_iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if contact_points.is_empty() {
        return Err("cassandra contact points: give at least one host:port".into());
    }
    let keyspace = args
        .keyspace
        .clone()
        .or(file.keyspace)
        .unwrap_or_else(|| "s3gw".into());
    check_keyspace(&keyspace)?;
    let replication = Replication::parse(
        args.replication
            .as_deref()
            .or(file.replication.as_deref())
            .unwrap_or("1"),
    )?;
    let consistency = parse_consistency(
        args.consistency
            .as_deref()
            .or(file.consistency.as_deref())
            .unwrap_or("LOCAL_QUORUM"),
    )?;
    let timeout_ms = args
        .request_timeout_ms
        .or(file.request_timeout_ms)
        .unwrap_or(10_000)
        .max(100);
    let index_shards = args
        .index_shards
        .or(file.index_shards)
        .unwrap_or(DEFAULT_INDEX_SHARDS);
    if !(1..=1024).contains(&index_shards) {
        return Err("cassandra index_shards must be between 1 and 1024".into());
    }
    let commit_deadline = args
        .commit_deadline_secs
        .or(file.commit_deadline_secs)
        .map_or(COMMIT_DEADLINE, Duration::from_secs);
    if commit_deadline < Duration::from_secs(2) {
        return Err("cassandra commit_deadline_secs must be at least 2".into());
    }
    Ok(CassandraOptions {
        contact_points,
        keyspace,
        replication,
        consistency,
        local_dc: args
            .local_dc
            .clone()
            .or(file.local_dc)
            .filter(|s| !s.is_empty()),
        request_timeout: Duration::from_millis(timeout_ms),
        index_shards,
        gc_grace: Duration::from_secs(gc_grace_secs),
        connect_for: None,
        clock_offset_us: 0,
        commit_deadline,
        sweep_margin: args
            .sweep_margin_secs
            .map_or(SWEEP_MARGIN, Duration::from_secs),
        // Longer than a writer can take between its read and its write.
        recheck_after: RECHECK_AFTER.max(Duration::from_millis(timeout_ms.saturating_mul(3))),
        pause_before_head_write: Duration::ZERO,
    })
}

/// The file form; every field optional.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    admin_listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    region: Option<String>,
    domain: Option<String>,
    chunk_size: Option<u32>,
    gc_grace_secs: Option<u64>,
    upload_chunks_in_flight: Option<usize>,
    get_prefetch_chunks: Option<usize>,
    max_buffered_chunks: Option<usize>,
    body_idle_timeout_secs: Option<u64>,
    body_grace_secs: Option<u64>,
    body_min_bytes_per_sec: Option<u64>,
    max_connections: Option<usize>,
    abort_uploads_after_days: Option<u32>,
    gateway_id: Option<String>,
    usage_scan_secs: Option<u64>,
    backend: Option<BackendKind>,
    cassandra: Option<FileCassandra>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The dashboard's listener (`crate::dashboard::admin`); none if unset.
    pub admin_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub region: String,
    pub domain: Option<String>,
    pub chunk_size: u32,
    pub gc_grace_secs: u64,
    pub upload_chunks_in_flight: usize,
    pub get_prefetch_chunks: usize,
    /// Upload chunk buffers for the whole gateway.
    pub max_buffered_chunks: usize,
    /// A request body that sends nothing this long gets `RequestTimeout`.
    pub body_idle_timeout_secs: u64,
    /// Waiting on a request body allowed before `body_min_bytes_per_sec`
    /// applies (`http::pace`).
    pub body_grace_secs: u64,
    /// After the grace, each received byte of a body buys 1/this seconds
    /// of waiting for more; slower bodies get `RequestTimeout`. 0: no minimum.
    pub body_min_bytes_per_sec: u64,
    /// Connections served at once; the accept loop waits while all are open.
    pub max_connections: usize,
    /// Multipart uploads initiated longer ago are aborted; 0 never.
    pub abort_uploads_after_days: u32,
    /// Seconds between runs of the garbage collector.
    pub gc_interval_secs: u64,
    /// Name on the dashboard and in metrics.
    pub gateway_id: String,
    /// Seconds between bucket usage counts.
    pub usage_scan_secs: u64,
    pub backend: Backend,
}

/// The most chunks of one upload stored at once: the sweep of an
/// unfinished upload's blob looks this far past a gap for more chunks.
pub const MAX_CHUNKS_IN_FLIGHT: usize = 64;
pub const MIN_CHUNK_SIZE: u32 = 64 * 1024;
pub const MAX_CHUNK_SIZE: u32 = 8 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            admin_listen: None,
            data_dir: PathBuf::from("./data"),
            region: "us-east-1".into(),
            domain: None,
            chunk_size: 1024 * 1024,
            gc_grace_secs: 900,
            upload_chunks_in_flight: 4,
            get_prefetch_chunks: 4,
            max_buffered_chunks: 256,
            body_idle_timeout_secs: 60,
            body_grace_secs: 20,
            body_min_bytes_per_sec: 500,
            max_connections: 1024,
            abort_uploads_after_days: 7,
            gc_interval_secs: 30,
            gateway_id: default_gateway_id(SocketAddr::from(([127, 0, 0, 1], 9000))),
            usage_scan_secs: 60,
            backend: Backend::Embedded,
        }
    }
}

/// `<hostname>:<port>`: unique among gateways on different hosts, and
/// among gateways of one host on different ports.
fn default_gateway_id(listen: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| listen.ip().to_string());
    format!("{host}:{}", listen.port())
}

impl Config {
    pub fn resolve(args: &ServeArgs) -> Result<Config, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("invalid {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let d = Config::default();
        let gc_grace_secs = args
            .gc_grace_secs
            .or(file.gc_grace_secs)
            .unwrap_or(d.gc_grace_secs);
        let backend = match args.backend.or(file.backend).unwrap_or_default() {
            BackendKind::Embedded => Backend::Embedded,
            BackendKind::Cassandra => Backend::Cassandra(Box::new(cassandra_options(
                &args.cassandra,
                file.cassandra.unwrap_or_default(),
                gc_grace_secs,
            )?)),
        };
        let cfg = Config {
            listen: args.listen.or(file.listen).unwrap_or(d.listen),
            admin_listen: args.admin_listen.or(file.admin_listen),
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or(d.data_dir),
            region: args.region.clone().or(file.region).unwrap_or(d.region),
            domain: args
                .domain
                .clone()
                .or(file.domain)
                .filter(|s| !s.is_empty()),
            chunk_size: args.chunk_size.or(file.chunk_size).unwrap_or(d.chunk_size),
            gc_grace_secs,
            upload_chunks_in_flight: args
                .chunks_in_flight
                .or(file.upload_chunks_in_flight)
                .unwrap_or(d.upload_chunks_in_flight)
                .clamp(1, MAX_CHUNKS_IN_FLIGHT),
            get_prefetch_chunks: file
                .get_prefetch_chunks
                .unwrap_or(d.get_prefetch_chunks)
                .max(1),
            max_buffered_chunks: file
                .max_buffered_chunks
                .unwrap_or(d.max_buffered_chunks)
                .max(1),
            body_idle_timeout_secs: file
                .body_idle_timeout_secs
                .unwrap_or(d.body_idle_timeout_secs)
                .max(1),
            body_grace_secs: file.body_grace_secs.unwrap_or(d.body_grace_secs).max(1),
            body_min_bytes_per_sec: file
                .body_min_bytes_per_sec
                .unwrap_or(d.body_min_bytes_per_sec),
            max_connections: args
                .max_connections
                .or(file.max_connections)
                .unwrap_or(d.max_connections)
                .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
            abort_uploads_after_days: args
                .abort_uploads_after_days
                .or(file.abort_uploads_after_days)
                .unwrap_or(d.abort_uploads_after_days),
            gc_interval_secs: args.gc_interval_secs.unwrap_or(d.gc_interval_secs).max(1),
            gateway_id: String::new(),
            usage_scan_secs: args
                .usage_scan_secs
                .or(file.usage_scan_secs)
                .unwrap_or(d.usage_scan_secs)
                .max(1),
            backend,
        };
        let cfg = Config {
            gateway_id: args
                .gateway_id
                .clone()
                .or(file.gateway_id)
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| default_gateway_id(cfg.listen)),
            ..cfg
        };
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&cfg.chunk_size) {
            return Err(format!(
                "chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes"
            ));
        }
        Ok(cfg)
    }

    /// The limits on waiting for a request body (`http::pace`).
    pub fn body_pace(&self) -> crate::http::BodyPace {
        crate::http::BodyPace {
            idle: Duration::from_secs(self.body_idle_timeout_secs),
            grace: Duration::from_secs(self.body_grace_secs),
            min_rate: self.body_min_bytes_per_sec,
        }
    }

    /// The age after which unfinished multipart uploads are aborted;
    /// `None` when that is disabled (0 days).
    pub fn abort_uploads_after(&self) -> Option<Duration> {
        match self.abort_uploads_after_days {
            0 => None,
            days => Some(Duration::from_secs(u64::from(days) * 86_400)),
        }
    }
}

/// The root access key pair.
pub struct RootCredentials {
    pub access_key: String,
    pub secret_key: crate::auth::SecretKey,
    /// Where they came from, for the start-up banner.
    pub origin: CredentialOrigin,
}

pub enum CredentialOrigin {
    Environment,
    Stored(PathBuf),
    /// Generated now; the secret is shown once, on this start only.
    Generated(PathBuf),
}

const CREDENTIALS_FILE: &str = "root-credentials.toml";

/// Shortest root secret accepted (in characters).
pub const MIN_SECRET_CHARS: usize = 8;

#[derive(Deserialize)]
struct StoredCredentials {
    access_key: String,
    secret_key: String,
}

fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// Root credentials from `S3GW_ROOT_ACCESS_KEY`/`S3GW_ROOT_SECRET_KEY`,
/// else from the data directory, else freshly generated and stored there
/// (mode 0600).
pub fn root_credentials(data_dir: &Path) -> Result<RootCredentials, String> {
    let env_ak = std::env::var("S3GW_ROOT_ACCESS_KEY")
        .ok()
        .filter(|s| !s.is_empty());
    let env_sk = std::env::var("S3GW_ROOT_SECRET_KEY")
        .ok()
        .filter(|s| !s.is_empty());
    match (env_ak, env_sk) {
        (Some(_), Some(sk)) if sk.chars().count() < MIN_SECRET_CHARS => {
            return Err(format!(
                "S3GW_ROOT_SECRET_KEY is shorter than {MIN_SECRET_CHARS} characters"
            ))
        }
        (Some(ak), Some(sk)) => {
            return Ok(RootCredentials {
                access_key: ak,
                secret_key: crate::auth::SecretKey::new(sk),
                origin: CredentialOrigin::Environment,
            })
        }
        (None, None) => {}
        _ => {
            return Err("set both S3GW_ROOT_ACCESS_KEY and S3GW_ROOT_SECRET_KEY, or neither".into())
        }
    }
    let path = data_dir.join(CREDENTIALS_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let stored: StoredCredentials =
            toml::from_str(&text).map_err(|e| format!("invalid {}: {e}", path.display()))?;
        if stored.secret_key.chars().count() < MIN_SECRET_CHARS {
            return Err(format!(
                "the secret in {} is shorter than {MIN_SECRET_CHARS} characters",
                path.display()
            ));
        }
        if crate::private_fs::shared_with_others(&path).unwrap_or(false) {
            tracing::warn!(
                path = %path.display(),
                "the root credentials file is readable by other users: chmod 600 it"
            );
        }
        return Ok(RootCredentials {
            access_key: stored.access_key,
            secret_key: crate::auth::SecretKey::new(stored.secret_key),
            origin: CredentialOrigin::Stored(path),
        });
    }
    let access_key = format!(
        "S3GW{}",
        random_string(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    );
    let secret = random_string(
        40,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    );
    crate::private_fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    write_private(
        &path,
        &format!("access_key = \"{access_key}\"\nsecret_key = \"{secret}\"\n"),
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(RootCredentials {
        access_key,
        secret_key: crate::auth::SecretKey::new(secret),
        origin: CredentialOrigin::Generated(path),
    })
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = crate::private_fs::create_new(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9100\"\nregion = \"eu-west-1\"\nchunk_size = 262144\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path.clone()),
            region: Some("us-west-2".into()),
            ..Default::default()
        };
        let c = Config::resolve(&args).unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.region, "us-west-2");
        assert_eq!(c.chunk_size, 262144);
        assert_eq!(c.data_dir, PathBuf::from("./data"));

        assert!(matches!(c.backend, Backend::Embedded));

        std::fs::write(
            &path,
            "backend = \"cassandra\"\n[cassandra]\nkeyspace = \"ks1\"\nreplication = \"dc1:3\"\n",
        )
        .unwrap();
        let args2 = ServeArgs {
            config: Some(path.clone()),
            cassandra: CassandraArgs {
                consistency: Some("quorum".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = Config::resolve(&args2).unwrap();
        let Backend::Cassandra(o) = c.backend else {
            panic!("expected the cassandra backend")
        };
        assert_eq!(o.keyspace, "ks1");
        assert_eq!(o.contact_points, ["127.0.0.1:9042"]);
        assert_eq!(
            o.replication,
            Replication::PerDatacenter(vec![("dc1".into(), 3)])
        );
        assert_eq!(o.consistency, scylla::statement::Consistency::Quorum);
        std::fs::write(
            &path,
            "backend = \"cassandra\"\n[cassandra]\nkeyspace = \"a-b\"\n",
        )
        .unwrap();
        assert!(Config::resolve(&args).is_err());

        std::fs::write(&path, "nonsense = 1\n").unwrap();
        assert!(Config::resolve(&args).is_err());
        std::fs::write(&path, "chunk_size = 10\n").unwrap();
        assert!(Config::resolve(&args).is_err());
    }

    #[test]
    fn abort_uploads_after_days_default_zero_and_precedence() {
        let week = Some(Duration::from_secs(7 * 86_400));
        let c = Config::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(c.abort_uploads_after_days, 7);
        assert_eq!(c.abort_uploads_after(), week);
        assert_eq!(Config::default().abort_uploads_after(), week);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "abort_uploads_after_days = 0\n").unwrap();
        let file_only = ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        let c = Config::resolve(&file_only).unwrap();
        assert_eq!(c.abort_uploads_after_days, 0);
        assert_eq!(c.abort_uploads_after(), None, "0 disables");

        // A flag (or its environment variable: clap fills the same field)
        // wins over the file.
        let flag = ServeArgs {
            config: Some(path),
            abort_uploads_after_days: Some(3),
            ..Default::default()
        };
        let c = Config::resolve(&flag).unwrap();
        assert_eq!(
            c.abort_uploads_after(),
            Some(Duration::from_secs(3 * 86_400))
        );
    }

    #[test]
    fn slow_client_limits_from_the_file_and_flags() {
        let c = Config::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(
            (
                c.body_grace_secs,
                c.body_min_bytes_per_sec,
                c.max_connections
            ),
            (20, 500, 1024)
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "body_grace_secs = 5\nbody_min_bytes_per_sec = 0\nmax_connections = 64\n",
        )
        .unwrap();
        let file_only = ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        let c = Config::resolve(&file_only).unwrap();
        assert_eq!(
            (
                c.body_grace_secs,
                c.body_min_bytes_per_sec,
                c.max_connections
            ),
            (5, 0, 64)
        );
        std::fs::write(&path, "body_grace_secs = 0\nmax_connections = 0\n").unwrap();
        let flag = ServeArgs {
            config: Some(path),
            max_connections: Some(8),
            ..Default::default()
        };
        let c = Config::resolve(&flag).unwrap();
        assert_eq!((c.body_grace_secs, c.max_connections), (1, 8));
    }

    /// The flag and its environment variable, as clap sees them (without
    /// changing this process's environment).
    #[test]
    fn abort_uploads_after_days_flag_and_env() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let cli = Cli::try_parse_from(["s3gw", "--abort-uploads-after-days", "0"]).unwrap();
        assert_eq!(cli.serve.abort_uploads_after_days, Some(0));
        let cmd = Cli::command();
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some("abort-uploads-after-days"))
            .unwrap();
        assert_eq!(
            arg.get_env(),
            Some(std::ffi::OsStr::new("S3GW_ABORT_UPLOADS_AFTER_DAYS"))
        );
        assert!(Cli::try_parse_from(["s3gw", "--abort-uploads-after-days", "-1"]).is_err());
    }

    #[test]
    fn max_connections_flag_and_env() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let cli = Cli::try_parse_from(["s3gw", "--max-connections", "16"]).unwrap();
        assert_eq!(cli.serve.max_connections, Some(16));
        let cmd = Cli::command();
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some("max-connections"))
            .unwrap();
        assert_eq!(
            arg.get_env(),
            Some(std::ffi::OsStr::new("S3GW_MAX_CONNECTIONS"))
        );
    }
}
