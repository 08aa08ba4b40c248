//! ListObjects (v1) and ListObjectsV2 over one listing engine: prefixes,
//! delimiters, markers and stateless continuation tokens.

use std::ops::Bound;

use http::Response;

use super::input::{decode_token, encode_token, ListParams, ListV1Input, ListV2Input};
use super::response::{self, iso8601};
use super::RequestCx;
use crate::error::S3Error;
use crate::http::ResponseBody;
use crate::storage::{BucketId, ListEntry, Storage};
use crate::types::quote_etag;
use crate::xml;

/// Rows fetched from the backend per query.
const BATCH: usize = 1000;
/// Keys read after seeking past a common prefix.
const SEEK_BATCH: usize = 32;

/// One page of a listing of objects or of multipart uploads.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub contents: Vec<T>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// The last key or common prefix returned; the next page starts after.
    pub last: Option<String>,
    /// Whether `last` is a common prefix.
    pub last_is_prefix: bool,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            contents: Vec::new(),
            prefixes: Vec::new(),
            truncated: false,
            last: None,
            last_is_prefix: false,
        }
    }
}

/// The one folding rule of every listing: entries come in key order; a
/// key that holds the delimiter after the prefix is rolled into its
/// common prefix, named once and never when it sorts at or before the
/// marker; the page holds at most `max` keys and prefixes.
pub(crate) struct Fold<'a> {
    pub prefix: &'a str,
    /// Never empty.
    pub delimiter: Option<&'a str>,
    /// The marker the listing starts after.
    pub after: Option<&'a str>,
    pub max: usize,
}

/// What [`Fold::add`] did with an entry.
pub(crate) enum Folded {
    /// On the page, or rolled into a common prefix (the one named).
    Kept { prefix: Option<String> },
    /// The page was full: it is truncated, and the listing stops.
    Full,
}

impl Fold<'_> {
    /// The common prefix `key` rolls into, if any.
    fn common_prefix(&self, key: &str) -> Option<String> {
        let d = self.delimiter?;
        let rest = key.get(self.prefix.len()..)?;
        rest.find(d)
            .map(|i| key[..self.prefix.len() + i + d.len()].to_owned())
    }

    /// Folds the entry of `key` into `page`.
    pub(crate) fn add<T>(&self, page: &mut Page<T>, key: &str, entry: T) -> Folded {
        let full = page.contents.len() + page.prefixes.len() == self.max;
        match self.common_prefix(key) {
            Some(cp) => {
                let seen = page.prefixes.last() == Some(&cp)
                    || self.after.is_some_and(|a| cp.as_str() <= a);
                if !seen {
                    if full {
                        page.truncated = true;
                        return Folded::Full;
                    }
                    page.last = Some(cp.clone());
                    page.last_is_prefix = true;
                    page.prefixes.push(cp.clone());
                }
                Folded::Kept { prefix: Some(cp) }
            }
            None => {
                if full {
                    page.truncated = true;
                    return Folded::Full;
                }
                page.last = Some(key.to_owned());
                page.last_is_prefix = false;
                page.contents.push(entry);
                Folded::Kept { prefix: None }
            }
        }
    }
}

pub(crate) use crate::types::successor;

/// Lists up to `max_keys` keys and common prefixes after `after`.
pub(crate) async fn list_page(
    storage: &dyn Storage,
    bucket: BucketId,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max_keys: usize,
) -> Result<Page<ListEntry>, S3Error> {
    let mut page = Page::default();
    // S3 answers `max-keys=0` with an empty page that is not truncated.
    if max_keys == 0 {
        return Ok(page);
    }
    let fold = Fold {
        prefix,
        delimiter: delimiter.filter(|d| !d.is_empty()),
        after,
        max: max_keys,
    };
    let mut cursor: Bound<String> = match after {
        Some(a) => Bound::Excluded(a.to_owned()),
        None => Bound::Unbounded,
    };
    // Right after a seek past a common prefix, the next key often opens
    // another one: read a small batch, not a full one, from there.
    let mut batch_size = BATCH;
    loop {
        let want = (max_keys + 1 - (page.contents.len() + page.prefixes.len())).min(batch_size);
        let batch = storage
            .list_objects(bucket, prefix, cursor.as_ref().map(String::as_str), want)
            .await?;
        let exhausted = batch.len() < want;
        let last_key = batch.last().map(|e| e.key.clone());
        // The common prefix the last entry of the batch fell into, if any.
        let mut open_prefix: Option<String> = None;
        for entry in batch {
            let key = entry.key.clone();
            match fold.add(&mut page, &key, entry) {
                Folded::Full => return Ok(page),
                Folded::Kept { prefix } => open_prefix = prefix,
            }
        }
        if exhausted {
            break;
        }
        // Skip the rest of a common prefix with a seek, not a scan.
        batch_size = if open_prefix.is_some() {
            SEEK_BATCH
        } else {
            BATCH
        };
        cursor = match (open_prefix, last_key) {
            (Some(cp), _) => match successor(&cp) {
                Some(s) => Bound::Included(s),
                None => break,
            },
            (None, Some(k)) => Bound::Excluded(k),
            (None, None) => break,
        };
    }
    Ok(page)
}

