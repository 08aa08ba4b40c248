//! Browser form uploads: the `multipart/form-data` reader
//! (`http::form::FormReader`) and the POST policy (`s3::post_policy`).
//!
//! Input: a byte choosing the size of the pieces the body arrives in, then
//! the body (boundary `XyZ`). The same bytes are also read as a policy
//! document (base64 of them) and checked against a fixed form.
//!
//! Invariants, for any body:
//! * the fields before the file stay within `MAX_FORM_HEAD` bytes;
//! * the outcome does not depend on how the body was cut: the same
//!   fields, file head, file bytes and verdict as the body in one piece;
//! * the file's bytes never hold the delimiter `CRLF--XyZ`;
//! * a policy that parses can be checked without a panic, and a check
//!   that passes leaves no field unnamed but the exempt ones.

#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::StreamExt;
use libfuzzer_sys::fuzz_target;
use s3gw::http::form::{FormError, FormReader, MAX_FORM_HEAD};
use s3gw::s3::post_policy::parse_policy;

/// Polls a future whose streams are always ready to completion.
fn ready<T>(fut: impl Future<Output = T>) -> T {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("an in-memory body is never pending"),
    }
}

type Outcome = Result<(Vec<(String, String)>, Option<(Option<String>, Option<String>)>, Vec<u8>), String>;

fn read(body: &[u8], piece: usize) -> Outcome {
    let pieces: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(piece.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut reader = FormReader::new(futures_util::stream::iter(pieces), "XyZ");
    let head = ready(reader.read_head()).map_err(|e| format!("{e:?}"))?;
    let fields: Vec<(String, String)> = head.fields.into_iter().map(|f| (f.name, f.value)).collect();
    let held: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(held <= MAX_FORM_HEAD, "{held} bytes of fields held");
    let Some(file) = head.file else {
        return Ok((fields, None, Vec::new()));
    };
    let mut data = Vec::new();
    let mut stream = reader.into_file();
    let verdict = ready(async {
        while let Some(piece) = stream.next().await {
            match piece {
                Ok(b) => data.extend_from_slice(&b),
                Err(e @ FormError::Malformed(_)) => return Err(format!("{e:?}")),
                Err(e) => return Err(format!("{e:?}")),
            }
        }
        Ok(())
    });
    verdict?;
    assert!(
        !data.windows(7).any(|w| w == b"\r\n--XyZ"),
        "the file holds its own delimiter"
    );
    Ok((fields, Some((file.filename, file.content_type)), data))
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let whole = read(body, body.len());
    let cut_up = read(body, usize::from(cut) % 64 + 1);
    assert_eq!(whole, cut_up, "the outcome depends on the pieces");

    let b64 = {
        use std::fmt::Write;
        // A cheap base64 of the input (standard alphabet, padded).
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in body.chunks(3) {
            let n = c.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=c.len() {
                let _ = s.write_char(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
            for _ in c.len()..3 {
                s.push('=');
            }
        }
        s
    };
    if let Ok(policy) = parse_policy(&b64) {
        let fields = vec![
            ("key".to_owned(), "up/a".to_owned()),
            ("content-type".to_owned(), "image/png".to_owned()),
            ("policy".to_owned(), b64.clone()),
        ];
        if policy.check(&fields, "bucket", 0).is_ok() {
            for (name, _) in &fields {
                let named = policy.conditions.iter().any(|c| match c {
                    s3gw::s3::post_policy::Condition::Eq { field, .. }
                    | s3gw::s3::post_policy::Condition::StartsWith { field, .. } => field == name,
                    s3gw::s3::post_policy::Condition::LengthRange { .. } => false,
                });
                assert!(named || name == "policy", "{name} passed unnamed");
            }
        }
    }
});
