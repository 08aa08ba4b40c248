//! AWS's published SigV4 examples for S3, checked step by step and end to end
//! (parse_auth -> verify -> DecodedBody -> BodyDigest). All values below are
//! copied from the AWS S3 API reference pages `sig-v4-header-based-auth`,
//! `sigv4-query-string-auth`, `sigv4-streaming` and `sigv4-streaming-trailers`
//! (credentials AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY,
//! 2013-05-24T00:00:00Z, us-east-1), never produced by our own signer.

use http::request::Parts;
use sha2::{Digest, Sha256};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::auth::checksum::parse_checksum_request;
use crate::auth::chunked::tests::{body_of, drain};
use crate::auth::sigv4::testing::{parse_auth, verify};
use crate::auth::sigv4::{
    canonical_headers, canonical_query, reencoded_path, sign, EMPTY_SHA256_HEX,
};
use crate::auth::*;
use crate::types::ChecksumAlgorithm;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NOW: OffsetDateTime = datetime!(2013-05-24 00:00:00 UTC);
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
const AMZ_DATE: &str = "20130524T000000Z";

fn secret() -> SecretKey {
    SecretKey::new(SECRET.into())
}

use crate::auth::test_support::parts;

fn with_auth(mut p: Parts, signed: &str, signature: &str) -> Parts {
    let value = format!(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/{SCOPE},SignedHeaders={signed},Signature={signature}"
    );
    p.headers.insert("authorization", value.parse().unwrap());
    p
}

/// Checks canonical request, string to sign and signature of a header-auth
/// example, then the whole `parse_auth` + `verify` path with the published
/// signature.
fn header_example(
    p: Parts,
    canonical_uri: &str,
    signed: &str,
    creq: &str,
    sts_hash: &str,
    signature: &str,
) {
    let names: Vec<String> = signed.split(';').map(String::from).collect();
    let payload = p.headers["x-amz-content-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    let built = canonical_request(
        p.method.as_str(),
        canonical_uri,
        &canonical_query(p.uri.query().unwrap_or("")),
        &canonical_headers(&p, &names),
        signed,
        &payload,
    );
    assert_eq!(built, creq);
    let sts = string_to_sign(AMZ_DATE, SCOPE, &built);
    assert_eq!(
        sts,
        format!("AWS4-HMAC-SHA256\n{AMZ_DATE}\n{SCOPE}\n{sts_hash}")
    );
    assert_eq!(
        sign(&signing_key(&secret(), "20130524", "us-east-1"), &sts),
        signature
    );

    let p = with_auth(p, signed, signature);
    let req = parse_auth(&p).unwrap().unwrap();
    let v = verify(&req, &p, &secret(), NOW).unwrap();
    assert_eq!(v.access_key, "AKIAIOSFODNN7EXAMPLE");
    // One wrong signature digit is rejected.
    let mut wrong = signature.to_string();
    wrong.replace_range(0..1, if wrong.starts_with('0') { "1" } else { "0" });
    let p = with_auth(p, signed, &wrong);
    let req = parse_auth(&p).unwrap().unwrap();
    assert!(matches!(
        verify(&req, &p, &secret(), NOW),
        Err(AuthError::SignatureDoesNotMatch)
    ));
}

#[test]
fn signing_key_example() {
    assert_eq!(
        hex::encode(signing_key(&secret(), "20130524", "us-east-1")),
        "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378"
    );
}

#[test]
fn get_object_with_range() {
    let p = parts(
        "GET",
        "/test.txt",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256_HEX),
            ("x-amz-date", AMZ_DATE),
        ],
    );
    header_example(
        p,
        "/test.txt",
        "host;range;x-amz-content-sha256;x-amz-date",
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
}

