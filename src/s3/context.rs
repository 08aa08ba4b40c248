//! Per-request context: the routed, authenticated request and its body,
//! with the lookups every handler needs.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use http_body_util::BodyStream;

use crate::auth::{self, BodyDigest, DecodedBody, DigestSummary, Expectations, VerifiedAuth};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::text;
use crate::http::pace::{paced, BodyPace};
use crate::http::Route;
use crate::state::AppState;
use crate::storage::writer::BodyHasher;
use crate::storage::{BucketRecord, Storage};
use crate::xml;

use super::owners;
use super::permission::Checked;
use crate::access::Principal;

pub(crate) type RawBody = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// The largest unread body drained after an early answer.
pub(crate) const DRAIN_MAX_BYTES: usize = 64 * 1024;
/// How long an early answer waits for the rest of a small body.
pub(crate) const DRAIN_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The data frames of a request body as a stream, held to `pace`: a client
/// that keeps the gateway waiting too long gets a `TimedOut` error (S3's
/// `RequestTimeout`) rather than holding its connection and buffers.
pub(crate) fn body_stream<B>(body: B, pace: BodyPace) -> RawBody
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: std::fmt::Display,
{
    let frames = BodyStream::new(body).filter_map(|frame| {
        std::future::ready(match frame {
            Ok(f) => f.into_data().ok().map(Ok),
            Err(e) => Some(Err(std::io::Error::other(e.to_string()))),
        })
    });
    paced(frames, pace)
}

impl BodyHasher for BodyDigest {
    fn update(&mut self, data: &[u8]) {
        BodyDigest::update(self, data)
    }

    fn update_bytes(&mut self, data: &bytes::Bytes) {
        BodyDigest::update_bytes(self, data)
    }
}

/// A request on its way through a handler: the state, the bucket it
/// addresses, its authentication and its body. The handler's parameters
/// come as its typed input (`super::input`); the request head stays here,
/// read only for the body's framing (lengths, digests, `Expect`).
pub(crate) struct RequestCx {
    pub state: Arc<AppState>,
    parts: http::request::Parts,
    route: Route,
    pub auth: VerifiedAuth,
    /// Who signed the request.
    pub principal: Principal,
    /// The buckets the permission check read.
    checked: Checked,
    /// Behind a mutex only so that the context is `Sync`; taken once.
    body: std::sync::Mutex<Option<RawBody>>,
}

impl RequestCx {
    pub(crate) fn new(
        state: Arc<AppState>,
        parts: http::request::Parts,
        route: Route,
        auth: VerifiedAuth,
        principal: Principal,
        body: RawBody,
    ) -> Self {
        RequestCx {
            state,
            parts,
            route,
            auth,
            principal,
            checked: Checked::default(),
            body: std::sync::Mutex::new(Some(body)),
        }
    }

    pub(crate) fn storage(&self) -> &Arc<dyn Storage> {
        &self.state.storage
    }

    fn header(&self, name: &str) -> Option<&str> {
        text(&self.parts.headers, name)
    }

    pub(crate) fn bucket_name(&self) -> Result<&str, S3Error> {
        self.route
            .bucket
            .as_deref()
            .ok_or_else(|| S3Error::internal("routed without a bucket"))
    }

    /// Hands the handler the buckets the permission check read.
    pub(crate) fn set_checked(&mut self, checked: Checked) {
        self.checked = checked;
    }

    /// The copy source's bucket as the permission check read it.
    pub(crate) fn source_bucket(&self) -> Result<BucketRecord, S3Error> {
        self.checked
            .source
            .clone()
            .ok_or_else(|| S3Error::internal("copy without a checked source bucket"))
    }

    /// The owner S3 answers name here: the addressed bucket's, or (for
    /// ListBuckets) the caller.
    pub(crate) fn owner(&self) -> xml::Owner {
        match &self.checked.bucket {
            Some(b) => owners::bucket_owner(&self.state, b),
            None => owners::principal_owner(&self.state, &self.principal),
        }
    }

    /// The bucket record the permission check read, if it read one.
    pub(crate) fn checked_bucket(&self) -> Option<&BucketRecord> {
        self.checked.bucket.as_ref()
    }

    /// The bucket record (as the permission check read it), or
    /// `NoSuchBucket`.
    pub(crate) async fn bucket(&self) -> Result<BucketRecord, S3Error> {
        if let Some(b) = &self.checked.bucket {
            return Ok(b.clone());
        }
        let name = self.bucket_name()?;
        self.storage()
            .get_bucket(name)
            .await?
            .ok_or_else(|| S3Error::code(S3ErrorCode::NoSuchBucket))
    }

