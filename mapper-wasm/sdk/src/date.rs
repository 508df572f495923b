//! Calendar dates as `YYYY-MM-DD`, the form Zendesk date fields take.

use std::fmt;

/// Why a string is not a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError(String);

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a date (expected YYYY-MM-DD)", self.0)
    }
}

impl std::error::Error for DateError {}

/// A proleptic Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, 1–9999.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31 (checked against the month).
    pub day: u8,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Date {
    /// Parses `YYYY-MM-DD`. A Workday date with a zone offset (`2024-03-01-08:00`, `2024-03-01Z`) or a
    /// timestamp (`2024-03-01T10:00:00Z`) is accepted and reduced to its date part.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let t = text.trim();
        let bad = || DateError(t.chars().take(40).collect());
        let head = t.get(..10).ok_or_else(bad)?;
        let tail = &t[10..];
        let tail_ok = tail.is_empty()
            || tail.starts_with('T')
            || tail == "Z"
            || ((tail.starts_with('-') || tail.starts_with('+')) && tail.len() == 6);
        let b = head.as_bytes();
        if !tail_ok || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |s: &str| {
            s.parse::<u16>()
                .ok()
                .filter(|_| s.bytes().all(|c| c.is_ascii_digit()))
        };
        let (year, month, day) = (
            num(&head[..4]).ok_or_else(bad)?,
            num(&head[5..7]).ok_or_else(bad)?,
            num(&head[8..10]).ok_or_else(bad)?,
        );
        if year == 0
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month as u8) as u16
        {
            return Err(bad());
        }
        Ok(Self {
            year,
            month: month as u8,
            day: day as u8,
        })
    }

    /// `YYYY-MM-DD`.
    pub fn to_iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `31 March 2024`.
    pub fn to_long(&self) -> String {
        format!(
            "{} {} {}",
            self.day,
            MONTHS[usize::from(self.month - 1)],
            self.year
        )
    }

    /// Days from `self` to `other` (negative when `other` is earlier).
    pub fn days_until(&self, other: &Date) -> i64 {
        other.day_number() - self.day_number()
    }

    /// Days since 1970-01-01 (Howard Hinnant's days-from-civil).
    fn day_number(&self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_workday_forms() {
        for ok in [
            "2024-02-29",
            "2024-03-01-08:00",
            "2024-03-01Z",
            "2024-03-01T10:00:00Z",
        ] {
            assert!(Date::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "01/03/2024",
            "2024-03-01junk",
            "",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Date::parse("2024-03-31").unwrap().to_long(),
            "31 March 2024"
        );
    }

    #[test]
    fn counts_days() {
        let d = |s| Date::parse(s).unwrap();
        assert_eq!(d("2024-02-28").days_until(&d("2024-03-01")), 2);
        assert_eq!(d("2024-03-01").days_until(&d("2023-03-01")), -366);
        assert_eq!(d("1970-01-01").day_number(), 0);
    }
}
