//! DeleteObjects: up to 1000 keys (or versions of keys) in one request,
//! quiet or verbose. Each entry is deleted as DeleteObject deletes it
//! (`versioned::delete`): a delete marker in a versioned bucket, or the
//! version named, for good.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};
use http::Response;

use super::input::version_ref;
use super::response;
use super::versioned::{self, Deleted};
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::{ObjectKey, VersionRef};
use crate::xml;

/// 1000 keys of up to 1 KiB each, with XML around them.
const MAX_BODY: usize = 2 * 1024 * 1024;
/// Keys of one DeleteObjects deleted at once.
const DELETE_CONCURRENCY: usize = 16;

/// What an entry of the request names, once parsed.
type Target = (ObjectKey, Option<VersionRef>);

/// The entry's key and version, or the error S3 reports for it.
fn target_of(obj: &xml::DeleteObjectId) -> Result<Target, S3Error> {
    let key = ObjectKey::parse(obj.key.as_str())
        .map_err(|_| S3Error::new(S3ErrorCode::KeyTooLongError, "Invalid key"))?;
    // S3 reports a version id that names nothing it could hold as that
    // entry's NoSuchVersion (a DeleteObject of it is InvalidArgument).
    let version = obj
        .version_id
        .as_deref()
        .map(|v| version_ref(v).map_err(|_| S3Error::code(S3ErrorCode::NoSuchVersion)))
        .transpose()?;
    Ok((key, version))
}

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
    // Each distinct (key, version) is deleted once (an entry named twice
    // is reported twice). The entries of one key are deleted in turn, and
    // DELETE_CONCURRENCY keys at a time: 1000 keys are not 1000 sequential
    // round trips, and one key is never deleted concurrently with itself.
    let mut by_key: Vec<(ObjectKey, Vec<Option<VersionRef>>)> = Vec::new();
    let mut slot: HashMap<ObjectKey, usize> = HashMap::new();
    for (key, version) in request.objects.iter().filter_map(|o| target_of(o).ok()) {
        let i = *slot.entry(key.clone()).or_insert_with(|| {
            by_key.push((key, Vec::new()));
            by_key.len() - 1
        });
        if !by_key[i].1.contains(&version) {
            by_key[i].1.push(version);
        }
    }
    let storage = cx.storage().clone();
    let bucket_ref = &bucket;
    let outcomes: HashMap<Target, Result<Deleted, S3Error>> = stream::iter(by_key)
        .map(|(key, versions)| {
            let storage = storage.clone();
            async move {
                let mut done = Vec::with_capacity(versions.len());
                for version in versions {
                    let outcome =
                        versioned::delete(storage.as_ref(), bucket_ref, &key, version.as_ref())
                            .await
                            .map_err(S3Error::from);
                    done.push(((key.clone(), version), outcome));
                }
                done
            }
        })
        .buffer_unordered(DELETE_CONCURRENCY)
        .flat_map(stream::iter)
        .collect()
        .await;
    let mut result = xml::DeleteResult {
        xmlns: (),
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for obj in request.objects {
        let outcome = target_of(&obj).and_then(|t| match outcomes.get(&t) {
            Some(Ok(done)) => Ok(done.clone()),
            Some(Err(e)) => Err(S3Error::new(e.code, e.message.clone())),
            None => Err(S3Error::internal("an entry was not deleted")),
        });
        match outcome {
            Ok(done) => {
                if !quiet {
                    result.deleted.push(deleted_entry(obj, done));
                }
            }
            Err(err) => {
                tracing::warn!(key = %obj.key, error = %err, "delete failed");
                result.errors.push(xml::DeleteError {
                    key: obj.key,
                    version_id: obj.version_id,
                    code: err.code.as_str(),
                    message: err.message.to_string(),
                });
            }
        }
    }
    response::xml(&result)
}

/// The `<Deleted>` element of an entry: its version if it named one, and
/// the delete marker it wrote or deleted.
fn deleted_entry(obj: xml::DeleteObjectId, done: Deleted) -> xml::Deleted {
    xml::Deleted {
        key: obj.key,
        version_id: obj.version_id,
        delete_marker: done.delete_marker,
        delete_marker_version_id: done.version_id.filter(|_| done.delete_marker),
    }
}
