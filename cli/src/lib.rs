//! Library side of the `mcp-sse` binary: the demo server and client, and the commands.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod demo;
pub mod sse_decode;
pub mod transcript;
