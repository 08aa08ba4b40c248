//! ListObjectVersions on Cassandra: the current versions (the key index,
//! `list::list_heads`, markers included) merged by key with the
//! noncurrent ones (`object_versions`, one cursor per shard merged in
//! `(key, inv, vid)` order, each refilled from after its last row before
//! anything else goes out). A key's current version comes first, then its
//! noncurrent ones newest first; a noncurrent row that is a copy of the
//! current version (`versions::is_copy_of`) is skipped. Nothing is kept
//! between pages: the next one resumes after a key or a version.

use std::collections::VecDeque;
use std::ops::Bound;

use futures_util::future::try_join_all;

use super::list::list_heads;
use super::objects::decode_stored;
use super::rows::VersionListRow;
use super::versions::{is_copy_of, row_of};
use super::{CassandraStorage, StorageError};
use crate::storage::{BucketId, ListEntry, ObjectHead, VersionEntry, VersionsFrom};
use crate::types::VersionRef;

/// A point in a shard's versions: `(key, inv, vid)`.
type Point = (String, i64, String);

/// After every version of `key`: each of its rows has `inv` ≤ 0.
fn after_key(key: &str) -> Point {
    (key.to_owned(), i64::MAX, String::new())
}

/// Before every version of `key`.
fn before_key(key: &str) -> Point {
    (key.to_owned(), i64::MIN, String::new())
}

fn cmp_rows(a: &VersionListRow, b: &VersionListRow) -> std::cmp::Ordering {
    (a.key.as_bytes(), a.inv, a.vid.as_bytes()).cmp(&(b.key.as_bytes(), b.inv, b.vid.as_bytes()))
}

struct ShardCursor {
    shard: i16,
    rows: VecDeque<VersionListRow>,
    /// The next read starts after this point.
    after: Point,
    done: bool,
}

/// The noncurrent versions of a bucket's keys within a prefix, merged
/// over the shards.
struct Noncurrent<'a> {
    s: &'a CassandraStorage,
    bucket: BucketId,
    /// Below every version of this key (the prefix's successor), if any.
    upper: Option<Point>,
    per_read: usize,
    cursors: Vec<ShardCursor>,
}

impl Noncurrent<'_> {
    async fn fill(
        s: &CassandraStorage,
        bucket: BucketId,
        upper: Option<&Point>,
        n: usize,
        c: &mut ShardCursor,
    ) -> Result<(), StorageError> {
        let vst = &s.inner.vst;
        let limit = i32::try_from(n).unwrap_or(i32::MAX);
        let (k, inv, vid) = &c.after;
        let rows: Vec<VersionListRow> = match upper {
            Some((uk, uinv, uvid)) => {
                let values = (bucket.0, c.shard, k, inv, vid, uk, uinv, uvid, limit);
                s.inner.cql.rows(&vst.versions_list_below, values).await?
            }
            None => {
                let values = (bucket.0, c.shard, k, inv, vid, limit);
                s.inner.cql.rows(&vst.versions_list, values).await?
            }
        };
        c.done = rows.len() < n;
        if let Some(last) = rows.last() {
            c.after = (last.key.clone(), last.inv, last.vid.clone());
        }
        c.rows.extend(rows);
        Ok(())
    }

    /// The cursor holding the smallest row, after refilling every dry one.
    async fn smallest(&mut self) -> Result<Option<usize>, StorageError> {
        let (s, bucket, upper, n) = (self.s, self.bucket, self.upper.as_ref(), self.per_read);
        let dry = self
            .cursors
            .iter_mut()
            .filter(|c| c.rows.is_empty() && !c.done);
        try_join_all(dry.map(|c| Self::fill(s, bucket, upper, n, c))).await?;
        let mut best: Option<usize> = None;
        for (i, c) in self.cursors.iter().enumerate() {
            let Some(row) = c.rows.front() else { continue };
            let better = match best.and_then(|b| self.cursors[b].rows.front()) {
                Some(b) => cmp_rows(row, b).is_lt(),
                None => true,
            };
            if better {
                best = Some(i);
            }
        }
        Ok(best)
    }

    /// The key of the smallest row.
    async fn next_key(&mut self) -> Result<Option<String>, StorageError> {
        let i = self.smallest().await?;
        Ok(i.and_then(|i| self.cursors[i].rows.front().map(|r| r.key.clone())))
    }

    /// Takes the smallest row if it is of `key`.
    async fn take_of(&mut self, key: &str) -> Result<Option<VersionListRow>, StorageError> {
        let Some(i) = self.smallest().await? else {
            return Ok(None);
        };
        let c = &mut self.cursors[i];
        if c.rows.front().is_some_and(|r| r.key == key) {
            Ok(c.rows.pop_front())
        } else {
            Ok(None)
        }
    }
}

