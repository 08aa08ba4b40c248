//! Configuration: a TOML file, then `S3GW_*` environment variables, then
//! command-line flags, in increasing precedence; and the root credentials.
//!
//! Each setting is declared once, in the table below (its flag,
//! environment variable, file key, default and help text; see
//! `crate::settings`). The Cassandra backend declares and checks its own
//! settings (`storage::cassandra::options`); they are a section here.
//! [`Config`] is what the gateway runs with: the winning values, bounded.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use serde::Deserialize;

use crate::storage::cassandra::options::{CassandraArgs, CassandraFile, CassandraOptions};

mod credentials;
pub(crate) use credentials::random_string;
pub use credentials::{
    key_encryption_key, root_credentials, CredentialOrigin, RootCredentials, MIN_SECRET_CHARS,
};

crate::settings::settings_table! {
    /// Flags of `s3gw serve`; each also reads an environment variable.
    pub struct ServeArgs;
    /// The file form; every field optional.
    pub(crate) struct FileConfig;
    /// Each setting from its first source, before [`Config`] bounds it.
    pub(crate) struct Settings;
    {
        /// TOML configuration file.
        #[arg(long, env = "S3GW_CONFIG")]
        #[serde(skip)]
        pub config: PathBuf,
        /// Address to listen on [default: 127.0.0.1:9000].
        #[arg(long, env = "S3GW_LISTEN")]
        pub listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 9000)),
        /// Address of the dashboard's own listener, which never serves S3;
        /// no dashboard when unset [default: unset].
        #[arg(long, env = "S3GW_ADMIN_LISTEN")]
        pub admin_listen: SocketAddr,
        /// Directory of the embedded store [default: ./data].
        #[arg(long, env = "S3GW_DATA_DIR")]
        pub data_dir: PathBuf = PathBuf::from("./data"),
        /// Region reported and expected [default: us-east-1].
        #[arg(long, env = "S3GW_REGION")]
        pub region: String = "us-east-1".into(),
        /// Domain for virtual-hosted-style requests (`<bucket>.<domain>`).
        #[arg(long, env = "S3GW_DOMAIN")]
        pub domain: String,
        /// Chunk size in bytes for newly written objects [default: 1 MiB].
        #[arg(long, env = "S3GW_CHUNK_SIZE")]
        pub chunk_size: u32 = 1024 * 1024,
        /// Objects of at most this many bytes are stored in their head, not
        /// in chunks; 0: never [default: 16384].
        #[arg(long, env = "S3GW_INLINE_MAX_SIZE")]
        pub inline_max_size: u32 = DEFAULT_INLINE_MAX_SIZE,
        /// Seconds a replaced blob is kept for in-flight reads [default: 900].
        #[arg(long, env = "S3GW_GC_GRACE_SECS")]
        pub gc_grace_secs: u64 = 900,
        /// Where objects live [default: embedded].
        #[arg(long, env = "S3GW_BACKEND", value_enum)]
        pub backend: BackendKind = BackendKind::Embedded,
        /// Chunks of one upload being stored at once [default: 4].
        #[arg(long, env = "S3GW_UPLOAD_CHUNKS_IN_FLIGHT")]
        pub upload_chunks_in_flight: usize = 4,
        /// Chunks a GET fetches ahead of the one it sends.
        #[arg(skip)]
        pub get_prefetch_chunks: usize = 4,
        /// Upload chunk buffers for the whole gateway.
        #[arg(skip)]
        pub max_buffered_chunks: usize = 256,
        /// A request body that sends nothing this long gets `RequestTimeout`.
        #[arg(skip)]
        pub body_idle_timeout_secs: u64 = 60,
        /// Waiting on a request body allowed before `body_min_bytes_per_sec`
        /// applies (`http::pace`).
        #[arg(skip)]
        pub body_grace_secs: u64 = 20,
        /// After the grace, each received byte of a body buys 1/this seconds
        /// of waiting for more; slower bodies get `RequestTimeout`. 0: no minimum.
        #[arg(skip)]
        pub body_min_bytes_per_sec: u64 = 500,
        /// Connections served at once; further ones wait to be accepted
        /// [default: 1024].
        #[arg(long, env = "S3GW_MAX_CONNECTIONS")]
        pub max_connections: usize = 1024,
        /// Days after which an unfinished multipart upload is aborted; 0 never [default: 7].
        #[arg(long, env = "S3GW_ABORT_UPLOADS_AFTER_DAYS")]
        pub abort_uploads_after_days: u32 = 7,
        /// Seconds that count as one day in lifecycle rules: a test setting
        /// only, so that expirations of days can be seen [default: 86400].
        #[arg(long, env = "S3GW_LIFECYCLE_DAY_SECS")]
        #[serde(skip)]
        pub lifecycle_day_secs: u64 = 86_400,
        /// This gateway's name on the dashboard and in metrics [default: <hostname>:<port>].
        #[arg(long, env = "S3GW_GATEWAY_ID")]
        pub gateway_id: String,
        /// Seconds between counts of every bucket's objects and bytes for the
        /// dashboard (one gateway counts for all) [default: 60].
        #[arg(long, env = "S3GW_USAGE_SCAN_SECS")]
        pub usage_scan_secs: u64 = 60,
        /// Accept AWS Signature Version 2 (legacy: HMAC-SHA1, no payload
        /// signing), header and presigned; `--sigv2 false` refuses it as S3
        /// regions that never had it do [default: true].
        #[arg(long, env = "S3GW_SIGV2", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
        pub sigv2: bool = true,
        /// Seconds between runs of the garbage collector (tests only) [default: 30].
        #[arg(long, env = "S3GW_GC_INTERVAL_SECS", hide = true)]
        #[serde(skip)]
        pub gc_interval_secs: u64 = 30,
        /// The old name of --upload-chunks-in-flight (deprecated).
        #[arg(long, env = "S3GW_CHUNKS_IN_FLIGHT", hide = true)]
        #[serde(skip)]
        pub chunks_in_flight: usize,
    }
    sections {
        cassandra: CassandraArgs, CassandraFile,
    }
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

