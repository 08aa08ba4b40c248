//! The CORS configuration document: PutBucketCors's body, parsed and
//! checked into a `types::CorsConfig`, and GetBucketCors's answer (served
//! by `bucket_cors.rs`).
//!
//! What is refused, and how (S3's message where one is known):
//! - a body that is not UTF-8, not XML, not a `CORSConfiguration`, or holds
//!   an element S3's schema does not have: `MalformedXML`;
//! - no rule, or more than [`MAX_CORS_RULES`]; a rule without an
//!   `AllowedMethod` or an `AllowedOrigin`; a `MaxAgeSeconds` that is not
//!   a whole number: `MalformedXML`;
//! - a method other than GET, PUT, HEAD, POST and DELETE: `InvalidRequest`
//!   "Found unsupported HTTP method in CORS config. Unsupported method is
//!   …";
//! - an `AllowedOrigin` or `AllowedHeader` with more than one `*`:
//!   `InvalidRequest` "AllowedOrigin "…" can not have more than one
//!   wildcard.";
//! - an `ID` over 255 characters: `InvalidArgument`.
//!
//! Every check is linear in the body's size, itself at most
//! [`MAX_CORS_BODY`].

use serde::{Deserialize, Serialize};

use super::response::quoted;
use crate::error::{S3Error, S3ErrorCode};
use crate::types::{xml_safe, CorsConfig, CorsRule, CORS_METHODS, MAX_CORS_RULES};
use crate::xml::{self, S3_NS};

/// The largest PutBucketCors body read: S3's limit on a CORS
/// configuration's size (64 KB).
pub const MAX_CORS_BODY: usize = 64 * 1024;

/// The longest rule ID, in characters (as for lifecycle rules).
const MAX_CORS_ID_LEN: usize = 255;

#[derive(Debug, Deserialize)]
struct ConfigurationXml {
    #[serde(rename = "CORSRule", default)]
    rules: Vec<RuleXml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleXml {
    #[serde(rename = "ID", default)]
    id: Option<String>,
    #[serde(rename = "AllowedMethod", default)]
    methods: Vec<String>,
    #[serde(rename = "AllowedOrigin", default)]
    origins: Vec<String>,
    #[serde(rename = "AllowedHeader", default)]
    allowed_headers: Vec<String>,
    #[serde(rename = "ExposeHeader", default)]
    expose_headers: Vec<String>,
    /// Read as text, so that a value that is no number gets S3's error.
    #[serde(rename = "MaxAgeSeconds", default)]
    max_age: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename = "CORSConfiguration")]
struct ConfigurationAnswer<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "CORSRule")]
    rules: Vec<RuleAnswer<'a>>,
}

#[derive(Debug, Serialize)]
struct RuleAnswer<'a> {
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "AllowedHeader")]
    allowed_headers: &'a [String],
    #[serde(rename = "AllowedMethod")]
    methods: &'a [String],
    #[serde(rename = "AllowedOrigin")]
    origins: &'a [String],
    #[serde(rename = "ExposeHeader")]
    expose_headers: &'a [String],
    #[serde(rename = "MaxAgeSeconds", skip_serializing_if = "Option::is_none")]
    max_age: Option<i64>,
}

fn malformed() -> S3Error {
    S3Error::code(S3ErrorCode::MalformedXML)
}

/// Parses and checks a PutBucketCors body (at most [`MAX_CORS_BODY`]).
pub fn parse_cors(body: &[u8]) -> Result<CorsConfig, S3Error> {
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    if !xml::root_is(text, "CORSConfiguration") {
        return Err(malformed());
    }
    let doc: ConfigurationXml = xml::from_xml(text).map_err(|e| malformed().with_source(e))?;
    if doc.rules.is_empty() || doc.rules.len() > MAX_CORS_RULES {
        return Err(malformed());
    }
    let rules = doc
        .rules
        .into_iter()
        .map(check_rule)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CorsConfig { rules })
}

fn check_rule(rule: RuleXml) -> Result<CorsRule, S3Error> {
    if rule.methods.is_empty() || rule.origins.is_empty() {
        return Err(malformed());
    }
    if let Some(id) = &rule.id {
        if id.chars().count() > MAX_CORS_ID_LEN {
            return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                "ID length should not exceed allowed limit of 255",
            ));
        }
    }
    if let Some(bad) = rule
        .methods
        .iter()
        .find(|m| !CORS_METHODS.contains(&m.as_str()))
    {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {}",
                quoted(bad, MAX_CORS_ID_LEN)
            ),
        ));
    }
    one_wildcard("AllowedOrigin", &rule.origins)?;
    one_wildcard("AllowedHeader", &rule.allowed_headers)?;
    let texts = [&rule.origins, &rule.allowed_headers, &rule.expose_headers];
    let header_safe = |s: &String| s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
    // Origins and header names go back out in response headers: only
    // what a header value may carry.
    if !texts.iter().all(|list| list.iter().all(header_safe)) {
        return Err(malformed());
    }
    if !rule.id.as_deref().is_none_or(xml_safe) {
        return Err(malformed());
    }
    let max_age_secs = match rule.max_age.as_deref().map(str::trim) {
        None => None,
        Some(n) => Some(n.parse::<i64>().map_err(|_| malformed())?),
    };
    Ok(CorsRule {
        id: rule.id.filter(|id| !id.is_empty()),
        origins: rule.origins,
        methods: rule.methods,
        allowed_headers: rule.allowed_headers,
        expose_headers: rule.expose_headers,
        max_age_secs,
    })
}

