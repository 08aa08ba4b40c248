//! Reading the SigV4 claims of a request (header or presigned query), and
//! the SigV4 date formats.

use http::request::Parts;
use http::HeaderMap;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::auth::sigv4::{AuthKind, AuthRequest, PayloadMode, ALGORITHM, MAX_PRESIGN_EXPIRES};
use crate::auth::AuthError;
use crate::http::Query;

const AMZ_DATE: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");
const HTTP_DATE: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

const SCOPE_DATE: &[BorrowedFormatItem<'static>] = format_description!("[year][month][day]");

/// `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(date: OffsetDateTime) -> String {
    date.to_offset(time::UtcOffset::UTC)
        .format(AMZ_DATE)
        .unwrap_or_default()
}

/// Parses `YYYYMMDDTHHMMSSZ`.
pub fn parse_amz_date(value: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(value, AMZ_DATE)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

fn has_param(query: &Query, name: &str) -> bool {
    query.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The query carries a SigV4 signature (`X-Amz-Algorithm` or `X-Amz-Signature`).
pub(crate) fn is_presigned(query: &Query) -> bool {
    has_param(query, "X-Amz-Algorithm") || has_param(query, "X-Amz-Signature")
}

/// Reads the authentication claims of a request without checking them.
/// `query` is the request's decoded query string.
///
/// `Ok(None)` means anonymous: no `Authorization` header and no presigned
/// query. SigV2 (header or presigned) and SigV4a are `UnsupportedSignatureVersion`.
pub fn parse_auth(parts: &Parts, query: &Query) -> Result<Option<AuthRequest>, AuthError> {
    let presigned = is_presigned(query);
    if parts
        .headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .count()
        > 1
    {
        return Err(AuthError::MultipleAuthMechanisms);
    }
    let request = match parts.headers.get(http::header::AUTHORIZATION) {
        Some(_) if presigned => return Err(AuthError::MultipleAuthMechanisms),
        Some(value) => parse_header_auth(parts, value)?,
        None if presigned => parse_presigned(parts, query)?,
        None if has_param(query, "AWSAccessKeyId") && has_param(query, "Signature") => {
            return Err(AuthError::UnsupportedSignatureVersion)
        }
        None => return Ok(None),
    };
    if request.payload.is_streaming() && !parts.headers.contains_key("x-amz-decoded-content-length")
    {
        return Err(AuthError::MissingDecodedLength);
    }
    Ok(Some(request))
}

struct Credential {
    access_key: String,
    scope_date: String,
    region: String,
}

/// `AK/YYYYMMDD/region/s3/aws4_request`.
fn parse_credential(value: &str) -> Result<Credential, String> {
    let mut it = value.rsplitn(5, '/');
    let (Some(terminator), Some(service), Some(region), Some(date), Some(access_key)) =
        (it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return Err("credential must be AK/date/region/s3/aws4_request".into());
    };
    if terminator != "aws4_request" {
        return Err("credential must end with aws4_request".into());
    }
    if service != "s3" {
        return Err(format!("credential service must be s3, not {service}"));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err("credential date must be YYYYMMDD".into());
    }
    if access_key.is_empty() {
        return Err("empty access key".into());
    }
    Ok(Credential {
        access_key: access_key.to_string(),
        scope_date: date.to_string(),
        region: region.to_string(),
    })
}

fn parse_signed_headers(value: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = value
        .split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    if names.iter().any(String::is_empty) {
        return Err("empty name in SignedHeaders".into());
    }
    if !names.iter().any(|n| n == "host") {
        return Err("SignedHeaders must include host".into());
    }
    Ok(names)
}

fn parse_signature(value: &str) -> Result<String, String> {
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("signature must be 64 hex digits".into());
    }
    Ok(value.to_ascii_lowercase())
}

fn check_scope_date(cred: &Credential, date: OffsetDateTime) -> Result<(), String> {
    if date.format(SCOPE_DATE).ok().as_deref() != Some(cred.scope_date.as_str()) {
        return Err("credential date does not match the request date".into());
    }
    Ok(())
}

fn header_date(headers: &HeaderMap) -> Result<OffsetDateTime, AuthError> {
    if let Some(v) = headers.get("x-amz-date") {
        return v
            .to_str()
            .ok()
            .and_then(parse_amz_date)
            .ok_or(AuthError::MissingDate);
    }
    let v = headers
        .get(http::header::DATE)
        .ok_or(AuthError::MissingDate)?;
    let text = v.to_str().map_err(|_| AuthError::MissingDate)?;
    PrimitiveDateTime::parse(text, HTTP_DATE)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| AuthError::MissingDate)
}

