//! `multipart/form-data` (RFC 7578) as a browser sends a POST form upload
//! (S3's PostObject), read from the body as it streams: the fields before
//! the file, held in memory up to [`MAX_FORM_HEAD`] bytes in all, then the
//! file's bytes as a stream of their own, never buffered whole. What
//! follows the file (S3 ignores any later field) is not read.
//!
//! The body is scanned once for the delimiter `CRLF--boundary`; the
//! body's start is read as if preceded by a CRLF, so its first delimiter
//! is found the same way (and a preamble before it is skipped, as RFC
//! 2046 allows).

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use memchr::memmem::Finder;

/// The most bytes of the body read before the file's data: every field
/// and every part's headers (and a preamble). A browser's form with an
/// S3 policy is a few KiB.
pub const MAX_FORM_HEAD: usize = 64 * 1024;
/// The longest boundary RFC 2046 allows.
const MAX_BOUNDARY: usize = 70;
/// The most fields before the file.
const MAX_FIELDS: usize = 200;

/// Why a form could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// Not `multipart/form-data` with a usable boundary.
    #[error("not multipart/form-data with a boundary")]
    NotMultipart,
    /// Not well-formed: a part without `Content-Disposition: form-data`
    /// and a name, a field that is not UTF-8, a body cut short.
    #[error("malformed multipart/form-data: {0}")]
    Malformed(&'static str),
    /// More than [`MAX_FORM_HEAD`] bytes or [`MAX_FIELDS`] fields before
    /// the file.
    #[error("the fields before the file are too large")]
    HeadTooLarge,
    /// Reading the body failed.
    #[error("reading the body: {0}")]
    Body(#[source] std::io::Error),
}

/// The boundary named by a `Content-Type` of `multipart/form-data`.
pub fn boundary_of(content_type: &str) -> Result<String, FormError> {
    let mut params = content_type.split(';');
    let kind = params.next().unwrap_or_default().trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return Err(FormError::NotMultipart);
    }
    let boundary = params
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .ok_or(FormError::NotMultipart)?;
    let printable = boundary.bytes().all(|b| (b' '..=b'~').contains(&b));
    if boundary.is_empty() || boundary.len() > MAX_BOUNDARY || !printable {
        return Err(FormError::NotMultipart);
    }
    Ok(boundary)
}

/// A field before the file: its name (as sent) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    pub name: String,
    pub value: String,
}

/// The file part's head.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileHead {
    /// `filename` of its `Content-Disposition` (S3's `${filename}`).
    pub filename: Option<String>,
    /// Its own `Content-Type`.
    pub content_type: Option<String>,
}

/// What precedes the file: the fields, and the file's head, if a part
/// named `file` came before the form ended.
#[derive(Debug, Default)]
pub struct FormHead {
    pub fields: Vec<FormField>,
    pub file: Option<FileHead>,
}

/// A form being read from `S`.
pub struct FormReader<S> {
    stream: S,
    buf: BytesMut,
    finder: Finder<'static>,
    /// Bytes of the body read so far.
    read: usize,
    eof: bool,
}

impl<S> FormReader<S>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
{
    pub fn new(stream: S, boundary: &str) -> Self {
        let delimiter = format!("\r\n--{boundary}").into_bytes();
        let mut buf = BytesMut::with_capacity(8 * 1024);
        buf.extend_from_slice(b"\r\n");
        FormReader {
            stream,
            buf,
            finder: Finder::new(&delimiter).into_owned(),
            read: 0,
            eof: false,
        }
    }

    fn delimiter_len(&self) -> usize {
        self.finder.needle().len()
    }

    /// Reads more of the body into the buffer; false at its end.
    async fn fill(&mut self) -> Result<bool, FormError> {
        if self.eof {
            return Ok(false);
        }
        match self.stream.next().await {
            Some(Ok(data)) => {
                self.read += data.len();
                self.buf.extend_from_slice(&data);
                Ok(true)
            }
            Some(Err(e)) => Err(FormError::Body(e)),
            None => {
                self.eof = true;
                Ok(false)
            }
        }
    }

    /// [`Self::fill`], within [`MAX_FORM_HEAD`] bytes of the body.
    async fn fill_head(&mut self) -> Result<bool, FormError> {
        let more = self.fill().await?;
        if self.read > MAX_FORM_HEAD {
            return Err(FormError::HeadTooLarge);
        }
        Ok(more)
    }

    /// The position of the next delimiter in the buffer, reading on.
    async fn find_delimiter(&mut self) -> Result<usize, FormError> {
        let mut from = 0;
        loop {
            if let Some(i) = self.finder.find(&self.buf[from..]) {
                return Ok(from + i);
            }
            from = self.buf.len().saturating_sub(self.delimiter_len() - 1);
            if !self.fill_head().await? {
                return Err(FormError::Malformed("the body ends inside the form"));
            }
        }
    }

