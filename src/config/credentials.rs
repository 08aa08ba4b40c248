//! The root access key pair: from the environment, else stored in the
//! data directory, else generated there once.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::Rng;
use serde::Deserialize;

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

/// `len` characters drawn uniformly from `alphabet`.
pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
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

const KEK_FILE: &str = "key-encryption-key";

/// The key that seals stored access keys' secrets (`crate::access::seal`):
/// `S3GW_KEY_ENCRYPTION_KEY`; else, when `in_data_dir` (the embedded
/// store, whose one gateway owns its data directory), the one kept in the
/// data directory, generated there once (mode 0600). `None` otherwise:
/// gateways that share a Cassandra keyspace must share this key, so it
/// must come from their configuration.
pub fn key_encryption_key(
    data_dir: &Path,
    in_data_dir: bool,
) -> Result<Option<(String, CredentialOrigin)>, String> {
    if let Some(k) = std::env::var("S3GW_KEY_ENCRYPTION_KEY")
        .ok()
        .filter(|s| !s.is_empty())
    {
        return Ok(Some((k, CredentialOrigin::Environment)));
    }
    if !in_data_dir {
        return Ok(None);
    }
    let path = data_dir.join(KEK_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return Ok(Some((
            text.trim().to_owned(),
            CredentialOrigin::Stored(path),
        )));
    }
    let kek = random_string(
        48,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    );
    crate::private_fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    write_private(&path, &format!("{kek}\n"))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Some((kek, CredentialOrigin::Generated(path))))
}
