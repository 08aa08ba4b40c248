//! HTTP-level pieces below the handlers: the router, typed header parsing
//! and the response body type.

pub mod body;
pub mod headers;
pub mod query;
pub mod router;

pub use body::ResponseBody;
pub use query::Query;
pub use router::{BucketConfig, Endpoint, Route};
