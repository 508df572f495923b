//! When a tenant's scheduled runs are due.
//!
//! Time is cut into slots: every `interval_secs` since the Unix epoch, or each occurrence of a cron expression
//! in the tenant's time zone. A slot's run is due once its start plus the tenant's jitter has passed (and, with
//! business hours, while the tenant's local time is inside them, Monday to Friday). The scheduler records the
//! last slot it ran per tenant, under the tenant's lease, so a slot runs once whatever the number of replicas.

use std::str::FromStr as _;
use std::time::Duration;

use chrono::{DateTime, Datelike as _, NaiveTime, TimeZone as _, Utc, Weekday};
use chrono_tz::Tz;
use sha2::{Digest as _, Sha256};

use crate::tenant::{SyncSettings, TenantId};

/// Default interval between runs.
pub const DEFAULT_INTERVAL_SECS: u64 = 1800;
/// Default jitter.
pub const DEFAULT_JITTER_SECS: u64 = 60;

/// Why a schedule is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    /// The cron expression does not parse.
    #[error("invalid cron expression `{expr}`: {message}")]
    Cron {
        /// The expression.
        expr: String,
        /// Why.
        message: String,
    },
    /// Unknown time zone.
    #[error("unknown time zone `{0}` (use an IANA name such as Europe/Berlin)")]
    TimeZone(String),
    /// Business hours not `HH:MM-HH:MM`.
    #[error("invalid business hours `{0}`: expected HH:MM-HH:MM, start before end")]
    BusinessHours(String),
    /// Interval zero.
    #[error("the sync interval must be at least 10 seconds")]
    Interval,
}

#[derive(Debug, Clone)]
enum Every {
    Interval(Duration),
    Cron(Box<croner::Cron>),
}

/// A tenant's schedule, checked.
#[derive(Debug, Clone)]
pub struct Schedule {
    enabled: bool,
    every: Every,
    tz: Tz,
    business: Option<(NaiveTime, NaiveTime)>,
    jitter: Duration,
}

/// Parses `HH:MM-HH:MM`.
pub fn parse_business_hours(text: &str) -> Result<(NaiveTime, NaiveTime), ScheduleError> {
    let bad = || ScheduleError::BusinessHours(text.to_string());
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
    let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
    if start >= end {
        return Err(bad());
    }
    Ok((start, end))
}

impl Schedule {
    /// From the tenant's settings (unset: every 30 minutes, UTC, 60 s of jitter).
    pub fn from_settings(settings: Option<&SyncSettings>) -> Result<Self, ScheduleError> {
        let default = SyncSettings::default();
        let s = settings.unwrap_or(&default);
        let tz = match s.timezone.as_deref().map(str::trim) {
            None | Some("") => Tz::UTC,
            Some(name) => {
                Tz::from_str(name).map_err(|_| ScheduleError::TimeZone(name.to_string()))?
            }
        };
        let every = match s.cron.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(expr) => Every::Cron(Box::new(croner::Cron::from_str(expr).map_err(|e| {
                ScheduleError::Cron {
                    expr: expr.to_string(),
                    message: e.to_string(),
                }
            })?)),
            None => {
                let secs = s.interval_secs.unwrap_or(DEFAULT_INTERVAL_SECS);
                if secs < 10 {
                    return Err(ScheduleError::Interval);
                }
                Every::Interval(Duration::from_secs(secs))
            }
        };
        let business = s
            .business_hours
            .as_deref()
            .filter(|b| !b.trim().is_empty())
            .map(parse_business_hours)
            .transpose()?;
        Ok(Self {
            enabled: s.enabled.unwrap_or(true),
            every,
            tz,
            business,
            jitter: Duration::from_secs(s.jitter_secs.unwrap_or(DEFAULT_JITTER_SECS)),
        })
    }

    /// Whether scheduled runs happen at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The start of the latest slot at or before `now`.
    pub fn slot_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.every {
            Every::Interval(d) => {
                let step = i64::try_from(d.as_millis()).ok()?.max(1);
                let ms = now.timestamp_millis();
                Utc.timestamp_millis_opt(ms - ms.rem_euclid(step)).single()
            }
            Every::Cron(cron) => cron
                .find_previous_occurrence(&now.with_timezone(&self.tz), true)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }

    /// The tenant's fixed delay within a slot (a hash of its id, below the jitter).
    pub fn delay_for(&self, tenant: &TenantId) -> Duration {
        let secs = self.jitter.as_secs();
        if secs == 0 {
            return Duration::ZERO;
        }
        let h = Sha256::digest(tenant.as_str().as_bytes());
        let n = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
        Duration::from_millis(n % (secs * 1000))
    }

    /// Whether `now` is inside the business hours (always, without them).
    pub fn in_business_hours(&self, now: DateTime<Utc>) -> bool {
        let Some((start, end)) = self.business else {
            return true;
        };
        let local = now.with_timezone(&self.tz);
        let weekday = !matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        let t = local.time();
        weekday && t >= start && t < end
    }

    /// The slot whose run is due at `now`, given the last slot that ran (`None`: none yet), if any.
    pub fn due(
        &self,
        tenant: &TenantId,
        last: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if !self.enabled {
            return None;
        }
        let delay = chrono::Duration::from_std(self.delay_for(tenant)).ok()?;
        let slot = self.slot_at(now - delay)?;
        if last.is_some_and(|l| l >= slot) || !self.in_business_hours(now) {
            return None;
        }
        Some(slot)
    }

    /// One line for `tenant show`.
    pub fn describe(&self) -> String {
        let mut out = if !self.enabled {
            "disabled".to_string()
        } else {
            match &self.every {
                Every::Interval(d) => format!("every {}", human(d.as_secs())),
                Every::Cron(c) => format!("cron `{}`", c.pattern),
            }
        };
        if self.enabled {
            out.push_str(&format!(", time zone {}", self.tz.name()));
            if let Some((a, b)) = self.business {
                out.push_str(&format!(
                    ", business hours {}-{} Mon-Fri",
                    a.format("%H:%M"),
                    b.format("%H:%M")
                ));
            }
            out.push_str(&format!(", jitter up to {}s", self.jitter.as_secs()));
        }
        out
    }
}

