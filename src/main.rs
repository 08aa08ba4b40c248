//! `s3gw`: configuration, telemetry, and running the server.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use s3gw::config::{root_credentials, Config, CredentialOrigin, ServeArgs};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "s3gw", version, about = "S3-compatible object storage gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve S3 on the embedded store.
    Serve(ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("S3GW_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve(args) = cli.command;
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
    match runtime.block_on(serve(args)) {
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

async fn serve(args: ServeArgs) -> Result<(), String> {
    let config = Config::resolve(&args)?;
    let creds = root_credentials(&config.data_dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let data_dir = config.data_dir.clone();
    let access_key = creds.access_key.clone();
    let state = s3gw::server::embedded_state(config, creds.access_key, creds.secret_key)
        .map_err(|e| format!("cannot open the store in {}: {e}", data_dir.display()))?;
    say(format_args!(
        "s3gw serving S3 at http://{addr} (data in {})",
        data_dir.display()
    ));
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
    say(format_args!(
        "  try: AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… aws --endpoint-url http://{addr} s3 ls"
    ));
    s3gw::server::serve(listener, state, s3gw::server::shutdown_signal()).await;
    Ok(())
}
