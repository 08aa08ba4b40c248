//! One pass of one bucket's rules: a single walk per kind of record,
//! bounded to the prefixes the rules name (`decide::scope`), whatever the
//! number of rules.
//! - An unversioned bucket's current objects, through `list_objects`, for
//!   `Expiration`.
//! - A bucket that is or was versioned: every version, through
//!   `list_versions`, for `Expiration` (a delete marker on the current
//!   version; lone markers removed) and `NoncurrentVersionExpiration`.
//! - The bucket's uploads, through `list_uploads`, for
//!   `AbortIncompleteMultipartUpload`.
//!
//! Every action is conditional or harmless when repeated, so a pass that
//! runs twice (a lease that lapsed) or races a client does no wrong: a
//! current version is expired only if it is still the head that was read
//! (`WriteCondition::IfUnchanged`), and an object written since is left.

use std::ops::Bound;

use super::decide::{self, Clock};
use super::Held;
use crate::janitor;
use crate::storage::{
    BucketRecord, HeadStamp, ObjectHead, Storage, StorageError, VersionEntry, VersionsFrom,
    WriteCondition,
};
use crate::types::{Expiration, LifecycleConfig, ObjectKey, VersionRef};

/// Records read per listing call.
const PAGE: usize = 1000;

/// What a pass did.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Current versions deleted (unversioned) or hidden by a marker.
    pub expired: u64,
    /// Noncurrent versions deleted for good.
    pub versions_deleted: u64,
    /// Lone delete markers removed.
    pub markers_removed: u64,
    pub uploads_aborted: u64,
    /// Objects written or changed since they were read, left as they are.
    pub changed: u64,
    /// Records read: objects, versions (uploads are not counted).
    pub walked: u64,
}

impl Tally {
    pub(crate) fn acted(&self) -> bool {
        self.expired + self.versions_deleted + self.markers_removed + self.uploads_aborted > 0
    }
}

/// Why a pass ended early without a store error.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Another gateway holds the lease now; it does the work.
    LeaseLost,
    Store(StorageError),
}

impl From<StorageError> for Stop {
    fn from(e: StorageError) -> Self {
        Stop::Store(e)
    }
}

/// An action decided during a walk. A walk acts on a page only after it
/// has read the next one, so that the version it continues after still
/// exists when it asks for more.
enum Op {
    ExpireCurrent { key: String, head: Box<ObjectHead> },
    DeleteVersion { key: String, version: VersionRef },
    RemoveMarker { key: String, version: VersionRef },
}

/// A key's versions seen so far in a version walk.
struct KeyState {
    key: String,
    /// Its current version, if that is a delete marker.
    marker: Option<ObjectHead>,
    /// When the version seen last (the next one's successor) was made.
    successor_ms: i64,
    /// Noncurrent versions seen, and those kept.
    noncurrent: u32,
    kept: u32,
}

pub(crate) struct BucketPass<'a> {
    pub storage: &'a dyn Storage,
    pub bucket: &'a BucketRecord,
    pub config: &'a LifecycleConfig,
    pub clock: Clock,
    pub held: &'a mut Held,
    pub tally: Tally,
}

