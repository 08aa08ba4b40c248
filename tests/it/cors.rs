//! Bucket CORS: the rules through the SDK (Put/Get/DeleteBucketCors), the
//! browser's preflight answered without credentials, and the
//! `Access-Control-*` headers on actual requests, errors included. Raw
//! HTTP for what a browser sends, since no SDK sends a preflight.

use crate::common;

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use common::*;

const APP: &str = "https://app.example.com";

fn rule(origins: &[&str], methods: &[&str]) -> aws_sdk_s3::types::builders::CorsRuleBuilder {
    let mut r = CorsRule::builder();
    for o in origins {
        r = r.allowed_origins(*o);
    }
    for m in methods {
        r = r.allowed_methods(*m);
    }
    r
}

/// Two rules: the app's origins may GET, PUT and POST with the metadata
/// and content-type headers and read ETag; anyone may HEAD.
async fn set_rules(c: &aws_sdk_s3::Client, b: &str) {
    let app = rule(&["https://*.example.com"], &["GET", "PUT", "POST"])
        .id("app")
        .allowed_headers("x-amz-meta-*")
        .allowed_headers("Content-Type")
        .expose_headers("ETag")
        .expose_headers("x-amz-meta-color")
        .max_age_seconds(600)
        .build()
        .expect("rule");
    let anyone = rule(&["*"], &["HEAD"]).build().expect("rule");
    c.put_bucket_cors()
        .bucket(b)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(app)
                .cors_rules(anyone)
                .build()
                .expect("cfg"),
        )
        .send()
        .await
        .expect("put cors");
}

fn options(host: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    format!("OPTIONS {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n")
        .into_bytes()
}

#[tokio::test]
async fn cors_rules_round_trip_and_are_checked() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "cors-rules").await;
    let e = c
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect_err("none yet");
    assert_eq!(code(&e), "NoSuchCORSConfiguration");
    set_rules(&c, &b).await;
    let got = c
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect("get cors");
    let rules = got.cors_rules();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].id(), Some("app"));
    assert_eq!(rules[0].allowed_origins(), ["https://*.example.com"]);
    assert_eq!(rules[0].allowed_methods(), ["GET", "PUT", "POST"]);
    assert_eq!(rules[0].allowed_headers(), ["x-amz-meta-*", "Content-Type"]);
    assert_eq!(rules[0].expose_headers(), ["ETag", "x-amz-meta-color"]);
    assert_eq!(rules[0].max_age_seconds(), Some(600));
    assert_eq!(rules[1].allowed_origins(), ["*"]);
    assert_eq!(rules[1].id(), None);

    // A method S3 does not allow in a rule, and two wildcards, are refused
    // and leave the rules as they were.
    for (origins, methods, want) in [
        (
            &["*"][..],
            &["PATCH"][..],
            "Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
        ),
        (
            &["http://*.*.com"][..],
            &["GET"][..],
            "AllowedOrigin \"http://*.*.com\" can not have more than one wildcard.",
        ),
    ] {
        let e = c
            .put_bucket_cors()
            .bucket(&b)
            .cors_configuration(
                CorsConfiguration::builder()
                    .cors_rules(rule(origins, methods).build().expect("rule"))
                    .build()
                    .expect("cfg"),
            )
            .send()
            .await
            .expect_err("refused");
        assert_eq!(code_and_message(&e), ("InvalidRequest".into(), want.into()));
    }
    let got = c
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect("get cors");
    assert_eq!(got.cors_rules().len(), 2);

    c.delete_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    let e = c
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&e), "NoSuchCORSConfiguration");
    // Deleting again is not an error, as on S3.
    c.delete_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect("delete again");
}

