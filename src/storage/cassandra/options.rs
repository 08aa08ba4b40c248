//! Settings of the Cassandra backend: their flags, environment variables,
//! file keys and defaults (one table), their parsing and validation, and
//! the options the backend runs with.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use scylla::statement::Consistency;

pub use super::security::{Credentials, Password, SecuritySettings, Tls};

crate::settings::settings_table! {
    /// Flags of the Cassandra backend; each also reads an environment
    /// variable.
    pub struct CassandraArgs;
    /// The `[cassandra]` table of the configuration file.
    pub struct CassandraFile;
    /// Each Cassandra setting from its first source.
    pub(crate) struct CassandraSettings;
    {
        /// Nodes to contact first, comma-separated host:port [default: 127.0.0.1:9042].
        #[arg(
            long = "cassandra-contact-points",
            env = "S3GW_CASSANDRA_CONTACT_POINTS",
            value_delimiter = ','
        )]
        pub contact_points: Vec<String> = vec!["127.0.0.1:9042".into()],
        /// Keyspace [default: s3gw].
        #[arg(long = "cassandra-keyspace", env = "S3GW_CASSANDRA_KEYSPACE")]
        pub keyspace: String = "s3gw".into(),
        /// Replication when the keyspace is created: N, or dc1:N,dc2:M [default: 1].
        #[arg(long = "cassandra-replication", env = "S3GW_CASSANDRA_REPLICATION")]
        pub replication: String = "1".into(),
        /// Consistency level of reads and writes [default: LOCAL_QUORUM].
        #[arg(long = "cassandra-consistency", env = "S3GW_CASSANDRA_CONSISTENCY")]
        pub consistency: String = "LOCAL_QUORUM".into(),
        /// Datacenter whose nodes are preferred.
        #[arg(long = "cassandra-local-dc", env = "S3GW_CASSANDRA_LOCAL_DC")]
        pub local_dc: String,
        /// Client-side timeout of one statement, in ms [default: 10000].
        #[arg(
            long = "cassandra-request-timeout-ms",
            env = "S3GW_CASSANDRA_REQUEST_TIMEOUT_MS"
        )]
        pub request_timeout_ms: u64 = 10_000,
        /// Connections the driver keeps to each node (to each shard on
        /// ScyllaDB), 1 to 32 [default: 1].
        #[arg(
            long = "cassandra-connections-per-node",
            env = "S3GW_CASSANDRA_CONNECTIONS_PER_NODE"
        )]
        pub connections_per_node: u16 = DEFAULT_CONNECTIONS_PER_NODE,
        /// Shards of each bucket's key index, when the keyspace is created [default: 16].
        #[arg(long = "cassandra-index-shards", env = "S3GW_CASSANDRA_INDEX_SHARDS")]
        pub index_shards: u16 = DEFAULT_INDEX_SHARDS,
        /// Seconds an upload may take from its first byte to its commit; the
        /// blobs of uploads that never committed are swept after it [default: 21600].
        #[arg(
            long = "cassandra-commit-deadline-secs",
            env = "S3GW_CASSANDRA_COMMIT_DEADLINE_SECS"
        )]
        pub commit_deadline_secs: u64 = COMMIT_DEADLINE.as_secs(),
        /// Seconds the sweep waits past a commit deadline (tests only) [default: 300].
        #[arg(
            long = "cassandra-sweep-margin-secs",
            env = "S3GW_CASSANDRA_SWEEP_MARGIN_SECS",
            hide = true
        )]
        #[serde(skip)]
        pub sweep_margin_secs: u64 = SWEEP_MARGIN.as_secs(),
        /// User for Cassandra's PasswordAuthenticator.
        #[arg(long = "cassandra-username", env = "S3GW_CASSANDRA_USERNAME")]
        pub username: String,
        /// Password of that user; prefer the environment variable or a
        /// password file (a flag shows in the process list).
        #[arg(
            long = "cassandra-password",
            env = "S3GW_CASSANDRA_PASSWORD",
            hide_env_values = true
        )]
        pub password: Password,
        /// File whose first line is the password.
        #[arg(long = "cassandra-password-file", env = "S3GW_CASSANDRA_PASSWORD_FILE")]
        pub password_file: PathBuf,
        /// TLS to the nodes [default: on when a tls file is given, else off].
        #[arg(
            long = "cassandra-tls",
            env = "S3GW_CASSANDRA_TLS",
            num_args = 0..=1,
            default_missing_value = "true",
            action = clap::ArgAction::Set
        )]
        pub tls: bool,
        /// CA certificates (PEM) the nodes' certificates must chain to [default: the system's roots].
        #[arg(long = "cassandra-tls-ca-file", env = "S3GW_CASSANDRA_TLS_CA_FILE")]
        pub tls_ca_file: PathBuf,
        /// Client certificate chain (PEM), for nodes that require one.
        #[arg(long = "cassandra-tls-cert-file", env = "S3GW_CASSANDRA_TLS_CERT_FILE")]
        pub tls_cert_file: PathBuf,
        /// Private key (PEM) of the client certificate.
        #[arg(long = "cassandra-tls-key-file", env = "S3GW_CASSANDRA_TLS_KEY_FILE")]
        pub tls_key_file: PathBuf,
    }
}