/// `90` → `1m30s`.
pub fn human(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// Parses `45s`, `30m`, `2h`, `1h30m` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid duration `{text}` (e.g. 45s, 30m, 2h)"))?;
        num.clear();
        total += match c {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            'd' => n * 86_400,
            _ => return Err(format!("invalid duration `{text}` (e.g. 45s, 30m, 2h)")),
        };
    }
    if !num.is_empty() {
        return Err(format!(
            "invalid duration `{text}`: a unit (s, m, h, d) must follow the last number"
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn interval_slots_run_once_after_the_jitter() {
        let s = Schedule::from_settings(Some(&SyncSettings {
            interval_secs: Some(600),
            jitter_secs: Some(0),
            ..Default::default()
        }))
        .unwrap();
        let t = TenantId::parse("acme").unwrap();
        let slot = s.due(&t, None, at("2026-01-05T10:07:00Z")).unwrap();
        assert_eq!(slot, at("2026-01-05T10:00:00Z"));
        assert_eq!(s.due(&t, Some(slot), at("2026-01-05T10:09:59Z")), None);
        assert_eq!(
            s.due(&t, Some(slot), at("2026-01-05T10:10:00Z")),
            Some(at("2026-01-05T10:10:00Z"))
        );
    }

    #[test]
    fn cron_in_a_time_zone_and_business_hours() {
        let s = Schedule::from_settings(Some(&SyncSettings {
            cron: Some("0 * * * *".into()),
            timezone: Some("Europe/Berlin".into()),
            business_hours: Some("08:00-18:00".into()),
            jitter_secs: Some(0),
            ..Default::default()
        }))
        .unwrap();
        let t = TenantId::parse("acme").unwrap();
        // Monday 07:30 UTC = 08:30 in Berlin (winter): inside.
        assert_eq!(
            s.due(&t, None, at("2026-01-05T07:30:00Z")),
            Some(at("2026-01-05T07:00:00Z"))
        );
        // 17:30 UTC = 18:30 Berlin: outside. Saturday: outside.
        assert_eq!(s.due(&t, None, at("2026-01-05T17:30:00Z")), None);
        assert_eq!(s.due(&t, None, at("2026-01-10T09:30:00Z")), None);
        assert!(s.describe().contains("Europe/Berlin"), "{}", s.describe());
    }

    #[test]
    fn bad_settings_are_refused() {
        let bad = |s: SyncSettings| Schedule::from_settings(Some(&s)).unwrap_err();
        assert!(matches!(
            bad(SyncSettings {
                cron: Some("not cron".into()),
                ..Default::default()
            }),
            ScheduleError::Cron { .. }
        ));
        assert!(matches!(
            bad(SyncSettings {
                timezone: Some("Mars/Olympus".into()),
                ..Default::default()
            }),
            ScheduleError::TimeZone(_)
        ));
        assert!(matches!(
            bad(SyncSettings {
                business_hours: Some("18:00-08:00".into()),
                ..Default::default()
            }),
            ScheduleError::BusinessHours(_)
        ));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("45"), Ok(45));
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn jitter_is_fixed_per_tenant_and_below_the_bound() {
        let s = Schedule::from_settings(None).unwrap();
        let a = TenantId::parse("acme").unwrap();
        assert_eq!(s.delay_for(&a), s.delay_for(&a));
        assert!(s.delay_for(&a) < Duration::from_secs(DEFAULT_JITTER_SECS));
    }
}
