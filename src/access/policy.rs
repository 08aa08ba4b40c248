//! Bucket policies, the public-read subset (issue 17, item 3): what a
//! policy may say, parsed and checked once when it is put, and what it
//! lets anonymous callers do.
//!
//! Accepted: `Version` `2012-10-17` (or the older `2008-10-17`), an `Id`,
//! and statements with an optional `Sid`, `Effect: Allow`, `Principal: "*"`
//! or `{"AWS": "*"}` (or `["*"]`), `Action` among `s3:GetObject` and
//! `s3:ListBucket` (a string or a list), and `Resource`: the bucket itself
//! (`arn:aws:s3:::B`, for `s3:ListBucket`) or its objects (`arn:aws:s3:::B/*`,
//! `arn:aws:s3:::B/prefix/*`, or one key, for `s3:GetObject`). Anything
//! else (`Deny`, `Condition`, `NotAction`, other principals, actions or
//! buckets, a `*` inside a key) is refused with a message naming it:
//! nothing is ignored, since an ignored `Condition` or `Deny` would widen
//! what the policy grants.

use serde_json::{Map, Value};

/// Largest policy document accepted, in bytes (MinIO's limit; AWS allows
/// 20 KB too).
pub const MAX_POLICY_BYTES: usize = 20 * 1024;
/// Most statements in one policy.
pub const MAX_STATEMENTS: usize = 100;

const ARN_PREFIX: &str = "arn:aws:s3:::";

/// What an anonymous caller may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicAction {
    /// `s3:GetObject`: GET and HEAD of objects.
    GetObject,
    /// `s3:ListBucket`: ListObjects (v1, v2) and HeadBucket.
    ListBucket,
}

/// Which objects a `s3:GetObject` grant covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Objects {
    /// Every key starting with the prefix (empty: every key).
    Prefix(String),
    /// One key.
    Key(String),
}

impl Objects {
    fn covers(&self, key: &str) -> bool {
        match self {
            Objects::Prefix(p) => key.starts_with(p.as_str()),
            Objects::Key(k) => k == key,
        }
    }
}

/// A checked policy: the grants it makes to anonymous callers, and its
/// document as the client sent it (GetBucketPolicy returns it unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub document: String,
    /// May anonymous callers list the bucket?
    pub list: bool,
    /// The objects anonymous callers may read.
    pub read: Vec<Objects>,
}

impl Policy {
    /// Whether an anonymous caller may do `action` (on `key` for
    /// `GetObject`).
    pub fn allows(&self, action: PublicAction, key: Option<&str>) -> bool {
        match action {
            PublicAction::ListBucket => self.list,
            PublicAction::GetObject => key.is_some_and(|k| self.read.iter().any(|o| o.covers(k))),
        }
    }

    /// GetBucketPolicyStatus's `IsPublic`: every statement of the subset
    /// grants to anyone, so a stored policy is public.
    pub fn is_public(&self) -> bool {
        self.list || !self.read.is_empty()
    }
}

/// Why a policy is refused (S3's `MalformedPolicy`, or
/// `PolicyTooLarge`-like limits, with the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn refuse(msg: impl Into<String>) -> PolicyError {
    PolicyError(msg.into())
}

/// A string or a list of strings (`Action`, `Resource`, principals).
fn strings<'a>(v: &'a Value, field: &str) -> Result<Vec<&'a str>, PolicyError> {
    let list: Vec<&Value> = match v {
        Value::String(_) => vec![v],
        Value::Array(a) if !a.is_empty() => a.iter().collect(),
        _ => {
            return Err(refuse(format!(
                "{field} must be a string or a non-empty list of strings"
            )))
        }
    };
    list.into_iter()
        .map(|x| {
            x.as_str()
                .ok_or_else(|| refuse(format!("{field} must hold strings only")))
        })
        .collect()
}

fn check_principal(p: &Value) -> Result<(), PolicyError> {
    let anyone = match p {
        Value::String(s) => s == "*",
        Value::Object(m) if m.len() == 1 => match m.get("AWS") {
            Some(aws) => strings(aws, "Principal.AWS")?.iter().all(|s| *s == "*"),
            None => false,
        },
        _ => false,
    };
    if anyone {
        Ok(())
    } else {
        Err(refuse(
            "only Principal \"*\" (or {\"AWS\": \"*\"}) is supported: policies grant anonymous access only",
        ))
    }
}