fn one_wildcard(element: &str, values: &[String]) -> Result<(), S3Error> {
    match values.iter().find(|v| v.matches('*').count() > 1) {
        Some(v) => Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            format!(
                "{element} \"{}\" can not have more than one wildcard.",
                quoted(v, MAX_CORS_ID_LEN)
            ),
        )),
        None => Ok(()),
    }
}

/// GetBucketCors's answer: the rules as stored.
pub fn cors_answer(cfg: &CorsConfig) -> String {
    let answer = ConfigurationAnswer {
        xmlns: S3_NS,
        rules: cfg
            .rules
            .iter()
            .map(|r| RuleAnswer {
                id: r.id.as_deref(),
                allowed_headers: &r.allowed_headers,
                methods: &r.methods,
                origins: &r.origins,
                expose_headers: &r.expose_headers,
                max_age: r.max_age_secs,
            })
            .collect(),
    };
    // Plain structs of strings and numbers: quick-xml fails only for
    // shapes it cannot write (a map or a bare sequence at the root).
    xml::to_xml(&answer).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(rules: &str) -> String {
        format!(
            "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{rules}</CORSConfiguration>"
        )
    }

    fn refused(body: &str) -> (S3ErrorCode, String) {
        let e = parse_cors(body.as_bytes()).expect_err(body);
        (e.code, e.message.into_owned())
    }

    #[test]
    fn a_configuration_round_trips_through_get() {
        let body = doc(
            "<CORSRule><ID>web</ID><AllowedHeader>*</AllowedHeader>\
             <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>\
             <AllowedOrigin>https://*.example.com</AllowedOrigin>\
             <ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-meta-color</ExposeHeader>\
             <MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>\
             <CORSRule><AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>",
        );
        let cfg = parse_cors(body.as_bytes()).expect("valid");
        assert_eq!(cfg.rules.len(), 2);
        let r = &cfg.rules[0];
        assert_eq!(r.id.as_deref(), Some("web"));
        assert_eq!(r.methods, ["GET", "PUT"]);
        assert_eq!(r.origins, ["https://*.example.com"]);
        assert_eq!(r.allowed_headers, ["*"]);
        assert_eq!(r.expose_headers, ["ETag", "x-amz-meta-color"]);
        assert_eq!(r.max_age_secs, Some(3000));
        let answer = cors_answer(&cfg);
        assert_eq!(parse_cors(answer.as_bytes()).expect("answer parses"), cfg);
        assert!(
            answer.contains("<AllowedOrigin>*</AllowedOrigin>"),
            "{answer}"
        );
        assert!(!answer.contains("<ID></ID>"), "{answer}");
    }

    #[test]
    fn what_s3_refuses_is_refused_with_its_answer() {
        use S3ErrorCode::*;
        let rule = |inner: &str| doc(&format!("<CORSRule>{inner}</CORSRule>"));
        let cases: Vec<(String, S3ErrorCode, &str)> = vec![
            ("<CORSConfiguration/>".into(), MalformedXML, ""),
            ("not xml".into(), MalformedXML, ""),
            (
                "<LifecycleConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>\
                 <AllowedOrigin>*</AllowedOrigin></CORSRule></LifecycleConfiguration>"
                    .into(),
                MalformedXML,
                "",
            ),
            (rule("<AllowedOrigin>*</AllowedOrigin>"), MalformedXML, ""),
            (rule("<AllowedMethod>GET</AllowedMethod>"), MalformedXML, ""),
            (
                rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><Color>red</Color>"),
                MalformedXML,
                "",
            ),
            (
                rule("<AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"),
                InvalidRequest,
                "Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
            ),
            (
                rule("<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"),
                InvalidRequest,
                "Found unsupported HTTP method in CORS config. Unsupported method is get",
            ),
            (
                rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://*.*.com</AllowedOrigin>"),
                InvalidRequest,
                "AllowedOrigin \"http://*.*.com\" can not have more than one wildcard.",
            ),
            (
                rule(
                    "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>\
                     <AllowedHeader>x-*-*</AllowedHeader>",
                ),
                InvalidRequest,
                "AllowedHeader \"x-*-*\" can not have more than one wildcard.",
            ),
            (
                rule(
                    "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>\
                     <MaxAgeSeconds>soon</MaxAgeSeconds>",
                ),
                MalformedXML,
                "",
            ),
            (
                rule(&format!(
                    "<ID>{}</ID><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>",
                    "i".repeat(256)
                )),
                InvalidArgument,
                "ID length should not exceed allowed limit of 255",
            ),
            (
                rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>a&#10;b</AllowedOrigin>"),
                MalformedXML,
                "",
            ),
            (
                doc(&"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>"
                    .repeat(MAX_CORS_RULES + 1)),
                MalformedXML,
                "",
            ),
        ];
        for (body, code, message) in cases {
            let (got, got_message) = refused(&body);
            assert_eq!(got, code, "{body}");
            if !message.is_empty() {
                assert_eq!(got_message, message, "{body}");
            }
        }
        let most = doc(&"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>"
            .repeat(MAX_CORS_RULES));
        assert_eq!(
            parse_cors(most.as_bytes()).expect("100 rules").rules.len(),
            MAX_CORS_RULES
        );
    }
}
