//! The client-side rate limiter: a GCRA limiter (`governor`) at the plan's requests per minute, tightened by
//! what Zendesk reports (`X-Rate-Limit-Remaining` on every answer; `ratelimit-remaining` / `ratelimit-reset` on
//! list endpoints) and held back by `429` (+ `Retry-After`). One limiter per tenant, shared by every request of
//! that tenant.
//!
//! Endpoint limits come on top of the plan's: `PUT /api/v2/tickets/{id}` (Update Ticket) is limited to 100
//! requests per minute per account (300 with High Volume), so ticket updates also pass a second GCRA limiter
//! at `zendesk.ticket_update_rpm`, and a 429 for such an endpoint that came without `Retry-After`, or with it
//! while the account still had budget (`X-Rate-Limit-Remaining` > 0), holds only that endpoint's requests.
//!
//! Update Organization (`PUT /api/v2/organizations/{id}`) has its own limit too, announced by Zendesk in March 2022:
//! 5 requests per minute. Organization updates pass a third limiter at `zendesk.organization_update_rpm`, with a
//! burst of one (so no minute ever sees more than the limit); bulk paths use `update_many` and never meet it.
//!
//! Every wait is bounded: a `Retry-After` or `ratelimit-reset` of any size (`1e20`, `18446744073709551615`)
//! holds requests for at most the limiter's `max_hold` (`zendesk.max_retry_after_secs`), and all instant
//! arithmetic is checked.

use std::collections::HashMap;
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
    /// `X-Rate-Limit-Remaining` / `ratelimit-remaining`: requests left in the current minute.
    pub remaining: Option<u32>,
    /// `ratelimit-reset`: seconds until the window resets (list endpoints only).
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
    /// Reads the headers Zendesk sends: `X-Rate-Limit` / `X-Rate-Limit-Remaining` (every endpoint) and, where
    /// present, the newer `ratelimit-limit` / `ratelimit-remaining` / `ratelimit-reset`. When both forms are
    /// present the lower `remaining` wins.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let remaining = [
            header_u64(headers, &["x-rate-limit-remaining"]),
            header_u64(headers, &["ratelimit-remaining"]),
        ]
        .into_iter()
        .flatten()
        .min();
        Self {
            limit: header_u64(headers, &["x-rate-limit", "ratelimit-limit"]).map(clamp),
            remaining: remaining.map(clamp),
            reset_secs: header_u64(headers, &["ratelimit-reset"]),
        }
    }

    /// Whether any header was present.
    pub fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset_secs.is_none()
    }
}

/// Parses `Retry-After`: seconds (an integer, or a decimal number), or an HTTP date. A value too large for a
/// `Duration` saturates to `Duration::MAX` (callers compare it with their cap); negative, `NaN` and unreadable
/// values are `None`.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Which limit a request counts against, besides the plan's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endpoint {
    /// Only the plan's limit.
    #[default]
    General,
    /// `PUT /api/v2/tickets/{id}` (Update Ticket): also its per-account endpoint limit.
    TicketUpdate,
    /// `PUT /api/v2/organizations/{id}` (Update Organization): also its endpoint limit.
    OrganizationUpdate,
}

/// Longest `ratelimit-reset` taken into account (Zendesk's windows are a minute; anything beyond an hour is
/// nonsense and is clamped before the hold cap applies).
const MAX_RESET: Duration = Duration::from_secs(3600);
/// With `X-Rate-Limit-Remaining: 0` and no `ratelimit-reset`, requests are held this long at most before one
/// probes again (its 429, if any, carries the exact `Retry-After`).
const MAX_PROBE_HOLD: Duration = Duration::from_secs(1);
/// Default cap on any hold when none is configured.
const DEFAULT_MAX_HOLD: Duration = Duration::from_secs(120);
/// Update Ticket's per-account limit (requests per minute) unless configured otherwise.
pub const TICKET_UPDATE_RPM: u32 = 100;
/// Update Organization's limit (requests per minute) unless configured otherwise.
pub const ORGANIZATION_UPDATE_RPM: u32 = 5;