impl CassandraOptions {
    /// The options from the flags (or environment variables) and the
    /// file's `[cassandra]` table, checked; `gc_grace` is the gateway's.
    pub(crate) fn resolve(
        args: &CassandraArgs,
        file: &CassandraFile,
        gc_grace: Duration,
    ) -> Result<CassandraOptions, String> {
        CassandraOptions::from_settings(CassandraSettings::layer(args, file), gc_grace)
    }

    /// The options from settings already layered, checked.
    pub(crate) fn from_settings(
        s: CassandraSettings,
        gc_grace: Duration,
    ) -> Result<CassandraOptions, String> {
        let contact_points: Vec<String> = s
            .contact_points
            .into_iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if contact_points.is_empty() {
            return Err("cassandra contact points: give at least one host:port".into());
        }
        check_keyspace(&s.keyspace)?;
        let replication = Replication::parse(&s.replication)?;
        let consistency = parse_consistency(&s.consistency)?;
        let timeout_ms = s.request_timeout_ms.max(100);
        if !(1..=1024).contains(&s.index_shards) {
            return Err("cassandra index_shards must be between 1 and 1024".into());
        }
        let connections_per_node = NonZeroUsize::new(usize::from(s.connections_per_node))
            .filter(|n| n.get() <= MAX_CONNECTIONS_PER_NODE)
            .ok_or("cassandra connections_per_node must be between 1 and 32")?;
        let commit_deadline = Duration::from_secs(s.commit_deadline_secs);
        if commit_deadline < Duration::from_secs(2) {
            return Err("cassandra commit_deadline_secs must be at least 2".into());
        }
        let (credentials, tls) = SecuritySettings {
            username: s.username.filter(|u| !u.is_empty()),
            password: s.password,
            password_file: s.password_file,
            tls: s.tls,
            tls_ca_file: s.tls_ca_file,
            tls_cert_file: s.tls_cert_file,
            tls_key_file: s.tls_key_file,
        }
        .resolve()?;
        Ok(CassandraOptions {
            contact_points,
            keyspace: s.keyspace,
            replication,
            consistency,
            local_dc: s.local_dc.filter(|s| !s.is_empty()),
            request_timeout: Duration::from_millis(timeout_ms),
            index_shards: s.index_shards,
            connections_per_node,
            gc_grace,
            connect_for: None,
            clock_offset_us: 0,
            commit_deadline,
            sweep_margin: Duration::from_secs(s.sweep_margin_secs),
            // Longer than a writer can take between its read and its write.
            recheck_after: RECHECK_AFTER.max(Duration::from_millis(timeout_ms.saturating_mul(3))),
            pause_before_head_write: Duration::ZERO,
            fail_settle: false,
            credentials,
            tls,
        })
    }

    /// These options with the credentials and TLS of the environment
    /// variables the flags read (`S3GW_CASSANDRA_USERNAME`,
    /// `S3GW_CASSANDRA_TLS_CA_FILE`, …): for tools and tests that build
    /// their options in code.
    pub fn with_security_from_env(self) -> Result<CassandraOptions, String> {
        self.with_security(SecuritySettings::from_env())
    }

    /// These options with the credentials and TLS of `settings`, checked.
    pub fn with_security(mut self, settings: SecuritySettings) -> Result<CassandraOptions, String> {
        let (credentials, tls) = settings.resolve()?;
        self.credentials = credentials;
        self.tls = tls;
        Ok(self)
    }
}

/// Keyspace replication, used when the keyspace is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// The same factor in every datacenter.
    Factor(u32),
    /// A factor per datacenter.
    PerDatacenter(Vec<(String, u32)>),
}

