//! Browser form uploads (PostObject): `POST /bucket` with
//! `multipart/form-data`. The fields before the file are read (bounded,
//! `http::form`) and carry the request's authentication: a SigV4-signed
//! policy (`post_policy.rs`) whose conditions every field must meet. Then
//! the form is what a PutObject with those fields as headers would be:
//! the same typed input, the same refusals of promises s3gw cannot keep,
//! the same permission check, the same commit. The file streams into its
//! blob; its size is held to the policy's `content-length-range` as it
//! streams, and nothing is committed unless the whole file arrived.
//!
//! The answer is S3's: `204` (or `success_action_status` 200, or 201 with
//! a `PostResponse` document), or a `303` to `success_action_redirect`
//! with the bucket, key and ETag in its query.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, Response, StatusCode};
use serde::Serialize;

use super::context::RawBody;
use super::input::{key_error, Input, PutObjectInput};
use super::object::commit_body;
use super::post_policy::parse_policy;
use super::response::quoted;
use super::upload::store_stream;
use super::{promises, response, versioned, RequestCx};
use crate::access::Principal;
use crate::auth::sigv4::signature_eq;
use crate::auth::{self, DecodedBody, Expectations, PayloadMode, VerifiedAuth};
use crate::error::{BodyRefusal, S3Error, S3ErrorCode};
use crate::http::form::{boundary_of, FormError, FormReader};
use crate::http::{Endpoint, ResponseBody, Route};
use crate::state::AppState;
use crate::storage::BlobOwner;
use crate::types::{quote_etag, ObjectKey, MAX_OBJECT_TAGS, MAX_PUT_SIZE};

/// The largest `tagging` field (an XML `Tagging` document) read.
const MAX_TAGGING_FIELD: usize = 16 * 1024;

/// A form upload's typed input.
#[derive(Debug)]
pub struct PostObjectInput {
    /// What a PutObject with the form's fields as headers would carry.
    pub put: PutObjectInput,
    /// The digests the file must match (`Content-MD5`, `x-amz-checksum-*`
    /// fields).
    pub expect: Expectations,
    /// The answer asked for.
    pub success: Success,
}

/// How a successful form upload is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Success {
    /// `success_action_status`: 200, 201 (with a document) or 204.
    Status(u16),
    /// `success_action_redirect` (or the older `redirect`): a 303.
    Redirect(String),
}

/// A form read up to its file and authenticated: who posted it, its
/// input, and the file's bytes.
pub(crate) struct Accepted {
    pub principal: Principal,
    pub verified: VerifiedAuth,
    pub input: Input,
    pub file: RawBody,
}

fn invalid_argument(message: &'static str) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidArgument, message)
}

fn form_error(e: FormError) -> S3Error {
    match e {
        FormError::NotMultipart => S3Error::new(
            S3ErrorCode::PreconditionFailed,
            "Bucket POST must be of the enclosure-type multipart/form-data",
        ),
        FormError::Malformed(_) => S3Error::code(S3ErrorCode::MalformedPOSTRequest).with_source(e),
        FormError::HeadTooLarge => S3Error::new(
            S3ErrorCode::MaxMessageLengthExceeded,
            "Your POST form's fields before the file exceed the maximum allowed size.",
        ),
        FormError::Body(io) => auth::AuthError::BodyRead(io).into(),
    }
}