fn parse_header_auth(parts: &Parts, value: &http::HeaderValue) -> Result<AuthRequest, AuthError> {
    let malformed = AuthError::MalformedAuthorization;
    let value = value
        .to_str()
        .map_err(|_| malformed("Authorization header is not ASCII".into()))?
        .trim();
    let (algorithm, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    match algorithm {
        ALGORITHM => {}
        "AWS" => return Err(AuthError::UnsupportedSignatureVersion),
        a if a.starts_with("AWS4-ECDSA") => return Err(AuthError::UnsupportedSignatureVersion),
        _ => return Err(AuthError::UnsupportedAuthorizationType),
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for field in rest.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (key, val) = field
            .split_once('=')
            .ok_or_else(|| malformed(format!("field without '=' in Authorization: {field}")))?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            other => return Err(malformed(format!("unknown Authorization field {other}"))),
        };
        if slot.replace(val.trim()).is_some() {
            return Err(malformed(format!(
                "repeated Authorization field {}",
                key.trim()
            )));
        }
    }
    let cred = parse_credential(credential.ok_or_else(|| malformed("missing Credential".into()))?)
        .map_err(malformed)?;
    let signed_headers =
        parse_signed_headers(signed.ok_or_else(|| malformed("missing SignedHeaders".into()))?)
            .map_err(malformed)?;
    let signature =
        parse_signature(signature.ok_or_else(|| malformed("missing Signature".into()))?)
            .map_err(malformed)?;
    let date = header_date(&parts.headers)?;
    check_scope_date(&cred, date).map_err(malformed)?;
    // The payload line of the canonical request is this header's value, so
    // it is signed whether or not SignedHeaders lists it.
    let payload = match parts.headers.get("x-amz-content-sha256") {
        Some(_) => PayloadMode::from_headers(&parts.headers)?,
        None => return Err(AuthError::MissingContentSha256),
    };
    Ok(AuthRequest {
        access_key: cred.access_key,
        date,
        scope_date: cred.scope_date,
        region: cred.region,
        signed_headers,
        signature,
        kind: AuthKind::Header,
        payload,
    })
}

fn query_param<'a>(query: &'a Query, name: &str) -> Result<Option<&'a str>, AuthError> {
    let mut found = query.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
    let Some((_, value)) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(AuthError::InvalidPresign(format!("repeated {name}")));
    }
    Ok(Some(value))
}