impl Replication {
    /// `"3"`, or `"dc1:3,dc2:2"`.
    pub(crate) fn parse(s: &str) -> Result<Replication, String> {
        let s = s.trim();
        if let Ok(n) = s.parse::<u32>() {
            return match n {
                0 => Err("replication factor must be at least 1".into()),
                n => Ok(Replication::Factor(n)),
            };
        }
        let mut dcs = Vec::new();
        for item in s.split(',') {
            let (dc, n) = item
                .split_once(':')
                .ok_or_else(|| format!("replication {s:?}: expected N or dc:N,dc:N"))?;
            let dc = dc.trim();
            let n: u32 = n
                .trim()
                .parse()
                .map_err(|_| format!("replication {s:?}: {n:?} is not a number"))?;
            let valid = !dc.is_empty()
                && dc
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid || n == 0 {
                return Err(format!("replication {s:?}: bad entry {item:?}"));
            }
            dcs.push((dc.to_owned(), n));
        }
        Ok(Replication::PerDatacenter(dcs))
    }

    /// The CQL map literal of a `NetworkTopologyStrategy` keyspace.
    pub(crate) fn cql(&self) -> String {
        match self {
            Replication::Factor(n) => {
                format!("{{'class': 'NetworkTopologyStrategy', 'replication_factor': {n}}}")
            }
            Replication::PerDatacenter(dcs) => {
                let mut s = String::from("{'class': 'NetworkTopologyStrategy'");
                for (dc, n) in dcs {
                    s.push_str(&format!(", '{dc}': {n}"));
                }
                s.push('}');
                s
            }
        }
    }
}

impl fmt::Display for Replication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Replication::Factor(n) => write!(f, "{n}"),
            Replication::PerDatacenter(dcs) => {
                let parts: Vec<String> = dcs.iter().map(|(d, n)| format!("{d}:{n}")).collect();
                write!(f, "{}", parts.join(","))
            }
        }
    }
}

/// A consistency level by its CQL name (`LOCAL_QUORUM`, `quorum`, …).
///
/// Only levels whose reads overlap every acknowledged write are accepted:
/// a read after a write must see it, both for S3's read-after-write and
/// for the garbage collector, which decides from a read whether a blob is
/// still referenced (docs/storage-model.md, "Why no referenced blob is
/// ever deleted"). `ONE`, `TWO`, `THREE` and `LOCAL_ONE` could let a
/// release miss the head that references a blob.
pub(crate) fn parse_consistency(s: &str) -> Result<Consistency, String> {
    Ok(match s.trim().to_ascii_uppercase().as_str() {
        "QUORUM" => Consistency::Quorum,
        "ALL" => Consistency::All,
        "LOCAL_QUORUM" => Consistency::LocalQuorum,
        "EACH_QUORUM" => Consistency::EachQuorum,
        weak @ ("ONE" | "TWO" | "THREE" | "LOCAL_ONE" | "ANY") => {
            return Err(format!(
                "consistency {weak} is not supported: reads must see every acknowledged \
                 write (use LOCAL_QUORUM, QUORUM, EACH_QUORUM or ALL)"
            ))
        }
        other => return Err(format!("unknown consistency level {other:?}")),
    })
}

/// A keyspace name Cassandra accepts unquoted.
pub(crate) fn check_keyspace(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 48
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with('_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "keyspace {name:?}: use 1-48 letters, digits or underscores"
        ))
    }
}

/// Everything the backend needs to connect and to lay out its data.
#[derive(Debug, Clone)]
pub struct CassandraOptions {
    /// `host:port` of nodes to contact first; the rest are discovered.
    pub contact_points: Vec<String>,
    pub keyspace: String,
    /// Used only when the keyspace is created.
    pub replication: Replication,
    /// For every read and write except lightweight transactions.
    pub consistency: Consistency,
    /// Datacenter whose replicas are preferred.
    pub local_dc: Option<String>,
    /// Client-side limit on one statement, retries included.
    pub request_timeout: Duration,
    /// Shards of each bucket's key index; fixed when the keyspace is
    /// created (a running cluster keeps what it has).
    pub index_shards: u16,
    /// Connections the driver keeps to each node (to each shard on
    /// ScyllaDB).
    pub connections_per_node: NonZeroUsize,
    /// How long a released blob is kept for reads already in flight.
    pub gc_grace: Duration,
    /// How long to keep trying to reach the cluster at start
    /// (`None`: forever).
    pub connect_for: Option<Duration>,
    /// Microseconds added to this gateway's clock for the timestamps of
    /// its writes. 0 (the default) leaves timestamps to Cassandra; tests
    /// set it to stage a gateway whose clock is off.
    #[doc(hidden)]
    pub clock_offset_us: i64,
    /// How long an upload may take from its first byte to its commit. A
    /// commit later than this (less a slack for retries) is refused with
    /// `TooLate`, so the sweep may decide on a blob once the deadline is
    /// past (`sweep.rs`).
    pub commit_deadline: Duration,
    /// How long after a blob's commit deadline the sweep waits before it
    /// decides on it: more than the clock skew between gateways and
    /// Cassandra nodes plus a statement timeout. Tests shorten it.
    #[doc(hidden)]
    pub sweep_margin: Duration,
    /// How long after a write whose head was current a gateway looks at
    /// the key again (`recheck.rs`): longer than any writer takes from its
    /// read of a head to its write. Tests shorten it.
    #[doc(hidden)]
    pub recheck_after: Duration,
    /// A pause between reading a key's head and writing the new one, for
    /// tests that stage a slow writer. Zero in every real configuration.
    #[doc(hidden)]
    pub pause_before_head_write: Duration,
    /// Makes settling after a PUT's or DELETE's head write fail, for the
    /// test that shows neither the answer nor the release of the blobs
    /// depends on it. False in every real configuration.
    #[doc(hidden)]
    pub fail_settle: bool,
    /// Username and password, when the cluster authenticates clients.
    pub credentials: Option<Credentials>,
    /// TLS to the nodes, when on.
    pub tls: Option<Tls>,
}

