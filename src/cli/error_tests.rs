//! Reading the JSON and XML error answers, and the fix each one names.

use super::*;

const EP: &str = "http://127.0.0.1:9000";

fn xml(code: &str, message: &str, extra: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message>{extra}<RequestId>R1</RequestId></Error>"
    )
    .into_bytes()
}

fn shown(status: u16, body: &[u8]) -> (String, String) {
    let e = AdminError::from_response(status, body, EP);
    assert_eq!(e.status, Some(status));
    (e.code.clone(), e.to_string())
}

#[test]
fn auth_errors_name_the_fix_in_xml_and_in_json() {
    for (code, fix) in [
        (
            "InvalidAccessKeyId",
            "the gateway does not know AWS_ACCESS_KEY_ID",
        ),
        ("SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY is wrong"),
        (
            "AccessDenied",
            "this key is not an admin key: use the root pair or a key created with --admin",
        ),
        ("RequestTimeTooSkewed", "clock"),
    ] {
        let from_xml = shown(403, &xml(code, "S3 &amp; text", ""));
        let json = format!(r#"{{"error":"{code}","message":"m"}}"#);
        let from_json = shown(403, json.as_bytes());
        for (c, text) in [from_xml, from_json] {
            assert_eq!(c, code);
            assert!(text.contains(fix), "{code}: {text}");
        }
    }
}

#[test]
fn a_wrong_region_names_the_gateways() {
    let body = xml(
        "AuthorizationHeaderMalformed",
        "the region 'us-east-1' is wrong; expecting 'eu-central-1'",
        "<Region>eu-central-1</Region>",
    );
    let (code, text) = shown(400, &body);
    assert_eq!(code, "AuthorizationHeaderMalformed");
    assert_eq!(
        text,
        "the gateway's region is eu-central-1: set AWS_REGION=eu-central-1 or pass --region eu-central-1"
    );
}

#[test]
fn admin_api_errors_keep_the_servers_message() {
    for (status, code, message) in [
        (400, "InvalidRequest", "name: 1-64 of [A-Za-z0-9._-]"),
        (400, "MalformedJSON", "expected value at line 1"),
        (
            404,
            "NoSuchAccessKey",
            "no key S3GWX: `s3gw admin key list`",
        ),
        (404, "NoSuchBucket", "no bucket b"),
        (409, "KeyExists", "a key named backup exists"),
        (503, "ServiceUnavailable", "Cassandra: no quorum"),
    ] {
        let body = serde_json::json!({"error": code, "message": message}).to_string();
        let (c, text) = shown(status, body.as_bytes());
        assert_eq!(c, code);
        assert_eq!(text, format!("{message} ({code})"));
    }
    let (_, text) = shown(503, br#"{"error":"ServiceUnavailable"}"#);
    assert_eq!(
        text,
        "the gateway's store is unavailable: try again in a moment"
    );
    let (_, text) = shown(418, br#"{"error":"Teapot","message":""}"#);
    assert_eq!(text, "Teapot (HTTP 418)");
}

#[test]
fn answers_that_are_not_the_admin_api_say_so() {
    let (code, text) = shown(400, &xml("InvalidBucketName", "bad", ""));
    assert_eq!(code, "InvalidBucketName");
    assert!(text.contains("does not serve the admin API"), "{text}");
    let (code, text) = shown(404, b"not found");
    assert_eq!(code, INVALID_RESPONSE);
    assert!(text.contains("has no admin API"), "{text}");
    let (_, text) = shown(502, b"<html>bad gateway</html>");
    assert!(text.contains("cannot reach a gateway"), "{text}");
    let (_, text) = shown(500, b"");
    assert_eq!(
        text,
        format!("{EP} answered HTTP 500 without an admin API error")
    );
}

#[test]
fn local_errors_print_their_message() {
    let e = AdminError::local(
        CONNECTION_REFUSED,
        format!("cannot reach {EP}: is the gateway running?"),
    );
    assert_eq!(e.status, None);
    assert_eq!(
        e.to_string(),
        format!("cannot reach {EP}: is the gateway running?")
    );
}
