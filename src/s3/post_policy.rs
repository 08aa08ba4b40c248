//! The policy of a browser form upload (PostObject): a base64-encoded
//! JSON document, signed with SigV4, with an expiration and conditions
//! that every form field must meet. Pure: `post_object.rs` reads the
//! form and checks the signature.
//!
//! As S3 does:
//! - a condition is `{"field": "value"}` or `["eq", "$field", "value"]`
//!   (equal), `["starts-with", "$field", "prefix"]`, or
//!   `["content-length-range", min, max]` (the file's size in bytes);
//!   field names are compared without regard to case, values exactly;
//!   `bucket` is the bucket the form is posted to;
//! - every field of the form but `policy`, `x-amz-signature` (or the
//!   legacy `signature` and `AWSAccessKeyId`), `file` and those starting
//!   `x-ignore-` must be named by a condition, else the form is refused
//!   ("Extra input fields");
//! - a policy past its expiration is refused.
//!
//! The document is at most [`crate::http::form::MAX_FORM_HEAD`] bytes, as
//! every field is; parsing is linear in its size.

use serde_json::Value;

use super::response::quoted;
use crate::error::{S3Error, S3ErrorCode};
use base64::Engine;

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    /// Milliseconds since the Unix epoch.
    pub expiration_ms: i64,
    pub conditions: Vec<Condition>,
}

/// One condition; `field` is lower-case, without its `$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Eq { field: String, value: String },
    StartsWith { field: String, prefix: String },
    LengthRange { min: u64, max: u64 },
}

/// Fields no condition needs to name: the policy and its signature
/// (SigV4's `x-amz-signature`, or the legacy `signature` with its
/// `AWSAccessKeyId`), the file, and `x-ignore-*`.
fn exempt(field: &str) -> bool {
    matches!(
        field,
        "policy" | "x-amz-signature" | "file" | "signature" | "awsaccesskeyid"
    ) || field.starts_with("x-ignore-")
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidPolicyDocument, message)
}

fn denied(message: String) -> S3Error {
    S3Error::new(
        S3ErrorCode::AccessDenied,
        format!("Invalid according to Policy: {message}"),
    )
}

/// Parses the `policy` field.
pub fn parse_policy(policy_b64: &str) -> Result<PostPolicy, S3Error> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(policy_b64.trim())
        .map_err(|_| invalid("Invalid Policy: Invalid 'Policy' form field: not base64."))?;
    let doc: Value =
        serde_json::from_slice(&raw).map_err(|_| invalid("Invalid Policy: Invalid JSON."))?;
    let doc = doc
        .as_object()
        .ok_or_else(|| invalid("Invalid Policy: Invalid JSON."))?;
    let expiration = doc
        .get("expiration")
        .ok_or_else(|| invalid("Invalid Policy: Policy missing expiration."))?
        .as_str()
        .and_then(parse_expiration)
        .ok_or_else(|| invalid("Invalid Policy: Invalid 'expiration' value."))?;
    let conditions = doc
        .get("conditions")
        .ok_or_else(|| invalid("Invalid Policy: Policy missing conditions."))?
        .as_array()
        .ok_or_else(|| invalid("Invalid Policy: Invalid 'conditions' value."))?
        .iter()
        .map(condition)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PostPolicy {
        expiration_ms: expiration,
        conditions,
    })
}

