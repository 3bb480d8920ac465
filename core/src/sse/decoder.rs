//! Incremental `text/event-stream` decoder, exact to the WHATWG rules.
//!
//! # Rules
//!
//! The decoder follows *HTML Standard → Server-sent events → Interpreting an event stream*, with
//! the choices of the project's conformance vectors (`../shared/conformance/README.md`):
//!
//! * one leading UTF-8 BOM (EF BB BF) is stripped, only at byte 0, even when split across chunks;
//! * lines end at CRLF, at a lone CR or at a lone LF. A CR ends its line **at once** (a CR at the
//!   end of a chunk dispatches without waiting for the next chunk); an LF directly after it, even
//!   in the next chunk, is swallowed;
//! * text is decoded as lossy UTF-8 (one U+FFFD per maximal ill-formed subpart). Lines are split on
//!   the raw bytes and each value is decoded on its own, which gives the same result as decoding
//!   the whole stream first, because CR, LF and `:` are ASCII;
//! * `id` values containing U+0000 are ignored; `retry` accepts ASCII digits only and saturates at
//!   [`u64::MAX`]; empty `retry` values are ignored;
//! * an empty line commits the last event ID and dispatches if the data buffer is non-empty;
//! * at end of input the unterminated last line and the pending block are discarded.
//!
//! # Performance
//!
//! Lines are sliced out of the input [`Bytes`] without copying. While no line spans chunks, the
//! decoder runs a fast path over the chunk: an empty line dispatches without a search, the
//! `event: message` line is matched whole, the value of the first `data:` line of a block is
//! searched with `memchr2` and kept as a range of the chunk (so the event's data is one O(1)
//! slice, taken at dispatch), and other lines have their first 16 bytes searched eight at a
//! time in a register before falling back to `memchr2`. UTF-8 is checked once per window of the chunk
//! (`UTF8_CHECK_AHEAD`, 2 KiB past the current line, ASCII 256 bytes at a time); only lines in
//! a window with ill-formed UTF-8, and lines that span chunks, are checked on their own, and only
//! ill-formed input allocates. Only multi-line data and lines that span chunks are copied. An
//! [`Event`] is 40 bytes: its rarer fields sit behind one shared [`Arc`].
//!
//! # Limits and errors
//!
//! Two bounds are enforced ([`DecoderLimits`]): the length of one line (without its terminator)
//! and the size of the data buffer (the data values plus one LF per `data` line). When one is
//! exceeded [`Decoder::poll_item`] returns a [`DecodeError`] once, and then the decoder
//! **resynchronises**: it drops the offending line, the pending data and event type, and ignores
//! every further line up to and including the next empty line (that empty line still commits the
//! last event ID but dispatches nothing). Decoding then continues normally. The decoder never
//! buffers more than `max_line_bytes` of a partial line nor more than `max_event_bytes` of data.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

/// Default for [`DecoderLimits::max_line_bytes`]: 2 MiB.
///
/// Large enough for the conformance vectors' 1 MiB lines and for big MCP results
/// (a `message` event carries a whole JSON-RPC message on one `data:` line).
pub const DEFAULT_MAX_LINE_BYTES: usize = 2 * 1024 * 1024;

/// Default for [`DecoderLimits::max_event_bytes`]: 2 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 2 * 1024 * 1024;

/// The UTF-8 byte order mark.
static BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// How far past the current line [`Decoder`] checks a chunk for UTF-8 in one go.
const UTF8_CHECK_AHEAD: usize = 2048;

/// The line that sets the default event type, as servers usually write it.
const EVENT_MESSAGE_LINE: &[u8] = b"event: message";

/// Event type reported when the event type buffer is empty.
const DEFAULT_EVENT_TYPE: &[u8] = b"message";

/// Bounds on what a [`Decoder`] buffers.
///
/// ```
/// use mcp_sse_core::sse::{Decoder, DecoderLimits};
///
/// let limits = DecoderLimits { max_line_bytes: 64 * 1024, ..DecoderLimits::default() };
/// let decoder = Decoder::with_limits(limits);
/// assert_eq!(decoder.buffered_bytes(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Longest accepted line in bytes, not counting its terminator
    /// (default [`DEFAULT_MAX_LINE_BYTES`]). Longer lines give [`DecodeError::LineTooLong`].
    pub max_line_bytes: usize,
    /// Largest accepted data buffer in bytes: the decoded `data` values plus one LF per `data`
    /// line (default [`DEFAULT_MAX_EVENT_BYTES`]). Larger events give
    /// [`DecodeError::EventTooLarge`].
    pub max_event_bytes: usize,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// A limit was exceeded. The decoder stays usable: see the module docs ("Limits and errors").
///
/// ```
/// use bytes::Bytes;
/// use mcp_sse_core::sse::{DecodeError, Decoder, DecoderLimits};
///
/// let mut d = Decoder::with_limits(DecoderLimits { max_line_bytes: 8, max_event_bytes: 64 });
/// d.handle_bytes(Bytes::from_static(b"data: far too long\n\ndata: ok\n\n"));
/// assert_eq!(d.poll_item(), Err(DecodeError::LineTooLong { limit: 8 }));
/// // The decoder resynchronised at the blank line and goes on.
/// let item = d.poll_item().unwrap().unwrap();
/// assert!(matches!(item, mcp_sse_core::sse::Item::Event(ref e) if e.data() == "ok"));
/// ```
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A line was longer than [`DecoderLimits::max_line_bytes`].
    #[error("SSE line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// The data buffer would have grown beyond [`DecoderLimits::max_event_bytes`].
    #[error("SSE event data larger than {limit} bytes")]
    EventTooLarge {
        /// The limit in force.
        limit: usize,
    },
}

/// A dispatched event.
///
/// All strings are valid UTF-8 (ill-formed input was replaced by U+FFFD). Cloning is cheap: the
/// data is a reference-counted [`Bytes`], usually a slice of an input chunk, and the rarer
/// fields (a non-default type, an ID, a retry value) are shared behind one [`Arc`] that
/// consecutive events with the same fields reuse. The event is 40 bytes.
///
/// ```
/// use mcp_sse_core::sse::Event;
///
/// let e = Event::new("endpoint", "/messages/?session_id=ab", "", None);
/// assert_eq!(e.event_type(), "endpoint");
/// assert_eq!(Event::new("", "x", "", None).event_type(), "message");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Event {
    data: Bytes,
    /// `None` means type `"message"`, ID `""` and no retry (the common case costs nothing).
    meta: Option<Arc<Meta>>,
}

/// The fields of an [`Event`] other than its data; never all default (that is `meta: None`).
#[derive(Debug, PartialEq, Eq)]
struct Meta {
    /// `None` means `"message"`.
    event_type: Option<Bytes>,
    /// Empty means `""`.
    id: Bytes,
    retry: Option<u64>,
}

