//! Decoding one message body, given its framing: bytes flow out as they arrive, as zero-copy
//! slices of the input.

use bytes::{Bytes, BytesMut};

use super::chunked::ChunkedDecoder;
use super::framing::BodyFraming;
use super::input::Input;
use super::limits::Limits;
use super::HttpError;

/// One step of body decoding.
#[derive(Debug)]
pub(crate) enum BodyPoll {
    /// Body bytes.
    Data(Bytes),
    /// The body is complete.
    End,
    /// More input is needed.
    Pending,
}

#[derive(Debug)]
enum BodyState {
    Length { remaining: u64 },
    Chunked(ChunkedDecoder),
    UntilEof,
    Done,
}

/// Decodes one body.
#[derive(Debug)]
pub(crate) struct BodyDecoder {
    state: BodyState,
    /// Bound on the body, `None` = unbounded.
    limit: Option<usize>,
    /// Bytes received (read-until-EOF bodies only).
    received: u64,
}

impl BodyDecoder {
    /// A decoder for `framing`. A declared length over `limit` must be rejected by the caller.
    pub(crate) fn new(framing: BodyFraming, limit: Option<usize>) -> Self {
        let state = match framing {
            BodyFraming::Length(n) => BodyState::Length { remaining: n },
            BodyFraming::Chunked => BodyState::Chunked(ChunkedDecoder::new()),
            BodyFraming::UntilEof => BodyState::UntilEof,
        };
        BodyDecoder {
            state,
            limit,
            received: 0,
        }
    }

    /// Whether the body runs until the connection closes.
    pub(crate) fn is_until_eof(&self) -> bool {
        matches!(self.state, BodyState::UntilEof)
    }

    pub(crate) fn poll(
        &mut self,
        input: &mut Input,
        line: &mut BytesMut,
        limits: &Limits,
    ) -> Result<BodyPoll, HttpError> {
        match &mut self.state {
            BodyState::Length { remaining } => {
                if *remaining == 0 {
                    self.state = BodyState::Done;
                    return Ok(BodyPoll::End);
                }
                let max = usize::try_from(*remaining).unwrap_or(usize::MAX);
                match input.take_front(max) {
                    Some(data) => {
                        *remaining -= data.len() as u64;
                        Ok(BodyPoll::Data(data))
                    }
                    None => Ok(BodyPoll::Pending),
                }
            }
            BodyState::Chunked(chunked) => {
                let step = chunked.poll(input, line, limits, self.limit)?;
                if chunked.is_done() {
                    self.state = BodyState::Done;
                }
                Ok(step)
            }
            BodyState::UntilEof => {
                // Up to the limit, bytes flow out; the first byte past it is the error. Cutting
                // at the limit keeps the events independent of how the input was split.
                let allowed = match self.limit {
                    Some(limit) => {
                        let left = (limit as u64).saturating_sub(self.received);
                        if left == 0 && !input.is_empty() {
                            return Err(HttpError::BodyTooLarge { limit });
                        }
                        usize::try_from(left).unwrap_or(usize::MAX)
                    }
                    None => usize::MAX,
                };
                if allowed == 0 {
                    return Ok(BodyPoll::Pending);
                }
                match input.take_front(allowed) {
                    Some(data) => {
                        self.received += data.len() as u64;
                        Ok(BodyPoll::Data(data))
                    }
                    None => Ok(BodyPoll::Pending),
                }
            }
            BodyState::Done => Ok(BodyPoll::End),
        }
    }

    /// The connection closed and every input byte has been polled: completes a read-until-EOF
    /// body; anything else unfinished is `UnexpectedEof`.
    pub(crate) fn eof(&mut self) -> Result<BodyPoll, HttpError> {
        match self.state {
            BodyState::UntilEof | BodyState::Done => {
                self.state = BodyState::Done;
                Ok(BodyPoll::End)
            }
            BodyState::Length { remaining: 0 } => Ok(BodyPoll::End),
            _ => Err(HttpError::UnexpectedEof),
        }
    }
}