/// Reads the form of `POST /bucket` up to its file, authenticates it by
/// its policy and parses its input. `authenticate` looks an access key's
/// secret up as for any signed request.
pub(crate) async fn accept(
    state: &AppState,
    parts: &http::request::Parts,
    route: &Route,
    body: RawBody,
) -> Result<Accepted, S3Error> {
    let bucket = route
        .bucket
        .as_deref()
        .ok_or_else(|| S3Error::internal("a form upload routed without a bucket"))?;
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = boundary_of(content_type).map_err(form_error)?;
    let mut reader = FormReader::new(body, &boundary);
    let head = reader.read_head().await.map_err(form_error)?;
    let mut fields: Vec<(String, String)> = Vec::with_capacity(head.fields.len());
    for f in head.fields {
        let name = f.name.to_ascii_lowercase();
        if fields.iter().any(|(k, _)| *k == name) {
            return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                format!(
                    "POST form field {} appears more than once.",
                    quoted(&name, 128)
                ),
            ));
        }
        fields.push((name, f.value));
    }
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let key = get("key").ok_or_else(|| {
        invalid_argument(
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        )
    })?;
    let file = head
        .file
        .ok_or_else(|| invalid_argument("POST requires exactly one file upload per request."))?;
    let now = time::OffsetDateTime::now_utc();
    let (principal, range) = authenticate(state, &fields, bucket, now).await?;
    // As for any unsigned request: nothing but that it is refused.
    let anonymous = matches!(principal, Principal::Anonymous);
    let hide = |e: S3Error| match e.code {
        S3ErrorCode::InternalError | S3ErrorCode::ServiceUnavailable => e,
        _ if anonymous => S3Error::code(S3ErrorCode::AccessDenied),
        _ => e,
    };
    let key = key.replace("${filename}", file.filename.as_deref().unwrap_or_default());
    let (put, expect) = put_input(&fields, key, anonymous).map_err(hide)?;
    let success = match (
        get("success_action_redirect").or(get("redirect")),
        get("success_action_status"),
    ) {
        (Some(url), _) if url.starts_with("http://") || url.starts_with("https://") => {
            Success::Redirect(url.to_owned())
        }
        (_, Some("200")) => Success::Status(200),
        (_, Some("201")) => Success::Status(201),
        _ => Success::Status(204),
    };
    let verified = VerifiedAuth {
        access_key: match &principal {
            Principal::Root => state.root_access_key.clone(),
            Principal::Key(k) => k.id.clone(),
            Principal::Anonymous => String::new(),
        },
        payload: PayloadMode::Unsigned,
        chunk_signer: None,
    };
    Ok(Accepted {
        principal,
        verified,
        input: Input::PostObject(PostObjectInput {
            put,
            expect,
            success,
        }),
        file: file_stream(reader, range),
    })
}

/// The PutObject the form's fields describe, as headers would (`key`
/// with its `${filename}` filled in), and the digests its file must
/// match. A signed form is refused what PutObject would be refused.
fn put_input(
    fields: &[(String, String)],
    key: String,
    anonymous: bool,
) -> Result<(PutObjectInput, Expectations), S3Error> {
    let headers = as_headers(fields)?;
    if !anonymous {
        promises::refuse_unkept_promises(&headers, &Endpoint::PutObject)?;
    }
    let mut put = PutObjectInput::parse(ObjectKey::parse(key).map_err(key_error)?, &headers)?;
    if let Some((_, xml)) = fields.iter().find(|(k, _)| k == "tagging") {
        if xml.len() > MAX_TAGGING_FIELD {
            return Err(S3Error::code(S3ErrorCode::MaxMessageLengthExceeded));
        }
        put.tags = super::tagging::parse_tagging(xml.as_bytes(), MAX_OBJECT_TAGS)?;
    }
    let expect = Expectations {
        sha256: None,
        content_md5: auth::parse_content_md5(&headers)?,
        checksum: auth::parse_checksum_request(&headers)?,
    };
    Ok((put, expect))
}

/// Who signed the form's policy, and the file's size range it allows.
/// A form without a signature is anonymous (refused by the permission
/// check unless a policy lets anyone write, which no bucket policy here
/// does).
async fn authenticate(
    state: &AppState,
    fields: &[(String, String)],
    bucket: &str,
    now: time::OffsetDateTime,
) -> Result<(Principal, Option<(u64, u64)>), S3Error> {
    let form = Fields(fields);
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let (principal, policy) =
        if form.get("awsaccesskeyid").is_some() || form.get("signature").is_some() {
            v2_signed(state, &form).await?
        } else {
            let signed = [
                "policy",
                "x-amz-signature",
                "x-amz-credential",
                "x-amz-algorithm",
                "x-amz-date",
            ];
            if signed.iter().all(|f| form.get(f).is_none()) {
                return Ok((Principal::Anonymous, None));
            }
            v4_signed(state, &form).await?
        };
    let range = parse_policy(policy)?.check(fields, bucket, now_ms)?;
    Ok((principal, range))
}

