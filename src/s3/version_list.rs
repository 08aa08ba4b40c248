//! ListObjectVersions: every version and delete marker of a bucket's keys,
//! keys in byte order and each key's versions newest first, folded into
//! common prefixes by the rule every listing shares (`list::Fold`).
//! `max-keys` counts versions, markers and prefixes; a page that ends
//! inside a key names the version it ended on, and the next resumes after
//! it (`NextKeyMarker`, `NextVersionIdMarker`).

use http::Response;

use super::input::ListVersionsInput;
use super::list::{prefixes, successor, Fold, Folded, Page};
use super::response::{self, iso8601};
use super::RequestCx;
use crate::error::S3Error;
use crate::http::ResponseBody;
use crate::storage::{BucketRecord, Storage, VersionEntry, VersionsFrom};
use crate::types::{quote_etag, VersionRef};
use crate::xml;

/// Versions read from the backend per query.
const BATCH: usize = 1000;
/// Versions read after seeking past a common prefix.
const SEEK_BATCH: usize = 32;

/// Where the next read of versions starts.
enum Cursor {
    Start,
    FromKey(String),
    AfterKey(String),
    AfterVersion(String, VersionRef),
}

impl Cursor {
    fn as_from(&self) -> VersionsFrom<'_> {
        match self {
            Cursor::Start => VersionsFrom::Start,
            Cursor::FromKey(k) => VersionsFrom::FromKey(k),
            Cursor::AfterKey(k) => VersionsFrom::AfterKey(k),
            Cursor::AfterVersion(k, v) => VersionsFrom::AfterVersion(k, v),
        }
    }
}

/// Up to `max` versions and common prefixes from the markers.
async fn version_page(
    storage: &dyn Storage,
    bucket: &BucketRecord,
    input: &ListVersionsInput,
) -> Result<Page<VersionEntry>, S3Error> {
    let p = &input.params;
    let mut page = Page::default();
    // `max-keys=0`: an empty page, not truncated, as S3 answers.
    if p.max == 0 {
        return Ok(page);
    }
    let fold = Fold {
        prefix: &p.prefix,
        delimiter: p.delimiter.as_deref(),
        after: input.key_marker.as_deref(),
        max: p.max,
    };
    let mut cursor = match (&input.key_marker, &input.version_id_marker) {
        (None, _) => Cursor::Start,
        (Some(k), None) => Cursor::AfterKey(k.clone()),
        (Some(k), Some(v)) => Cursor::AfterVersion(k.clone(), v.clone()),
    };
    let mut batch_size = BATCH;
    loop {
        let taken = page.contents.len() + page.prefixes.len();
        let want = (p.max + 1 - taken).min(batch_size);
        let batch = storage
            .list_versions(bucket.id, &p.prefix, cursor.as_from(), want)
            .await?;
        let exhausted = batch.len() < want;
        let last = batch.last().map(|e| (e.key.clone(), e.head.version_ref()));
        let mut open_prefix: Option<String> = None;
        for entry in batch {
            let key = entry.key.clone();
            match fold.add(&mut page, &key, entry) {
                Folded::Full => return Ok(page),
                Folded::Kept { prefix } => open_prefix = prefix,
            }
        }
        if exhausted {
            return Ok(page);
        }
        // Past the rest of a common prefix with a seek, not a scan.
        batch_size = if open_prefix.is_some() {
            SEEK_BATCH
        } else {
            BATCH
        };
        cursor = match (open_prefix, last) {
            (Some(cp), _) => match successor(&cp) {
                Some(s) => Cursor::FromKey(s),
                None => return Ok(page),
            },
            (None, Some((k, v))) => Cursor::AfterVersion(k, v),
            (None, None) => return Ok(page),
        };
    }
}

pub(crate) async fn list_object_versions(
    cx: &mut RequestCx,
    input: ListVersionsInput,
) -> Result<Response<ResponseBody>, S3Error> {
    let bucket = cx.bucket().await?;
    let page = version_page(cx.storage().as_ref(), &bucket, &input).await?;
    let p = &input.params;
    let owner = cx.owner();
    let entries = page
        .contents
        .iter()
        .map(|e| {
            let h = &e.head;
            let version_id = h.version_ref().to_string();
            if h.delete_marker {
                xml::VersionItem::DeleteMarker(xml::DeleteMarkerEntry {
                    key: p.enc(&e.key),
                    version_id,
                    is_latest: e.is_latest,
                    last_modified: iso8601(h.last_modified_ms),
                    owner: owner.clone(),
                })
            } else {
                xml::VersionItem::Version(xml::ObjectVersion {
                    key: p.enc(&e.key),
                    version_id,
                    is_latest: e.is_latest,
                    last_modified: iso8601(h.last_modified_ms),
                    etag: quote_etag(&h.etag),
                    checksum_algorithm: h.checksum.as_ref().map(|c| c.algorithm),
                    checksum_type: h.checksum.as_ref().map(|c| c.kind),
                    size: h.size,
                    storage_class: "STANDARD",
                    owner: owner.clone(),
                })
            }
        })
        .collect();
    // A truncated page resumes after its last key or prefix and, if it
    // ended on a version, after that version.
    let (next_key, next_version) = match (&page.last, page.truncated) {
        (Some(last), true) if page.last_is_prefix => (Some(p.enc(last)), None),
        (Some(last), true) => {
            let version = page
                .contents
                .last()
                .map(|e| e.head.version_ref().to_string());
            (Some(p.enc(last)), version)
        }
        _ => (None, None),
    };
    response::xml(&xml::ListVersionsResult {
        xmlns: (),
        name: bucket.name.clone(),
        prefix: p.enc(&p.prefix),
        key_marker: input
            .key_marker
            .as_deref()
            .map(|k| p.enc(k))
            .unwrap_or_default(),
        version_id_marker: input
            .version_id_marker
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        next_key_marker: next_key,
        next_version_id_marker: next_version,
        max_keys: p.max,
        delimiter: p.delimiter.as_deref().map(|d| p.enc(d)),
        encoding_type: p.encoding_type(),
        is_truncated: page.truncated,
        entries,
        common_prefixes: prefixes(p, &page),
    })
}
