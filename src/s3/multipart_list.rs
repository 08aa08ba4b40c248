//! ListParts and ListMultipartUploads.

use http::Response;
use percent_encoding::utf8_percent_encode;

use super::bucket::owner;
use super::list::{url_encoding, URL_ENCODE};
use super::multipart::{current_upload, upload_id};
use super::response::{self, iso8601};
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::quote_etag;
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

/// A `max-*` query parameter: default and cap 1000.
fn max_param(cx: &RequestCx, name: &str) -> Result<usize, S3Error> {
    match cx.route.query.get(name) {
        None => Ok(1000),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| n.min(1000) as usize)
            .ok_or_else(|| {
                S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    format!("{name} must be a non-negative integer"),
                )
            }),
    }
}

pub async fn list_parts(cx: &mut RequestCx) -> Res {
    let (bucket, upload) = current_upload(cx).await?;
    let max_parts = max_param(cx, "max-parts")?;
    let marker: u32 = match cx.route.query.get("part-number-marker") {
        None | Some("") => 0,
        Some(v) => v.parse().map_err(|_| {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                "part-number-marker must be an integer",
            )
        })?,
    };
    let mut parts = cx
        .storage()
        .list_parts(upload_id(cx)?, marker, max_parts + 1)
        .await?;
    let truncated = parts.len() > max_parts;
    parts.truncate(max_parts);
    let next = if truncated {
        parts.last().map(|p| p.part_number)
    } else {
        None
    };
    response::xml_root(
        "ListPartsResult",
        &xml::ListPartsResult {
            xmlns: (),
            bucket: bucket.name,
            key: upload.key.clone(),
            upload_id: upload.upload_id.clone(),
            part_number_marker: marker,
            next_part_number_marker: next,
            max_parts,
            is_truncated: truncated,
            initiator: owner(cx),
            owner: owner(cx),
            storage_class: "STANDARD",
            checksum_algorithm: upload.checksum_algorithm,
            checksum_type: upload.checksum_type,
            parts: parts
                .into_iter()
                .map(|p| {
                    let checksum = match &p.data.checksum {
                        Some(c) => xml::Checksums::one(c.algorithm, &c.value, c.kind),
                        None => xml::Checksums::default(),
                    };
                    xml::ListedPart {
                        part_number: p.part_number,
                        last_modified: iso8601(p.last_modified_ms),
                        etag: quote_etag(&p.data.etag),
                        size: p.data.size,
                        checksum: xml::Checksums {
                            kind: None,
                            ..checksum
                        },
                    }
                })
                .collect(),
        },
    )
}

pub async fn list_multipart_uploads(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    let q = &cx.route.query;
    let max_uploads = max_param(cx, "max-uploads")?;
    let prefix = q.get("prefix").unwrap_or("").to_owned();
    let delimiter = q
        .get("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let key_marker = q.get("key-marker").unwrap_or("").to_owned();
    // An upload-id-marker counts only with a key-marker.
    let id_marker = if key_marker.is_empty() {
        String::new()
    } else {
        q.get("upload-id-marker").unwrap_or("").to_owned()
    };
    let url = url_encoding(q)?;
    let enc = |s: &str| {
        if url {
            utf8_percent_encode(s, URL_ENCODE).to_string()
        } else {
            s.to_owned()
        }
    };

    let mut uploads = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut truncated = false;
    let mut last: Option<(String, String)> = None;
    let mut cursor = (!key_marker.is_empty()).then(|| (key_marker.clone(), id_marker.clone()));
    'pages: loop {
        let after = cursor.as_ref().map(|(k, i)| (k.as_str(), i.as_str()));
        let batch = cx
            .storage()
            .list_uploads(bucket.id, &prefix, after, 1000)
            .await?;
        let exhausted = batch.len() < 1000;
        for u in batch {
            cursor = Some((u.key.clone(), u.upload_id.clone()));
            let common = delimiter.as_deref().and_then(|d| {
                u.key[prefix.len()..]
                    .find(d)
                    .map(|i| u.key[..prefix.len() + i + d.len()].to_owned())
            });
            let full = uploads.len() + prefixes.len() == max_uploads;
            match common {
                Some(cp) if prefixes.last() == Some(&cp) || cp.as_str() <= key_marker.as_str() => {}
                Some(cp) => {
                    if full {
                        truncated = true;
                        break 'pages;
                    }
                    last = Some((cp.clone(), String::new()));
                    prefixes.push(cp);
                }
                None => {
                    if full {
                        truncated = true;
                        break 'pages;
                    }
                    last = Some((u.key.clone(), u.upload_id.clone()));
                    uploads.push(u);
                }
            }
        }
        if exhausted {
            break;
        }
    }
    let (next_key, next_id) = match (truncated, last) {
        (true, Some((k, i))) => (Some(enc(&k)), Some(i)),
        _ => (None, None),
    };
    response::xml(&xml::ListMultipartUploadsResult {
        xmlns: (),
        bucket: bucket.name,
        key_marker: enc(&key_marker),
        upload_id_marker: id_marker,
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        delimiter: delimiter.as_deref().map(enc),
        prefix: enc(&prefix),
        max_uploads,
        encoding_type: url.then_some("url"),
        is_truncated: truncated,
        uploads: uploads
            .into_iter()
            .map(|u| xml::ListedUpload {
                key: enc(&u.key),
                upload_id: u.upload_id,
                initiator: owner(cx),
                owner: owner(cx),
                storage_class: "STANDARD",
                initiated: iso8601(u.initiated_ms),
                checksum_algorithm: u.checksum_algorithm,
                checksum_type: u.checksum_type,
            })
            .collect(),
        common_prefixes: prefixes
            .into_iter()
            .map(|p| xml::CommonPrefix { prefix: enc(&p) })
            .collect(),
    })
}
