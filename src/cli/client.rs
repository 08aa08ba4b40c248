//! [`AdminClient`]: the gateway's admin API (v1, under `/_s3gw/admin/v1/`) as typed
//! calls, each one signed request whose JSON answer is returned as is.
//!
//! Owns the paths and bodies of the admin API and turning an answer into
//! `Ok(json)` or an [`AdminError`]. Signing is `sign.rs`, the connection
//! `transport.rs`; printing is the caller's.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Method, Request};
use http_body_util::Full;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::auth::sigv4::uri_encode;
use crate::auth::SecretKey;
use crate::cli::error::{AdminError, INVALID_INPUT, INVALID_RESPONSE};
use crate::cli::sign::{sign_request, Credentials};
use crate::cli::transport::{Endpoint, Transport};

/// The path prefix of every admin request.
const PREFIX: &str = "/_s3gw/admin/v1";

/// A client of one gateway's admin API, signing as one key (the root pair
/// or a key with `admin: true`). `Debug` never shows the secret.
#[derive(Clone)]
pub struct AdminClient {
    transport: Transport,
    creds: Credentials,
    region: String,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("endpoint", &self.transport.endpoint().url)
            .field("creds", &self.creds)
            .field("region", &self.region)
            .finish()
    }
}

impl AdminClient {
    /// A client of the gateway at `endpoint` (`http(s)://host[:port]`),
    /// signing for `region`. Fails on a malformed endpoint, or for https
    /// when no root certificate can be loaded.
    pub fn new(
        endpoint: &str,
        access_key: &str,
        secret: &str,
        region: &str,
    ) -> Result<Self, AdminError> {
        Ok(Self {
            transport: Transport::new(Endpoint::parse(endpoint)?)?,
            creds: Credentials {
                access_key: access_key.to_owned(),
                secret: SecretKey::new(secret.to_owned()),
            },
            region: region.to_owned(),
        })
    }

    /// `POST /keys`: the new key object with its `secret_access_key`.
    pub async fn create_key(
        &self,
        name: &str,
        create_bucket: bool,
        admin: bool,
    ) -> Result<Value, AdminError> {
        let body = json!({"name": name, "create_bucket": create_bucket, "admin": admin});
        self.call(Method::POST, format!("{PREFIX}/keys"), Some(body))
            .await
    }

    /// `GET /keys`: `{"keys": [key object, ...]}`.
    pub async fn list_keys(&self) -> Result<Value, AdminError> {
        self.call(Method::GET, format!("{PREFIX}/keys"), None).await
    }

    /// `GET /keys/{id}`: the key object with its `buckets`.
    pub async fn key_info(&self, access_key_id: &str) -> Result<Value, AdminError> {
        let path = format!("{PREFIX}/keys/{}", segment(access_key_id));
        self.call(Method::GET, path, None).await
    }

    /// `DELETE /keys/{id}`: `Value::Null` (the answer is a 204).
    pub async fn delete_key(&self, access_key_id: &str) -> Result<Value, AdminError> {
        let path = format!("{PREFIX}/keys/{}", segment(access_key_id));
        self.call(Method::DELETE, path, None).await
    }

    /// `POST /buckets/{bucket}/allow`: adds the permissions set to true;
    /// the bucket object.
    pub async fn allow(
        &self,
        bucket: &str,
        access_key_id: &str,
        read: bool,
        write: bool,
        owner: bool,
    ) -> Result<Value, AdminError> {
        self.grant("allow", bucket, access_key_id, [read, write, owner])
            .await
    }

    /// `POST /buckets/{bucket}/deny`: removes the permissions set to true;
    /// the bucket object.
    pub async fn deny(
        &self,
        bucket: &str,
        access_key_id: &str,
        read: bool,
        write: bool,
        owner: bool,
    ) -> Result<Value, AdminError> {
        self.grant("deny", bucket, access_key_id, [read, write, owner])
            .await
    }

    /// `GET /buckets/{bucket}`: grants, policy, object count and bytes.
    pub async fn bucket_info(&self, bucket: &str) -> Result<Value, AdminError> {
        let path = format!("{PREFIX}/buckets/{}", segment(bucket));
        self.call(Method::GET, path, None).await
    }

    async fn grant(
        &self,
        verb: &str,
        bucket: &str,
        access_key_id: &str,
        [read, write, owner]: [bool; 3],
    ) -> Result<Value, AdminError> {
        let path = format!("{PREFIX}/buckets/{}/{verb}", segment(bucket));
        let body =
            json!({"access_key_id": access_key_id, "read": read, "write": write, "owner": owner});
        self.call(Method::POST, path, Some(body)).await
    }

    /// Signs and sends one request; the JSON answer of a 2xx (`Null` for
    /// an empty one), else the error it carries.
    async fn call(
        &self,
        method: Method,
        path: String,
        body: Option<Value>,
    ) -> Result<Value, AdminError> {
        let ep = self.transport.endpoint();
        let body = body.map_or_else(Bytes::new, |v| Bytes::from(v.to_string()));
        let signed = sign_request(
            method.as_str(),
            &path,
            &ep.authority,
            &body,
            &self.creds,
            &self.region,
            OffsetDateTime::now_utc(),
        );
        let mut req = Request::builder()
            .method(method)
            .uri(&path)
            .header(HOST, &ep.authority)
            .header("x-amz-date", &signed.amz_date)
            .header("x-amz-content-sha256", &signed.content_sha256)
            .header(AUTHORIZATION, &signed.authorization);
        if !body.is_empty() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        let req = req.body(Full::new(body)).map_err(|_| {
            AdminError::local(
                INVALID_INPUT,
                format!(
                    "cannot build the request for {path}: AWS_ACCESS_KEY_ID or --region holds \
                     characters that cannot go in a header"
                ),
            )
        })?;
        let reply = self.transport.send(req).await?;
        let status = reply.status.as_u16();
        if !reply.status.is_success() {
            return Err(AdminError::from_response(status, &reply.body, &ep.url));
        }
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&reply.body).map_err(|e| {
            let message = format!(
                "{} answered HTTP {status} with a body that is not JSON ({e}): is it the \
                 gateway's S3 listener?",
                ep.url
            );
            AdminError::answered(status, INVALID_RESPONSE, message)
        })
    }
}

/// One path segment (a bucket name or an access key id), UriEncoded.
fn segment(value: &str) -> String {
    uri_encode(value, true)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
