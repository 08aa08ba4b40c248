//! [`AdminClient`] against a stand-in gateway on 127.0.0.1:0 that checks
//! every request with the gateway's own SigV4 verifier, then echoes it.

use std::convert::Infallible;

use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

use super::*;
use crate::auth::sigv4::{parse_auth, verify};
use crate::auth::AuthError;
use crate::http::Query;

const ACCESS: &str = "S3GWADMINKEY00000000";
const SECRET: &str = "admin/secret+with=chars";

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// Verifies the request as the gateway does; answers an S3 XML error when
/// the signature is wrong, 204 to a DELETE, a JSON error for the key id
/// `missing`, else a JSON echo of what arrived.
async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let query = Query::parse(parts.uri.query()).unwrap();
    let auth = parse_auth(&parts, &query).unwrap().expect("signed");
    let secret = SecretKey::new(SECRET.into());
    match verify(&auth, &parts, &query, &secret, OffsetDateTime::now_utc()) {
        Ok(v) => assert_eq!(v.access_key, ACCESS),
        Err(AuthError::SignatureDoesNotMatch) => {
            let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>\
                       <Message>The request signature we calculated does not match.</Message></Error>";
            return Ok(reply(StatusCode::FORBIDDEN, "application/xml", xml.into()));
        }
        Err(e) => panic!("refused: {e}"),
    }
    assert_eq!(
        parts.headers["x-amz-content-sha256"].to_str().unwrap(),
        hex::encode(Sha256::digest(&body)),
        "the signed hash is the body's"
    );
    if parts.method == Method::DELETE {
        return Ok(reply(
            StatusCode::NO_CONTENT,
            "application/json",
            String::new(),
        ));
    }
    if parts.uri.path().ends_with("/missing") {
        let e = json!({"error": "NoSuchAccessKey", "message": "no key missing: see `s3gw admin key list`"});
        return Ok(reply(
            StatusCode::NOT_FOUND,
            "application/json",
            e.to_string(),
        ));
    }
    let echo = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "host": parts.headers[HOST].to_str().unwrap(),
        "content_type": parts.headers.get(CONTENT_TYPE).map(|v| v.to_str().unwrap()),
        "body": if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap() },
    });
    Ok(reply(StatusCode::OK, "application/json", echo.to_string()))
}

/// Starts the stand-in gateway; its endpoint URL.
async fn gateway() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let conn =
                http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(answer));
            tokio::spawn(conn);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn every_call_sends_its_method_path_and_signed_body() {
    let url = gateway().await;
    let host = url.trim_start_matches("http://");
    let c = AdminClient::new(&url, ACCESS, SECRET, "us-east-1").unwrap();
    let grant = |v: bool| json!({"access_key_id": "K1", "read": true, "write": v, "owner": false});
    for (answer, method, path, body) in [
        (
            c.create_key("backup", true, false).await,
            "POST",
            "/_s3gw/admin/v1/keys",
            json!({"name": "backup", "create_bucket": true, "admin": false}),
        ),
        (
            c.list_keys().await,
            "GET",
            "/_s3gw/admin/v1/keys",
            Value::Null,
        ),
        (
            c.key_info("K1").await,
            "GET",
            "/_s3gw/admin/v1/keys/K1",
            Value::Null,
        ),
        (
            c.allow("b-1", "K1", true, true, false).await,
            "POST",
            "/_s3gw/admin/v1/buckets/b-1/allow",
            grant(true),
        ),
        (
            c.deny("b-1", "K1", true, false, false).await,
            "POST",
            "/_s3gw/admin/v1/buckets/b-1/deny",
            grant(false),
        ),
        (
            c.bucket_info("my.bucket").await,
            "GET",
            "/_s3gw/admin/v1/buckets/my.bucket",
            Value::Null,
        ),
    ] {
        let echo = answer.unwrap();
        assert_eq!(echo["method"], method, "{path}");
        assert_eq!(echo["path"], path);
        assert_eq!(echo["host"], host);
        assert_eq!(echo["body"], body, "{path}");
        let content_type = if body.is_null() {
            Value::Null
        } else {
            json!("application/json")
        };
        assert_eq!(echo["content_type"], content_type, "{path}");
    }
    assert_eq!(c.delete_key("K1").await.unwrap(), Value::Null);
}

#[tokio::test]
async fn the_servers_errors_come_back_with_the_fix() {
    let url = gateway().await;
    let wrong = AdminClient::new(&url, ACCESS, "not the secret", "us-east-1").unwrap();
    let e = wrong.list_keys().await.unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (Some(403), "SignatureDoesNotMatch")
    );
    assert!(
        e.to_string().starts_with("AWS_SECRET_ACCESS_KEY is wrong"),
        "{e}"
    );

    let c = AdminClient::new(&url, ACCESS, SECRET, "us-east-1").unwrap();
    let e = c.key_info("missing").await.unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (Some(404), "NoSuchAccessKey"));
    assert_eq!(
        e.to_string(),
        "no key missing: see `s3gw admin key list` (NoSuchAccessKey)"
    );
}

#[test]
fn debug_hides_the_secret() {
    let c = AdminClient::new("http://127.0.0.1:9000", ACCESS, SECRET, "us-east-1").unwrap();
    let shown = format!("{c:?}");
    assert!(
        shown.contains(ACCESS) && shown.contains("http://127.0.0.1:9000"),
        "{shown}"
    );
    assert!(!shown.contains(SECRET), "{shown}");
}