/// One `Resource` of `bucket`: `None` for the bucket itself, else the
/// objects it names.
fn resource(r: &str, bucket: &str) -> Result<Option<Objects>, PolicyError> {
    let invalid = || {
        refuse(format!("Policy has invalid resource {r:?}: resources are arn:aws:s3:::{bucket} or arn:aws:s3:::{bucket}/<prefix>*"))
    };
    let rest = r.strip_prefix(ARN_PREFIX).ok_or_else(invalid)?;
    let (b, key) = match rest.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (rest, None),
    };
    if b != bucket {
        return Err(invalid());
    }
    let Some(key) = key else { return Ok(None) };
    match key.strip_suffix('*') {
        Some(prefix) if !prefix.contains(['*', '?']) => {
            Ok(Some(Objects::Prefix(prefix.to_owned())))
        }
        None if !key.is_empty() && !key.contains(['*', '?']) => {
            Ok(Some(Objects::Key(key.to_owned())))
        }
        _ => Err(refuse(format!(
            "resource {r:?}: a wildcard is supported only at the end of a key prefix"
        ))),
    }
}

fn statement(s: &Map<String, Value>, bucket: &str, out: &mut Policy) -> Result<(), PolicyError> {
    for field in s.keys() {
        if !matches!(
            field.as_str(),
            "Sid" | "Effect" | "Principal" | "Action" | "Resource"
        ) {
            return Err(refuse(format!(
                "{field} is not supported in a statement (supported: Sid, Effect, Principal, Action, Resource)"
            )));
        }
    }
    match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => {}
        Some("Deny") => return Err(refuse("Effect Deny is not supported: policies only allow")),
        _ => return Err(refuse("Effect must be \"Allow\"")),
    }
    check_principal(
        s.get("Principal")
            .ok_or_else(|| refuse("a statement needs a Principal"))?,
    )?;
    let actions = strings(
        s.get("Action")
            .ok_or_else(|| refuse("a statement needs an Action"))?,
        "Action",
    )?;
    let resources = strings(
        s.get("Resource")
            .ok_or_else(|| refuse("a statement needs a Resource"))?,
        "Resource",
    )?
    .into_iter()
    .map(|r| resource(r, bucket))
    .collect::<Result<Vec<_>, _>>()?;
    for action in actions {
        match action {
            // As on AWS, an action applies to the resources of its kind
            // in the statement, and needs at least one.
            "s3:GetObject" => {
                let objects: Vec<Objects> = resources.iter().flatten().cloned().collect();
                if objects.is_empty() {
                    return Err(refuse(
                        "Action does not apply to any resource(s) in statement: s3:GetObject needs arn:aws:s3:::<bucket>/<prefix>*",
                    ));
                }
                out.read.extend(objects);
            }
            "s3:ListBucket" => {
                if !resources.iter().any(Option::is_none) {
                    return Err(refuse(
                        "Action does not apply to any resource(s) in statement: s3:ListBucket needs arn:aws:s3:::<bucket>",
                    ));
                }
                out.list = true;
            }
            other => {
                return Err(refuse(format!(
                    "action {other} is not supported (supported: s3:GetObject, s3:ListBucket)"
                )))
            }
        }
    }
    Ok(())
}

