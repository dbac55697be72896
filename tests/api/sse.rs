//! A Server-Sent Events reader: parses the streamed body of an answer (`Response::chunk()`) as
//! the HTML standard says (lines ending in CRLF, LF or CR; `event`, `data`, `id` fields; `:`
//! comments; an event ends at a blank line), timestamping each event when it is parsed.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::client::Call;

/// The failure bound of a wait for the next event.
pub const NEXT_EVENT: Duration = Duration::from_secs(10);

/// One dispatched event.
#[derive(Clone, Debug)]
pub struct SseEvent {
    /// The `event` field (`message` when absent).
    pub event: String,
    /// The `id` field of this event, if it had one.
    pub id: Option<String>,
    /// The `data` lines joined with `\n`.
    pub data: String,
    /// When the reader parsed it.
    pub at: Instant,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {self:?}"))
    }
}

/// The parser's state between chunks.
#[derive(Default)]
pub struct SseParser {
    pending: Vec<u8>,
    event: String,
    data: Option<String>,
    id: Option<String>,
}

impl SseParser {
    /// Feeds a chunk of the body; returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < self.pending.len() {
            let b = self.pending[i];
            if b != b'\n' && b != b'\r' {
                i += 1;
                continue;
            }
            if b == b'\r' && i + 1 == self.pending.len() {
                break; // a CR at the end: the LF of a CRLF may be in the next chunk
            }
            let line = String::from_utf8_lossy(&self.pending[start..i]).into_owned();
            i += if b == b'\r' && self.pending[i + 1] == b'\n' {
                2
            } else {
                1
            };
            start = i;
            events.extend(self.line(&line));
        }
        self.pending.drain(..start);
        events
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            let id = self.id.take();
            let data = self.data.take()?;
            let event = if event.is_empty() {
                "message".into()
            } else {
                event
            };
            let at = Instant::now();
            return Some(SseEvent {
                event,
                id,
                data,
                at,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        match field {
            "event" => self.event = value,
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(&value);
                }
                None => self.data = Some(value),
            },
            "id" if !value.contains('\0') => self.id = Some(value),
            _ => {}
        }
        None
    }
}

/// An open stream, read by a task of its own so that events are timestamped on arrival.
pub struct SseStream {
    what: String,
    events: mpsc::UnboundedReceiver<SseEvent>,
    reader: tokio::task::JoinHandle<()>,
}

impl SseStream {
    /// Starts reading `resp`, which must be a `200 text/event-stream` answer.
    pub fn read(what: String, mut resp: reqwest::Response) -> SseStream {
        let status = resp.status().as_u16();
        let content_type = resp.headers().get("content-type").cloned();
        let is_sse = content_type
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        assert!(
            status == 200 && is_sse,
            "{what}: expected a 200 text/event-stream, got {status} {content_type:?}"
        );
        let (tx, events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut parser = SseParser::default();
            while let Ok(Some(chunk)) = resp.chunk().await {
                for event in parser.feed(&chunk) {
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            }
        });
        SseStream {
            what,
            events,
            reader,
        }
    }

    /// The next event; fails after [`NEXT_EVENT`] or if the stream ended.
    pub async fn next(&mut self) -> SseEvent {
        self.next_within(NEXT_EVENT).await
    }

    /// The next event; fails after `bound` or if the stream ended.
    pub async fn next_within(&mut self, bound: Duration) -> SseEvent {
        match tokio::time::timeout(bound, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("{}: the stream ended", self.what),
            Err(_) => panic!("{}: no event within {bound:?}", self.what),
        }
    }

    /// The next `n` events.
    pub async fn take(&mut self, n: usize) -> Vec<SseEvent> {
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(self.next().await);
        }
        events
    }
}

impl Drop for SseStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Call<'_> {
    /// Performs the call and reads the answer as an event stream.
    pub async fn sse(self) -> SseStream {
        let what = self.what();
        SseStream::read(what, self.open().await)
    }
}

#[cfg(test)]
mod parser {
    use super::SseParser;

    const STREAM: &str = ": keep-alive\r\nevent: status\r\ndata: {\"status\":\"open\"}\r\n\r\n\
        id: 7\nevent: message\ndata: a\ndata:b\n\ndata\rretry: 5\r\rfield\n\nid: 8\n\n";

    #[test]
    fn parses_every_line_ending_whatever_the_chunking() {
        for size in [1, 2, 3, 7, STREAM.len()] {
            let mut parser = SseParser::default();
            let events: Vec<_> = STREAM
                .as_bytes()
                .chunks(size)
                .flat_map(|chunk| parser.feed(chunk))
                .map(|e| (e.event, e.id, e.data))
                .collect();
            let some = |s: &str| Some(s.to_owned());
            let expected = [
                ("status".into(), None, r#"{"status":"open"}"#.into()),
                ("message".into(), some("7"), "a\nb".into()),
                ("message".into(), None, String::new()),
            ];
            assert_eq!(events, expected, "chunks of {size} bytes");
        }
    }
}
