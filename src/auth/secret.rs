//! [`SecretKey`]: a secret access key that cannot leak through `Debug` and is
//! compared in constant time.

use std::fmt;

use subtle::ConstantTimeEq;

/// A secret access key. `Debug` prints a placeholder; there is no `Display`.
/// Read the value only to derive a signing key, via [`SecretKey::expose`].
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret.
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret itself. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl PartialEq for SecretKey {
    /// Constant time in the content (the length may leak, as with any
    /// comparison of variable-length secrets).
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretKey {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let key = SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into());
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
        assert_eq!(format!("{:?}", Some(&key)), "Some(SecretKey(***))");
        assert!(!format!("{key:#?}").contains("EXAMPLE"));
    }

    #[test]
    fn equality_compares_content() {
        let a = SecretKey::new("abc".into());
        assert_eq!(a, SecretKey::new("abc".into()));
        assert_ne!(a, SecretKey::new("abd".into()));
        assert_ne!(a, SecretKey::new("ab".into()));
        assert_ne!(a, SecretKey::new(String::new()));
        assert_eq!(a.expose(), "abc");
    }
}
