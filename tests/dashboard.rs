//! The reserved `/_s3gw/` paths of one gateway, on the backend under test
//! (`S3GW_TEST_BACKEND`): the dashboard and its API only with the admin
//! credentials, the API's view of this gateway, its bucket usage and its
//! traffic; the metrics open to scrapers.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use common::*;

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Authorization: Basic {token}\r\n")
}

async fn get(server: &TestServer, path: &str, auth: &str) -> (u16, String, Vec<u8>) {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    raw_request(server.addr, request.as_bytes()).await
}

async fn cluster(server: &TestServer) -> serde_json::Value {
    let (status, head, body) =
        get(server, "/_s3gw/api/cluster", &basic(ACCESS_KEY, SECRET_KEY)).await;
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
    what: &str,
    limit: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let c = cluster(server).await;
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

#[tokio::test]
async fn dashboard_api_and_metrics() {
    let gateway_id = format!("dash-{}", std::process::id());
    let id = gateway_id.clone();
    // On Cassandra, a keyspace of its own: other tests' gateways and
    // buckets (one of 100 000 keys) would be in the view and the count.
    let own = match backend_under_test() {
        s3gw::config::Backend::Cassandra(_) => own_keyspace("dash", Duration::from_secs(900)),
        s3gw::config::Backend::Embedded => None,
    };
    let keyspace = own
        .as_ref()
        .map(|o| (o.contact_points[0].clone(), o.keyspace.clone()));
    let server = start_with(move |c| {
        c.gateway_id = id;
        c.usage_scan_secs = 1;
        if let Some(o) = own {
            c.backend = s3gw::config::Backend::Cassandra(Box::new(o));
        }
    })
    .await;

    // Credentials: none, a wrong secret, a wrong user.
    for auth in [
        String::new(),
        basic(ACCESS_KEY, "wrong"),
        basic("someone", SECRET_KEY),
    ] {
        for path in ["/_s3gw/api/cluster", "/_s3gw/dashboard/"] {
            let (status, head, _) = get(&server, path, &auth).await;
            assert_eq!(status, 401, "{path} with {auth:?}: {head}");
            assert!(
                head.to_ascii_lowercase()
                    .contains("www-authenticate: basic"),
                "{head}"
            );
        }
    }
    let admin = basic(ACCESS_KEY, SECRET_KEY);
    let (status, head, page) = get(&server, "/_s3gw/dashboard/", &admin).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("text/html"), "{head}");
    assert!(String::from_utf8_lossy(&page).contains("app.js"));
    // The page may not be framed, nor run anything but its own script.
    let head = head.to_ascii_lowercase();
    for h in [
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
        "content-security-policy: default-src 'none'; script-src 'self';",
        "frame-ancestors 'none'",
    ] {
        assert!(head.contains(h), "{h}: {head}");
    }
    let (status, head, _) = get(&server, "/_s3gw/dashboard/app.js", &admin).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("text/javascript"), "{head}");
    let (status, head, _) = get(&server, "/_s3gw/dashboard", &admin).await;
    assert_eq!(status, 308, "{head}");
    assert_eq!(get(&server, "/_s3gw/nothing", &admin).await.0, 404);
    let post = "POST /_s3gw/metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_request(server.addr, post.as_bytes()).await.0, 405);

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

    let c = wait_for(
        &server,
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
    let (status, head, body) = get(&server, "/_s3gw/metrics", "").await;
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