/// The form's fields, by lower-case name.
struct Fields<'a>(&'a [(String, String)]);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }

    /// The field `name`, which the form's signature needs.
    fn need(&self, name: &'static str) -> Result<&'a str, S3Error> {
        self.get(name).ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                format!("Bucket POST must contain a field named '{name}'."),
            )
        })
    }
}

/// A policy signed with SigV4: who signed it, and the policy.
async fn v4_signed<'a>(
    state: &AppState,
    form: &Fields<'a>,
) -> Result<(Principal, &'a str), S3Error> {
    let (policy, signature, credential) = (
        form.need("policy")?,
        form.need("x-amz-signature")?,
        form.need("x-amz-credential")?,
    );
    if form.need("x-amz-algorithm")? != "AWS4-HMAC-SHA256" {
        return Err(invalid_argument(
            "Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm.",
        ));
    }
    let date = form.need("x-amz-date")?;
    let date_ok = auth::sigv4::parse_amz_date(date).is_some();
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, day, region, "s3", "aws4_request"] = scope.as_slice() else {
        return Err(invalid_argument(
            "Invalid x-amz-credential: not ID/date/region/s3/aws4_request.",
        ));
    };
    if !date_ok || !date.starts_with(day) {
        return Err(invalid_argument(
            "Invalid x-amz-date, or its day is not the credential's.",
        ));
    }
    if *region != state.config.region {
        return Err(S3Error::new(
            S3ErrorCode::AuthorizationQueryParametersError,
            format!(
                "Error parsing the X-Amz-Credential parameter; the region '{}' is wrong; expecting '{}'",
                quoted(region, 128),
                state.config.region
            ),
        ));
    }
    let principal = super::principal_of(state, access_key).await?;
    let key = auth::signing_key(super::secret_of(state, &principal), day, region);
    if !signature_eq(&auth::sigv4::sign(&key, policy), signature) {
        return Err(S3Error::code(S3ErrorCode::SignatureDoesNotMatch));
    }
    Ok((principal, policy))
}

/// A policy signed the legacy way (`AWSAccessKeyId`, `signature`: base64
/// of HMAC-SHA1 over the policy, as SigV2 signs), when the gateway takes
/// SigV2 (`--sigv2`).
async fn v2_signed<'a>(
    state: &AppState,
    form: &Fields<'a>,
) -> Result<(Principal, &'a str), S3Error> {
    if !state.config.sigv2 {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            "POST policies signed with Signature Version 2 are switched off here; sign with AWS4-HMAC-SHA256.",
        ));
    }
    let (access_key, signature, policy) = (
        form.need("awsaccesskeyid")?,
        form.need("signature")?,
        form.need("policy")?,
    );
    let principal = super::principal_of(state, access_key).await?;
    let expected = auth::sigv2::sign(super::secret_of(state, &principal), policy.as_bytes());
    if !signature_eq(&expected, signature) {
        return Err(S3Error::code(S3ErrorCode::SignatureDoesNotMatch));
    }
    Ok((principal, policy))
}