impl BucketPass<'_> {
    /// Runs every walk the bucket's rules need.
    pub(crate) async fn run(&mut self) -> Result<(), Stop> {
        if self.bucket.versioning.is_versioned() {
            self.walk_versions().await?;
        } else {
            self.walk_objects().await?;
        }
        self.walk_uploads().await
    }

    async fn walk_objects(&mut self) -> Result<(), Stop> {
        let dated =
            |e: &Option<Expiration>| matches!(e, Some(Expiration::Days(_) | Expiration::Date(_)));
        for prefix in decide::scope(self.config, |r| dated(&r.expiration)) {
            let mut after: Option<String> = None;
            loop {
                self.still_held().await?;
                let start = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                let page = self
                    .storage
                    .list_objects(self.bucket.id, &prefix, start, PAGE)
                    .await?;
                self.tally.walked += page.len() as u64;
                for e in &page {
                    if decide::current_expired(self.config, &e.key, &e.head, self.clock) {
                        self.expire_current(&e.key, &e.head).await?;
                    }
                }
                match page.last() {
                    Some(last) if page.len() >= PAGE => after = Some(last.key.clone()),
                    _ => break,
                }
            }
        }
        Ok(())
    }

    async fn walk_versions(&mut self) -> Result<(), Stop> {
        let scope = decide::scope(self.config, |r| {
            r.expiration.is_some() || r.noncurrent.is_some()
        });
        for prefix in scope {
            let mut state: Option<KeyState> = None;
            let mut pending: Vec<Op> = Vec::new();
            let mut after: Option<(String, VersionRef)> = None;
            loop {
                self.still_held().await?;
                let from = match &after {
                    None => VersionsFrom::Start,
                    Some((key, version)) => VersionsFrom::AfterVersion(key, version),
                };
                let page = self
                    .storage
                    .list_versions(self.bucket.id, &prefix, from, PAGE)
                    .await?;
                self.tally.walked += page.len() as u64;
                // The previous page's actions, now that this one is read.
                self.apply(std::mem::take(&mut pending)).await?;
                for e in &page {
                    self.visit(&mut state, e, &mut pending);
                }
                match page.last() {
                    Some(last) if page.len() >= PAGE => {
                        let version = VersionRef::of(last.head.version_id.as_ref());
                        after = Some((last.key.clone(), version));
                    }
                    _ => break,
                }
            }
            if let Some(s) = state.take() {
                self.finish_key(s, &mut pending);
            }
            self.apply(pending).await?;
        }
        Ok(())
    }

    /// Decides on one version, in listing order: keys in order, each
    /// key's versions newest first.
    fn visit(&self, state: &mut Option<KeyState>, e: &VersionEntry, ops: &mut Vec<Op>) {
        if state.as_ref().is_some_and(|s| s.key != e.key) {
            if let Some(done) = state.take() {
                self.finish_key(done, ops);
            }
        }
        let s = state.get_or_insert_with(|| KeyState {
            key: e.key.clone(),
            marker: None,
            // A key whose newest version listed is not current (never so
            // in a whole walk) has no known successor: nothing is due.
            successor_ms: self.clock.now_ms,
            noncurrent: 0,
            kept: 0,
        });
        let head = &e.head;
        if e.is_latest {
            if head.delete_marker {
                s.marker = Some(head.clone());
            } else if decide::current_expired(self.config, &e.key, head, self.clock) {
                ops.push(Op::ExpireCurrent {
                    key: e.key.clone(),
                    head: Box::new(head.clone()),
                });
            }
        } else {
            let due = decide::noncurrent_expired(
                self.config,
                &e.key,
                head,
                s.successor_ms,
                s.noncurrent,
                self.clock,
            );
            if due {
                ops.push(Op::DeleteVersion {
                    key: e.key.clone(),
                    version: VersionRef::of(head.version_id.as_ref()),
                });
            } else {
                s.kept += 1;
            }
            s.noncurrent += 1;
        }
        s.successor_ms = head.last_modified_ms;
    }

    /// A key's walk is over: a current marker with no version kept
    /// behind it is removed if a rule says so.
    fn finish_key(&self, s: KeyState, ops: &mut Vec<Op>) {
        let Some(marker) = s.marker else { return };
        if s.kept == 0 && decide::lone_marker_expired(self.config, &s.key, &marker, self.clock) {
            ops.push(Op::RemoveMarker {
                key: s.key,
                version: VersionRef::of(marker.version_id.as_ref()),
            });
        }
    }

    async fn apply(&mut self, ops: Vec<Op>) -> Result<(), Stop> {
        for op in ops {
            match op {
                Op::ExpireCurrent { key, head } => self.expire_current(&key, &head).await?,
                Op::DeleteVersion { key, version } => {
                    if self.delete_version(&key, &version).await? {
                        self.tally.versions_deleted += 1;
                    }
                }
                Op::RemoveMarker { key, version } => {
                    if self.delete_version(&key, &version).await? {
                        self.tally.markers_removed += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Expires the current version `head` of `key` if it is still current:
    /// deletes it in an unversioned bucket, puts a delete marker over it
    /// in a versioned one (as S3 does).
    async fn expire_current(&mut self, key: &str, head: &ObjectHead) -> Result<(), Stop> {
        let Some(k) = parsed(key) else {
            return Ok(());
        };
        let cond = WriteCondition::IfUnchanged(HeadStamp::of(head));
        let (id, mode) = (self.bucket.id, self.bucket.versioning);
        let done = if mode.is_versioned() {
            let marker = ObjectHead::delete_marker(None, 0);
            let written = self.storage.put_version(id, &k, &marker, mode, &cond);
            written.await.map(|_| ())
        } else {
            self.storage.delete_object(id, &k, &cond).await.map(|_| ())
        };
        match done {
            Ok(()) => self.tally.expired += 1,
            Err(StorageError::PreconditionFailed | StorageError::Busy(_)) => {
                self.tally.changed += 1
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Deletes a version for good; whether it was there.
    async fn delete_version(&mut self, key: &str, version: &VersionRef) -> Result<bool, Stop> {
        let Some(k) = parsed(key) else {
            return Ok(false);
        };
        let gone = self
            .storage
            .delete_version(self.bucket.id, &k, version)
            .await?;
        Ok(gone.is_some())
    }

    async fn walk_uploads(&mut self) -> Result<(), Stop> {
        let (config, clock) = (self.config, self.clock);
        let due = |u: &crate::storage::UploadRecord| decide::upload_expired(config, u, clock);
        for prefix in decide::scope(config, |r| r.abort_upload_days.is_some()) {
            self.still_held().await?;
            let mut tally = janitor::Tally::default();
            let walked =
                janitor::abort_uploads(self.storage, self.bucket, &prefix, &due, &mut tally);
            let result = walked.await;
            self.tally.uploads_aborted += tally.aborted as u64;
            result?;
        }
        Ok(())
    }

    async fn still_held(&mut self) -> Result<(), Stop> {
        if self.held.still().await? {
            Ok(())
        } else {
            Err(Stop::LeaseLost)
        }
    }
}

/// A listed key as an `ObjectKey`; a key no request could have written
/// is left alone, and said so.
fn parsed(key: &str) -> Option<ObjectKey> {
    match ObjectKey::parse(key) {
        Ok(k) => Some(k),
        Err(_) => {
            tracing::warn!(key, "a stored key is not a valid key: lifecycle leaves it");
            None
        }
    }
}
