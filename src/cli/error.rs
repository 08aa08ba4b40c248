//! [`AdminError`]: every way an admin request can fail, and the message
//! that names the fix.
//!
//! Owns reading an error answer (the admin API's JSON, or the S3 XML error
//! of the shared authentication step) and the client's own failures
//! (endpoint, connection, TLS, timeout, unreadable answer). Never holds a
//! secret.

use std::fmt;

/// The endpoint given is not a usable `http(s)://host[:port]` URL.
pub const INVALID_ENDPOINT: &str = "InvalidEndpoint";
/// Nothing listens at the endpoint.
pub const CONNECTION_REFUSED: &str = "ConnectionRefused";
/// The endpoint's host cannot be resolved or reached.
pub const UNREACHABLE: &str = "Unreachable";
/// TLS setup or handshake failed.
pub const TLS_ERROR: &str = "TlsError";
/// No answer within the request timeout.
pub const TIMEOUT: &str = "Timeout";
/// An argument or credential cannot be put in a request.
pub const INVALID_INPUT: &str = "InvalidInput";
/// The answer is not what the admin API sends.
pub const INVALID_RESPONSE: &str = "InvalidResponse";

/// A failed admin request: the server's error, or one of the client's own
/// (the constants of this module, with `status` `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminError {
    /// The HTTP status of the answer; `None` when none came.
    pub status: Option<u16>,
    /// The S3-style code (`AccessDenied`, `NoSuchAccessKey`, …) or a
    /// client-side code such as [`CONNECTION_REFUSED`].
    pub code: String,
    /// The server's message, or the client's own.
    pub message: String,
    /// `message` is the client's whole sentence, fix included, rather
    /// than the server's text.
    worded: bool,
}

/// The XML error of the S3 layer: only the fields we read.
#[derive(serde::Deserialize)]
struct XmlError {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Region", default)]
    region: Option<String>,
}

/// The admin API's JSON error.
#[derive(serde::Deserialize)]
struct JsonError {
    error: String,
    #[serde(default)]
    message: String,
}

/// The message of an S3 XML error, and whether it is our own sentence:
/// the server's for the authentication codes, else ours (a wrong region,
/// or a gateway that answered as S3 because it has no admin API).
fn xml_message(e: &XmlError, endpoint: &str) -> (String, bool) {
    match (e.code.as_str(), &e.region) {
        ("AuthorizationHeaderMalformed", Some(region)) => {
            let fix = format!("set AWS_REGION={region} or pass --region {region}");
            (format!("the gateway's region is {region}: {fix}"), true)
        }
        (code, _) if is_auth_code(code) => (e.message.clone(), false),
        (code, _) => {
            let m = &e.message;
            let fix = "it does not serve the admin API under /_s3gw/admin/v1/; upgrade the gateway";
            (
                format!("{endpoint} answered as plain S3 ({code}: {m}): {fix}"),
                true,
            )
        }
    }
}

/// The codes the shared S3 authentication step may answer in XML.
fn is_auth_code(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "RequestTimeTooSkewed"
            | "AuthorizationHeaderMalformed"
    )
}

impl AdminError {
    /// A client-side failure: `code` is one of this module's constants,
    /// `message` the whole text, fix included.
    pub(crate) fn local(code: &str, message: String) -> Self {
        Self {
            status: None,
            code: code.to_owned(),
            message,
            worded: true,
        }
    }

    /// [`AdminError::local`] for an answer of status `status`.
    pub(crate) fn answered(status: u16, code: &str, message: String) -> Self {
        Self {
            status: Some(status),
            ..Self::local(code, message)
        }
    }

    /// Reads the error answer of status `status` (not 2xx) from `endpoint`.
    pub(crate) fn from_response(status: u16, body: &[u8], endpoint: &str) -> Self {
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            if let Ok(e) = serde_json::from_str::<JsonError>(trimmed) {
                return Self {
                    status: Some(status),
                    code: e.error,
                    message: e.message,
                    worded: false,
                };
            }
        }
        if trimmed.starts_with('<') {
            if let Some(e) = quick_xml::de::from_str::<XmlError>(trimmed)
                .ok()
                .filter(|e| !e.code.is_empty())
            {
                let (message, worded) = xml_message(&e, endpoint);
                return Self {
                    status: Some(status),
                    code: e.code,
                    message,
                    worded,
                };
            }
        }
        let message = match status {
            404 => format!(
                "{endpoint} has no admin API (HTTP 404 at /_s3gw/admin/v1/): upgrade the gateway, \
                 or point --endpoint at its S3 listener"
            ),
            502..=504 => format!(
                "{endpoint} answered HTTP {status}: the proxy cannot reach a gateway; is one running?"
            ),
            _ => format!("{endpoint} answered HTTP {status} without an admin API error"),
        };
        Self::answered(status, INVALID_RESPONSE, message)
    }

    /// The sentence that names the fix, for the codes where the server's
    /// own message (generic, written for S3) does not.
    fn fix(&self) -> Option<&'static str> {
        Some(match self.code.as_str() {
            "InvalidAccessKeyId" => {
                "the gateway does not know AWS_ACCESS_KEY_ID: set the root pair's access key id, \
                 or one created with `s3gw admin key create --admin`"
            }
            "SignatureDoesNotMatch" => {
                "AWS_SECRET_ACCESS_KEY is wrong: set the secret that belongs to AWS_ACCESS_KEY_ID"
            }
            "AccessDenied" => {
                "this key is not an admin key: use the root pair or a key created with --admin"
            }
            "RequestTimeTooSkewed" => {
                "this machine's clock is more than 15 minutes off the gateway's: set the clock right"
            }
            "ServiceUnavailable" if self.message.is_empty() => {
                "the gateway's store is unavailable: try again in a moment"
            }
            _ => return None,
        })
    }
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(fix) = self.fix() {
            return f.write_str(fix);
        }
        match (self.worded, self.status) {
            (true, _) | (false, None) => f.write_str(&self.message),
            (false, Some(status)) if self.message.is_empty() => {
                write!(f, "{} (HTTP {status})", self.code)
            }
            (false, Some(_)) => write!(f, "{} ({})", self.message, self.code),
        }
    }
}

impl std::error::Error for AdminError {}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