fn gcra(rpm: u32, burst: u32) -> DefaultDirectRateLimiter {
    let rpm = NonZeroU32::new(rpm).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Gcra::direct(Quota::per_minute(rpm).allow_burst(burst))
}

/// Paces requests for one tenant.
#[derive(Debug)]
pub struct RateLimiter {
    gcra: DefaultDirectRateLimiter,
    ticket_updates: DefaultDirectRateLimiter,
    organization_updates: DefaultDirectRateLimiter,
    rpm: u32,
    burst: u32,
    ticket_update_rpm: u32,
    organization_update_rpm: u32,
    max_hold: Duration,
    /// No request leaves before this instant (set by `Retry-After` and exhausted budgets).
    hold: Mutex<Option<Instant>>,
    /// No request to an endpoint leaves before this instant (a 429 of that endpoint's own limit).
    endpoint_holds: Mutex<HashMap<Endpoint, Instant>>,
    last: Mutex<RateLimitInfo>,
}

/// Below this share of the window's budget left, requests are spread over what remains of the window.
const LOW_WATER_DIVISOR: u32 = 10;

impl RateLimiter {
    /// A limiter allowing `rpm` requests per minute with bursts of `burst` (both at least 1); ticket updates
    /// at most [`TICKET_UPDATE_RPM`] per minute; holds of at most 120 s.
    pub fn new(rpm: u32, burst: u32) -> Self {
        let rpm = rpm.max(1);
        let burst = burst.max(1);
        Self {
            gcra: gcra(rpm, burst),
            ticket_updates: gcra(TICKET_UPDATE_RPM, burst),
            organization_updates: gcra(ORGANIZATION_UPDATE_RPM, 1),
            rpm,
            burst,
            ticket_update_rpm: TICKET_UPDATE_RPM,
            organization_update_rpm: ORGANIZATION_UPDATE_RPM,
            max_hold: DEFAULT_MAX_HOLD,
            hold: Mutex::new(None),
            endpoint_holds: Mutex::new(HashMap::new()),
            last: Mutex::new(RateLimitInfo::default()),
        }
    }

    /// Ticket updates (`PUT /api/v2/tickets/{id}`) at most `rpm` per minute (at least 1).
    pub fn with_ticket_update_rpm(mut self, rpm: u32) -> Self {
        self.ticket_update_rpm = rpm.max(1);
        self.ticket_updates = gcra(self.ticket_update_rpm, self.burst);
        self
    }

    /// Organization updates (`PUT /api/v2/organizations/{id}`) at most `rpm` per minute (at least 1), one at a
    /// time (no burst).
    pub fn with_organization_update_rpm(mut self, rpm: u32) -> Self {
        self.organization_update_rpm = rpm.max(1);
        self.organization_updates = gcra(self.organization_update_rpm, 1);
        self
    }

    /// No hold (from `Retry-After`, `ratelimit-reset` or a default wait) lasts longer than `max` (at least
    /// 1 s).
    pub fn with_max_hold(mut self, max: Duration) -> Self {
        self.max_hold = max.max(Duration::from_secs(1));
        self
    }

    /// Requests per minute this limiter allows.
    pub fn rpm(&self) -> u32 {
        self.rpm
    }

    /// Burst size.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Ticket updates per minute this limiter allows.
    pub fn ticket_update_rpm(&self) -> u32 {
        self.ticket_update_rpm
    }

    /// Organization updates per minute this limiter allows.
    pub fn organization_update_rpm(&self) -> u32 {
        self.organization_update_rpm
    }

    /// The longest hold.
    pub fn max_hold(&self) -> Duration {
        self.max_hold
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

    /// The instant before which no request to `endpoint` leaves (the tenant-wide hold included).
    pub fn endpoint_held_until(&self, endpoint: Endpoint) -> Option<Instant> {
        let own = if endpoint == Endpoint::General {
            None
        } else {
            self.endpoint_holds
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&endpoint)
                .copied()
                .filter(|t| *t > Instant::now())
        };
        own.max(self.held_until())
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        self.acquire_for(Endpoint::General).await;
    }