/// The backend with its settings.
#[derive(Debug, Clone)]
pub enum Backend {
    Embedded,
    Cassandra(Box<CassandraOptions>),
}

/// The resolved configuration: the [`Settings`] held to their bounds
/// (`Config::bounded`); each field means what the setting of its name
/// says.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The dashboard's listener (`crate::dashboard::admin`); none if unset.
    pub admin_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub region: String,
    pub domain: Option<String>,
    pub chunk_size: u32,
    /// At most `chunk_size`.
    pub inline_max_size: u32,
    pub gc_grace_secs: u64,
    pub upload_chunks_in_flight: usize,
    pub get_prefetch_chunks: usize,
    pub max_buffered_chunks: usize,
    pub body_idle_timeout_secs: u64,
    pub body_grace_secs: u64,
    pub body_min_bytes_per_sec: u64,
    pub max_connections: usize,
    pub abort_uploads_after_days: u32,
    /// At least 1.
    pub lifecycle_day_secs: u64,
    pub gc_interval_secs: u64,
    pub gateway_id: String,
    pub usage_scan_secs: u64,
    /// SigV2 requests are verified (else refused as an unsupported version).
    pub sigv2: bool,
    /// The backend chosen, with its own settings.
    pub backend: Backend,
}

/// The most chunks of one upload stored at once: the sweep of an
/// unfinished upload's blob looks this far past a gap for more chunks.
pub(crate) const MAX_CHUNKS_IN_FLIGHT: usize = 64;
pub(crate) const MIN_CHUNK_SIZE: u32 = 64 * 1024;
pub(crate) const MAX_CHUNK_SIZE: u32 = 8 * 1024 * 1024;
/// The default largest inline object (docs/storage-model.md "Inline
/// objects" gives the measurement that chose it).
pub(crate) const DEFAULT_INLINE_MAX_SIZE: u32 = 16 * 1024;
/// The largest `inline_max_size` accepted: a head row stays small.
pub(crate) const MAX_INLINE_MAX_SIZE: u32 = 256 * 1024;

impl Default for Config {
    /// Every setting at its default, on the embedded store.
    fn default() -> Self {
        Config::bounded(Settings::default(), Backend::Embedded)
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

/// A setting given under its old name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deprecated {
    pub old: &'static str,
    pub new: &'static str,
}

impl std::fmt::Display for Deprecated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is deprecated: use {}", self.old, self.new)
    }
}

impl Config {
    /// The configuration from the file, the environment and the flags; a
    /// setting given under an old name is logged as deprecated.
    pub fn resolve(args: &ServeArgs) -> Result<Config, String> {
        let (config, deprecated) = Config::resolve_noting(args)?;
        for d in deprecated {
            tracing::warn!("{d}");
        }
        Ok(config)
    }

