//! Dashboard sessions: a login with the root pair or an admin key yields a
//! cookie, and the secret is never sent again. The cookie is stateless, an
//! HMAC-SHA256 tag under a key derived from the root secret, so it is valid
//! on every gateway that shares the root pair (Nginx may send each poll to
//! any of them) and becomes invalid on all of them when the root secret
//! changes.
//!
//! A token is `v2.<key>.<expiry>.<nonce>.<tag>`: the access key id it was
//! minted for in hex (at most [`MAX_KEY_ID_BYTES`]), the expiry in Unix
//! seconds, 16 random bytes in hex, and the tag (hex) over the key id, the
//! expiry and the nonce. This module only says whether a token is genuine
//! and fresh, and for which key; the admin listener also checks, on every
//! request, that the key is still the root pair's or a stored admin key
//! (`admin.rs`), so deleting or demoting a key ends its sessions within
//! the key cache's change bound. A stolen cookie is good until its expiry
//! (or its key's deletion); logging out only drops it from the browser.

use rand::RngCore;
use subtle::ConstantTimeEq;

use std::sync::Arc;

use crate::access::Key;
use crate::auth::sigv4::hmac_sha256;
use crate::auth::SecretKey;

/// Who a session is for: the root pair, or a stored key that was an admin
/// when last checked.
#[derive(Debug, Clone)]
pub(crate) enum Viewer {
    Root,
    Key(Arc<Key>),
}

/// How long a session lasts.
pub(crate) const SESSION_SECS: u64 = 8 * 3600;
/// The cookie over plain HTTP.
pub(crate) const COOKIE: &str = "s3gw_session";
/// The cookie behind TLS: the `__Host-` prefix makes the browser refuse it
/// unless it is `Secure`, has `Path=/` and no `Domain`, so no sibling host
/// can set or overwrite it.
pub(crate) const SECURE_COOKIE: &str = "__Host-s3gw_session";
/// Longest access key id a session can carry (stored keys have 20
/// characters; a longer root access key cannot log in to the dashboard).
pub(crate) const MAX_KEY_ID_BYTES: usize = 128;
/// The token format's version, its first field.
const VERSION: &str = "v2";
/// Longest token accepted: the version, the key id in hex, a 20-digit
/// expiry, the nonce, the tag and four dots.
const MAX_TOKEN_LEN: usize = VERSION.len() + 2 * MAX_KEY_ID_BYTES + 20 + 32 + 64 + 4;

/// Mints and checks session tokens for one root secret.
pub(crate) struct Sessions {
    key: [u8; 32],
}

impl Sessions {
    pub(crate) fn new(secret: &SecretKey) -> Self {
        Sessions {
            key: hmac_sha256(secret.expose().as_bytes(), b"s3gw dashboard session key v1"),
        }
    }

    fn tag(&self, key_id: &str, expiry: u64, nonce: &str) -> [u8; 32] {
        let message = format!("{VERSION}\n{key_id}\n{expiry}\n{nonce}");
        hmac_sha256(&self.key, message.as_bytes())
    }

    /// A new token for the access key `key_id`, valid for [`SESSION_SECS`]
    /// from `now` (Unix seconds); `None` when the id is longer than
    /// [`MAX_KEY_ID_BYTES`].
    pub(crate) fn mint(&self, key_id: &str, now: u64) -> Option<String> {
        if key_id.len() > MAX_KEY_ID_BYTES {
            return None;
        }
        let mut nonce = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let expiry = now.saturating_add(SESSION_SECS);
        let tag = hex::encode(self.tag(key_id, expiry, &nonce));
        Some(format!(
            "{VERSION}.{}.{expiry}.{nonce}.{tag}",
            hex::encode(key_id)
        ))
    }

    /// The access key id of `token` when it was minted here (or by a
    /// gateway with the same root secret) and has not expired at `now`.
    pub(crate) fn open(&self, token: &str, now: u64) -> Option<String> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut fields = token.split('.');
        let (Some(VERSION), Some(key_id), Some(expiry), Some(nonce), Some(tag), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return None;
        };
        let key_id = String::from_utf8(hex::decode(key_id).ok()?).ok()?;
        let expiry = expiry.parse::<u64>().ok()?;
        let tag = hex::decode(tag).ok()?;
        let fresh = now < expiry && expiry <= now.saturating_add(SESSION_SECS);
        let genuine = bool::from(tag.ct_eq(&self.tag(&key_id, expiry, nonce)));
        (genuine && fresh).then_some(key_id)
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
        Sessions::new(&SecretKey::new(secret.into()))
    }

    fn mint(s: &Sessions, key_id: &str, now: u64) -> String {
        s.mint(key_id, now).unwrap_or_default()
    }

    #[test]
    fn a_minted_token_carries_its_key_until_it_expires() {
        let s = sessions("secret-one");
        for id in [
            "AK",
            "S3GWABCDEFGHIJKLMNOP",
            "a.b;c=d e",
            &"K".repeat(MAX_KEY_ID_BYTES),
        ] {
            let t = mint(&s, id, 1_000);
            assert!(t.starts_with("v2."), "{t}");
            assert!(t.len() <= MAX_TOKEN_LEN, "{t}");
            // Only cookie-safe characters, whatever the id holds.
            assert!(
                t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'),
                "{t}"
            );
            assert_eq!(s.open(&t, 1_000).as_deref(), Some(id));
            assert_eq!(s.open(&t, 1_000 + SESSION_SECS - 1).as_deref(), Some(id));
            assert_eq!(s.open(&t, 1_000 + SESSION_SECS), None);
        }
        // The longest token is what the bound allows.
        let longest = format!(
            "v2.{}.{}.{}.{}",
            "6b".repeat(MAX_KEY_ID_BYTES),
            u64::MAX,
            "0".repeat(32),
            "0".repeat(64)
        );
        assert!(longest.len() <= MAX_TOKEN_LEN);
        assert_eq!(s.mint(&"K".repeat(MAX_KEY_ID_BYTES + 1), 1_000), None);
    }

    #[test]
    fn another_secret_or_an_edited_token_is_refused() {
        let s = sessions("secret-one");
        let t = mint(&s, "AK", 1_000);
        assert_eq!(sessions("secret-two").open(&t, 1_000), None);
        let fields: Vec<&str> = t.split('.').collect();
        let with = |i: usize, v: &str| {
            let mut f = fields.clone();
            f[i] = v;
            f.join(".")
        };
        // Another key id with the old tag: the admin's session is not the
        // root's, nor another key's.
        for other in ["BK", "", "AKX", "ak"] {
            let edited = with(1, &hex::encode(other));
            assert_eq!(s.open(&edited, 1_000), None, "{other}");
        }
        // A later expiry with the old tag; another version.
        let later = (fields[2].parse::<u64>().unwrap_or(0) + 1).to_string();
        assert_eq!(s.open(&with(2, &later), 1_000), None);
        assert_eq!(s.open(&with(0, "v1"), 1_000), None);
        // A version-1 token (no key id) is refused.
        assert_eq!(s.open(&fields[2..].join("."), 1_000), None);
        // An expiry further out than a session lasts is refused even if
        // genuine (a clock set back must not lengthen sessions).
        assert_eq!(s.open(&t, 1_000 - 1), None);
        let too_long = format!("{t}{}", "0".repeat(MAX_TOKEN_LEN));
        for bad in [
            "",
            "1.2",
            "a.b.c",
            "v2.1.2.3.4",
            "v2.zz.1.2.3",
            "v2.ff.1.2.3",
            &"9".repeat(500),
            &too_long,
        ] {
            assert_eq!(s.open(bad, 1_000), None, "{bad}");
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
