//! DeleteObjects: up to 1000 keys in one request, quiet or verbose.

use http::Response;

use super::response;
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::ObjectKey;
use crate::xml;

/// 1000 keys of up to 1 KiB each, with XML around them.
const MAX_BODY: usize = 2 * 1024 * 1024;

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
    let mut result = xml::DeleteResult {
        xmlns: (),
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for obj in request.objects {
        if obj.version_id.as_deref().is_some_and(|v| v != "null") {
            result.errors.push(xml::DeleteError {
                key: obj.key,
                code: S3ErrorCode::InvalidArgument.as_str(),
                message: "Invalid version id specified".into(),
            });
            continue;
        }
        let Ok(key) = ObjectKey::parse(obj.key.as_str()) else {
            result.errors.push(xml::DeleteError {
                key: obj.key,
                code: S3ErrorCode::KeyTooLongError.as_str(),
                message: "Invalid key".into(),
            });
            continue;
        };
        match cx.storage().delete_object(bucket.id, &key).await {
            Ok(_) => {
                if !quiet {
                    result.deleted.push(xml::Deleted { key: obj.key });
                }
            }
            Err(e) => {
                let err = S3Error::from(e);
                tracing::warn!(key = %obj.key, error = %err, "delete failed");
                result.errors.push(xml::DeleteError {
                    key: obj.key,
                    code: err.code.as_str(),
                    message: err.message.into_owned(),
                });
            }
        }
    }
    response::xml(&result)
}
