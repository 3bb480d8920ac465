//! smol driver for `mcp-sse`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