    /// The digests the body must match, from the signature and headers.
    pub(crate) fn expectations(&self) -> Result<Expectations, S3Error> {
        let h = &self.parts.headers;
        let checksum = auth::parse_checksum_request(h)?;
        let trailer_mode = matches!(
            self.auth.payload,
            auth::PayloadMode::StreamingUnsignedTrailer
                | auth::PayloadMode::StreamingSigned { trailer: true }
        );
        if let Some(c) = &checksum {
            if c.in_trailer && !trailer_mode {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidRequest,
                    "x-amz-trailer requires a STREAMING-*-TRAILER payload.",
                ));
            }
        }
        Ok(Expectations {
            sha256: match self.auth.payload {
                auth::PayloadMode::Signed(h) => Some(h),
                _ => None,
            },
            content_md5: auth::parse_content_md5(h)?,
            checksum,
        })
    }

    /// Checks the announced length of an upload's body before any byte is
    /// read: there must be one (botocore sends trailer bodies chunked with
    /// no length at all: allowed), at most `max_size`.
    pub(crate) fn check_announced_length(&self, max_size: u64) -> Result<(), S3Error> {
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let has_length = self.header("content-length").is_some();
        if !has_length && !chunked {
            return Err(S3Error::code(S3ErrorCode::MissingContentLength));
        }
        if let Some(n) = self.decoded_length()? {
            if n > max_size {
                return Err(S3Error::code(S3ErrorCode::EntityTooLarge));
            }
        }
        Ok(())
    }

    /// Length of the decoded body, when the client announced it.
    pub(crate) fn decoded_length(&self) -> Result<Option<u64>, S3Error> {
        let streaming = !matches!(
            self.auth.payload,
            auth::PayloadMode::Signed(_) | auth::PayloadMode::Unsigned
        );
        let name = if streaming {
            "x-amz-decoded-content-length"
        } else {
            "content-length"
        };
        match self.header(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    format!("Invalid {name} header"),
                )
            }),
        }
    }

    /// Reads and drops the rest of a small request body that the handler
    /// left unread because it answered first (NoSuchUpload before an
    /// UploadPart's bytes, say). hyper closes a connection whose request
    /// body was not read to its end, and a proxy in front (Nginx streams
    /// bodies through) may already have promised its client that the
    /// connection stays open; that client's next request then fails.
    /// Only bodies announced as at most [`DRAIN_MAX_BYTES`], and only for
    /// [`DRAIN_MAX_WAIT`]; anything else is left, and the connection closes.
    /// Never with `Expect: 100-continue`: that client has not sent its body
    /// and should not (reading would send it the 100); the answer closes
    /// that connection instead (`answers_without_continue`).
    pub(crate) async fn drain_unread_body(&mut self) {
        if self.parts.headers.contains_key(http::header::EXPECT) {
            return;
        }
        let announced = ["x-amz-decoded-content-length", "content-length"]
            .iter()
            .find_map(|name| self.header(name))
            .and_then(|v| v.trim().parse::<usize>().ok());
        if announced.is_none_or(|n| n > DRAIN_MAX_BYTES) {
            return;
        }
        let Some(mut raw) = self.body.get_mut().ok().and_then(Option::take) else {
            return;
        };
        let drain = async {
            // The raw bytes carry the aws-chunked framing besides the data.
            let mut left = 2 * DRAIN_MAX_BYTES;
            while let Some(Ok(chunk)) = raw.next().await {
                match left.checked_sub(chunk.len()) {
                    Some(l) => left = l,
                    None => break,
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_MAX_WAIT, drain).await;
    }

    /// Takes the body, de-framed and (for streaming modes) signature-checked
    /// chunk by chunk. Digests are the caller's job.
    pub(crate) fn take_body(&mut self) -> Result<DecodedBody, S3Error> {
        let decoded_length = self.decoded_length()?;
        let raw = self.take_raw_body()?;
        Ok(DecodedBody::new(
            raw,
            &self.auth.payload,
            self.auth.chunk_signer.clone(),
            decoded_length,
        ))
    }

    /// Takes the body as it arrives, without the framing the request's
    /// headers announce (a form upload's file, framed by its form).
    pub(crate) fn take_raw_body(&mut self) -> Result<RawBody, S3Error> {
        self.body
            .get_mut()
            .ok()
            .and_then(Option::take)
            .ok_or_else(|| S3Error::internal("request body taken twice"))
    }

    /// Reads a small body (XML) whole, at most `cap` bytes, and verifies it.
    pub(crate) async fn read_small_body(
        &mut self,
        cap: usize,
    ) -> Result<(Bytes, DigestSummary), S3Error> {
        let expect = self.expectations()?;
        self.read_small_body_expecting(cap, expect).await
    }

    /// Like [`Self::read_small_body`], with the caller's expectations.
    pub(crate) async fn read_small_body_expecting(
        &mut self,
        cap: usize,
        expect: Expectations,
    ) -> Result<(Bytes, DigestSummary), S3Error> {
        let mut digest = BodyDigest::new(expect);
        let mut body = self.take_body()?;
        let mut buf = BytesMut::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            if buf.len() + chunk.len() > cap {
                return Err(S3Error::code(S3ErrorCode::MaxMessageLengthExceeded));
            }
            digest.update(&chunk);
            buf.extend_from_slice(&chunk);
        }
        let summary = digest.finish(body.trailer_checksum())?;
        Ok((buf.freeze(), summary))
    }
}
