//! Admin API requests: a path under `/_s3gw/admin/v1/`, a method and a
//! JSON body, parsed as the gateway parses them after authentication
//! (`GatewayPath::parse`, then `admin_api::parse`).
//!
//! Input: line 1 method, line 2 path, the rest the body.
//!
//! Invariants:
//! * parsing never panics, and is deterministic;
//! * a key name that is accepted is 1 to 64 of `[A-Za-z0-9._-]`;
//! * a grant change names at least one permission and a key id of 1 to
//!   128 bytes; bucket and key ids in paths are non-empty and of
//!   `[A-Za-z0-9._-]`.

#![no_main]

use http::Method;
use libfuzzer_sys::fuzz_target;
use s3gw::admin_api::{parse, AdminRequest};
use s3gw::http::{AdminPath, GatewayPath};

fn plain(s: &str) -> bool {
    !s.is_empty()
        && s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return;
    };
    let body = parts.next().unwrap_or_default();
    let Ok(method) = Method::from_bytes(method) else {
        return;
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    let Some(GatewayPath::Admin(admin)) = GatewayPath::parse(path) else {
        return;
    };
    match &admin {
        AdminPath::Keys => {}
        AdminPath::Key(s) | AdminPath::Bucket(s) | AdminPath::Allow(s) | AdminPath::Deny(s) => {
            assert!(plain(s), "{s:?}")
        }
    }
    let first = parse(&admin, &method, body).map_err(|f| f.code());
    assert_eq!(first, parse(&admin, &method, body).map_err(|f| f.code()));
    match first {
        Ok(AdminRequest::CreateKey { name, .. }) => {
            assert!(plain(&name) && name.len() <= 64, "{name:?}")
        }
        Ok(AdminRequest::Grant { key, grant, .. }) => {
            assert!(!grant.is_empty());
            assert!((1..=128).contains(&key.len()));
        }
        _ => {}
    }
});
