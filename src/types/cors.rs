//! Bucket CORS configuration: the model a PutBucketCors body becomes, and
//! which rule answers a browser's request. Pure; the XML document and its
//! checks are in `s3/cors_xml.rs`, and the headers are written by
//! `s3/cors.rs`.
//!
//! The model is what the checks leave: every rule has at least one method
//! (of [`CORS_METHODS`]) and one origin, and no origin or allowed header
//! holds more than one `*`. It derives serde so a configuration can be
//! stored as JSON.

use serde::{Deserialize, Serialize};

/// The most rules a configuration may hold (S3's limit).
pub const MAX_CORS_RULES: usize = 100;
/// The methods a rule may allow, as S3 spells them.
pub const CORS_METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

/// A bucket's CORS configuration: 1 to [`MAX_CORS_RULES`] rules, tried in
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsConfig {
    pub rules: Vec<CorsRule>,
}

/// One rule: which origins may use which methods, with which request
/// headers, and what the browser is told.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CorsRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Origins, each with at most one `*` that stands for any run of
    /// characters; compared case-sensitively, as S3 does.
    pub origins: Vec<String>,
    /// Of [`CORS_METHODS`].
    pub methods: Vec<String>,
    /// Request headers a preflight may name, each with at most one `*`;
    /// compared without regard to case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    /// Response headers the browser may show the page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// How long a browser may keep a preflight's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_secs: Option<i64>,
}

/// The rule that answers a request, and how it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorsMatch<'a> {
    pub rule: &'a CorsRule,
    /// The origin matched the pattern `*` alone: the answer names `*`
    /// rather than the origin, and allows no credentials.
    pub any_origin: bool,
}

impl CorsConfig {
    /// The first rule that lets `origin` use `method` with every one of
    /// `headers` (a preflight's `Access-Control-Request-Headers`; empty
    /// for an actual request, whose headers S3 does not check).
    pub fn find<'a>(
        &'a self,
        origin: &str,
        method: &str,
        headers: &[&str],
    ) -> Option<CorsMatch<'a>> {
        self.rules.iter().find_map(|rule| {
            if !rule.methods.iter().any(|m| m == method) {
                return None;
            }
            let allowed = headers.iter().all(|h| {
                rule.allowed_headers
                    .iter()
                    .any(|p| wildcard_match(&p.to_ascii_lowercase(), &h.to_ascii_lowercase()))
            });
            if !allowed {
                return None;
            }
            let pattern = rule.origins.iter().find(|p| wildcard_match(p, origin))?;
            Some(CorsMatch {
                rule,
                any_origin: pattern == "*",
            })
        })
    }
}

/// Whether `value` matches `pattern`, in which one `*` stands for any run
/// of characters (none included); without one, the two are equal.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len()
                && value.starts_with(head)
                && value.ends_with(tail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        let v = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect();
        CorsRule {
            origins: v(origins),
            methods: v(methods),
            allowed_headers: v(headers),
            ..CorsRule::default()
        }
    }

    #[test]
    fn one_wildcard_matches_any_run_of_characters() {
        let cases = [
            ("*", "http://a.example", true),
            ("*", "", true),
            ("http://*.example.com", "http://www.example.com", true),
            ("http://*.example.com", "http://.example.com", true),
            ("http://*.example.com", "http://example.com", false),
            ("http://*.example.com", "https://www.example.com", false),
            ("*.suffix", "foo.suffix", true),
            ("*.suffix", "foo.bar", false),
            ("start*", "start", true),
            ("start*", "star", false),
            // The head and the tail may not overlap.
            ("ab*ba", "aba", false),
            ("http://a.example", "http://a.example", true),
            ("http://a.example", "http://A.example", false),
        ];
        for (pattern, value, want) in cases {
            assert_eq!(wildcard_match(pattern, value), want, "{pattern} ~ {value}");
        }
    }

    #[test]
    fn the_first_rule_that_allows_origin_method_and_headers_answers() {
        let cfg = CorsConfig {
            rules: vec![
                rule(&["http://a.example"], &["GET"], &[]),
                rule(&["*"], &["GET", "PUT"], &["x-amz-meta-*", "Content-Type"]),
            ],
        };
        let m = cfg.find("http://a.example", "GET", &[]).expect("rule 1");
        assert!(std::ptr::eq(m.rule, &cfg.rules[0]));
        assert!(!m.any_origin);
        // A header rule 1 does not allow moves the answer to rule 2.
        let m = cfg
            .find("http://a.example", "GET", &["content-type"])
            .expect("rule 2");
        assert!(std::ptr::eq(m.rule, &cfg.rules[1]));
        assert!(m.any_origin);
        assert!(cfg
            .find(
                "http://b.example",
                "PUT",
                &["X-Amz-Meta-Color", "content-type"]
            )
            .is_some());
        assert_eq!(cfg.find("http://b.example", "PUT", &["x-amz-acl"]), None);
        assert_eq!(cfg.find("http://b.example", "DELETE", &[]), None);
        // Methods are compared as S3 spells them.
        assert_eq!(cfg.find("http://b.example", "get", &[]), None);
    }
}
