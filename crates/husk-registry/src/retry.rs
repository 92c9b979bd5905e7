//! When and how long to wait before trying a request again: connection failures, resets
//! and timeouts, HTTP 5xx (except 501/505) and 408/429, at most `max_attempts` times with
//! exponential backoff. Deterministic (no jitter), so tests can bound their run time.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = never retry).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based): initial * 2^(attempt-1),
    /// capped at `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// Whether another attempt may follow failed attempt number `attempt`.
    pub fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

/// Whether an HTTP status is worth retrying.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..600).contains(&status) && !matches!(status, 501 | 505)
}

/// Whether a transport error is worth retrying: anything that happened on the wire
/// (connect, reset, timeout, truncated body), not a malformed request we built.
pub fn retryable_error(e: &reqwest::Error) -> bool {
    !e.is_builder() && !e.is_redirect() && !e.is_decode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        let waits: Vec<u128> = (1..=5).map(|a| p.backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 350, 350, 350]);
        assert!(p.allows_another(3));
        assert!(!p.allows_another(4));
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(350));
    }

    #[test]
    fn total_wait_is_bounded() {
        let p = RetryPolicy::default();
        let total: Duration = (1..p.max_attempts).map(|a| p.backoff(a)).sum();
        assert!(total <= Duration::from_secs(4), "{total:?}");
    }

    #[test]
    fn which_statuses_retry() {
        for s in [500, 502, 503, 504, 429, 408] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 201, 202, 400, 401, 403, 404, 416, 501, 505] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}