impl Event {
    /// Builds an event by hand (for tests and fakes). An empty `event_type` means `"message"`.
    pub fn new(event_type: &str, data: &str, last_event_id: &str, retry: Option<u64>) -> Self {
        let event_type = (!event_type.is_empty() && event_type.as_bytes() != DEFAULT_EVENT_TYPE)
            .then(|| Bytes::copy_from_slice(event_type.as_bytes()));
        let meta =
            (event_type.is_some() || !last_event_id.is_empty() || retry.is_some()).then(|| {
                Arc::new(Meta {
                    event_type,
                    id: Bytes::copy_from_slice(last_event_id.as_bytes()),
                    retry,
                })
            });
        Self {
            data: Bytes::copy_from_slice(data.as_bytes()),
            meta,
        }
    }

    /// The event type: the last `event` field of the block, or `"message"` if it was empty.
    pub fn event_type(&self) -> &str {
        self.meta
            .as_ref()
            .and_then(|m| m.event_type.as_ref())
            .map_or("message", as_str)
    }

    /// The data: the `data` values joined with LF (no trailing LF).
    ///
    /// This re-checks UTF-8 (O(len), no copy) because the crate has no `unsafe`; use
    /// [`Event::data_bytes`] when raw bytes will do.
    pub fn data(&self) -> &str {
        as_str(&self.data)
    }

    /// The same bytes as [`Event::data`] (guaranteed UTF-8), as a cheap reference-counted clone.
    pub fn data_bytes(&self) -> Bytes {
        self.data.clone()
    }

    /// The last event ID buffer at dispatch (`""` if no `id` field has set it).
    pub fn last_event_id(&self) -> &str {
        self.meta.as_ref().map_or("", |m| as_str(&m.id))
    }

    /// The last valid `retry` value seen since the previous dispatched event (or the start of the
    /// stream), if any. Each valid `retry` field is reported on at most one event.
    pub fn retry(&self) -> Option<u64> {
        self.meta.as_ref().and_then(|m| m.retry)
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type())
            .field("data", &self.data())
            .field("last_event_id", &self.last_event_id())
            .field("retry", &self.retry())
            .finish()
    }
}

/// One thing the decoder produced.
///
/// ```
/// use bytes::Bytes;
/// use mcp_sse_core::sse::{Decoder, Item};
///
/// let mut d = Decoder::new();
/// d.handle_bytes(Bytes::from_static(b": ping - 2026-11-24 00:26:49.932501+00:00\r\n\r\n"));
/// match d.poll_item() {
///     Ok(Some(Item::Comment(text))) => assert_eq!(&text[..], b"ping - 2026-11-24 00:26:49.932501+00:00"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A dispatched event.
    Event(Event),
    /// A comment line: the text after the `:`, with one leading U+0020 SPACE removed (as for field
    /// values), lossily decoded, so always valid UTF-8. Comments never affect events.
    Comment(Bytes),
}

/// The data buffer, kept in the cheapest representation.
#[derive(Debug, Default)]
enum DataBuf {
    /// No `data` line yet.
    #[default]
    Empty,
    /// Exactly one `data` line whose value, valid UTF-8, is `cur[start..end]` of the decoder's
    /// current chunk (turned into [`DataBuf::Single`] before the decoder moves to another chunk).
    InChunk {
        /// Start of the value in the chunk.
        start: usize,
        /// End of the value in the chunk.
        end: usize,
    },
    /// Exactly one `data` line; holds its value without the LF (zero-copy when possible).
    Single(Bytes),
    /// Two or more `data` lines; holds the values, each followed by LF.
    Multi(BytesMut),
}

impl DataBuf {
    /// Size of the data buffer as the Standard counts it (values plus one LF per line).
    fn len(&self) -> usize {
        match self {
            DataBuf::Empty => 0,
            DataBuf::InChunk { start, end } => end - start + 1,
            DataBuf::Single(b) => b.len() + 1,
            DataBuf::Multi(m) => m.len(),
        }
    }

    /// Turns [`DataBuf::InChunk`] (a range of `cur`) into [`DataBuf::Single`].
    fn detach(&mut self, cur: &Bytes) {
        if let DataBuf::InChunk { start, end } = *self {
            *self = DataBuf::Single(cur.slice(start..end));
        }
    }
}

/// The per-block parser state (everything except input buffering).
///
/// Methods that take `cur` get the decoder's current chunk, which a [`DataBuf::InChunk`] data
/// buffer refers to.
#[derive(Debug, Default)]
struct Block {
    /// The event type buffer; `None` when empty or `"message"` (they dispatch alike).
    event_type: Option<Bytes>,
    data: DataBuf,
    /// The live last event ID buffer.
    id: Bytes,
    /// The last event ID string committed by the last empty line.
    committed_id: Bytes,
    /// `id` changed since it was last committed.
    id_dirty: bool,
    /// Valid retry seen since the last dispatched event.
    pending_retry: Option<u64>,
    /// Last valid retry overall.
    retry: Option<u64>,
    /// Resynchronising after an error: ignore lines up to the next empty line.
    discard: bool,
    /// The [`Meta`] of the last dispatched event that had one, reused while the fields stay equal.
    last_meta: Option<Arc<Meta>>,
}

impl Block {
    /// Drops the pending event and ignores lines until the next empty line.
    fn start_discard(&mut self) {
        self.discard = true;
        self.data = DataBuf::Empty;
        self.event_type = None;
    }

    /// Processes one complete line (without terminator). `src` is a `Bytes` containing `line`,
    /// used to slice values without copying. `valid` means `line` is known to be UTF-8.
    #[inline(always)]
    fn line(
        &mut self,
        line: &[u8],
        src: &Bytes,
        valid: bool,
        cur: &Bytes,
        max_event_bytes: usize,
    ) -> Result<Option<Item>, DecodeError> {
        if line.is_empty() {
            return Ok(self.dispatch(cur));
        }
        self.field(line, src, valid, cur, max_event_bytes)
    }

