//! Shared helpers for the mcp-sse test suites.