#[tokio::test]
async fn a_preflight_is_answered_from_the_rules_without_credentials() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "cors-preflight").await;
    let host = srv.addr.to_string();
    let path = format!("/{b}/photos/cat.jpg");
    let ask = |origin: &'static str, method: &'static str, headers: Option<&'static str>| {
        let mut h = vec![
            ("Origin", origin),
            ("Access-Control-Request-Method", method),
        ];
        if let Some(v) = headers {
            h.push(("Access-Control-Request-Headers", v));
        }
        options(&host, &path, &h)
    };

    // Without rules: 403, as for a bucket that does not exist.
    let (status, head, body) = raw_request(srv.addr, &ask(APP, "PUT", None)).await;
    assert_eq!(status, 403, "{head}");
    let body = String::from_utf8_lossy(&body).into_owned();
    assert!(body.contains("<Code>AccessForbidden</Code>"), "{body}");
    assert!(
        body.contains("CORS is not enabled for this bucket"),
        "{body}"
    );
    let missing = options(
        &host,
        "/no-such-bucket-cors/k",
        &[("Origin", APP), ("Access-Control-Request-Method", "GET")],
    );
    let (status, _, missing_body) = raw_request(srv.addr, &missing).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&missing_body).contains("CORS is not enabled"));

    set_rules(&c, &b).await;
    let (status, head, body) = raw_request(
        srv.addr,
        &ask(APP, "PUT", Some("Content-Type, X-Amz-Meta-Color")),
    )
    .await;
    assert_eq!(status, 200, "{head}");
    assert!(body.is_empty());
    assert_eq!(header_in(&head, "access-control-allow-origin"), Some(APP));
    assert_eq!(
        header_in(&head, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        header_in(&head, "access-control-allow-methods"),
        Some("GET, PUT, POST")
    );
    assert_eq!(
        header_in(&head, "access-control-allow-headers"),
        Some("content-type, x-amz-meta-color")
    );
    assert_eq!(
        header_in(&head, "access-control-expose-headers"),
        Some("ETag, x-amz-meta-color")
    );
    assert_eq!(header_in(&head, "access-control-max-age"), Some("600"));
    assert!(
        header_in(&head, "vary").is_some_and(|v| v.contains("Origin")),
        "{head}"
    );

    // The wildcard rule: `*` back, and no credentials.
    let (status, head, _) =
        raw_request(srv.addr, &ask("http://elsewhere.test", "HEAD", None)).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(header_in(&head, "access-control-allow-origin"), Some("*"));
    assert_eq!(header_in(&head, "access-control-allow-credentials"), None);

    // What no rule allows: another origin, method or header.
    for refused in [
        ask("http://elsewhere.test", "PUT", None),
        ask("https://example.com", "GET", None),
        ask(APP, "DELETE", None),
        ask(APP, "PUT", Some("x-amz-acl")),
    ] {
        let (status, head, body) = raw_request(srv.addr, &refused).await;
        assert_eq!(status, 403, "{head}");
        assert!(String::from_utf8_lossy(&body).contains("<Code>AccessForbidden</Code>"));
        assert_eq!(
            header_in(&head, "access-control-allow-origin"),
            None,
            "{head}"
        );
    }

    // Incomplete preflights: 400.
    for incomplete in [
        options(&host, &path, &[("Access-Control-Request-Method", "GET")]),
        options(&host, &path, &[("Origin", APP)]),
    ] {
        let (status, head, body) = raw_request(srv.addr, &incomplete).await;
        assert_eq!(status, 400, "{head}");
        assert!(String::from_utf8_lossy(&body).contains("<Code>BadRequest</Code>"));
    }

    // On the bucket itself too (a POST form's preflight).
    let (status, head, _) = raw_request(
        srv.addr,
        &options(
            &host,
            &format!("/{b}"),
            &[("Origin", APP), ("Access-Control-Request-Method", "POST")],
        ),
    )
    .await;
    assert_eq!(status, 200, "{head}");
}

#[tokio::test]
async fn actual_requests_carry_the_headers_errors_included() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "cors-actual").await;
    put(&c, &b, "k", b"cross-origin data").await;
    let host = srv.addr.to_string();
    let presigned_get = |key: &'static str| {
        let c = c.clone();
        let b = b.clone();
        async move {
            let req = c
                .get_object()
                .bucket(&b)
                .key(key)
                .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("cfg"))
                .await
                .expect("presign");
            path_and_query(&req)
        }
    };
    let get_from = |path: &str, origin: Option<&str>| {
        let extra = origin
            .map(|o| format!("Origin: {o}\r\n"))
            .unwrap_or_default();
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n")
            .into_bytes()
    };
    let url = presigned_get("k").await;

    // Without rules: nothing is added.
    let (status, head, _) = raw_request(srv.addr, &get_from(&url, Some(APP))).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(
        header_in(&head, "access-control-allow-origin"),
        None,
        "{head}"
    );
    assert_eq!(header_in(&head, "vary"), None, "{head}");

    set_rules(&c, &b).await;
    let (status, head, body) = raw_request(srv.addr, &get_from(&url, Some(APP))).await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, b"cross-origin data");
    assert_eq!(header_in(&head, "access-control-allow-origin"), Some(APP));
    assert_eq!(
        header_in(&head, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        header_in(&head, "access-control-expose-headers"),
        Some("ETag, x-amz-meta-color")
    );
    assert_eq!(header_in(&head, "vary"), Some("Origin"));

    // A missing key: the 404 carries them, so the page can read it.
    let missing = presigned_get("nope").await;
    let (status, head, _) = raw_request(srv.addr, &get_from(&missing, Some(APP))).await;
    assert_eq!(status, 404, "{head}");
    assert_eq!(header_in(&head, "access-control-allow-origin"), Some(APP));

    // A request refused before any record was read (no credentials).
    let (status, head, _) = raw_request(srv.addr, &get_from(&format!("/{b}/k"), Some(APP))).await;
    assert_eq!(status, 403, "{head}");
    assert_eq!(header_in(&head, "access-control-allow-origin"), Some(APP));
    // A tampered signature, refused by authentication.
    let tampered = url.replacen("/k?", "/k2?", 1);
    let (status, head, _) = raw_request(srv.addr, &get_from(&tampered, Some(APP))).await;
    assert_eq!(status, 403, "{head}");
    assert_eq!(header_in(&head, "access-control-allow-origin"), Some(APP));

    // An origin no rule allows for GET gets nothing but `Vary`; so does
    // a request without an origin.
    for origin in [Some("http://elsewhere.test"), None] {
        let (status, head, _) = raw_request(srv.addr, &get_from(&url, origin)).await;
        assert_eq!(status, 200, "{head}");
        assert_eq!(
            header_in(&head, "access-control-allow-origin"),
            None,
            "{head}"
        );
        assert_eq!(header_in(&head, "vary"), Some("Origin"), "{head}");
    }
}