#[test]
fn put_object_with_dollar_in_key() {
    // The example's request line is `PUT test$file.text`: the client sends `$`
    // raw and signs `%24`, which only the re-encoded second try matches.
    let p = parts(
        "PUT",
        "/test$file.text",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", AMZ_DATE),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            (
                "x-amz-content-sha256",
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
            ),
        ],
    );
    assert_eq!(reencoded_path(p.uri.path()), "/test%24file.text");
    header_example(
        p.clone(),
        "/test%24file.text",
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n\
         x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n\
         x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n\
         date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n\
         44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    // The body then goes through the digest with the signed hash.
    let p = with_auth(
        p,
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    let v = verify(&parse_auth(&p).unwrap().unwrap(), &p, &secret(), NOW).unwrap();
    let PayloadMode::Signed(sha256) = v.payload else {
        panic!("{:?}", v.payload)
    };
    let mut d = BodyDigest::new(Expectations {
        sha256: Some(sha256),
        ..Default::default()
    });
    d.update(b"Welcome to Amazon S3.");
    d.finish(None).unwrap();
}

#[test]
fn get_bucket_lifecycle() {
    let p = parts(
        "GET",
        "/?lifecycle",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-date", AMZ_DATE),
            ("x-amz-content-sha256", EMPTY_SHA256_HEX),
        ],
    );
    header_example(
        p,
        "/",
        "host;x-amz-content-sha256;x-amz-date",
        "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    );
}

#[test]
fn list_objects() {
    let p = parts(
        "GET",
        "/?max-keys=2&prefix=J",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-date", AMZ_DATE),
            ("x-amz-content-sha256", EMPTY_SHA256_HEX),
        ],
    );
    header_example(
        p,
        "/",
        "host;x-amz-content-sha256;x-amz-date",
        "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    );
}

const PRESIGNED: &str = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
    &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
    &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
    &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

#[test]
fn presigned_get_object() {
    let p = parts(
        "GET",
        PRESIGNED,
        &[("host", "examplebucket.s3.amazonaws.com")],
    );
    let creq = canonical_request(
        "GET",
        "/test.txt",
        &canonical_query(p.uri.query().unwrap()),
        &canonical_headers(&p, &["host".to_string()]),
        "host",
        "UNSIGNED-PAYLOAD",
    );
    assert_eq!(
        creq,
        "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n\
         host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
    );
    assert_eq!(
        string_to_sign(AMZ_DATE, SCOPE, &creq),
        format!("AWS4-HMAC-SHA256\n{AMZ_DATE}\n{SCOPE}\n3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04")
    );

    let req = parse_auth(&p).unwrap().unwrap();
    assert_eq!(
        req.kind,
        AuthKind::Presigned {
            expires_secs: 86400
        }
    );
    assert_eq!(req.payload, PayloadMode::Unsigned);
    assert_eq!(
        req.signature,
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
    let v = verify(&req, &p, &secret(), NOW).unwrap();
    assert_eq!(v.access_key, "AKIAIOSFODNN7EXAMPLE");
    assert!(v.chunk_signer.is_none());

    // Validity window: [date - 15 min, date + expires].
    verify(&req, &p, &secret(), NOW + Duration::seconds(86400)).unwrap();
    verify(&req, &p, &secret(), NOW - Duration::minutes(15)).unwrap();
    assert!(matches!(
        verify(&req, &p, &secret(), NOW + Duration::seconds(86401)),
        Err(AuthError::Expired)
    ));
    assert!(matches!(
        verify(
            &req,
            &p,
            &secret(),
            NOW - Duration::minutes(15) - Duration::seconds(1)
        ),
        Err(AuthError::NotYetValid)
    ));

    // Any other query parameter is signed too.
    let tampered = parts(
        "GET",
        &format!("{PRESIGNED}&x-id=GetObject"),
        &[("host", "examplebucket.s3.amazonaws.com")],
    );
    let req = parse_auth(&tampered).unwrap().unwrap();
    assert!(matches!(
        verify(&req, &tampered, &secret(), NOW),
        Err(AuthError::SignatureDoesNotMatch)
    ));
    // A client adding x-amz-content-sha256 to the presigned request is still fine.
    let with_header = parts(
        "GET",
        PRESIGNED,
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", EMPTY_SHA256_HEX),
        ],
    );
    let req = parse_auth(&with_header).unwrap().unwrap();
    assert!(matches!(req.payload, PayloadMode::Signed(_)));
    verify(&req, &with_header, &secret(), NOW).unwrap();
}

#[test]
fn presigned_parameter_errors() {
    let host = [("host", "examplebucket.s3.amazonaws.com")];
    let invalid = |uri: String| {
        let r = parse_auth(&parts("GET", &uri, &host));
        assert!(
            matches!(r, Err(AuthError::InvalidPresign(_))),
            "{uri}: {r:?}"
        );
    };
    invalid(PRESIGNED.replace("X-Amz-Expires=86400", "X-Amz-Expires=0"));
    invalid(PRESIGNED.replace("X-Amz-Expires=86400", "X-Amz-Expires=604801"));
    invalid(PRESIGNED.replace("X-Amz-Expires=86400", "X-Amz-Expires=-1"));
    invalid(PRESIGNED.replace("&X-Amz-Expires=86400", ""));
    invalid(PRESIGNED.replace("&X-Amz-Date=20130524T000000Z", ""));
    invalid(PRESIGNED.replace("X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130525T000000Z"));
    invalid(PRESIGNED.replace("X-Amz-Date=20130524T000000Z", "X-Amz-Date=yesterday"));
    invalid(PRESIGNED.replace("&X-Amz-SignedHeaders=host", ""));
    invalid(PRESIGNED.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"));
    invalid(PRESIGNED.replace("%2Fs3%2F", "%2Fec2%2F"));
    invalid(format!("{PRESIGNED}&X-Amz-Signature=00"));
    invalid(PRESIGNED.replace("X-Amz-Signature=aeeed9bb", "X-Amz-Signature=zzzzzzzz"));
    let mut p = parts("PUT", PRESIGNED, &host);
    p.headers.insert(
        "x-amz-content-sha256",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".parse().unwrap(),
    );
    assert!(matches!(parse_auth(&p), Err(AuthError::InvalidPresign(_))));
    let v4a = PRESIGNED.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
    assert!(matches!(
        parse_auth(&parts("GET", &v4a, &host)),
        Err(AuthError::UnsupportedSignatureVersion)
    ));
}

/// The 66560-byte upload of `sigv4-streaming` / `sigv4-streaming-trailers`.
fn streaming_request(content_sha256: &str, extra: &[(&str, &str)]) -> Parts {
    let mut headers = vec![
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", AMZ_DATE),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", content_sha256),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
    ];
    headers.extend_from_slice(extra);
    parts("PUT", "/examplebucket/chunkObject.txt", &headers)
}

fn chunked_wire(signatures: [&str; 3], tail: &str) -> Vec<u8> {
    let mut wire = format!("10000;chunk-signature={}\r\n", signatures[0]).into_bytes();
    wire.extend(std::iter::repeat_n(b'a', 65536));
    wire.extend_from_slice(format!("\r\n400;chunk-signature={}\r\n", signatures[1]).as_bytes());
    wire.extend(std::iter::repeat_n(b'a', 1024));
    wire.extend_from_slice(format!("\r\n0;chunk-signature={}\r\n{tail}", signatures[2]).as_bytes());
    wire
}

/// Decodes `wire` in a few different frame layouts; returns the trailer checksum.
fn decode_all_ways(
    wire: &[u8],
    mode: PayloadMode,
    signer: &ChunkSigner,
) -> Option<(ChecksumAlgorithm, Vec<u8>)> {
    let mut trailer = None;
    for frame in [wire.len(), 1000, 4096, 65_537, 7] {
        let frames: Vec<Vec<u8>> = wire.chunks(frame).map(<[u8]>::to_vec).collect();
        let mut body = body_of(frames, mode, Some(signer.clone()), Some(66560));
        let out = drain(&mut body).unwrap_or_else(|e| panic!("frame {frame}: {e}"));
        assert_eq!(out.len(), 66560);
        assert!(out.iter().all(|&b| b == b'a'));
        trailer = body.trailer_checksum();
    }
    trailer
}

#[test]
fn streaming_signed_chunks() {
    const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    const CHUNKS: [&str; 3] = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ];
    let signed = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class";
    let p = streaming_request(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        &[("content-length", "66824")],
    );
    let p = with_auth(p, signed, SEED);
    let req = parse_auth(&p).unwrap().unwrap();
    assert_eq!(req.payload, PayloadMode::StreamingSigned { trailer: false });
    let v = verify(&req, &p, &secret(), NOW).unwrap();
    let signer = v.chunk_signer.expect("streaming-signed has a signer");
    assert_eq!(signer.seed_signature(), SEED);

    // Each published chunk signature, chained from the seed.
    let a64k: [u8; 32] = Sha256::digest(vec![b'a'; 65536]).into();
    assert_eq!(
        signer.chunk_string_to_sign(SEED, &a64k),
        format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{AMZ_DATE}\n{SCOPE}\n{SEED}\n{EMPTY_SHA256_HEX}\n\
             bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a"
        )
    );
    assert_eq!(signer.chunk_signature(SEED, &a64k), CHUNKS[0]);
    assert_eq!(
        signer.chunk_signature(CHUNKS[0], &Sha256::digest(vec![b'a'; 1024]).into()),
        CHUNKS[1]
    );
    assert_eq!(
        signer.chunk_signature(CHUNKS[1], &Sha256::digest(b"").into()),
        CHUNKS[2]
    );

    // The body exactly as published (Content-Length 66824) decodes to 66560 'a'.
    let wire = chunked_wire(CHUNKS, "\r\n");
    assert_eq!(wire.len(), 66824);
    assert_eq!(decode_all_ways(&wire, v.payload, &signer), None);
    // The same body with the second chunk's signature from another request fails.
    let bad = chunked_wire([CHUNKS[0], CHUNKS[2], CHUNKS[2]], "\r\n");
    let mut body = body_of(vec![bad], v.payload, Some(signer), None);
    assert!(matches!(
        drain(&mut body),
        Err(AuthError::ChunkSignatureMismatch)
    ));
}