    /// Waits until a request to `endpoint` may be sent: holds, the plan's pace, and the endpoint's own pace.
    pub async fn acquire_for(&self, endpoint: Endpoint) {
        loop {
            if let Some(until) = self.endpoint_held_until(endpoint) {
                tokio::time::sleep_until(until).await;
                continue;
            }
            match endpoint {
                Endpoint::TicketUpdate => self.ticket_updates.until_ready().await,
                Endpoint::OrganizationUpdate => self.organization_updates.until_ready().await,
                Endpoint::General => {}
            }
            self.gcra.until_ready().await;
            // A hold set while this request waited for its slot (a 429 elsewhere) still applies.
            if self.endpoint_held_until(endpoint).is_none() {
                return;
            }
        }
    }

    /// The instant `wait` from now, with `wait` capped at `max_hold`.
    fn bounded(&self, wait: Duration) -> Instant {
        let wait = wait.min(self.max_hold);
        let now = Instant::now();
        now.checked_add(wait).unwrap_or(now)
    }

    /// No request leaves for `wait` (a `Retry-After`), capped at `max_hold`.
    pub fn hold_for(&self, wait: Duration) {
        let until = self.bounded(wait);
        let mut hold = self.hold.lock().unwrap_or_else(|e| e.into_inner());
        if hold.is_none_or(|h| h < until) {
            *hold = Some(until);
        }
    }

    /// No request to `endpoint` leaves for `wait`, capped at `max_hold` (`General`: every request).
    pub fn hold_endpoint(&self, endpoint: Endpoint, wait: Duration) {
        if endpoint == Endpoint::General {
            self.hold_for(wait);
            return;
        }
        let until = self.bounded(wait);
        let mut holds = self
            .endpoint_holds
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let entry = holds.entry(endpoint).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }

