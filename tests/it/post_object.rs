//! Browser form uploads (PostObject): forms built as a browser sends them,
//! their policy signed with SigV4 as the SDKs' `generate_presigned_post`
//! signs it, and S3's answers to what a policy does not allow. The stored
//! object is read back through the SDK.

use crate::common;

use base64::Engine;
use common::*;
use sha2::Digest;

const BOUNDARY: &str = "----s3gwFormBoundary7MA4YWxkTrZu0gW";

/// A form's fields (before the file) and its file.
struct Form {
    fields: Vec<(String, String)>,
    filename: &'static str,
    file: Vec<u8>,
}

impl Form {
    /// A form signed by the root pair, with `conditions` (JSON) besides
    /// the authentication fields' own, expiring in `expires_in` seconds.
    fn signed(extra: &[(&str, &str)], conditions: &str, expires_in: i64, file: Vec<u8>) -> Form {
        let now = time::OffsetDateTime::now_utc();
        let date = s3gw::auth::sigv4::format_amz_date(now);
        let day = &date[..8];
        let credential = format!("{ACCESS_KEY}/{day}/us-east-1/s3/aws4_request");
        let expiration = (now + time::Duration::seconds(expires_in))
            .format(&time::format_description::well_known::Rfc3339)
            .expect("date");
        let policy = format!(
            r#"{{"expiration": "{expiration}", "conditions": [{conditions},
                {{"x-amz-algorithm": "AWS4-HMAC-SHA256"}}, {{"x-amz-credential": "{credential}"}},
                {{"x-amz-date": "{date}"}}]}}"#
        );
        let policy = base64::engine::general_purpose::STANDARD.encode(policy);
        let key = s3gw::auth::signing_key(
            &s3gw::auth::SecretKey::new(SECRET_KEY.into()),
            day,
            "us-east-1",
        );
        let signature = s3gw::auth::sigv4::sign(&key, &policy);
        let mut fields: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        fields.extend([
            ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
            ("x-amz-credential".to_owned(), credential),
            ("x-amz-date".to_owned(), date),
            ("Policy".to_owned(), policy),
            ("X-Amz-Signature".to_owned(), signature),
        ]);
        Form {
            fields,
            filename: "photo one.jpg",
            file,
        }
    }

    fn body(&self) -> Vec<u8> {
        let mut b = Vec::new();
        for (k, v) in &self.fields {
            b.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n",
                self.filename
            )
            .as_bytes(),
        );
        b.extend_from_slice(&self.file);
        b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        b
    }

    fn set(mut self, name: &str, value: &str) -> Form {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = value.to_owned(),
            None => self.fields.push((name.to_owned(), value.to_owned())),
        }
        self
    }
}

fn post(host: &str, bucket: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nOrigin: https://app.example.com\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

async fn send(srv: &TestServer, bucket: &str, form: &Form) -> (u16, String, String) {
    let req = post(
        &srv.addr.to_string(),
        bucket,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &form.body(),
    );
    let (status, head, body) = raw_request(srv.addr, &req).await;
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

fn bucket_condition(b: &str) -> String {
    format!(r#"{{"bucket": "{b}"}}, ["starts-with", "$key", "up/"]"#)
}

#[tokio::test]
async fn a_signed_form_uploads_the_file_with_its_fields() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "post-form").await;
    let file = data(3 * 1024 * 1024 + 17, 7);
    let conditions = format!(
        r#"{}, ["content-length-range", 1, 10485760], ["starts-with", "$Content-Type", "image/"],
           {{"x-amz-meta-color": "blue"}}, {{"success_action_status": "201"}}"#,
        bucket_condition(&b)
    );
    let form = Form::signed(
        &[
            ("key", "up/${filename}"),
            ("Content-Type", "image/jpeg"),
            ("x-amz-meta-color", "blue"),
            ("success_action_status", "201"),
            ("x-ignore-note", "ignored"),
        ],
        &conditions,
        300,
        file.clone(),
    );
    let (status, head, body) = send(&srv, &b, &form).await;
    assert_eq!(status, 201, "{head}\n{body}");
    let etag = format!("\"{}\"", hex::encode(md5_of(&file)));
    assert!(body.contains("<PostResponse>"), "{body}");
    assert!(body.contains(&format!("<Bucket>{b}</Bucket>")), "{body}");
    assert!(body.contains("<Key>up/photo one.jpg</Key>"), "{body}");
    assert!(
        body.contains(&format!("<ETag>{}</ETag>", etag.replace('"', "&quot;")))
            || body.contains(&format!("<ETag>{etag}</ETag>")),
        "{body}"
    );
    assert_eq!(header_in(&head, "etag"), Some(etag.as_str()));
    let got = c
        .get_object()
        .bucket(&b)
        .key("up/photo one.jpg")
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("image/jpeg"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("color"))
            .map(String::as_str),
        Some("blue")
    );
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(sha2::Sha256::digest(&bytes), sha2::Sha256::digest(&file));

    // The default answer: 204 with the ETag; a redirect: 303 with the
    // bucket, key and ETag in its query.
    let form = Form::signed(
        &[("key", "up/plain")],
        &bucket_condition(&b),
        300,
        b"small".to_vec(),
    );
    let (status, head, _) = send(&srv, &b, &form).await;
    assert_eq!(status, 204, "{head}");
    assert!(header_in(&head, "etag").is_some(), "{head}");
    let conditions = format!(
        r#"{}, ["starts-with", "$success_action_redirect", "https://app.example.com/"]"#,
        bucket_condition(&b)
    );
    let form = Form::signed(
        &[
            ("key", "up/r"),
            (
                "success_action_redirect",
                "https://app.example.com/done?x=1",
            ),
        ],
        &conditions,
        300,
        b"redirected".to_vec(),
    );
    let (status, head, _) = send(&srv, &b, &form).await;
    assert_eq!(status, 303, "{head}");
    let location = header_in(&head, "location").expect("location");
    assert!(
        location.starts_with(&format!(
            "https://app.example.com/done?x=1&bucket={b}&key=up%2Fr&etag=%22"
        )),
        "{location}"
    );
    assert_eq!(get_bytes(&c, &b, "up/r").await, b"redirected");
}

