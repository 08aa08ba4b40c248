//! ListParts and ListMultipartUploads.

use http::Response;

use super::input::{ListPartsInput, ListUploadsInput};
use super::list::{prefixes, Fold, Folded, Page};
use super::multipart::current_upload;
use super::response::{self, iso8601};
use super::RequestCx;
use crate::error::S3Error;
use crate::http::ResponseBody;
use crate::types::quote_etag;
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

pub(crate) async fn list_parts(cx: &mut RequestCx, input: ListPartsInput) -> Res {
    let (bucket, upload) = current_upload(cx, &input.upload).await?;
    let max_parts = input.max_parts;
    let marker = input.part_number_marker;
    let mut parts = cx
        .storage()
        .list_parts(&input.upload.upload_id, marker, max_parts + 1)
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
            initiator: cx.owner(),
            owner: cx.owner(),
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

pub(crate) async fn list_multipart_uploads(cx: &mut RequestCx, input: ListUploadsInput) -> Res {
    let bucket = cx.bucket().await?;
    let ListUploadsInput {
        params: p,
        key_marker,
        upload_id_marker: id_marker,
    } = input;
    let fold = Fold {
        prefix: &p.prefix,
        delimiter: p.delimiter.as_deref(),
        after: (!key_marker.is_empty()).then_some(key_marker.as_str()),
        max: p.max,
    };
    let mut page = Page::default();
    let mut cursor = (!key_marker.is_empty()).then(|| (key_marker.clone(), id_marker.clone()));
    'pages: loop {
        let after = cursor.as_ref().map(|(k, i)| (k.as_str(), i.as_str()));
        let batch = cx
            .storage()
            .list_uploads(bucket.id, &p.prefix, after, 1000)
            .await?;
        let exhausted = batch.len() < 1000;
        for u in batch {
            cursor = Some((u.key.clone(), u.upload_id.clone()));
            let key = u.key.clone();
            if let Folded::Full = fold.add(&mut page, &key, u) {
                break 'pages;
            }
        }
        if exhausted {
            break;
        }
    }
    // The next page starts after the last upload, or after every upload
    // of the last common prefix (an empty upload id).
    let (next_key, next_id) = match (&page.last, page.truncated) {
        (Some(last), true) if page.last_is_prefix => (Some(p.enc(last)), Some(String::new())),
        (Some(last), true) => (
            Some(p.enc(last)),
            page.contents.last().map(|u| u.upload_id.clone()),
        ),
        _ => (None, None),
    };
    let common_prefixes = prefixes(&p, &page);
    response::xml(&xml::ListMultipartUploadsResult {
        xmlns: (),
        bucket: bucket.name,
        key_marker: p.enc(&key_marker),
        upload_id_marker: id_marker,
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        delimiter: p.delimiter.as_deref().map(|d| p.enc(d)),
        prefix: p.enc(&p.prefix),
        max_uploads: p.max,
        encoding_type: p.encoding_type(),
        is_truncated: page.truncated,
        uploads: page
            .contents
            .into_iter()
            .map(|u| xml::ListedUpload {
                key: p.enc(&u.key),
                upload_id: u.upload_id,
                initiator: cx.owner(),
                owner: cx.owner(),
                storage_class: "STANDARD",
                initiated: iso8601(u.initiated_ms),
                checksum_algorithm: u.checksum_algorithm,
                checksum_type: u.checksum_type,
            })
            .collect(),
        common_prefixes,
    })
}
