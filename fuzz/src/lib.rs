//! Helpers shared by the fuzz targets: inputs are text lines, so seeds stay
//! readable and libFuzzer's mutations (insert, splice, dictionary words)
//! land on fields.

use http::request::Parts;

/// The input split at `\n` (a trailing `\r` stays part of its line).
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == b'\n').collect()
}

/// `name:value` lines as header pairs; lines without a colon are skipped.
pub fn header_pairs<'a>(lines: &[&'a [u8]]) -> Vec<(&'a [u8], &'a [u8])> {
    lines
        .iter()
        .filter_map(|l| {
            let at = l.iter().position(|&b| b == b':')?;
            Some((&l[..at], &l[at + 1..]))
        })
        .collect()
}

/// A request head, or `None` if `http` refuses the method, URI or a header
/// (hyper would have refused the request before the gateway saw it).
pub fn request_parts(method: &[u8], uri: &[u8], headers: &[(&[u8], &[u8])]) -> Option<Parts> {
    let mut b = http::Request::builder()
        .method(http::Method::from_bytes(method).ok()?)
        .uri(http::Uri::try_from(uri).ok()?);
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name).ok()?;
        let value = http::HeaderValue::from_bytes(trim(value)).ok()?;
        b = b.header(name, value);
    }
    Some(b.body(()).ok()?.into_parts().0)
}

/// Strips the optional whitespace around a header value, as hyper does.
pub fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end]
}

/// Reads fixed-size control values off the front of an input.
pub struct Cursor<'a>(pub &'a [u8]);

impl<'a> Cursor<'a> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.byte();
        }
        u64::from_le_bytes(b)
    }

    pub fn rest(self) -> &'a [u8] {
        self.0
    }
}
