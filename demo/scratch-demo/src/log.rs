//! Log lines to stderr: server events and one access line per request, as text (default)
//! or JSON (one object per line, for log shippers). Each line is written with a single
//! `write` on a locked stderr, so lines from concurrent connections never interleave.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-01-02T03:04:05.678Z level message`, access lines in a combined-log-like shape.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// One served request, as the access log records it.
#[derive(Debug, Clone)]
pub struct AccessEntry<'a> {
    /// The client's address.
    pub peer: SocketAddr,
    /// `GET`, `HEAD`, ...
    pub method: &'a str,
    /// Path and query as sent (still percent-encoded).
    pub target: &'a str,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: &'a str,
    /// Response status code.
    pub status: u16,
    /// Response body length in bytes.
    pub bytes: usize,
    /// Time from the request head to the response head.
    pub duration: Duration,
    /// The `User-Agent` header, if any (lossy UTF-8).
    pub user_agent: Option<&'a str>,
}

/// Writes log lines to stderr in the chosen format.
#[derive(Debug, Clone, Copy)]
pub struct Logger {
    format: LogFormat,
    access: bool,
}

impl Logger {
    /// A logger in `format`; `access` false drops access lines (events are kept).
    pub fn new(format: LogFormat, access: bool) -> Self {
        Self { format, access }
    }

    /// An informational event.
    pub fn info(&self, msg: &str) {
        self.event("info", msg);
    }

    /// A warning event.
    pub fn warn(&self, msg: &str) {
        self.event("warn", msg);
    }

    fn event(&self, level: &str, msg: &str) {
        let line = match self.format {
            LogFormat::Text => format!("{} {level} {msg}\n", rfc3339_now()),
            LogFormat::Json => {
                let v = serde_json::json!({ "time": rfc3339_now(), "level": level, "msg": msg });
                format!("{v}\n")
            }
        };
        emit(&line);
    }

    /// Whether access lines are written (callers skip building an entry when not).
    pub fn access_enabled(&self) -> bool {
        self.access
    }

    /// One access-log line.
    pub fn access(&self, e: &AccessEntry<'_>) {
        if !self.access {
            return;
        }
        emit(&format_access(self.format, &rfc3339_now(), e));
    }
}

/// Renders an access line (newline-terminated). Values that come from the client are
/// quoted and escaped, so a request cannot forge log lines.
pub fn format_access(format: LogFormat, time: &str, e: &AccessEntry<'_>) -> String {
    let micros = e.duration.as_micros();
    match format {
        LogFormat::Text => format!(
            "{time} access {} {:?} {} {} {}.{:03}ms {:?}\n",
            e.peer,
            format!("{} {} {}", e.method, e.target, e.version),
            e.status,
            e.bytes,
            micros / 1000,
            micros % 1000,
            e.user_agent.unwrap_or("-"),
        ),
        LogFormat::Json => {
            let v = serde_json::json!({
                "time": time,
                "level": "access",
                "peer": e.peer.to_string(),
                "method": e.method,
                "target": e.target,
                "version": e.version,
                "status": e.status,
                "bytes": e.bytes,
                "duration_us": u64::try_from(micros).unwrap_or(u64::MAX),
                "user_agent": e.user_agent,
            });
            format!("{v}\n")
        }
    }
}

fn emit(line: &str) {
    // A closed or full stderr must not take the server down: drop the line.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// The current UTC time as RFC 3339 with milliseconds, e.g. `2026-11-28T09:05:03.042Z`.
pub fn rfc3339_now() -> String {
    rfc3339(SystemTime::now())
}

/// Formats a time as RFC 3339 UTC with milliseconds (times before 1970 print as 1970).
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), using 400-year eras.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Both are small and positive by construction.
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        let at = |s: u64, ms: u64| UNIX_EPOCH + Duration::from_secs(s) + Duration::from_millis(ms);
        assert_eq!(rfc3339(at(0, 0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(at(951_782_400, 5)), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(at(1_709_251_199, 999)), "2024-02-29T23:59:59.999Z");
        assert_eq!(rfc3339(at(4_102_444_800, 0)), "2100-01-01T00:00:00.000Z");
    }

    fn entry(ua: Option<&str>) -> AccessEntry<'_> {
        AccessEntry {
            peer: "127.0.0.1:4000".parse().unwrap(),
            method: "GET",
            target: "/a%22b?x=1",
            version: "HTTP/1.1",
            status: 200,
            bytes: 36,
            duration: Duration::from_micros(1234),
            user_agent: ua,
        }
    }

    #[test]
    fn text_access_line_quotes_client_values() {
        let line = format_access(LogFormat::Text, "T", &entry(Some("evil\nforged")));
        assert_eq!(
            line,
            "T access 127.0.0.1:4000 \"GET /a%22b?x=1 HTTP/1.1\" 200 36 1.234ms \"evil\\nforged\"\n"
        );
    }

    #[test]
    fn json_access_line_is_one_object() {
        let line = format_access(LogFormat::Json, "T", &entry(None));
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["status"], 200);
        assert_eq!(v["target"], "/a%22b?x=1");
        assert_eq!(v["user_agent"], serde_json::Value::Null);
        assert_eq!(v["duration_us"], 1234);
    }
}