    /// Processes one complete non-empty line (see [`Block::line`]).
    #[inline(always)]
    fn field(
        &mut self,
        line: &[u8],
        src: &Bytes,
        valid: bool,
        cur: &Bytes,
        max_event_bytes: usize,
    ) -> Result<Option<Item>, DecodeError> {
        if self.discard {
            return Ok(None);
        }
        // `data:` and `event:` lines skip the search for the colon.
        if let Some(v) = line.strip_prefix(b"data:") {
            self.data_value(strip_space(v), src, valid, cur, max_event_bytes)?;
            return Ok(None);
        }
        if let Some(v) = line.strip_prefix(b"event:") {
            self.event_value(strip_space(v), src, valid);
            return Ok(None);
        }
        let (name, value): (&[u8], &[u8]) = match memchr::memchr(b':', line) {
            Some(0) => {
                let text = line.get(1..).unwrap_or_default();
                return Ok(Some(Item::Comment(utf8_slice(
                    src,
                    strip_space(text),
                    valid,
                ))));
            }
            Some(i) => (
                line.get(..i).unwrap_or_default(),
                line.get(i + 1..).unwrap_or_default(),
            ),
            None => (line, &[][..]),
        };
        let value = strip_space(value);
        match name {
            b"data" => self.data_value(value, src, valid, cur, max_event_bytes)?,
            b"event" => self.event_value(value, src, valid),
            // An id containing U+0000 is ignored. Copied: the id outlives its chunk.
            b"id" if memchr::memchr(0, value).is_none() => {
                self.id = if valid || is_utf8(value) {
                    Bytes::copy_from_slice(value)
                } else {
                    lossy(value)
                };
                self.id_dirty = true;
            }
            b"retry" => {
                if let Some(ms) = parse_retry(value) {
                    self.pending_retry = Some(ms);
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
        Ok(None)
    }

    /// An `event` field's value.
    #[inline(always)]
    fn event_value(&mut self, value: &[u8], src: &Bytes, valid: bool) {
        self.event_type = if value == DEFAULT_EVENT_TYPE || value.is_empty() {
            None
        } else {
            Some(utf8_slice(src, value, valid))
        };
    }

    /// A `data` field's value (any line but the first `data` line of a block in the fast path).
    fn data_value(
        &mut self,
        value: &[u8],
        src: &Bytes,
        valid: bool,
        cur: &Bytes,
        max_event_bytes: usize,
    ) -> Result<(), DecodeError> {
        let decoded: std::borrow::Cow<'_, [u8]> = if valid || is_utf8(value) {
            std::borrow::Cow::Borrowed(value)
        } else {
            std::borrow::Cow::Owned(String::from_utf8_lossy(value).into_owned().into_bytes())
        };
        let new_len = self
            .data
            .len()
            .saturating_add(decoded.len())
            .saturating_add(1);
        if new_len > max_event_bytes {
            self.start_discard();
            return Err(DecodeError::EventTooLarge {
                limit: max_event_bytes,
            });
        }
        self.data.detach(cur);
        match std::mem::take(&mut self.data) {
            DataBuf::Empty => {
                self.data = DataBuf::Single(match decoded {
                    std::borrow::Cow::Borrowed(v) => src.slice_ref(v),
                    std::borrow::Cow::Owned(v) => Bytes::from(v),
                });
            }
            DataBuf::Single(first) => {
                let mut m = BytesMut::with_capacity(new_len);
                m.put_slice(&first);
                m.put_u8(b'\n');
                m.put_slice(&decoded);
                m.put_u8(b'\n');
                self.data = DataBuf::Multi(m);
            }
            DataBuf::Multi(mut m) => {
                m.put_slice(&decoded);
                m.put_u8(b'\n');
                self.data = DataBuf::Multi(m);
            }
            // `detach` above replaced it.
            DataBuf::InChunk { .. } => {}
        }
        Ok(())
    }

    /// Handles an empty line.
    #[inline(always)]
    fn dispatch(&mut self, cur: &Bytes) -> Option<Item> {
        if self.id_dirty {
            self.committed_id = self.id.clone();
            self.id_dirty = false;
        }
        self.discard = false;
        if matches!(self.data, DataBuf::Empty) {
            self.event_type = None;
            return None;
        }
        let meta =
            if self.event_type.is_none() && self.id.is_empty() && self.pending_retry.is_none() {
                None
            } else {
                Some(self.meta())
            };
        let data = match std::mem::take(&mut self.data) {
            DataBuf::InChunk { start, end } => cur.slice(start..end),
            DataBuf::Single(b) => b,
            DataBuf::Multi(mut m) => {
                m.truncate(m.len().saturating_sub(1));
                m.freeze()
            }
            DataBuf::Empty => Bytes::new(),
        };
        Some(Item::Event(Event { data, meta }))
    }

    /// The [`Meta`] for the event being dispatched: the cached one if equal, else a new one.
    #[inline(never)]
    fn meta(&mut self) -> Arc<Meta> {
        let event_type = self.event_type.take();
        let retry = self.pending_retry.take();
        if let Some(m) = &self.last_meta {
            if m.retry == retry && m.id == self.id && m.event_type == event_type {
                return Arc::clone(m);
            }
        }
        // Copied, so that the cached value does not hold on to an input chunk.
        let m = Arc::new(Meta {
            event_type: event_type.map(|t| Bytes::copy_from_slice(&t)),
            id: self.id.clone(),
            retry,
        });
        self.last_meta = Some(Arc::clone(&m));
        m
    }

    /// End of input: drop the pending block.
    fn eof(&mut self) {
        self.data = DataBuf::Empty;
        self.event_type = None;
        self.discard = false;
    }
}

/// Where the leading-BOM check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BomState {
    /// This many bytes of the BOM have been seen at the start of the input (held back).
    Checking(usize),
    /// Past the start of the input.
    Done,
}

/// Incremental, sans-IO `text/event-stream` decoder.
///
/// Feed input with [`Decoder::handle_bytes`] (and [`Decoder::handle_eof`] at the end), then call
/// [`Decoder::poll_item`] until it returns `Ok(None)`. Chunk boundaries never change the result.
/// After `handle_eof` further input is ignored; use a new decoder for a new connection (carrying
/// [`Decoder::last_event_id`] over as `Last-Event-ID`).
///
/// ```
/// use bytes::Bytes;
/// use mcp_sse_core::sse::{Decoder, Item};
///
/// let mut d = Decoder::new();
/// d.handle_bytes(Bytes::from_static(b"event: endpoint\r\ndata: /messages/?session_id=ab\r"));
/// d.handle_bytes(Bytes::from_static(b"\n\r\nid: 7\ndata: {}\n"));
/// d.handle_eof();
/// let mut events = Vec::new();
/// while let Some(item) = d.poll_item().unwrap() {
///     if let Item::Event(e) = item {
///         events.push(e);
///     }
/// }
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].event_type(), "endpoint");
/// assert_eq!(events[0].data(), "/messages/?session_id=ab");
/// assert_eq!(d.last_event_id(), ""); // "7" was never committed by an empty line
/// ```
#[derive(Debug)]
pub struct Decoder {
    limits: DecoderLimits,
    /// Chunks handed in but not yet reached.
    queue: VecDeque<Bytes>,
    /// Total length of `queue`.
    queued_bytes: usize,
    /// The chunk being decoded, and the position in it.
    cur: Bytes,
    pos: usize,
    /// `cur[valid_from..valid_to]` is known to be UTF-8 and starts at a character boundary, so
    /// complete lines inside it skip their own check.
    valid_from: usize,
    valid_to: usize,
    /// The start of a line that began in an earlier chunk.
    partial: BytesMut,
    /// The previous chunk ended with CR: skip one LF at the start of the next.
    skip_lf: bool,
    /// Inside an over-long line: skip bytes up to the next terminator.
    skip_line: bool,
    bom: BomState,
    eof: bool,
    eof_done: bool,
    /// The end of input came inside a line or inside an event with data (see
    /// [`Decoder::ended_inside_event`]).
    cut_short: bool,
    block: Block,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with [`DecoderLimits::default`].
    pub fn new() -> Self {
        Self::with_limits(DecoderLimits::default())
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: DecoderLimits) -> Self {
        Self {
            limits,
            queue: VecDeque::new(),
            queued_bytes: 0,
            cur: Bytes::new(),
            pos: 0,
            valid_from: 0,
            valid_to: 0,
            partial: BytesMut::new(),
            skip_lf: false,
            skip_line: false,
            bom: BomState::Checking(0),
            eof: false,
            eof_done: false,
            cut_short: false,
            block: Block::default(),
        }
    }