    /// Reads the fields up to the file part (named `file`) and its head.
    pub async fn read_head(&mut self) -> Result<FormHead, FormError> {
        let mut head = FormHead::default();
        // The preamble, if any, up to the first delimiter.
        let first = self.find_delimiter().await?;
        self.buf.advance(first + self.delimiter_len());
        loop {
            // After a delimiter: `--` ends the form, else CRLF (after
            // optional spaces) opens a part.
            while self.buf.len() < 2 {
                if !self.fill_head().await? {
                    return Err(FormError::Malformed("the body ends after a delimiter"));
                }
            }
            if self.buf.starts_with(b"--") {
                return Ok(head);
            }
            let headers = self.part_headers().await?;
            let (name, filename, content_type) = parse_part_headers(&headers)?;
            if name == "file" {
                head.file = Some(FileHead {
                    filename,
                    content_type,
                });
                return Ok(head);
            }
            let end = self.find_delimiter().await?;
            let value = std::str::from_utf8(&self.buf[..end])
                .map_err(|_| FormError::Malformed("a field is not UTF-8"))?
                .to_owned();
            self.buf.advance(end + self.delimiter_len());
            if head.fields.len() == MAX_FIELDS {
                return Err(FormError::HeadTooLarge);
            }
            head.fields.push(FormField { name, value });
        }
    }

    /// The header lines of the part that starts in the buffer (after its
    /// delimiter), consumed with the blank line that ends them.
    async fn part_headers(&mut self) -> Result<String, FormError> {
        loop {
            // Transport padding, then the CRLF that ends the delimiter line.
            let line_end = self.buf.windows(2).position(|w| w == b"\r\n");
            if let Some(eol) = line_end {
                if !self.buf[..eol].iter().all(|b| *b == b' ' || *b == b'\t') {
                    return Err(FormError::Malformed("junk after a delimiter"));
                }
                let rest = &self.buf[eol + 2..];
                // No headers at all: the blank line follows at once.
                if rest.starts_with(b"\r\n") {
                    self.buf.advance(eol + 4);
                    return Ok(String::new());
                }
                if let Some(end) = memchr::memmem::find(rest, b"\r\n\r\n") {
                    let text = std::str::from_utf8(&rest[..end])
                        .map_err(|_| FormError::Malformed("part headers are not UTF-8"))?
                        .to_owned();
                    self.buf.advance(eol + 2 + end + 4);
                    return Ok(text);
                }
            }
            if !self.fill_head().await? {
                return Err(FormError::Malformed("the body ends inside part headers"));
            }
        }
    }

    /// The file's bytes, up to the delimiter that ends its part. The body
    /// ending before that delimiter is an error: the upload was cut.
    pub fn into_file(self) -> impl Stream<Item = Result<Bytes, FormError>> + Send + Unpin
    where
        S: Send + 'static,
    {
        Box::pin(futures_util::stream::unfold(
            (self, false),
            |(mut r, done)| async move {
                if done {
                    return None;
                }
                loop {
                    if let Some(i) = r.finder.find(&r.buf) {
                        let data = r.buf.split_to(i).freeze();
                        return Some((Ok(data), (r, true)));
                    }
                    // Everything but what could be the delimiter's start.
                    let keep = r.delimiter_len() - 1;
                    if r.buf.len() > keep && r.buf.len() >= 64 * 1024 {
                        let data = r.buf.split_to(r.buf.len() - keep).freeze();
                        return Some((Ok(data), (r, false)));
                    }
                    match r.fill().await {
                        Ok(true) => {}
                        Ok(false) => {
                            let e = FormError::Malformed("the body ends inside the file");
                            return Some((Err(e), (r, true)));
                        }
                        Err(e) => return Some((Err(e), (r, true))),
                    }
                }
            },
        ))
    }
}

