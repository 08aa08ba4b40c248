//! The command line of `s3gw admin`: clap types only, no behaviour.
//!
//! Owns the subcommands, their options and their `--help` text. The
//! credentials are deliberately not options: a secret on the command line
//! ends up in shell history and in `ps`.

use clap::{ArgGroup, Args, Subcommand};

/// `s3gw admin`: where the gateway is, and what to do there.
#[derive(Args, Debug)]
#[command(
    after_help = "Requests are signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
    from the environment (never from the command line): the gateway's root pair, or a key \
    created with --admin. For https, the system's root certificates are trusted; \
    SSL_CERT_FILE names another CA bundle."
)]
pub struct AdminArgs {
    /// The gateway's S3 endpoint, e.g. http://127.0.0.1:9000 (on a
    /// cluster, the Nginx in front of the gateways).
    #[arg(
        long,
        env = "S3GW_ENDPOINT",
        global = true,
        value_name = "URL",
        help_heading = "Gateway"
    )]
    pub endpoint: Option<String>,
    /// The gateway's region, which requests are signed for.
    #[arg(
        long,
        env = "AWS_REGION",
        default_value = "us-east-1",
        global = true,
        value_name = "REGION",
        help_heading = "Gateway"
    )]
    pub region: String,
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// What `s3gw admin` manages.
#[derive(Subcommand, Debug, PartialEq, Eq)]
pub enum AdminCommand {
    /// Create, list, show and delete access keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Give keys permissions on a bucket, take them back, show a bucket.
    #[command(subcommand)]
    Bucket(BucketCommand),
}

/// `s3gw admin key …`.
#[derive(Subcommand, Debug, PartialEq, Eq)]
pub enum KeyCommand {
    /// Create an access key; its secret is shown only this once.
    ///
    /// Prints AWS_ACCESS_KEY_ID=… and AWS_SECRET_ACCESS_KEY=… on stdout
    /// (or, with --json, the gateway's object). A new key may do nothing
    /// until `s3gw admin bucket allow` grants it a bucket, or
    /// --create-bucket lets it create its own.
    Create {
        /// The key's name: 1 to 64 of A-Z a-z 0-9 . _ -
        name: String,
        /// Let the key create buckets (it owns those it creates).
        #[arg(long)]
        create_bucket: bool,
        /// Let the key use this admin API (manage keys and grants).
        #[arg(long)]
        admin: bool,
        /// Print the gateway's JSON object instead (secret included).
        #[arg(long)]
        json: bool,
    },
    /// List the access keys (never their secrets).
    List {
        /// Print the gateway's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a key and its permissions on each bucket.
    Info {
        /// The key's access key id (see `s3gw admin key list`).
        access_key_id: String,
        /// Print the gateway's JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Delete an access key: requests signed with it fail from now on.
    Delete {
        /// The key's access key id (see `s3gw admin key list`).
        access_key_id: String,
    },
}

/// `s3gw admin bucket …`.
#[derive(Subcommand, Debug, PartialEq, Eq)]
pub enum BucketCommand {
    /// Give a key permissions on a bucket; the others it holds stay.
    Allow(GrantArgs),
    /// Take permissions on a bucket away from a key; the others stay.
    Deny(GrantArgs),
    /// Show a bucket: its owner, the keys granted on it, its policy, its
    /// object count and size.
    Info {
        /// The bucket's name.
        bucket: String,
        /// Print the gateway's JSON instead.
        #[arg(long)]
        json: bool,
    },
}

/// A bucket, a key and the permissions to give or take (at least one).
#[derive(Args, Debug, PartialEq, Eq)]
#[command(group(
    ArgGroup::new("permission")
        .required(true)
        .multiple(true)
        .args(["read", "write", "owner"])
))]
pub struct GrantArgs {
    /// The bucket's name.
    pub bucket: String,
    /// The access key id of the key concerned.
    #[arg(long, value_name = "ACCESS_KEY_ID")]
    pub key: String,
    /// List the bucket and read its objects.
    #[arg(long)]
    pub read: bool,
    /// Write and delete its objects.
    #[arg(long)]
    pub write: bool,
    /// Manage the bucket itself (policy, settings, deletion).
    #[arg(long)]
    pub owner: bool,
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;
    use clap::{CommandFactory, Parser};

