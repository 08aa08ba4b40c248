//! The reserved `/_s3gw/` paths of one gateway, on the backend under test
//! (`S3GW_TEST_BACKEND`): the dashboard only on the admin listener, never
//! on the S3 one; its API only with a session cookie from a login; failed
//! logins throttled; the API's view of this gateway, its bucket usage and
//! its traffic; the metrics open to scrapers.

use crate::common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Authorization: Basic {token}\r\n")
}

/// A GET with extra header lines `extra` (each ending in CRLF).
async fn get(addr: SocketAddr, path: &str, extra: &str) -> (u16, String, Vec<u8>) {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
    raw_request(addr, request.as_bytes()).await
}

/// A login form POST with extra header lines.
async fn post_login(addr: SocketAddr, form: &str, extra: &str) -> (u16, String, Vec<u8>) {
    let request = format!(
        "POST /_s3gw/login HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{extra}\
         Connection: close\r\n\r\n{form}",
        form.len()
    );
    raw_request(addr, request.as_bytes()).await
}

fn root_form() -> String {
    format!("access_key={ACCESS_KEY}&secret_key={SECRET_KEY}")
}

/// The `Set-Cookie` line of a response head, lowercased.
fn set_cookie(head: &str) -> Option<String> {
    head.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .map(|l| l.to_ascii_lowercase())
}

/// Logs in with the root pair; the `Cookie:` header line to send after.
async fn login(server: &TestServer) -> String {
    let (status, head, _) = post_login(server.admin_addr, &root_form(), "").await;
    assert_eq!(status, 204, "{head}");
    let line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    let pair = line["set-cookie:".len()..]
        .split(';')
        .next()
        .expect("name=value")
        .trim();
    format!("Cookie: {pair}\r\n")
}

async fn cluster(server: &TestServer, cookie: &str) -> serde_json::Value {
    let (status, head, body) = get(server.admin_addr, "/_s3gw/api/cluster", cookie).await;
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    serde_json::from_slice(&body).expect("cluster JSON")
}

