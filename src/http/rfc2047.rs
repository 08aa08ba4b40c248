//! RFC 2047 encoded words, the form in which S3 carries user metadata
//! (`x-amz-meta-*`) that is not US-ASCII through HTTP headers.
//!
//! S3 decodes the encoded words of a value before it stores it, and reads
//! any other byte of a raw value as ISO-8859-1. It answers a stored value
//! as it is when it is printable US-ASCII, and otherwise as one
//! `=?UTF-8?B?<base64>?=` word. So a client that sends `=?UTF-8?B?w6k=?=`
//! (how a botocore user sends `é`) reads back the same header, and
//! a value that cannot stand raw in a header still reaches the client.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The header value that carries `value`: itself when every byte is
/// printable US-ASCII (or a tab), else one encoded word of its UTF-8.
pub fn encode(value: &str) -> String {
    if value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        value.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(value.as_bytes()))
    }
}

/// The text of a raw header value: its encoded words decoded (the white
/// space between two adjacent words dropped, as RFC 2047 says), every
/// other byte read as ISO-8859-1 (which keeps US-ASCII as it is). A word
/// that does not decode stays as written.
pub fn decode(raw: &[u8]) -> String {
    let text: String = raw.iter().map(|&b| char::from(b)).collect();
    if !text.contains("=?") {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    // White space seen since the last decoded word, kept unless another
    // word follows it directly.
    let mut after_word: Option<&str> = None;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        match word(from) {
            Some((decoded, len)) => {
                let between_words = after_word.is_some() && before.trim().is_empty();
                if !between_words {
                    out.push_str(after_word.unwrap_or(""));
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = &from[len..];
                // The white space up to what follows, held back.
                let ws = rest.len() - rest.trim_start().len();
                after_word = Some(&rest[..ws]);
                rest = &rest[ws..];
            }
            None => {
                out.push_str(after_word.take().unwrap_or(""));
                out.push_str(before);
                out.push_str("=?");
                rest = &from[2..];
            }
        }
    }
    out.push_str(after_word.unwrap_or(""));
    out.push_str(rest);
    out
}

/// The encoded word at the start of `s` (`=?charset?B|Q?text?=`), decoded,
/// and its length; `None` if it is not one this reads.
fn word(s: &str) -> Option<(String, usize)> {
    let body = s.strip_prefix("=?")?;
    let (charset, body) = body.split_once('?')?;
    let (encoding, body) = body.split_once('?')?;
    let end = body.find("?=")?;
    let encoded = &body[..end];
    if encoded.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => STANDARD.decode(encoded).ok()?,
        "Q" | "q" => q_decode(encoded)?,
        _ => return None,
    };
    // RFC 2231 lets a language follow the charset: `UTF-8*en`.
    let charset = charset.split('*').next().unwrap_or("");
    let text = if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()?
    } else if charset.eq_ignore_ascii_case("iso-8859-1") || charset.eq_ignore_ascii_case("us-ascii")
    {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        return None;
    };
    Some((text, 2 + charset_len(s) + encoding.len() + 1 + end + 2))
}

/// The length of `=?charset?` less the `=?`, as written in `s`.
fn charset_len(s: &str) -> usize {
    s[2..].find('?').map_or(0, |i| i + 1)
}

/// The "Q" encoding: `_` is a space, `=XX` a byte.
fn q_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            b => out.push(b),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_kept_and_the_rest_is_one_word() {
        assert_eq!(encode("plain value\twith tab"), "plain value\twith tab");
        assert_eq!(encode(""), "");
        assert_eq!(encode("é"), "=?UTF-8?B?w6k=?=");
        assert_eq!(encode("日本"), "=?UTF-8?B?5pel5pys?=");
        // A control character cannot stand raw in a header either.
        assert_eq!(encode("a\nb"), "=?UTF-8?B?YQpi?=");
    }

    #[test]
    fn encoded_words_are_decoded() {
        assert_eq!(decode(b"=?UTF-8?B?w6k=?="), "é");
        assert_eq!(decode(b"=?utf-8?b?5pel5pys?="), "日本");
        assert_eq!(decode(b"=?UTF-8?Q?caf=C3=A9_au_lait?="), "café au lait");
        assert_eq!(decode(b"=?ISO-8859-1?Q?caf=E9?="), "café");
        // Adjacent words join; text around them stays.
        assert_eq!(decode(b"=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?="), "éé");
        assert_eq!(decode(b"x =?UTF-8?B?w6k=?= y"), "x é y");
        assert_eq!(decode(b"=?UTF-8?B?w6k=?=  tail"), "é  tail");
    }

    #[test]
    fn anything_else_is_iso_8859_1() {
        assert_eq!(decode(b"plain"), "plain");
        assert_eq!(decode(b"caf\xe9"), "café");
        // UTF-8 sent raw is read byte by byte, as S3 reads it.
        assert_eq!(decode("é".as_bytes()), "Ã©");
        for literal in [
            "=?UTF-8?B?not base64?=",
            "=?UTF-8?X?abc?=",
            "=?KOI8-R?B?w6k=?=",
            "=?UTF-8?B?/w==?=",
            "=?UTF-8?B?w6k=",
            "a =? b",
        ] {
            assert_eq!(decode(literal.as_bytes()), literal, "{literal}");
        }
    }

    #[test]
    fn round_trip() {
        for v in ["ascii", "é", "日本語 text", "=?UTF-8?B?w6k=?="] {
            assert_eq!(
                decode(encode(v).as_bytes()),
                v.replace("=?UTF-8?B?w6k=?=", "é")
            );
        }
    }
}
