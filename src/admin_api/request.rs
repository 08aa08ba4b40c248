//! Admin API requests, typed: parsed from the path, the method and the
//! JSON body (at most 64 KiB, `s3::admin`) before any handler runs, and
//! refused with the error that names the fix. Fuzzed (`fuzz/`, target
//! `admin`).

use http::{Method, StatusCode};
use serde::Deserialize;

use super::Failure;
use crate::http::AdminPath;
use crate::storage::Grant;

/// Longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// One admin operation with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRequest {
    CreateKey {
        name: String,
        create_bucket: bool,
        admin: bool,
    },
    ListKeys,
    KeyInfo(String),
    DeleteKey(String),
    BucketInfo(String),
    /// Adds (`allow`) or removes the permissions of `grant` (never empty).
    Grant {
        bucket: String,
        key: String,
        allow: bool,
        grant: Grant,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    #[serde(default)]
    create_bucket: bool,
    #[serde(default)]
    admin: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    access_key_id: String,
    #[serde(default)]
    read: bool,
    #[serde(default)]
    write: bool,
    #[serde(default)]
    owner: bool,
}

/// A JSON request body as `T`.
fn body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "MalformedJSON",
            format!("the request body is not the JSON this operation takes: {e}"),
        )
    })
}

/// Whether `name` is a key name: 1 to [`MAX_NAME_CHARS`] letters, digits,
/// `.`, `_` or `-`.
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The request `method` on `path` with `body` makes.
pub fn parse(path: &AdminPath, method: &Method, raw: &[u8]) -> Result<AdminRequest, Failure> {
    Ok(match (path, method) {
        (AdminPath::Keys, &Method::POST) => {
            let k: NewKey = body(raw)?;
            if !valid_name(&k.name) {
                return Err(Failure::bad(format!(
                    "a key name is 1 to {MAX_NAME_CHARS} letters, digits, '.', '_' or '-'"
                )));
            }
            AdminRequest::CreateKey {
                name: k.name,
                create_bucket: k.create_bucket,
                admin: k.admin,
            }
        }
        (AdminPath::Keys, &Method::GET) => AdminRequest::ListKeys,
        (AdminPath::Key(id), &Method::GET) => AdminRequest::KeyInfo(id.clone()),
        (AdminPath::Key(id), &Method::DELETE) => AdminRequest::DeleteKey(id.clone()),
        (AdminPath::Bucket(b), &Method::GET) => AdminRequest::BucketInfo(b.clone()),
        (AdminPath::Allow(b) | AdminPath::Deny(b), &Method::POST) => {
            let c: Change = body(raw)?;
            let grant = Grant {
                read: c.read,
                write: c.write,
                owner: c.owner,
            };
            if grant.is_empty() {
                return Err(Failure::bad(
                    "name at least one permission: read, write or owner",
                ));
            }
            if c.access_key_id.is_empty() || c.access_key_id.len() > 128 {
                return Err(Failure::bad("access_key_id is 1 to 128 characters"));
            }
            AdminRequest::Grant {
                bucket: b.clone(),
                key: c.access_key_id,
                allow: matches!(path, AdminPath::Allow(_)),
                grant,
            }
        }
        _ => {
            return Err(Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("{method} is not an operation of this admin resource"),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(path: AdminPath, method: Method, body: &str) -> Result<AdminRequest, &'static str> {
        parse(&path, &method, body.as_bytes()).map_err(|f| f.code())
    }

    #[test]
    fn table() {
        use AdminPath::*;
        let b = || "b".to_string();
        assert_eq!(
            code(Keys, Method::POST, r#"{"name":"app","admin":true}"#),
            Ok(AdminRequest::CreateKey {
                name: "app".into(),
                create_bucket: false,
                admin: true
            })
        );
        assert_eq!(
            code(Keys, Method::POST, r#"{"name":""}"#),
            Err("InvalidRequest")
        );
        assert_eq!(
            code(
                Keys,
                Method::POST,
                &format!(r#"{{"name":"{}"}}"#, "a".repeat(65))
            ),
            Err("InvalidRequest")
        );
        assert_eq!(
            code(Keys, Method::POST, r#"{"name":"a b"}"#),
            Err("InvalidRequest")
        );
        assert_eq!(
            code(Keys, Method::POST, r#"{"name":"é"}"#),
            Err("InvalidRequest")
        );
        assert_eq!(
            code(Keys, Method::POST, r#"{"name":"a","secret":"x"}"#),
            Err("MalformedJSON"),
            "unknown fields are refused, never ignored"
        );
        assert_eq!(code(Keys, Method::POST, "{"), Err("MalformedJSON"));
        assert_eq!(code(Keys, Method::GET, ""), Ok(AdminRequest::ListKeys));
        assert_eq!(code(Keys, Method::PUT, ""), Err("MethodNotAllowed"));
        assert_eq!(
            code(Key("K".into()), Method::DELETE, ""),
            Ok(AdminRequest::DeleteKey("K".into()))
        );
        assert_eq!(
            code(Bucket(b()), Method::GET, ""),
            Ok(AdminRequest::BucketInfo(b()))
        );
        assert_eq!(
            code(
                Deny(b()),
                Method::POST,
                r#"{"access_key_id":"K","write":true}"#
            ),
            Ok(AdminRequest::Grant {
                bucket: b(),
                key: "K".into(),
                allow: false,
                grant: Grant {
                    write: true,
                    ..Grant::default()
                }
            })
        );
        assert_eq!(
            code(Allow(b()), Method::POST, r#"{"access_key_id":"K"}"#),
            Err("InvalidRequest")
        );
        assert_eq!(
            code(
                Allow(b()),
                Method::POST,
                r#"{"access_key_id":"","read":true}"#
            ),
            Err("InvalidRequest")
        );
        assert_eq!(code(Allow(b()), Method::GET, ""), Err("MethodNotAllowed"));
    }
}