/// Polls the API until `done` holds, for at most `limit`.
async fn wait_for(
    server: &TestServer,
    cookie: &str,
    what: &str,
    limit: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let c = cluster(server, cookie).await;
        if done(&c) {
            return c;
        }
        assert!(
            started.elapsed() < limit,
            "{what} not within {limit:?}: {c:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// On Cassandra, a keyspace of the test's own (other tests' gateways and
/// buckets would be in the view and the counts), with its contact point
/// and name for the test's own reads; on the embedded store, none.
fn own_dashboard_keyspace(
    tag: &str,
) -> (
    Option<s3gw::storage::cassandra::CassandraOptions>,
    Option<(String, String)>,
) {
    let own = match backend_under_test() {
        s3gw::config::Backend::Cassandra(_) => own_keyspace(tag, Duration::from_secs(900)),
        s3gw::config::Backend::Embedded => None,
    };
    let keyspace = own
        .as_ref()
        .map(|o| (o.contact_points[0].clone(), o.keyspace.clone()));
    (own, keyspace)
}

#[tokio::test]
async fn dashboard_api_and_metrics() {
    let gateway_id = format!("dash-{}", std::process::id());
    let id = gateway_id.clone();
    // Other tests' buckets (one of 100 000 keys) would be in the count.
    let (own, keyspace) = own_dashboard_keyspace("dash");
    let server = start_with(move |c| {
        c.gateway_id = id;
        c.usage_scan_secs = 1;
        if let Some(o) = own {
            c.backend = s3gw::config::Backend::Cassandra(Box::new(o));
        }
    })
    .await;

    // The S3 listener never serves the dashboard, not even to the admin.
    let admin_basic = basic(ACCESS_KEY, SECRET_KEY);
    for path in [
        "/_s3gw/dashboard/",
        "/_s3gw/dashboard/app.js",
        "/_s3gw/api/cluster",
    ] {
        let (status, head, _) = get(server.addr, path, &admin_basic).await;
        assert_eq!(status, 404, "{path} on the S3 listener: {head}");
    }
    let (status, head, _) = post_login(server.addr, &root_form(), "").await;
    assert_eq!(status, 404, "login on the S3 listener: {head}");
    assert!(set_cookie(&head).is_none(), "{head}");
    let post = "POST /_s3gw/metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_request(server.addr, post.as_bytes()).await.0, 405);

    // The page itself is public on the admin listener; it holds no data.
    let admin = server.admin_addr;
    let (status, head, page) = get(admin, "/_s3gw/dashboard/", "").await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("text/html"), "{head}");
    assert!(String::from_utf8_lossy(&page).contains("app.js"));
    // The page may not be framed, nor run anything but its own script.
    let lower = head.to_ascii_lowercase();
    for h in [
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
        "content-security-policy: default-src 'none'; script-src 'self';",
        "frame-ancestors 'none'",
        "cache-control: no-store",
    ] {
        assert!(lower.contains(h), "{h}: {head}");
    }
    let (status, head, _) = get(admin, "/_s3gw/dashboard/app.js", "").await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("text/javascript"), "{head}");
    assert_eq!(get(admin, "/_s3gw/dashboard", "").await.0, 308);
    assert_eq!(get(admin, "/", "").await.0, 303);
    assert_eq!(get(admin, "/_s3gw/nothing", "").await.0, 404);
    assert_eq!(get(admin, "/_s3gw/health", "").await.0, 200);

    // The API: not without a session, not with Basic credentials, not
    // with a forged or tampered cookie.
    for extra in [
        String::new(),
        admin_basic.clone(),
        "Cookie: s3gw_session=4102444800.00.00\r\n".to_owned(),
    ] {
        let (status, head, body) = get(admin, "/_s3gw/api/cluster", &extra).await;
        assert_eq!(status, 401, "{extra:?}: {head}");
        assert!(
            !head.to_ascii_lowercase().contains("www-authenticate"),
            "{head}"
        );
        assert!(String::from_utf8_lossy(&body).contains("login needed"));
    }

    // Wrong pairs, other methods and types, too large, cross-site.
    for form in [
        format!("access_key={ACCESS_KEY}&secret_key=wrong"),
        format!("access_key=someone&secret_key={SECRET_KEY}"),
        format!("access_key={ACCESS_KEY}"),
    ] {
        let (status, head, _) = post_login(admin, &form, "").await;
        assert_eq!(status, 401, "{form}: {head}");
        assert!(set_cookie(&head).is_none(), "{head}");
    }
    assert_eq!(get(admin, "/_s3gw/login", "").await.0, 405);
    let json_login =
        "POST /_s3gw/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    assert_eq!(raw_request(admin, json_login.as_bytes()).await.0, 415);
    let big = format!("{}&pad={}", root_form(), "x".repeat(5000));
    assert_eq!(post_login(admin, &big, "").await.0, 413);
    for cross in [
        "Origin: http://evil.example\r\n",
        "Origin: http://localhost:1\r\n",
        "Sec-Fetch-Site: same-site\r\n",
    ] {
        let (status, head, _) = post_login(admin, &root_form(), cross).await;
        assert_eq!(status, 403, "{cross}: {head}");
        assert!(set_cookie(&head).is_none(), "{head}");
    }

    // The right pair: a strict, HttpOnly cookie that expires, and only
    // the cookie afterwards.
    let (status, head, _) = post_login(
        admin,
        &root_form(),
        "Origin: http://localhost\r\nSec-Fetch-Site: same-origin\r\n",
    )
    .await;
    assert_eq!(status, 204, "{head}");
    let cookie_line = set_cookie(&head).unwrap_or_default();
    for attribute in [
        "s3gw_session=",
        "path=/",
        "max-age=28800",
        "httponly",
        "samesite=strict",
    ] {
        assert!(
            cookie_line.contains(attribute),
            "{attribute}: {cookie_line}"
        );
    }
    assert!(!cookie_line.contains("secure"), "{cookie_line}");
    let cookie = login(&server).await;
    cluster(&server, &cookie).await;
    // Behind TLS (Nginx says so): the __Host- cookie, Secure, and the
    // plain one is not accepted there.
    let tls = "X-Forwarded-Proto: https\r\n";
    let (status, head, _) = post_login(admin, &root_form(), tls).await;
    assert_eq!(status, 204, "{head}");
    let secure_line = set_cookie(&head).unwrap_or_default();
    assert!(
        secure_line.starts_with("set-cookie: __host-s3gw_session="),
        "{secure_line}"
    );
    assert!(
        secure_line.contains("; secure; httponly; samesite=strict"),
        "{secure_line}"
    );
    let plain_over_tls = format!("{cookie}{tls}");
    assert_eq!(
        get(admin, "/_s3gw/api/cluster", &plain_over_tls).await.0,
        401
    );
    // A tampered token.
    let tampered = cookie.replace("s3gw_session=", "s3gw_session=1");
    assert_eq!(get(admin, "/_s3gw/api/cluster", &tampered).await.0, 401);
    // Logging out deletes the cookie.
    let logout = "POST /_s3gw/logout HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let (status, head, _) = raw_request(admin, logout.as_bytes()).await;
    assert_eq!(status, 204, "{head}");
    assert!(
        set_cookie(&head).unwrap_or_default().contains("max-age=0"),
        "{head}"
    );

    // Traffic: a bucket of three objects.
    let client = server.client();
    let bucket = bucket_name("dash");
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create");
    for (key, len) in [("a", 10usize), ("b", 20), ("c", 30_000)] {
        client
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(data(len, 7).into())
            .send()
            .await
            .expect("put");
    }

    // The admin listener serves no object, whatever the path.
    let (status, head, _) = get(admin, &format!("/{bucket}/a"), &cookie).await;
    assert_eq!(status, 404, "{head}");

    let c = wait_for(
        &server,
        &cookie,
        "this gateway up, its bucket counted",
        Duration::from_secs(20),
        |c| {
            let me_up = c["gateways"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|g| g["id"] == gateway_id.as_str() && g["up"] == true);
            let counted = c["buckets"]["items"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|b| b["name"] == bucket.as_str() && b["objects"] == 3 && b["bytes"] == 30_030);
            me_up && counted
        },
    )
    .await;
    assert_eq!(c["answered_by"], gateway_id.as_str());
    assert!(c["buckets"]["as_of_ms"].as_i64().is_some());
    let me = c["gateways"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["id"] == gateway_id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(me["address"], server.addr.to_string().as_str());
    assert_eq!(me["version"], env!("CARGO_PKG_VERSION"));
    match c["backend"].as_str() {
        Some("embedded") => assert_eq!(c["nodes"], serde_json::json!([])),
        Some("cassandra") => {
            let nodes = c["nodes"].as_array().cloned().unwrap_or_default();
            assert!(!nodes.is_empty(), "{c:#}");
            assert!(nodes.iter().all(|n| n["up"] == true), "{c:#}");
        }
        other => panic!("backend {other:?}"),
    }

    // The traffic appears in the throughput series once its 5 s step is
    // complete and a heartbeat carried it.
    wait_for(
        &server,
        &cookie,
        "traffic in the series",
        Duration::from_secs(15),
        |c| {
            let total: f64 = c["throughput"]["points"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["requests_per_s"].as_f64().unwrap_or(0.0) * 5.0)
                .sum();
            let bytes_in: f64 = c["throughput"]["points"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["bytes_in_per_s"].as_f64().unwrap_or(0.0) * 5.0)
                .sum();
            total >= 4.0 && bytes_in >= 30_030.0
        },
    )
    .await;

    // The metrics need no credentials and carry no bucket name.
    let (status, head, body) = get(server.addr, "/_s3gw/metrics", "").await;
    assert_eq!(status, 200, "{head}");
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("s3gw_requests_total{"), "{text}");
    assert!(text.contains("s3gw_gc_backlog"), "{text}");
    assert!(!text.contains(&bucket), "a bucket name in the metrics");

    for key in ["a", "b", "c"] {
        client
            .delete_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .expect("delete");
    }
    client
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("delete bucket");
    server.stop().await;
    if let Some((contact_point, keyspace)) = keyspace {
        drop_keyspace(&contact_point, &keyspace).await;
    }
}

