//! The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`. It is
//! maintained by hand beside docs/api.md; a test holds its paths and methods
//! to the router's route table ([`crate::routes::table`]), so neither can
//! drift from the other.

/// The document (JSON).
pub const DOCUMENT: &str = include_str!("openapi.json");