    /// Pushes the next chunk of input. Never fails; decoding happens in [`Decoder::poll_item`].
    /// Empty chunks are fine. Input after [`Decoder::handle_eof`] is ignored.
    pub fn handle_bytes(&mut self, chunk: Bytes) {
        if self.eof || chunk.is_empty() {
            return;
        }
        let BomState::Checking(mut matched) = self.bom else {
            self.push(chunk);
            return;
        };
        let mut i = 0;
        while matched < BOM.len() {
            let Some(&b) = chunk.get(i) else {
                // The whole chunk was a BOM prefix: hold it back.
                self.bom = BomState::Checking(matched);
                return;
            };
            if Some(&b) != BOM.get(matched) {
                // Not a BOM: give back the held bytes (they equal BOM[..matched]).
                self.bom = BomState::Done;
                if matched > 0 {
                    self.push(Bytes::from_static(BOM.get(..matched).unwrap_or_default()));
                }
                self.push(chunk.slice(i..));
                return;
            }
            matched += 1;
            i += 1;
        }
        self.bom = BomState::Done;
        if i < chunk.len() {
            self.push(chunk.slice(i..));
        }
    }

    fn push(&mut self, chunk: Bytes) {
        self.queued_bytes += chunk.len();
        self.queue.push_back(chunk);
    }

    /// Signals the end of input. The unterminated last line (if any) and the pending block are
    /// discarded once the queued input has been decoded by [`Decoder::poll_item`]. A line ended
    /// by a CR at the very end of the input has already been processed.
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// Decodes queued input up to the next item. Call it until it returns `Ok(None)` after each
    /// `handle_*` call. After an `Err` the decoder resynchronises (see the module docs) and the
    /// next call continues.
    pub fn poll_item(&mut self) -> Result<Option<Item>, DecodeError> {
        loop {
            if self.pos >= self.cur.len() {
                // The data buffer may point into the chunk being left.
                self.block.data.detach(&self.cur);
                match self.queue.pop_front() {
                    Some(chunk) => {
                        self.queued_bytes -= chunk.len();
                        self.cur = chunk;
                        self.pos = 0;
                        self.valid_from = 0;
                        self.valid_to = 0;
                    }
                    None => {
                        self.cur = Bytes::new();
                        self.pos = 0;
                        self.valid_from = 0;
                        self.valid_to = 0;
                        if self.eof && !self.eof_done {
                            self.finish();
                        }
                        return Ok(None);
                    }
                }
                continue;
            }
            if self.skip_lf {
                self.skip_lf = false;
                if self.cur.get(self.pos) == Some(&b'\n') {
                    self.pos += 1;
                    continue;
                }
            }
            if self.partial.is_empty() && !self.skip_line {
                match self.scan_chunk() {
                    Ok(None) => continue,
                    other => return other,
                }
            }
            // A line that began in an earlier chunk, or the rest of an over-long line.
            let rest = self.cur.get(self.pos..).unwrap_or_default();
            let Some(i) = memchr::memchr2(b'\n', b'\r', rest) else {
                // No terminator in this chunk: keep the start of the line for later.
                self.pos = self.cur.len();
                if self.skip_line {
                    continue;
                }
                if self.partial.len() + rest.len() > self.limits.max_line_bytes {
                    return Err(self.line_too_long(false));
                }
                self.partial.extend_from_slice(rest);
                continue;
            };
            let start = self.pos;
            let end = start + i;
            self.pos = self.after_terminator(end);
            if self.skip_line {
                self.skip_line = false;
                continue;
            }
            if self.partial.len() + i > self.limits.max_line_bytes {
                return Err(self.line_too_long(true));
            }
            self.partial
                .extend_from_slice(self.cur.get(start..end).unwrap_or_default());
            // `split` keeps the spare capacity in `partial` for the next spanning line.
            let line = self.partial.split().freeze();
            let max_event = self.limits.max_event_bytes;
            match self.block.line(&line, &line, false, &self.cur, max_event) {
                Ok(None) => continue,
                other => return other,
            }
        }
    }

    /// Position after the line terminator at `end` in `cur` (a CR, a CRLF or an LF). A CR at the
    /// end of the chunk sets `skip_lf` for the next chunk.
    #[inline(always)]
    fn after_terminator(&mut self, end: usize) -> usize {
        let next = end + 1;
        if self.cur.get(end) == Some(&b'\r') {
            match self.cur.get(next) {
                Some(b'\n') => return next + 1,
                Some(_) => {}
                None => self.skip_lf = true,
            }
        }
        next
    }

    /// Whether the line `cur[start..end]` is known to be UTF-8 (`start` is a line start). Checks
    /// ahead in windows of [`UTF8_CHECK_AHEAD`] bytes, so that the check runs about once per
    /// window rather than once per line.
    #[inline(always)]
    fn valid_line(&mut self, start: usize, end: usize) -> bool {
        (start >= self.valid_from && end <= self.valid_to) || self.check_utf8(start, end)
    }

    #[inline(never)]
    fn check_utf8(&mut self, start: usize, end: usize) -> bool {
        if start < self.valid_from || start > self.valid_to {
            // Past an ill-formed sequence (or at a new chunk): start a new checked span here.
            self.valid_from = start;
            self.valid_to = start;
        }
        let from = self.valid_to;
        let to = end.saturating_add(UTF8_CHECK_AHEAD).min(self.cur.len());
        let span = self.cur.get(from..to).unwrap_or_default();
        self.valid_to = from + utf8_prefix_len(span);
        end <= self.valid_to
    }