/// Parses and checks `document`, the policy of `bucket`.
pub fn parse(document: &str, bucket: &str) -> Result<Policy, PolicyError> {
    if document.len() > MAX_POLICY_BYTES {
        return Err(refuse(format!(
            "a policy is at most {MAX_POLICY_BYTES} bytes"
        )));
    }
    let v: Value = serde_json::from_str(document)
        .map_err(|e| refuse(format!("the policy is not JSON: {e}")))?;
    let top = v
        .as_object()
        .ok_or_else(|| refuse("a policy is a JSON object"))?;
    for field in top.keys() {
        if !matches!(field.as_str(), "Version" | "Id" | "Statement") {
            return Err(refuse(format!("{field} is not supported in a policy")));
        }
    }
    match top.get("Version").and_then(Value::as_str) {
        Some("2012-10-17" | "2008-10-17") => {}
        _ => return Err(refuse("Version must be \"2012-10-17\"")),
    }
    let statements: Vec<&Value> = match top.get("Statement") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => {
            return Err(refuse(
                "a policy needs a Statement (an object or a non-empty list)",
            ))
        }
    };
    if statements.len() > MAX_STATEMENTS {
        return Err(refuse(format!(
            "a policy has at most {MAX_STATEMENTS} statements"
        )));
    }
    let mut out = Policy {
        document: document.to_owned(),
        list: false,
        read: Vec::new(),
    };
    for s in statements {
        let s = s
            .as_object()
            .ok_or_else(|| refuse("each statement is a JSON object"))?;
        statement(s, bucket, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(statement: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#)
    }

    const READ_ALL: &str = r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*"}"#;

    #[test]
    fn public_read_of_a_bucket_and_a_prefix() {
        let p = parse(&doc(READ_ALL), "pub").unwrap();
        assert!(p.allows(PublicAction::GetObject, Some("any/key")));
        assert!(!p.allows(PublicAction::ListBucket, None));
        assert!(p.is_public());
        // Each action applies to the resources of its kind, as on AWS.
        let p = parse(
            &doc(r#"{"Sid":"x","Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::pub/site/*","arn:aws:s3:::pub"]}"#),
            "pub",
        )
        .unwrap();
        assert!(p.allows(PublicAction::ListBucket, None));
        assert!(p.allows(PublicAction::GetObject, Some("site/x")));
        assert!(!p.allows(PublicAction::GetObject, Some("other")));
        let both = format!(
            r#"{{"Version":"2012-10-17","Statement":[{},{}]}}"#,
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":["arn:aws:s3:::pub/site/*","arn:aws:s3:::pub/index.html"]}"#,
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pub"}"#,
        );
        let p = parse(&both, "pub").unwrap();
        assert!(p.allows(PublicAction::GetObject, Some("site/a.css")));
        assert!(p.allows(PublicAction::GetObject, Some("index.html")));
        assert!(!p.allows(PublicAction::GetObject, Some("index.html.bak")));
        assert!(!p.allows(PublicAction::GetObject, Some("private/x")));
        assert!(!p.allows(PublicAction::GetObject, None));
        assert!(p.allows(PublicAction::ListBucket, None));
        assert_eq!(p.document, both);
        // A single statement object is accepted too.
        let single = format!(r#"{{"Version":"2012-10-17","Statement":{READ_ALL}}}"#);
        assert!(parse(&single, "pub").is_ok());
    }

    #[test]
    fn everything_else_is_refused_by_name() {
        let cases = [
            (
                r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*"}"#,
                "Deny",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*","Condition":{"IpAddress":{"aws:SourceIp":"1.2.3.4/32"}}}"#,
                "Condition",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","NotAction":"s3:PutObject","Resource":"arn:aws:s3:::pub/*"}"#,
                "NotAction",
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*"}"#,
                "Principal",
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":"*","Service":"x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*"}"#,
                "Principal",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::pub/*"}"#,
                "s3:PutObject",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::pub/*"}"#,
                "s3:*",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}"#,
                "invalid resource",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/a*b"}"#,
                "wildcard",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pub/*"}"#,
                "s3:ListBucket needs",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub"}"#,
                "s3:GetObject needs",
            ),
            (
                r#"{"Effect":"Allow","Principal":"*","Action":[],"Resource":"arn:aws:s3:::pub/*"}"#,
                "Action",
            ),
            (
                r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*"}"#,
                "Principal",
            ),
        ];
        for (s, named) in cases {
            let e = parse(&doc(s), "pub").expect_err(s);
            assert!(e.0.contains(named), "{s}: {e}");
        }
        for (d, named) in [
            ("[]", "object"),
            ("{", "JSON"),
            (r#"{"Version":"2012-10-17"}"#, "Statement"),
            (r#"{"Statement":[]}"#, "Version"),
            (
                r#"{"Version":"2012-10-17","Statement":[],"Extra":1}"#,
                "Extra",
            ),
        ] {
            let e = parse(d, "pub").expect_err(d);
            assert!(e.0.contains(named), "{d}: {e}");
        }
        let huge = doc(&vec![READ_ALL; 200].join(","));
        assert!(parse(&huge, "pub").is_err());
    }
}