    /// Takes a response's rate-limit headers into account: an exhausted budget holds requests until the
    /// window resets (`ratelimit-reset`), or — when only `X-Rate-Limit-Remaining` was sent — briefly, until one
    /// request probes again; a nearly exhausted budget with a known reset spreads the remaining requests over
    /// the rest of the window.
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
                     set the tenant's plan rate limit to match"
                );
            }
            *last = *info;
        }
        let Some(remaining) = info.remaining else {
            return;
        };
        let limit = info.limit.unwrap_or(self.rpm).max(1);
        let window = info
            .reset_secs
            .map(|s| Duration::from_secs(s).min(MAX_RESET));
        match window {
            Some(window) if remaining == 0 => {
                self.hold_for(window.max(Duration::from_millis(100)));
            }
            Some(window) if remaining <= limit / LOW_WATER_DIVISOR => {
                self.hold_for(window / remaining.saturating_add(1));
            }
            Some(_) => {}
            None if remaining == 0 => {
                let probe = Duration::from_secs_f64(60.0 / f64::from(limit));
                self.hold_for(probe.clamp(Duration::from_millis(100), MAX_PROBE_HOLD));
            }
            None => {}
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

    fn held_for(limiter: &RateLimiter) -> Duration {
        limiter
            .held_until()
            .map_or(Duration::ZERO, |t| t - Instant::now())
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
        let both = RateLimitInfo::from_headers(&headers(&[
            ("x-rate-limit", "700"),
            ("x-rate-limit-remaining", "12"),
            ("ratelimit-limit", "700"),
            ("ratelimit-remaining", "11"),
            ("ratelimit-reset", "41"),
        ]));
        assert_eq!(both.remaining, Some(11));
        assert!(RateLimitInfo::from_headers(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1.5")])),
            Some(Duration::from_millis(1500))
        );
        let date = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = retry_after(&headers(&[("retry-after", &date)])).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
    }

    #[test]
    fn absurd_retry_after_values_saturate_instead_of_panicking() {
        for huge in ["1e20", "1e308", "inf"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", huge)])),
                Some(Duration::MAX),
                "{huge}"
            );
        }
        // Representable, but far beyond any cap (they used to panic when added to now).
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1e19")])),
            Some(Duration::from_secs(10_000_000_000_000_000_000))
        );
        assert!(
            retry_after(&headers(&[("retry-after", "18446744073709551615")]))
                .is_some_and(|d| d.as_secs() >= 18_446_744_073_709_550_000)
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "99999999")])),
            Some(Duration::from_secs(99_999_999))
        );
        for bad in ["-1", "NaN", "-inf", ""] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", bad)])),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn holds_are_capped_whatever_is_asked() {
        let limiter = RateLimiter::new(6000, 5).with_max_hold(Duration::from_secs(120));
        for wait in [
            Duration::MAX,
            Duration::from_secs(99_999_999),
            Duration::from_secs(10_000_000_000_000_000_000),
            Duration::from_secs(u64::MAX),
        ] {
            limiter.hold_for(wait);
            let held = held_for(&limiter);
            assert!(held <= Duration::from_secs(120), "{wait:?} held {held:?}");
            assert!(held > Duration::from_secs(110), "{wait:?} held {held:?}");
        }
        limiter.hold_endpoint(Endpoint::TicketUpdate, Duration::MAX);
        let t = limiter.endpoint_held_until(Endpoint::TicketUpdate).unwrap();
        assert!(t - Instant::now() <= Duration::from_secs(120));
    }

    #[test]
    fn an_absurd_reset_is_capped() {
        for reset in [u64::MAX, 99_999_999, 7200] {
            let limiter = RateLimiter::new(6000, 5).with_max_hold(Duration::from_secs(30));
            let info = RateLimitInfo::from_headers(&headers(&[
                ("ratelimit-limit", "700"),
                ("ratelimit-remaining", "0"),
                ("ratelimit-reset", &reset.to_string()),
            ]));
            assert_eq!(info.reset_secs, Some(reset));
            limiter.observe(&info);
            let held = held_for(&limiter);
            assert!(held <= Duration::from_secs(30), "{reset}: {held:?}");
            assert!(held > Duration::from_secs(25), "{reset}: {held:?}");
            // Nearly exhausted with an absurd reset: spread over at most the capped window.
            limiter.observe(&RateLimitInfo {
                limit: Some(700),
                remaining: Some(3),
                reset_secs: Some(reset),
            });
            assert!(held_for(&limiter) <= Duration::from_secs(30));
        }
    }

    #[test]
    fn without_a_reset_an_exhausted_budget_holds_only_briefly() {
        let limiter = RateLimiter::new(6000, 5);
        // X-Rate-Limit / X-Rate-Limit-Remaining only (non-list endpoints): no reset to wait for.
        limiter.observe(&RateLimitInfo {
            limit: Some(700),
            remaining: Some(0),
            reset_secs: None,
        });
        let held = held_for(&limiter);
        assert!(held > Duration::ZERO && held <= MAX_PROBE_HOLD, "{held:?}");
        // A low budget without a reset is left to the plan's pace.
        let limiter = RateLimiter::new(6000, 5);
        limiter.observe(&RateLimitInfo {
            limit: Some(700),
            remaining: Some(3),
            reset_secs: None,
        });
        assert!(limiter.held_until().is_none());
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

    #[tokio::test]
    async fn an_endpoint_hold_leaves_other_requests_alone() {
        let limiter = RateLimiter::new(6000, 5);
        limiter.hold_endpoint(Endpoint::TicketUpdate, Duration::from_millis(400));
        assert!(limiter.held_until().is_none());
        let start = Instant::now();
        limiter.acquire().await;
        let general = start.elapsed();
        limiter.acquire_for(Endpoint::TicketUpdate).await;
        assert!(start.elapsed() >= Duration::from_millis(400));
        assert!(general < Duration::from_millis(400), "{general:?}");
    }

    #[tokio::test]
    async fn ticket_updates_are_paced_at_their_own_limit() {
        // 600 ticket updates per minute after a burst of 2: the third waits about 100 ms.
        let limiter = RateLimiter::new(60_000, 2).with_ticket_update_rpm(600);
        assert_eq!(limiter.ticket_update_rpm(), 600);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire_for(Endpoint::TicketUpdate).await;
        }
        assert!(start.elapsed() >= Duration::from_millis(90));
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
        let wait = held_for(&limiter);
        assert!(
            wait > Duration::from_millis(1900) && wait <= Duration::from_secs(2),
            "{wait:?}"
        );
        assert_eq!(limiter.last_seen().remaining, Some(4));
    }
}