#[tokio::test]
async fn failed_logins_are_throttled() {
    let server = start().await;
    let admin = server.admin_addr;
    let wrong = format!("access_key={ACCESS_KEY}&secret_key=wrong");
    for attempt in 1..=5 {
        let (status, head, _) = post_login(admin, &wrong, "").await;
        assert_eq!(status, 401, "attempt {attempt}: {head}");
    }
    // The sixth attempt waits, and so does the right pair meanwhile.
    for form in [wrong.clone(), root_form()] {
        let (status, head, _) = post_login(admin, &form, "").await;
        assert_eq!(status, 429, "{form}: {head}");
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 1"),
            "{head}"
        );
        assert!(set_cookie(&head).is_none(), "{head}");
    }
    // Once the wait is over, the right pair logs in and clears the count.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cookie = login(&server).await;
    cluster(&server, &cookie).await;
    let (status, head, _) = post_login(admin, &wrong, "").await;
    assert_eq!(status, 401, "counting starts again: {head}");
    server.stop().await;
}

/// `GET` of the access view with `cookie`: status and JSON (`Null` unless 200).
async fn access_view(server: &TestServer, cookie: &str) -> (u16, String, serde_json::Value) {
    let (status, _, body) = get(server.admin_addr, "/_s3gw/api/access", cookie).await;
    let text = String::from_utf8_lossy(&body).into_owned();
    let json = if status == 200 {
        serde_json::from_str(&text).expect("access JSON")
    } else {
        serde_json::Value::Null
    };
    (status, text, json)
}

