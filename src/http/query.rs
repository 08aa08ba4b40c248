//! The query string of a request, decoded once: the signature check and the
//! router read the same values (`+` is a space in both).

/// Splits a raw query into percent-decoded `(name, value)` byte pairs, in
/// order. `+` stands for a space, as in HTML forms and as S3 reads it; a
/// literal plus is `%2B`. Empty segments (`a&&b`) are skipped.
pub(crate) fn decode_pairs(raw: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw.split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(component: &str) -> Vec<u8> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes[i] {
            b'%' => bytes
                .get(i + 1..i + 3)
                // from_str_radix alone would take a sign: `%+1`.
                .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok()),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string; `None` if a component is not UTF-8.
    pub fn parse(raw: Option<&str>) -> Option<Query> {
        let pairs = decode_pairs(raw.unwrap_or(""))
            .into_iter()
            .map(|(k, v)| Some((String::from_utf8(k).ok()?, String::from_utf8(v).ok()?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Query { pairs })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_decodes() {
        let q = Query::parse(Some("list-type=2&prefix=a%2Bb+c&uploads&x=")).unwrap();
        assert_eq!(q.get("list-type"), Some("2"));
        assert_eq!(q.get("prefix"), Some("a+b c"));
        assert!(q.has("uploads"));
        assert_eq!(q.get("uploads"), Some(""));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.get("missing"), None);
        assert!(Query::parse(Some("a=%ff")).is_none());
        assert_eq!(Query::parse(None).unwrap(), Query::default());
    }

    #[test]
    fn plus_is_a_space_and_only_an_unescaped_one() {
        let pairs = |raw: &str| decode_pairs(raw);
        assert_eq!(pairs("p=a+b"), vec![(b"p".to_vec(), b"a b".to_vec())]);
        assert_eq!(pairs("p=a%2Bb"), vec![(b"p".to_vec(), b"a+b".to_vec())]);
        assert_eq!(pairs("a+b=%2B+"), vec![(b"a b".to_vec(), b"+ ".to_vec())]);
        // An invalid escape stays as sent; a `+` after it is still a space.
        assert_eq!(pairs("p=%zz+%4"), vec![(b"p".to_vec(), b"%zz %4".to_vec())]);
        assert_eq!(pairs("p=%+1%-1"), vec![(b"p".to_vec(), b"% 1%-1".to_vec())]);
        assert_eq!(
            pairs("p=%e2%82%ac+"),
            vec![(b"p".to_vec(), "€ ".as_bytes().to_vec())]
        );
        assert_eq!(pairs("&&p&"), vec![(b"p".to_vec(), vec![])]);
    }
}