fn noncurrent_entry(row: VersionListRow) -> Result<VersionEntry, StorageError> {
    let head = row
        .head
        .ok_or_else(|| StorageError::Corrupt("a version row without its head".into()))?;
    Ok(VersionEntry {
        key: row.key,
        head: decode_stored(&head, None)?,
        is_latest: false,
    })
}

/// `Storage::list_versions`.
pub(super) async fn list_versions(
    s: &CassandraStorage,
    bucket: BucketId,
    prefix: &str,
    from: VersionsFrom<'_>,
    limit: usize,
) -> Result<Vec<VersionEntry>, StorageError> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    let start: Bound<&str> = match from {
        VersionsFrom::Start => Bound::Included(prefix),
        VersionsFrom::FromKey(k) => Bound::Included(k),
        VersionsFrom::AfterKey(k) => Bound::Excluded(k),
        VersionsFrom::AfterVersion(k, v) => {
            if k.starts_with(prefix) {
                rest_of_key(s, bucket, k, v, limit, &mut out).await?;
            }
            Bound::Excluded(k)
        }
    };
    // The key-level start: the marker's key if it is within or after the
    // prefix, else the prefix itself.
    let start = match start {
        Bound::Included(k) | Bound::Excluded(k) if k < prefix => Bound::Included(prefix),
        other => other,
    };
    let per_read = limit.div_ceil(usize::from(s.inner.index_shards.max(1))) + 8;
    let mut nc = Noncurrent {
        s,
        bucket,
        upper: crate::types::successor(prefix).map(|u| before_key(&u)),
        per_read,
        cursors: (0..s.inner.index_shards)
            .map(|shard| ShardCursor {
                shard: i16::try_from(shard).unwrap_or(i16::MAX),
                rows: VecDeque::new(),
                after: match start {
                    Bound::Excluded(k) => after_key(k),
                    Bound::Included(k) => before_key(k),
                    Bound::Unbounded => before_key(prefix),
                },
                done: false,
            })
            .collect(),
    };
    let mut current: VecDeque<ListEntry> = VecDeque::new();
    let mut current_from: Bound<String> = start.map(str::to_owned);
    let mut current_done = false;
    while out.len() < limit {
        if current.is_empty() && !current_done {
            let want = limit - out.len();
            let from = current_from.as_ref().map(String::as_str);
            let got = list_heads(s, bucket, prefix, from, want, true).await?;
            current_done = got.len() < want;
            if let Some(last) = got.last() {
                current_from = Bound::Excluded(last.key.clone());
            }
            current.extend(got);
        }
        let nc_key = nc.next_key().await?;
        let key = match (current.front().map(|e| e.key.clone()), nc_key) {
            (Some(a), Some(b)) => {
                if a.as_bytes() <= b.as_bytes() {
                    a
                } else {
                    b
                }
            }
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        let head: Option<ObjectHead> = match current.front() {
            Some(e) if e.key == key => current.pop_front().map(|e| e.head),
            _ => None,
        };
        if let Some(h) = &head {
            out.push(VersionEntry {
                key: key.clone(),
                head: h.clone(),
                is_latest: true,
            });
        }
        while out.len() < limit {
            let Some(row) = nc.take_of(&key).await? else {
                break;
            };
            if !is_copy_of(head.as_ref(), row.inv, &row.vid) && row.key.starts_with(prefix) {
                out.push(noncurrent_entry(row)?);
            }
        }
    }
    out.truncate(limit);
    Ok(out)
}

/// The versions of `key` after version `v` (a page that ended inside the
/// key): its noncurrent versions after `v`, or none if `v` is gone.
async fn rest_of_key(
    s: &CassandraStorage,
    bucket: BucketId,
    key: &str,
    v: &VersionRef,
    limit: usize,
    out: &mut Vec<VersionEntry>,
) -> Result<(), StorageError> {
    let current = s.read_head(bucket, key, false).await?.map(|(_, h)| h);
    let start: Option<(i64, String)> = if current
        .as_ref()
        .is_some_and(|c| v.names(c.version_id.as_ref()))
    {
        Some((i64::MIN, String::new()))
    } else {
        s.get_version(bucket, key, v, false)
            .await?
            .map(|h| row_of(&h))
    };
    let Some(mut after) = start else {
        return Ok(());
    };
    while out.len() < limit {
        let rows = s.key_versions(bucket, key, (after.0, &after.1)).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            after = (row.inv, row.vid.clone());
            if out.len() >= limit {
                break;
            }
            if is_copy_of(current.as_ref(), row.inv, &row.vid) {
                continue;
            }
            let list_row = VersionListRow {
                key: row.key,
                inv: row.inv,
                vid: row.vid,
                head: row.head,
            };
            out.push(noncurrent_entry(list_row)?);
        }
    }
    Ok(())
}