/// The default of [`CassandraOptions::recheck_after`]: three times the
/// default statement timeout.
pub(crate) const RECHECK_AFTER: Duration = Duration::from_secs(30);

/// The default of [`CassandraOptions::commit_deadline`]: 6 hours, a 5 GiB
/// upload at 250 KB/s.
pub(crate) const COMMIT_DEADLINE: Duration = Duration::from_secs(6 * 3600);

/// The default of [`CassandraOptions::sweep_margin`].
pub(crate) const SWEEP_MARGIN: Duration = Duration::from_secs(300);

impl CassandraOptions {
    pub fn local(contact_point: &str, keyspace: &str) -> CassandraOptions {
        CassandraOptions {
            contact_points: vec![contact_point.to_owned()],
            keyspace: keyspace.to_owned(),
            replication: Replication::Factor(1),
            consistency: Consistency::LocalQuorum,
            local_dc: None,
            request_timeout: Duration::from_secs(10),
            index_shards: DEFAULT_INDEX_SHARDS,
            connections_per_node: NonZeroUsize::MIN,
            gc_grace: Duration::from_secs(900),
            connect_for: Some(Duration::from_secs(30)),
            clock_offset_us: 0,
            commit_deadline: COMMIT_DEADLINE,
            sweep_margin: SWEEP_MARGIN,
            recheck_after: RECHECK_AFTER,
            pause_before_head_write: Duration::ZERO,
            fail_settle: false,
            credentials: None,
            tls: None,
        }
    }
}

pub(crate) const DEFAULT_INDEX_SHARDS: u16 = 16;

