//! `s3gw`: configuration, telemetry, and running the server.

use std::process::ExitCode;

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use s3gw::access::Credentials;
use s3gw::config::{
    key_encryption_key, root_credentials, Backend, Config, CredentialOrigin, ServeArgs,
};
use s3gw::storage::cassandra::CassandraStorage;
use s3gw::storage::embedded::EmbeddedStorage;
use s3gw::storage::Maintenance;
use s3gw::telemetry::LogFormat;

#[derive(Parser)]
#[command(name = "s3gw", version, about = "S3-compatible object storage gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text or as one JSON object each.
    #[arg(
        long,
        global = true,
        env = "S3GW_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Serve S3 (on the embedded store unless --backend cassandra).
    Serve(ServeArgs),
    /// Create or upgrade the Cassandra schema, then exit.
    Migrate(ServeArgs),
    /// Check the store: every referenced chunk present with its size and
    /// checksum, nothing referenced queued for deletion; count garbage.
    /// Exits 1 if the store is inconsistent. On the embedded store, stop
    /// the gateway first.
    Fsck(FsckArgs),
    /// Manage the gateway's access keys and their permissions on buckets,
    /// through its admin API (signed with the root pair or an admin key).
    Admin(s3gw::cli::AdminArgs),
}

#[derive(Args)]
struct FsckArgs {
    #[command(flatten)]
    store: ServeArgs,
    /// Unreferenced blobs younger than this many seconds may be uploads in
    /// progress and are not counted as garbage (default: the GC grace
    /// period, --gc-grace-secs).
    #[arg(long)]
    min_age_secs: Option<u64>,
    /// Then remove what is proven garbage (released blobs past their grace
    /// period, blobs of uploads that can no longer commit) and check again.
    /// Never touches referenced data.
    #[arg(long)]
    repair: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let tuned = s3gw::malloc_tuning::apply();
    s3gw::telemetry::init_logs(cli.log_format);
    tracing::debug!(tuned, "allocator thresholds for chunk buffers");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3gw: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let run = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Migrate(args) => runtime.block_on(migrate(args)),
        Command::Fsck(args) => match runtime.block_on(fsck(args)) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Command::Admin(args) => return runtime.block_on(s3gw::cli::run(args)),
    };
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3gw: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a banner line; a closed stdout must not stop the server.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(line);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

async fn migrate(args: ServeArgs) -> Result<(), String> {
    let config = Config::resolve(&args)?;
    let Backend::Cassandra(mut options) = config.backend else {
        say(format_args!(
            "the embedded store creates its tables when it opens; nothing to migrate"
        ));
        return Ok(());
    };
    options.connect_for = Some(std::time::Duration::from_secs(60));
    let shards = CassandraStorage::migrate(options.as_ref())
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    say(format_args!(
        "keyspace {} is at schema version {} ({} index shards)",
        options.keyspace,
        s3gw::storage::cassandra::SCHEMA_VERSION,
        shards
    ));
    Ok(())
}

/// Runs the consistency check and prints its report; whether the store is
/// consistent.
async fn fsck(args: FsckArgs) -> Result<bool, String> {
    let config = Config::resolve(&args.store)?;
    let min_age = Duration::from_secs(args.min_age_secs.unwrap_or(config.gc_grace_secs));
    let where_ = describe(&config);
    let storage: Arc<dyn Maintenance> = match config.backend {
        Backend::Embedded => Arc::new(
            EmbeddedStorage::open_unswept(&config.data_dir)
                .map_err(|e| format!("cannot open the store ({where_}): {e}"))?,
        ),
        Backend::Cassandra(mut options) => {
            options.connect_for = Some(Duration::from_secs(60));
            Arc::new(
                CassandraStorage::open(*options)
                    .await
                    .map_err(|e| format!("cannot open the store ({where_}): {e}"))?,
            )
        }
    };
    say(format_args!("s3gw fsck: {where_}"));
    let report = storage
        .fsck(min_age)
        .await
        .map_err(|e| format!("fsck failed: {e}"))?;
    say(format_args!("{report}"));
    if !args.repair {
        return Ok(report.consistent());
    }
    let repaired = storage
        .repair()
        .await
        .map_err(|e| format!("repair failed: {e}"))?;
    say(format_args!("{repaired}"));
    let report = storage
        .fsck(min_age)
        .await
        .map_err(|e| format!("fsck failed: {e}"))?;
    say(format_args!("after repair:\n{report}"));
    Ok(report.consistent())
}