fn md5_of(data: &[u8]) -> [u8; 16] {
    use md5::Digest as _;
    md5::Md5::digest(data).into()
}

#[tokio::test]
async fn what_the_policy_does_not_allow_is_refused_and_nothing_is_stored() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "post-refused").await;
    let small = format!(
        r#"{}, ["content-length-range", 4, 8]"#,
        bucket_condition(&b)
    );
    let base = |key: &str, file: &[u8]| Form::signed(&[("key", key)], &small, 300, file.to_vec());
    let cases: Vec<(&str, Form, u16, &str)> = vec![
        (
            "outside the key prefix",
            base("down/a", b"12345"),
            403,
            "AccessDenied",
        ),
        (
            "an extra field",
            base("up/a", b"12345").set("x-amz-meta-a", "1"),
            403,
            "AccessDenied",
        ),
        (
            "a wrong signature",
            base("up/a", b"12345").set("X-Amz-Signature", &"0".repeat(64)),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "expired",
            Form::signed(&[("key", "up/a")], &small, -5, b"12345".to_vec()),
            403,
            "AccessDenied",
        ),
        (
            "too large",
            base("up/a", b"123456789"),
            400,
            "EntityTooLarge",
        ),
        ("too small", base("up/a", b"123"), 400, "EntityTooSmall"),
        (
            "an unknown key",
            base("up/a", b"12345").set(
                "x-amz-credential",
                &format!(
                    "NOPE/{}/us-east-1/s3/aws4_request",
                    &s3gw::auth::sigv4::format_amz_date(time::OffsetDateTime::now_utc())[..8]
                ),
            ),
            403,
            "InvalidAccessKeyId",
        ),
        (
            "a promise s3gw cannot keep",
            Form::signed(
                &[("key", "up/a"), ("x-amz-server-side-encryption", "aws:kms")],
                &format!(
                    r#"{}, {{"x-amz-server-side-encryption": "aws:kms"}}"#,
                    bucket_condition(&b)
                ),
                300,
                b"12345".to_vec(),
            ),
            501,
            "NotImplemented",
        ),
        (
            "a checksum that does not match",
            Form::signed(
                &[("key", "up/a"), ("x-amz-checksum-crc32", "AAAAAA==")],
                &format!(
                    r#"{}, {{"x-amz-checksum-crc32": "AAAAAA=="}}"#,
                    bucket_condition(&b)
                ),
                300,
                b"12345".to_vec(),
            ),
            400,
            "BadDigest",
        ),
    ];
    for (what, form, status, code) in cases {
        let (got, head, body) = send(&srv, &b, &form).await;
        assert_eq!(got, status, "{what}: {head}\n{body}");
        assert!(
            body.contains(&format!("<Code>{code}</Code>")),
            "{what}: {body}"
        );
    }
    // Without any signature: anonymous, and no policy lets anyone write.
    let anonymous = Form {
        fields: vec![("key".into(), "up/a".into())],
        filename: "a",
        file: b"12345".to_vec(),
    };
    let (status, _, body) = send(&srv, &b, &anonymous).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"));
    // Nor what is wrong with its fields.
    let bad_key = Form {
        fields: vec![("key".into(), "k".repeat(1025))],
        filename: "a",
        file: b"12345".to_vec(),
    };
    let (status, _, body) = send(&srv, &b, &bad_key).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    // No key, no file, not a form, a form cut short.
    let no_key = Form::signed(&[], &bucket_condition(&b), 300, b"x".to_vec());
    let (status, _, body) = send(&srv, &b, &no_key).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("field named 'key'"), "{body}");
    let host = srv.addr.to_string();
    let fields_only = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nup/a\r\n--{BOUNDARY}--\r\n"
    );
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let (status, _, body) =
        raw_request(srv.addr, &post(&host, &b, &ct, fields_only.as_bytes())).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("exactly one file upload"));
    let (status, _, body) =
        raw_request(srv.addr, &post(&host, &b, "text/plain", b"key=up/a")).await;
    assert_eq!(status, 412);
    assert!(String::from_utf8_lossy(&body).contains("<Code>PreconditionFailed</Code>"));
    let mut cut = base("up/a", b"12345").body();
    cut.truncate(cut.len() - BOUNDARY.len() - 8);
    let (status, _, body) = raw_request(srv.addr, &post(&host, &b, &ct, &cut)).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("<Code>MalformedPOSTRequest</Code>"));

    let listed = c.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(
        listed.key_count(),
        Some(0),
        "a refused form stored {:?}",
        listed.contents()
    );
}