    use super::*;

    /// `s3gw` with only the `admin` subcommand, as main.rs nests it.
    #[derive(Parser, Debug)]
    #[command(name = "s3gw")]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(Subcommand, Debug)]
    enum Top {
        Admin(AdminArgs),
    }

    fn parse(line: &str) -> Result<AdminArgs, clap::Error> {
        let Top::Admin(args) = Cli::try_parse_from(line.split_whitespace())?.command;
        Ok(args)
    }

    fn command(line: &str) -> AdminCommand {
        parse(line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .command
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn key_commands() {
        assert_eq!(
            command("s3gw admin key create backup --create-bucket --json"),
            AdminCommand::Key(KeyCommand::Create {
                name: "backup".into(),
                create_bucket: true,
                admin: false,
                json: true
            })
        );
        assert_eq!(
            command("s3gw admin key create ops --admin"),
            AdminCommand::Key(KeyCommand::Create {
                name: "ops".into(),
                create_bucket: false,
                admin: true,
                json: false
            })
        );
        assert_eq!(
            command("s3gw admin key list"),
            AdminCommand::Key(KeyCommand::List { json: false })
        );
        assert_eq!(
            command("s3gw admin key info K1 --json"),
            AdminCommand::Key(KeyCommand::Info {
                access_key_id: "K1".into(),
                json: true
            })
        );
        assert_eq!(
            command("s3gw admin key delete K1"),
            AdminCommand::Key(KeyCommand::Delete {
                access_key_id: "K1".into()
            })
        );
    }

    #[test]
    fn bucket_commands() {
        assert_eq!(
            command("s3gw admin bucket allow b --key K1 --read --write"),
            AdminCommand::Bucket(BucketCommand::Allow(GrantArgs {
                bucket: "b".into(),
                key: "K1".into(),
                read: true,
                write: true,
                owner: false
            }))
        );
        assert_eq!(
            command("s3gw admin bucket deny b --owner --key K1"),
            AdminCommand::Bucket(BucketCommand::Deny(GrantArgs {
                bucket: "b".into(),
                key: "K1".into(),
                read: false,
                write: false,
                owner: true
            }))
        );
        assert_eq!(
            command("s3gw admin bucket info b"),
            AdminCommand::Bucket(BucketCommand::Info {
                bucket: "b".into(),
                json: false
            })
        );
    }

    #[test]
    fn a_grant_needs_a_permission_and_a_key() {
        for line in [
            "s3gw admin bucket allow b --key K1",
            "s3gw admin bucket deny b --key K1",
        ] {
            let e = parse(line).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument, "{line}");
            let text = e.to_string();
            for flag in ["--read", "--write", "--owner"] {
                assert!(text.contains(flag), "{line}: {text}");
            }
        }
        let e = parse("s3gw admin bucket allow b --read").unwrap_err();
        assert!(e.to_string().contains("--key"), "{e}");
    }

    #[test]
    fn global_options_go_anywhere_and_secrets_are_not_options() {
        let args = parse("s3gw admin key list --endpoint http://gw:7480 --region eu-1").unwrap();
        assert_eq!(args.endpoint.as_deref(), Some("http://gw:7480"));
        assert_eq!(args.region, "eu-1");
        let args = parse("s3gw admin --endpoint http://gw:7480 key list").unwrap();
        assert_eq!(args.endpoint.as_deref(), Some("http://gw:7480"));
        for secret in ["--secret-key", "--access-key", "--secret-access-key"] {
            let e = parse(&format!("s3gw admin key list {secret} x")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::UnknownArgument, "{secret}");
        }
        assert_eq!(
            parse("s3gw admin key create").unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn every_command_explains_itself() {
        let mut cli = Cli::command();
        let admin = cli.find_subcommand_mut("admin").expect("admin");
        let help = admin.render_long_help().to_string();
        assert!(
            help.contains("AWS_SECRET_ACCESS_KEY") && help.contains("S3GW_ENDPOINT"),
            "{help}"
        );
        for group in admin.get_subcommands_mut() {
            for sub in group.get_subcommands_mut() {
                let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
                assert!(about.len() > 20, "{}: {about}", sub.get_name());
            }
        }
    }
}