/// Where the data lives, for the banner.
fn describe(config: &Config) -> String {
    match &config.backend {
        Backend::Embedded => format!("data in {}", config.data_dir.display()),
        Backend::Cassandra(o) => {
            let mut how = Vec::new();
            if let Some(c) = &o.credentials {
                how.push(format!("as {}", c.username));
            }
            if let Some(tls) = &o.tls {
                how.push(match &tls.ca_file {
                    Some(ca) => format!("TLS, CA {}", ca.display()),
                    None => "TLS, system roots".to_owned(),
                });
            }
            let how = if how.is_empty() {
                String::new()
            } else {
                format!(", {}", how.join(", "))
            };
            format!(
                "Cassandra keyspace {} via {}{how}",
                o.keyspace,
                o.contact_points.join(",")
            )
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let config = Config::resolve(&args)?;
    let creds = root_credentials(&config.data_dir)?;
    let where_ = describe(&config);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let admin = match config.admin_listen {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen on {at} (--admin-listen): {e}"))?,
        ),
        None => None,
    };
    let admin_addr = match &admin {
        Some(l) => Some(l.local_addr().map_err(|e| e.to_string())?),
        None => None,
    };
    let access_key = creds.access_key.clone();
    let embedded = matches!(config.backend, Backend::Embedded);
    let kek = key_encryption_key(&config.data_dir, embedded)?;
    let mut credentials = Credentials::root(creds.access_key, creds.secret_key);
    if let Some((k, _)) = &kek {
        credentials = credentials
            .with_kek(k)
            .map_err(|e| format!("S3GW_KEY_ENCRYPTION_KEY: {e}"))?;
    }
    let state = s3gw::server::state(config, credentials)
        .await
        .map_err(|e| format!("cannot open the store ({where_}): {e}"))?;
    say(format_args!("s3gw serving S3 at http://{addr} ({where_})"));
    match &creds.origin {
        CredentialOrigin::Environment => {
            say(format_args!(
                "  credentials: from S3GW_ROOT_ACCESS_KEY / S3GW_ROOT_SECRET_KEY"
            ));
        }
        CredentialOrigin::Stored(path) => {
            say(format_args!(
                "  credentials: access key {access_key}; secret stored in {}",
                path.display()
            ));
        }
        CredentialOrigin::Generated(path) => {
            say(format_args!(
                "  generated root credentials (shown once; kept in {}):",
                path.display()
            ));
            say(format_args!("    AWS_ACCESS_KEY_ID={access_key}"));
            say(format_args!(
                "    AWS_SECRET_ACCESS_KEY={}",
                state.root_secret_key.expose()
            ));
        }
    }
    match &kek {
        None => say(format_args!(
            "  access keys: off (set S3GW_KEY_ENCRYPTION_KEY, the same on every gateway, to create and use them)"
        )),
        Some((_, CredentialOrigin::Environment)) => say(format_args!(
            "  access keys: secrets sealed with S3GW_KEY_ENCRYPTION_KEY"
        )),
        Some((_, CredentialOrigin::Stored(p) | CredentialOrigin::Generated(p))) => say(format_args!(
            "  access keys: secrets sealed with the key in {}",
            p.display()
        )),
    }
    match admin_addr {
        Some(at) => say(format_args!(
            "  dashboard: http://{at}/_s3gw/dashboard/ (log in with the root pair)"
        )),
        None => say(format_args!(
            "  dashboard: off (--admin-listen ADDR turns it on)"
        )),
    }
    say(format_args!(
        "  try: AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… aws --endpoint-url http://{addr} s3 ls"
    ));
    s3gw::server::serve_with_admin(listener, admin, state, s3gw::server::shutdown_signal()).await;
    Ok(())
}
