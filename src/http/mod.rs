//! HTTP-level pieces below the handlers: the router, the head's limit,
//! typed header parsing, the response body type and the pace a request body is held to.

pub mod body;
pub mod form;
pub mod head;
pub mod headers;
pub mod pace;
pub mod query;
pub mod rfc2047;
pub mod router;

pub(crate) use body::ResponseBody;
pub(crate) use pace::BodyPace;
pub use query::Query;
pub use router::{AdminPath, BucketConfig, ConfigSet, Endpoint, GatewayPath, Route, Routed};
