//! Listing keys in UTF-8 byte order over the sharded key index.
//!
//! Each shard partition is ordered by key (CQL `text` clustering compares
//! bytes). A page opens one cursor per shard, each reading a slice of
//! about its share of the page, and merges them: the smallest head goes
//! out next, and a cursor that runs dry is refilled from just after its
//! last key before anything else goes out. Nothing is kept between calls:
//! the caller resumes from the last key, on any gateway.

use std::collections::VecDeque;
use std::ops::Bound;

use futures_util::future::try_join_all;

use super::objects::decode_head_row;
use super::rows::{HeadRow, ListRow};
use super::{CassandraStorage, StorageError};
use crate::storage::{BucketId, ListEntry};

/// Rows a shard is asked for when a page wants `limit` keys from `shards`
/// shards: its share, with room for the unevenness of hashing.
fn per_shard(limit: usize, shards: usize) -> usize {
    let share = limit.div_ceil(shards.max(1));
    let slack = 2 * (share as f64).sqrt().ceil() as usize + 4;
    (share + slack).min(limit.max(1))
}

struct Cursor {
    shard: i16,
    rows: VecDeque<(String, HeadRow)>,
    /// The last key read from this shard; the next read starts after it.
    last: Option<String>,
    /// The shard has nothing more in range.
    done: bool,
}

impl CassandraStorage {
    /// Reads up to `n` rows of one shard from `lower`, below `upper`.
    async fn slice(
        &self,
        bucket: BucketId,
        shard: i16,
        lower: Bound<&str>,
        upper: Option<&str>,
        n: usize,
    ) -> Result<Vec<(String, HeadRow)>, StorageError> {
        let st = &self.inner.st;
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        let (inclusive, from) = match lower {
            Bound::Included(k) => (true, k),
            Bound::Excluded(k) => (false, k),
            Bound::Unbounded => (true, ""),
        };
        let rows: Vec<ListRow> = match (inclusive, upper) {
            (true, None) => {
                self.inner
                    .cql
                    .rows(&st.list_ge, (bucket.0, shard, from, n))
                    .await?
            }
            (false, None) => {
                self.inner
                    .cql
                    .rows(&st.list_gt, (bucket.0, shard, from, n))
                    .await?
            }
            (true, Some(u)) => {
                self.inner
                    .cql
                    .rows(&st.list_ge_lt, (bucket.0, shard, from, u, n))
                    .await?
            }
            (false, Some(u)) => {
                self.inner
                    .cql
                    .rows(&st.list_gt_lt, (bucket.0, shard, from, u, n))
                    .await?
            }
        };
        Ok(rows.into_iter().map(ListRow::split).collect())
    }

    async fn fill(
        &self,
        bucket: BucketId,
        cursor: &mut Cursor,
        first: Bound<&str>,
        upper: Option<&str>,
        n: usize,
    ) -> Result<(), StorageError> {
        let lower = match &cursor.last {
            Some(k) => Bound::Excluded(k.as_str()),
            None => first,
        };
        let got = self.slice(bucket, cursor.shard, lower, upper, n).await?;
        cursor.done = got.len() < n;
        if let Some((k, _)) = got.last() {
            cursor.last = Some(k.clone());
        }
        cursor.rows.extend(got);
        Ok(())
    }
}

/// `Storage::list_objects`: keys whose current version is a delete
/// marker are not listed.
pub(super) async fn list_objects(
    s: &CassandraStorage,
    bucket: BucketId,
    prefix: &str,
    start: Bound<&str>,
    limit: usize,
) -> Result<Vec<ListEntry>, StorageError> {
    list_heads(s, bucket, prefix, start, limit, false).await
}

/// Up to `limit` current versions of keys that start with `prefix` and
/// lie after `start`, in byte order; delete markers too if `markers`.
pub(super) async fn list_heads(
    s: &CassandraStorage,
    bucket: BucketId,
    prefix: &str,
    start: Bound<&str>,
    limit: usize,
    markers: bool,
) -> Result<Vec<ListEntry>, StorageError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let first = match start {
        Bound::Included(s) if s >= prefix => Bound::Included(s),
        Bound::Excluded(s) if s >= prefix => Bound::Excluded(s),
        _ => Bound::Included(prefix),
    };
    // Only an empty prefix or one of U+10FFFF alone has no successor.
    let end = crate::types::successor(prefix);
    let upper = end.as_deref();
    let shards = usize::from(s.inner.index_shards.max(1));
    let n = per_shard(limit, shards);
    let mut cursors: Vec<Cursor> = (0..shards)
        .map(|s| Cursor {
            shard: s as i16,
            rows: VecDeque::new(),
            last: None,
            done: false,
        })
        .collect();
    try_join_all(
        cursors
            .iter_mut()
            .map(|c| s.fill(bucket, c, first, upper, n)),
    )
    .await?;
    let mut out = Vec::with_capacity(limit.min(1024));
    while out.len() < limit {
        // A dry cursor might hold the next key: refill before choosing.
        let dry = cursors.iter_mut().filter(|c| c.rows.is_empty() && !c.done);
        try_join_all(dry.map(|c| s.fill(bucket, c, first, upper, n))).await?;
        let next = cursors
            .iter_mut()
            .filter(|c| !c.rows.is_empty())
            .min_by(|a, b| a.rows[0].0.as_bytes().cmp(b.rows[0].0.as_bytes()));
        let Some(cursor) = next else { break };
        let Some((key, head)) = cursor.rows.pop_front() else {
            break;
        };
        if !key.starts_with(prefix) {
            continue;
        }
        if let Some((_, head)) = decode_head_row(head)? {
            if markers || !head.delete_marker {
                out.push(ListEntry { head, key });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_share_has_room_and_is_bounded() {
        assert_eq!(per_shard(1, 16), 1);
        assert!(per_shard(1001, 16) > 1001 / 16);
        assert!(per_shard(1001, 16) < 200);
        assert_eq!(per_shard(5, 1), 5);
    }
}
