//! Who may sign requests: the root pair from the configuration and the
//! access keys stored in the backend (issue 17). Below the S3 handlers, the
//! admin API and the dashboard, which all read it through `AppState`.
//!
//! - [`seal`]: secrets encrypted at rest under the key-encryption key.
//! - [`cache`]: every gateway's in-memory copy of the keys, so that
//!   authenticating a request costs no backend read.
//! - [`policy`]: bucket policies, the public-read subset (parsed and
//!   checked; not yet stored or applied).

pub mod cache;
pub mod policy;
pub mod seal;

use std::sync::Arc;

use crate::auth::SecretKey;
use crate::storage::{BucketRecord, Grant};

pub use cache::{Key, KeyCache};
pub use seal::{SealError, Sealer};

/// The root pair and what seals the other keys' secrets.
pub struct Credentials {
    pub root_access_key: String,
    pub root_secret_key: SecretKey,
    /// `None` when no key-encryption key is configured: stored keys can
    /// then be neither created nor used.
    pub sealer: Option<Arc<Sealer>>,
}

impl Credentials {
    /// The root pair alone.
    pub fn root(access_key: impl Into<String>, secret_key: SecretKey) -> Credentials {
        Credentials {
            root_access_key: access_key.into(),
            root_secret_key: secret_key,
            sealer: None,
        }
    }

    /// With the key-encryption key `kek`.
    pub fn with_kek(mut self, kek: &str) -> Result<Credentials, String> {
        self.sealer = Some(Arc::new(Sealer::new(kek)?));
        Ok(self)
    }
}

use crate::config::random_string;

/// A fresh access key id: `S3GW` and 16 upper-case letters or digits.
pub fn new_access_key_id() -> String {
    format!(
        "S3GW{}",
        random_string(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    )
}

/// A fresh secret: 40 letters and digits (238 bits).
pub fn new_secret() -> SecretKey {
    SecretKey::new(random_string(
        40,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    ))
}

/// Who signed the request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The root pair from the configuration: every permission everywhere.
    Root,
    /// A stored access key: what its flags and the buckets' grants say.
    Key(Arc<Key>),
    /// A request without a signature: what a bucket's policy grants
    /// anyone (`policy`), and nothing else.
    Anonymous,
}

impl Principal {
    /// Whether it may do everything, the admin API included.
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::Root => true,
            Principal::Key(k) => k.admin,
            Principal::Anonymous => false,
        }
    }

    /// Who it is, for logs: `root`, the access key id, or `anonymous`.
    pub fn label(&self) -> &str {
        match self {
            Principal::Root => "root",
            Principal::Key(k) => &k.id,
            Principal::Anonymous => "anonymous",
        }
    }

    /// The access key id a bucket it creates records as its owner (empty
    /// for the root pair; anonymous callers create nothing).
    pub fn owner_key(&self) -> &str {
        match self {
            Principal::Root | Principal::Anonymous => "",
            Principal::Key(k) => &k.id,
        }
    }

    /// What it may do on `bucket`.
    pub fn grant_on(&self, bucket: &BucketRecord) -> Grant {
        match self {
            Principal::Key(k) if !k.admin => bucket.grant_of(&k.id),
            Principal::Anonymous => Grant::default(),
            Principal::Root | Principal::Key(_) => Grant::ALL,
        }
    }

    /// Whether ListBuckets shows it `bucket`: it may use it somehow.
    pub fn sees(&self, bucket: &BucketRecord) -> bool {
        !self.grant_on(bucket).is_empty()
    }
}
