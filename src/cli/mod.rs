//! `s3gw admin`: the command-line client of the gateway's admin API
//! (access keys and their permissions on buckets), over signed HTTP.
//!
//! * [`args`]: the clap types and their `--help`.
//! * [`client`]: [`AdminClient`], one typed call per admin request.
//! * [`error`]: [`AdminError`] and the message that names the fix.
//! * [`output`]: the text and JSON printed for each answer.
//! * `sign` and `transport`: the SigV4 signature (the crate's own
//!   primitives) and one HTTP/1.1 exchange over TCP or TLS.
//!
//! This module owns the glue: credentials from the environment, one call,
//! its output on stdout, and `s3gw admin: <message>` with exit status 1 on
//! failure. The secret is printed only by `key create`, once.

pub mod args;
pub mod client;
pub mod error;
pub mod output;
mod sign;
mod transport;

use std::io::Write;
use std::process::ExitCode;

pub use args::AdminArgs;
pub use client::AdminClient;
pub use error::AdminError;

use args::{AdminCommand, BucketCommand, KeyCommand};

/// Runs one `s3gw admin` command; prints its failure as
/// `s3gw admin: <message>` and exits 1.
pub async fn run(args: AdminArgs) -> ExitCode {
    match execute(args, |name| std::env::var(name).ok()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("s3gw admin: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The command, with the environment read through `env`.
async fn execute(args: AdminArgs, env: impl Fn(&str) -> Option<String>) -> Result<(), String> {
    let endpoint = args
        .endpoint
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .ok_or("no endpoint: set S3GW_ENDPOINT or pass --endpoint (e.g. http://127.0.0.1:9000)")?;
    let (access_key, secret) = credentials(env)?;
    let client = AdminClient::new(endpoint, &access_key, &secret, &args.region)
        .map_err(|e| e.to_string())?;
    let failed = |e: AdminError| e.to_string();
    let text = match args.command {
        AdminCommand::Key(KeyCommand::Create {
            name,
            create_bucket,
            admin,
            json,
        }) => {
            let key = client
                .create_key(&name, create_bucket, admin)
                .await
                .map_err(failed)?;
            let text = if json {
                output::json(&key)
            } else {
                output::created_key(&key)?
            };
            emit(&text)?;
            eprintln!("{}", output::SECRET_SHOWN_ONCE);
            return Ok(());
        }
        AdminCommand::Key(KeyCommand::List { json }) => {
            let keys = client.list_keys().await.map_err(failed)?;
            shown(&keys, json, output::key_list)
        }
        AdminCommand::Key(KeyCommand::Info {
            access_key_id,
            json,
        }) => {
            let key = client.key_info(&access_key_id).await.map_err(failed)?;
            shown(&key, json, output::key_info)
        }
        AdminCommand::Key(KeyCommand::Delete { access_key_id }) => {
            client.delete_key(&access_key_id).await.map_err(failed)?;
            output::deleted_key(&access_key_id)
        }
        AdminCommand::Bucket(BucketCommand::Allow(g)) => {
            let bucket = client
                .allow(&g.bucket, &g.key, g.read, g.write, g.owner)
                .await
                .map_err(failed)?;
            output::bucket_info(&bucket)
        }
        AdminCommand::Bucket(BucketCommand::Deny(g)) => {
            let bucket = client
                .deny(&g.bucket, &g.key, g.read, g.write, g.owner)
                .await
                .map_err(failed)?;
            output::bucket_info(&bucket)
        }
        AdminCommand::Bucket(BucketCommand::Info { bucket, json }) => {
            let answer = client.bucket_info(&bucket).await.map_err(failed)?;
            shown(&answer, json, output::bucket_info)
        }
    };
    emit(&text)
}

/// The answer as JSON, or through `text`.
fn shown(answer: &serde_json::Value, json: bool, text: fn(&serde_json::Value) -> String) -> String {
    if json {
        output::json(answer)
    } else {
        text(answer)
    }
}

/// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`; the error names what
/// is missing. An empty value counts as missing.
fn credentials(env: impl Fn(&str) -> Option<String>) -> Result<(String, String), String> {
    let get = |name: &str| env(name).filter(|v| !v.is_empty());
    match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Ok((id, secret)),
        (id, secret) => {
            let missing: Vec<&str> = [
                id.is_none().then_some("AWS_ACCESS_KEY_ID"),
                secret.is_none().then_some("AWS_SECRET_ACCESS_KEY"),
            ]
            .into_iter()
            .flatten()
            .collect();
            Err(format!(
                "no credentials: set {} to the root pair or to a key created with --admin",
                missing.join(" and ")
            ))
        }
    }
}

/// Writes `text` to stdout, ending in a newline.
fn emit(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    let end: &[u8] = if text.is_empty() || text.ends_with('\n') {
        b""
    } else {
        b"\n"
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(end))
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write the output: {e}"))
}

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};

    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn credentials_come_from_the_environment_and_name_what_is_missing() {
        let both = [("AWS_ACCESS_KEY_ID", "K"), ("AWS_SECRET_ACCESS_KEY", "S")];
        assert_eq!(credentials(env(&both)), Ok(("K".into(), "S".into())));
        assert_eq!(
            credentials(env(&[("AWS_ACCESS_KEY_ID", "K")])).unwrap_err(),
            "no credentials: set AWS_SECRET_ACCESS_KEY to the root pair or to a key created with --admin"
        );
        let empty = [("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "S")];
        assert!(credentials(env(&empty))
            .unwrap_err()
            .contains("set AWS_ACCESS_KEY_ID to"));
        assert!(credentials(env(&[]))
            .unwrap_err()
            .contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
    }

    fn admin_args(line: &str) -> AdminArgs {
        let cmd = AdminArgs::augment_args(clap::Command::new("admin"));
        let matches = cmd.try_get_matches_from(line.split_whitespace()).unwrap();
        AdminArgs::from_arg_matches(&matches).unwrap()
    }

    #[tokio::test]
    async fn a_missing_endpoint_or_credential_names_the_fix() {
        let mut args = admin_args("admin key list");
        args.endpoint = None;
        let e = execute(args, env(&[])).await.unwrap_err();
        assert!(e.contains("set S3GW_ENDPOINT or pass --endpoint"), "{e}");
        let args = admin_args("admin --endpoint http://127.0.0.1:1 key list");
        let e = execute(args, env(&[])).await.unwrap_err();
        assert!(e.starts_with("no credentials"), "{e}");
        let args = admin_args("admin --endpoint 127.0.0.1:7480 key list");
        let both = [("AWS_ACCESS_KEY_ID", "K"), ("AWS_SECRET_ACCESS_KEY", "S")];
        let e = execute(args, env(&both)).await.unwrap_err();
        assert!(e.contains("has no scheme"), "{e}");
    }
}