    /// The fast path: decodes the lines of `cur` from `pos` while no partial line is pending,
    /// until one gives an item or an error. Returns `Ok(None)` when the chunk has no further
    /// complete line; its unterminated rest is then in `partial`.
    #[inline(always)]
    fn scan_chunk(&mut self) -> Result<Option<Item>, DecodeError> {
        let max_line = self.limits.max_line_bytes;
        let max_event = self.limits.max_event_bytes;
        let mut pos = self.pos;
        loop {
            let rest = self.cur.get(pos..).unwrap_or_default();
            let Some(&first) = rest.first() else {
                self.pos = pos;
                return Ok(None);
            };
            if first == b'\n' || first == b'\r' {
                // An empty line: dispatch.
                pos = self.after_terminator(pos);
                if let Some(item) = self.block.dispatch(&self.cur) {
                    self.pos = pos;
                    return Ok(Some(item));
                }
                continue;
            }
            // `event: message` (how sse-starlette frames every MCP message) is the default type.
            if let Some(&[b'\r' | b'\n']) = rest
                .strip_prefix(EVENT_MESSAGE_LINE)
                .and_then(|r| r.get(..1))
            {
                if EVENT_MESSAGE_LINE.len() > max_line {
                    self.pos = self.after_terminator(pos + EVENT_MESSAGE_LINE.len());
                    return Err(self.line_too_long(true));
                }
                // Also right while discarding: the event type is already empty then.
                self.block.event_type = None;
                pos = self.after_terminator(pos + EVENT_MESSAGE_LINE.len());
                continue;
            }
            // The first `data` line of a block (usually the only one) is kept as a range of the
            // chunk; its value is searched for the terminator at once.
            let first_data = rest.starts_with(b"data:")
                && matches!(self.block.data, DataBuf::Empty)
                && !self.block.discard;
            let found = if first_data {
                let skip = if rest.get(5) == Some(&b' ') { 6 } else { 5 };
                let value = rest.get(skip..).unwrap_or_default();
                memchr::memchr2(b'\n', b'\r', value).map(|i| i + skip)
            } else {
                find_line_end(rest)
            };
            let Some(i) = found else {
                // No terminator in this chunk: keep the start of the line for later.
                self.pos = self.cur.len();
                if rest.len() > max_line {
                    return Err(self.line_too_long(false));
                }
                self.partial.extend_from_slice(rest);
                return Ok(None);
            };
            let start = pos;
            let end = pos + i;
            pos = self.after_terminator(end);
            if i > max_line {
                self.pos = pos;
                return Err(self.line_too_long(true));
            }
            let valid = self.valid_line(start, end);
            if first_data && valid {
                let skip = if self.cur.get(start + 5) == Some(&b' ') {
                    6
                } else {
                    5
                };
                let value_start = start + skip;
                // The data buffer holds the value plus one LF.
                if end - value_start + 1 > max_event {
                    self.pos = pos;
                    self.block.start_discard();
                    return Err(DecodeError::EventTooLarge { limit: max_event });
                }
                self.block.data = DataBuf::InChunk {
                    start: value_start,
                    end,
                };
                continue;
            }
            let line = self.cur.get(start..end).unwrap_or_default();
            match self
                .block
                .field(line, &self.cur, valid, &self.cur, max_event)
            {
                Ok(None) => {}
                other => {
                    self.pos = pos;
                    return other;
                }
            }
        }
    }

    /// Reports an over-long line and drops it and the pending block. If its terminator has not
    /// been seen yet (`complete == false`), the rest of the line is skipped as it arrives.
    fn line_too_long(&mut self, complete: bool) -> DecodeError {
        self.skip_line = !complete;
        self.partial.clear();
        self.block.start_discard();
        DecodeError::LineTooLong {
            limit: self.limits.max_line_bytes,
        }
    }

    fn finish(&mut self) {
        self.eof_done = true;
        // Held-back bytes of what might have been a BOM are the start of an unterminated line.
        self.cut_short = !self.partial.is_empty()
            || self.skip_line
            || !matches!(self.block.data, DataBuf::Empty)
            || matches!(self.bom, BomState::Checking(n) if n > 0);
        self.partial.clear();
        self.skip_line = false;
        self.skip_lf = false;
        self.bom = BomState::Done;
        self.block.eof();
    }

    /// The last event ID string: the last event ID buffer as committed by the most recent empty
    /// line (`""` before any). This is what a client sends as `Last-Event-ID` when reconnecting.
    pub fn last_event_id(&self) -> &str {
        as_str(&self.block.committed_id)
    }

    /// The last valid `retry` value processed so far, if any (the reconnection time in ms).
    pub fn retry(&self) -> Option<u64> {
        self.block.retry
    }

    /// Whether the input ended inside a line, or inside an event that had data: once
    /// [`Decoder::handle_eof`] was called and [`Decoder::poll_item`] has returned `Ok(None)`,
    /// `true` means that something was discarded (the Standard drops it silently; a client can
    /// report a cut stream). A stream that ends after a complete event, or inside an event with
    /// no data (which would not have been dispatched), gives `false`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mcp_sse_core::sse::Decoder;
    ///
    /// let mut d = Decoder::new();
    /// d.handle_bytes(Bytes::from_static(b"data: whole\n\ndata: cut"));
    /// d.handle_eof();
    /// while let Ok(Some(_)) = d.poll_item() {}
    /// assert!(d.ended_inside_event());
    /// ```
    pub fn ended_inside_event(&self) -> bool {
        // Set only once the end of input has been decoded.
        self.cut_short
    }

    /// Bytes held internally: queued input not yet decoded, the partial line, the pending data
    /// buffer and held-back BOM bytes. Input already decoded into returned items is not counted.
    pub fn buffered_bytes(&self) -> usize {
        let held_bom = match self.bom {
            BomState::Checking(n) => n,
            BomState::Done => 0,
        };
        self.queued_bytes
            + self.cur.len().saturating_sub(self.pos)
            + self.partial.len()
            + self.block.data.len()
            + held_bom
    }
}

/// Removes one leading U+0020 SPACE.
fn strip_space(v: &[u8]) -> &[u8] {
    v.strip_prefix(b" ").unwrap_or(v)
}

/// `v` (a sub-slice of `src`) as UTF-8 bytes: a zero-copy slice when valid (known to be when
/// `valid`), else lossily decoded.
fn utf8_slice(src: &Bytes, v: &[u8], valid: bool) -> Bytes {
    if valid || is_utf8(v) {
        src.slice_ref(v)
    } else {
        lossy(v)
    }
}

/// The position of the first CR or LF in `v`. Lines are often short (`event: message`), so the
/// first 16 bytes are checked eight at a time in a register before calling `memchr2`.
#[inline(always)]
fn find_line_end(v: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(word) = v.get(at..at + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(word);
        let hits = line_ends_in(u64::from_le_bytes(b));
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
        if at == 16 {
            break;
        }
    }
    let rest = v.get(at..).unwrap_or_default();
    memchr::memchr2(b'\n', b'\r', rest).map(|i| i + at)
}

/// The high bit of each byte of `w` that is CR or LF (exact: no false positives).
#[inline(always)]
fn line_ends_in(w: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let zero_bytes = |x: u64| !(((x & LOW7) + LOW7) | x | LOW7);
    zero_bytes(w ^ 0x0A0A_0A0A_0A0A_0A0A) | zero_bytes(w ^ 0x0D0D_0D0D_0D0D_0D0D)
}

/// Length of the longest prefix of `v` that is valid UTF-8 (so it ends at a character boundary),
/// with an ASCII fast path like [`is_utf8`]'s.
fn utf8_prefix_len(v: &[u8]) -> usize {
    let mut ascii = 0;
    for group in v.chunks_exact(256) {
        if !all_ascii(group) {
            break;
        }
        ascii += 256;
    }
    for block in v.get(ascii..).unwrap_or_default().chunks_exact(32) {
        if !all_ascii(block) {
            break;
        }
        ascii += 32;
    }
    let rest = v.get(ascii..).unwrap_or_default();
    match std::str::from_utf8(rest) {
        Ok(_) => v.len(),
        Err(e) => ascii + e.valid_up_to(),
    }
}