/// The `Cookie:` line of a successful login with `form`.
async fn login_with(server: &TestServer, form: &str) -> String {
    let (status, head, body) = post_login(server.admin_addr, form, "").await;
    assert_eq!(
        status,
        204,
        "{form}: {head} {}",
        String::from_utf8_lossy(&body)
    );
    let line = set_cookie(&head).expect("a session cookie");
    let pair = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .and_then(|l| l["set-cookie:".len()..].split(';').next())
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(line.contains("httponly"), "{line}");
    format!("Cookie: {pair}\r\n")
}

#[tokio::test]
async fn admin_keys_log_in_and_see_keys_and_grants() {
    let (own, keyspace) = own_dashboard_keyspace("dashkeys");
    let server = start_with(move |c| {
        if let Some(o) = own {
            c.backend = s3gw::config::Backend::Cassandra(Box::new(o));
        }
    })
    .await;
    let root = s3gw::cli::client::AdminClient::new(
        &server.endpoint(),
        ACCESS_KEY,
        SECRET_KEY,
        "us-east-1",
    )
    .expect("admin client");
    let made = |v: &serde_json::Value, field: &str| v[field].as_str().expect(field).to_owned();
    let ops = root
        .create_key("ops", false, true)
        .await
        .expect("admin key");
    let app = root.create_key("app", true, false).await.expect("app key");
    let (ops_id, ops_secret) = (made(&ops, "access_key_id"), made(&ops, "secret_access_key"));
    let (app_id, app_secret) = (made(&app, "access_key_id"), made(&app, "secret_access_key"));
    let bucket = bucket_name("dashkeys");
    server
        .client()
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create");
    root.allow(&bucket, &app_id, true, false, false)
        .await
        .expect("grant");

    // The view is the admin listener's, behind a session: 401 without
    // one, 404 on the S3 listener whoever asks.
    assert_eq!(access_view(&server, "").await.0, 401);
    let root_basic = basic(ACCESS_KEY, SECRET_KEY);
    let (status, head, _) = get(server.addr, "/_s3gw/api/access", &root_basic).await;
    assert_eq!(status, 404, "{head}");

    // A non-admin key, or an unknown one, gets what a wrong secret gets.
    let refused = [
        format!("access_key={app_id}&secret_key={app_secret}"),
        format!("access_key={ops_id}&secret_key={app_secret}"),
        format!("access_key=S3GWNOSUCHKEY0000000&secret_key={ops_secret}"),
        format!("access_key={}&secret_key={ops_secret}", "K".repeat(200)),
    ];
    for form in &refused {
        let (status, head, body) = post_login(server.admin_addr, form, "").await;
        assert_eq!(status, 401, "{head}");
        assert!(set_cookie(&head).is_none(), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("wrong access key or secret"));
    }

    // The admin key logs in and reads both documents.
    let cookie = login_with(
        &server,
        &format!("access_key={ops_id}&secret_key={ops_secret}"),
    )
    .await;
    cluster(&server, &cookie).await;
    let (status, text, view) = access_view(&server, &cookie).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(view["logged_in"]["root"], false, "{view:#}");
    assert_eq!(view["logged_in"]["access_key_id"], ops_id.as_str());
    assert_eq!(view["logged_in"]["name"], "ops");
    let keys = view["keys"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let key = |id: &str| keys.iter().find(|k| k["access_key_id"] == id).cloned();
    let shown = key(&ops_id).expect("the admin key listed");
    assert_eq!(
        (&shown["name"], &shown["admin"], &shown["create_bucket"]),
        (&"ops".into(), &true.into(), &false.into())
    );
    assert!(shown["created_ms"].as_i64().is_some_and(|ms| ms > 0));
    let shown = key(&app_id).expect("the app key listed");
    assert_eq!(
        (&shown["admin"], &shown["create_bucket"]),
        (&false.into(), &true.into())
    );
    assert_eq!(view["keys"]["truncated"], false);
    let b = view["buckets"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["name"] == bucket.as_str())
        .cloned()
        .expect("the bucket listed");
    assert_eq!(b["owner"], "root", "{b}");
    assert_eq!(
        b["grants"],
        serde_json::json!({ app_id.as_str(): "r" }),
        "{b}"
    );
    // No secret, open or sealed, in any form.
    for secret in [ops_secret.as_str(), app_secret.as_str(), SECRET_KEY] {
        assert!(!text.contains(secret), "a secret in {text}");
    }
    assert!(!text.to_ascii_lowercase().contains("secret"), "{text}");

    // The root pair's session says root.
    let root_cookie = login_with(&server, &root_form()).await;
    let (status, _, view) = access_view(&server, &root_cookie).await;
    assert_eq!(status, 200);
    assert_eq!(view["logged_in"]["root"], true, "{view:#}");
    assert_eq!(view["logged_in"]["name"], "root");

    // Deleting the key ends its session (this gateway reloads its keys at
    // once; others within the change bound); the root's goes on.
    root.delete_key(&ops_id).await.expect("delete");
    let limit = s3gw::access::cache::CHANGE_BOUND + Duration::from_secs(1);
    let started = Instant::now();
    while access_view(&server, &cookie).await.0 != 401 {
        assert!(
            started.elapsed() < limit,
            "a deleted key's session lives on"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, head, _) = get(server.admin_addr, "/_s3gw/api/cluster", &cookie).await;
    assert_eq!(status, 401, "{head}");
    assert_eq!(access_view(&server, &root_cookie).await.0, 200);
    // Its pair no longer logs in either.
    let (status, _, _) = post_login(
        server.admin_addr,
        &format!("access_key={ops_id}&secret_key={ops_secret}"),
        "",
    )
    .await;
    assert_eq!(status, 401);

    // Refused keys count for the throttle: four more failures (the root
    // login cleared the count) and the sixth attempt waits.
    for _ in 0..4 {
        assert_eq!(post_login(server.admin_addr, &refused[0], "").await.0, 401);
    }
    assert_eq!(post_login(server.admin_addr, &refused[0], "").await.0, 429);

    root.delete_key(&app_id).await.expect("delete app key");
    server
        .client()
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("delete bucket");
    server.stop().await;
    if let Some((contact_point, keyspace)) = keyspace {
        drop_keyspace(&contact_point, &keyspace).await;
    }
}
