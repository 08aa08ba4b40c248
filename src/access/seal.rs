//! Secrets at rest. SigV4 needs each key's secret itself (the signing key
//! is an HMAC chain over it), so secrets cannot be hashed as passwords are;
//! they are encrypted instead, with ChaCha20-Poly1305 under the gateway's
//! key-encryption key (`S3GW_KEY_ENCRYPTION_KEY`, or on the embedded store
//! a key generated once in its data directory). The access key id is the
//! associated data, so a sealed secret moved to another key's record does
//! not open. A sealed secret reads `v1:<kek fingerprint>:<base64 of nonce
//! and ciphertext>`; the fingerprint tells a wrong key-encryption key from
//! a damaged record.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::auth::SecretKey;

/// Shortest key-encryption key accepted, in characters.
pub const MIN_KEK_CHARS: usize = 32;

/// Why a sealed secret does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("sealed under another key-encryption key (fingerprint {0})")]
    OtherKey(String),
    #[error("the sealed secret is damaged")]
    Damaged,
}

/// Seals and opens secrets under one key-encryption key.
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    fingerprint: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({})", self.fingerprint)
    }
}

impl Sealer {
    /// The sealer of key-encryption key `kek` (any text of at least
    /// [`MIN_KEK_CHARS`] characters; the cipher key is derived from it).
    pub fn new(kek: &str) -> Result<Sealer, String> {
        if kek.chars().count() < MIN_KEK_CHARS {
            return Err(format!(
                "the key-encryption key is shorter than {MIN_KEK_CHARS} characters"
            ));
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"s3gw key-encryption v1")
            .map_err(|e| e.to_string())?;
        mac.update(kek.as_bytes());
        let key = mac.finalize().into_bytes();
        let fingerprint =
            hex::encode(&Sha256::digest([b"fingerprint".as_slice(), &key].concat())[..4]);
        let cipher = ChaCha20Poly1305::new_from_slice(&key).map_err(|e| e.to_string())?;
        Ok(Sealer {
            cipher,
            fingerprint,
        })
    }

    /// Identifies the key-encryption key without revealing it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// `secret` of access key `id`, sealed.
    pub fn seal(&self, id: &str, secret: &SecretKey) -> Result<String, String> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| "cannot seal the secret".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("v1:{}:{}", self.fingerprint, STANDARD.encode(&out)))
    }

    /// The secret of access key `id` from its sealed form.
    pub fn open(&self, id: &str, sealed: &str) -> Result<SecretKey, SealError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(fp), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SealError::Damaged);
        };
        if fp != self.fingerprint {
            return Err(SealError::OtherKey(fp.to_owned()));
        }
        let bytes = STANDARD.decode(data).map_err(|_| SealError::Damaged)?;
        if bytes.len() < 12 {
            return Err(SealError::Damaged);
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| SealError::Damaged)?;
        String::from_utf8(plain)
            .map(SecretKey::new)
            .map_err(|_| SealError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEK: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn round_trip_and_binding() {
        let s = Sealer::new(KEK).unwrap();
        let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into());
        let sealed = s.seal("AK1", &secret).unwrap();
        assert!(!sealed.contains("EXAMPLE"));
        assert_eq!(s.open("AK1", &sealed).unwrap(), secret);
        // Bound to its key id.
        assert_eq!(s.open("AK2", &sealed), Err(SealError::Damaged));
        // Two seals of one secret differ (fresh nonces).
        assert_ne!(sealed, s.seal("AK1", &secret).unwrap());
    }

    #[test]
    fn another_kek_and_damage_are_told_apart() {
        let s = Sealer::new(KEK).unwrap();
        let other = Sealer::new("another key-encryption key, long enough").unwrap();
        let sealed = s.seal("AK1", &SecretKey::new("secret".into())).unwrap();
        assert_eq!(
            other.open("AK1", &sealed),
            Err(SealError::OtherKey(s.fingerprint().to_owned()))
        );
        let mut damaged = sealed.clone();
        damaged.pop();
        damaged.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(s.open("AK1", &damaged), Err(SealError::Damaged));
        for bad in [
            "",
            "v1",
            "v2:x:y",
            "v1:xx",
            &format!("v1:{}:", s.fingerprint()),
        ] {
            assert!(s.open("AK1", bad).is_err(), "{bad}");
        }
        assert!(Sealer::new("short").is_err());
    }
}