/// An ISO 8601 UTC time, with or without fractional seconds.
fn parse_expiration(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn condition(v: &Value) -> Result<Condition, S3Error> {
    let bad = || {
        invalid(format!(
            "Invalid Policy: Invalid Condition: {}",
            quoted(&v.to_string(), 200)
        ))
    };
    if let Some(map) = v.as_object() {
        let mut entries = map.iter();
        let (Some((field, value)), None) = (entries.next(), entries.next()) else {
            return Err(bad());
        };
        let value = value.as_str().ok_or_else(bad)?;
        return Ok(Condition::Eq {
            field: field.trim_start_matches('$').to_ascii_lowercase(),
            value: value.to_owned(),
        });
    }
    let items = v.as_array().ok_or_else(bad)?;
    let op = items.first().and_then(Value::as_str).ok_or_else(bad)?;
    match (op.to_ascii_lowercase().as_str(), items.len()) {
        ("content-length-range", 3) => {
            let bound = |v: &Value| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            let min = bound(&items[1]).ok_or_else(bad)?;
            let max = bound(&items[2]).ok_or_else(bad)?;
            Ok(Condition::LengthRange { min, max })
        }
        (op @ ("eq" | "starts-with"), 3) => {
            let field = items[1].as_str().and_then(|f| f.strip_prefix('$'));
            let field = field.ok_or_else(bad)?.to_ascii_lowercase();
            let value = items[2].as_str().ok_or_else(bad)?.to_owned();
            Ok(if op == "eq" {
                Condition::Eq { field, value }
            } else {
                Condition::StartsWith {
                    field,
                    prefix: value,
                }
            })
        }
        _ => Err(bad()),
    }
}

impl PostPolicy {
    /// Checks the form's `fields` (lower-case names) posted to `bucket`
    /// at `now_ms`; the file's size range, if the policy limits it.
    pub fn check(
        &self,
        fields: &[(String, String)],
        bucket: &str,
        now_ms: i64,
    ) -> Result<Option<(u64, u64)>, S3Error> {
        if now_ms >= self.expiration_ms {
            return Err(denied("Policy expired.".into()));
        }
        let value = |field: &str| -> &str {
            if field == "bucket" {
                return bucket;
            }
            fields
                .iter()
                .find(|(k, _)| k == field)
                .map_or("", |(_, v)| v.as_str())
        };
        let mut range = None;
        for c in &self.conditions {
            let holds = match c {
                Condition::Eq { field, value: want } => value(field) == want,
                Condition::StartsWith { field, prefix } => {
                    value(field).starts_with(prefix.as_str())
                }
                Condition::LengthRange { min, max } => {
                    range = Some((*min, *max));
                    true
                }
            };
            if !holds {
                let (op, field, v) = match c {
                    Condition::Eq { field, value } => ("eq", field, value),
                    Condition::StartsWith { field, prefix } => ("starts-with", field, prefix),
                    Condition::LengthRange { .. } => continue,
                };
                return Err(denied(format!(
                    "Policy Condition failed: [\"{op}\", \"${field}\", \"{}\"]",
                    quoted(v, 200)
                )));
            }
        }
        let named = |field: &str| {
            self.conditions.iter().any(|c| match c {
                Condition::Eq { field: f, .. } | Condition::StartsWith { field: f, .. } => {
                    f == field
                }
                Condition::LengthRange { .. } => false,
            })
        };
        if let Some((extra, _)) = fields.iter().find(|(k, _)| !exempt(k) && !named(k)) {
            return Err(denied(format!(
                "Extra input fields: {}",
                quoted(extra, 200)
            )));
        }
        Ok(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::encode_base64;

    fn policy(json: &str) -> Result<PostPolicy, S3Error> {
        parse_policy(&encode_base64(json.as_bytes()))
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const NOW: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn a_policy_s3_documents_parses() {
        let p = policy(
            r#"{ "expiration": "2023-12-30T12:00:00.000Z",
                 "conditions": [
                   {"bucket": "sigv4examplebucket"},
                   ["starts-with", "$key", "user/user1/"],
                   {"acl": "public-read"},
                   ["starts-with", "$Content-Type", "image/"],
                   {"x-amz-meta-uuid": "14365123651274"},
                   ["content-length-range", 1, "1048576"],
                   ["eq", "$x-amz-algorithm", "AWS4-HMAC-SHA256"]
                 ]}"#,
        )
        .expect("policy");
        assert_eq!(p.expiration_ms, 1_703_937_600_000);
        assert_eq!(p.conditions.len(), 7);
        assert_eq!(
            p.conditions[3],
            Condition::StartsWith {
                field: "content-type".into(),
                prefix: "image/".into()
            }
        );
        assert_eq!(
            p.conditions[5],
            Condition::LengthRange {
                min: 1,
                max: 1_048_576
            }
        );
        let form = fields(&[
            ("key", "user/user1/photo.jpg"),
            ("acl", "public-read"),
            ("content-type", "image/jpeg"),
            ("x-amz-meta-uuid", "14365123651274"),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("policy", "…"),
            ("x-amz-signature", "…"),
            ("x-ignore-me", "anything"),
        ]);
        let range = p.check(&form, "sigv4examplebucket", NOW).expect("allowed");
        assert_eq!(range, Some((1, 1_048_576)));
    }

    #[test]
    fn what_the_policy_does_not_allow_is_refused() {
        let p = policy(
            r#"{"expiration": "2023-12-30T12:00:00Z",
                "conditions": [{"bucket": "b"}, ["starts-with", "$key", "up/"], {"acl": "private"}]}"#,
        )
        .expect("policy");
        let ok = fields(&[("key", "up/a"), ("acl", "private")]);
        assert_eq!(p.check(&ok, "b", NOW).expect("allowed"), None);
        let cases = [
            (fields(&[("key", "down/a"), ("acl", "private")]), "b", NOW,
             "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"up/\"]"),
            (fields(&[("key", "up/a"), ("acl", "public-read")]), "b", NOW,
             "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$acl\", \"private\"]"),
            (fields(&[("key", "up/a")]), "b", NOW,
             "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$acl\", \"private\"]"),
            (ok.clone(), "other", NOW,
             "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"b\"]"),
            (fields(&[("key", "up/a"), ("acl", "private"), ("x-amz-meta-a", "1")]), "b", NOW,
             "Invalid according to Policy: Extra input fields: x-amz-meta-a"),
            (ok, "b", 1_703_937_600_000, "Invalid according to Policy: Policy expired."),
        ];
        for (form, bucket, now, message) in cases {
            let e = p.check(&form, bucket, now).expect_err(message);
            assert_eq!(
                (e.code, e.message.as_ref()),
                (S3ErrorCode::AccessDenied, message)
            );
        }
    }

    #[test]
    fn malformed_policies_are_invalid_documents() {
        for bad in [
            "not json",
            "[]",
            r#"{"conditions": []}"#,
            r#"{"expiration": "soon", "conditions": []}"#,
            r#"{"expiration": "2023-12-30T12:00:00Z"}"#,
            r#"{"expiration": "2023-12-30T12:00:00Z", "conditions": [["in", "$key", "a"]]}"#,
            r#"{"expiration": "2023-12-30T12:00:00Z", "conditions": [["eq", "key", "a"]]}"#,
            r#"{"expiration": "2023-12-30T12:00:00Z", "conditions": [{"a": "1", "b": "2"}]}"#,
            r#"{"expiration": "2023-12-30T12:00:00Z", "conditions": [["content-length-range", -1, 5]]}"#,
        ] {
            let e = policy(bad).expect_err(bad);
            assert_eq!(e.code, S3ErrorCode::InvalidPolicyDocument, "{bad}");
        }
        let e = parse_policy("%%%").expect_err("not base64");
        assert_eq!(e.code, S3ErrorCode::InvalidPolicyDocument);
    }
}
