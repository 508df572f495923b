//! The lexical forms of XML Schema dates and decimals as Workday writes them.
//!
//! One parser for everyone who reads them: the Workday decoder (SOAP and REST bodies) and the mapper (declarative
//! sources and the dates and amounts a plugin returns), so a value the decoder accepts is never refused by the
//! mapper, nor the reverse.

use std::str::FromStr as _;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Parses a decimal in plain or scientific notation (`1234.10`, `-0.01`, `1.5E2`), with an optional leading `+`.
pub fn parse_decimal(t: &str) -> Option<Decimal> {
    let t = t.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()
    } else {
        Decimal::from_str(t).ok()
    }
}

/// Parses the date part of an `xsd:date` or `xsd:dateTime`: `YYYY-MM-DD`, optionally followed by `Z`, an offset
/// (`-07:00`) or a time (`T10:00:00.000-07:00`).
pub fn parse_date(t: &str) -> Option<NaiveDate> {
    let t = t.trim();
    let (date, rest) = (t.get(..10)?, t.get(10..)?);
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let zone_ok = rest.is_empty()
        || rest == "Z"
        || rest.starts_with('T')
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':');
    zone_ok.then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_workday_forms() {
        assert!(parse_date("2024-03-01-08:00").is_some());
        assert!(parse_date("2024-03-01T10:00:00Z").is_some());
        assert!(parse_date("2024-3-1").is_none());
        assert!(parse_date("2024-03-01junk").is_none());
        assert!(parse_date("2024-03-01+08x00").is_none());
    }
}
