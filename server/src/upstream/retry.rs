//! The retry policy of an upstream client: how many times a failed call is retried, and how long it waits in
//! between (exponential backoff with random jitter, capped). Configured per upstream with the same keys:
//! `[workday.retry]` and `[zendesk.retry]`. Which failures are retried is the client's business.

use std::time::Duration;

use backon::ExponentialBuilder;
use serde::{Deserialize, Serialize};

/// `[{upstream}.retry]`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retries.
    pub max_retries: u32,
    /// First delay in milliseconds; it doubles on each retry, with random jitter, up to `max_delay_ms`.
    pub initial_delay_ms: u64,
    /// Cap on one delay, in milliseconds.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            initial_delay_ms: 500,
            max_delay_ms: 30_000,
        }
    }
}

impl RetryPolicy {
    /// The delays between attempts, at most `max_retries` of them.
    pub fn backoff(&self) -> ExponentialBuilder {
        self.delays().with_max_times(self.max_retries as usize)
    }

    /// The same delays without a bound on their number (for callers that count attempts themselves).
    pub fn delays(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.initial_delay_ms))
            .with_max_delay(Duration::from_millis(self.max_delay_ms))
            .without_max_times()
            .with_jitter()
    }

    /// Checks value ranges; the error names the key under `section` (e.g. `workday.retry.max_delay_ms`).
    pub fn validate(&self, section: &str) -> Result<(), (String, String)> {
        if self.initial_delay_ms > self.max_delay_ms {
            return Err((
                format!("{section}.retry.initial_delay_ms"),
                format!("must not exceed {section}.retry.max_delay_ms"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_the_bounds_and_the_count() {
        let policy = RetryPolicy {
            max_retries: 4,
            initial_delay_ms: 10,
            max_delay_ms: 25,
        };
        let delays: Vec<Duration> = backon::BackoffBuilder::build(policy.backoff()).collect();
        assert_eq!(delays.len(), 4);
        // Jitter adds up to one more delay on top of the exponential one.
        assert!(
            delays.iter().all(|d| *d <= Duration::from_millis(50)),
            "{delays:?}"
        );
        assert_eq!(
            RetryPolicy {
                initial_delay_ms: 26,
                ..policy
            }
            .validate("zendesk")
            .unwrap_err()
            .0,
            "zendesk.retry.initial_delay_ms"
        );
    }
}
