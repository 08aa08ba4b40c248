//! SigV4 and SigV2, header and presigned: the request head is built from
//! the input (line 1 method, line 2 URI, then `name:value` headers) and
//! taken through the gateway's steps: decode the query, hoist presigned
//! `x-amz-*` parameters, `parse_auth`, `check_region`, `verify`; and for
//! SigV2 (`sigv2_checks`): both hoists, `parse_claims`, `sigv2::verify`.
//!
//! Invariants:
//! * a parsed request is well formed: access key, 8-digit scope date, at
//!   least `host` signed, names lowercase, a 64-hex lowercase signature,
//!   presigned expiry within 1..=604800, a streaming payload only with
//!   `x-amz-decoded-content-length`;
//! * the fuzzed signature never verifies under a secret nobody used (the
//!   seeds carry signatures made with `SECRET`, which may verify);
//! * re-signed with our own signer over the same request, the signature
//!   verifies (or the request is refused for an unsigned `x-amz-*`
//!   header), a single flipped hex digit does not, and neither does the
//!   right signature under another secret.
//! * SigV2: a parsed request has an access key and a signature without
//!   whitespace, a numeric `Expires`, never an aws-chunked payload, and is
//!   refused as an unsupported version when V2 is off; the same three
//!   signature properties hold (our signer: `sigv2::sign` over the first
//!   string to sign `sigv2::strings_to_sign` gives).

#![no_main]

use libfuzzer_sys::fuzz_target;
use s3gw::auth::sigv4::{
    canonical_headers, canonical_query_of, format_amz_date, scope, sign, string_to_sign, AuthKind,
    AuthRequest, MAX_PRESIGN_EXPIRES, UNSIGNED_PAYLOAD,
};
use s3gw::auth::{
    canonical_request, check_region, hoist_query_headers, parse_auth, parse_claims, signing_key,
    sigv2, verify, AuthError, Claims, SecretKey,
};
use s3gw::http::Query;
use s3gw_fuzz::{header_pairs, lines, request_parts};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fuzz_target!(|data: &[u8]| {
    let l = lines(data);
    if l.len() < 2 {
        return;
    }
    let Some(mut parts) = request_parts(l[0], l[1], &header_pairs(&l[2..])) else {
        return;
    };
    let Some(query) = Query::parse(parts.uri.query()) else {
        return;
    };
    sigv2_checks(parts.clone(), &query);
    if hoist_query_headers(&mut parts, &query).is_err() {
        return;
    }
    let req = match parse_auth(&parts, &query) {
        Ok(Some(req)) => req,
        Ok(None) | Err(_) => return,
    };
    well_formed(&req, &parts);
    let _ = check_region(&req, "us-east-1", false);

    // The request's own time, so that the clock checks pass.
    let now = req.date;
    let stranger = SecretKey::new("not-the-secret-anyone-signed-with".into());
    assert!(
        verify(&req, &parts, &query, &stranger, now).is_err(),
        "a signature verified under a secret nobody used"
    );
    let secret = SecretKey::new(SECRET.into());
    let _ = verify(&req, &parts, &query, &secret, now);

    // Our own signature over exactly this request.
    let mut signed = req.clone();
    signed.signature = self_sign(&req, &parts, &query, &secret);
    match verify(&signed, &parts, &query, &secret, now) {
        Ok(v) => {
            assert_eq!(v.access_key, req.access_key);
            assert_eq!(v.payload, req.payload);
            assert_eq!(
                v.chunk_signer.is_some(),
                req.payload.is_streaming()
                    && matches!(req.payload, s3gw::auth::PayloadMode::StreamingSigned { .. })
            );
        }
        Err(AuthError::HeadersNotSigned(names)) => assert!(!names.is_empty()),
        Err(e) => panic!("our own signature was refused: {e:?}"),
    }
    let mut flipped = signed.clone();
    let first = flipped.signature.remove(0);
    flipped
        .signature
        .insert(0, if first == '0' { '1' } else { '0' });
    assert!(verify(&flipped, &parts, &query, &secret, now).is_err());
    assert!(verify(&signed, &parts, &query, &stranger, now).is_err());
});