/// Whether `v` is ASCII; the compiler vectorises it (OR the bytes, test the high bit).
#[inline(always)]
fn all_ascii(v: &[u8]) -> bool {
    v.iter().fold(0u8, |acc, x| acc | x) < 0x80
}

/// UTF-8 check with a fast path for ASCII (the usual case: compact JSON), which the compiler
/// vectorises: OR 32 bytes at a time and test the high bit.
fn is_utf8(v: &[u8]) -> bool {
    let mut blocks = v.chunks_exact(32);
    let ascii = blocks.by_ref().all(all_ascii) && blocks.remainder().is_ascii();
    ascii || std::str::from_utf8(v).is_ok()
}

fn lossy(v: &[u8]) -> Bytes {
    Bytes::from(String::from_utf8_lossy(v).into_owned())
}

/// Bytes the decoder produced, known to be UTF-8.
fn as_str(b: &Bytes) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

/// A `retry` value: one or more ASCII digits, saturating at `u64::MAX`.
fn parse_retry(v: &[u8]) -> Option<u64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_chunks(chunks: &[&[u8]]) -> (Vec<Item>, Decoder) {
        let mut d = Decoder::new();
        let mut items = Vec::new();
        for c in chunks {
            d.handle_bytes(Bytes::copy_from_slice(c));
            while let Some(item) = d.poll_item().expect("no limit hit") {
                items.push(item);
            }
        }
        d.handle_eof();
        while let Some(item) = d.poll_item().expect("no limit hit") {
            items.push(item);
        }
        (items, d)
    }

    /// An event as (type, data, last event ID, retry).
    type Ev = (String, String, String, Option<u64>);

    fn events(items: &[Item]) -> Vec<Ev> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Event(e) => Some((
                    e.event_type().to_owned(),
                    e.data().to_owned(),
                    e.last_event_id().to_owned(),
                    e.retry(),
                )),
                Item::Comment(_) => None,
            })
            .collect()
    }

    fn ev(t: &str, d: &str, id: &str, r: Option<u64>) -> Ev {
        (t.into(), d.into(), id.into(), r)
    }

    #[test]
    fn sse_starlette_framing() {
        let (items, _) = decode_chunks(&[
            b"event: endpoint\r\ndata: /messages/?session_id=0123\r\n\r\n",
            b": ping - 2026-11-24 00:26:49.932501+00:00\r\n\r\n",
            b"event: message\r\ndata: {\"jsonrpc\":\"2.0\"}\r\n\r\n",
        ]);
        assert_eq!(
            events(&items),
            vec![
                ev("endpoint", "/messages/?session_id=0123", "", None),
                ev("message", "{\"jsonrpc\":\"2.0\"}", "", None)
            ]
        );
        assert_eq!(
            items.get(1),
            Some(&Item::Comment(Bytes::from_static(
                b"ping - 2026-11-24 00:26:49.932501+00:00"
            )))
        );
    }

    #[test]
    fn cr_at_chunk_end_dispatches_at_once_and_swallows_lf() {
        let mut d = Decoder::new();
        d.handle_bytes(Bytes::from_static(b"data: a\r\r"));
        let item = d.poll_item().unwrap();
        assert!(matches!(item, Some(Item::Event(ref e)) if e.data() == "a"));
        d.handle_bytes(Bytes::from_static(b"\ndata: b\n\n"));
        let item = d.poll_item().unwrap();
        assert!(matches!(item, Some(Item::Event(ref e)) if e.data() == "b"));
        assert_eq!(d.poll_item(), Ok(None));
    }

    #[test]
    fn bom_split_across_chunks_is_stripped_once() {
        let (items, _) =
            decode_chunks(&[b"\xEF", b"\xBB", b"\xBFdata: x\n\n\xEF\xBB\xBFdata: y\n\n"]);
        assert_eq!(events(&items), vec![ev("message", "x", "", None)]);
        let (items, _) = decode_chunks(&[b"\xEF\xBB", b"data: x\n\n"]);
        assert_eq!(events(&items), vec![]);
        let (items, _) = decode_chunks(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"]);
        assert_eq!(events(&items), vec![]);
    }

    #[test]
    fn utf8_cut_across_chunks_and_lossy() {
        let (items, _) = decode_chunks(&[b"data: \xC3", b"\xA9\xFF\n\n"]);
        assert_eq!(events(&items), vec![ev("message", "é\u{FFFD}", "", None)]);
    }

    #[test]
    fn id_retry_and_finals() {
        let (items, d) = decode_chunks(&[
            b"retry: 3000\n\nid: 1\ndata: a\n\nid: x\0y\nretry: +100\ndata: b\n\nid: 2\nretry: 99999999999999999999999\n",
        ]);
        assert_eq!(
            events(&items),
            vec![
                ev("message", "a", "1", Some(3000)),
                ev("message", "b", "1", None)
            ]
        );
        assert_eq!(d.last_event_id(), "1");
        assert_eq!(d.retry(), Some(u64::MAX));
    }

    #[test]
    fn multi_line_data_and_empty_values() {
        let (items, _) = decode_chunks(&[b"data\ndata:\ndata: a\ndata:  b\n\nevent\ndata:\n\n"]);
        assert_eq!(
            events(&items),
            vec![
                ev("message", "\n\na\n b", "", None),
                ev("message", "", "", None)
            ]
        );
    }

    #[test]
    fn unterminated_data_discarded_at_eof() {
        let (items, d) = decode_chunks(&[b"data: a\n\ndata: b\n", b"data: c"]);
        assert_eq!(events(&items), vec![ev("message", "a", "", None)]);
        assert_eq!(d.buffered_bytes(), 0);
    }

    #[test]
    fn line_too_long_in_one_chunk_resyncs() {
        let limits = DecoderLimits {
            max_line_bytes: 10,
            max_event_bytes: 100,
        };
        let mut d = Decoder::with_limits(limits);
        d.handle_bytes(Bytes::from_static(
            b"data: 1\ndata: 0123456789\ndata: 2\n\ndata: ok\n\n",
        ));
        assert_eq!(d.poll_item(), Err(DecodeError::LineTooLong { limit: 10 }));
        let item = d.poll_item().unwrap();
        assert!(matches!(item, Some(Item::Event(ref e)) if e.data() == "ok"));
        assert_eq!(d.poll_item(), Ok(None));
    }

    #[test]
    fn line_too_long_across_chunks_is_bounded() {
        let limits = DecoderLimits {
            max_line_bytes: 10,
            max_event_bytes: 100,
        };
        let mut d = Decoder::with_limits(limits);
        let mut errors = 0;
        let mut data = Vec::new();
        for chunk in [
            &b"data: 01"[..],
            b"23456789",
            b"abcdef",
            b"\n\nda",
            b"ta: ok\r",
            b"\n\r\n",
        ] {
            d.handle_bytes(Bytes::from_static(chunk));
            loop {
                match d.poll_item() {
                    Ok(Some(Item::Event(e))) => data.push(e.data().to_owned()),
                    Ok(Some(Item::Comment(_))) => {}
                    Ok(None) => break,
                    Err(e) => {
                        assert_eq!(e, DecodeError::LineTooLong { limit: 10 });
                        errors += 1;
                    }
                }
                assert!(d.partial.len() <= 10);
            }
        }
        assert_eq!(errors, 1);
        assert_eq!(data, vec!["ok".to_owned()]);
    }

    #[test]
    fn event_too_large_resyncs() {
        let limits = DecoderLimits {
            max_line_bytes: 100,
            max_event_bytes: 8,
        };
        let mut d = Decoder::with_limits(limits);
        d.handle_bytes(Bytes::from_static(
            b"data: 1234\ndata: 5678\ndata: x\n\ndata: 1234567\n\n",
        ));
        assert_eq!(d.poll_item(), Err(DecodeError::EventTooLarge { limit: 8 }));
        let item = d.poll_item().unwrap();
        assert!(matches!(item, Some(Item::Event(ref e)) if e.data() == "1234567"));
        assert_eq!(d.poll_item(), Ok(None));
    }

    #[test]
    fn single_line_data_is_zero_copy() {
        let input = Bytes::from_static(b"event: message\r\ndata: {\"a\":1}\r\n\r\n");
        let mut d = Decoder::new();
        d.handle_bytes(input.clone());
        let Ok(Some(Item::Event(e))) = d.poll_item() else {
            panic!("expected an event")
        };
        let data = e.data_bytes();
        let base = input.as_ptr() as usize;
        let p = data.as_ptr() as usize;
        assert!(
            p >= base && p < base + input.len(),
            "data must point into the input"
        );
    }

    #[test]
    fn input_after_eof_is_ignored() {
        let mut d = Decoder::new();
        d.handle_eof();
        d.handle_bytes(Bytes::from_static(b"data: a\n\n"));
        assert_eq!(d.poll_item(), Ok(None));
    }

    #[test]
    fn ended_inside_event_says_whether_the_end_of_input_discarded_something() {
        let ended = |input: &'static [u8], chunked: bool| {
            let mut d = Decoder::new();
            if chunked {
                for b in input.chunks(1) {
                    d.handle_bytes(Bytes::copy_from_slice(b));
                    while let Ok(Some(_)) = d.poll_item() {}
                }
            } else {
                d.handle_bytes(Bytes::from_static(input));
            }
            assert!(!d.ended_inside_event(), "not before the end of input");
            d.handle_eof();
            while let Ok(Some(_)) = d.poll_item() {}
            d.ended_inside_event()
        };
        for chunked in [false, true] {
            assert!(!ended(b"", chunked));
            assert!(!ended(b"data: a\n\n", chunked), "after a whole event");
            assert!(
                !ended(b"data: a\r\n\r\n: ping\n", chunked),
                "after a comment line"
            );
            assert!(
                !ended(b"event: x\nid: 3\n", chunked),
                "an event with no data"
            );
            assert!(ended(b"data: a\n", chunked), "data, no blank line");
            assert!(
                ended(b"data:\n", chunked),
                "an empty data line still makes an event"
            );
            assert!(ended(b"data: a\n\ndata: b", chunked), "inside a line");
            assert!(ended(b": pi", chunked), "inside a comment line");
            assert!(
                ended(b"\xEF\xBB", chunked),
                "inside a line that began like a BOM"
            );
            assert!(!ended(b"\xEF\xBB\xBF", chunked), "after a whole BOM");
        }
        // Inside an over-long line whose rest is being skipped.
        let mut d = Decoder::with_limits(DecoderLimits {
            max_line_bytes: 8,
            ..DecoderLimits::default()
        });
        d.handle_bytes(Bytes::from_static(b"data: 0123456789"));
        while let Ok(Some(_)) | Err(_) = d.poll_item() {}
        d.handle_eof();
        while let Ok(Some(_)) = d.poll_item() {}
        assert!(d.ended_inside_event());
    }

    #[test]
    fn retry_parsing() {
        assert_eq!(parse_retry(b"0"), Some(0));
        assert_eq!(parse_retry(b"0001500"), Some(1500));
        assert_eq!(parse_retry(b""), None);
        assert_eq!(parse_retry(b"+100"), None);
        assert_eq!(parse_retry(b"1 "), None);
        assert_eq!(parse_retry(b"18446744073709551616"), Some(u64::MAX));
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn event_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Event>(), 40);
        assert_eq!(std::mem::size_of::<Item>(), 40);
    }

    #[test]
    fn data_line_then_chunk_switch_before_dispatch() {
        // The single data value is kept as a range of the first chunk and detached when the
        // decoder moves on; it must still point into that chunk (zero-copy).
        let first = Bytes::from_static(b"event: message\ndata: {\"a\":1}\n");
        let mut d = Decoder::new();
        d.handle_bytes(first.clone());
        assert_eq!(d.poll_item(), Ok(None));
        assert_eq!(d.buffered_bytes(), 8); // the value plus its LF
        d.handle_bytes(Bytes::from_static(b"\n"));
        let Ok(Some(Item::Event(e))) = d.poll_item() else {
            panic!("expected an event")
        };
        assert_eq!(e.data(), "{\"a\":1}");
        let p = e.data_bytes().as_ptr() as usize;
        let base = first.as_ptr() as usize;
        assert!(p >= base && p < base + first.len());
        // A second data line after the switch joins the detached first one.
        let (items, _) = decode_chunks(&[b"data: a\n", b"data: b\n\n"]);
        assert_eq!(events(&items), vec![ev("message", "a\nb", "", None)]);
    }

    #[test]
    fn event_message_line_respects_the_line_limit() {
        let limits = DecoderLimits {
            max_line_bytes: 8,
            max_event_bytes: 100,
        };
        let mut d = Decoder::with_limits(limits);
        d.handle_bytes(Bytes::from_static(
            b"event: message\r\ndata: a\r\n\r\ndata: b\n\n",
        ));
        assert_eq!(d.poll_item(), Err(DecodeError::LineTooLong { limit: 8 }));
        let item = d.poll_item().unwrap();
        assert!(matches!(item, Some(Item::Event(ref e)) if e.data() == "b"));
        // `event: message` resets a type set earlier in the block.
        let (items, _) = decode_chunks(&[b"event: x\nevent: message\ndata: a\n\n"]);
        assert_eq!(events(&items), vec![ev("message", "a", "", None)]);
        // Not the whole value: `event: messages` is another type.
        let (items, _) = decode_chunks(&[b"event: messages\ndata: a\n\n"]);
        assert_eq!(events(&items), vec![ev("messages", "a", "", None)]);
    }

    #[test]
    fn meta_is_shared_while_equal() {
        let (items, _) = decode_chunks(&[
            b"id: 7\ndata: a\n\ndata: b\n\nretry: 5\ndata: c\n\nevent: t\ndata: d\n\nid\ndata: e\n\n",
        ]);
        let evs: Vec<&Event> = items
            .iter()
            .filter_map(|i| match i {
                Item::Event(e) => Some(e),
                Item::Comment(_) => None,
            })
            .collect();
        let meta = |i: usize| evs.get(i).and_then(|e| e.meta.clone());
        assert!(matches!((meta(0), meta(1)), (Some(a), Some(b)) if Arc::ptr_eq(&a, &b)));
        assert!(matches!((meta(1), meta(2)), (Some(a), Some(b)) if !Arc::ptr_eq(&a, &b)));
        // The id was cleared: all fields default (and the fifth event exists).
        assert!(evs.get(4).is_some_and(|e| e.meta.is_none()));
        assert_eq!(
            events(&items),
            vec![
                ev("message", "a", "7", None),
                ev("message", "b", "7", None),
                ev("message", "c", "7", Some(5)),
                ev("t", "d", "7", None),
                ev("message", "e", "", None),
            ]
        );
        // Decoded and hand-built events compare equal.
        assert_eq!(
            evs.get(2).copied(),
            Some(&Event::new("", "c", "7", Some(5)))
        );
        assert_eq!(
            evs.get(4).copied(),
            Some(&Event::new("message", "e", "", None))
        );
    }

    #[test]
    fn utf8_windows_and_ill_formed_bytes() {
        // Valid non-ASCII text, an ill-formed byte far into a chunk, and a chunk that starts in
        // the middle of a character: every line decodes as if checked on its own.
        let mut input = Vec::new();
        for i in 0..300 {
            input.extend_from_slice(format!("data: é{i}\n\n").as_bytes());
        }
        input.extend_from_slice(b"data: x\xFFy\n\ndata: \xC3\xA9z\n\n");
        for i in 0..300 {
            input.extend_from_slice(format!("data: {i}\n\n").as_bytes());
        }
        let mut expected: Vec<String> = (0..300).map(|i| format!("é{i}")).collect();
        expected.push("x\u{FFFD}y".into());
        expected.push("éz".into());
        expected.extend((0..300).map(|i| i.to_string()));
        for cut in [0, 1, 2_000, 2_049, 4_097, input.len() - 20] {
            let (head, tail) = input.split_at(cut);
            let (items, _) = decode_chunks(&[head, tail]);
            let got: Vec<String> = events(&items).into_iter().map(|e| e.1).collect();
            assert_eq!(got, expected, "cut at {cut}");
        }
        // A character cut across chunks, and a chunk that starts with a stray continuation byte.
        let é = "é".as_bytes();
        let (items, _) = decode_chunks(&[b"data: a\xC3", &é[1..], b"\n\ndata: b\n\n"]);
        assert_eq!(
            events(&items),
            vec![ev("message", "aé", "", None), ev("message", "b", "", None)]
        );
        let (items, _) = decode_chunks(&[b"data: a\n", b"\xA9\n\ndata: \xC3\xA9\n\n"]);
        assert_eq!(
            events(&items),
            vec![ev("message", "a", "", None), ev("message", "é", "", None)]
        );
    }

    #[test]
    fn line_end_search_in_words() {
        for len in 0..40 {
            for (t, term) in [b'\n', b'\r'].into_iter().enumerate() {
                let mut v = vec![b'a'; len];
                assert_eq!(find_line_end(&v), None);
                v.push(term);
                v.extend_from_slice(b"xx\n");
                assert_eq!(find_line_end(&v), Some(len), "len {len} term {t}");
            }
        }
        // Bytes next to CR and LF, and with the high bit set, are no false positives.
        let tricky = [0x0B, 0x0C, 0x0E, 0x09, 0x8A, 0x8D, 0xFF, 0x00];
        assert_eq!(line_ends_in(u64::from_le_bytes(tricky)), 0);
    }

    /// A naive reference: the whole stream lossily decoded, split into lines, each line applied
    /// as the Standard says. Returns (type, data, id, retry) per event and the comments.
    fn reference(input: &[u8]) -> (Vec<Ev>, Vec<String>) {
        let input = input.strip_prefix(&BOM[..]).unwrap_or(input);
        let text = String::from_utf8_lossy(input);
        let (mut events, mut comments) = (Vec::new(), Vec::new());
        let (mut ty, mut data, mut id, mut retry) =
            (String::new(), String::new(), String::new(), None);
        let mut rest: &str = &text;
        while let Some(i) = rest.find(['\r', '\n']) {
            let line = &rest[..i];
            rest = if rest[i..].starts_with("\r\n") {
                &rest[i + 2..]
            } else {
                &rest[i + 1..]
            };
            if line.is_empty() {
                if !data.is_empty() {
                    data.pop();
                    let t = if ty.is_empty() {
                        "message".to_owned()
                    } else {
                        ty.clone()
                    };
                    events.push((t, std::mem::take(&mut data), id.clone(), retry.take()));
                }
                ty.clear();
                continue;
            }
            let (name, value) = match line.find(':') {
                Some(0) => {
                    let c = &line[1..];
                    comments.push(c.strip_prefix(' ').unwrap_or(c).to_owned());
                    continue;
                }
                Some(i) => (&line[..i], &line[i + 1..]),
                None => (line, ""),
            };
            let value = value.strip_prefix(' ').unwrap_or(value);
            match name {
                "event" => ty = value.to_owned(),
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                "id" if !value.contains('\0') => id = value.to_owned(),
                "retry" => {
                    if let Some(ms) = parse_retry(value.as_bytes()) {
                        retry = Some(ms);
                    }
                }
                _ => {}
            }
        }
        (events, comments)
    }

    fn sse_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let token = prop_oneof![
            Just(&b"data: "[..]),
            Just(&b"data:"[..]),
            Just(&b"event: message"[..]),
            Just(&b"event: messagex"[..]),
            Just(&b"event:"[..]),
            Just(&b"id: "[..]),
            Just(&b"retry: 12"[..]),
            Just(&b": c"[..]),
            Just(&b"\n"[..]),
            Just(&b"\r"[..]),
            Just(&b"\r\n"[..]),
            Just(&b"\n\n"[..]),
            Just(&b"{\"jsonrpc\":\"2.0\",\"id\":1}"[..]),
            Just("é".as_bytes()),
            Just(&b"\xC3"[..]),
            Just(&b"\xFF"[..]),
            Just(&b"\xEF\xBB\xBF"[..]),
            Just(&b"\0"[..]),
            Just(&b"x"[..]),
        ];
        proptest::collection::vec(token, 0..400).prop_map(|t| t.concat())
    }

    proptest::proptest! {
        #[test]
        fn matches_reference_for_any_chunking(
            input in sse_bytes(),
            cuts in proptest::collection::vec(proptest::prelude::any::<usize>(), 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(input.len());
            let mut chunks = Vec::new();
            let mut start = 0;
            for c in cuts {
                chunks.push(input.get(start..c).unwrap_or_default());
                start = c;
            }
            let (items, _) = decode_chunks(&chunks);
            let comments: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    Item::Comment(c) => Some(as_str(c).to_owned()),
                    Item::Event(_) => None,
                })
                .collect();
            let (want_events, want_comments) = reference(&input);
            proptest::prop_assert_eq!(events(&items), want_events);
            proptest::prop_assert_eq!(comments, want_comments);
        }
    }
}
