//! Bucket lifecycle configuration over S3: PutBucketLifecycleConfiguration,
//! GetBucketLifecycleConfiguration and DeleteBucketLifecycle, for the
//! bucket's owners; and `x-amz-expiration`, which tells a reader when a
//! rule will expire the object. The document and its checks are in
//! `lifecycle_xml.rs`; the rules are applied by `crate::lifecycle`.

use http::{Response, StatusCode};

use super::lifecycle_xml::{lifecycle_answer, parse_lifecycle, MAX_LIFECYCLE_BODY};
use super::response;
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::storage::{BucketRecord, ObjectHead};

type Res = Result<Response<ResponseBody>, S3Error>;

/// `PUT /bucket?lifecycle`: 200 once the rules are stored, replacing any
/// the bucket had. Every rule is checked first; one S3 has that s3gw
/// cannot honour (a transition) refuses the whole configuration.
pub(crate) async fn put_bucket_lifecycle(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    let (body, _) = cx.read_small_body(MAX_LIFECYCLE_BODY).await?;
    let config = parse_lifecycle(&body)?;
    cx.storage()
        .set_bucket_lifecycle(&bucket, Some(&config))
        .await?;
    Ok(response::empty(StatusCode::OK))
}

/// `GET /bucket?lifecycle`: the rules as stored,
/// `NoSuchLifecycleConfiguration` without any.
pub(crate) async fn get_bucket_lifecycle(cx: &mut RequestCx) -> Res {
    let config = cx
        .bucket()
        .await?
        .lifecycle
        .ok_or(S3Error::code(S3ErrorCode::NoSuchLifecycleConfiguration))?;
    Ok(response::xml_text(lifecycle_answer(&config)))
}

/// `DELETE /bucket?lifecycle`: 204, also when there was none (as S3 does).
pub(crate) async fn delete_bucket_lifecycle(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    if bucket.lifecycle.is_some() {
        cx.storage().set_bucket_lifecycle(&bucket, None).await?;
    }
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// `x-amz-expiration` for the current version `head` of `key`, when an
/// enabled rule of the bucket will expire it: `expiry-date="<HTTP date>",
/// rule-id="<id, URL-encoded>"`, as S3 sends it. `day_ms` is the length
/// of a lifecycle day (`--lifecycle-day-secs`).
pub(crate) fn expiration_header(
    bucket: &BucketRecord,
    key: &str,
    head: &ObjectHead,
    day_ms: i64,
) -> Option<String> {
    if head.delete_marker {
        return None;
    }
    let config = bucket.lifecycle.as_ref()?;
    let (due, rule) = config.expiry(key, head.size, &head.tags, head.last_modified_ms, day_ms)?;
    Some(format!(
        "expiry-date=\"{}\", rule-id=\"{}\"",
        response::http_date(due),
        crate::auth::uri_encode(rule, true)
    ))
}

/// Adds `x-amz-expiration` to an answer about `head`, if it has one.
pub(crate) fn set_expiration_header(
    cx: &RequestCx,
    r: &mut Response<ResponseBody>,
    bucket: &BucketRecord,
    key: &str,
    head: &ObjectHead,
) {
    let day_ms = cx.state.config.lifecycle_day_ms();
    if let Some(value) = expiration_header(bucket, key, head, day_ms) {
        response::set(r, "x-amz-expiration", &value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DAY_MS;

    fn bucket_with(xml: &str) -> BucketRecord {
        let mut b = BucketRecord::new("b", "us-east-1", "");
        b.lifecycle = Some(parse_lifecycle(xml.as_bytes()).expect("rules"));
        b
    }

    fn head(size: u64, modified_ms: i64) -> ObjectHead {
        ObjectHead {
            size,
            last_modified_ms: modified_ms,
            ..ObjectHead::delete_marker(None, modified_ms)
        }
    }

    #[test]
    fn expiration_names_the_earliest_rule_that_selects_the_object() {
        let b = bucket_with(
            "<LifecycleConfiguration>\
             <Rule><ID>late all</ID><Filter/><Status>Enabled</Status>\
             <Expiration><Days>30</Days></Expiration></Rule>\
             <Rule><ID>logs/soon</ID><Filter><Prefix>logs/</Prefix></Filter>\
             <Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>\
             <Rule><ID>off</ID><Filter/><Status>Disabled</Status>\
             <Expiration><Days>1</Days></Expiration></Rule>\
             </LifecycleConfiguration>",
        );
        // 2014-01-15 10:30 UTC.
        let created = 1_389_781_800_000;
        let h = head(10, created);
        let mut h_live = h.clone();
        h_live.delete_marker = false;
        assert_eq!(
            expiration_header(&b, "logs/a", &h_live, DAY_MS).as_deref(),
            Some("expiry-date=\"Sat, 18 Jan 2014 00:00:00 GMT\", rule-id=\"logs%2Fsoon\"")
        );
        assert_eq!(
            expiration_header(&b, "data/a", &h_live, DAY_MS).as_deref(),
            Some("expiry-date=\"Sat, 15 Feb 2014 00:00:00 GMT\", rule-id=\"late%20all\"")
        );
        // A marker does not expire; a bucket without rules says nothing.
        assert_eq!(expiration_header(&b, "logs/a", &h, DAY_MS), None);
        let plain = BucketRecord::new("b", "us-east-1", "");
        assert_eq!(expiration_header(&plain, "logs/a", &h_live, DAY_MS), None);
    }
}