fn well_formed(req: &AuthRequest, parts: &http::request::Parts) {
    assert!(!req.access_key.is_empty());
    assert!(req.scope_date.len() == 8 && req.scope_date.bytes().all(|b| b.is_ascii_digit()));
    assert!(req.signed_headers.iter().any(|h| h == "host"));
    assert!(req
        .signed_headers
        .iter()
        .all(|h| !h.is_empty() && *h == h.to_ascii_lowercase()));
    assert_eq!(req.signature.len(), 64);
    assert!(req
        .signature
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if let AuthKind::Presigned { expires_secs } = req.kind {
        assert!((1..=MAX_PRESIGN_EXPIRES).contains(&expires_secs));
    }
    if req.payload.is_streaming() {
        assert!(parts.headers.contains_key("x-amz-decoded-content-length"));
    }
}

/// The signature our signer gives this request: raw path, decoded query,
/// the signed headers, and the payload line `verify` tries first.
fn self_sign(
    req: &AuthRequest,
    parts: &http::request::Parts,
    query: &Query,
    secret: &SecretKey,
) -> String {
    let header = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok());
    let payload = match (req.kind, header) {
        (_, Some(h)) => h.to_string(),
        (AuthKind::Header, None) => UNSIGNED_PAYLOAD.to_string(),
        (AuthKind::Presigned { .. }, None) => query
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("X-Amz-Content-Sha256"))
            .map_or(UNSIGNED_PAYLOAD.to_string(), |(_, v)| v.to_string()),
    };
    let path = match parts.uri.path() {
        "" => "/",
        p => p,
    };
    let creq = canonical_request(
        parts.method.as_str(),
        path,
        &canonical_query_of(query),
        &canonical_headers(parts, &req.signed_headers),
        &req.signed_headers.join(";"),
        &payload,
    );
    let key = signing_key(secret, &req.scope_date, &req.region);
    sign(
        &key,
        &string_to_sign(
            &format_amz_date(req.date),
            &scope(&req.scope_date, &req.region),
            &creq,
        ),
    )
}

/// SigV2, as the gateway takes a request when V2 is on.
fn sigv2_checks(mut parts: http::request::Parts, query: &Query) {
    if hoist_query_headers(&mut parts, query).is_err()
        || sigv2::hoist_query_headers(&mut parts, query).is_err()
    {
        return;
    }
    let req = match parse_claims(&parts, query, true) {
        Ok(Some(Claims::V2(req))) => req,
        _ => return,
    };
    assert!(matches!(
        parse_claims(&parts, query, false),
        Err(AuthError::UnsupportedSignatureVersion | AuthError::MultipleAuthMechanisms)
    ));
    assert!(!req.access_key.is_empty() && !req.access_key.contains(char::is_whitespace));
    assert!(!req.signature.is_empty());
    assert!(!req.payload.is_streaming());
    let now = match &req.kind {
        sigv2::V2Kind::Header { date } => *date,
        sigv2::V2Kind::Query {
            expires,
            expires_at,
        } => {
            assert!(expires.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(expires.parse::<i64>().ok(), Some(*expires_at));
            match time::OffsetDateTime::from_unix_timestamp(*expires_at) {
                Ok(t) => t,
                Err(_) => return,
            }
        }
    };
    let vhost = Some("examplebucket");
    let stranger = SecretKey::new("not-the-secret-anyone-signed-with".into());
    assert!(
        sigv2::verify(&req, &parts, vhost, &stranger, now).is_err(),
        "a SigV2 signature verified under a secret nobody used"
    );
    let secret = SecretKey::new(SECRET.into());
    let _ = sigv2::verify(&req, &parts, None, &secret, now);
    let mut signed = req.clone();
    let Some(sts) = sigv2::strings_to_sign(&req, &parts, vhost).into_iter().next() else {
        panic!("no string to sign");
    };
    signed.signature = sigv2::sign(&secret, &sts);
    match sigv2::verify(&signed, &parts, vhost, &secret, now) {
        Ok(v) => {
            assert_eq!(v.access_key, req.access_key);
            assert_eq!(v.payload, req.payload);
            assert!(v.chunk_signer.is_none());
        }
        Err(e) => panic!("our own SigV2 signature was refused: {e:?}"),
    }
    let mut flipped = signed.clone();
    let first = flipped.signature.remove(0);
    flipped
        .signature
        .insert(0, if first == 'A' { 'B' } else { 'A' });
    assert!(sigv2::verify(&flipped, &parts, vhost, &secret, now).is_err());
    assert!(sigv2::verify(&signed, &parts, vhost, &stranger, now).is_err());
}