/// The part's field name, and for a file its `filename` and type, from its
/// header lines. A part must say `Content-Disposition: form-data` with a
/// name.
fn parse_part_headers(
    headers: &str,
) -> Result<(String, Option<String>, Option<String>), FormError> {
    let mut disposition = None;
    let mut content_type = None;
    for line in headers.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or(FormError::Malformed("a part header without a colon"))?;
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-disposition") {
            disposition = Some(value.trim());
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    let disposition = disposition.ok_or(FormError::Malformed("a part without a disposition"))?;
    let (kind, params) = disposition.split_once(';').unwrap_or((disposition, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(FormError::Malformed("a part that is not form-data"));
    }
    let params = disposition_params(params);
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    let name = get("name").ok_or(FormError::Malformed("a part without a name"))?;
    Ok((name, get("filename"), content_type))
}

/// The `key=value` parameters of a disposition, values quoted (with
/// backslash escapes) or not.
fn disposition_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim_start_matches([' ', ';']);
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().to_owned();
        let after = after.trim_start();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, next)) = chars.next() {
                                value.push(next);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                (value, &quoted[end.min(quoted.len())..])
            }
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            }
        };
        out.push((key, value));
        rest = tail.trim_start_matches([' ', ';']);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body split into pieces of `size` bytes.
    fn stream_of(
        body: &[u8],
        size: usize,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send + 'static {
        let pieces: Vec<Result<Bytes, std::io::Error>> = body
            .chunks(size.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(pieces)
    }

    fn form(fields: &[(&str, &str)], file: &[u8], after: &str) -> Vec<u8> {
        let mut b = Vec::new();
        for (k, v) in fields {
            b.extend_from_slice(
                format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                    .as_bytes(),
            );
        }
        b.extend_from_slice(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n\
              Content-Type: text/plain\r\n\r\n",
        );
        b.extend_from_slice(file);
        b.extend_from_slice(format!("\r\n--XyZ{after}").as_bytes());
        b
    }

    async fn read_all(body: &[u8], piece: usize) -> Result<(FormHead, Vec<u8>), FormError> {
        let mut r = FormReader::new(stream_of(body, piece), "XyZ");
        let head = r.read_head().await?;
        let mut file = Vec::new();
        if head.file.is_some() {
            let mut s = r.into_file();
            while let Some(piece) = s.next().await {
                file.extend_from_slice(&piece?);
            }
        }
        Ok((head, file))
    }

    #[test]
    fn boundaries_come_from_the_content_type() {
        assert_eq!(
            boundary_of("multipart/form-data; boundary=----WebKitFormBoundaryA1").unwrap(),
            "----WebKitFormBoundaryA1"
        );
        assert_eq!(
            boundary_of("Multipart/Form-Data;boundary=\"a b\"").unwrap(),
            "a b"
        );
        for bad in [
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/mixed; boundary=x",
        ] {
            assert!(boundary_of(bad).is_err(), "{bad}");
        }
        assert!(boundary_of(&format!("multipart/form-data; boundary={}", "b".repeat(71))).is_err());
    }

    #[tokio::test]
    async fn fields_then_the_file_whatever_the_pieces() {
        // The file holds the starts of delimiters (a sender picks a
        // boundary its data does not hold whole).
        let file = b"line one\r\n--XyY\r\n--Xy\r\n-\r\nend\r".repeat(50);
        let body = form(
            &[
                ("key", "uploads/${filename}"),
                ("Policy", "eyJ4IjoxfQ=="),
                ("x-amz-meta-a", ""),
            ],
            &file,
            "\r\nContent-Disposition: form-data; name=\"ignored\"\r\n\r\nlater\r\n--XyZ--\r\n",
        );
        for piece in [1, 2, 3, 7, 64, 1000, body.len()] {
            let (head, got) = read_all(&body, piece).await.expect("well-formed");
            let names: Vec<_> = head
                .fields
                .iter()
                .map(|f| (f.name.as_str(), f.value.as_str()))
                .collect();
            assert_eq!(
                names,
                [
                    ("key", "uploads/${filename}"),
                    ("Policy", "eyJ4IjoxfQ=="),
                    ("x-amz-meta-a", "")
                ],
                "pieces of {piece}"
            );
            let f = head.file.expect("file");
            assert_eq!(f.filename.as_deref(), Some("a \"b\".txt"));
            assert_eq!(f.content_type.as_deref(), Some("text/plain"));
            assert_eq!(got, file, "pieces of {piece}");
        }
    }

    #[tokio::test]
    async fn an_empty_file_and_a_preamble() {
        let mut body = b"preamble text\r\n".to_vec();
        body.extend(form(&[("key", "k")], b"", "--\r\n"));
        let (head, got) = read_all(&body, 5).await.expect("well-formed");
        assert_eq!(head.fields.len(), 1);
        assert!(head.file.is_some());
        assert!(got.is_empty());
    }

    #[tokio::test]
    async fn what_is_not_well_formed_is_refused() {
        let cut = {
            let mut b = form(&[("key", "k")], b"data", "--");
            b.truncate(b.len() - 9);
            b
        };
        assert!(matches!(
            read_all(&cut, 4).await,
            Err(FormError::Malformed("the body ends inside the file"))
        ));
        let no_file =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--XyZ--\r\n";
        let (head, _) = read_all(no_file, 3).await.expect("a form without a file");
        assert!(head.file.is_none());
        for bad in [
            &b"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--"[..],
            b"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--XyZ--",
            b"--XyZjunk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nnever ends",
            b"no delimiter at all",
        ] {
            assert!(
                matches!(read_all(bad, 2).await, Err(FormError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[tokio::test]
    async fn the_fields_before_the_file_are_bounded() {
        let big = "v".repeat(MAX_FORM_HEAD);
        let body = form(&[("key", &big)], b"x", "--");
        assert!(matches!(
            read_all(&body, 4096).await,
            Err(FormError::HeadTooLarge)
        ));
        let many: Vec<(String, String)> = (0..=MAX_FIELDS)
            .map(|i| (format!("f{i}"), String::new()))
            .collect();
        let refs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = form(&refs, b"x", "--");
        assert!(matches!(
            read_all(&body, 4096).await,
            Err(FormError::HeadTooLarge)
        ));
    }
}
