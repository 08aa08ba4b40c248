//! Building responses: XML bodies, S3 error shapes, common headers, dates.

use std::time::{Duration, SystemTime};

use http::{HeaderValue, Response, StatusCode};
use rand::Rng;
use serde::Serialize;

use crate::error::{ErrorDetail, S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::xml;

pub(crate) fn new_request_id() -> String {
    let n: u64 = rand::thread_rng().gen();
    format!("{n:016X}")
}

/// Adds the headers every response carries.
pub(crate) fn stamp(r: &mut Response<ResponseBody>, request_id: &str) {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amz-request-id", v.clone());
        h.insert("x-amz-id-2", v);
    }
    h.insert(http::header::SERVER, HeaderValue::from_static("s3gw"));
    // Objects carry the uploader's Content-Type: a browser must not guess
    // a more dangerous one (HTML, script) from the bytes.
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
}

pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    r
}

/// 431 for a request head over `http::head::MAX_HEAD_BYTES`, closing
/// the connection (the rest of the request is not read).
pub(crate) fn head_too_large() -> Response<ResponseBody> {
    let mut r = empty(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    r.headers_mut()
        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    r
}

pub(crate) fn empty(status: StatusCode) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::Empty);
    *r.status_mut() = status;
    r
}

fn xml_body(status: StatusCode, body: String) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r
}

pub(crate) fn xml<T: Serialize>(value: &T) -> Result<Response<ResponseBody>, S3Error> {
    let body = xml::to_xml(value).map_err(S3Error::internal)?;
    Ok(xml_body(StatusCode::OK, body))
}

/// An XML document written by its own module (`lifecycle_xml`).
pub(crate) fn xml_text(body: String) -> Response<ResponseBody> {
    xml_body(StatusCode::OK, body)
}

pub(crate) fn xml_root<T: Serialize>(
    root: &str,
    value: &T,
) -> Result<Response<ResponseBody>, S3Error> {
    let body = xml::to_xml_root(root, value).map_err(S3Error::internal)?;
    Ok(xml_body(StatusCode::OK, body))
}

/// The S3 error response; HEAD and 304 responses carry no body.
pub(crate) fn error(
    err: &S3Error,
    request_id: &str,
    resource: &str,
    is_head: bool,
) -> Response<ResponseBody> {
    let status = err.code.status();
    let mut r = if is_head || err.code == S3ErrorCode::NotModified {
        empty(status)
    } else {
        let (headers_not_signed, region) = match &err.detail {
            Some(ErrorDetail::HeadersNotSigned(names)) => (Some(names.as_str()), None),
            Some(ErrorDetail::Region(region)) => (None, Some(region.as_str())),
            Some(ErrorDetail::DeleteMarker { .. }) | None => (None, None),
        };
        let body = xml::to_xml(&xml::ErrorBody {
            code: err.code.as_str(),
            message: &err.message,
            resource: Some(resource),
            headers_not_signed,
            region,
            request_id,
        })
        .unwrap_or_default();
        xml_body(status, body)
    };
    if let Some(ErrorDetail::DeleteMarker {
        version_id,
        last_modified_ms,
    }) = &err.detail
    {
        set(&mut r, "x-amz-delete-marker", "true");
        set(&mut r, "x-amz-version-id", version_id);
        set(&mut r, "last-modified", &http_date(*last_modified_ms));
    }
    if let Some(ErrorDetail::Region(region)) = &err.detail {
        // S3 names the expected region in a header too, which SDKs read.
        if let Ok(v) = HeaderValue::from_str(region) {
            r.headers_mut().insert("x-amz-bucket-region", v);
        }
    }
    stamp(&mut r, request_id);
    r
}

fn system_time(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// `Last-Modified` form: IMF-fixdate, second precision.
pub(crate) fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(system_time(ms))
}

/// XML timestamp form: ISO 8601 UTC with milliseconds.
pub(crate) fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub(crate) use crate::storage::now_ms;

/// A value the client sent, quoted back in an error message: without the
/// characters an XML answer cannot carry, and cut to `max` characters.
pub(crate) fn quoted(value: &str, max: usize) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

/// Sets a header from text, skipping values that are not valid headers.
pub(crate) fn set(r: &mut Response<ResponseBody>, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso8601(1_255_369_830_000), "2009-10-12T17:50:30.000Z");
        assert_eq!(iso8601(1_255_369_830_123), "2009-10-12T17:50:30.123Z");
        assert_eq!(
            http_date(1_255_369_830_999),
            "Mon, 12 Oct 2009 17:50:30 GMT"
        );
    }
}
