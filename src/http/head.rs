//! The request head as a whole: its size limit, and the host an
//! absolute-form target names.

use http::request::Parts;
use http::{header, HeaderValue};

/// Largest request head (request line and header lines) accepted. hyper
/// stops reading a head at this many buffered bytes (`max_buf_size`), but
/// one read can take in more than that, so the parsed head is measured
/// again ([`head_len`]).
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The size of the head as it was sent: request line, header lines, and
/// the blank line.
pub(crate) fn head_len(parts: &Parts) -> usize {
    let request_line = parts.method.as_str().len() + parts.uri.to_string().len() + 12;
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    request_line + headers + 2
}

/// Whether the head is larger than [`MAX_HEAD_BYTES`].
pub(crate) fn is_oversized(parts: &Parts) -> bool {
    head_len(parts) > MAX_HEAD_BYTES
}

/// For an absolute-form target (`GET http://host/path`), makes its
/// authority the `Host`: RFC 9112 §3.2.2 says a server must ignore the
/// Host header then. Routing and the signature both read `Host`, so a
/// request signed for one host cannot be aimed at another.
pub(crate) fn host_from_target(parts: &mut Parts) {
    if let Some(authority) = parts.uri.authority() {
        if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
            parts.headers.insert(header::HOST, host);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(target: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method("GET").uri(target);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(())
            .map(|r| r.into_parts().0)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_head_is_measured_as_sent() {
        let p = parts("/b/k", &[("host", "h"), ("x-a", "12345")]);
        // "GET /b/k HTTP/1.1\r\n" + "host: h\r\n" + "x-a: 12345\r\n" + "\r\n"
        assert_eq!(head_len(&p), 19 + 9 + 12 + 2);
        let big = "a".repeat(MAX_HEAD_BYTES);
        assert!(is_oversized(&parts("/b/k", &[("x-junk", &big)])));
        assert!(!is_oversized(&parts("/b/k", &[("x-junk", &big[..60_000])])));
    }

    #[test]
    fn an_absolute_target_names_the_host() {
        let mut p = parts("http://evil.example:81/b/k", &[("host", "127.0.0.1:9000")]);
        host_from_target(&mut p);
        assert_eq!(p.headers[header::HOST], "evil.example:81");
        let mut p = parts("/b/k", &[("host", "127.0.0.1:9000")]);
        host_from_target(&mut p);
        assert_eq!(p.headers[header::HOST], "127.0.0.1:9000");
    }
}
