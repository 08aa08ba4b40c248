//! Every gateway's copy of the stored access keys, so that authenticating
//! a request reads memory, not the backend.
//!
//! Freshness: a task reads the backend's key epoch every
//! [`POLL_INTERVAL`] (one small read) and reloads every key when it moved,
//! so a created, changed or deleted key takes effect on every gateway
//! within [`CHANGE_BOUND`]. The gateway that made a change reloads at once.
//! A key this gateway does not know yet (created on another gateway a
//! moment ago) is looked up once in the backend, at most
//! [`MISS_LOOKUPS`] at a time, and an id found nowhere is remembered as
//! unknown for [`POLL_INTERVAL`]: unknown ids cannot make a gateway
//! hammer the backend.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::Sealer;
use crate::auth::SecretKey;
use crate::storage::{KeyRecord, KeyStore, StorageError};

/// How often each gateway checks the key epoch.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The documented bound: a key change is seen by every gateway within it
/// (a poll interval, plus the reload).
pub const CHANGE_BOUND: Duration = Duration::from_secs(2);
/// Backend lookups of unknown key ids at once.
pub const MISS_LOOKUPS: usize = 4;
/// Unknown ids remembered at most (the list is cleared when full).
const MAX_UNKNOWN: usize = 10_000;

/// A stored key as a request sees it: its secret opened.
pub struct Key {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    pub create_bucket: bool,
    pub admin: bool,
    pub secret: SecretKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({} {:?})", self.id, self.name)
    }
}

type KeyMap = HashMap<String, Arc<Key>>;

/// The keys this gateway knows, by access key id.
pub struct KeyCache {
    store: Arc<dyn KeyStore>,
    sealer: Option<Arc<Sealer>>,
    keys: RwLock<Arc<KeyMap>>,
    /// The epoch the map was loaded at.
    epoch: Mutex<Option<String>>,
    /// Bumped by every reload: a lookup that raced with one is not kept.
    generation: AtomicU64,
    unknown: Mutex<HashMap<String, Instant>>,
    lookups: Semaphore,
    /// Serializes reloads.
    reloading: tokio::sync::Mutex<()>,
}

impl KeyCache {
    /// An empty cache over `store`; call [`KeyCache::reload`] and
    /// [`KeyCache::spawn_poller`] to fill it and keep it fresh.
    pub fn new(store: Arc<dyn KeyStore>, sealer: Option<Arc<Sealer>>) -> Arc<KeyCache> {
        Arc::new(KeyCache {
            store,
            sealer,
            keys: RwLock::new(Arc::new(KeyMap::new())),
            epoch: Mutex::new(None),
            generation: AtomicU64::new(0),
            unknown: Mutex::new(HashMap::new()),
            lookups: Semaphore::new(MISS_LOOKUPS),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// Whether stored keys can be opened (a key-encryption key is set).
    pub fn sealer(&self) -> Option<&Arc<Sealer>> {
        self.sealer.as_ref()
    }

    /// Every key this gateway knows.
    pub fn all(&self) -> Arc<KeyMap> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The key `id`, from memory, else (for an id not known to be unknown)
    /// from the backend.
    pub async fn lookup(&self, id: &str) -> Option<Arc<Key>> {
        if let Some(k) = self.all().get(id) {
            return Some(k.clone());
        }
        if self.sealer.is_none() || self.known_unknown(id) {
            return None;
        }
        let _permit = self.lookups.try_acquire().ok()?;
        let generation = self.generation.load(Ordering::SeqCst);
        let found = match self.store.get_key(id).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up an access key");
                return None;
            }
        };
        let Some(key) = found.and_then(|r| self.open(r)) else {
            self.remember_unknown(id);
            return None;
        };
        let key = Arc::new(key);
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        // A reload since the read may have dropped this key (deleted):
        // keep only what no reload has superseded.
        if self.generation.load(Ordering::SeqCst) == generation {
            let mut map = KeyMap::clone(&keys);
            map.insert(key.id.clone(), key.clone());
            *keys = Arc::new(map);
        }
        Some(key)
    }

    fn known_unknown(&self, id: &str) -> bool {
        let unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
        unknown
            .get(id)
            .is_some_and(|at| at.elapsed() < POLL_INTERVAL)
    }

    fn remember_unknown(&self, id: &str) {
        let mut unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
        if unknown.len() >= MAX_UNKNOWN {
            unknown.clear();
        }
        unknown.insert(id.to_owned(), Instant::now());
    }

    /// The key of a stored record, its secret opened; `None` (and a
    /// warning) when it does not open.
    fn open(&self, r: KeyRecord) -> Option<Key> {
        let sealer = self.sealer.as_ref()?;
        match sealer.open(&r.id, &r.sealed_secret) {
            Ok(secret) => Some(Key {
                id: r.id,
                name: r.name,
                created_ms: r.created_ms,
                create_bucket: r.create_bucket,
                admin: r.admin,
                secret,
            }),
            Err(e) => {
                tracing::warn!(key = %r.id, error = %e, "access key unusable: its secret does not open");
                None
            }
        }
    }

    /// Reloads every key if the backend's epoch moved since the last load.
    pub async fn refresh(&self) -> Result<(), StorageError> {
        let epoch = self.store.keys_epoch().await?;
        let current = self.epoch.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if current.as_deref() == Some(epoch.as_str()) {
            return Ok(());
        }
        self.reload().await
    }

    /// Reloads every key now (after a change this gateway made).
    pub async fn reload(&self) -> Result<(), StorageError> {
        let _one = self.reloading.lock().await;
        // The epoch is read first: a change after it moves it again, and
        // the next poll reloads.
        let epoch = self.store.keys_epoch().await?;
        let records = self.store.list_keys().await?;
        let map: KeyMap = records
            .into_iter()
            .filter_map(|r| self.open(r))
            .map(|k| (k.id.clone(), Arc::new(k)))
            .collect();
        {
            let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
            self.generation.fetch_add(1, Ordering::SeqCst);
            *keys = Arc::new(map);
        }
        *self.epoch.lock().unwrap_or_else(|p| p.into_inner()) = Some(epoch);
        self.unknown
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }

    /// Polls the epoch every [`POLL_INTERVAL`] until the cache is dropped.
    pub fn spawn_poller(self: &Arc<Self>) {
        let weak: Weak<KeyCache> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut warned: Option<Instant> = None;
            loop {
                tokio::time::sleep(POLL_INTERVAL).await;
                let Some(cache) = weak.upgrade() else { return };
                if let Err(e) = cache.refresh().await {
                    if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                        tracing::warn!(error = %e, "cannot refresh the access keys; serving the last ones loaded");
                        warned = Some(Instant::now());
                    }
                }
            }
        });
    }
}
