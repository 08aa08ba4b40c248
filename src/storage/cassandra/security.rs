//! How the gateway proves itself to Cassandra and checks the nodes: a
//! username and password (Cassandra's `PasswordAuthenticator`) and TLS with
//! CA verification and an optional client certificate. The password never
//! reaches a log: [`Password`] prints as `***`.

use std::convert::Infallible;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A Cassandra password. `Debug` prints a placeholder; read it with
/// [`Password::expose`] only to hand it to the driver.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(password: String) -> Password {
        Password(password)
    }

    /// The password itself. Never log or format the result.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl FromStr for Password {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Password, Infallible> {
        Ok(Password(s.to_owned()))
    }
}

/// A username and its password.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub username: String,
    pub password: Password,
}

/// TLS to the nodes: the client configuration built from the files, and
/// the files, for messages.
#[derive(Clone)]
pub struct Tls {
    pub(crate) config: Arc<rustls::ClientConfig>,
    /// The CA file, or `None` for the system's roots.
    pub ca_file: Option<PathBuf>,
    /// The client certificate, if one is presented.
    pub cert_file: Option<PathBuf>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

/// The security settings as given, before they are checked.
#[derive(Default, Clone, Debug)]
pub struct SecuritySettings {
    pub username: Option<String>,
    pub password: Option<Password>,
    pub password_file: Option<PathBuf>,
    pub tls: Option<bool>,
    pub tls_ca_file: Option<PathBuf>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
}

impl SecuritySettings {
    /// From the environment variables that the flags also read
    /// (`S3GW_CASSANDRA_USERNAME`, …), for tools and tests that build
    /// their options in code.
    pub fn from_env() -> SecuritySettings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        SecuritySettings {
            username: var("S3GW_CASSANDRA_USERNAME"),
            password: var("S3GW_CASSANDRA_PASSWORD").map(Password),
            password_file: var("S3GW_CASSANDRA_PASSWORD_FILE").map(PathBuf::from),
            tls: var("S3GW_CASSANDRA_TLS").map(|v| v == "true" || v == "1"),
            tls_ca_file: var("S3GW_CASSANDRA_TLS_CA_FILE").map(PathBuf::from),
            tls_cert_file: var("S3GW_CASSANDRA_TLS_CERT_FILE").map(PathBuf::from),
            tls_key_file: var("S3GW_CASSANDRA_TLS_KEY_FILE").map(PathBuf::from),
        }
    }

    /// Checks the combination and reads the files: the credentials (if a
    /// username is given) and the TLS configuration (if TLS is on, or any
    /// of its files is given).
    pub(crate) fn resolve(self) -> Result<(Option<Credentials>, Option<Tls>), String> {
        Ok((self.credentials()?, self.tls()?))
    }

    fn credentials(&self) -> Result<Option<Credentials>, String> {
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => {
                return Err("cassandra password and password_file are both set: give one".into())
            }
            (Some(p), None) => Some(p.clone()),
            (None, Some(path)) => Some(read_password(path)?),
            (None, None) => None,
        };
        match (&self.username, password) {
            (Some(username), Some(password)) => Ok(Some(Credentials {
                username: username.clone(),
                password,
            })),
            (Some(_), None) => Err("cassandra username is set without a password \
                                    (password or password_file)"
                .into()),
            (None, Some(_)) => Err("cassandra password is set without a username".into()),
            (None, None) => Ok(None),
        }
    }

    fn tls(&self) -> Result<Option<Tls>, String> {
        let any_file = self.tls_ca_file.is_some()
            || self.tls_cert_file.is_some()
            || self.tls_key_file.is_some();
        match self.tls {
            Some(false) if any_file => {
                return Err("cassandra tls is off, but a tls_*_file is set".into())
            }
            Some(false) => return Ok(None),
            None if !any_file => return Ok(None),
            _ => {}
        }
        let roots = match &self.tls_ca_file {
            Some(path) => pem_roots(path)?,
            None => system_roots()?,
        };
        // ring, as for `s3gw admin` over https: the provider is named, not
        // guessed from the crate features the dependencies happen to enable.
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cassandra tls: {e}"))?
        .with_root_certificates(roots);
        let config = match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(pem_certs(cert)?, pem_key(key)?)
                .map_err(|e| {
                    format!(
                        "cassandra tls: the client certificate {} does not fit its key {}: {e}",
                        cert.display(),
                        key.display()
                    )
                })?,
            (None, None) => builder.with_no_client_auth(),
            _ => {
                return Err(
                    "cassandra tls_cert_file and tls_key_file go together: give both or \
                            neither"
                        .into(),
                )
            }
        };
        Ok(Some(Tls {
            config: Arc::new(config),
            ca_file: self.tls_ca_file.clone(),
            cert_file: self.tls_cert_file.clone(),
        }))
    }
}

/// The first line of a password file, without its line ending.
fn read_password(path: &Path) -> Result<Password, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cassandra password_file {}: {e}", path.display()))?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(format!(
            "cassandra password_file {}: the first line is empty",
            path.display()
        ));
    }
    Ok(Password(line.to_owned()))
}

fn pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cassandra tls: {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "cassandra tls: {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(certs)
}

fn pem_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("cassandra tls: private key {}: {e}", path.display()))
}

fn pem_roots(path: &Path) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in pem_certs(path)? {
        roots
            .add(cert)
            .map_err(|e| format!("cassandra tls: CA file {}: {e}", path.display()))?;
    }
    Ok(roots)
}