/// The default of [`CassandraOptions::connections_per_node`]; see
/// docs/operations.md ("Connections to each node") for the measurement.
pub(crate) const DEFAULT_CONNECTIONS_PER_NODE: u16 = 1;
/// The most connections per node accepted.
const MAX_CONNECTIONS_PER_NODE: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_forms() {
        assert_eq!(Replication::parse("3"), Ok(Replication::Factor(3)));
        assert_eq!(
            Replication::parse("dc1:3, dc2:2"),
            Ok(Replication::PerDatacenter(vec![
                ("dc1".into(), 3),
                ("dc2".into(), 2)
            ]))
        );
        assert!(Replication::parse("0").is_err());
        assert!(Replication::parse("dc1").is_err());
        assert!(Replication::parse("dc'1:3").is_err());
        assert_eq!(
            Replication::parse("dc1:3,dc2:2").map(|r| r.cql()),
            Ok("{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}".to_owned())
        );
        assert_eq!(
            Replication::Factor(1).cql(),
            "{'class': 'NetworkTopologyStrategy', 'replication_factor': 1}"
        );
    }

    #[test]
    fn consistency_and_keyspace_names() {
        assert_eq!(
            parse_consistency("local_quorum"),
            Ok(Consistency::LocalQuorum)
        );
        assert!(parse_consistency("SERIAL").is_err());
        for weak in ["ONE", "local_one", "TWO", "THREE", "ANY"] {
            assert!(parse_consistency(weak).is_err(), "{weak}");
        }
        assert!(check_keyspace("s3gw_test1").is_ok());
        assert!(check_keyspace("bad-name").is_err());
        assert!(check_keyspace("").is_err());
    }

    fn resolve(file: &str, args: CassandraArgs) -> Result<CassandraOptions, String> {
        let file: CassandraFile = toml::from_str(file).map_err(|e| e.to_string())?;
        CassandraOptions::resolve(&args, &file, Duration::from_secs(900))
    }

    #[test]
    fn defaults_and_layers() {
        let o = resolve("", CassandraArgs::default()).unwrap();
        assert_eq!(o.contact_points, ["127.0.0.1:9042"]);
        assert_eq!(o.keyspace, "s3gw");
        assert_eq!(o.replication, Replication::Factor(1));
        assert_eq!(o.consistency, Consistency::LocalQuorum);
        assert_eq!(o.local_dc, None);
        assert_eq!(o.request_timeout, Duration::from_secs(10));
        assert_eq!(o.index_shards, DEFAULT_INDEX_SHARDS);
        assert_eq!(o.connections_per_node.get(), 1);
        assert_eq!(o.gc_grace, Duration::from_secs(900));
        assert_eq!(o.commit_deadline, COMMIT_DEADLINE);
        assert_eq!(o.sweep_margin, SWEEP_MARGIN);
        assert_eq!(o.recheck_after, RECHECK_AFTER);

        let file = "contact_points = [\" a:1 \", \"\", \"b:2\"]\nkeyspace = \"ks\"\n\
                    local_dc = \"\"\nrequest_timeout_ms = 20000\ncommit_deadline_secs = 60\n\
                    connections_per_node = 4\n";
        let o = resolve(file, CassandraArgs::default()).unwrap();
        assert_eq!(o.connections_per_node.get(), 4);
        assert_eq!(o.contact_points, ["a:1", "b:2"]);
        assert_eq!(o.local_dc, None, "empty is unset");
        assert_eq!(o.commit_deadline, Duration::from_secs(60));
        assert_eq!(
            o.recheck_after,
            Duration::from_secs(60),
            "3 statement timeouts"
        );
        let flags = CassandraArgs {
            keyspace: Some("flag_ks".into()),
            local_dc: Some("dc2".into()),
            request_timeout_ms: Some(1),
            sweep_margin_secs: Some(3),
            ..Default::default()
        };
        let o = resolve(file, flags).unwrap();
        assert_eq!(o.keyspace, "flag_ks");
        assert_eq!(o.local_dc.as_deref(), Some("dc2"));
        assert_eq!(
            o.request_timeout,
            Duration::from_millis(100),
            "at least 100 ms"
        );
        assert_eq!(o.sweep_margin, Duration::from_secs(3));
    }

    /// Every refusal, with its message.
    #[test]
    fn refusals_and_their_messages() {
        for (file, message) in [
            (
                "contact_points = [\" \", \"\"]",
                "cassandra contact points: give at least one host:port",
            ),
            (
                "keyspace = \"a-b\"",
                "keyspace \"a-b\": use 1-48 letters, digits or underscores",
            ),
            (
                "keyspace = \"_x\"",
                "keyspace \"_x\": use 1-48 letters, digits or underscores",
            ),
            (
                "connections_per_node = 0",
                "cassandra connections_per_node must be between 1 and 32",
            ),
            (
                "connections_per_node = 33",
                "cassandra connections_per_node must be between 1 and 32",
            ),
            (
                "replication = \"0\"",
                "replication factor must be at least 1",
            ),
            (
                "replication = \"dc1\"",
                "replication \"dc1\": expected N or dc:N,dc:N",
            ),
            (
                "replication = \"dc1:x\"",
                "replication \"dc1:x\": \"x\" is not a number",
            ),
            (
                "replication = \"dc1:0\"",
                "replication \"dc1:0\": bad entry \"dc1:0\"",
            ),
            (
                "consistency = \"one\"",
                "consistency ONE is not supported: reads must see every acknowledged \
                 write (use LOCAL_QUORUM, QUORUM, EACH_QUORUM or ALL)",
            ),
            (
                "consistency = \"serial\"",
                "unknown consistency level \"SERIAL\"",
            ),
            (
                "index_shards = 0",
                "cassandra index_shards must be between 1 and 1024",
            ),
            (
                "index_shards = 1025",
                "cassandra index_shards must be between 1 and 1024",
            ),
            (
                "commit_deadline_secs = 1",
                "cassandra commit_deadline_secs must be at least 2",
            ),
        ] {
            assert_eq!(
                resolve(file, CassandraArgs::default()).unwrap_err(),
                message,
                "{file}"
            );
        }
        for ok in [
            "index_shards = 1",
            "index_shards = 1024",
            "commit_deadline_secs = 2",
        ] {
            assert!(resolve(ok, CassandraArgs::default()).is_ok(), "{ok}");
        }
        assert!(resolve("sweep_margin_secs = 1", CassandraArgs::default())
            .unwrap_err()
            .contains("unknown field `sweep_margin_secs`"));
    }
}
