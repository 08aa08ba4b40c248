//! DeleteObjects: up to 1000 keys in one request, quiet or verbose.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};
use http::Response;

use super::response;
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::ObjectKey;
use crate::xml;

/// 1000 keys of up to 1 KiB each, with XML around them.
const MAX_BODY: usize = 2 * 1024 * 1024;
/// Keys of one DeleteObjects deleted at once.
const DELETE_CONCURRENCY: usize = 16;

pub(crate) async fn delete_objects(cx: &mut RequestCx) -> Result<Response<ResponseBody>, S3Error> {
    let bucket = cx.bucket().await?;
    // Current SDKs send x-amz-checksum-* instead of Content-MD5; both are
    // verified when present (read_small_body), neither is demanded.
    let (body, _) = cx.read_small_body(MAX_BODY).await?;
    let text = std::str::from_utf8(&body).map_err(|_| S3Error::code(S3ErrorCode::MalformedXML))?;
    let request: xml::Delete =
        xml::from_xml(text).map_err(|e| S3Error::code(S3ErrorCode::MalformedXML).with_source(e))?;
    if request.objects.is_empty() || request.objects.len() > 1000 {
        return Err(S3Error::code(S3ErrorCode::MalformedXML));
    }
    let quiet = request.quiet.unwrap_or(false);
    // Each distinct key is deleted once (a key named twice is reported
    // twice), DELETE_CONCURRENCY at a time: 1000 keys are not 1000
    // sequential round trips, and one key is never deleted concurrently
    // with itself.
    let mut distinct: Vec<ObjectKey> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for obj in &request.objects {
        if has_version(obj) {
            continue;
        }
        if let Ok(key) = ObjectKey::parse(obj.key.as_str()) {
            if seen.insert(key.clone()) {
                distinct.push(key);
            }
        }
    }
    let storage = cx.storage().clone();
    let outcomes: HashMap<ObjectKey, Result<(), S3Error>> = stream::iter(distinct)
        .map(|key| {
            let storage = storage.clone();
            async move {
                let done = storage.delete_object(bucket.id, &key).await;
                (key, done.map(|_| ()).map_err(S3Error::from))
            }
        })
        .buffer_unordered(DELETE_CONCURRENCY)
        .collect()
        .await;
    let mut result = xml::DeleteResult {
        xmlns: (),
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for obj in request.objects {
        if has_version(&obj) {
            result.errors.push(xml::DeleteError {
                key: obj.key,
                code: S3ErrorCode::InvalidArgument.as_str(),
                message: "Invalid version id specified".into(),
            });
            continue;
        }
        let outcome = ObjectKey::parse(obj.key.as_str())
            .ok()
            .and_then(|key| outcomes.get(&key));
        match outcome {
            None => result.errors.push(xml::DeleteError {
                key: obj.key,
                code: S3ErrorCode::KeyTooLongError.as_str(),
                message: "Invalid key".into(),
            }),
            Some(Ok(())) => {
                if !quiet {
                    result.deleted.push(xml::Deleted { key: obj.key });
                }
            }
            Some(Err(err)) => {
                tracing::warn!(key = %obj.key, error = %err, "delete failed");
                result.errors.push(xml::DeleteError {
                    key: obj.key,
                    code: err.code.as_str(),
                    message: err.message.to_string(),
                });
            }
        }
    }
    response::xml(&result)
}

/// Whether `obj` names a version other than `null` (the only one an
/// unversioned bucket has): refused, and never deleted.
fn has_version(obj: &xml::DeleteObjectId) -> bool {
    obj.version_id.as_deref().is_some_and(|v| v != "null")
}
