//! The glue layer's `tracing` events, compiled out unless the `tracing` feature is on.

/// Emits a `tracing` event at `$level` (`debug`, `info`, `warn`, …) with the feature on;
/// nothing, not even its arguments' evaluation, with it off.
macro_rules! event {
    ($level:ident, $($arg:tt)*) => {{
        #[cfg(feature = "tracing")]
        {
            ::tracing::$level!(target: "mcp_sse", $($arg)*);
        }
    }};
}

pub(crate) use event;