#[tokio::test]
async fn a_form_upload_answer_carries_the_buckets_cors_headers() {
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "post-cors").await;
    let rule = aws_sdk_s3::types::CorsRule::builder()
        .allowed_origins("https://app.example.com")
        .allowed_methods("POST")
        .expose_headers("ETag")
        .build()
        .expect("rule");
    c.put_bucket_cors()
        .bucket(&b)
        .cors_configuration(
            aws_sdk_s3::types::CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .expect("cfg"),
        )
        .send()
        .await
        .expect("cors");
    let form = Form::signed(
        &[("key", "up/x")],
        &bucket_condition(&b),
        300,
        b"x".to_vec(),
    );
    let (status, head, _) = send(&srv, &b, &form).await;
    assert_eq!(status, 204, "{head}");
    assert_eq!(
        header_in(&head, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        header_in(&head, "access-control-expose-headers"),
        Some("ETag")
    );
}

#[tokio::test]
async fn a_form_signed_the_legacy_way_is_taken_when_sigv2_is() {
    use hmac::{Hmac, Mac};
    let policy_for = |b: &str| {
        let expiration = (time::OffsetDateTime::now_utc() + time::Duration::seconds(300))
            .format(&time::format_description::well_known::Rfc3339)
            .expect("date");
        base64::engine::general_purpose::STANDARD.encode(format!(
            r#"{{"expiration": "{expiration}", "conditions": [{}]}}"#,
            bucket_condition(b)
        ))
    };
    let sign = |policy: &str| {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET_KEY.as_bytes()).expect("key");
        mac.update(policy.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    let form = |policy: &str, signature: &str| Form {
        fields: vec![
            ("key".into(), "up/legacy".into()),
            ("AWSAccessKeyId".into(), ACCESS_KEY.into()),
            ("policy".into(), policy.into()),
            ("signature".into(), signature.into()),
        ],
        filename: "a",
        file: b"legacy".to_vec(),
    };
    let srv = start().await;
    let c = srv.client();
    let b = create_bucket(&c, "post-v2").await;
    let policy = policy_for(&b);
    let (status, head, body) = send(&srv, &b, &form(&policy, &sign(&policy))).await;
    assert_eq!(status, 204, "{head}\n{body}");
    assert_eq!(get_bytes(&c, &b, "up/legacy").await, b"legacy");
    let (status, _, body) = send(&srv, &b, &form(&policy, &sign("another policy"))).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );

    // Switched off with SigV2: refused whatever the signature.
    let off = start_with(|cfg| cfg.sigv2 = false).await;
    let c = off.client();
    let b = create_bucket(&c, "post-v2-off").await;
    let policy = policy_for(&b);
    let (status, _, body) = send(&off, &b, &form(&policy, &sign(&policy))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>InvalidRequest</Code>"), "{body}");
}
