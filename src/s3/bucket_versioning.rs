//! Bucket versioning: GetBucketVersioning and PutBucketVersioning. A
//! bucket starts never versioned (GetBucketVersioning names no status);
//! once a status was put it is Enabled or Suspended, and never again
//! unversioned, as in S3. MFA delete is refused: s3gw has no MFA devices
//! (`MfaDelete` `Enabled` here, the `x-amz-mfa` header in `promises.rs`).

use http::{Response, StatusCode};

use super::response;
use super::RequestCx;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::ResponseBody;
use crate::types::VersioningState;
use crate::xml;

type Res = Result<Response<ResponseBody>, S3Error>;

/// A versioning configuration is a few dozen bytes; anything past this is
/// not one.
pub(crate) const MAX_VERSIONING_BODY: usize = 4 * 1024;

/// `GET /bucket?versioning`: the status, none if never versioned.
pub(crate) async fn get_bucket_versioning(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    response::xml(&xml::VersioningConfiguration {
        xmlns: (),
        status: bucket.versioning.status(),
    })
}

/// `PUT /bucket?versioning`: 200 once the status is stored.
pub(crate) async fn put_bucket_versioning(cx: &mut RequestCx) -> Res {
    let bucket = cx.bucket().await?;
    let (body, _) = cx.read_small_body(MAX_VERSIONING_BODY).await?;
    if let Some(state) = parse_versioning(&body)? {
        if state != bucket.versioning {
            cx.storage().set_bucket_versioning(&bucket, state).await?;
        }
    }
    Ok(response::empty(StatusCode::OK))
}

fn mfa_refused() -> S3Error {
    S3Error::new(
        S3ErrorCode::NotImplemented,
        "MFA delete is not supported by this gateway",
    )
}

/// The state a PutBucketVersioning body asks for (`None`: no `Status`,
/// nothing changes). `MalformedXML` for a body that is not a versioning
/// configuration or names another status; `NotImplemented` for
/// `MfaDelete` `Enabled`.
pub fn parse_versioning(body: &[u8]) -> Result<Option<VersioningState>, S3Error> {
    let malformed = || S3Error::code(S3ErrorCode::MalformedXML);
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let request: xml::VersioningRequest =
        xml::from_xml(text).map_err(|e| malformed().with_source(e))?;
    match request.mfa_delete.as_deref() {
        None | Some("Disabled") => {}
        Some("Enabled") => return Err(mfa_refused()),
        Some(_) => return Err(malformed()),
    }
    match request.status.as_deref() {
        None => Ok(None),
        Some(s) => VersioningState::from_status(s)
            .map(Some)
            .ok_or_else(malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Option<VersioningState>, S3ErrorCode> {
        parse_versioning(body.as_bytes()).map_err(|e| e.code)
    }

    #[test]
    fn versioning_bodies() {
        let ns = "http://s3.amazonaws.com/doc/2006-03-01/";
        let enabled = format!(
            "<VersioningConfiguration xmlns=\"{ns}\"><Status>Enabled</Status></VersioningConfiguration>"
        );
        assert_eq!(parse(&enabled), Ok(Some(VersioningState::Enabled)));
        assert_eq!(
            parse("<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>"),
            Ok(Some(VersioningState::Suspended))
        );
        assert_eq!(parse("<VersioningConfiguration/>"), Ok(None));
        assert_eq!(
            parse("<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>"),
            Err(S3ErrorCode::MalformedXML)
        );
        assert_eq!(
            parse("<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>"),
            Err(S3ErrorCode::NotImplemented)
        );
        for bad in ["", "<Status>Enabled</Status", "\u{0}", "<a><b></a>"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
