//! Server-sent events (`text/event-stream`): decoder and encoder.
