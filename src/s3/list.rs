//! ListObjects (v1) and ListObjectsV2 over one listing engine: prefixes,
//! delimiters, markers and stateless continuation tokens.

use std::ops::Bound;

use base64::Engine;
use http::Response;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::bucket::owner;
use super::response::{self, iso8601};
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::storage::{BucketId, ListEntry, Storage};
use crate::types::quote_etag;
use crate::xml;

/// Rows fetched from the backend per query.
const BATCH: usize = 1000;
/// Keys read after seeking past a common prefix.
const SEEK_BATCH: usize = 32;

/// One page of a listing.
#[derive(Debug, Default)]
pub struct Page {
    pub contents: Vec<ListEntry>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// The last key or common prefix returned; the next page starts after.
    pub last: Option<String>,
}

pub use crate::types::successor;

/// Lists up to `max_keys` keys and common prefixes after `after`.
pub async fn list_page(
    storage: &dyn Storage,
    bucket: BucketId,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max_keys: usize,
) -> Result<Page, S3Error> {
    let mut page = Page::default();
    let delimiter = delimiter.filter(|d| !d.is_empty());
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
            let common = delimiter.and_then(|d| {
                entry.key[prefix.len()..]
                    .find(d)
                    .map(|i| entry.key[..prefix.len() + i + d.len()].to_owned())
            });
            let full = page.contents.len() + page.prefixes.len() == max_keys;
            match common {
                Some(cp) => {
                    let seen = page.prefixes.last() == Some(&cp)
                        || after.is_some_and(|a| cp.as_str() <= a);
                    if !seen {
                        if full {
                            page.truncated = true;
                            return Ok(page);
                        }
                        page.last = Some(cp.clone());
                        page.prefixes.push(cp.clone());
                    }
                    open_prefix = Some(cp);
                }
                None => {
                    open_prefix = None;
                    if full {
                        page.truncated = true;
                        return Ok(page);
                    }
                    page.last = Some(entry.key.clone());
                    page.contents.push(entry);
                }
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

/// Characters left as they are by `encoding-type=url` (botocore decodes
/// with `unquote_plus`, so `+` and space must be escaped).
pub const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// `encoding-type`: only `url` is defined.
pub fn url_encoding(q: &crate::http::Query) -> Result<bool, S3Error> {
    match q.get("encoding-type") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("url") => Ok(true),
        Some(_) => Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "Invalid Encoding Method specified in Request",
        )),
    }
}

struct Params {
    prefix: String,
    delimiter: Option<String>,
    max_keys: usize,
    url_encode: bool,
}

impl Params {
    fn parse(cx: &RequestCx) -> Result<Params, S3Error> {
        let q = &cx.route.query;
        let max_keys = match q.get("max-keys") {
            None => 1000,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    S3Error::new(
                        S3ErrorCode::InvalidArgument,
                        "max-keys must be a non-negative integer",
                    )
                })?
                .min(1000) as usize,
        };
        let url_encode = url_encoding(q)?;
        Ok(Params {
            prefix: q.get("prefix").unwrap_or("").to_owned(),
            delimiter: q
                .get("delimiter")
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
            max_keys,
            url_encode,
        })
    }

    fn enc(&self, s: &str) -> String {
        if self.url_encode {
            utf8_percent_encode(s, URL_ENCODE).to_string()
        } else {
            s.to_owned()
        }
    }

    fn encoding_type(&self) -> Option<&'static str> {
        self.url_encode.then_some("url")
    }
}

fn contents(cx: &RequestCx, p: &Params, page: &Page, with_owner: bool) -> Vec<xml::ListContents> {
    page.contents
        .iter()
        .map(|e| xml::ListContents {
            key: p.enc(&e.key),
            last_modified: iso8601(e.head.last_modified_ms),
            etag: quote_etag(&e.head.etag),
            checksum_algorithm: e.head.checksum.as_ref().map(|c| c.algorithm),
            checksum_type: e.head.checksum.as_ref().map(|c| c.kind),
            size: e.head.size,
            owner: with_owner.then(|| owner(cx)),
            storage_class: "STANDARD",
        })
        .collect()
}

fn prefixes(p: &Params, page: &Page) -> Vec<xml::CommonPrefix> {
    page.prefixes
        .iter()
        .map(|cp| xml::CommonPrefix { prefix: p.enc(cp) })
        .collect()
}

pub async fn list_objects_v1(cx: &mut RequestCx) -> Result<Response<ResponseBody>, S3Error> {
    let bucket = cx.bucket().await?;
    let p = Params::parse(cx)?;
    let marker = cx.route.query.get("marker").unwrap_or("").to_owned();
    let after = (!marker.is_empty()).then_some(marker.as_str());
    let page = list_page(
        cx.storage().as_ref(),
        bucket.id,
        &p.prefix,
        p.delimiter.as_deref(),
        after,
        p.max_keys,
    )
    .await?;
    // NextMarker is sent when truncated, delimiter or not: clients fall back
    // to the last key otherwise, which fails on a page of only prefixes.
    let next_marker = if page.truncated {
        page.last.as_deref().map(|l| p.enc(l))
    } else {
        None
    };
    response::xml(&xml::ListBucketResultV1 {
        xmlns: (),
        name: bucket.name.clone(),
        prefix: p.enc(&p.prefix),
        marker: p.enc(&marker),
        next_marker,
        max_keys: p.max_keys,
        delimiter: p.delimiter.as_deref().map(|d| p.enc(d)),
        encoding_type: p.encoding_type(),
        is_truncated: page.truncated,
        contents: contents(cx, &p, &page, true),
        common_prefixes: prefixes(&p, &page),
    })
}

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.as_bytes())
}

fn decode_token(token: &str) -> Result<String, S3Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
}

pub async fn list_objects_v2(cx: &mut RequestCx) -> Result<Response<ResponseBody>, S3Error> {
    let bucket = cx.bucket().await?;
    let p = Params::parse(cx)?;
    let q = &cx.route.query;
    let token = q.get("continuation-token").map(str::to_owned);
    let start_after = q
        .get("start-after")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let fetch_owner = q
        .get("fetch-owner")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
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
        p.max_keys,
    )
    .await?;
    let next_token = if page.truncated {
        page.last.as_deref().map(encode_token)
    } else {
        None
    };
    response::xml(&xml::ListBucketResultV2 {
        xmlns: (),
        name: bucket.name.clone(),
        prefix: p.enc(&p.prefix),
        delimiter: p.delimiter.as_deref().map(|d| p.enc(d)),
        max_keys: p.max_keys,
        encoding_type: p.encoding_type(),
        key_count: page.contents.len() + page.prefixes.len(),
        is_truncated: page.truncated,
        continuation_token: token,
        next_continuation_token: next_token,
        start_after: start_after.map(|s| p.enc(&s)),
        contents: contents(cx, &p, &page, fetch_owner),
        common_prefixes: prefixes(&p, &page),
    })
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

    #[test]
    fn url_encoding_matches_botocore_expectations() {
        let p = Params {
            prefix: String::new(),
            delimiter: None,
            max_keys: 1,
            url_encode: true,
        };
        assert_eq!(p.enc("asdf+b"), "asdf%2Bb");
        assert_eq!(p.enc("quux ab/"), "quux%20ab/");
        assert_eq!(p.enc("é%"), "%C3%A9%25");
    }

    #[test]
    fn tokens_round_trip() {
        for k in ["a", "dir/ü", "x+y z"] {
            assert_eq!(decode_token(&encode_token(k)).unwrap(), k);
        }
        assert!(decode_token("!!!").is_err());
    }
}