fn contents(
    cx: &RequestCx,
    p: &ListParams,
    page: &Page<ListEntry>,
    with_owner: bool,
) -> Vec<xml::ListContents> {
    // Every object's owner is the bucket's: looked up once per page.
    let owner = with_owner.then(|| cx.owner());
    page.contents
        .iter()
        .map(|e| xml::ListContents {
            key: p.enc(&e.key),
            last_modified: iso8601(e.head.last_modified_ms),
            etag: quote_etag(&e.head.etag),
            checksum_algorithm: e.head.checksum.as_ref().map(|c| c.algorithm),
            checksum_type: e.head.checksum.as_ref().map(|c| c.kind),
            size: e.head.size,
            owner: owner.clone(),
            storage_class: "STANDARD",
        })
        .collect()
}

fn list_head<T>(bucket: &str, p: &ListParams, page: &Page<T>) -> xml::ListBucketHead {
    xml::ListBucketHead {
        name: bucket.to_owned(),
        prefix: p.enc(&p.prefix),
        delimiter: p.delimiter.as_deref().map(|d| p.enc(d)),
        max_keys: p.max,
        encoding_type: p.encoding_type(),
        is_truncated: page.truncated,
    }
}

pub(crate) fn prefixes<T>(p: &ListParams, page: &Page<T>) -> Vec<xml::CommonPrefix> {
    page.prefixes
        .iter()
        .map(|cp| xml::CommonPrefix { prefix: p.enc(cp) })
        .collect()
}

pub(crate) async fn list_objects_v1(
    cx: &mut RequestCx,
    input: ListV1Input,
) -> Result<Response<ResponseBody>, S3Error> {
    let bucket = cx.bucket().await?;
    let ListV1Input { params: p, marker } = input;
    let after = (!marker.is_empty()).then_some(marker.as_str());
    let page = list_page(
        cx.storage().as_ref(),
        bucket.id,
        &p.prefix,
        p.delimiter.as_deref(),
        after,
        p.max,
    )
    .await?;
    // NextMarker is sent when truncated, delimiter or not: clients fall back
    // to the last key otherwise, which fails on a page of only prefixes.
    let next_marker = if page.truncated {
        page.last.as_deref().map(|l| p.enc(l))
    } else {
        None
    };
    response::xml_root(
        "ListBucketResult",
        &xml::ListBucketResultV1 {
            xmlns: (),
            head: list_head(&bucket.name, &p, &page),
            marker: p.enc(&marker),
            next_marker,
            contents: contents(cx, &p, &page, true),
            common_prefixes: prefixes(&p, &page),
        },
    )
}

pub(crate) async fn list_objects_v2(
    cx: &mut RequestCx,
    input: ListV2Input,
) -> Result<Response<ResponseBody>, S3Error> {
    let bucket = cx.bucket().await?;
    let ListV2Input {
        params: p,
        continuation_token: token,
        start_after,
        fetch_owner,
    } = input;
    let after = match &token {
        Some(t) => Some(decode_token(t)?),
        None => start_after.clone(),
    };
    let page = list_page(
        cx.storage().as_ref(),
        bucket.id,
        &p.prefix,
        p.delimiter.as_deref(),
        after.as_deref(),
        p.max,
    )
    .await?;
    let next_token = if page.truncated {
        page.last.as_deref().map(encode_token)
    } else {
        None
    };
    response::xml_root(
        "ListBucketResult",
        &xml::ListBucketResultV2 {
            xmlns: (),
            head: list_head(&bucket.name, &p, &page),
            key_count: page.contents.len() + page.prefixes.len(),
            continuation_token: token,
            next_continuation_token: next_token,
            start_after: start_after.map(|s| p.enc(&s)),
            contents: contents(cx, &p, &page, fetch_owner),
            common_prefixes: prefixes(&p, &page),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors() {
        assert_eq!(successor("a/").as_deref(), Some("a0"));
        assert_eq!(successor("ab").as_deref(), Some("ac"));
        assert_eq!(successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{10FFFF}"), None);
        assert_eq!(successor(""), None);
        // Everything starting with the prefix sorts before the successor.
        let s = successor("dir/é").unwrap();
        for k in ["dir/é", "dir/éz", "dir/é\u{10FFFF}"] {
            assert!(k < s.as_str(), "{k}");
        }
    }
}