fn system_roots() -> Result<rustls::RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(
            "cassandra tls: no CA file given and no system root certificate found \
                    (set tls_ca_file)"
                .into(),
        );
    }
    Ok(roots)
}

/// Why a failed connection attempt will not succeed by waiting: the
/// cluster refused the credentials, or a node's certificate did not
/// verify, or TLS did not agree. `None` for everything else (nodes down,
/// refused connections, timeouts), which is worth retrying.
pub(crate) fn hopeless(error: &str) -> Option<&'static str> {
    let e = error.to_ascii_lowercase();
    if auth_unavailable(error) {
        None
    } else if e.contains("authentication") || e.contains("bad credentials") {
        Some("Cassandra refused the username or password")
    } else if e.contains("certificaterequired") {
        Some("the node requires a client certificate (tls_cert_file and tls_key_file)")
    } else if e.contains("invalid peer certificate") || e.contains("unknownissuer") {
        Some("a Cassandra node's certificate did not verify against the CA (tls_ca_file)")
    } else if e.contains("certificate") || e.contains("handshake") || e.contains("tls") {
        Some("the TLS handshake with Cassandra failed")
    } else if e.contains("authenticator") {
        Some("Cassandra asks for authentication: set a username and password")
    } else {
        None
    }
}

/// Whether a refusal to authenticate or authorize is the node failing to
/// read its roles (`system_auth`) rather than a verdict: with quorum lost,
/// Cassandra answers "Unable to perform authorization of super-user
/// permission: Cannot achieve consistency level LOCAL_QUORUM" (or
/// "Operation timed out"), which passes once the nodes are back.
pub(crate) fn auth_unavailable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("cannot achieve consistency level") || m.contains("operation timed out")
}

/// A hint for a failed attempt that is retried: a node that requires TLS
/// resets a plain connection, which otherwise reads like a network fault.
pub(crate) fn retry_hint(error: &str, tls: bool) -> &'static str {
    if !tls && error.to_ascii_lowercase().contains("connection reset") {
        " (a node that requires TLS resets plain connections: is --cassandra-tls needed?)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_prints() {
        let p: Password = "hunter2-secret".parse().unwrap_or_else(|e| match e {});
        assert_eq!(format!("{p:?}"), "Password(***)");
        let c = Credentials {
            username: "s3gw".into(),
            password: p,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn refusals() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").expect("write");
        for (s, message) in [
            (
                SecuritySettings {
                    username: Some("u".into()),
                    ..Default::default()
                },
                "cassandra username is set without a password (password or password_file)",
            ),
            (
                SecuritySettings {
                    password: Some(Password("p".into())),
                    ..Default::default()
                },
                "cassandra password is set without a username",
            ),
            (
                SecuritySettings {
                    username: Some("u".into()),
                    password: Some(Password("p".into())),
                    password_file: Some(empty.clone()),
                    ..Default::default()
                },
                "cassandra password and password_file are both set: give one",
            ),
            (
                SecuritySettings {
                    tls: Some(false),
                    tls_ca_file: Some(empty.clone()),
                    ..Default::default()
                },
                "cassandra tls is off, but a tls_*_file is set",
            ),
        ] {
            assert_eq!(s.resolve().err().as_deref(), Some(message));
        }
        let s = SecuritySettings {
            username: Some("u".into()),
            password_file: Some(empty.clone()),
            ..Default::default()
        };
        let err = s.resolve().err().unwrap_or_default();
        assert!(err.ends_with("the first line is empty"), "{err}");
        let s = SecuritySettings {
            tls_ca_file: Some(empty.clone()),
            ..Default::default()
        };
        let err = s.resolve().err().unwrap_or_default();
        assert!(err.ends_with("holds no PEM certificate"), "{err}");
        let s = SecuritySettings {
            tls_ca_file: Some(dir.path().join("missing.pem")),
            ..Default::default()
        };
        let err = s.resolve().err().unwrap_or_default();
        assert!(err.contains("missing.pem"), "{err}");
    }

    #[test]
    fn a_password_file_gives_its_first_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret pass\nignored\n").expect("write");
        let s = SecuritySettings {
            username: Some("s3gw".into()),
            password_file: Some(path),
            ..Default::default()
        };
        let (creds, tls) = s.resolve().expect("resolve");
        let creds = creds.expect("credentials");
        assert_eq!(creds.password.expose(), "s3cret pass");
        assert!(tls.is_none());
    }

    #[test]
    fn hopeless_errors_are_named() {
        assert!(hopeless("Connection refused (os error 111)").is_none());
        assert!(hopeless("timed out").is_none());
        assert!(hopeless(
            "Database returned an error: AuthenticationError, Provided username s3gw and/or password are incorrect"
        )
        .is_some());
        assert!(hopeless("invalid peer certificate: UnknownIssuer").is_some());
        assert!(hopeless("received fatal alert: CertificateRequired")
            .is_some_and(|m| m.contains("client certificate")));
        // The roles could not be read: quorum lost, not a verdict.
        assert!(hopeless(
            "Database returned an error: AuthenticationError, Unable to perform authentication: \
             Cannot achieve consistency level LOCAL_QUORUM"
        )
        .is_none());
        assert!(auth_unavailable(
            "Unable to perform authorization of super-user permission: \
             Cannot achieve consistency level LOCAL_QUORUM"
        ));
        assert!(!auth_unavailable(
            "User s3gw has no SELECT permission on <table s3gw.objects> or any of its parents"
        ));
        assert_eq!(retry_hint("Connection reset by peer", true), "");
        assert!(retry_hint("Connection reset by peer", false).contains("--cassandra-tls"));
    }
}
