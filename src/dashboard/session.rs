//! Dashboard sessions: a login with the root pair yields a cookie, and the
//! secret is never sent again. The cookie is stateless, an HMAC-SHA256 tag
//! under a key derived from the root secret, so it is valid on every
//! gateway that shares the root pair (Nginx may send each poll to any of
//! them) and becomes invalid on all of them when the root secret changes.
//!
//! A token is `<expiry>.<nonce>.<tag>`: the expiry in Unix seconds, 16
//! random bytes in hex, and the tag (hex) over the access key, the expiry
//! and the nonce. A stolen cookie is good until its expiry; logging out
//! only drops it from the browser.

use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::auth::sigv4::hmac_sha256;
use crate::auth::SecretKey;

/// How long a session lasts.
pub(crate) const SESSION_SECS: u64 = 8 * 3600;
/// The cookie over plain HTTP.
pub(crate) const COOKIE: &str = "s3gw_session";
/// The cookie behind TLS: the `__Host-` prefix makes the browser refuse it
/// unless it is `Secure`, has `Path=/` and no `Domain`, so no sibling host
/// can set or overwrite it.
pub(crate) const SECURE_COOKIE: &str = "__Host-s3gw_session";
/// Longest token accepted (a real one is 95 characters).
const MAX_TOKEN_LEN: usize = 128;

/// Mints and checks session tokens for one root pair.
pub(crate) struct Sessions {
    key: [u8; 32],
    access_key: String,
}

impl Sessions {
    pub(crate) fn new(access_key: &str, secret: &SecretKey) -> Self {
        Sessions {
            key: hmac_sha256(secret.expose().as_bytes(), b"s3gw dashboard session key v1"),
            access_key: access_key.to_owned(),
        }
    }

    fn tag(&self, expiry: u64, nonce: &str) -> [u8; 32] {
        let message = format!("v1\n{}\n{expiry}\n{nonce}", self.access_key);
        hmac_sha256(&self.key, message.as_bytes())
    }

    /// A new token valid for [`SESSION_SECS`] from `now` (Unix seconds).
    pub(crate) fn mint(&self, now: u64) -> String {
        let mut nonce = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let expiry = now.saturating_add(SESSION_SECS);
        let tag = hex::encode(self.tag(expiry, &nonce));
        format!("{expiry}.{nonce}.{tag}")
    }

    /// Whether `token` was minted here (or by a gateway with the same root
    /// pair) and has not expired at `now`.
    pub(crate) fn is_valid(&self, token: &str, now: u64) -> bool {
        if token.len() > MAX_TOKEN_LEN {
            return false;
        }
        let mut fields = token.split('.');
        let (Some(expiry), Some(nonce), Some(tag), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return false;
        };
        let Ok(expiry) = expiry.parse::<u64>() else {
            return false;
        };
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        let fresh = now < expiry && expiry <= now.saturating_add(SESSION_SECS);
        let genuine = bool::from(tag.ct_eq(&self.tag(expiry, nonce)));
        genuine && fresh
    }
}

/// The cookie's name for a request: the `__Host-` one when Nginx says the
/// client came over TLS. Only that name is read on such requests, so a
/// cookie planted over plain HTTP cannot stand in for it.
pub(crate) fn cookie_name(headers: &http::HeaderMap) -> &'static str {
    let tls = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    if tls {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn read_cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

/// The `Set-Cookie` value that stores `token`, or with `None` deletes the
/// cookie.
pub(crate) fn set_cookie(name: &str, token: Option<&str>) -> String {
    let (value, max_age) = match token {
        Some(t) => (t, SESSION_SECS),
        None => ("", 0),
    };
    let secure = if name == SECURE_COOKIE {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; Max-Age={max_age}{secure}; HttpOnly; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(secret: &str) -> Sessions {
        Sessions::new("AK", &SecretKey::new(secret.into()))
    }

    #[test]
    fn a_minted_token_is_valid_until_it_expires() {
        let s = sessions("secret-one");
        let t = s.mint(1_000);
        assert!(t.len() <= MAX_TOKEN_LEN, "{t}");
        assert!(s.is_valid(&t, 1_000));
        assert!(s.is_valid(&t, 1_000 + SESSION_SECS - 1));
        assert!(!s.is_valid(&t, 1_000 + SESSION_SECS));
    }

    #[test]
    fn another_secret_or_an_edited_token_is_refused() {
        let s = sessions("secret-one");
        let t = s.mint(1_000);
        assert!(!sessions("secret-two").is_valid(&t, 1_000));
        assert!(!Sessions::new("BK", &SecretKey::new("secret-one".into())).is_valid(&t, 1_000));
        // A later expiry with the old tag.
        let (expiry, rest) = t.split_once('.').unwrap_or_default();
        let later = format!("{}.{rest}", expiry.parse::<u64>().unwrap_or(0) + 1);
        assert!(!s.is_valid(&later, 1_000));
        // An expiry further out than a session lasts is refused even if
        // genuine (a clock set back must not lengthen sessions).
        assert!(!s.is_valid(&t, 1_000 - 1));
        for bad in ["", "1.2", "a.b.c", "1.2.3.4", &"9".repeat(200)] {
            assert!(!s.is_valid(bad, 1_000), "{bad}");
        }
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::COOKIE,
            http::HeaderValue::from_static("a=1; s3gw_session_x=2"),
        );
        h.append(
            http::header::COOKIE,
            http::HeaderValue::from_static("s3gw_session=tok; b=3"),
        );
        assert_eq!(read_cookie(&h, COOKIE), Some("tok"));
        assert_eq!(read_cookie(&h, SECURE_COOKIE), None);
        assert_eq!(cookie_name(&h), COOKIE);
        h.insert("x-forwarded-proto", http::HeaderValue::from_static("HTTPS"));
        assert_eq!(cookie_name(&h), SECURE_COOKIE);
    }

    #[test]
    fn the_secure_cookie_is_secure_and_both_are_strict() {
        let c = set_cookie(SECURE_COOKIE, Some("t"));
        assert!(c.starts_with("__Host-s3gw_session=t; Path=/;"), "{c}");
        assert!(c.contains("; Secure; HttpOnly; SameSite=Strict"), "{c}");
        let c = set_cookie(COOKIE, None);
        assert!(c.contains("Max-Age=0") && !c.contains("Secure"), "{c}");
        assert!(c.contains("HttpOnly; SameSite=Strict"), "{c}");
    }
}
