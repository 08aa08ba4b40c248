//! What the authentication tests share: request heads built from a
//! method, a URI and headers, and random mutations of request texts for
//! the parsers' property tests (SigV4 and SigV2): a seeded xorshift, and a
//! few tokens spliced into or cut out of a valid value. Tests only.

use http::request::Parts;

/// The head of a request.
pub(crate) fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).expect("a test request").into_parts().0
}

/// A xorshift generator: `next(n)` is in `0..n`.
pub(crate) fn xorshift(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    }
}

/// `out` with up to three of `tokens` spliced in, or runs of up to seven
/// characters cut out, at random character boundaries.
pub(crate) fn splice(
    mut out: String,
    tokens: &[&str],
    next: &mut dyn FnMut(usize) -> usize,
) -> String {
    for _ in 0..next(4) {
        let at = (0..=out.len())
            .filter(|i| out.is_char_boundary(*i))
            .nth(next(out.len() + 1))
            .unwrap_or(0);
        if next(2) == 0 {
            out.insert_str(at, tokens[next(tokens.len())]);
        } else {
            let end = (at..=out.len())
                .filter(|i| out.is_char_boundary(*i))
                .nth(next(8))
                .unwrap_or(at);
            out.replace_range(at..end, "");
        }
    }
    out
}
