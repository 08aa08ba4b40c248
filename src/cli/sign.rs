//! The SigV4 header signature of one admin request, built from the crate's
//! own SigV4 primitives (the same ones the gateway verifies with).
//!
//! Owns nothing but the pure function [`sign_request`]: no I/O, no clock
//! (the caller passes the time), and the secret never leaves
//! [`signing_key`].

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::auth::sigv4::{
    canonical_query, canonical_request, format_amz_date, scope, sign, signing_key, string_to_sign,
};
use crate::auth::SecretKey;

/// The headers we sign, in canonical (sorted) order.
const SIGNED_HEADERS: &str = "host;x-amz-content-sha256;x-amz-date";

/// The access key pair requests are signed with. `Debug` never shows the
/// secret ([`SecretKey`] prints a placeholder).
#[derive(Clone, Debug)]
pub(crate) struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub(crate) access_key: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub(crate) secret: SecretKey,
}

/// The three headers that authenticate a request, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignedHeaders {
    /// `x-amz-date`, `YYYYMMDDTHHMMSSZ`.
    pub(crate) amz_date: String,
    /// `x-amz-content-sha256`: hex SHA-256 of the body.
    pub(crate) content_sha256: String,
    /// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
    pub(crate) authorization: String,
}

/// Signs a request without a query string: `path` is the path exactly as
/// it will be sent (already UriEncoded), `host` the `Host` header's value,
/// `body` the bytes sent (empty for none). Signs `host`, `x-amz-date` and
/// `x-amz-content-sha256`, for service `s3` in `region`.
pub(crate) fn sign_request(
    method: &str,
    path: &str,
    host: &str,
    body: &[u8],
    creds: &Credentials,
    region: &str,
    now: OffsetDateTime,
) -> SignedHeaders {
    let content_sha256 = hex::encode(Sha256::digest(body));
    let amz_date = format_amz_date(now);
    let date = amz_date.get(..8).unwrap_or_default();
    let headers =
        format!("host:{host}\nx-amz-content-sha256:{content_sha256}\nx-amz-date:{amz_date}\n");
    let creq = canonical_request(
        method,
        path,
        &canonical_query(""),
        &headers,
        SIGNED_HEADERS,
        &content_sha256,
    );
    let scope = scope(date, region);
    let key = signing_key(&creds.secret, date, region);
    let signature = sign(&key, &string_to_sign(&amz_date, &scope, &creq));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
        creds.access_key
    );
    SignedHeaders {
        amz_date,
        content_sha256,
        authorization,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::sigv4::testing::{parse_auth, verify};
    use crate::auth::sigv4::PayloadMode;
    use crate::auth::AuthError;
    use http::request::Parts;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-03 10:00:00 UTC);
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn creds(secret: &str) -> Credentials {
        Credentials {
            access_key: "S3GW1A2B3C4D5E6F7G8H".into(),
            secret: SecretKey::new(secret.into()),
        }
    }

    /// The request as the gateway receives it.
    fn request(method: &str, path: &str, host: &str, signed: &SignedHeaders) -> Parts {
        http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", host)
            .header("content-type", "application/json")
            .header("x-amz-date", &signed.amz_date)
            .header("x-amz-content-sha256", &signed.content_sha256)
            .header("authorization", &signed.authorization)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    /// What the gateway's verifier says of `parts`.
    fn verdict(parts: &Parts, secret: &str) -> Result<String, AuthError> {
        let req = parse_auth(parts)?.expect("header auth");
        verify(&req, parts, &SecretKey::new(secret.into()), NOW).map(|v| v.access_key)
    }

    #[test]
    fn the_gateway_accepts_what_we_sign() {
        let body = br#"{"name":"backup","create_bucket":false,"admin":false}"#;
        for (method, path, body) in [
            ("POST", "/_s3gw/admin/v1/keys", &body[..]),
            ("GET", "/_s3gw/admin/v1/keys", &b""[..]),
            (
                "DELETE",
                "/_s3gw/admin/v1/keys/S3GW1A2B3C4D5E6F7G8H",
                &b""[..],
            ),
            ("GET", "/_s3gw/admin/v1/buckets/my.bucket-1", &b""[..]),
        ] {
            let s = sign_request(
                method,
                path,
                "127.0.0.1:7480",
                body,
                &creds(SECRET),
                "us-east-1",
                NOW,
            );
            let parts = request(method, path, "127.0.0.1:7480", &s);
            assert_eq!(
                verdict(&parts, SECRET).unwrap(),
                "S3GW1A2B3C4D5E6F7G8H",
                "{method} {path}"
            );
            let req = parse_auth(&parts).unwrap().unwrap();
            assert_eq!(
                req.payload,
                PayloadMode::Signed(Sha256::digest(body).into())
            );
            assert_eq!(req.region, "us-east-1");
        }
        assert_eq!(
            sign_request("GET", "/", "h", b"", &creds(SECRET), "r", NOW).content_sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_gateway_refuses_a_tampered_request() {
        let path = "/_s3gw/admin/v1/buckets/b/allow";
        let body = br#"{"access_key_id":"K","read":true,"write":false,"owner":false}"#;
        let s = sign_request(
            "POST",
            path,
            "gw:7480",
            body,
            &creds(SECRET),
            "us-east-1",
            NOW,
        );
        let good = request("POST", path, "gw:7480", &s);
        verdict(&good, SECRET).unwrap();

        let mismatch = |parts: &Parts, secret: &str| {
            matches!(
                verdict(parts, secret),
                Err(AuthError::SignatureDoesNotMatch)
            )
        };
        assert!(mismatch(&good, "another secret"), "wrong secret");
        assert!(mismatch(
            &request("POST", "/_s3gw/admin/v1/buckets/b/deny", "gw:7480", &s),
            SECRET
        ));
        assert!(
            mismatch(&request("PUT", path, "gw:7480", &s), SECRET),
            "method"
        );
        assert!(
            mismatch(&request("POST", path, "gw:7481", &s), SECRET),
            "host"
        );
        let other_body = SignedHeaders {
            content_sha256: hex::encode(Sha256::digest(b"{}")),
            ..s.clone()
        };
        assert!(
            mismatch(&request("POST", path, "gw:7480", &other_body), SECRET),
            "body"
        );
    }

    #[test]
    fn the_scope_names_the_region_and_the_debug_form_hides_the_secret() {
        let s = sign_request("GET", "/", "h", b"", &creds(SECRET), "eu-central-1", NOW);
        assert!(s.authorization.starts_with(
            "AWS4-HMAC-SHA256 Credential=S3GW1A2B3C4D5E6F7G8H/20261203/eu-central-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
        ));
        assert_eq!(s.amz_date, "20261203T100000Z");
        assert!(!format!("{:?}", creds(SECRET)).contains("EXAMPLEKEY"));
        assert!(!s.authorization.contains("EXAMPLEKEY"));
    }
}