/// The fields a PutObject takes as headers: the content headers, `acl`
/// as `x-amz-acl`, and the `x-amz-*` fields but the form's own
/// authentication. A value that is no header value is refused.
fn as_headers(fields: &[(String, String)]) -> Result<HeaderMap, S3Error> {
    const CONTENT: [&str; 7] = [
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
        "content-md5",
        "content-type",
        "expires",
    ];
    const OWN: [&str; 5] = [
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-algorithm",
        "x-amz-date",
        "x-amz-security-token",
    ];
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        let header = match name.as_str() {
            "acl" => "x-amz-acl",
            n if CONTENT.contains(&n) => n,
            n if n.starts_with("x-amz-") && !OWN.contains(&n) => n,
            _ => continue,
        };
        let bad = || {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                format!("Invalid value for POST form field {}.", quoted(name, 128)),
            )
        };
        let name = HeaderName::from_bytes(header.as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_str(value).map_err(|_| bad())?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// The file's bytes as a request body: a form that is cut or malformed
/// after the fields, and a file outside `range`, end it with S3's error
/// (and nothing is committed).
fn file_stream<S>(reader: FormReader<S>, range: Option<(u64, u64)>) -> RawBody
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send + 'static,
{
    let (min, max) = range.unwrap_or((0, u64::MAX));
    let refusal = |code, message| Err(BodyRefusal { code, message }.into_io());
    futures_util::stream::unfold(
        (reader.into_file(), 0u64, false),
        move |(mut file, seen, done)| async move {
            if done {
                return None;
            }
            let item = match file.next().await {
                Some(Ok(data)) => {
                    let seen = seen + data.len() as u64;
                    if seen > max {
                        let e = refusal(
                            S3ErrorCode::EntityTooLarge,
                            "Your proposed upload exceeds the maximum allowed size",
                        );
                        return Some((e, (file, seen, true)));
                    }
                    return Some((Ok(data), (file, seen, false)));
                }
                Some(Err(FormError::Body(io))) => Err(io),
                Some(Err(_)) => refusal(
                    S3ErrorCode::MalformedPOSTRequest,
                    "The body of your POST request is not well-formed multipart/form-data.",
                ),
                None if seen < min => refusal(
                    S3ErrorCode::EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed size",
                ),
                None => return None,
            };
            Some((item, (file, seen, true)))
        },
    )
    .boxed()
}

/// Stores the form's file as the object and answers as S3 does.
pub(crate) async fn post_object(
    cx: &mut RequestCx,
    input: PostObjectInput,
) -> Result<Response<ResponseBody>, S3Error> {
    let PostObjectInput {
        put,
        expect,
        success,
    } = input;
    let bucket = cx.bucket().await?;
    let owner = BlobOwner::Object {
        bucket: bucket.id,
        key: put.key.to_string(),
    };
    let raw = cx.take_raw_body()?;
    let body = DecodedBody::new(raw, &PayloadMode::Unsigned, None, None);
    let stored = store_stream(cx, body, expect, MAX_PUT_SIZE, None, &owner).await?;
    let key = put.key;
    let head = commit_body(
        cx,
        &bucket,
        &key,
        &put.condition,
        stored.body,
        put.content,
        put.user_meta,
        put.tags,
    )
    .await?;
    let etag = quote_etag(&head.etag);
    let location = format!(
        "/{}/{}",
        bucket.name,
        crate::auth::uri_encode(key.as_str(), false)
    );
    let mut r = match success {
        Success::Redirect(url) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            let target = format!(
                "{url}{sep}bucket={}&key={}&etag={}",
                crate::auth::uri_encode(&bucket.name, true),
                crate::auth::uri_encode(key.as_str(), true),
                crate::auth::uri_encode(&etag, true)
            );
            let mut r = response::empty(StatusCode::SEE_OTHER);
            response::set(&mut r, "location", &target);
            r
        }
        Success::Status(201) => {
            let doc = PostResponse {
                location: &location,
                bucket: &bucket.name,
                key: key.as_str(),
                etag: &etag,
            };
            let mut r = response::xml(&doc)?;
            *r.status_mut() = StatusCode::CREATED;
            r
        }
        Success::Status(200) => response::empty(StatusCode::OK),
        Success::Status(_) => response::empty(StatusCode::NO_CONTENT),
    };
    response::set(&mut r, "etag", &etag);
    if !r.headers().contains_key(LOCATION) {
        response::set(&mut r, "location", &location);
    }
    versioned::set_version_header(&mut r, &bucket, &head);
    Ok(r)
}

/// The `201` answer's document.
#[derive(Serialize)]
#[serde(rename = "PostResponse", rename_all = "PascalCase")]
struct PostResponse<'a> {
    location: &'a str,
    bucket: &'a str,
    key: &'a str,
    #[serde(rename = "ETag")]
    etag: &'a str,
}