    /// [`Config::resolve`], returning the old names used instead of
    /// logging them.
    pub(crate) fn resolve_noting(args: &ServeArgs) -> Result<(Config, Vec<Deprecated>), String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("invalid {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let mut settings = Settings::layer(args, &file);
        let mut deprecated = Vec::new();
        if let Some(n) = settings.chunks_in_flight {
            deprecated.push(Deprecated {
                old: "--chunks-in-flight (S3GW_CHUNKS_IN_FLIGHT)",
                new: "--upload-chunks-in-flight (S3GW_UPLOAD_CHUNKS_IN_FLIGHT)",
            });
            // The new name wins; the old one wins over the file.
            if args.upload_chunks_in_flight.is_none() {
                settings.upload_chunks_in_flight = n;
            }
        }
        let backend = match settings.backend {
            BackendKind::Embedded => Backend::Embedded,
            BackendKind::Cassandra => Backend::Cassandra(Box::new(CassandraOptions::resolve(
                &args.cassandra,
                &file.cassandra.unwrap_or_default(),
                Duration::from_secs(settings.gc_grace_secs),
            )?)),
        };
        let cfg = Config::bounded(settings, backend);
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&cfg.chunk_size) {
            return Err(format!(
                "chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes"
            ));
        }
        if cfg.inline_max_size > MAX_INLINE_MAX_SIZE {
            return Err(format!(
                "inline_max_size must be at most {MAX_INLINE_MAX_SIZE} bytes"
            ));
        }
        Ok((cfg, deprecated))
    }

    /// The settings held to their bounds (at least 1 where 0 cannot work),
    /// empty names taken as unset.
    fn bounded(s: Settings, backend: Backend) -> Config {
        let gateway_id = s
            .gateway_id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| default_gateway_id(s.listen));
        Config {
            listen: s.listen,
            admin_listen: s.admin_listen,
            data_dir: s.data_dir,
            region: s.region,
            domain: s.domain.filter(|d| !d.is_empty()),
            chunk_size: s.chunk_size,
            inline_max_size: s.inline_max_size.min(s.chunk_size),
            gc_grace_secs: s.gc_grace_secs,
            upload_chunks_in_flight: s.upload_chunks_in_flight.clamp(1, MAX_CHUNKS_IN_FLIGHT),
            get_prefetch_chunks: s.get_prefetch_chunks.max(1),
            max_buffered_chunks: s.max_buffered_chunks.max(1),
            body_idle_timeout_secs: s.body_idle_timeout_secs.max(1),
            body_grace_secs: s.body_grace_secs.max(1),
            body_min_bytes_per_sec: s.body_min_bytes_per_sec,
            max_connections: s
                .max_connections
                .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
            abort_uploads_after_days: s.abort_uploads_after_days,
            lifecycle_day_secs: s.lifecycle_day_secs.clamp(1, 86_400),
            gc_interval_secs: s.gc_interval_secs.max(1),
            gateway_id,
            usage_scan_secs: s.usage_scan_secs.max(1),
            sigv2: s.sigv2,
            backend,
        }
    }

    /// The limits on waiting for a request body (`http::pace`).
    pub(crate) fn body_pace(&self) -> crate::http::BodyPace {
        crate::http::BodyPace {
            idle: Duration::from_secs(self.body_idle_timeout_secs),
            grace: Duration::from_secs(self.body_grace_secs),
            min_rate: self.body_min_bytes_per_sec,
        }
    }

    /// One lifecycle day in milliseconds (`types::due_ms`).
    pub fn lifecycle_day_ms(&self) -> i64 {
        i64::try_from(self.lifecycle_day_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// The age after which unfinished multipart uploads are aborted;
    /// `None` when that is disabled (0 days).
    pub(crate) fn abort_uploads_after(&self) -> Option<Duration> {
        match self.abort_uploads_after_days {
            0 => None,
            days => Some(Duration::from_secs(u64::from(days) * 86_400)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::cassandra::options::Replication;
    use std::sync::Mutex;

    /// Held by every test that parses flags with clap, which also reads
    /// the environment, and by the one test that sets variables.
    static ENV: Mutex<()> = Mutex::new(());

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn parse(flags: &[&str]) -> ServeArgs {
        use clap::Parser;
        let argv = std::iter::once("s3gw").chain(flags.iter().copied());
        match Cli::try_parse_from(argv) {
            Ok(cli) => cli.serve,
            Err(e) => panic!("{flags:?}: {e}"),
        }
    }

    fn write_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Sets (or with `None` removes) `S3GW_*` variables for the length of
    /// `f`, and puts the old values back after it.
    fn with_env<T>(vars: &[(&str, Option<&str>)], f: impl FnOnce() -> T) -> T {
        let old: Vec<(String, Option<std::ffi::OsString>)> = vars
            .iter()
            .map(|(k, _)| (k.to_string(), std::env::var_os(k)))
            .collect();
        for (k, v) in vars {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
        let out = f();
        for (k, v) in old {
            match v {
                Some(v) => std::env::set_var(&k, v),
                None => std::env::remove_var(&k),
            }
        }
        out
    }

    /// For settings of several types: the flag wins over the environment
    /// variable, which wins over the file, which wins over the default.
    #[test]
    fn precedence_flag_env_file_default() {
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let file = write_file(
            &dir,
            "listen = \"127.0.0.1:9100\"\nregion = \"file-region\"\nchunk_size = 131072\n\
             max_connections = 100\nbackend = \"cassandra\"\n\
             [cassandra]\nkeyspace = \"file_ks\"\ncontact_points = [\"10.0.0.1:9042\"]\n",
        );
        let config = file.to_str().unwrap();
        let vars = [
            "S3GW_LISTEN",
            "S3GW_REGION",
            "S3GW_CHUNK_SIZE",
            "S3GW_MAX_CONNECTIONS",
            "S3GW_BACKEND",
            "S3GW_CASSANDRA_KEYSPACE",
            "S3GW_CASSANDRA_CONTACT_POINTS",
        ];
        let unset: Vec<(&str, Option<&str>)> = vars.iter().map(|v| (*v, None)).collect();
        let resolve = |flags: &[&str]| Config::resolve(&parse(flags)).unwrap();
        let cassandra = |c: &Config| match &c.backend {
            Backend::Cassandra(o) => (o.keyspace.clone(), o.contact_points.clone()),
            Backend::Embedded => panic!("expected the cassandra backend"),
        };

        // Defaults.
        let c = with_env(&unset, || resolve(&[]));
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert_eq!((c.region.as_str(), c.chunk_size), ("us-east-1", 1 << 20));
        assert_eq!(c.max_connections, 1024);
        assert!(matches!(c.backend, Backend::Embedded));

        // The file over the defaults.
        let c = with_env(&unset, || resolve(&["--config", config]));
        assert_eq!(c.listen.port(), 9100);
        assert_eq!((c.region.as_str(), c.chunk_size), ("file-region", 131072));
        assert_eq!(c.max_connections, 100);
        assert_eq!(
            cassandra(&c),
            ("file_ks".to_owned(), vec!["10.0.0.1:9042".to_owned()])
        );

        // The environment over the file.
        let env = [
            ("S3GW_LISTEN", Some("127.0.0.1:9200")),
            ("S3GW_REGION", Some("env-region")),
            ("S3GW_CHUNK_SIZE", Some("262144")),
            ("S3GW_MAX_CONNECTIONS", Some("200")),
            ("S3GW_BACKEND", Some("cassandra")),
            ("S3GW_CASSANDRA_KEYSPACE", Some("env_ks")),
            (
                "S3GW_CASSANDRA_CONTACT_POINTS",
                Some("10.0.0.2:9042,10.0.0.3:9042"),
            ),
        ];
        let c = with_env(&env, || resolve(&["--config", config]));
        assert_eq!(c.listen.port(), 9200);
        assert_eq!((c.region.as_str(), c.chunk_size), ("env-region", 262144));
        assert_eq!(c.max_connections, 200);
        assert_eq!(
            cassandra(&c),
            (
                "env_ks".to_owned(),
                vec!["10.0.0.2:9042".to_owned(), "10.0.0.3:9042".to_owned()]
            )
        );

        // The flags over the environment.
        let c = with_env(&env, || {
            resolve(&[
                "--config",
                config,
                "--listen",
                "127.0.0.1:9300",
                "--region",
                "flag-region",
                "--chunk-size",
                "524288",
                "--max-connections",
                "300",
                "--cassandra-keyspace",
                "flag_ks",
                "--cassandra-contact-points",
                "10.0.0.4:9042",
            ])
        });
        assert_eq!(c.listen.port(), 9300);
        assert_eq!((c.region.as_str(), c.chunk_size), ("flag-region", 524288));
        assert_eq!(c.max_connections, 300);
        assert_eq!(
            cassandra(&c),
            ("flag_ks".to_owned(), vec!["10.0.0.4:9042".to_owned()])
        );
        let c = with_env(&env, || {
            resolve(&["--config", config, "--backend", "embedded"])
        });
        assert!(matches!(c.backend, Backend::Embedded));
    }

    /// `sigv2`: on by default; the file, the environment and the flag (bare
    /// `--sigv2` is `true`) switch it, in that order of precedence.
    #[test]
    fn sigv2_switch() {
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let off = write_file(&dir, "sigv2 = false\n");
        let off = off.to_str().unwrap();
        let sigv2 = |vars: &[(&str, Option<&str>)], flags: &[&str]| {
            with_env(vars, || Config::resolve(&parse(flags)).unwrap().sigv2)
        };
        let unset = [("S3GW_SIGV2", None)];
        assert!(sigv2(&unset, &[]));
        assert!(Config::default().sigv2);
        assert!(!sigv2(&unset, &["--config", off]));
        assert!(!sigv2(&unset, &["--sigv2", "false"]));
        assert!(sigv2(&unset, &["--config", off, "--sigv2"]));
        assert!(!sigv2(&[("S3GW_SIGV2", Some("false"))], &[]));
        assert!(sigv2(&[("S3GW_SIGV2", Some("true"))], &["--config", off]));
        assert!(sigv2(
            &[("S3GW_SIGV2", Some("false"))],
            &["--sigv2", "true"]
        ));
    }

    /// `--chunks-in-flight` and `S3GW_CHUNKS_IN_FLIGHT` still work, with a
    /// warning naming the new name; the new name wins over the old, the
    /// old over the file.
    #[test]
    fn chunks_in_flight_is_the_old_name_of_upload_chunks_in_flight() {
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let file = write_file(&dir, "upload_chunks_in_flight = 2\n");
        let config = file.to_str().unwrap();
        let unset = [
            ("S3GW_CHUNKS_IN_FLIGHT", None),
            ("S3GW_UPLOAD_CHUNKS_IN_FLIGHT", None),
        ];
        let resolve = |flags: &[&str]| {
            let (c, deprecated) = Config::resolve_noting(&parse(flags)).unwrap();
            (c.upload_chunks_in_flight, deprecated)
        };
        let warned = vec![Deprecated {
            old: "--chunks-in-flight (S3GW_CHUNKS_IN_FLIGHT)",
            new: "--upload-chunks-in-flight (S3GW_UPLOAD_CHUNKS_IN_FLIGHT)",
        }];
        assert_eq!(
            warned[0].to_string(),
            "--chunks-in-flight (S3GW_CHUNKS_IN_FLIGHT) is deprecated: \
             use --upload-chunks-in-flight (S3GW_UPLOAD_CHUNKS_IN_FLIGHT)"
        );

        with_env(&unset, || {
            assert_eq!(resolve(&[]), (4, vec![]));
            assert_eq!(resolve(&["--config", config]), (2, vec![]));
            assert_eq!(
                resolve(&["--config", config, "--upload-chunks-in-flight", "6"]),
                (6, vec![])
            );
            assert_eq!(resolve(&["--chunks-in-flight", "8"]), (8, warned.clone()));
            assert_eq!(
                resolve(&["--config", config, "--chunks-in-flight", "8"]),
                (8, warned.clone())
            );
            assert_eq!(
                resolve(&["--chunks-in-flight", "8", "--upload-chunks-in-flight", "3"]),
                (3, warned.clone())
            );
        });
        with_env(&[("S3GW_CHUNKS_IN_FLIGHT", Some("5"))], || {
            assert_eq!(resolve(&["--config", config]), (5, warned.clone()));
        });
        with_env(&[("S3GW_UPLOAD_CHUNKS_IN_FLIGHT", Some("7"))], || {
            assert_eq!(resolve(&["--config", config]), (7, vec![]));
        });

        // Only the new name is shown in --help.
        use clap::CommandFactory;
        let cmd = Cli::command();
        let arg = |name: &str| {
            cmd.get_arguments()
                .find(|a| a.get_long() == Some(name))
                .unwrap_or_else(|| panic!("no --{name}"))
        };
        assert!(!arg("upload-chunks-in-flight").is_hide_set());
        assert_eq!(
            arg("upload-chunks-in-flight").get_env(),
            Some(std::ffi::OsStr::new("S3GW_UPLOAD_CHUNKS_IN_FLIGHT"))
        );
        assert!(arg("chunks-in-flight").is_hide_set());
    }

    /// Every refusal of the generic layer, with its message (the Cassandra
    /// section's are tested in `storage::cassandra::options`).
    #[test]
    fn refusals_and_their_messages() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.toml");
        let err = Config::resolve(&ServeArgs {
            config: Some(missing.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            err.starts_with(&format!("cannot read {}: ", missing.display())),
            "{err}"
        );

        let with_file = |text: &str| {
            let path = write_file(&dir, text);
            Config::resolve(&ServeArgs {
                config: Some(path),
                ..Default::default()
            })
        };
        let invalid = format!("invalid {}: ", dir.path().join("c.toml").display());
        for (text, says) in [
            ("nonsense = 1\n", "unknown field `nonsense`"),
            ("config = \"x.toml\"\n", "unknown field `config`"),
            ("gc_interval_secs = 1\n", "unknown field `gc_interval_secs`"),
            ("chunks_in_flight = 1\n", "unknown field `chunks_in_flight`"),
            ("[cassandra]\nfoo = 1\n", "unknown field `foo`"),
            (
                "[cassandra]\nsweep_margin_secs = 1\n",
                "unknown field `sweep_margin_secs`",
            ),
            (
                "chunk_size = \"x\"\n",
                "invalid type: string \"x\", expected u32",
            ),
            ("backend = \"s3\"\n", "unknown variant `s3`"),
        ] {
            let err = with_file(text).unwrap_err();
            assert!(err.starts_with(&invalid), "{text}: {err}");
            assert!(err.contains(says), "{text}: {err}");
        }
        for size in ["65535", "8388609", "10"] {
            assert_eq!(
                with_file(&format!("chunk_size = {size}\n")).unwrap_err(),
                "chunk_size must be between 65536 and 8388608 bytes"
            );
        }
        for size in ["65536", "8388608"] {
            assert!(with_file(&format!("chunk_size = {size}\n")).is_ok());
        }
        // The inline limit: at most 256 KiB, and never above the chunk size.
        for (text, inline) in [
            ("", 16384),
            ("inline_max_size = 0\n", 0),
            ("inline_max_size = 262144\n", 262144),
            ("chunk_size = 65536\ninline_max_size = 131072\n", 65536),
        ] {
            let c = with_file(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(c.inline_max_size, inline, "{text}");
        }
        assert_eq!(
            with_file("inline_max_size = 262145\n").unwrap_err(),
            "inline_max_size must be at most 262144 bytes"
        );
        // The backend's settings are checked only when it is chosen.
        assert!(with_file("[cassandra]\nkeyspace = \"a-b\"\n").is_ok());
        assert_eq!(
            with_file("backend = \"cassandra\"\n[cassandra]\nkeyspace = \"a-b\"\n").unwrap_err(),
            "keyspace \"a-b\": use 1-48 letters, digits or underscores"
        );
    }

    /// Values that cannot work are held to their bounds; empty names are
    /// unset.
    #[test]
    fn bounds_and_empty_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(
            &dir,
            "upload_chunks_in_flight = 1000\nget_prefetch_chunks = 0\nmax_buffered_chunks = 0\n\
             body_idle_timeout_secs = 0\nusage_scan_secs = 0\ndomain = \"\"\ngateway_id = \"  \"\n",
        );
        let c = Config::resolve(&ServeArgs {
            config: Some(path),
            gc_interval_secs: Some(0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.upload_chunks_in_flight, MAX_CHUNKS_IN_FLIGHT);
        assert_eq!(
            (
                c.get_prefetch_chunks,
                c.max_buffered_chunks,
                c.body_idle_timeout_secs,
                c.usage_scan_secs,
                c.gc_interval_secs
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(c.domain, None);
        assert_eq!(c.gateway_id, default_gateway_id(c.listen));
        let d = Config::default();
        assert_eq!(d.gateway_id, default_gateway_id(d.listen));
        assert_eq!(
            (
                d.upload_chunks_in_flight,
                d.get_prefetch_chunks,
                d.max_buffered_chunks
            ),
            (4, 4, 256)
        );
    }

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
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
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
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
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