#[test]
fn streaming_signed_chunks_with_trailer() {
    const SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
    const CHUNKS: [&str; 3] = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ];
    const TRAILER_SIG: &str = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";
    let p = streaming_request(
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        &[("x-amz-trailer", "x-amz-checksum-crc32c")],
    );
    let signed = "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer";
    let creq = canonical_request(
        "PUT",
        "/examplebucket/chunkObject.txt",
        "",
        &canonical_headers(&p, &signed.split(';').map(String::from).collect::<Vec<_>>()),
        signed,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    );
    assert_eq!(
        string_to_sign(AMZ_DATE, SCOPE, &creq),
        format!("AWS4-HMAC-SHA256\n{AMZ_DATE}\n{SCOPE}\n44d48b8c2f70eae815a0198cc73d7a546a73a93359c070abbaa5e6c7de112559")
    );
    let p = with_auth(p, signed, SEED);
    let req = parse_auth(&p).unwrap().unwrap();
    let v = verify(&req, &p, &secret(), NOW).unwrap();
    assert_eq!(v.payload, PayloadMode::StreamingSigned { trailer: true });
    let signer = v.chunk_signer.expect("signer");
    assert_eq!(
        signer.chunk_signature(SEED, &Sha256::digest(vec![b'a'; 65536]).into()),
        CHUNKS[0]
    );
    assert_eq!(
        signer.chunk_signature(CHUNKS[0], &Sha256::digest(vec![b'a'; 1024]).into()),
        CHUNKS[1]
    );
    assert_eq!(
        signer.chunk_signature(CHUNKS[1], &Sha256::digest(b"").into()),
        CHUNKS[2]
    );
    // Trailer: hash("x-amz-checksum-crc32c:sOO8/Q==\n") = 1e376db7...
    assert_eq!(
        hex::encode(Sha256::digest(b"x-amz-checksum-crc32c:sOO8/Q==\n")),
        "1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774"
    );
    assert_eq!(
        signer.trailer_signature(CHUNKS[2], b"x-amz-checksum-crc32c:sOO8/Q==\n"),
        TRAILER_SIG
    );

    // Decode as SDKs send it, and as the AWS page prints it (blank line first,
    // no final CRLF); then the digest verdict against x-amz-trailer.
    let checksum_request = parse_checksum_request(&p.headers).unwrap();
    for tail in [
        format!("x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:{TRAILER_SIG}\r\n\r\n"),
        format!("\r\nx-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:{TRAILER_SIG}\r\n"),
    ] {
        let wire = chunked_wire(CHUNKS, &tail);
        let trailer = decode_all_ways(&wire, v.payload, &signer);
        assert_eq!(
            trailer,
            Some((ChecksumAlgorithm::Crc32c, vec![0xb0, 0xe3, 0xbc, 0xfd]))
        );
        let mut d = BodyDigest::new(Expectations {
            checksum: checksum_request.clone(),
            ..Default::default()
        });
        d.update(&vec![b'a'; 66560]);
        let summary = d.finish(trailer).unwrap();
        assert_eq!(
            summary.checksum.map(|c| c.0),
            Some(ChecksumAlgorithm::Crc32c)
        );
    }
    // A different checksum value with the published signature is rejected.
    let wire = chunked_wire(
        CHUNKS,
        &format!("x-amz-checksum-crc32c:AAAAAA==\r\nx-amz-trailer-signature:{TRAILER_SIG}\r\n\r\n"),
    );
    let mut body = body_of(vec![wire], v.payload, Some(signer), None);
    assert!(matches!(
        drain(&mut body),
        Err(AuthError::ChunkSignatureMismatch)
    ));
}
