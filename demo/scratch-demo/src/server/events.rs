//! Rate-limited event logs: the cap being reached, timeouts firing and GOAWAYs sent for
//! abuse are counted as they happen and written as at most three summary lines per
//! interval, so an attack with thousands of connections a second cannot flood stderr
//! (nor slow the server down writing it).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::log::Logger;

/// Something worth counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    /// A connection shed to make room at the cap.
    Shed,
    /// The cap was reached with every connection busy: accepting paused.
    CapWait,
    /// `accept` failed (for example out of file descriptors).
    AcceptFailed,
    /// The TLS handshake did not finish within `handshake_timeout`.
    HandshakeTimeout,
    /// The TLS handshake failed (not TLS, unsupported version, ...).
    HandshakeFailed,
    /// An HTTP/2 client sent no connection preface within `header_read_timeout`.
    PrefaceTimeout,
    /// An HTTP/2 client sent something other than the connection preface.
    BadPreface,
    /// An HTTP/1.1 request head did not arrive within `header_read_timeout`.
    HeaderTimeout,
    /// A connection was closed after `idle_timeout` without a request.
    IdleClosed,
    /// A closing connection did not finish within `close_timeout` (for example an
    /// HTTP/2 client that never answers the GOAWAY's PING) and was dropped.
    CloseTimeout,
    /// An HTTP/1.1 request head was malformed or too large (400/431).
    BadRequestHead,
}

const KINDS: usize = 11;

impl Event {
    fn index(self) -> usize {
        self as usize
    }

    fn describe(self) -> &'static str {
        match self {
            Event::Shed => "connection(s) shed to make room",
            Event::CapWait => "pause(s) with every connection busy",
            Event::AcceptFailed => "failed accept(s)",
            Event::HandshakeTimeout => "TLS handshake timeout(s)",
            Event::HandshakeFailed => "failed TLS handshake(s)",
            Event::PrefaceTimeout => "HTTP/2 preface timeout(s)",
            Event::BadPreface => "bad HTTP/2 preface(s)",
            Event::HeaderTimeout => "HTTP/1.1 request head timeout(s)",
            Event::IdleClosed => "idle connection(s) closed",
            Event::CloseTimeout => "closing connection(s) dropped after close timeout",
            Event::BadRequestHead => "malformed or oversized HTTP/1.1 request head(s)",
        }
    }
}

const CAP: &[Event] = &[Event::Shed, Event::CapWait, Event::AcceptFailed];
const TIMEOUTS: &[Event] = &[
    Event::HandshakeTimeout,
    Event::PrefaceTimeout,
    Event::HeaderTimeout,
    Event::IdleClosed,
    Event::CloseTimeout,
];
const ABUSE: &[Event] = &[
    Event::HandshakeFailed,
    Event::BadPreface,
    Event::BadRequestHead,
];

/// Counters since the last summary.
#[derive(Default)]
pub(super) struct Events {
    counts: [AtomicU64; KINDS],
    goaways: Mutex<BTreeMap<String, u64>>,
    last_accept_error: Mutex<Option<String>>,
}

impl Events {
    pub(super) fn add(&self, event: Event, n: u64) {
        if n > 0 {
            self.counts[event.index()].fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(super) fn accept_failed(&self, error: &std::io::Error) {
        self.add(Event::AcceptFailed, 1);
        if let Ok(mut last) = self.last_accept_error.lock() {
            *last = Some(error.to_string());
        }
    }

    /// An HTTP/2 GOAWAY the server sent because of what the client did (the h2 reason,
    /// e.g. `ENHANCE_YOUR_CALM` for a rapid-reset flood).
    pub(super) fn goaway(&self, reason: String) {
        if let Ok(mut map) = self.goaways.lock() {
            *map.entry(reason).or_insert(0) += 1;
        }
    }

    fn take(&self, group: &[Event]) -> Vec<String> {
        group
            .iter()
            .filter_map(|e| {
                let n = self.counts[e.index()].swap(0, Ordering::Relaxed);
                (n > 0).then(|| format!("{n} {}", e.describe()))
            })
            .collect()
    }

    /// The summary lines for the interval that just ended (empty when nothing happened),
    /// as (is a warning, text).
    pub(super) fn summary(
        &self,
        interval: Duration,
        cap: usize,
        heaviest: Option<(std::net::IpAddr, usize)>,
    ) -> Vec<(bool, String)> {
        let mut lines = Vec::new();
        let mut cap_parts = self.take(CAP);
        if !cap_parts.is_empty() {
            if let Some(Some(e)) = self.last_accept_error.lock().ok().map(|mut l| l.take()) {
                cap_parts.push(format!("last accept error: {e}"));
            }
            if let Some((ip, n)) = heaviest {
                cap_parts.push(format!("most connections from {ip} ({n})"));
            }
            lines.push((
                true,
                format!(
                    "connection cap {cap} reached in the last {interval:?}: {} \
                     (raise --max-connections if these are real clients)",
                    cap_parts.join(", ")
                ),
            ));
        }
        let timeouts = self.take(TIMEOUTS);
        if !timeouts.is_empty() {
            lines.push((
                false,
                format!("in the last {interval:?}: {}", timeouts.join(", ")),
            ));
        }
        let mut abuse = self.take(ABUSE);
        if let Ok(mut map) = self.goaways.lock() {
            for (reason, n) in std::mem::take(&mut *map) {
                abuse.push(format!("{n} HTTP/2 GOAWAY(s) sent ({reason})"));
            }
        }
        if !abuse.is_empty() {
            lines.push((
                true,
                format!("refused in the last {interval:?}: {}", abuse.join(", ")),
            ));
        }
        lines
    }

    /// Writes the summary lines.
    pub(super) fn report(
        &self,
        logger: &Logger,
        interval: Duration,
        cap: usize,
        heaviest: Option<(std::net::IpAddr, usize)>,
    ) {
        for (warn, line) in self.summary(interval, cap, heaviest) {
            if warn {
                logger.warn(&line);
            } else {
                logger.info(&line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_happened_nothing_logged() {
        let events = Events::default();
        assert!(events.summary(Duration::from_secs(10), 8, None).is_empty());
    }

    #[test]
    fn summary_counts_each_group_once_then_resets() {
        let events = Events::default();
        for _ in 0..1000 {
            events.add(Event::HandshakeTimeout, 1);
        }
        events.add(Event::Shed, 3);
        events.goaway("ENHANCE_YOUR_CALM".into());
        events.goaway("ENHANCE_YOUR_CALM".into());
        let lines = events.summary(
            Duration::from_secs(10),
            4096,
            Some(("127.0.0.1".parse().unwrap(), 2000)),
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].0 && lines[0].1.contains("connection cap 4096 reached"));
        assert!(lines[0].1.contains("3 connection(s) shed"));
        assert!(
            lines[0]
                .1
                .contains("most connections from 127.0.0.1 (2000)")
        );
        assert!(lines[1].1.contains("1000 TLS handshake timeout(s)"));
        assert!(
            lines[2]
                .1
                .contains("2 HTTP/2 GOAWAY(s) sent (ENHANCE_YOUR_CALM)")
        );
        assert!(
            events
                .summary(Duration::from_secs(10), 4096, None)
                .is_empty()
        );
    }
}