fn parse_presigned(parts: &Parts, query: &Query) -> Result<AuthRequest, AuthError> {
    let invalid = AuthError::InvalidPresign;
    let required = |name: &str| -> Result<&str, AuthError> {
        query_param(query, name)?.ok_or_else(|| invalid(format!("missing {name}")))
    };
    match required("X-Amz-Algorithm")? {
        ALGORITHM => {}
        a if a.starts_with("AWS4-ECDSA") => return Err(AuthError::UnsupportedSignatureVersion),
        _ => return Err(invalid("X-Amz-Algorithm must be AWS4-HMAC-SHA256".into())),
    }
    let cred = parse_credential(required("X-Amz-Credential")?).map_err(invalid)?;
    let date = parse_amz_date(required("X-Amz-Date")?)
        .ok_or_else(|| invalid("X-Amz-Date must be YYYYMMDDTHHMMSSZ".into()))?;
    check_scope_date(&cred, date).map_err(invalid)?;
    let expires_secs = required("X-Amz-Expires")?
        .parse::<u64>()
        .ok()
        .filter(|e| (1..=MAX_PRESIGN_EXPIRES).contains(e))
        .ok_or_else(|| invalid(format!("X-Amz-Expires must be 1..={MAX_PRESIGN_EXPIRES}")))?;
    let signed_headers = parse_signed_headers(required("X-Amz-SignedHeaders")?).map_err(invalid)?;
    let signature = parse_signature(required("X-Amz-Signature")?).map_err(invalid)?;
    let payload = match (
        parts.headers.get("x-amz-content-sha256"),
        query_param(query, "X-Amz-Content-Sha256")?,
    ) {
        (Some(h), Some(q)) if h.as_bytes() != q.as_bytes() => {
            return Err(invalid(
                "x-amz-content-sha256 differs between the header and the query".into(),
            ))
        }
        (Some(_), _) => PayloadMode::from_headers(&parts.headers)?,
        (None, Some(v)) => PayloadMode::from_header_value(v)?,
        (None, None) => PayloadMode::Unsigned,
    };
    if matches!(payload, PayloadMode::StreamingSigned { .. }) {
        return Err(invalid(
            "signed aws-chunked bodies need the Authorization header".into(),
        ));
    }
    Ok(AuthRequest {
        access_key: cred.access_key,
        date,
        scope_date: cred.scope_date,
        region: cred.region,
        signed_headers,
        signature,
        kind: AuthKind::Presigned { expires_secs },
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::sigv4::testing::{parse_auth, verify};
    use crate::auth::sigv4::*;

    use crate::auth::test_support::parts;

    #[test]
    fn authorization_parsing_tolerates_spacing_and_order() {
        let sig = "a".repeat(64);
        let header = format!(
            "AWS4-HMAC-SHA256   Signature = {sig} ,SignedHeaders=host;X-Amz-Date,   \
             Credential=AK/20130524/eu-central-1/s3/aws4_request"
        );
        let p = parts(
            "GET",
            "/",
            &[
                ("authorization", &header),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ],
        );
        let req = parse_auth(&p).unwrap().unwrap();
        assert_eq!(req.access_key, "AK");
        assert_eq!(req.region, "eu-central-1");
        assert_eq!(req.scope_date, "20130524");
        assert_eq!(req.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(req.signature, sig);
        assert_eq!(req.kind, AuthKind::Header);
    }

    #[test]
    fn anonymous_requests_have_no_auth() {
        assert_eq!(
            parse_auth(&parts("GET", "/b/k?versionId=null", &[])).unwrap(),
            None
        );
    }

    #[test]
    fn parse_auth_errors() {
        let sig = "0".repeat(64);
        let date = ("x-amz-date", "20130524T000000Z");
        let header = |value: String| parts("GET", "/", &[("authorization", value.as_str()), date]);
        let good_cred = "AK/20130524/us-east-1/s3/aws4_request";
        let mk = |cred: &str, signed: &str, s: &str| {
            header(format!(
                "AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders={signed}, Signature={s}"
            ))
        };
        let is = |r: Result<Option<AuthRequest>, AuthError>, f: fn(&AuthError) -> bool| match r {
            Err(e) => f(&e),
            Ok(_) => false,
        };
        let malformed = |e: &AuthError| matches!(e, AuthError::MalformedAuthorization(_));
        let unsupported = |e: &AuthError| matches!(e, AuthError::UnsupportedSignatureVersion);

        assert!(is(
            parse_auth(&header(
                "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=".into()
            )),
            unsupported
        ));
        assert!(is(
            parse_auth(&header("AWS4-ECDSA-P256-SHA256 Credential=x".into())),
            unsupported
        ));
        let unknown = |e: &AuthError| matches!(e, AuthError::UnsupportedAuthorizationType);
        assert!(is(parse_auth(&header("Bearer token".into())), unknown));
        assert!(is(parse_auth(&header(String::new())), unknown));
        assert!(is(
            parse_auth(&mk("AK/20130524/us-east-1/sts/aws4_request", "host", &sig)),
            malformed
        ));
        assert!(is(
            parse_auth(&mk("AK/20130524/us-east-1/s3/aws5_request", "host", &sig)),
            malformed
        ));
        assert!(is(
            parse_auth(&mk("20130524/us-east-1/s3/aws4_request", "host", &sig)),
            malformed
        ));
        assert!(is(
            parse_auth(&mk("AK/2013052/us-east-1/s3/aws4_request", "host", &sig)),
            malformed
        ));
        assert!(is(
            parse_auth(&mk("AK/20130525/us-east-1/s3/aws4_request", "host", &sig)),
            malformed
        ));
        assert!(is(
            parse_auth(&mk(good_cred, "x-amz-date", &sig)),
            malformed
        ));
        assert!(is(
            parse_auth(&mk(good_cred, "host;;x-amz-date", &sig)),
            malformed
        ));
        assert!(is(parse_auth(&mk(good_cred, "host", "xyz")), malformed));
        assert!(is(
            parse_auth(&header(format!(
                "AWS4-HMAC-SHA256 Credential={good_cred}, Signature={sig}"
            ))),
            malformed
        ));
        assert!(is(
            parse_auth(&header(format!(
                "AWS4-HMAC-SHA256 Credential={good_cred}, Credential={good_cred}, SignedHeaders=host, Signature={sig}"
            ))),
            malformed
        ));
        assert!(is(parse_auth(&header(format!("AWS4-HMAC-SHA256 Credential={good_cred}, Foo=1, SignedHeaders=host, Signature={sig}"))), malformed));

        // Dates.
        let no_date = parts(
            "GET",
            "/",
            &[(
                "authorization",
                &format!(
                    "AWS4-HMAC-SHA256 Credential={good_cred}, SignedHeaders=host, Signature={sig}"
                ),
            )],
        );
        assert!(matches!(parse_auth(&no_date), Err(AuthError::MissingDate)));
        let mut bad_date = no_date.clone();
        bad_date
            .headers
            .insert("x-amz-date", "2013-05-24T00:00:00Z".parse().unwrap());
        assert!(matches!(parse_auth(&bad_date), Err(AuthError::MissingDate)));

        // Payload header.
        let mut bad_sha = mk(good_cred, "host", &sig);
        bad_sha
            .headers
            .insert("x-amz-content-sha256", "STREAMING-FOO".parse().unwrap());
        assert!(matches!(
            parse_auth(&bad_sha),
            Err(AuthError::InvalidContentSha256)
        ));

        // Header plus presigned query; SigV2 presigned.
        let mut both = mk(good_cred, "host", &sig);
        both.uri = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256".parse().unwrap();
        let several = |e: &AuthError| matches!(e, AuthError::MultipleAuthMechanisms);
        assert!(is(parse_auth(&both), several));
        let mut two = mk(good_cred, "host", &sig);
        two.headers
            .append("authorization", "garbage".parse().unwrap());
        assert!(is(parse_auth(&two), several));
        let v2 = parts(
            "GET",
            "/b/k?AWSAccessKeyId=AK&Expires=1700000000&Signature=abc%3D",
            &[],
        );
        assert!(matches!(
            parse_auth(&v2),
            Err(AuthError::UnsupportedSignatureVersion)
        ));
    }

    #[test]
    fn payload_modes() {
        use PayloadMode::*;
        assert_eq!(
            PayloadMode::from_header_value(UNSIGNED_PAYLOAD).unwrap(),
            Unsigned
        );
        assert_eq!(
            PayloadMode::from_header_value(STREAMING_SIGNED).unwrap(),
            StreamingSigned { trailer: false }
        );
        assert_eq!(
            PayloadMode::from_header_value(STREAMING_SIGNED_TRAILER).unwrap(),
            StreamingSigned { trailer: true }
        );
        assert_eq!(
            PayloadMode::from_header_value(STREAMING_UNSIGNED_TRAILER).unwrap(),
            StreamingUnsignedTrailer
        );
        assert!(
            matches!(PayloadMode::from_header_value(EMPTY_SHA256_HEX).unwrap(), Signed(d) if d[0] == 0xe3)
        );
        for bad in [
            "",
            "unsigned-payload",
            "STREAMING-UNSIGNED-PAYLOAD",
            &EMPTY_SHA256_HEX[1..],
            "zz",
        ] {
            assert!(
                matches!(
                    PayloadMode::from_header_value(bad),
                    Err(AuthError::InvalidContentSha256)
                ),
                "{bad}"
            );
        }
        assert_eq!(
            PayloadMode::from_headers(&HeaderMap::new()).unwrap(),
            Unsigned
        );
    }

    #[test]
    fn random_auth_input_never_panics() {
        let tokens = [
            "AWS4-HMAC-SHA256 ",
            "AWS ",
            "Credential=",
            "SignedHeaders=",
            "Signature=",
            "AK",
            "/20130524",
            "/us-east-1",
            "/s3",
            "/aws4_request",
            ",",
            ";",
            "=",
            " ",
            "host",
            "x-amz-date",
            "%",
            "%2F",
            "%ff",
            "+",
            "&",
            "?",
            "X-Amz-Algorithm=",
            "X-Amz-Credential=",
            "X-Amz-Date=",
            "20130524T000000Z",
            "X-Amz-Expires=",
            "604800",
            "X-Amz-SignedHeaders=",
            "X-Amz-Signature=",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "AWSAccessKeyId=",
            "é",
            "\t",
        ];
        let mut next = crate::auth::test_support::xorshift(0x2545_F491_4F6C_DD1D);
        let secret = crate::auth::SecretKey::new("secret".into());
        let now = time::macros::datetime!(2013-05-24 00:00:00 UTC);
        let sig = "0123456789abcdef".repeat(4);
        let valid_header = format!(
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature={sig}"
        );
        let valid_query = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3\
             %2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60\
             &X-Amz-SignedHeaders=host&X-Amz-Signature={sig}"
        );
        let mutate = |base: &str, next: &mut dyn FnMut(usize) -> usize| {
            // Random tokens, or a valid value with a few tokens spliced in or cut out.
            let out = if next(3) == 0 {
                String::new()
            } else {
                base.to_string()
            };
            crate::auth::test_support::splice(out, &tokens, next)
        };
        let mut outcomes = std::collections::HashSet::new();
        for _ in 0..5_000 {
            let header = mutate(&valid_header, &mut next);
            let query = mutate(&valid_query, &mut next);
            let query: String = query
                .chars()
                .filter(|c| c.is_ascii_graphic() && *c != '#')
                .collect();
            let uri = format!("/b/k?{query}");
            let (Ok(_), Ok(_)) = (
                uri.parse::<http::Uri>(),
                http::HeaderValue::from_str(&header),
            ) else {
                continue;
            };
            let mut headers = vec![
                ("x-amz-date", "20130524T000000Z"),
                ("host", "h"),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ];
            if next(2) == 0 {
                headers.push(("authorization", header.as_str()));
            }
            let p = parts("PUT", &uri, &headers);
            // The router answers InvalidURI to a query that is not UTF-8.
            if Query::parse(p.uri.query()).is_none() {
                continue;
            }
            let result = parse_auth(&p);
            outcomes.insert(match &result {
                Ok(Some(req)) => format!("{:?}", req.kind),
                Ok(None) => "anonymous".into(),
                Err(e) => format!("{e:?}").split('(').next().unwrap_or("").to_string(),
            });
            if let Ok(Some(req)) = result {
                // Whatever parses can be verified without panicking (and fails).
                assert!(verify(&req, &p, &secret, now).is_err());
            }
        }
        // The inputs reach every branch, including full verification of both kinds.
        assert!(outcomes.len() >= 6, "{outcomes:?}");
        assert!(outcomes.contains("Header"), "{outcomes:?}");
        assert!(
            outcomes.iter().any(|o| o.starts_with("Presigned")),
            "{outcomes:?}"
        );
    }
}
