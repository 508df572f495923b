//! The client-side rate limiter: a GCRA limiter (`governor`) at the plan's requests per minute, tightened by
//! what Zendesk reports (`X-Rate-Limit-Remaining`, `ratelimit-remaining`, `ratelimit-reset`) and held back by
//! `429` + `Retry-After`. One limiter per tenant, shared by every request of that tenant.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter as Gcra};
use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// Rate-limit headers of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RateLimitInfo {
    /// `X-Rate-Limit` / `ratelimit-limit`: requests allowed per minute.
    pub limit: Option<u32>,
    /// `X-Rate-Limit-Remaining` / `ratelimit-remaining`.
    pub remaining: Option<u32>,
    /// `ratelimit-reset`: seconds until the window resets.
    pub reset_secs: Option<u64>,
}

fn header_u64(headers: &HeaderMap, names: &[&str]) -> Option<u64> {
    names.iter().find_map(|n| {
        headers
            .get(*n)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    })
}

impl RateLimitInfo {
    /// Reads the headers Zendesk sends (both the `X-Rate-Limit*` and the newer `ratelimit-*` forms).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Self {
            limit: header_u64(headers, &["x-rate-limit", "ratelimit-limit"]).map(clamp),
            remaining: header_u64(headers, &["x-rate-limit-remaining", "ratelimit-remaining"])
                .map(clamp),
            reset_secs: header_u64(headers, &["ratelimit-reset"]),
        }
    }

    /// Whether any header was present.
    pub fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset_secs.is_none()
    }
}

/// Parses `Retry-After` (seconds; an HTTP date is also accepted).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Paces requests for one tenant.
#[derive(Debug)]
pub struct RateLimiter {
    gcra: DefaultDirectRateLimiter,
    rpm: u32,
    burst: u32,
    /// No request leaves before this instant (set by `Retry-After` and exhausted budgets).
    hold: Mutex<Option<Instant>>,
    last: Mutex<RateLimitInfo>,
}

/// Below this share of the window's budget left, requests are spread over what remains of the window.
const LOW_WATER_DIVISOR: u32 = 10;

impl RateLimiter {
    /// A limiter allowing `rpm` requests per minute with bursts of `burst` (both at least 1).
    pub fn new(rpm: u32, burst: u32) -> Self {
        let rpm_nz = NonZeroU32::new(rpm).unwrap_or(NonZeroU32::MIN);
        let burst_nz = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(rpm_nz).allow_burst(burst_nz);
        Self {
            gcra: Gcra::direct(quota),
            rpm: rpm_nz.get(),
            burst: burst_nz.get(),
            hold: Mutex::new(None),
            last: Mutex::new(RateLimitInfo::default()),
        }
    }

    /// Requests per minute this limiter allows.
    pub fn rpm(&self) -> u32 {
        self.rpm
    }

    /// Burst size.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The most recent rate-limit headers seen.
    pub fn last_seen(&self) -> RateLimitInfo {
        *self.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The instant before which no request leaves, while a `Retry-After` or an exhausted budget holds them.
    pub fn held_until(&self) -> Option<Instant> {
        let hold = *self.hold.lock().unwrap_or_else(|e| e.into_inner());
        hold.filter(|t| *t > Instant::now())
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        loop {
            if let Some(until) = self.held_until() {
                tokio::time::sleep_until(until).await;
                continue;
            }
            self.gcra.until_ready().await;
            // A hold set while this request waited for its slot (a 429 elsewhere) still applies.
            if self.held_until().is_none() {
                return;
            }
        }
    }

    /// No request leaves for `wait` (a `Retry-After`).
    pub fn hold_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut hold = self.hold.lock().unwrap_or_else(|e| e.into_inner());
        if hold.is_none_or(|h| h < until) {
            *hold = Some(until);
        }
    }

    /// Takes a response's rate-limit headers into account: an exhausted budget holds requests until the
    /// window resets; a nearly exhausted one spreads the remaining requests over the rest of the window.
    pub fn observe(&self, info: &RateLimitInfo) {
        if info.is_empty() {
            return;
        }
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if info.limit.is_some_and(|l| l < self.rpm) && last.limit != info.limit {
                tracing::warn!(
                    configured_rpm = self.rpm,
                    zendesk_limit = info.limit,
                    "Zendesk reports a lower rate limit than the tenant's configured plan; \
                     set the tenant's rate limit to match (ml-connector tenant update --zendesk-rpm)"
                );
            }
            *last = *info;
        }
        let Some(remaining) = info.remaining else {
            return;
        };
        let limit = info.limit.unwrap_or(self.rpm).max(1);
        let window = info.reset_secs.map(Duration::from_secs);
        if remaining == 0 {
            let wait = window.unwrap_or_else(|| Duration::from_secs_f64(60.0 / f64::from(limit)));
            self.hold_for(wait.max(Duration::from_millis(100)));
        } else if remaining <= limit / LOW_WATER_DIVISOR
            && let Some(window) = window
        {
            self.hold_for(window / (remaining + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_both_header_forms() {
        let old = RateLimitInfo::from_headers(&headers(&[
            ("x-rate-limit", "700"),
            ("x-rate-limit-remaining", "699"),
        ]));
        assert_eq!(
            old,
            RateLimitInfo {
                limit: Some(700),
                remaining: Some(699),
                reset_secs: None
            }
        );
        let new = RateLimitInfo::from_headers(&headers(&[
            ("ratelimit-limit", "400"),
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "17"),
        ]));
        assert_eq!(new.remaining, Some(0));
        assert_eq!(new.reset_secs, Some(17));
        assert!(RateLimitInfo::from_headers(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        let date = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = retry_after(&headers(&[("retry-after", &date)])).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
    }

    // Real time, short waits: only lower bounds are asserted (a sleep can only be longer).

    #[tokio::test]
    async fn exhausted_budget_holds_until_reset() {
        let limiter = RateLimiter::new(6000, 5);
        limiter.observe(&RateLimitInfo {
            limit: Some(700),
            remaining: Some(0),
            reset_secs: Some(1),
        });
        let start = Instant::now();
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn retry_after_hold_applies_to_every_caller() {
        let limiter = std::sync::Arc::new(RateLimiter::new(6000, 5));
        limiter.hold_for(Duration::from_millis(300));
        let start = Instant::now();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move { l.acquire().await })
            })
            .collect();
        for w in waiters {
            w.await.unwrap();
        }
        assert!(start.elapsed() >= Duration::from_millis(300));
    }

    #[test]
    fn low_budget_spreads_the_rest_of_the_window() {
        let limiter = RateLimiter::new(6000, 5);
        // Plenty left: no hold.
        limiter.observe(&RateLimitInfo {
            limit: Some(100),
            remaining: Some(90),
            reset_secs: Some(10),
        });
        assert!(limiter.held_until().is_none());
        // 4 of 100 left with 10 s to go: the next request waits 10 s / 5.
        limiter.observe(&RateLimitInfo {
            limit: Some(100),
            remaining: Some(4),
            reset_secs: Some(10),
        });
        let wait = limiter.held_until().unwrap() - Instant::now();
        assert!(
            wait > Duration::from_millis(1900) && wait <= Duration::from_secs(2),
            "{wait:?}"
        );
        assert_eq!(limiter.last_seen().remaining, Some(4));
    }
}
