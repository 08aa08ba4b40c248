//! Request and response bodies, (de)serialized with quick-xml's serde
//! support. No XML is written by hand anywhere else.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::types::{ChecksumAlgorithm, ChecksumType};

pub(crate) const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Serializes a response body with the XML declaration.
pub fn to_xml<T: Serialize>(value: &T) -> Result<String, quick_xml::SeError> {
    let mut out = String::from(DECL);
    out.push_str(&escape_cr(quick_xml::se::to_string(value)?));
    Ok(out)
}

/// Whether `c` must be written as a character reference in text: CR,
/// which every reader turns into a line feed when it stands raw, NEL and
/// LINE SEPARATOR (the same for readers of XML 1.1 line ends, quick-xml's
/// among them), and the characters XML 1.0 cannot carry raw at all (C0
/// controls but tab and line feed, U+FFFE, U+FFFF), which S3 writes as
/// references too (a listing prefix of `\x01` is echoed as one).
fn needs_reference(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{B}'
            | '\u{C}'
            | '\r'
            | '\u{E}'..='\u{1F}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{FFFE}'
            | '\u{FFFF}'
    )
}

/// quick-xml writes these characters raw, so a key `a\rb` would reach the
/// client as `a\nb`. The serializer itself never emits them (no
/// indentation), so each one is content and becomes a character
/// reference, as S3 writes a CR.
fn escape_cr(xml: String) -> String {
    if !xml.contains(needs_reference) {
        return xml;
    }
    let mut out = String::with_capacity(xml.len() + 16);
    for c in xml.chars() {
        if needs_reference(c) {
            out.push_str(&format!("&#{};", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Like [`to_xml`], naming the root element (needed by flattened structs).
pub(crate) fn to_xml_root<T: Serialize>(
    root: &str,
    value: &T,
) -> Result<String, quick_xml::SeError> {
    let mut out = String::from(DECL);
    out.push_str(&escape_cr(quick_xml::se::to_string_with_root(root, value)?));
    Ok(out)
}

/// Whether the document's root element is named `name` (whatever its
/// namespace): serde does not check a root's name, and S3 refuses a
/// document of another kind as `MalformedXML`.
pub(crate) fn root_is(text: &str, name: &str) -> bool {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                return e.local_name().as_ref() == name.as_bytes();
            }
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// Parses a request body.
pub fn from_xml<T: DeserializeOwned>(body: &str) -> Result<T, quick_xml::DeError> {
    quick_xml::de::from_str(&keep_xml10_characters(body))
}

/// quick-xml's deserializer ends lines by XML 1.1's rules, which also turn
/// NEL (U+0085) and LINE SEPARATOR (U+2028) into a line feed; XML 1.0,
/// which S3 and its clients speak, keeps both as characters. A
/// DeleteObjects of the key `a\u{85}b` would then delete `a\nb`. So each is
/// rewritten as a character reference first, which no line-end rule
/// touches; inside a CDATA section, which takes no references, the section
/// is closed around the reference.
fn keep_xml10_characters(body: &str) -> Cow<'_, str> {
    const KEPT: [(char, &str); 2] = [('\u{85}', "&#133;"), ('\u{2028}', "&#8232;")];
    if !body.contains(KEPT.map(|(c, _)| c)) {
        return Cow::Borrowed(body);
    }
    let push = |out: &mut String, text: &str, in_cdata: bool| {
        for c in text.chars() {
            match KEPT.iter().find(|(raw, _)| *raw == c) {
                Some((_, reference)) if in_cdata => {
                    out.push_str("]]>");
                    out.push_str(reference);
                    out.push_str("<![CDATA[");
                }
                Some((_, reference)) => out.push_str(reference),
                None => out.push(c),
            }
        }
    };
    const OPEN: &str = "<![CDATA[";
    let mut out = String::with_capacity(body.len() + 32);
    let mut rest = body;
    while let Some(start) = rest.find(OPEN) {
        push(&mut out, &rest[..start], false);
        let section = &rest[start + OPEN.len()..];
        let Some(end) = section.find("]]>") else {
            // Unterminated: left as it is, for the parser to refuse.
            out.push_str(&rest[start..]);
            return Cow::Owned(out);
        };
        out.push_str(OPEN);
        push(&mut out, &section[..end], true);
        out.push_str("]]>");
        rest = &section[end + 3..];
    }
    push(&mut out, rest, false);
    Cow::Owned(out)
}

fn ns() -> &'static str {
    S3_NS
}

#[derive(Debug, Serialize)]
#[serde(rename = "Error", rename_all = "PascalCase")]
pub(crate) struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers_not_signed: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<&'a str>,
    pub request_id: &'a str,
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Owner {
    #[serde(rename = "ID")]
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename = "ListAllMyBucketsResult", rename_all = "PascalCase")]
pub(crate) struct ListAllMyBucketsResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub owner: Owner,
    pub buckets: BucketList,
    /// The token of the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    /// The `prefix` the request gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BucketList {
    pub bucket: Vec<BucketEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BucketEntry {
    pub name: String,
    pub creation_date: String,
    #[serde(rename = "BucketRegion")]
    pub region: String,
}

fn ser_ns<S: serde::Serializer>(_: &(), s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(ns())
}

#[derive(Debug, Serialize)]
#[serde(rename = "LocationConstraint")]
pub(crate) struct LocationConstraint {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    #[serde(rename = "$text")]
    pub region: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CreateBucketConfiguration {
    #[serde(default)]
    pub location_constraint: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename = "VersioningConfiguration")]
pub struct VersioningConfiguration {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    /// None while the bucket was never versioned.
    #[serde(rename = "Status", skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

/// The body of PutBucketVersioning.
#[derive(Debug, Deserialize)]
pub struct VersioningRequest {
    #[serde(rename = "Status", default)]
    pub status: Option<String>,
    #[serde(rename = "MfaDelete", default)]
    pub mfa_delete: Option<String>,
}

/// GetBucketTagging's and GetObjectTagging's answer.
#[derive(Debug, Serialize)]
#[serde(rename = "Tagging", rename_all = "PascalCase")]
pub struct Tagging {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub tag_set: TagList,
}

/// The body of PutBucketTagging: `<Tagging><TagSet><Tag>...`.
#[derive(Debug, Deserialize)]
pub struct TaggingRequest {
    #[serde(rename = "TagSet")]
    pub tag_set: TagList,
}

/// A `<TagSet>`: its `<Tag>` elements in document order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TagList {
    #[serde(rename = "Tag", default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// GetBucketPolicyStatus's answer.
#[derive(Debug, Serialize)]
#[serde(rename = "PolicyStatus", rename_all = "PascalCase")]
pub(crate) struct PolicyStatus {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub is_public: bool,
}

/// A configuration document with nothing set (`<BucketLoggingStatus/>`,
/// `<NotificationConfiguration/>`, `<AccelerateConfiguration/>`), written
/// under its root's name.
#[derive(Debug, Serialize)]
pub(crate) struct EmptyConfiguration {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
}

/// A listing of configurations with none in it (ListBucketAnalytics-,
/// Inventory-, Metrics- and IntelligentTieringConfigurations).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EmptyConfigurationList {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub is_truncated: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename = "RequestPaymentConfiguration", rename_all = "PascalCase")]
pub(crate) struct RequestPaymentConfiguration {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub payer: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename = "AccessControlPolicy", rename_all = "PascalCase")]
pub(crate) struct AccessControlPolicy {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub owner: Owner,
    #[serde(rename = "AccessControlList")]
    pub acl: AccessControlList,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccessControlList {
    pub grant: Vec<Grant>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Grant {
    pub grantee: Grantee,
    pub permission: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Grantee {
    #[serde(rename = "@xmlns:xsi")]
    pub xmlns_xsi: &'static str,
    #[serde(rename = "@xsi:type")]
    pub xsi_type: &'static str,
    #[serde(rename = "ID")]
    pub id: String,
    pub display_name: String,
}

/// One object in a listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListContents {
    pub key: String,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<ChecksumType>,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    pub storage_class: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CommonPrefix {
    pub prefix: String,
}

/// ListObjectVersions' answer: versions and delete markers in listing
/// order (`entries`), then the common prefixes.
#[derive(Debug, Serialize)]
#[serde(rename = "ListVersionsResult", rename_all = "PascalCase")]
pub(crate) struct ListVersionsResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub name: String,
    pub prefix: String,
    pub key_marker: String,
    pub version_id_marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_key_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_version_id_marker: Option<String>,
    pub max_keys: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    pub is_truncated: bool,
    #[serde(rename = "$value")]
    pub entries: Vec<VersionItem>,
    pub common_prefixes: Vec<CommonPrefix>,
}

/// One entry of ListObjectVersions: the element is named for the variant.
#[derive(Debug, Serialize)]
pub(crate) enum VersionItem {
    Version(ObjectVersion),
    DeleteMarker(DeleteMarkerEntry),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ObjectVersion {
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<ChecksumType>,
    pub size: u64,
    pub storage_class: &'static str,
    pub owner: Owner,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteMarkerEntry {
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    pub last_modified: String,
    pub owner: Owner,
}

/// What ListObjects (v1) and ListObjectsV2 both answer. The listings
/// flatten it, so they are written with [`to_xml_root`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListBucketHead {
    pub name: String,
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub max_keys: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    pub is_truncated: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename = "ListBucketResult", rename_all = "PascalCase")]
pub(crate) struct ListBucketResultV1 {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    #[serde(flatten)]
    pub head: ListBucketHead,
    pub marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub contents: Vec<ListContents>,
    pub common_prefixes: Vec<CommonPrefix>,
}

#[derive(Debug, Serialize)]
#[serde(rename = "ListBucketResult", rename_all = "PascalCase")]
pub(crate) struct ListBucketResultV2 {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    #[serde(flatten)]
    pub head: ListBucketHead,
    pub key_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    pub contents: Vec<ListContents>,
    pub common_prefixes: Vec<CommonPrefix>,
}

#[derive(Debug, Serialize)]
#[serde(rename = "CopyObjectResult", rename_all = "PascalCase")]
pub(crate) struct CopyObjectResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(flatten)]
    pub checksum: Checksums,
}

/// The `Checksum<ALG>` elements; at most one is set.
#[derive(Debug, Serialize, Default)]
pub(crate) struct Checksums {
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    pub kind: Option<ChecksumType>,
}

impl Checksums {
    /// One checksum: its algorithm, base64 value and type.
    pub(crate) fn one(algorithm: ChecksumAlgorithm, value: &str, kind: ChecksumType) -> Checksums {
        let mut c = Checksums {
            kind: Some(kind),
            ..Default::default()
        };
        let v = Some(value.to_owned());
        match algorithm {
            ChecksumAlgorithm::Crc32 => c.crc32 = v,
            ChecksumAlgorithm::Crc32c => c.crc32c = v,
            ChecksumAlgorithm::Crc64Nvme => c.crc64nvme = v,
            ChecksumAlgorithm::Sha1 => c.sha1 = v,
            ChecksumAlgorithm::Sha256 => c.sha256 = v,
        }
        c
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Delete {
    #[serde(default)]
    pub quiet: Option<bool>,
    #[serde(rename = "Object", default)]
    pub objects: Vec<DeleteObjectId>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteObjectId {
    pub key: String,
    #[serde(default)]
    pub version_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename = "DeleteResult", rename_all = "PascalCase")]
pub struct DeleteResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub deleted: Vec<Deleted>,
    #[serde(rename = "Error")]
    pub errors: Vec<DeleteError>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deleted {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_marker_version_id: Option<String>,
}

#[cfg(test)]
impl Deleted {
    fn of_key(key: String) -> Deleted {
        Deleted {
            key,
            version_id: None,
            delete_marker: false,
            delete_marker_version_id: None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteError {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename = "InitiateMultipartUploadResult", rename_all = "PascalCase")]
pub(crate) struct InitiateMultipartUploadResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

/// The body of CompleteMultipartUpload.
#[derive(Debug, Deserialize)]
pub struct CompleteMultipartUpload {
    #[serde(rename = "Part", default)]
    pub parts: Vec<CompletedPart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompletedPart {
    pub part_number: u32,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(rename = "ChecksumCRC32", default)]
    pub crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", default)]
    pub crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", default)]
    pub crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", default)]
    pub sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", default)]
    pub sha256: Option<String>,
}

impl CompletedPart {
    /// The checksum the client listed for this part, if any.
    pub(crate) fn checksum(&self) -> Option<&str> {
        [
            &self.crc32,
            &self.crc32c,
            &self.crc64nvme,
            &self.sha1,
            &self.sha256,
        ]
        .into_iter()
        .find_map(|c| c.as_deref())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CompleteMultipartUploadResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub location: String,
    pub bucket: String,
    pub key: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(flatten)]
    pub checksum: Checksums,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CopyPartResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(flatten)]
    pub checksum: Checksums,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListedPart {
    pub part_number: u32,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub size: u64,
    #[serde(flatten)]
    pub checksum: Checksums,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPartsResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_number_marker: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_part_number_marker: Option<u32>,
    pub max_parts: usize,
    pub is_truncated: bool,
    pub initiator: Owner,
    pub owner: Owner,
    pub storage_class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<ChecksumType>,
    #[serde(rename = "Part")]
    pub parts: Vec<ListedPart>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListedUpload {
    pub key: String,
    pub upload_id: String,
    pub initiator: Owner,
    pub owner: Owner,
    pub storage_class: &'static str,
    pub initiated: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<ChecksumType>,
}

#[derive(Debug, Serialize)]
#[serde(rename = "ListMultipartUploadsResult", rename_all = "PascalCase")]
pub(crate) struct ListMultipartUploadsResult {
    #[serde(rename = "@xmlns", serialize_with = "ser_ns")]
    pub xmlns: (),
    pub bucket: String,
    pub key_marker: String,
    pub upload_id_marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_key_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_upload_id_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub prefix: String,
    pub max_uploads: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    pub is_truncated: bool,
    #[serde(rename = "Upload")]
    pub uploads: Vec<ListedUpload>,
    pub common_prefixes: Vec<CommonPrefix>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_shape() {
        let xml = to_xml(&ErrorBody {
            code: "NoSuchKey",
            message: "gone <&>",
            resource: Some("/b/k"),
            headers_not_signed: None,
            region: None,
            request_id: "R1",
        })
        .unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"));
        assert!(xml.contains("<Code>NoSuchKey</Code>"));
        assert!(xml.contains("<Message>gone &lt;&amp;&gt;</Message>"));
        assert!(xml.contains("<Resource>/b/k</Resource><RequestId>R1</RequestId></Error>"));
        let xml = to_xml(&ErrorBody {
            code: "AccessDenied",
            message: "m",
            resource: None,
            headers_not_signed: Some("x-amz-copy-source, x-amz-meta-a"),
            region: Some("eu-west-1"),
            request_id: "R2",
        })
        .unwrap();
        assert!(xml.contains(
            "<HeadersNotSigned>x-amz-copy-source, x-amz-meta-a</HeadersNotSigned>\
             <Region>eu-west-1</Region><RequestId>R2</RequestId>"
        ));
    }

    #[test]
    fn list_v2_shape() {
        let head = || ListBucketHead {
            name: "b".into(),
            prefix: String::new(),
            delimiter: Some("/".into()),
            max_keys: 1000,
            encoding_type: Some("url"),
            is_truncated: false,
        };
        let xml = to_xml_root(
            "ListBucketResult",
            &ListBucketResultV2 {
                xmlns: (),
                head: head(),
                key_count: 2,
                continuation_token: None,
                next_continuation_token: None,
                start_after: None,
                contents: vec![ListContents {
                    key: "a".into(),
                    last_modified: "2009-10-12T17:50:30.000Z".into(),
                    etag: "\"x\"".into(),
                    checksum_algorithm: None,
                    checksum_type: None,
                    size: 3,
                    owner: None,
                    storage_class: "STANDARD",
                }],
                common_prefixes: vec![CommonPrefix {
                    prefix: "d/".into(),
                }],
            },
        )
        .unwrap();
        assert!(xml.contains(&format!("<ListBucketResult xmlns=\"{S3_NS}\">")));
        assert!(xml.contains("<Prefix></Prefix>") || xml.contains("<Prefix/>"));
        assert!(xml.contains(
            "<Name>b</Name><Prefix/><Delimiter>/</Delimiter><MaxKeys>1000</MaxKeys>\
             <EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><KeyCount>2</KeyCount>"
        ), "{xml}");
        assert!(xml.contains("<Contents><Key>a</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>\"x\"</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>"), "{xml}");
        assert!(xml.contains("<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>"));
        assert!(!xml.contains("ContinuationToken"));
        let v1 = to_xml_root(
            "ListBucketResult",
            &ListBucketResultV1 {
                xmlns: (),
                head: head(),
                marker: "m".into(),
                next_marker: Some("n".into()),
                contents: vec![],
                common_prefixes: vec![],
            },
        )
        .unwrap();
        assert!(v1.ends_with(&format!(
            "<ListBucketResult xmlns=\"{S3_NS}\"><Name>b</Name><Prefix/><Delimiter>/</Delimiter>\
             <MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
             <Marker>m</Marker><NextMarker>n</NextMarker></ListBucketResult>"
        )), "{v1}");
    }

    #[test]
    fn location_constraint_text() {
        let xml = to_xml(&LocationConstraint {
            xmlns: (),
            region: "eu-west-1".into(),
        })
        .unwrap();
        assert!(xml.ends_with(&format!(
            "<LocationConstraint xmlns=\"{S3_NS}\">eu-west-1</LocationConstraint>"
        )));
    }

    #[test]
    fn parse_delete_request() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>
<Object><Key>a b</Key></Object><Object><Key>c&amp;d</Key><VersionId>null</VersionId></Object></Delete>"#;
        let d: Delete = from_xml(body).unwrap();
        assert_eq!(d.quiet, Some(true));
        assert_eq!(d.objects.len(), 2);
        assert_eq!(d.objects[1].key, "c&d");
        let d: Delete = from_xml("<Delete><Object><Key>x</Key></Object></Delete>").unwrap();
        assert_eq!(d.quiet, None);
        assert!(from_xml::<Delete>("<Delete><Object>").is_err());
    }

    /// Found by `fuzz/` (target xml): a key with a carriage return, which a
    /// DeleteObjects body can carry as `&#13;` (and a PUT as `%0D`), was
    /// echoed raw and read back by the client as a line feed.
    /// Found by `fuzz/` (target xml, 2026-12-03): a key with NEL (U+0085)
    /// came back from our own answer as a line feed, and a DeleteObjects
    /// naming it would have deleted another key.
    #[test]
    fn xml11_line_ends_in_a_key_stay_characters() {
        let key = "a\u{85}b\u{2028}c\r\u{85}d";
        let body = format!(
            "<Delete><Object><Key>{key}</Key></Object>\
             <Object><Key><![CDATA[{key}]]></Key></Object></Delete>"
        );
        let d: Delete = from_xml(&body).unwrap();
        // XML 1.0 turns the raw CR into LF, and keeps NEL and U+2028.
        let read = "a\u{85}b\u{2028}c\n\u{85}d";
        assert_eq!(d.objects[0].key, read);
        assert_eq!(d.objects[1].key, read);
        let out = to_xml(&DeleteResult {
            xmlns: (),
            deleted: vec![Deleted::of_key(key.into())],
            errors: vec![],
        })
        .unwrap();
        assert!(
            out.contains("<Key>a&#133;b&#8232;c&#13;&#133;d</Key>"),
            "{out}"
        );
        #[derive(Deserialize)]
        struct Echo {
            #[serde(rename = "Deleted")]
            deleted: Vec<DeleteObjectId>,
        }
        let back: Echo = from_xml(&out).unwrap();
        assert_eq!(back.deleted[0].key, key);
        assert!(from_xml::<Delete>("<Delete><Object><Key><![CDATA[\u{85}</Key>").is_err());
    }

    #[test]
    fn versions_and_markers_keep_their_order() {
        let owner = || Owner {
            id: "o".into(),
            display_name: "o".into(),
        };
        let marker = |key: &str| {
            VersionItem::DeleteMarker(DeleteMarkerEntry {
                key: key.into(),
                version_id: "null".into(),
                is_latest: true,
                last_modified: "t".into(),
                owner: owner(),
            })
        };
        let version = |key: &str| {
            VersionItem::Version(ObjectVersion {
                key: key.into(),
                version_id: "v".into(),
                is_latest: false,
                last_modified: "t".into(),
                etag: "\"e\"".into(),
                checksum_algorithm: None,
                checksum_type: None,
                size: 3,
                storage_class: "STANDARD",
                owner: owner(),
            })
        };
        let out = to_xml(&ListVersionsResult {
            xmlns: (),
            name: "b".into(),
            prefix: String::new(),
            key_marker: String::new(),
            version_id_marker: String::new(),
            next_key_marker: Some("b".into()),
            next_version_id_marker: Some("v".into()),
            max_keys: 3,
            delimiter: None,
            encoding_type: None,
            is_truncated: true,
            entries: vec![marker("a"), version("a"), marker("b")],
            common_prefixes: vec![CommonPrefix {
                prefix: "p/".into(),
            }],
        })
        .unwrap();
        let order: Vec<usize> = [
            "<DeleteMarker><Key>a",
            "<Version><Key>a",
            "<DeleteMarker><Key>b",
            "<CommonPrefixes>",
        ]
        .iter()
        .map(|tag| out.find(tag).unwrap_or_else(|| panic!("{tag} in {out}")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
        assert!(
            out.contains("<IsTruncated>true</IsTruncated><DeleteMarker>"),
            "{out}"
        );
        assert!(
            out.contains("<NextVersionIdMarker>v</NextVersionIdMarker>"),
            "{out}"
        );
        assert!(!out.contains("$value"), "{out}");
    }

    #[test]
    fn carriage_return_in_a_key_survives_the_answer() {
        let body = "<Delete><Object><Key>a&#13;b\r\nc</Key></Object></Delete>";
        let d: Delete = from_xml(body).unwrap();
        // A raw CR LF in the request is a line end (XML 1.0, 2.11).
        assert_eq!(d.objects[0].key, "a\rb\nc");
        let out = to_xml(&DeleteResult {
            xmlns: (),
            deleted: vec![Deleted::of_key(d.objects[0].key.clone())],
            errors: vec![],
        })
        .unwrap();
        assert!(out.contains("<Key>a&#13;b\nc</Key>"), "{out}");

        #[derive(Deserialize)]
        struct Echo {
            #[serde(rename = "Deleted")]
            deleted: Vec<DeleteObjectId>,
        }
        let back: Echo = from_xml(&out).unwrap();
        assert_eq!(back.deleted[0].key, "a\rb\nc");
        let listed = to_xml_root(
            "Contents",
            &CommonPrefix {
                prefix: "p\r".into(),
            },
        )
        .unwrap();
        assert!(listed.contains("p&#13;"), "{listed}");
    }

    #[test]
    fn parse_create_bucket_configuration() {
        let c: CreateBucketConfiguration = from_xml(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
        )
        .unwrap();
        assert_eq!(c.location_constraint.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn parse_complete_request_with_and_without_quotes() {
        let body = r#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Part><PartNumber>1</PartNumber><ETag>"aa"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
<Part><ETag>bb</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"#;
        let c: CompleteMultipartUpload = from_xml(body).unwrap();
        assert_eq!(c.parts.len(), 2);
        assert_eq!(c.parts[0].etag, "\"aa\"");
        assert_eq!(c.parts[0].checksum(), Some("AAAAAA=="));
        assert_eq!(c.parts[1].part_number, 2);
        assert_eq!(c.parts[1].checksum(), None);
        assert!(from_xml::<CompleteMultipartUpload>("<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>").is_err());
    }

    #[test]
    fn copy_result_with_checksum() {
        let xml = to_xml_root(
            "CopyObjectResult",
            &CopyObjectResult {
                xmlns: (),
                last_modified: "t".into(),
                etag: "\"e\"".into(),
                checksum: Checksums::one(
                    ChecksumAlgorithm::Crc32,
                    "AAAAAA==",
                    ChecksumType::FullObject,
                ),
            },
        )
        .unwrap();
        assert!(xml.contains(
            "<ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType>"
        ));
    }
}
